/* azblob_request: turn a struct az_req into an authorised HTTP request
 * (URL, x-ms-version, x-ms-date, then SharedKey, SAS or Bearer), and tell
 * about failures once.  Secrets never reach a message: http.c names only
 * the origin of a URL, and the SAS lives only in the URL. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/crypto.h>

#include "azblob.h"
#include "azblob_auth.h"
#include "azblob_xml.h"
#include "crypto.h"
#include "sharedkey.h"
#include "strbuf.h"

/* RFC 1123, always in English whatever the locale. */
static void http_date(time_t t, char out[32])
{
	static const char *const day[] = { "Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		 day[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* The path as sent: endpoint path + "/container" [+ "/" + encoded key]. */
static char *request_path(const struct az_mount *m, const char *key)
{
	const char *p = strstr(m->base_url, "://") + 3;
	struct strbuf b = STRBUF_INIT;

	sb_add(&b, p + strcspn(p, "/"));
	if (key) {
		sb_addc(&b, '/');
		sb_add_uri_encoded(&b, key, 1);
	}
	return sb_done(&b);
}

static char *request_url(const struct az_mount *m, const struct az_req *r,
			 const char *path)
{
	const char *p = strstr(m->base_url, "://") + 3;
	const char *sas = az_auth_mode(m->auth) == AZ_AUTH_SAS
				  ? az_auth_sas(m->auth)
				  : NULL;
	struct strbuf b = STRBUF_INIT;
	char sep = '?';

	sb_addn(&b, m->base_url, (size_t)(p - m->base_url) + strcspn(p, "/"));
	sb_add(&b, path);
	for (size_t i = 0; i < r->nquery; i++, sep = '&') {
		sb_addc(&b, sep);
		sb_add(&b, r->query[i].name);
		sb_addc(&b, '=');
		sb_add_uri_encoded(&b, r->query[i].value, 0);
	}
	if (sas && sas[0]) {
		sb_addc(&b, sep);
		sb_add(&b, sas);
	}
	return sb_done(&b);
}

/* The lines curl sends, NUL-separated in B, then copied into a list. */
static struct curl_slist *lines_of(const struct http_pair *h, size_t n,
				   const char *auth)
{
	struct strbuf b = STRBUF_INIT;

	for (size_t i = 0; i < n; i++)
		sb_addf(&b, "%s: %s%c", h[i].name, h[i].value, '\0');
	if (auth)
		sb_addf(&b, "Authorization: %s%c", auth, '\0');
	return http_lines(&b);
}

static char *authorization(struct az_mount *m, const struct az_req *r,
			   const char *path, const struct http_pair *h,
			   size_t n, int *rc)
{
	struct strbuf b = STRBUF_INIT;
	const unsigned char *key;
	size_t keylen;
	char *token = NULL, *auth;

	*rc = 0;
	switch (az_auth_mode(m->auth)) {
	case AZ_AUTH_KEY:
		key = az_auth_key(m->auth, &keylen);
		auth = az_sharedkey_authorization(
			&(struct sharedkey_request){
				.method = r->method,
				.account = m->cfg->account,
				.path = path,
				.query = r->query,
				.nquery = r->nquery,
				.headers = h,
				.nheaders = n,
				.content_length = r->body_len,
			},
			key, keylen);
		if (!auth)
			*rc = -ENOMEM;
		return auth;
	case AZ_AUTH_MSI:
		if ((*rc = az_auth_bearer(m->auth, &token)) < 0)
			return NULL;
		sb_addf(&b, "Bearer %s", token);
		secret_free(token);
		auth = sb_done(&b);
		if (!auth)
			*rc = -ENOMEM;
		return auth;
	default:
		return NULL; /* the SAS is in the URL */
	}
}

/* One authorised request, with http_perform's retries. */
static int send_signed(struct az_mount *m, const struct az_req *r,
		       struct http_response *resp)
{
	struct http_pair *h = calloc(r->nheaders + 2, sizeof *h);
	char date[32], *path = request_path(m, r->key), *url = NULL;
	char *auth = NULL;
	struct curl_slist *lines = NULL;
	size_t n = 0;
	int rc = -ENOMEM;

	memset(resp, 0, sizeof *resp);
	if (!h || !path || !(url = request_url(m, r, path)))
		goto out;
	http_date(skew_now(&m->skew), date);
	h[n++] = (struct http_pair){ "x-ms-version", AZ_API_VERSION };
	h[n++] = (struct http_pair){ "x-ms-date", date };
	for (size_t i = 0; i < r->nheaders; i++)
		h[n++] = r->headers[i];
	auth = authorization(m, r, path, h, n, &rc);
	if (rc < 0)
		goto out;
	rc = -ENOMEM;
	if (!(lines = lines_of(h, n, auth)))
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
	secret_free(auth);
	if (url)
		OPENSSL_cleanse(url, strlen(url)); /* may hold the SAS */
	free(url);
	free(path);
	free(h);
	return rc;
}

/* Azure refuses a request whose x-ms-date is 15 minutes off its clock
 * with 403 AuthenticationFailed, as it refuses a bad key: only the
 * answer's Date tells the two apart.  10 minutes off, learn the store's
 * clock and sign once more. */
int az_send(struct az_mount *m, const struct az_req *r,
	    struct http_response *resp)
{
	int rc = send_signed(m, r, resp);

	if (rc < 0 && resp->status == 403 &&
	    skew_learn(&m->skew, m->host, "azblob", resp, 600)) {
		http_response_free(resp);
		rc = send_signed(m, r, resp);
	}
	return rc;
}

void az_error_of(const struct http_response *resp, char *code,
		 size_t codelen, char *msg, size_t msglen)
{
	const char *hc = http_header(resp, "x-ms-error-code");

	code[0] = msg[0] = '\0';
	if (resp->body)
		az_xml_parse_error(resp->body, resp->body_len, code, codelen,
				   msg, msglen);
	if (hc)
		snprintf(code, codelen, "%s", hc);
	msg[strcspn(msg, "\r\n")] = '\0'; /* "...\nRequestId:...\nTime:..." */
}

/* Azure error codes that say more than their status. */
static const struct http_code_errno codes[] = {
	{ "BlobNotFound", -ENOENT },
	{ "ContainerNotFound", -EIO }, /* not "no such file" */
	{ "ServerBusy", -EAGAIN },
	{ "OperationTimedOut", -ETIMEDOUT },
	{ "AuthenticationFailed", -EACCES },
	{ "AuthorizationFailure", -EACCES },
	{ "AuthorizationPermissionMismatch", -EACCES },
	{ "BlobAlreadyExists", -EEXIST },
	{ "ConditionNotMet", -ESTALE },
	{ "InvalidRange", -ERANGE },
	{ "RequestBodyTooLarge", -EFBIG },
	{ "MetadataTooLarge", -E2BIG },
	{ "InvalidBlockList", -EIO },
};

int az_fail(struct az_mount *m, const struct az_req *r,
	    const struct http_response *resp, int err)
{
	char code[128], msg[512];

	az_error_of(resp, code, sizeof code, msg, sizeof msg);
	return http_fail(m->host, m->base_url, r->op, r->name, resp, code,
			 msg, codes, sizeof codes / sizeof codes[0], err);
}
