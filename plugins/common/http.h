/*
 * http: the one libcurl layer of the HTTP plugins (s3, gcs, azblob).
 *
 * A pool per mount keeps CURL easy handles (and so their live connections)
 * for reuse by any thread; a share handle adds a common DNS and TLS session
 * cache.  http_perform() retries what is worth retrying (5xx, 429, dropped
 * connections, timeouts) with exponential backoff and full jitter, a bounded
 * number of times, then reports the last answer.  It never logs secrets: it
 * logs nothing but the method, the URL's scheme://host[:port] and statuses.
 */
#ifndef SCOPEFS_HTTP_H
#define SCOPEFS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>
#include <scopefs/plugin.h>

#include "pair.h"
#include "strbuf.h"

/* Plugin-internal: never exported from a plugin, whatever its flags
 * (two plugins in one process must not bind to each other's copy). */
#pragma GCC visibility push(hidden)

struct http_config {
	long connect_timeout_ms; /* TCP + TLS handshake; default 10 s */
	long stall_timeout_s;    /* abort when no byte moved this long; 30 s */
	int attempts;            /* tries per request, >= 1; default 5 */
	long backoff_base_ms;    /* first retry waits up to this; 200 ms */
	long backoff_max_ms;     /* no wait exceeds this; 5 s */
	/* A request, its retries and their waits end within this unless
	 * bytes keep moving: no retry starts past it, and a stall is cut at
	 * it.  So a store that accepts and never answers costs a caller at
	 * most this long, not attempts x stall; 60 s, 0 = no limit. */
	long deadline_ms;
};

void http_config_defaults(struct http_config *c);

struct http_pool;

/* A pool for one mount.  LABEL names the plugin in log lines ("s3").
 * Returns NULL when out of memory.  Calls curl_global_init once per
 * process (thread-safe). */
struct http_pool *http_pool_new(const struct scopefs_host *host,
				const char *label,
				const struct http_config *cfg);
void http_pool_free(struct http_pool *p);

struct http_request {
	const char *method;  /* GET HEAD PUT POST DELETE */
	const char *url;
	/* "Name: value" lines, sent as given (Host included if wanted). */
	const struct curl_slist *headers;
	/* Request body, resent from memory on every attempt.  PUT and POST
	 * always send one (Content-Length: 0 when body_len is 0). */
	const void *body;
	size_t body_len;
	/* Where a 2xx body goes: a caller buffer of out_cap bytes (bytes past
	 * it are dropped), or, when out is NULL, response.body.  Error bodies
	 * always go to response.body. */
	void *out;
	size_t out_cap;
	/* A 200 (not 206) answer to a ranged GET carries the whole object:
	 * drop this many leading bytes so out still starts at the range. */
	uint64_t skip_on_200;
	/* 0: the pool's settings; else this many tries / this overall limit
	 * in ms (for metadata services that must answer fast or not at all). */
	int attempts;
	long timeout_ms;
	/* Bytes sent before and after body, as one request body with it (an
	 * envelope such as multipart/related around an object's bytes, which
	 * then need no copy).  NULL / 0 when none. */
	const void *body_head;
	size_t head_len;
	const void *body_tail;
	size_t tail_len;
};

struct http_header {
	char *name;  /* lower case */
	char *value; /* surrounding blanks trimmed */
};

struct http_response {
	long status;            /* last HTTP status; 0 if none came */
	CURLcode curl_code;     /* CURLE_OK when an HTTP answer came */
	char error[CURL_ERROR_SIZE]; /* curl's text for curl_code */
	char *body;             /* malloc'd, NUL-terminated, or NULL */
	size_t body_len;
	size_t out_len;         /* bytes stored in request.out */
	struct http_header *headers;
	size_t nheaders;
	int attempts;           /* tries made */
};

/* Send REQ, retrying as configured.  Returns 0 for a 2xx answer, else a
 * negative errno (http_status_errno for an HTTP answer, -ETIMEDOUT or -EIO
 * for a transport failure); RESP describes the last attempt either way and
 * must be released with http_response_free(). */
int http_perform(struct http_pool *p, const struct http_request *req,
		 struct http_response *resp);
void http_response_free(struct http_response *resp);

/* The NUL-separated "Name: value" lines in B (each added with a '\0'
 * after it) as a curl header list.  B is wiped (it may hold a token or a
 * signature) and freed either way; NULL when out of memory. */
struct curl_slist *http_lines(struct strbuf *b);
/* Wipe and free a list from http_lines. */
void http_lines_free(struct curl_slist *l);

/* Value of response header NAME (any case), or NULL. */
const char *http_header(const struct http_response *resp, const char *name);

/* The errno for an HTTP status: 404 ENOENT, 401/403 EACCES, 412 ESTALE,
 * 416 ERANGE, 400/411 EINVAL, 409 EBUSY, 405/501 EOPNOTSUPP, 413 EFBIG,
 * 429/503 EAGAIN, 507 ENOSPC, anything else EIO. */
int http_status_errno(long status);

/* Whether a try that ended like this deserves another one. */
int http_retryable(CURLcode code, long status);

/* The failure in words for logs and set_error, without secrets:
 * "HTTP 403" or "cannot reach http://host:port: Couldn't connect to
 * server" (only the origin of URL is named).  Writes at most len bytes
 * into buf and returns buf. */
const char *http_describe(const char *url, const struct http_response *resp,
			  char *buf, size_t len);

/* Tell about a failed request once, as every HTTP plugin does: log it
 * (debug for ERR -ENOENT, a plain "not found", else warn) and set_error,
 * both "OP 'NAME': HTTP 403 CODE: MSG" (the server's error code and
 * message, when it gave them) or the transport failure with URL's origin
 * only.  Nothing when nothing was sent (the sender said why). */
void http_report(const struct scopefs_host *h, const char *url,
		 const char *op, const char *name,
		 const struct http_response *resp, const char *code,
		 const char *msg, int err);

/* A server's error code and the errno it means, sharper than its
 * status's. */
struct http_code_errno {
	const char *code;
	int err;
};

/* A failed request, told once: ERR (the status's errno) refined by CODE
 * through MAP when the server answered, then http_report; returns it.
 * When nothing was sent (the sender said why), just ERR. */
int http_fail(const struct scopefs_host *h, const char *url, const char *op,
	      const char *name, const struct http_response *resp,
	      const char *code, const char *msg,
	      const struct http_code_errno *map, size_t nmap, int err);

/* scheme://host[:port] of URL, for messages (the path may hold keys
 * that are nobody's business in a connection error). */
void http_url_origin(const char *url, char *buf, size_t len);

/* An object's size, mtime (Last-Modified, else Date, else now) and ETag
 * from a HEAD/GET/PUT answer's headers, into the ABI's attributes. */
void http_attr_from_headers(const struct http_response *resp,
			    struct scopefs_object_attr *a);
/* Copy ETAG into the ABI's field in its quoted header form (listings of
 * some stores give it bare); truncated if absurdly long. */
void http_set_etag(struct scopefs_object_attr *a, const char *etag);

/* Parse an HTTP date (RFC 7231) into seconds since the epoch, -1 if bad. */
time_t http_parse_date(const char *s);

#pragma GCC visibility pop

#endif
