/* supervisor: fork, watch and restart one worker per backend.
 *
 * Single-threaded and plugin-free, so that PR_SET_PDEATHSIG (which fires
 * when the parent *thread* ends) takes the workers down exactly when this
 * process dies.  Signals arrive through a signalfd; nothing runs in a
 * signal handler. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "mount.h"
#include "sd_notify.h"
#include "supervisor.h"
#include "worker.h"

extern char **environ;

/* Restart policy: wait BACKOFF_MIN after a crash, doubling up to
 * BACKOFF_MAX while the worker keeps dying; a worker that served
 * STABLE_AFTER seconds starts again from BACKOFF_MIN. */
#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 30.0
#define STABLE_AFTER 60.0
/* How long auto_unmount gets to take a dead worker's mounts away before
 * a lazy unmount does (fusermount3 reacts within milliseconds). */
#define UNMOUNT_WAIT 5.0

enum wstate {
	W_STARTING,   /* forked, has not reported on ready_fd */
	W_UP,         /* serving */
	W_UNMOUNTING, /* crashed; waiting for its mounts to go */
	W_BACKOFF,    /* crashed; mounts gone; restarts at restart_at */
	W_DONE,       /* ended for good (clean exit, or stopping) */
};

struct worker {
	const char *backend;
	char (*real)[PATH_MAX]; /* its mount points, canonical */
	size_t nreal;
	char names[1024];       /* "/a, /b", for log lines */
	pid_t pid;              /* 0 when no process */
	int ready_fd;           /* -1 once read */
	enum wstate state;
	double up_since, deadline, restart_at, backoff;
	unsigned restarts;
};

struct supervisor {
	struct config *c;
	const char *opts;
	int daemon_fd;  /* daemon_fork()'s, until start-up is reported */
	int detach;     /* daemonized: workers detach too */
	int sfd;        /* signalfd */
	int metrics_fd; /* the metrics listener, or -1 */
	pid_t self;
	struct worker *w;
	size_t n;
	struct pollfd *pfd;
	int up;         /* every worker reported serving once */
	int stopping;
	int status;     /* what supervise() returns */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* "killed by signal 11 (Segmentation fault)" or "exited with status 1". */
static const char *describe(int st, char *buf, size_t len)
{
	if (WIFSIGNALED(st))
		snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(st),
			 strsignal(WTERMSIG(st)));
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
	return buf;
}

static void free_workers(struct supervisor *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->w[i].real);
		if (s->w[i].ready_fd >= 0)
			close(s->w[i].ready_fd);
	}
	free(s->w);
	free(s->pfd);
}

/* One worker per backend with mounts, in the config's order. */
static int plan(struct supervisor *s)
{
	const struct config *c = s->c;

	s->w = calloc(c->nbackends ? c->nbackends : 1, sizeof *s->w);
	s->pfd = calloc(c->nbackends + 2, sizeof *s->pfd); /* + signals, metrics */
	if (!s->w || !s->pfd)
		return -ENOMEM;
	for (size_t b = 0; b < c->nbackends; b++) {
		struct worker *w = &s->w[s->n];

		w->backend = c->backends[b].name;
		w->ready_fd = -1;
		w->backoff = BACKOFF_MIN;
		w->real = calloc(c->nmounts, sizeof *w->real);
		if (!w->real)
			return -ENOMEM;
		for (size_t i = 0; i < c->nmounts; i++) {
			const char *p = c->mounts[i].path;
			size_t used = strlen(w->names);

			if (strcmp(c->mounts[i].backend, w->backend) != 0)
				continue;
			/* now, while realpath still works: a dead mount
			 * answers ENOTCONN */
			if (!realpath(p, w->real[w->nreal]))
				snprintf(w->real[w->nreal], PATH_MAX, "%s", p);
			w->nreal++;
			snprintf(w->names + used, sizeof w->names - used,
				 "%s%s", used ? ", " : "", p);
		}
		if (w->nreal)
			s->n++;
		else
			free(w->real), w->real = NULL;
	}
	return 0;
}

/* In the forked child: become backend W's worker; never returns. */
static void become_worker(struct supervisor *s, struct worker *w, int fd)
{
	struct config *c = s->c;
	int r;

	/* The supervisor may have died between fork and prctl. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != s->self)
		_exit(1);
	close(s->sfd);
	if (s->metrics_fd >= 0)
		close(s->metrics_fd);
	if (s->daemon_fd >= 0)
		close(s->daemon_fd);
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i].ready_fd >= 0)
			close(s->w[i].ready_fd);
	r = worker_serve(c, w->backend, s->opts, fd, s->detach);
	free_workers(s);
	config_free(c);
	exit(r);
}

static int spawn(struct supervisor *s, struct worker *w)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* read from the loop, which must never block on one worker */
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fflush(NULL); /* or the child would write the buffers again */
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[0]);
		become_worker(s, w, p[1]);
	}
	close(p[1]);
	w->pid = pid;
	w->ready_fd = p[0];
	w->state = W_STARTING;
	return 0;
}

