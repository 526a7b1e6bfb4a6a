/* http: pooled libcurl requests with bounded retries (see http.h). */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

/* A response body larger than this is an error: no S3/GCS/Azure reply we
 * buffer (listings, errors, XML results) comes near it. */
#define HTTP_BODY_MAX (64u << 20)

struct http_pool {
	const struct scopefs_host *host;
	char label[32];
	struct http_config cfg;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
	pthread_mutex_t lock; /* guards idle */
	CURL **idle;
	size_t nidle, cap;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

/* Never cleaned up: other code in the process (another plugin) may use
 * libcurl too, and curl_global_cleanup is not thread-safe. */
static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_config_defaults(struct http_config *c)
{
	c->connect_timeout_ms = 10000;
	c->stall_timeout_s = 30;
	c->attempts = 5;
	c->backoff_base_ms = 200;
	c->backoff_max_ms = 5000;
	c->deadline_ms = 60000;
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
		       void *ctx)
{
	struct http_pool *p = ctx;

	(void)h, (void)a;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&p->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *ctx)
{
	struct http_pool *p = ctx;

	(void)h;
	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&p->share_locks[data]);
}

struct http_pool *http_pool_new(const struct scopefs_host *host,
				const char *label,
				const struct http_config *cfg)
{
	struct http_pool *p;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->host = host;
	snprintf(p->label, sizeof p->label, "%s", label);
	p->cfg = *cfg;
	if (p->cfg.attempts < 1)
		p->cfg.attempts = 1;
	pthread_mutex_init(&p->lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&p->share_locks[i], NULL);
	/* Connections stay per easy handle (reused with the handle);
	 * DNS answers and TLS sessions are worth sharing. */
	p->share = curl_share_init();
	if (p->share) {
		curl_share_setopt(p->share, CURLSHOPT_LOCKFUNC, share_lock);
		curl_share_setopt(p->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
		curl_share_setopt(p->share, CURLSHOPT_USERDATA, p);
		curl_share_setopt(p->share, CURLSHOPT_SHARE,
				  CURL_LOCK_DATA_DNS);
		curl_share_setopt(p->share, CURLSHOPT_SHARE,
				  CURL_LOCK_DATA_SSL_SESSION);
	}
	return p;
}

void http_pool_free(struct http_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nidle; i++)
		curl_easy_cleanup(p->idle[i]);
	free(p->idle);
	if (p->share)
		curl_share_cleanup(p->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&p->share_locks[i]);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static CURL *pool_take(struct http_pool *p)
{
	CURL *h = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->nidle > 0)
		h = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->lock);
	if (h)
		curl_easy_reset(h); /* keeps its connections and caches */
	else
		h = curl_easy_init();
	return h;
}

static void pool_give(struct http_pool *p, CURL *h)
{
	pthread_mutex_lock(&p->lock);
	if (p->nidle == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		CURL **v = realloc(p->idle, cap * sizeof *v);
		if (!v) {
			pthread_mutex_unlock(&p->lock);
			curl_easy_cleanup(h);
			return;
		}
		p->idle = v;
		p->cap = cap;
	}
	p->idle[p->nidle++] = h;
	pthread_mutex_unlock(&p->lock);
}

/* One try's state, seen by the curl callbacks. */
struct transfer {
	CURL *h;
	const struct http_request *req;
	struct http_response *resp;
	size_t body_cap;
	size_t sent;      /* request body bytes handed to curl */
	uint64_t skipped; /* bytes dropped for skip_on_200 */
	int too_big;
	long left_ms;     /* of the request's deadline; 0 = none */
};

/* The request body's length: envelope and body. */
static size_t body_total(const struct http_request *q)
{
	return q->head_len + q->body_len + q->tail_len;
}

/* Copy up to K bytes of the request body from position POS: the head,
 * then the body, then the tail. */
