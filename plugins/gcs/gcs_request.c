/* gcs_request: turn a struct gcs_req into an HTTP request on the JSON API
 * (URL, Authorization: Bearer, Content-Type) and tell about failures once.
 * The token never reaches a message: http.c names only the origin of a
 * URL, and the header list is wiped after use. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "gcs.h"
#include "gcs_auth.h"
#include "objkey.h"
#include "strbuf.h"

/* GCS refuses names with a carriage return or a line feed ("Object
 * naming requirements"): such names are refused here, with the reason. */
int gcs_key_check(const struct gcs_mount *m, const char *op, const char *key,
		  int allow_empty)
{
	int rc = objkey_check(m->host, op, key, allow_empty);

	if (rc == 0 && strpbrk(key, "\r\n")) {
		m->host->set_error(m->host, "%s '%s': Cloud Storage object "
				   "names cannot hold a carriage return or a "
				   "line feed", op, key);
		return -EINVAL;
	}
	return rc;
}

char *gcs_key_full(const struct gcs_mount *m, const char *op,
		   const char *key)
{
	return objkey_full(m->host, m->key_prefix, GCS_MAX_KEY, op, key);
}

char *gcs_object_path(const struct gcs_mount *m, const char *name,
		      const char *suffix)
{
	struct strbuf b = STRBUF_INIT;

	sb_add(&b, m->bucket_path);
	sb_add(&b, "/o/");
	sb_add_uri_encoded(&b, name, 0);
	sb_add(&b, suffix ? suffix : "");
	return sb_done(&b);
}

static char *request_url(const struct gcs_mount *m, const struct gcs_req *r)
{
	struct strbuf b = STRBUF_INIT;
	char sep = '?';

	sb_add(&b, m->cfg->endpoint);
	sb_add(&b, r->upload ? "/upload/storage/v1" : "/storage/v1");
	sb_add(&b, r->path);
	for (size_t i = 0; i < r->nquery; i++, sep = '&') {
		sb_addc(&b, sep);
		sb_add(&b, r->query[i].name);
		sb_addc(&b, '=');
		sb_add_uri_encoded(&b, r->query[i].value, 0);
	}
	return sb_done(&b);
}

/* The header lines, the token's included (http_lines wipes them). */
static struct curl_slist *lines_of(const struct gcs_req *r, const char *auth)
{
	struct strbuf b = STRBUF_INIT;

	for (size_t i = 0; i < r->nheaders; i++)
		sb_addf(&b, "%s: %s%c", r->headers[i].name,
			r->headers[i].value, '\0');
	if (r->content_type)
		sb_addf(&b, "Content-Type: %s%c", r->content_type, '\0');
	if (auth)
		sb_addf(&b, "Authorization: %s%c", auth, '\0');
	sb_addf(&b, "Accept: application/json%c", '\0');
	return http_lines(&b);
}

int gcs_send(struct gcs_mount *m, const struct gcs_req *r,
	     struct http_response *resp)
{
	char *url = request_url(m, r), *auth = NULL;
	struct curl_slist *lines = NULL;
	int rc = -ENOMEM;

	memset(resp, 0, sizeof *resp);
	if (!url)
		goto out;
	if ((rc = gcs_auth_header(m->auth, &auth)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(lines = lines_of(r, auth)))
		goto out;
	rc = http_perform(m->http,
			  &(struct http_request){
				  .method = r->method,
				  .url = url,
				  .headers = lines,
				  .body = r->body,
				  .body_len = r->body_len,
				  .body_head = r->body_head,
				  .head_len = r->head_len,
				  .body_tail = r->body_tail,
				  .tail_len = r->tail_len,
				  .out = r->out,
				  .out_cap = r->out_cap,
				  .skip_on_200 = r->skip_on_200,
			  },
			  resp);
out:
	if (rc < 0 && resp->status == 0 && resp->curl_code == CURLE_OK &&
	    rc != -EACCES) /* the token source said why */
		m->host->set_error(m->host, "%s '%s': %s", r->op,
				   r->name ? r->name : "", strerror(-rc));
	http_lines_free(lines);
	secret_free(auth);
	free(url);
	return rc;
}

/* JSON API error reasons that say more than their status. */
static const struct http_code_errno reasons[] = {
	{ "notFound", -ENOENT },
	{ "conditionNotMet", -ESTALE },
	{ "forbidden", -EACCES },
	{ "insufficientPermissions", -EACCES },
	{ "authError", -EACCES },
	{ "required", -EACCES }, /* "Anonymous caller does not have ..." */
	{ "rateLimitExceeded", -EAGAIN },
	{ "userRateLimitExceeded", -EAGAIN },
	{ "backendError", -EIO },
	{ "requestedRangeNotSatisfiable", -ERANGE },
	{ "uploadTooLarge", -EFBIG },
};

int gcs_fail(struct gcs_mount *m, const struct gcs_req *r,
	     const struct http_response *resp, int err)
{
	char reason[128], msg[512], where[600];

	reason[0] = msg[0] = '\0';
	if (resp->body)
		gcs_json_error(resp->body, reason, sizeof reason, msg,
			       sizeof msg);
	snprintf(where, sizeof where, "%s/storage/v1", m->cfg->endpoint);
	return http_fail(m->host, where, r->op, r->name, resp, reason, msg,
			 reasons, sizeof reasons / sizeof reasons[0], err);
}
