/*
 * Metrics on any mount (the local backend here; the object stores'
 * store and HTTP counts are checked against the wire in
 * objects/metrics_count_what_went_on_the_wire): the kernel's requests
 * counted once each by operation, errors by operation, the listener on
 * TCP answering /metrics and refusing other paths, scopefs status, and a
 * bad address refused at file:line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include "mount_fixture.h"

TestSuite(metrics, .fini = fx_teardown, .timeout = 60);

/* A port nobody listens on now (the kernel's pick). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	cr_assert(port > 0, "no free port");
	return port;
}

/* GET PATH from 127.0.0.1:PORT; the whole answer, malloc'd. */
static char *http_get(int port, const char *path)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FX_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0,
		  "connect 127.0.0.1:%d: %s", port, strerror(errno));
	const char *req = fx_fmt("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
				 path);
	FX_ASSERT(write(fd, req, strlen(req)) == (ssize_t)strlen(req),
		  "send: %s", strerror(errno));
	size_t cap = 1 << 20, got = 0;
	char *buf = malloc(cap);
	cr_assert(buf);
	ssize_t n;
	while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return buf;
}

/* The value of the sample NAME{...LABEL...} (first match), or -1. */
static double sample(const char *text, const char *name, const char *label)
{
	size_t nl = strlen(name);
	for (const char *l = text; l && *l;) {
		const char *eol = strchr(l, '\n');
		if (!strncmp(l, name, nl) && l[nl] == '{') {
			const char *hit = strstr(l, label);
			if (hit && (!eol || hit < eol)) {
				const char *sp = strchr(l, '}');
				return sp ? strtod(sp + 1, NULL) : -1;
			}
		}
		l = eol ? eol + 1 : NULL;
	}
	return -1;
}

Test(metrics, every_request_of_the_kernel_is_counted_once_by_operation)
{
	enum { N = 7 };
	static char keys[64];
	int port = free_port();
	snprintf(keys, sizeof keys, "metrics = 127.0.0.1:%d\n", port);
	fx.scopefs_keys = keys;
	const struct fx_mount m[] = { { "user_storage", "user", NULL } };
	fx_start(NULL, m, 1);

	FX_OK(mkdir(fx_mpath(0, "d"), 0755));
	for (int i = 0; i < N; i++)
		FX_OK(fx_write_file(fx_mpath(0, fx_fmt("d/f%d", i)), "x", 1,
				    0644));
	for (int i = 0; i < 3; i++)
		FX_OK(unlink(fx_mpath(0, fx_fmt("d/f%d", i))));
	FX_OK(rename(fx_mpath(0, "d/f3"), fx_mpath(0, "d/g3")));
	struct stat st;
	FX_ERRNO(stat(fx_mpath(0, "missing"), &st), ENOENT);

	char *text = http_get(port, "/metrics");
	FX_ASSERT(!strncmp(text, "HTTP/1.0 200", 12) &&
			  strstr(text, "text/plain; version=0.0.4"),
		  "expected a Prometheus answer, saw:\n%.500s", text);
	FX_ASSERT(sample(text, "scopefs_fs_requests_total", "op=\"create\"") == N,
		  "expected %d creates, saw %g:\n%s", N,
		  sample(text, "scopefs_fs_requests_total", "op=\"create\""), text);
	FX_ASSERT(sample(text, "scopefs_fs_requests_total", "op=\"unlink\"") == 3,
		  "expected 3 unlinks, saw %g", sample(text,
		  "scopefs_fs_requests_total", "op=\"unlink\""));
	FX_ASSERT(sample(text, "scopefs_fs_requests_total", "op=\"mkdir\"") == 1,
		  "expected 1 mkdir");
	FX_ASSERT(sample(text, "scopefs_fs_requests_total", "op=\"rename\"") == 1,
		  "expected 1 rename");
	FX_ASSERT(sample(text, "scopefs_fs_errors_total", "op=\"getattr\"") >= 1,
		  "expected the lookup of a missing name among the errors");
	FX_ASSERT(sample(text, "scopefs_fs_errors_total", "op=\"create\"") == 0,
		  "expected no failed create");
	FX_ASSERT(sample(text, "scopefs_fs_latency_seconds_count",
			 "op=\"create\"") == N,
		  "expected %d creates timed", N);
	free(text);

	text = http_get(port, "/other");
	FX_ASSERT(!strncmp(text, "HTTP/1.0 404", 12), "expected 404 for "
		  "/other, saw:\n%.300s", text);
	free(text);

	char *out = NULL;
	int rc = fx_sh(30, &out, "'%s' status '%s' 2>&1", fx.bin, fx.conf);
	FX_ASSERT(rc == 0 && strstr(out, "MOUNT OP") && strstr(out, "create") &&
			  strstr(out, fx.mnt[0]),
		  "scopefs status: expected the mount's operations, saw rc %d:\n%s",
		  rc, out);
	free(out);
}

Test(metrics, a_bad_listener_address_is_refused_at_file_and_line)
{
	fx.scopefs_keys = "metrics = 127.0.0.1\n";
	const struct fx_mount m[] = { { "user_storage", "user", NULL } };
	fx_configure(m, 1);
	char *out = NULL;
	int rc = fx_sh(20, &out, "'%s' check '%s' 2>&1", fx.bin, fx.conf);
	FX_ASSERT(rc == 2 && strstr(out, fx.conf) && strstr(out, "[scopefs]") &&
			  strstr(out, "metrics") && strstr(out, "HOST:PORT"),
		  "expected exit 2 naming the file, section and key, saw rc "
		  "%d:\n%s", rc, out);
	free(out);
	fx.scopefs_keys = "metrics = off\n";
	fx_configure(m, 1);
	rc = fx_sh(20, &out, "'%s' status '%s' 2>&1", fx.bin, fx.conf);
	FX_ASSERT(rc == 2 && strstr(out, "no metrics listener"),
		  "status without a listener: expected exit 2 and why, saw rc "
		  "%d:\n%s", rc, out);
	free(out);
}
