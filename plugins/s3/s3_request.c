/* s3_request: turn a struct s3_req into a signed HTTP request, and tell
 * about failures once.  Addressing (path or virtual-hosted style) was
 * settled in mount_open: origin + bucket_path + "/" + encoded key. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "credentials.h"
#include "s3.h"
#include "s3_xml.h"
#include "strbuf.h"

/* The "Name: value" lines curl sends: the signed headers (Host included,
 * so curl sends exactly the value signed), the unsigned extras, then
 * Authorization. */
static struct curl_slist *header_lines(const struct http_pair *h, size_t n,
				       const struct s3_req *r,
				       const char *auth)
{
	struct strbuf b = STRBUF_INIT;

	for (size_t i = 0; i < n; i++)
		sb_addf(&b, "%s: %s%c", h[i].name, h[i].value, '\0');
	for (size_t i = 0; i < r->nheaders; i++)
		if (strncasecmp(r->headers[i].name, "x-amz-", 6) != 0)
			sb_addf(&b, "%s: %s%c", r->headers[i].name,
				r->headers[i].value, '\0');
	sb_addf(&b, "Authorization: %s%c", auth, '\0');
	return http_lines(&b);
}

static char *request_path(const struct s3_mount *m, const char *key)
{
	struct strbuf b = STRBUF_INIT;

	sb_add(&b, m->bucket_path);
	sb_addc(&b, '/');
	if (key)
		sb_add_uri_encoded(&b, key, 1);
	return sb_done(&b);
}

/* One signed request, with http_perform's retries. */
static int send_signed(struct s3_mount *m, const struct s3_req *r,
		       struct http_response *resp)
{
	struct http_pair *h = NULL;
	struct sigv4_result sig = { 0 };
	struct s3_key key = { 0 };
	struct curl_slist *lines = NULL;
	char date[17], payload[65];
	char *query = NULL, *path = NULL, *url = NULL;
	size_t n = 0;
	int rc;

	memset(resp, 0, sizeof *resp);
	rc = s3_creds_get(m->creds, &key);
	if (rc < 0)
		return rc; /* s3_creds_get said why */
	rc = -ENOMEM;
	query = s3_sigv4_canonical_query(r->query, r->nquery);
	path = request_path(m, r->key);
	h = calloc(4 + r->nheaders, sizeof *h);
	if (!query || !path || !h)
		goto out;
	{
		struct strbuf u = STRBUF_INIT;
		sb_addf(&u, "%s%s%s%s", m->origin, path, query[0] ? "?" : "",
			query);
		url = sb_done(&u);
		if (!url)
			goto out;
	}

	if (r->body_len == 0)
		snprintf(payload, sizeof payload, "%s", SIGV4_EMPTY_SHA256);
	else if (m->cfg->unsigned_payload)
		snprintf(payload, sizeof payload, "%s", SIGV4_UNSIGNED);
	else
		s3_sigv4_sha256_hex(r->body, r->body_len, payload);
	s3_sigv4_amz_date((long long)skew_now(&m->skew), date);

	h[n++] = (struct http_pair){ "Host", m->host_header };
	h[n++] = (struct http_pair){ "x-amz-content-sha256", payload };
	h[n++] = (struct http_pair){ "x-amz-date", date };
	if (key.session_token)
		h[n++] = (struct http_pair){ "x-amz-security-token",
					      key.session_token };
	for (size_t i = 0; i < r->nheaders; i++)
		if (strncasecmp(r->headers[i].name, "x-amz-", 6) == 0)
			h[n++] = r->headers[i];

	rc = s3_sigv4_sign(&(struct sigv4_request){
				   .method = r->method,
				   .canonical_uri = path,
				   .canonical_query = query,
				   .headers = h,
				   .nheaders = n,
				   .payload_hash = payload,
				   .amz_date = date,
				   .region = m->cfg->region,
				   .service = "s3",
				   .access_key_id = key.access_key_id,
				   .secret_key = key.secret_key,
			   },
			   &sig);
	if (rc < 0)
		goto out;
	lines = header_lines(h, n, r, sig.authorization);
	rc = -ENOMEM;
	if (!lines)
		goto out;
	rc = http_perform(m->http,
			  &(struct http_request){
				  .method = r->method,
				  .url = url,
				  .headers = lines,
				  .body = r->body,
				  .body_len = r->body_len,
				  .out = r->out,
				  .out_cap = r->out_cap,
				  .skip_on_200 = r->skip_on_200,
			  },
			  resp);
out:
	if (rc < 0 && resp->status == 0 && resp->curl_code == CURLE_OK)
		m->host->set_error(m->host, "%s '%s': %s", r->op,
				   r->name ? r->name : "", strerror(-rc));
	http_lines_free(lines);
	s3_sigv4_result_free(&sig);
	s3_key_clear(&key);
	free(h);
	free(query);
	free(path);
	free(url);
	return rc;
}

