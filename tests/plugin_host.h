/*
 * plugin_host: the host side of the plugin unit tests (tests/unit/
 * test_PLUGIN_plugin.c): what the core would give a plugin (log, which
 * keeps every line for the "never logged" checks, set_error, config_get,
 * parse_size), a backend's keys, configure / mount / close in the core's
 * order, and loading the plugin's .so.  Define PLUGIN_HOST_LABEL (the
 * plugin's name, for log lines) before including it.
 */
#ifndef SCOPEFS_TEST_PLUGIN_HOST_H
#define SCOPEFS_TEST_PLUGIN_HOST_H

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <scopefs/plugin.h>
#include "config.h"

#ifndef PLUGIN_HOST_LABEL
#error "define PLUGIN_HOST_LABEL before including plugin_host.h"
#endif

/* ---- the host side: what the core would give the plugin ---- */

#define MAX_KEYS 32

struct backend {
	struct scopefs_host host; /* first: config_get casts back */
	const char *key[MAX_KEYS];
	const char *value[MAX_KEYS];
	int nkeys;
	void *handle;
};

static char last_error[2048];
static void *so;
static const struct scopefs_plugin *plugin;
static const struct scopefs_object_ops *ops;

/* Every line the plugin logs, at any level, for the "never logged"
 * checks (secrets). */
static char logbuf[1 << 16];
static size_t loglen;

static void host_log(const struct scopefs_host *h, int level,
		     const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	(void)h;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n > 0 && loglen + (size_t)n + 2 < sizeof logbuf) {
		memcpy(logbuf + loglen, line, (size_t)n);
		loglen += (size_t)n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
	if (getenv("SCOPEFS_TEST_VERBOSE") || level <= SCOPEFS_LOG_ERROR)
		fprintf(stderr, "  [%s log %d] %s\n", PLUGIN_HOST_LABEL,
			level, line);
}

static void host_set_error(const struct scopefs_host *h, const char *fmt,
			   ...)
{
	va_list ap;

	(void)h;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

static const char *host_config_get(const struct scopefs_host *h,
				   const char *key)
{
	const struct backend *b = (const struct backend *)h;

	for (int i = b->nkeys - 1; i >= 0; i--)
		if (strcmp(b->key[i], key) == 0)
			return b->value[i];
	return NULL;
}

static int host_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	int rc = config_parse_size(s, &v);

	if (rc == 0)
		*out = v;
	return rc;
}

static void backend_init(struct backend *b)
{
	memset(b, 0, sizeof *b);
	b->host.struct_size = sizeof b->host;
	b->host.abi_major = SCOPEFS_ABI_MAJOR;
	b->host.abi_minor = SCOPEFS_ABI_MINOR;
	b->host.backend_name = "test";
	b->host.log = host_log;
	b->host.set_error = host_set_error;
	b->host.config_get = host_config_get;
	b->host.parse_bool = config_parse_bool;
	b->host.parse_size = host_parse_size;
	b->host.cache_dir = "/tmp";
}

static void set(struct backend *b, const char *key, const char *value)
{
	cr_assert_lt(b->nkeys, MAX_KEYS);
	b->key[b->nkeys] = key;
	b->value[b->nkeys] = value;
	b->nkeys++;
}

/* backend_open + config (in order) + config_complete: the first error. */
static int configure(struct backend *b)
{
	int rc;

	last_error[0] = '\0';
	rc = plugin->backend_open(&b->host, &b->handle);
	if (rc < 0)
		return rc;
	for (int i = 0; i < b->nkeys; i++) {
		/* Later duplicates win, as in the core: skip overridden. */
		int later = 0;
		for (int j = i + 1; j < b->nkeys; j++)
			later |= strcmp(b->key[i], b->key[j]) == 0;
		if (!later && (rc = plugin->config(b->handle, b->key[i],
						   b->value[i])) < 0)
			return rc;
	}
	return plugin->config_complete(b->handle);
}

static void close_backend(struct backend *b)
{
	if (b->handle)
		plugin->backend_close(b->handle);
	b->handle = NULL;
}

/* A prefix of its own for each test process. */
static const char *test_prefix(const char *name)
{
	static char p[128];

	snprintf(p, sizeof p, "t/%s-%d-%ld", name, (int)getpid(),
		 (long)time(NULL));
	return p;
}

static void *mount_or_die(struct backend *b, const char *prefix)
{
	void *m = NULL;
	int rc;

	cr_assert_eq(configure(b), 0, "configure: %s", last_error);
	rc = plugin->mount_open(b->handle, prefix, 0, &m);
	cr_assert_eq(rc, 0, "mount_open: %d %s", rc, last_error);
	return m;
}

static int port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* A port nobody listens on: bound, then closed. */
static __attribute__((unused)) int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* dlopen $O/plugins/NAME/scopefs-NAME.so into so, plugin and ops. */
static void load_plugin(const char *name)
{
	const char *o = getenv("O");
	char path[4096];
	const struct scopefs_plugin *(*entry)(void);

	snprintf(path, sizeof path, "%s/plugins/%s/scopefs-%s.so",
		 o && o[0] ? o : ".", name, name);
	so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(so, "dlopen %s: %s (run `make` first, from the "
			   "repository root)", path, dlerror());
	*(void **)&entry = dlsym(so, SCOPEFS_PLUGIN_ENTRY_NAME);
	cr_assert_not_null(entry);
	plugin = entry();
	ops = plugin->object;
	loglen = 0;
	logbuf[0] = '\0';
}

#endif