/* Ask every worker to unmount and end; pending restarts are dropped. */
/* STATUS= for the service manager (systemctl status), from FMT. */
static void tell_status(const char *fmt, ...) SCOPEFS_PRINTF(1, 2);
static void tell_status(const char *fmt, ...)
{
	char msg[512] = "STATUS=";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg + 7, sizeof msg - 7, fmt, ap);
	va_end(ap);
	sd_notify_send(msg);
}

static void stop_all(struct supervisor *s)
{
	if (!s->stopping)
		sd_notify_send("STOPPING=1\nSTATUS=unmounting");
	s->stopping = 1;
	for (size_t i = 0; i < s->n; i++) {
		if (s->w[i].pid > 0)
			kill(s->w[i].pid, SIGTERM);
		else
			s->w[i].state = W_DONE;
	}
}

static void start_failed(struct supervisor *s)
{
	if (s->status == 0)
		s->status = 1;
	if (!s->stopping)
		stop_all(s);
}

/* The worker's byte on its pipe: 0 serving, anything else (or EOF) not. */
static void on_ready(struct supervisor *s, struct worker *w)
{
	char b = 1;
	ssize_t r = read(w->ready_fd, &b, 1);

	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	close(w->ready_fd);
	w->ready_fd = -1;
	if (r != 1 || b != 0) {
		/* it said why on stderr; its exit is reaped below */
		if (!s->up)
			start_failed(s);
		return;
	}
	w->state = W_UP;
	w->up_since = now_s();
	if (w->restarts) {
		log_info("backend %s: serving %s again (worker %d)", w->backend,
			 w->names, (int)w->pid);
		tell_status("backend %s serving again after %u restart%s",
			    w->backend, w->restarts, w->restarts == 1 ? "" : "s");
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i].state != W_UP)
			return;
	if (!s->up && !s->stopping) {
		s->up = 1;
		log_info("%zu worker%s serving", s->n, s->n == 1 ? "" : "s");
		/* every mount of every backend is up: only now "ready" */
		char ready[128];
		snprintf(ready, sizeof ready, "READY=1\nSTATUS=%zu backend%s "
			 "serving", s->n, s->n == 1 ? "" : "s");
		sd_notify_send(ready);
		daemon_report(s->daemon_fd, 0);
		s->daemon_fd = -1;
	}
}

/* A crash after start-up: its mounts go (auto_unmount), then a restart. */
static void on_crash(struct supervisor *s, struct worker *w, int st)
{
	char how[128];
	double now = now_s(), delay;

	if (w->state == W_UP && now - w->up_since >= STABLE_AFTER)
		w->backoff = BACKOFF_MIN;
	delay = w->backoff;
	w->backoff = w->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : w->backoff * 2;
	log_error("backend %s: its worker %d %s; its mounts (%s) are "
		  "unavailable until it restarts in %g s", w->backend,
		  (int)w->pid, describe(st, how, sizeof how), w->names, delay);
	tell_status("backend %s: worker %s; restarting in %g s", w->backend,
		    how, delay);
	w->state = W_UNMOUNTING;
	w->deadline = now + UNMOUNT_WAIT;
	w->restart_at = now + delay;
	(void)s;
}

static void on_exit_of(struct supervisor *s, struct worker *w, int st)
{
	char how[128];
	int clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;

	if (w->ready_fd >= 0) /* a last word it wrote before dying */
		on_ready(s, w);
	if (w->ready_fd >= 0) { /* a child of its own holds the pipe */
		close(w->ready_fd);
		w->ready_fd = -1;
	}
	if (s->stopping || !s->up) {
		if (!clean && (s->up || WIFSIGNALED(st)))
			log_error("backend %s: its worker %d %s", w->backend,
				  (int)w->pid, describe(st, how, sizeof how));
		/* SIGTERM before every worker said it serves is a stop,
		 * not a failed start, when the worker ends cleanly (its
		 * mount may already be up and in use) */
		if (!s->up && !(s->stopping && clean))
			start_failed(s);
		else if (!clean)
			s->status = 1;
		w->state = W_DONE;
	} else if (clean && w->state == W_UP) {
		log_info("backend %s: its mounts were unmounted; worker %d "
			 "ended", w->backend, (int)w->pid);
		w->state = W_DONE;
	} else {
		on_crash(s, w, st);
	}
	w->pid = 0;
}

/* Every child that ended: a worker, or -- when scopefs is a
 * container's PID 1 -- an orphan handed to us, such as the fusermount3
 * of a crashed worker's auto_unmount, which would stay a zombie. */
static void reap(struct supervisor *s)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (size_t i = 0; i < s->n; i++)
			if (s->w[i].pid == pid)
				on_exit_of(s, &s->w[i], st);
}

static void on_signals(struct supervisor *s)
{
	struct signalfd_siginfo si;

	while (read(s->sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			reap(s);
		} else if ((si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) &&
			   !s->stopping) {
			log_info("signal %d: stopping the workers",
				 (int)si.ssi_signo);
			stop_all(s);
		}
	}
}

static int any_mounted(const struct worker *w)
{
	for (size_t i = 0; i < w->nreal; i++)
		if (mount_table_has(w->real[i]))
			return 1;
	return 0;
}

