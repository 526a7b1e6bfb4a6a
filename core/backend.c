/* backend: load, open, configure and close plugin instances. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "log.h"

/* Append a formatted line to err (which always stays NUL-terminated). */
static void err_add(char *err, size_t errlen, const char *fmt, ...)
	SCOPEFS_PRINTF(3, 4);
static void err_add(char *err, size_t errlen, const char *fmt, ...)
{
	size_t used = strlen(err);
	va_list ap;

	if (used + 1 >= errlen)
		return;
	if (used) {
		err[used++] = '\n';
		err[used] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(err + used, errlen - used, fmt, ap);
	va_end(ap);
}

static const char *reason(int r)
{
	const char *e = host_last_error();
	return *e ? e : strerror(-r);
}

/* Open one backend; on failure leave it closed with a message in err. */
static int backend_open_one(const struct config *c, struct backend *b,
			    char *err, size_t errlen)
{
	const struct cfg_backend *cb = b->cfg;
	const char *dir = loader_plugin_dir(c->plugin_dir);
	char lerr[1024] = "";
	int r, bad = 0;

	r = loader_load(cb->plugin, dir, &b->plugin, lerr, sizeof lerr);
	if (r < 0) {
		err_add(err, errlen, "%s:%d: [backend %s] plugin: %s", c->file,
			cb->plugin_line, cb->name, lerr);
		return r;
	}
	host_init(&b->host, b);
	objfs_params_default(&b->objparams);
	host_clear_error();
	r = b->plugin->desc.backend_open(&b->host, &b->handle);
	if (r < 0) {
		err_add(err, errlen, "%s:%d: [backend %s]: plugin %s: %s",
			c->file, cb->line, cb->name, b->plugin->desc.name,
			reason(r));
		goto fail;
	}
	for (size_t i = 0; i < cb->nkeys; i++) {
		const struct cfg_kv *kv = &cb->keys[i];

		host_clear_error();
		if (b->plugin->has_obj && objfs_is_core_key(kv->key)) {
			char why[256];
			r = objfs_parse_key(&b->objparams, kv->key, kv->value,
					    why, sizeof why);
			if (r < 0)
				err_add(err, errlen, "%s:%d: [backend %s] %s: %s",
					c->file, kv->line, cb->name, kv->key,
					why);
			bad |= r < 0;
			continue;
		}
		r = b->plugin->desc.config
			? b->plugin->desc.config(b->handle, kv->key, kv->value)
			: -EINVAL;
		if (r < 0) {
			bad = 1;
			err_add(err, errlen, "%s:%d: [backend %s] %s: %s",
				c->file, kv->line, cb->name, kv->key,
				b->plugin->desc.config ? reason(r)
						       : "this plugin takes no keys");
		}
	}
	if (!bad) {
		host_clear_error();
		r = b->plugin->desc.config_complete(b->handle);
		if (r < 0)
			err_add(err, errlen, "%s:%d: [backend %s]: %s", c->file,
				cb->line, cb->name, reason(r));
	} else {
		r = -EINVAL;
	}
	if (r < 0)
		goto fail;
	return 0;
fail:
	/* A key error was reported per key; keep checking the others
	 * (above) so the user sees every mistake at once. */
	if (b->handle)
		b->plugin->desc.backend_close(b->handle);
	b->handle = NULL;
	loader_unload(b->plugin);
	b->plugin = NULL;
	return r < 0 ? r : -EINVAL;
}

int backends_open(const struct config *c, const char *only,
		  struct backend **out, char *err, size_t errlen)
{
	struct backend *b = calloc(c->nbackends ? c->nbackends : 1, sizeof *b);
	int ret = 0;

	if (!b)
		return -ENOMEM;
	if (errlen)
		err[0] = '\0';
	for (size_t i = 0; i < c->nbackends; i++) {
		b[i].conf = c;
		b[i].cfg = &c->backends[i];
		pthread_mutex_init(&b[i].lock, NULL);
		if (only && strcmp(only, b[i].cfg->name) != 0)
			continue;
		int r = backend_open_one(c, &b[i], err, errlen);
		if (r < 0 && !ret)
			ret = r;
	}
	if (ret < 0) {
		backends_close(b, c->nbackends);
		return ret;
	}
	*out = b;
	return 0;
}

void backends_close(struct backend *b, size_t n)
{
	if (!b)
		return;
	for (size_t i = 0; i < n; i++) {
		if (b[i].handle)
			b[i].plugin->desc.backend_close(b[i].handle);
		if (b[i].plugin)
			loader_unload(b[i].plugin);
		pthread_mutex_destroy(&b[i].lock);
	}
	free(b);
}

struct backend *backend_find(struct backend *b, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(b[i].cfg->name, name) == 0)
			return &b[i];
	return NULL;
}