static size_t body_copy(const struct http_request *q, size_t pos, char *dst,
			size_t k)
{
	const struct {
		const char *p;
		size_t n;
	} piece[3] = { { q->body_head, q->head_len },
		       { q->body, q->body_len },
		       { q->body_tail, q->tail_len } };
	size_t done = 0;

	for (int i = 0; i < 3 && done < k; i++) {
		size_t c;
		if (pos >= piece[i].n) {
			pos -= piece[i].n;
			continue;
		}
		c = piece[i].n - pos < k - done ? piece[i].n - pos : k - done;
		memcpy(dst + done, piece[i].p + pos, c);
		done += c;
		pos = 0;
	}
	return done;
}

static size_t read_cb(char *dst, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;
	size_t left = body_total(t->req) - t->sent;
	size_t k = size * n < left ? size * n : left;

	if (k)
		k = body_copy(t->req, t->sent, dst, k);
	t->sent += k;
	return k;
}

/* curl rewinds the body when it must resend it (a redirect or an
 * authentication round); our body is memory, so rewinding is free. */
static int seek_cb(void *ctx, curl_off_t off, int origin)
{
	struct transfer *t = ctx;

	if (origin != SEEK_SET || off < 0 || (size_t)off > body_total(t->req))
		return CURL_SEEKFUNC_FAIL;
	t->sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int body_append(struct transfer *t, const char *src, size_t k)
{
	struct http_response *r = t->resp;

	if (r->body_len + k > HTTP_BODY_MAX) {
		t->too_big = 1;
		return -1;
	}
	if (r->body_len + k + 1 > t->body_cap) {
		size_t cap = t->body_cap ? t->body_cap : 4096;
		char *b;
		while (cap < r->body_len + k + 1)
			cap *= 2;
		b = realloc(r->body, cap);
		if (!b)
			return -1;
		r->body = b;
		t->body_cap = cap;
	}
	memcpy(r->body + r->body_len, src, k);
	r->body_len += k;
	r->body[r->body_len] = '\0';
	return 0;
}

static size_t write_cb(char *src, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;
	struct http_response *r = t->resp;
	size_t k = size * n;
	long status = 0;

	curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &status);
	if (!t->req->out || status < 200 || status >= 300)
		return body_append(t, src, k) < 0 ? 0 : k;
	if (status == 200 && t->skipped < t->req->skip_on_200) {
		uint64_t drop = t->req->skip_on_200 - t->skipped;
		if (drop > k)
			drop = k;
		t->skipped += drop;
		src += drop;
		k -= (size_t)drop;
	}
	if (r->out_len < t->req->out_cap) {
		size_t room = t->req->out_cap - r->out_len;
		size_t c = k < room ? k : room;
		memcpy((char *)t->req->out + r->out_len, src, c);
		r->out_len += c;
	}
	return size * n;
}

static void headers_clear(struct http_response *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
}

static size_t header_cb(char *line, size_t size, size_t n, void *ctx)
{
	struct transfer *t = ctx;
	struct http_response *r = t->resp;
	size_t len = size * n, nl, vs, ve;
	const char *colon;
	struct http_header *v;

	/* A new status line (after 100 Continue or a redirect) starts a
	 * new set of headers. */
	if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
		headers_clear(r);
		return len;
	}
	colon = memchr(line, ':', len);
	if (!colon)
		return len;
	nl = (size_t)(colon - line);
	vs = nl + 1;
	ve = len;
	while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
		vs++;
	while (ve > vs && isspace((unsigned char)line[ve - 1]))
		ve--;
	v = realloc(r->headers, (r->nheaders + 1) * sizeof *v);
	if (!v)
		return 0;
	r->headers = v;
	v = &r->headers[r->nheaders];
	v->name = strndup(line, nl);
	v->value = strndup(line + vs, ve - vs);
	if (!v->name || !v->value) {
		free(v->name);
		free(v->value);
		return 0;
	}
	for (char *c = v->name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	r->nheaders++;
	return len;
}

