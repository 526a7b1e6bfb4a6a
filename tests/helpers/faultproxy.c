/*
 * faultproxy: a TCP proxy on 127.0.0.1 between a plugin and a test server
 * (127.0.0.1:TARGET) that logs every HTTP request and, on a schedule the
 * test writes into a file, injects the faults of a real network and a
 * real store: latency, reset connections, error answers, bodies cut
 * short, answers that never come, connections that go nowhere.
 *
 *   faultproxy TARGET_PORT LOG [LISTEN_PORT] [FAULTS [FLAVOR]]
 *
 * LISTEN_PORT 0 or absent picks a free port; the port is printed on
 * stdout ("PORT\n") once the proxy accepts connections.  SIGTERM or
 * SIGINT ends it.
 *
 * LOG gets one line per request, "METHOD TARGET-URI", then
 * " [If-None-Match: V]" when the request is conditional that way (a
 * conditional create is visible on the wire even where the server ignores
 * it), then " [fault NAME]" when a fault was applied to it; appended with
 * one write(2) per line, so a reader sees whole lines.
 *
 * FAULTS names a file the proxy reads at every request and, while a
 * connection waits, every 50 ms; its first line says what to do (no file,
 * or an empty one: pass everything):
 *
 *   pass                  forward as is
 *   latency MS            hold each request MS ms, then forward it
 *   reset                 reset the connection (RST) instead of forwarding
 *   status CODE [ERROR]   answer CODE with the store's error body for
 *                         ERROR (default InternalError), in FLAVOR: s3
 *                         (XML, the default), azblob (XML and
 *                         x-ms-error-code) or gcs (JSON)
 *   cut                   forward, then cut the answer halfway through its
 *                         body (through its head when it has no body), RST
 *   stall                 swallow the request; never answer
 *   blackhole             new connections are accepted and never read;
 *                         open ones stop moving (schedules do not apply)
 *
 * followed by a schedule: method=M (only requests of method M; the others
 * pass), after=K (let the first K of them pass), count=N (fault N of them,
 * then pass; default: all).  The proxy counts from the moment the file's
 * text changes, so a test rewrites the file (atomically: write then
 * rename) to start a new schedule.  Requests are found by parsing the
 * client's stream: request line and headers, then a body of
 * Content-Length bytes or a chunked body, then the next request
 * (keep-alive; clients do not pipeline).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int target_port;
static int log_fd = -1;
static const char *faults_path; /* NULL: never inject */
static const char *flavor = "s3";

/* ---- the schedule ------------------------------------------------------- */

enum kind { PASS, LATENCY, RESET, STATUS, CUT, STALL, BLACKHOLE };
static const char *const kind_names[] = { "pass", "latency", "reset",
					  "status", "cut", "stall",
					  "blackhole" };

struct fault {
	enum kind kind;
	long arg;         /* latency ms, status code */
	char error[64];   /* the store's error code for status */
	char method[16];  /* "" = every method */
	long after, count; /* count < 0: no end */
};

static pthread_mutex_t sched_lock = PTHREAD_MUTEX_INITIALIZER;
static char sched_text[512];  /* the file's first line as last read */
static struct fault sched;    /* parsed from sched_text */
static long sched_seen;       /* matching requests since sched_text changed */

static void parse_fault(const char *line, struct fault *f)
{
	char word[32] = "";
	int n = 0;

	memset(f, 0, sizeof *f);
	f->count = -1;
	snprintf(f->error, sizeof f->error, "InternalError");
	if (sscanf(line, "%31s%n", word, &n) != 1)
		return;
	for (size_t k = 0; k < sizeof kind_names / sizeof *kind_names; k++)
		if (!strcmp(word, kind_names[k]))
			f->kind = (enum kind)k;
	line += n;
	while (sscanf(line, "%31s%n", word, &n) == 1) {
		line += n;
		if (!strncmp(word, "method=", 7))
			snprintf(f->method, sizeof f->method, "%.15s", word + 7);
		else if (!strncmp(word, "after=", 6))
			f->after = atol(word + 6);
		else if (!strncmp(word, "count=", 6))
			f->count = atol(word + 6);
		else if (word[0] >= '0' && word[0] <= '9' && !f->arg)
			f->arg = atol(word);
		else
			snprintf(f->error, sizeof f->error, "%s", word);
	}
}

