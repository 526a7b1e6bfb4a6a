/* imds: instance-role keys from the EC2 instance metadata service, IMDSv2
 * only (a PUT for a session token first; v1 is off on hardened hosts).
 * Every request gets one try with a 1 s limit, so that a machine outside
 * EC2 learns it in about a second instead of hanging. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "credentials.h"
#include "strbuf.h"

#define IMDS_TIMEOUT_MS 1000
#define IMDS_TOKEN_TTL "21600"

static int imds_request(struct http_pool *http, const char *method,
			const char *url, const char *header,
			struct http_response *resp, char *err, size_t errlen)
{
	struct curl_slist *h = header ? curl_slist_append(NULL, header) : NULL;
	struct http_request req = {
		.method = method,
		.url = url,
		.headers = h,
		.attempts = 1,
		.timeout_ms = IMDS_TIMEOUT_MS,
	};
	int rc = http_perform(http, &req, resp);

	curl_slist_free_all(h);
	if (rc < 0) {
		char what[CURL_ERROR_SIZE + 300];
		snprintf(err, errlen, "instance metadata %s: %s", url,
			 http_describe(url, resp, what, sizeof what));
	} else if (!resp->body || !resp->body[0]) {
		snprintf(err, errlen, "instance metadata %s: empty answer",
			 url);
		rc = -EIO;
	}
	return rc;
}

/* "2026-11-25T19:00:00Z" -> seconds; -1 if unreadable. */
static time_t parse_expiration(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi,
			 &sec) != 6)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

static const char *json_str(struct json_object *o, const char *name)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int parse_keys(const char *body, struct s3_key *out, char *err,
		      size_t errlen)
{
	struct json_object *o = json_tokener_parse(body);
	const char *akid, *secret, *token, *exp, *code;
	int rc = -EIO;

	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "instance metadata: keys are not JSON");
		goto out;
	}
	code = json_str(o, "Code");
	akid = json_str(o, "AccessKeyId");
	secret = json_str(o, "SecretAccessKey");
	token = json_str(o, "Token");
	exp = json_str(o, "Expiration");
	if (code && strcmp(code, "Success") != 0) {
		snprintf(err, errlen, "instance metadata: role keys: %.100s",
			 code);
		goto out;
	}
	if (!akid || !secret || !token || !exp) {
		snprintf(err, errlen,
			 "instance metadata: role keys lack AccessKeyId, "
			 "SecretAccessKey, Token or Expiration");
		goto out;
	}
	out->expires = parse_expiration(exp);
	if (out->expires == (time_t)-1) {
		snprintf(err, errlen,
			 "instance metadata: bad Expiration '%.40s'", exp);
		goto out;
	}
	out->access_key_id = strdup(akid);
	out->secret_key = strdup(secret);
	out->session_token = strdup(token);
	rc = out->access_key_id && out->secret_key && out->session_token
		     ? 0
		     : -ENOMEM;
	if (rc < 0)
		s3_key_clear(out);
out:
	/* The secret also sits in json-c's copy and in the body. */
	if (o)
		json_object_put(o);
	return rc;
}

int s3_imds_fetch(struct http_pool *http, const char *endpoint,
		  struct s3_key *out, char *role, size_t rolelen, char *err,
		  size_t errlen)
{
	struct http_response resp = { 0 };
	struct strbuf url = STRBUF_INIT, hdr = STRBUF_INIT;
	char *token = NULL;
	size_t n;
	int rc;

	memset(out, 0, sizeof *out);
	sb_addf(&url, "%s/latest/api/token", endpoint);
	rc = url.oom ? -ENOMEM
		     : imds_request(http, "PUT", url.s,
				    "X-aws-ec2-metadata-token-ttl-seconds: "
				    IMDS_TOKEN_TTL,
				    &resp, err, errlen);
	if (rc < 0)
		goto out;
	/* The token goes into a header: no line breaks or controls. */
	token = strndup(resp.body, strcspn(resp.body, "\r\n"));
	http_response_free(&resp);
	if (!token) {
		rc = -ENOMEM;
		goto out;
	}
	for (const char *p = token; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			rc = -EIO;
	if (rc < 0 || !token[0]) {
		snprintf(err, errlen, "instance metadata: bad session token");
		rc = -EIO;
		goto out;
	}
	sb_addf(&hdr, "X-aws-ec2-metadata-token: %s", token);

	sb_free(&url);
	sb_addf(&url, "%s/latest/meta-data/iam/security-credentials/",
		endpoint);
	rc = url.oom || hdr.oom ? -ENOMEM
				: imds_request(http, "GET", url.s, hdr.s,
					       &resp, err, errlen);
	if (rc < 0)
		goto out;
	/* One role per instance profile: the first line. */
	n = strcspn(resp.body, "\r\n");
	snprintf(role, rolelen, "%.*s", (int)n, resp.body);
	http_response_free(&resp);
	if (!role[0] || strchr(role, '/')) {
		snprintf(err, errlen, "instance metadata: no usable role");
		rc = -EIO;
		goto out;
	}

	sb_addf(&url, "%s", role); /* .../security-credentials/ROLE */
	rc = url.oom ? -ENOMEM
		     : imds_request(http, "GET", url.s, hdr.s, &resp, err,
				    errlen);
	if (rc == 0)
		rc = parse_keys(resp.body, out, err, errlen);
	if (resp.body)
		OPENSSL_cleanse(resp.body, resp.body_len);
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	http_response_free(&resp);
	if (token) {
		OPENSSL_cleanse(token, strlen(token));
		free(token);
	}
	if (hdr.s)
		OPENSSL_cleanse(hdr.s, hdr.len);
	sb_free(&hdr);
	sb_free(&url);
	return rc;
}