struct curl_slist *http_lines(struct strbuf *b)
{
	struct curl_slist *l = NULL, *t;

	for (const char *p = b->s; !b->oom && p && p < b->s + b->len;
	     p += strlen(p) + 1) {
		t = curl_slist_append(l, p);
		if (!t) {
			http_lines_free(l);
			l = NULL;
			break;
		}
		l = t;
	}
	if (b->oom && l) {
		http_lines_free(l);
		l = NULL;
	}
	if (b->s)
		OPENSSL_cleanse(b->s, b->len);
	sb_free(b);
	return l;
}

void http_lines_free(struct curl_slist *l)
{
	for (struct curl_slist *s = l; s; s = s->next)
		OPENSSL_cleanse(s->data, strlen(s->data));
	curl_slist_free_all(l);
}

const char *http_header(const struct http_response *resp, const char *name)
{
	for (size_t i = 0; i < resp->nheaders; i++)
		if (strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	return NULL;
}

static void response_reset(struct http_response *r)
{
	int attempts = r->attempts;

	http_response_free(r);
	r->attempts = attempts;
}

void http_response_free(struct http_response *r)
{
	headers_clear(r);
	free(r->body);
	memset(r, 0, sizeof *r);
}

static int setup(struct http_pool *p, struct transfer *t,
		 struct curl_slist **extra)
{
	const struct http_request *q = t->req;
	CURL *h = t->h;
	struct curl_slist *l = NULL;
	int upload = q->body || q->body_head ||
		     strcmp(q->method, "PUT") == 0 ||
		     strcmp(q->method, "POST") == 0;

	/* Our own copy of the caller's list plus the headers curl must not
	 * add by itself: no "Expect: 100-continue" round trip. */
	for (const struct curl_slist *s = q->headers; s; s = s->next) {
		struct curl_slist *n = curl_slist_append(l, s->data);
		if (!n)
			goto oom;
		l = n;
	}
	{
		struct curl_slist *n = curl_slist_append(l, "Expect:");
		if (!n)
			goto oom;
		l = n;
	}
	*extra = l;

	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads */
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L); /* keys are paths */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "scopefs/" "0.1");
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->resp->error);
	if (p->share)
		curl_easy_setopt(h, CURLOPT_SHARE, p->share);
	if (q->timeout_ms > 0) {
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, q->timeout_ms);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, q->timeout_ms);
	} else {
		long connect = p->cfg.connect_timeout_ms;
		long stall = p->cfg.stall_timeout_s;

		if (t->left_ms > 0) {
			if (connect > t->left_ms)
				connect = t->left_ms;
			if (stall > (t->left_ms + 999) / 1000)
				stall = (t->left_ms + 999) / 1000;
		}
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
		/* A stall, not a slow transfer, is the failure: large parts
		 * on thin links must still finish. */
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, t);
	if (strcmp(q->method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (upload) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(h, CURLOPT_READDATA, t);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, t);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)body_total(q));
		if (strcmp(q->method, "PUT") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	} else if (strcmp(q->method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	}
	return 0;
oom:
	curl_slist_free_all(l);
	return -ENOMEM;
}

int http_retryable(CURLcode code, long status)
{
	switch (code) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
	if (status == 408 || status == 429)
		return 1;
	return status >= 500 && status != 501 && status != 505;
}

int http_status_errno(long status)
{
	switch (status) {
	case 400:
	case 411:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 405:
	case 501:
		return -EOPNOTSUPP;
	case 409:
		return -EBUSY;
	case 412:
		return -ESTALE;
	case 413:
		return -EFBIG;
	case 416:
		return -ERANGE;
	case 429:
	case 503:
		return -EAGAIN;
	case 507:
		return -ENOSPC;
	default:
		return -EIO;
	}
}

/* Full jitter (a uniform wait in [0, min(max, base * 2^n)]): retries of
 * many clients spread out instead of arriving together. */
