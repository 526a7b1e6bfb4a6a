/*
 * countproxy: a TCP proxy on 127.0.0.1 that forwards every connection to
 * 127.0.0.1:TARGET and logs each HTTP request the client sends, one line
 * "METHOD TARGET-URI" per request (followed by " [If-None-Match: V]" when
 * the request is conditional that way, so tests can see a conditional
 * create on the wire even where the server ignores it), to LOG (appended with one write(2) per
 * line, so a reader sees whole lines).  The tests point the s3 plugin's
 * endpoint at it to count requests by method on the wire.
 *
 *   countproxy TARGET_PORT LOG [LISTEN_PORT]
 *
 * LISTEN_PORT 0 or absent picks a free port; the port is printed on
 * stdout ("PORT\n") once the proxy accepts connections.  SIGTERM or
 * SIGINT ends it.  Requests are found by parsing the client's stream:
 * request line and headers, then a body of Content-Length bytes or a
 * chunked body, then the next request (keep-alive).
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
#include <unistd.h>

static int target_port;
static int log_fd = -1;

enum state { HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILER };

/* The parser of one client stream. */
struct parser {
	enum state st;
	char line[16384]; /* the header block, or a chunk-size line */
	size_t len;
	unsigned long long left; /* body or chunk bytes still to come */
};

static const char *header(const char *head, const char *name, char *buf,
			  size_t size);

static void log_request(const char *head)
{
	/* "METHOD URI HTTP/1.1\r\n..." -> "METHOD URI\n" */
	const char *sp1 = strchr(head, ' ');
	const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	const char *eol = strstr(head, "\r\n");
	size_t n = sp2 && (!eol || sp2 < eol) ? (size_t)(sp2 - head)
	                                       : eol ? (size_t)(eol - head)
	                                             : strlen(head);
	char out[8192];
	if (n > sizeof out - 2)
		n = sizeof out - 2;
	memcpy(out, head, n);
	char v[256];
	if (header(head, "If-None-Match", v, sizeof v)) {
		int k = snprintf(out + n, sizeof out - 1 - n,
				 " [If-None-Match: %s]", v);
		if (k > 0 && (size_t)k < sizeof out - 1 - n)
			n += (size_t)k;
	}
	out[n] = '\n';
	(void)!write(log_fd, out, n + 1);
}

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

/* Feed N bytes the client sent. */
static void parse(struct parser *p, const char *data, size_t n)
{
	size_t i = 0;
	while (i < n) {
		switch (p->st) {
		case HEAD:
		case CHUNK_SIZE:
		case TRAILER: {
			if (p->len < sizeof p->line - 1)
				p->line[p->len++] = data[i];
			i++;
			p->line[p->len] = '\0';
			if (p->st == HEAD) {
				if (p->len == 2 && !strcmp(p->line, "\r\n")) {
					p->len = 0; /* stray CRLF between requests */
					break;
				}
				if (p->len < 4 ||
				    strcmp(p->line + p->len - 4, "\r\n\r\n"))
					break;
				char v[64];
				log_request(p->line);
				if (header(p->line, "Transfer-Encoding", v,
					   sizeof v) && strcasestr(v, "chunked")) {
					p->st = CHUNK_SIZE;
				} else if (header(p->line, "Content-Length", v,
						  sizeof v) &&
					   strtoull(v, NULL, 10) > 0) {
					p->left = strtoull(v, NULL, 10);
					p->st = BODY;
				}
				p->len = 0;
			} else if (p->st == CHUNK_SIZE) {
				if (p->len < 2 ||
				    strcmp(p->line + p->len - 2, "\r\n"))
					break;
				p->left = strtoull(p->line, NULL, 16);
				p->st = p->left ? CHUNK_DATA : TRAILER;
				p->len = 0;
			} else { /* TRAILER: ends with an empty line */
				if (p->len < 2 ||
				    strcmp(p->line + p->len - 2, "\r\n"))
					break;
				int empty = p->len == 2;
				p->len = 0;
				if (empty)
					p->st = HEAD;
			}
			break;
		}
		case BODY:
		case CHUNK_DATA: {
			size_t take = n - i;
			if (take > p->left)
				take = (size_t)p->left;
			i += take;
			p->left -= take;
			if (!p->left) {
				p->st = p->st == BODY ? HEAD : CHUNK_CRLF;
				p->len = 0;
			}
			break;
		}
		case CHUNK_CRLF:
			if (p->len < sizeof p->line - 1)
				p->line[p->len++] = data[i];
			i++;
			if (p->len == 2) {
				p->len = 0;
				p->st = CHUNK_SIZE;
			}
			break;
		}
	}
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

static void *relay(void *arg)
{
	int c = (int)(long)arg, s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)target_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct parser *p = calloc(1, sizeof *p);
	char *buf = malloc(1 << 16);
	if (s < 0 || !p || !buf ||
	    connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		goto out;
	int one = 1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct pollfd f[2] = { { .fd = c, .events = POLLIN },
			       { .fd = s, .events = POLLIN } };
	for (;;) {
		if (poll(f, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (f[0].revents) {
			ssize_t n = read(c, buf, 1 << 16);
			if (n <= 0)
				break;
			parse(p, buf, (size_t)n);
			if (write_all(s, buf, (size_t)n) < 0)
				break;
		}
		if (f[1].revents) {
			ssize_t n = read(s, buf, 1 << 16);
			if (n <= 0)
				break;
			if (write_all(c, buf, (size_t)n) < 0)
				break;
		}
	}
out:
	if (s >= 0)
		close(s);
	close(c);
	free(p);
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: countproxy TARGET_PORT LOG "
			"[LISTEN_PORT]\n");
		return 2;
	}
	target_port = atoi(argv[1]);
	log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		      0644);
	if (log_fd < 0) {
		perror(argv[2]);
		return 1;
	}
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
		perror("countproxy: listen");
		return 1;
	}
	printf("%d\n", ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			perror("countproxy: accept");
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