/* Is RESP a refusal that signing again can cure?  A request refused for
 * its time (RequestTimeTooSkewed; a HEAD has no body to say so, so a 403
 * whose Date is 10 minutes off), once the store's clock is learnt; keys
 * the store calls expired (ExpiredToken), once renewed. */
static int worth_signing_again(struct s3_mount *m, const struct s3_req *r,
			       const struct http_response *resp)
{
	char code[64], msg[8];

	if (resp->status != 400 && resp->status != 403)
		return 0;
	s3_error_of(resp, code, sizeof code, msg, sizeof msg);
	if (strcmp(code, "RequestTimeTooSkewed") == 0)
		return skew_learn(&m->skew, m->host, "s3", resp, 1);
	if (strcmp(code, "ExpiredToken") == 0)
		return s3_creds_renew(m->creds);
	if (strcmp(r->method, "HEAD") != 0 || code[0])
		return 0;
	/* A HEAD's refusal has no body: 403 may be a skewed clock, 400 an
	 * expired token (renewed only for an instance role's keys). */
	if (resp->status == 403)
		return skew_learn(&m->skew, m->host, "s3", resp, 600);
	return s3_creds_renew(m->creds);
}

int s3_send(struct s3_mount *m, const struct s3_req *r,
	    struct http_response *resp)
{
	int rc = send_signed(m, r, resp);

	if (rc < 0 && worth_signing_again(m, r, resp)) {
		http_response_free(resp);
		rc = send_signed(m, r, resp);
	}
	return rc;
}

void s3_error_of(const struct http_response *resp, char *code,
		 size_t codelen, char *msg, size_t msglen)
{
	const char *hc, *hm;

	code[0] = msg[0] = '\0';
	if (resp->body &&
	    s3_xml_parse_error(resp->body, resp->body_len, code, codelen, msg,
			       msglen) == 0)
		return;
	/* HEAD answers have no body; some servers say it in headers. */
	hc = http_header(resp, "x-amz-error-code");
	hm = http_header(resp, "x-amz-error-message");
	snprintf(code, codelen, "%s", hc ? hc : "");
	snprintf(msg, msglen, "%s", hm ? hm : "");
}

/* S3 error codes that say more than their status. */
static const struct http_code_errno codes[] = {
	{ "SlowDown", -EAGAIN },
	{ "NoSuchKey", -ENOENT },
	{ "NoSuchBucket", -EIO }, /* not "no such file" */
	{ "EntityTooLarge", -EFBIG },
	{ "MetadataTooLarge", -E2BIG },
	{ "InvalidRange", -ERANGE },
	{ "PreconditionFailed", -ESTALE },
	{ "RequestTimeout", -ETIMEDOUT },
	{ "NotImplemented", -EOPNOTSUPP },
	{ "MethodNotAllowed", -EOPNOTSUPP },
	{ "ExpiredToken", -EACCES },
	{ "InvalidAccessKeyId", -EACCES },
	{ "SignatureDoesNotMatch", -EACCES },
	{ "KeyTooLongError", -ENAMETOOLONG },
	{ "BucketAlreadyExists", -EEXIST },
	{ "BucketAlreadyOwnedByYou", -EEXIST },
};

int s3_fail(struct s3_mount *m, const struct s3_req *r,
	    const struct http_response *resp, int err)
{
	char code[128], msg[512];

	s3_error_of(resp, code, sizeof code, msg, sizeof msg);
	return http_fail(m->host, m->origin, r->op, r->name, resp, code, msg,
			 codes, sizeof codes / sizeof codes[0], err);
}