/* The fallback when auto_unmount did not act: fusermount3 -u -z. */
static void lazy_unmount(const struct worker *w)
{
	posix_spawnattr_t at;
	sigset_t none;

	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	for (size_t i = 0; i < w->nreal; i++) {
		char *argv[] = { "fusermount3", "-u", "-z", w->real[i], NULL };
		pid_t pid;
		int st;

		if (!mount_table_has(w->real[i]))
			continue;
		log_warn("backend %s: %s still mounted %g s after its worker "
			 "died: unmounting it lazily", w->backend, w->real[i],
			 UNMOUNT_WAIT);
		if (posix_spawnp(&pid, argv[0], NULL, &at, argv, environ) == 0)
			waitpid(pid, &st, 0);
	}
	posix_spawnattr_destroy(&at);
}

/* Move crashed workers on: mounts gone -> backoff -> restart. */
static void tick(struct supervisor *s)
{
	double now = now_s();

	for (size_t i = 0; i < s->n && !s->stopping; i++) {
		struct worker *w = &s->w[i];
		int r;

		if (w->state == W_UNMOUNTING && !any_mounted(w))
			w->state = W_BACKOFF;
		else if (w->state == W_UNMOUNTING && now >= w->deadline) {
			lazy_unmount(w);
			w->state = W_BACKOFF;
		}
		if (w->state != W_BACKOFF || now < w->restart_at)
			continue;
		w->restarts++;
		log_info("backend %s: restarting its worker (restart %u)",
			 w->backend, w->restarts);
		if ((r = spawn(s, w)) < 0) {
			log_error("backend %s: cannot fork a worker: %s",
				  w->backend, strerror(-r));
			w->restart_at = now + w->backoff;
		}
	}
}

/* Milliseconds until tick() has work, or -1 for none. */
static int next_timeout(const struct supervisor *s)
{
	double now = now_s(), next = -1;

	for (size_t i = 0; i < s->n; i++) {
		double t = s->w[i].state == W_UNMOUNTING ? now + 0.05
			 : s->w[i].state == W_BACKOFF	  ? s->w[i].restart_at
							  : -1;
		if (t >= 0 && (next < 0 || t < next))
			next = t;
	}
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)((next - now) * 1000) + 1;
}

static int active(const struct supervisor *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->w[i].pid > 0 || s->w[i].state != W_DONE)
			return 1;
	return 0;
}

static void loop(struct supervisor *s)
{
	while (active(s)) {
		size_t np = 1;

		s->pfd[0] = (struct pollfd){ .fd = s->sfd, .events = POLLIN };
		for (size_t i = 0; i < s->n; i++)
			if (s->w[i].ready_fd >= 0)
				s->pfd[np++] = (struct pollfd){
					.fd = s->w[i].ready_fd, .events = POLLIN
				};
		s->pfd[np] = (struct pollfd){ .fd = s->metrics_fd,
					      .events = POLLIN };
		if (poll(s->pfd, np + (s->metrics_fd >= 0),
			 next_timeout(s)) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			break;
		}
		/* fds first: a worker's last byte before its exit is read */
		for (size_t i = 0, k = 1; i < s->n; i++)
			if (s->w[i].ready_fd >= 0 && s->pfd[k++].revents)
				on_ready(s, &s->w[i]);
		if (s->metrics_fd >= 0 && s->pfd[np].revents)
			metrics_answer(s->metrics_fd);
		on_signals(s);
		tick(s);
	}
}

int supervise(struct config *c, const char *opts, int daemon_fd)
{
	struct supervisor s = {
		.c = c, .opts = opts, .daemon_fd = daemon_fd,
		.detach = daemon_fd >= 0, .self = getpid(),
		.metrics_fd = -1,
	};
	char err[600];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP); /* ignored, as before */
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.sfd < 0 || plan(&s) < 0) {
		log_error("cannot start the supervisor: %s", strerror(errno));
		s.status = 1;
		goto out;
	}
	/* the counters are shared with the workers: made before they fork */
	if (metrics_create(c) < 0)
		log_warn("no metrics: cannot map shared memory: %s",
			 strerror(errno));
	if (c->metrics &&
	    (s.metrics_fd = metrics_listen(c->metrics, err, sizeof err)) < 0) {
		log_error("%s: [scopefs] %s", c->file, err);
		s.status = 1;
		goto out;
	}
	if (c->metrics)
		log_info("metrics on %s/metrics", c->metrics);
	for (size_t i = 0; i < s.n && !s.status; i++) {
		int r = spawn(&s, &s.w[i]);

		if (r < 0) {
			log_error("backend %s: cannot fork a worker: %s",
				  s.w[i].backend, strerror(-r));
			start_failed(&s);
		}
	}
	for (size_t i = 0; i < s.n; i++)
		if (s.w[i].pid == 0)
			s.w[i].state = W_DONE;
	loop(&s);
out:
	daemon_report(s.daemon_fd, 1);
	if (s.sfd >= 0)
		close(s.sfd);
	if (s.metrics_fd >= 0)
		close(s.metrics_fd);
	free_workers(&s);
	return s.status;
}