/* Re-read the file; a changed first line starts a new schedule. */
static void sched_refresh_locked(void)
{
	char text[sizeof sched_text] = "";
	FILE *fp = faults_path ? fopen(faults_path, "re") : NULL;

	if (fp) {
		if (!fgets(text, sizeof text, fp))
			text[0] = '\0';
		fclose(fp);
		text[strcspn(text, "\r\n")] = '\0';
	}
	if (strcmp(text, sched_text) != 0) {
		snprintf(sched_text, sizeof sched_text, "%s", text);
		parse_fault(text, &sched);
		sched_seen = 0;
	}
}

/* The fault for a request of METHOD (PASS when none applies). */
static struct fault fault_for(const char *method)
{
	struct fault f = { .kind = PASS };

	pthread_mutex_lock(&sched_lock);
	sched_refresh_locked();
	if (sched.kind != PASS && sched.kind != BLACKHOLE &&
	    (!sched.method[0] || !strcmp(sched.method, method))) {
		long i = sched_seen++;
		if (i >= sched.after &&
		    (sched.count < 0 || i < sched.after + sched.count))
			f = sched;
	}
	pthread_mutex_unlock(&sched_lock);
	return f;
}

static int blackholed(void)
{
	pthread_mutex_lock(&sched_lock);
	sched_refresh_locked();
	int b = sched.kind == BLACKHOLE;
	pthread_mutex_unlock(&sched_lock);
	return b;
}

/* ---- HTTP framing ------------------------------------------------------- */

/* The value of header NAME in the header block HEAD, or NULL. */
static const char *header(const char *head, const char *name, char *buf,
			  size_t size)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(head, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			size_t n = strcspn(v, "\r\n");
			if (n >= size)
				n = size - 1;
			memcpy(buf, v, n);
			buf[n] = '\0';
			return buf;
		}
	}
	return NULL;
}

static void log_request(const char *head, const struct fault *f)
{
	/* "METHOD URI HTTP/1.1\r\n..." -> "METHOD URI\n" */
	const char *sp1 = strchr(head, ' ');
	const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	const char *eol = strstr(head, "\r\n");
	size_t n = sp2 && (!eol || sp2 < eol) ? (size_t)(sp2 - head)
	                                       : eol ? (size_t)(eol - head)
	                                             : strlen(head);
	char out[8192], v[256];
	if (n > sizeof out - 300)
		n = sizeof out - 300;
	memcpy(out, head, n);
	int k = 0;
	if (header(head, "If-None-Match", v, sizeof v))
		k = snprintf(out + n, 280, " [If-None-Match: %.200s]", v);
	if (k > 0)
		n += (size_t)k;
	if (f->kind != PASS)
		n += (size_t)snprintf(out + n, 20, " [fault %s]",
				      kind_names[f->kind]);
	out[n] = '\n';
	(void)!write(log_fd, out, n + 1);
}

