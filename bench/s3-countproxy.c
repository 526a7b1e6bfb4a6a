/* s3-countproxy: the request counter of bench/objstore.sh (s3, azblob).  A TCP proxy on
 * 127.0.0.1:LISTEN that forwards every connection to 127.0.0.1:TARGET and
 * appends one line per HTTP request the client sends to LOG:
 *
 *   METHOD REQUEST-URI [copy]
 *
 * ("copy" when the request carries x-amz-copy-source or x-ms-copy-source).  Each line is one
 * write(2) to a file opened O_APPEND, written as soon as the request's
 * header block has arrived, so once a client's call has returned every
 * request it sent is in LOG, and `wc -l` before and after a workload
 * brackets that workload's requests.  Every tool of the benchmark goes
 * through the same proxy, so its cost (one extra loopback hop) is the same
 * for all of them.
 *
 *   s3-countproxy LISTEN_PORT TARGET_PORT LOG
 *
 * Prints "ready" on stdout once it accepts connections; SIGTERM ends it.
 * The client's stream is parsed (request line, headers, then a body of
 * Content-Length bytes or a chunked body, then the next request on the
 * same connection); the server's answers are copied through unparsed.
 * Two threads per connection, one per direction; 256 KiB buffers.
 *
 * Build: cc -O2 -pthread -o s3-countproxy s3-countproxy.c */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024)
#define HEAD_MAX (64 * 1024)

static int target_port;
static int log_fd;

struct conn {
	int client, server;
	atomic_int refs;
};

static void conn_put(struct conn *c)
{
	if (atomic_fetch_sub(&c->refs, 1) == 1) {
		close(c->client);
		close(c->server);
		free(c);
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* --- the request parser of one client stream -------------------------------- */

enum state { S_HEAD, S_BODY, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF, S_TRAILER };

struct parser {
	enum state st;
	char head[HEAD_MAX + 1]; /* the header block, a chunk-size or trailer line */
	size_t len;
	unsigned long long left; /* body or chunk bytes still to come */
};

/* The value of header NAME in the header block HEAD (NUL-terminated), or NULL. */
static const char *header(const char *head, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p && p[2] != '\r' && p[2] != '\0') {
		const char *line = p + 2, *eol = strstr(line, "\r\n");

		if (!eol)
			break;
		if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			return v;
		}
		p = eol;
	}
	return NULL;
}

/* A complete header block: log it, and set up the body that follows. */
static void request(struct parser *ps)
{
	const char *eol = strstr(ps->head, "\r\n"), *v;
	char out[8192];
	size_t n = eol ? (size_t)(eol - ps->head) : strlen(ps->head), vlen;
	const char *sp = memrchr(ps->head, ' ', n);

	/* "METHOD URI HTTP/1.1" -> "METHOD URI" */
	if (sp && strncmp(sp + 1, "HTTP/", 5) == 0)
		n = (size_t)(sp - ps->head);
	if (n > sizeof out - 8)
		n = sizeof out - 8;
	memcpy(out, ps->head, n);
	if (header(ps->head, "x-amz-copy-source", &vlen) ||
	    header(ps->head, "x-ms-copy-source", &vlen)) {
		memcpy(out + n, " copy", 5);
		n += 5;
	}
	out[n++] = '\n';
	if (write(log_fd, out, n) < 0)
		perror("s3-countproxy: log");

	ps->st = S_HEAD;
	ps->left = 0;
	if ((v = header(ps->head, "transfer-encoding", &vlen)) && memmem(v, vlen, "chunked", 7)) {
		ps->st = S_CHUNK_SIZE;
	} else if ((v = header(ps->head, "content-length", &vlen))) {
		ps->left = strtoull(v, NULL, 10);
		if (ps->left)
			ps->st = S_BODY;
	}
	ps->len = 0;
}

/* Accumulate one CRLF-terminated line (or, in S_HEAD, a block ending in an
 * empty line); returns the bytes of P consumed, and sets *done. */
static size_t take_line(struct parser *ps, const char *p, size_t n, int block, int *done)
{
	size_t i;

	*done = 0;
	for (i = 0; i < n; i++) {
		if (ps->len < HEAD_MAX)
			ps->head[ps->len++] = p[i];
		if (p[i] != '\n')
			continue;
		if (!block || (ps->len >= 4 && memcmp(ps->head + ps->len - 4, "\r\n\r\n", 4) == 0) ||
		    ps->len == HEAD_MAX) {
			ps->head[ps->len] = '\0';
			*done = 1;
			return i + 1;
		}
	}
	return n;
}

