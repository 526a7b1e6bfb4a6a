/* backend: one instance of a plugin per [backend NAME] section, from
 * loading through configuration to closing, and the host services the
 * plugin calls back into. */
#ifndef SCOPEFS_BACKEND_H
#define SCOPEFS_BACKEND_H

#include <pthread.h>
#include <stddef.h>
#include <scopefs/plugin.h>
#include "config.h"
#include "loader.h"
#include "metrics.h"
#include "objfs.h"

struct backend {
	const struct config *conf;
	const struct cfg_backend *cfg;
	struct plugin *plugin;
	struct scopefs_host host; /* handed to the plugin; host.backend_name */
	void *handle;             /* the plugin's backend instance */
	pthread_mutex_t lock;     /* SCOPEFS_THREAD_SERIALIZE_BACKEND */
	/* Object plugins: the object layer's keys of this section (the
	 * core keeps them; the plugin never sees them). */
	struct objfs_params objparams;
	struct mx_backend *mx;    /* its metrics slot, or NULL */
};

/* Load, open, configure (each key) and complete every backend of the
 * config, or only the one named ONLY (a worker's; the others stay closed,
 * plugin NULL).  Errors name FILE:LINE: [backend NAME] key: message; on
 * failure nothing stays open. */
int backends_open(const struct config *c, const char *only,
		  struct backend **out, char *err, size_t errlen);
void backends_close(struct backend *b, size_t n);
struct backend *backend_find(struct backend *b, size_t n, const char *name);

/* The message the plugin gave with host->set_error in this thread since the
 * last call to host_clear_error(), or "" when it gave none. */
const char *host_last_error(void);
void host_clear_error(void);
/* Fill a host struct for backend B. */
void host_init(struct scopefs_host *h, struct backend *b);

#endif
