/* host: the services the core offers plugins (struct scopefs_host). */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "backend.h"
#include "log.h"

/* set_error is per thread: the core reads it right after the failed call
 * on the same thread, so no lock and no cross-talk between mounts. */
static _Thread_local char last_error[512];

const char *host_last_error(void) { return last_error; }
void host_clear_error(void) { last_error[0] = '\0'; }

static void host_log(const struct scopefs_host *h, int level, const char *fmt,
		     ...)
{
	char who[160];
	va_list ap;

	snprintf(who, sizeof who, "backend %s", h->backend_name);
	va_start(ap, fmt);
	log_vmsg(level, who, fmt, ap);
	va_end(ap);
}

static void host_set_error(const struct scopefs_host *h, const char *fmt, ...)
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
	/* The host struct lives inside its backend (backend.h). */
	const struct backend *b = (const struct backend *)(const void *)
		((const char *)h - offsetof(struct backend, host));
	const char *v = NULL;

	if (strcmp(key, "plugin") == 0)
		return b->cfg->plugin;
	for (size_t i = 0; i < b->cfg->nkeys; i++)
		if (strcmp(b->cfg->keys[i].key, key) == 0)
			v = b->cfg->keys[i].value;
	return v;
}

static int host_parse_bool(const char *s, int *out)
{
	return config_parse_bool(s, out);
}

static int host_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	int r = config_parse_size(s, &v);

	if (r == 0)
		*out = v;
	return r;
}

static void host_count_request(const struct scopefs_host *h,
			       const char *method, int status, int retry,
			       uint64_t sent, uint64_t received,
			       double seconds)
{
	const struct backend *b = (const struct backend *)(const void *)
		((const char *)h - offsetof(struct backend, host));

	metrics_request(b->mx, method, status, retry, sent, received,
			seconds);
}

void host_init(struct scopefs_host *h, struct backend *b)
{
	memset(h, 0, sizeof *h);
	h->struct_size = sizeof *h;
	h->abi_major = SCOPEFS_ABI_MAJOR;
	h->abi_minor = SCOPEFS_ABI_MINOR;
	h->backend_name = b->cfg->name;
	h->log = host_log;
	h->set_error = host_set_error;
	h->config_get = host_config_get;
	h->parse_bool = host_parse_bool;
	h->parse_size = host_parse_size;
	h->config_file = b->conf->file;
	h->cache_dir = b->conf->cache_dir;
	h->count_request = host_count_request;
	b->mx = metrics_backend(b->cfg->name);
}