static int write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Close with an RST, as a peer that drops the connection does. */
static void reset_close(int fd)
{
	struct linger l = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

/* ---- one connection ----------------------------------------------------- */

enum state { HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILER };
enum fate { FORWARD, SWALLOW, CLOSE };

struct conn {
	int c, s;     /* client, server (-1 until connected) */
	enum state st;
	char line[65536]; /* a request head, or a chunk-size or trailer line */
	size_t len;
	unsigned long long left; /* body or chunk bytes still to come */
	enum fate fate; /* of the current request's bytes */
	char method[16];
	/* cut the answer to the request just forwarded: its head is
	 * gathered in ans, then part of it goes out and the link drops */
	int cut;
	char ans[65536];
	size_t ans_len;
	/* bytes for the server, sent at the end of each read */
	char out[65536];
	size_t out_len;
};

static int out_flush(struct conn *k)
{
	int r = k->out_len ? write_all(k->s, k->out, k->out_len) : 0;
	k->out_len = 0;
	return r;
}

static int out_add(struct conn *k, const char *b, size_t n)
{
	if (k->fate != FORWARD)
		return 0;
	if (k->out_len + n > sizeof k->out && out_flush(k) < 0)
		return -1;
	if (n > sizeof k->out)
		return write_all(k->s, b, n);
	memcpy(k->out + k->out_len, b, n);
	k->out_len += n;
	return 0;
}

/* Answer the request in hand with F's status and the store's error body,
 * then close: the rest of its body is drained first, so that the client
 * reads the answer rather than a reset. */
static void answer_error(struct conn *k, const struct fault *f)
{
	char body[512], head[1024];
	int bl, hl;
	const char *type = "application/xml", *extra = "";
	char azhdr[128] = "";

	if (!strcmp(flavor, "gcs")) {
		type = "application/json";
		bl = snprintf(body, sizeof body,
			      "{\"error\":{\"code\":%ld,\"message\":\"%s "
			      "injected by faultproxy\",\"errors\":"
			      "[{\"reason\":\"%s\"}]}}", f->arg, f->error,
			      f->error);
	} else {
		if (!strcmp(flavor, "azblob")) {
			snprintf(azhdr, sizeof azhdr,
				 "x-ms-error-code: %s\r\n", f->error);
			extra = azhdr;
		}
		bl = snprintf(body, sizeof body,
			      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			      "<Error><Code>%s</Code><Message>injected by "
			      "faultproxy</Message></Error>", f->error);
	}
	hl = snprintf(head, sizeof head,
		      "HTTP/1.1 %ld Injected\r\nContent-Type: %s\r\n"
		      "Content-Length: %d\r\n%sConnection: close\r\n\r\n",
		      f->arg, type, bl, extra);
	if (write_all(k->c, head, (size_t)hl) == 0 && strcmp(k->method, "HEAD"))
		(void)write_all(k->c, body, (size_t)bl);
	shutdown(k->c, SHUT_WR);
	struct pollfd p = { .fd = k->c, .events = POLLIN };
	char sink[4096];
	for (int i = 0; i < 40 && poll(&p, 1, 50) >= 0; i++) {
		if (!p.revents)
			continue;
		if (read(k->c, sink, sizeof sink) <= 0)
			break;
	}
}

/* How feed() and on_head() end a connection: with a reset, or closed
 * after an answer the client must read. */
enum { END_RESET = -1, END_CLOSE = -2 };

/* A request head is complete in k->line: decide its fate.  Returns
 * END_RESET or END_CLOSE when the connection is to end now. */
static int on_head(struct conn *k)
{
	int sp = (int)strcspn(k->line, " ");
	snprintf(k->method, sizeof k->method, "%.*s", sp, k->line);
	struct fault f = fault_for(k->method);
	log_request(k->line, &f);
	k->fate = FORWARD;
	switch (f.kind) {
	case LATENCY:
		sleep_ms(f.arg);
		break;
	case RESET:
		return END_RESET;
	case STATUS:
		answer_error(k, &f);
		return END_CLOSE;
	case CUT:
		k->cut = 1;
		k->ans_len = 0;
		break;
	case STALL:
		k->fate = SWALLOW;
		return 0;
	default:
		break;
	}
	return out_add(k, k->line, k->len);
}

/* Feed N bytes the client sent: requests are forwarded, held or
 * answered here as their heads decide.  Negative (END_*) ends the
 * connection. */
static int feed(struct conn *k, const char *data, size_t n)
{
	size_t i = 0;
	if (k->fate == SWALLOW)
		return 0; /* a stalled connection stays stalled */
	while (i < n) {
		if (k->st == BODY || k->st == CHUNK_DATA) {
			size_t take = n - i;
			if (take > k->left)
				take = (size_t)k->left;
			if (out_add(k, data + i, take) < 0)
				return -1;
			i += take;
			k->left -= take;
			if (!k->left) {
				k->st = k->st == BODY ? HEAD : CHUNK_CRLF;
				k->len = 0;
			}
			continue;
		}
		if (k->len >= sizeof k->line - 1)
			return -1; /* a head larger than 64 KiB: give up */
		char ch = data[i++];
		k->line[k->len++] = ch;
		k->line[k->len] = '\0';
		if (k->st != HEAD && out_add(k, &ch, 1) < 0)
			return -1;
		switch (k->st) {
		case HEAD: {
			if (k->len == 2 && !strcmp(k->line, "\r\n")) {
				k->len = 0; /* stray CRLF between requests */
				break;
			}
			if (k->len < 4 || strcmp(k->line + k->len - 4, "\r\n\r\n"))
				break;
			int r = on_head(k);
			if (r < 0)
				return r;
			if (k->fate == SWALLOW)
				return 0;
			char v[64];
			if (header(k->line, "Transfer-Encoding", v, sizeof v) &&
			    strcasestr(v, "chunked")) {
				k->st = CHUNK_SIZE;
			} else if (header(k->line, "Content-Length", v,
					  sizeof v) && strtoull(v, NULL, 10) > 0) {
				k->left = strtoull(v, NULL, 10);
				k->st = BODY;
			}
			k->len = 0;
			break;
		}
		case CHUNK_SIZE:
			if (k->len < 2 || strcmp(k->line + k->len - 2, "\r\n"))
				break;
			k->left = strtoull(k->line, NULL, 16);
			k->st = k->left ? CHUNK_DATA : TRAILER;
			k->len = 0;
			break;
		case CHUNK_CRLF:
			if (k->len == 2) {
				k->len = 0;
				k->st = CHUNK_SIZE;
			}
			break;
		case TRAILER: /* ends with an empty line */
			if (k->len < 2 || strcmp(k->line + k->len - 2, "\r\n"))
				break;
			if (k->len == 2)
				k->st = HEAD;
			k->len = 0;
			break;
		default:
			break;
		}
	}
	return out_flush(k);
}

/* Bytes of the server's answer while a cut is due: gather the head,
 * then pass on part of the answer and end.  -1 ends the connection. */
static int cut_answer(struct conn *k, const char *data, size_t n)
{
	if (n > sizeof k->ans - 1 - k->ans_len)
		n = sizeof k->ans - 1 - k->ans_len;
	memcpy(k->ans + k->ans_len, data, n);
	k->ans_len += n;
	k->ans[k->ans_len] = '\0';
	char *end = strstr(k->ans, "\r\n\r\n");
	if (!end && k->ans_len < sizeof k->ans - 1)
		return 0;
	size_t head = end ? (size_t)(end + 4 - k->ans) : k->ans_len;
	char v[32];
	unsigned long long body = 0;
	if (end && strcmp(k->method, "HEAD") &&
	    header(k->ans, "Content-Length", v, sizeof v))
		body = strtoull(v, NULL, 10);
	/* half the body, or half the head when there is no body; a body
	 * still on its way is cut where it has reached */
	size_t upto = body ? head + (size_t)(body / 2) : head / 2;
	if (upto > k->ans_len)
		upto = k->ans_len;
	(void)write_all(k->c, k->ans, upto);
	return -1;
}

/* Wait while the network is a black hole: no byte moves either way.
 * Returns -1 when the client gave up meanwhile. */
static int wait_out_blackhole(int c)
{
	while (blackholed()) {
		struct pollfd p = { .fd = c, .events = POLLRDHUP };
		if (poll(&p, 1, 50) > 0 && (p.revents & (POLLRDHUP | POLLHUP |
							 POLLERR)))
			return -1;
	}
	return 0;
}

static void *relay(void *arg)
{
	struct conn *k = calloc(1, sizeof *k);
	char *buf = malloc(1 << 16);
	int c = (int)(long)arg, one = 1, rst = 0;

	if (!k || !buf)
		goto out;
	k->c = c;
	k->s = -1;
	if (wait_out_blackhole(c) < 0)
		goto out;
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)target_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	k->s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (k->s < 0 || connect(k->s, (struct sockaddr *)&a, sizeof a) < 0)
		goto out;
	setsockopt(k->s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct pollfd f[2] = { { .fd = c, .events = POLLIN },
			       { .fd = k->s, .events = POLLIN } };
	for (;;) {
		int r = poll(f, 2, faults_path ? 50 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (faults_path && wait_out_blackhole(c) < 0)
			break;
		if (f[0].revents) {
			ssize_t n = read(c, buf, 1 << 16);
			if (n <= 0)
				break;
			int r = feed(k, buf, (size_t)n);
			if (r < 0) {
				rst = r == END_RESET;
				break;
			}
		}
		if (f[1].revents) {
			ssize_t n = read(k->s, buf, 1 << 16);
			if (n <= 0)
				break;
			if (k->fate == SWALLOW)
				continue; /* a stalled request's answer */
			if (k->cut) {
				if (cut_answer(k, buf, (size_t)n) < 0) {
					rst = 1;
					break;
				}
				continue;
			}
			if (write_all(c, buf, (size_t)n) < 0)
				break;
		}
	}
out:
	if (k && k->s >= 0)
		close(k->s);
	if (rst)
		reset_close(c);
	else
		close(c);
	free(k);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: faultproxy TARGET_PORT LOG "
			"[LISTEN_PORT] [FAULTS [s3|azblob|gcs]]\n");
		return 2;
	}
	target_port = atoi(argv[1]);
	log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		      0644);
	if (log_fd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (argc > 4 && argv[4][0])
		faults_path = argv[4];
	if (argc > 5)
		flavor = argv[5];
	signal(SIGPIPE, SIG_IGN);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)(argc > 3
							      ? atoi(argv[3])
							      : 0)),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 ||
	    listen(l, 128) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &al) < 0) {
		perror("faultproxy: listen");
		return 1;
	}
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("faultproxy: accept");
			return 1;
		}
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &at, relay, (void *)(long)c) != 0)
			close(c);
		pthread_attr_destroy(&at);
	}
}
