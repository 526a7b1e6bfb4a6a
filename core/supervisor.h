/* supervisor: the process the user starts.  It runs no plugin code: it
 * forks a worker per [backend] that has mounts, reports start-up once all
 * of them serve, forwards SIGINT/SIGTERM to them, and restarts one that
 * crashed (docs/isolation.md). */
#ifndef SCOPEFS_SUPERVISOR_H
#define SCOPEFS_SUPERVISOR_H

#include "config.h"

/* Serve C's mounts until SIGINT/SIGTERM or until every worker ended
 * cleanly; returns the exit status (0, or 1 when start-up failed).
 * DAEMON_FD: daemon_fork()'s fd, or -1 in the foreground.  A worker
 * process never returns from here: it exits with worker_serve()'s status
 * after freeing what the fork copied, C included. */
int supervise(struct config *c, const char *opts, int daemon_fd);

#endif
