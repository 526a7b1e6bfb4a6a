/* worker: serve the mounts of one [backend] in a process of its own, the
 * supervisor's child (docs/isolation.md). */
#ifndef SCOPEFS_WORKER_H
#define SCOPEFS_WORKER_H

#include "config.h"

/* Open backend BACKEND of C, mount each of its [mount]s and serve them
 * until SIGINT/SIGTERM or until every one was unmounted.  One byte on
 * READY_FD (then closed) says 0: all mounted, 1: start failed (and why,
 * on stderr).  DETACH: once serving, stdio to /dev/null and log to syslog
 * (the daemonized case).  Returns the process's exit status: 0 after a
 * clean stop, 1 when it could not start. */
int worker_serve(const struct config *c, const char *backend,
		 const char *opts, int ready_fd, int detach);

#endif
