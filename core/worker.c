/* worker: one backend's mounts, from mounting to unmounting. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "backend.h"
#include "daemon.h"
#include "log.h"
#include "mount.h"
#include "worker.h"

static void on_sigusr1(int sig)
{
	(void)sig; /* only wakes a FUSE loop waiting to notice its exit */
}

static void on_mount_exit(struct mount *m)
{
	(void)m;
	kill(getpid(), SIGUSR2); /* wake the sigwait below */
}

/* How long a stop may wait for calls still in the plugin.  Unmounting
 * waits for every call in flight (a close still uploading, say); one that
 * never returns (a plugin stuck without a timeout of its own) would keep
 * the worker, and the daemon, from ever ending.  Below systemd's
 * TimeoutStopSec (30 s in etc/scopefs@.service). */
#define STOP_GRACE 20

static void *stop_watchdog(void *arg)
{
	const char *backend = arg;

	sleep(STOP_GRACE);
	log_error("backend %s: calls into the plugin have not returned %d s "
		  "after the stop: exiting without them (their callers get "
		  "an error)", backend, STOP_GRACE);
	_exit(1);
	return NULL;
}

/* From the stop on, the worker ends within STOP_GRACE seconds. */
static void arm_stop_watchdog(const char *backend)
{
	pthread_attr_t a;
	pthread_t t;

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, stop_watchdog, (void *)backend) != 0)
		log_warn("backend %s: no stop watchdog: a stuck call could "
			 "keep this worker from ending", backend);
	pthread_attr_destroy(&a);
}

static void report(int *fd, char status)
{
	if (*fd < 0)
		return;
	if (write(*fd, &status, 1) != 1)
		log_warn("could not report start-up to the supervisor");
	close(*fd);
	*fd = -1;
}

/* Block what the loop below waits for.  SIGTERM stays blocked from the
 * supervisor's mask through here, so one sent early waits for sigwait. */
static void take_signals(sigset_t *set)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigusr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, set, NULL);
}

/* Until SIGINT/SIGTERM, or every mount's loop ended (the user unmounted). */
static void wait_for_end(sigset_t *set, struct mount *mounts, size_t n)
{
	for (;;) {
		int sig, live = 0;

		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGINT || sig == SIGTERM) {
			log_info("signal %d: unmounting", sig);
			return;
		}
		for (size_t i = 0; i < n; i++)
			live += __atomic_load_n(&mounts[i].running,
						__ATOMIC_ACQUIRE);
		if (sig == SIGUSR2 && !live) {
			log_info("every mount was unmounted: exiting");
			return;
		}
	}
}

int worker_serve(const struct config *c, const char *backend,
		 const char *opts, int ready_fd, int detach)
{
	struct mount *mounts = calloc(c->nmounts ? c->nmounts : 1,
				      sizeof *mounts);
	struct backend *b = NULL, *be;
	char err[8192];
	sigset_t set;
	size_t started = 0;
	int ret = 1;

	/* Modes from the kernel already carry the caller's umask. */
	umask(0);
	take_signals(&set);
	if (!mounts)
		goto out;
	if (backends_open(c, backend, &b, err, sizeof err) < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		goto out;
	}
	be = backend_find(b, c->nbackends, backend);
	for (size_t i = 0; i < c->nmounts; i++) {
		struct cfg_mount *cm = &c->mounts[i];

		if (strcmp(cm->backend, backend) != 0)
			continue;
		if (mount_start(&mounts[started], cm, be, opts, err,
				sizeof err) < 0) {
			log_error("%s:%d: %s", c->file, cm->line, err);
			goto out;
		}
		started++;
		log_info("[mount %s]: serving %s prefix '%s' of backend %s",
			 cm->path, config_scope_name(cm->scope), cm->prefix,
			 cm->backend);
	}
	for (size_t i = 0; i < started; i++)
		if (mount_run(&mounts[i], on_mount_exit) < 0) {
			log_error("[mount %s]: cannot start threads",
				  mounts[i].cfg->path);
			goto out;
		}
	report(&ready_fd, 0);
	if (detach)
		daemon_detach();
	ret = 0;
	wait_for_end(&set, mounts, started);
	arm_stop_watchdog(backend);
out:
	for (size_t i = 0; i < started; i++)
		mount_stop(&mounts[i]);
	for (size_t i = 0; i < started; i++)
		mount_finish(&mounts[i]);
	report(&ready_fd, 1);
	if (b)
		backends_close(b, c->nbackends);
	free(mounts);
	return ret;
}