static long backoff_ms(const struct http_config *c, int retry)
{
	static _Thread_local unsigned int seed;
	long cap = c->backoff_base_ms;

	if (seed == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (unsigned int)(ts.tv_nsec ^ ts.tv_sec ^
				      (long)pthread_self()) | 1u;
	}
	for (int i = 1; i < retry && cap < c->backoff_max_ms; i++)
		cap *= 2;
	if (cap > c->backoff_max_ms)
		cap = c->backoff_max_ms;
	if (cap <= 0)
		return 0;
	return (long)(rand_r(&seed) % (cap + 1));
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void http_url_origin(const char *url, char *buf, size_t len)
{
	const char *s = strstr(url, "://");
	size_t n;

	s = s ? s + 3 : url;
	n = strcspn(s, "/?#");
	snprintf(buf, len, "%.*s%.*s", (int)(s - url), url, (int)n, s);
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int transport_errno(CURLcode c)
{
	return c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
}

/* Tell the core's metrics about one try (ABI 1.3 hosts). */
static void count_try(struct http_pool *p, struct transfer *t,
		      const char *method, CURLcode rc, long status, int retry)
{
	curl_off_t up = 0, down = 0, us = 0;

	if (!p->host ||
	    !SCOPEFS_HAS_FIELD(p->host, struct scopefs_host, count_request) ||
	    !p->host->count_request)
		return;
	curl_easy_getinfo(t->h, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(t->h, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(t->h, CURLINFO_TOTAL_TIME_T, &us);
	p->host->count_request(p->host, method,
			       rc == CURLE_OK ? (int)status : 0, retry,
			       (uint64_t)up, (uint64_t)down, us / 1e6);
}

int http_perform(struct http_pool *p, const struct http_request *req,
		 struct http_response *resp)
{
	int max = req->attempts > 0 ? req->attempts : p->cfg.attempts;
	long end = p->cfg.deadline_ms > 0 ? mono_ms() + p->cfg.deadline_ms : 0;
	char origin[256];

	memset(resp, 0, sizeof *resp);
	for (int attempt = 1;; attempt++) {
		struct transfer t = { .req = req, .resp = resp,
				      .left_ms = end ? end - mono_ms() : 0 };
		struct curl_slist *hdrs = NULL;
		CURLcode rc;
		long wait;

		response_reset(resp);
		resp->attempts = attempt;
		t.h = pool_take(p);
		if (!t.h || setup(p, &t, &hdrs) < 0) {
			if (t.h)
				curl_easy_cleanup(t.h);
			return -ENOMEM;
		}
		rc = curl_easy_perform(t.h);
		curl_easy_getinfo(t.h, CURLINFO_RESPONSE_CODE, &resp->status);
		count_try(p, &t, req->method, rc, resp->status, attempt > 1);
		/* The handle must not point at our stack after we return. */
		curl_easy_setopt(t.h, CURLOPT_ERRORBUFFER, NULL);
		pool_give(p, t.h);
		curl_slist_free_all(hdrs);
		if (t.too_big) {
			snprintf(resp->error, sizeof resp->error,
				 "response body larger than %u bytes",
				 HTTP_BODY_MAX);
			resp->curl_code = CURLE_WRITE_ERROR;
			return -EIO;
		}
		resp->curl_code = rc;
		if (rc != CURLE_OK) {
			resp->status = 0;
			if (!resp->error[0])
				snprintf(resp->error, sizeof resp->error, "%s",
					 curl_easy_strerror(rc));
		} else if (resp->status >= 200 && resp->status < 300) {
			return 0;
		}
		if (attempt >= max || !http_retryable(rc, resp->status))
			break;
		wait = backoff_ms(&p->cfg, attempt);
		/* a retry needs time for a connect and an answer */
		if (end && mono_ms() + wait + 1000 >= end)
			break;
		if (p->host && p->host->log) {
			char what[CURL_ERROR_SIZE + 16];
			http_url_origin(req->url, origin, sizeof origin);
			if (rc != CURLE_OK)
				snprintf(what, sizeof what, "%s", resp->error);
			else
				snprintf(what, sizeof what, "HTTP %ld",
					 resp->status);
			p->host->log(p->host, SCOPEFS_LOG_INFO,
				     "%s %s %s: %s; retry %d of %d in %ld ms",
				     p->label, req->method, origin, what,
				     attempt, max - 1, wait);
		}
		sleep_ms(wait);
	}
	return resp->curl_code != CURLE_OK ? transport_errno(resp->curl_code)
					   : http_status_errno(resp->status);
}

const char *http_describe(const char *url, const struct http_response *resp,
			  char *buf, size_t len)
{
	char origin[256];

	if (resp->curl_code == CURLE_OK) {
		snprintf(buf, len, "HTTP %ld", resp->status);
		return buf;
	}
	http_url_origin(url, origin, sizeof origin);
	if (resp->attempts > 1)
		snprintf(buf, len, "cannot reach %s: %s (%d attempts)", origin,
			 resp->error[0] ? resp->error
					: curl_easy_strerror(resp->curl_code),
			 resp->attempts);
	else
		snprintf(buf, len, "cannot reach %s: %s", origin,
			 resp->error[0] ? resp->error
					: curl_easy_strerror(resp->curl_code));
	return buf;
}

time_t http_parse_date(const char *s)
{
	return s ? curl_getdate(s, NULL) : -1;
}

void http_report(const struct scopefs_host *h, const char *url,
		 const char *op, const char *name,
		 const struct http_response *resp, const char *code,
		 const char *msg, int err)
{
	char what[CURL_ERROR_SIZE + 300];

	if (resp->curl_code == CURLE_OK && resp->status == 0)
		return;
	http_describe(url, resp, what, sizeof what);
	if (!code)
		code = "";
	if (!msg)
		msg = "";
	h->log(h, err == -ENOENT ? SCOPEFS_LOG_DEBUG : SCOPEFS_LOG_WARN,
	       "%s '%s': %s%s%s%s%s", op, name ? name : "", what,
	       code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
	h->set_error(h, "%s '%s': %s%s%s%s%s", op, name ? name : "", what,
		     code[0] ? " " : "", code, msg[0] ? ": " : "", msg);
}

void http_set_etag(struct scopefs_object_attr *a, const char *etag)
{
	int bare;

	if (!etag)
		etag = "";
	bare = etag[0] && etag[0] != '"' && strncmp(etag, "W/", 2) != 0;
	snprintf(a->etag, sizeof a->etag, "%s%.*s%s", bare ? "\"" : "",
		 (int)(sizeof a->etag - 3), etag, bare ? "\"" : "");
}

void http_attr_from_headers(const struct http_response *resp,
			    struct scopefs_object_attr *a)
{
	const char *len = http_header(resp, "content-length");
	const char *lm = http_header(resp, "last-modified");
	time_t t = http_parse_date(lm ? lm : http_header(resp, "date"));

	memset(a, 0, sizeof *a);
	if (len)
		a->size = strtoull(len, NULL, 10);
	a->mtime.tv_sec = t == (time_t)-1 ? time(NULL) : t;
	http_set_etag(a, http_header(resp, "etag"));
}

int http_fail(const struct scopefs_host *h, const char *url, const char *op,
	      const char *name, const struct http_response *resp,
	      const char *code, const char *msg,
	      const struct http_code_errno *map, size_t nmap, int err)
{
	if (resp->curl_code == CURLE_OK && resp->status == 0)
		return err;
	if (resp->curl_code == CURLE_OK)
		for (size_t i = 0; i < nmap; i++)
			if (strcmp(code, map[i].code) == 0) {
				err = map[i].err;
				break;
			}
	http_report(h, url, op, name, resp, code, msg, err);
	return err;
}
