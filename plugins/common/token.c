/* token: renewal policy and bearer tokens from a metadata endpoint (see
 * token.h).  The token is a secret: it is wiped when replaced and never
 * logged; messages name the endpoint's origin only. */
#include "token.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "crypto.h"

int renew_due(time_t expires, time_t last, time_t now)
{
	return expires && now >= expires - RENEW_AHEAD &&
	       (now >= expires || now >= last + RENEW_GAP);
}

struct token_source {
	const struct scopefs_host *host;
	struct http_pool *http;
	char *url, *header;
	token_body_fn body_fn; /* NULL: GET */
	void *body_ctx;
	long timeout_ms;
	pthread_mutex_t lock; /* guards token, expires, last, fetches */
	char *token;
	time_t expires, last;
	unsigned fetches;
};

/* expires_on (seconds since the epoch, as a string or a number), else
 * expires_in (seconds from now). */
static time_t expiry_of(struct json_object *o, time_t now)
{
	struct json_object *v;

	if (json_object_object_get_ex(o, "expires_on", &v)) {
		long long t = json_object_get_int64(v);
		if (t > 0)
			return (time_t)t;
	}
	if (json_object_object_get_ex(o, "expires_in", &v)) {
		long long t = json_object_get_int64(v);
		/* A lifetime past time_t's range would overflow the sum:
		 * take it as the latest time there is. */
		if (t > LLONG_MAX - (long long)now)
			return (time_t)LLONG_MAX;
		if (t > 0)
			return now + (time_t)t;
	}
	return (time_t)-1;
}

int token_parse_answer(const char *body, time_t now, char **token,
		       time_t *expires)
{
	struct json_object *o = body ? json_tokener_parse(body) : NULL, *v;
	int rc = -EIO;

	*token = NULL;
	if (!o || !json_object_object_get_ex(o, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_get_string(v)[0])
		goto out;
	rc = -ENODATA;
	if ((*expires = expiry_of(o, now)) == (time_t)-1)
		goto out;
	*token = strdup(json_object_get_string(v));
	rc = *token ? 0 : -ENOMEM;
out:
	if (o)
		json_object_put(o);
	return rc;
}

static int fetch(struct token_source *t, char **token, time_t *expires,
		 char *err, size_t errlen)
{
	struct curl_slist *h = t->header ? curl_slist_append(NULL, t->header)
					 : NULL;
	struct http_request req = { .method = "GET", .url = t->url,
				    .headers = h, .attempts = 1,
				    .timeout_ms = t->timeout_ms };
	struct http_response resp = { 0 };
	char origin[256], what[CURL_ERROR_SIZE + 300], *body = NULL;
	int rc;

	http_url_origin(t->url, origin, sizeof origin);
	if (t->header && !h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (t->body_fn) {
		if ((rc = t->body_fn(t->body_ctx, &body, err, errlen)) < 0) {
			curl_slist_free_all(h);
			return rc;
		}
		req.method = "POST";
		req.body = body;
		req.body_len = strlen(body);
	}
	rc = http_perform(t->http, &req, &resp);
	curl_slist_free_all(h);
	secret_free(body);
	if (rc < 0) {
		snprintf(err, errlen, "token endpoint %s: %s", origin,
			 http_describe(t->url, &resp, what, sizeof what));
		goto out;
	}
	rc = token_parse_answer(resp.body, time(NULL), token, expires);
	if (rc == -EIO)
		snprintf(err, errlen, "token endpoint %s: no access_token in "
			 "the answer", origin);
	else if (rc == -ENODATA)
		snprintf(err, errlen, "token endpoint %s: no expires_on or "
			 "expires_in in the answer", origin);
	else if (rc < 0)
		snprintf(err, errlen, "out of memory");
	if (rc == -ENODATA)
		rc = -EIO;
out:
	if (resp.body)
		OPENSSL_cleanse(resp.body, resp.body_len);
	http_response_free(&resp);
	return rc;
}

static struct token_source *source_open(const struct scopefs_host *h,
					struct http_pool *http, const char *url,
					const char *header,
					token_body_fn body_fn, void *ctx,
					long timeout_ms, char *err,
					size_t errlen)
{
	struct token_source *t = calloc(1, sizeof *t);

	if (!t || !(t->url = strdup(url)) ||
	    (header && !(t->header = strdup(header)))) {
		snprintf(err, errlen, "out of memory");
		token_source_close(t);
		return NULL;
	}
	t->host = h;
	t->http = http;
	t->body_fn = body_fn;
	t->body_ctx = ctx;
	t->timeout_ms = timeout_ms;
	pthread_mutex_init(&t->lock, NULL);
	t->last = time(NULL);
	if (fetch(t, &t->token, &t->expires, err, errlen) < 0) {
		token_source_close(t);
		return NULL;
	}
	t->fetches = 1;
	return t;
}

struct token_source *token_source_open(const struct scopefs_host *h,
				       struct http_pool *http, const char *url,
				       const char *header, long timeout_ms,
				       char *err, size_t errlen)
{
	return source_open(h, http, url, header, NULL, NULL, timeout_ms, err,
			   errlen);
}

struct token_source *token_source_open_post(const struct scopefs_host *h,
					    struct http_pool *http,
					    const char *url,
					    const char *content_type,
					    token_body_fn body_fn, void *ctx,
					    long timeout_ms, char *err,
					    size_t errlen)
{
	char header[256];

	snprintf(header, sizeof header, "Content-Type: %s", content_type);
	return source_open(h, http, url, header, body_fn, ctx, timeout_ms,
			   err, errlen);
}

void token_source_close(struct token_source *t)
{
	if (!t)
		return;
	if (t->url)
		pthread_mutex_destroy(&t->lock);
	secret_free(t->token);
	free(t->url);
	free(t->header);
	free(t);
}

int token_source_get(struct token_source *t, char **token)
{
	time_t now = time(NULL);
	int rc = 0;

	pthread_mutex_lock(&t->lock);
	if (renew_due(t->expires, t->last, now)) {
		char *fresh = NULL, why[512];
		time_t exp;
		t->last = now;
		t->fetches++;
		if (fetch(t, &fresh, &exp, why, sizeof why) < 0) {
			t->host->log(t->host, SCOPEFS_LOG_WARN,
				     "cannot renew the access token: %s", why);
		} else {
			secret_free(t->token);
			t->token = fresh;
			t->expires = exp;
			t->host->log(t->host, SCOPEFS_LOG_DEBUG,
				     "renewed the access token, valid %lld s",
				     (long long)(exp - now));
		}
	}
	if (now >= t->expires) {
		t->host->set_error(t->host, "the access token expired and "
				   "cannot be renewed");
		rc = -EACCES;
	} else if (!(*token = strdup(t->token))) {
		rc = -ENOMEM;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

unsigned token_source_fetches(const struct token_source *t)
{
	return t->fetches;
}
