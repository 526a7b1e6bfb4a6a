/* metrics_http: a minimal HTTP/1.0 server for one path, GET /metrics, and
 * the client `scopefs status` reads it with.  The listener is polled by
 * the supervisor's loop; each answer is written at once (a few tens of
 * kB), with timeouts so a slow client never holds the supervisor. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

#define IO_TIMEOUT_MS 2000

int metrics_listen(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, one = 1, r;

	if ((r = metrics_parse_addr(addr, &sa, &len, err, errlen)) < 0)
		return r;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		goto fail;
	if (sa.ss_family == AF_UNIX) {
		/* a socket file left by a daemon that died: replace it, but
		 * never a file of another kind */
		struct stat st;
		const char *path = ((struct sockaddr_un *)&sa)->sun_path;
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	}
	if (bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 16) < 0)
		goto fail;
	if (sa.ss_family == AF_UNIX)
		chmod(((struct sockaddr_un *)&sa)->sun_path, 0600);
	return fd;
fail:
	r = -errno;
	snprintf(err, errlen, "metrics = %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

/* Wait until FD is ready for EVENTS or the deadline passes. */
static int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	while ((r = poll(&p, 1, IO_TIMEOUT_MS)) < 0 && errno == EINTR)
		;
	return r > 0 ? 0 : -ETIMEDOUT;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (errno == EAGAIN && wait_fd(fd, POLLOUT) < 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n <= 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void reply(int fd, const char *status, const char *type,
		  const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof head,
			 "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, type, len);

	if (write_all(fd, head, (size_t)n) == 0)
		write_all(fd, body, len);
}

void metrics_answer(int lfd)
{
	char req[4096];
	size_t got = 0;
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	/* the request line and headers, up to the blank line */
	while (got < sizeof req - 1) {
		ssize_t n = read(fd, req + got, sizeof req - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && wait_fd(fd, POLLIN) == 0)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET /metrics ", 13) == 0 ||
	    strncmp(req, "GET /metrics?", 13) == 0) {
		char *body = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&body, &len);
		if (f) {
			metrics_write(metrics_shared(), f);
			fclose(f);
			reply(fd, "200 OK", "text/plain; version=0.0.4", body,
			      len);
		}
		free(body);
	} else if (got) {
		static const char msg[] = "scopefs serves /metrics only\n";
		reply(fd, "404 Not Found", "text/plain", msg, sizeof msg - 1);
	}
	close(fd);
}

int metrics_fetch(const char *addr, char **body, char *err, size_t errlen)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct sockaddr_storage sa;
	socklen_t len;
	char *buf = NULL, *sep;
	size_t cap = 0, got = 0;
	int fd, r;

	*body = NULL;
	if ((r = metrics_parse_addr(addr, &sa, &len, err, errlen)) < 0)
		return r;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot reach the daemon's metrics at "
			 "%s: %s (is it running with metrics = %s?)", addr,
			 strerror(errno), addr);
		if (fd >= 0)
			close(fd);
		return r;
	}
	struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (write_all(fd, req, sizeof req - 1) < 0) {
		snprintf(err, errlen, "%s: cannot send the request", addr);
		close(fd);
		return -EIO;
	}
	for (;;) {
		if (got + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t n = read(fd, buf + got, cap - got - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if (!buf) {
		snprintf(err, errlen, "%s: empty answer", addr);
		return -EIO;
	}
	buf[got] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (r < 0 || strncmp(buf, "HTTP/1.0 200", 12) != 0 || !sep) {
		snprintf(err, errlen, "%s: %s", addr,
			 r < 0 ? strerror(-r) : "not a scopefs metrics answer");
		free(buf);
		return r < 0 ? r : -EIO;
	}
	memmove(buf, sep + 4, got - (size_t)(sep + 4 - buf) + 1);
	*body = buf;
	return 0;
}