static void parse(struct parser *ps, const char *p, size_t n)
{
	while (n) {
		size_t used;
		int done;

		switch (ps->st) {
		case S_HEAD:
			/* Stray CRLFs between requests are allowed. */
			if (ps->len == 0 && (*p == '\r' || *p == '\n')) {
				p++, n--;
				continue;
			}
			used = take_line(ps, p, n, 1, &done);
			if (done)
				request(ps);
			break;
		case S_BODY:
		case S_CHUNK_DATA:
			used = n < ps->left ? n : (size_t)ps->left;
			ps->left -= used;
			if (!ps->left)
				ps->st = ps->st == S_BODY ? S_HEAD : S_CHUNK_CRLF;
			break;
		case S_CHUNK_CRLF:
			used = take_line(ps, p, n, 0, &done);
			if (done) {
				ps->len = 0;
				ps->st = S_CHUNK_SIZE;
			}
			break;
		case S_CHUNK_SIZE:
			used = take_line(ps, p, n, 0, &done);
			if (done) {
				ps->left = strtoull(ps->head, NULL, 16);
				ps->len = 0;
				ps->st = ps->left ? S_CHUNK_DATA : S_TRAILER;
			}
			break;
		case S_TRAILER:
		default:
			/* trailer lines until an empty one */
			used = take_line(ps, p, n, 0, &done);
			if (done) {
				int empty = ps->len <= 2;

				ps->len = 0;
				if (empty)
					ps->st = S_HEAD;
			}
			break;
		}
		p += used;
		n -= used;
	}
}

/* --- the two directions ---------------------------------------------------- */

static void *upstream(void *arg) /* client -> server, parsed */
{
	struct conn *c = arg;
	struct parser *ps = calloc(1, sizeof *ps);
	char *buf = malloc(BUF_SIZE);

	for (;;) {
		ssize_t r;

		if (!ps || !buf)
			break;
		r = recv(c->client, buf, BUF_SIZE, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		parse(ps, buf, (size_t)r);
		if (write_all(c->server, buf, (size_t)r) < 0)
			break;
	}
	shutdown(c->server, SHUT_WR);
	shutdown(c->client, SHUT_RD);
	free(ps);
	free(buf);
	conn_put(c);
	return NULL;
}

static void *downstream(void *arg) /* server -> client, copied */
{
	struct conn *c = arg;
	char *buf = malloc(BUF_SIZE);

	for (;;) {
		ssize_t r;

		if (!buf)
			break;
		r = recv(c->server, buf, BUF_SIZE, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (write_all(c->client, buf, (size_t)r) < 0)
			break;
	}
	shutdown(c->client, SHUT_WR);
	shutdown(c->server, SHUT_RD);
	free(buf);
	conn_put(c);
	return NULL;
}

static int connect_target(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)target_port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	pthread_attr_t attr;
	int lfd, one = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: s3-countproxy LISTEN_PORT TARGET_PORT LOG\n");
		return 2;
	}
	target_port = atoi(argv[2]);
	log_fd = open(argv[3], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		perror(argv[3]);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 256) < 0) {
		perror("s3-countproxy: listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), sfd;
		struct conn *c;
		pthread_t th;

		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE)
				continue;
			perror("s3-countproxy: accept");
			return 1;
		}
		setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		sfd = connect_target();
		if (sfd < 0) {
			perror("s3-countproxy: connect to the server");
			close(cfd);
			continue;
		}
		c = malloc(sizeof *c);
		if (!c) {
			close(cfd);
			close(sfd);
			continue;
		}
		c->client = cfd;
		c->server = sfd;
		atomic_init(&c->refs, 2);
		if (pthread_create(&th, &attr, upstream, c) != 0) {
			close(cfd);
			close(sfd);
			free(c);
			continue;
		}
		if (pthread_create(&th, &attr, downstream, c) != 0) {
			/* upstream owns one reference; drop the other and stop it */
			shutdown(cfd, SHUT_RDWR);
			conn_put(c);
		}
	}
}
