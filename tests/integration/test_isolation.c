/*
 * Process isolation (docs/isolation.md): every [backend] is served by a
 * worker process of its own under the supervisor the user started.  A
 * plugin that crashes takes down only its own mounts, which leave the
 * mount table (no "Transport endpoint is not connected") and come back by
 * themselves, while the other backends' mounts keep serving; SIGTERM to
 * the supervisor unmounts everything and ends every worker.
 *
 * Mounts: 0 and 1 on two local backends, 2 on tests/fixtures/crashy.c
 * (compiled here), which segfaults when "segv" is looked up.
 */
#include "mount_fixture.h"

TestSuite(isolation, .fini = fx_teardown, .timeout = 120);

enum { LOCAL_A, LOCAL_B, CRASHY, NMOUNTS };

/* The time a crashed backend gets to be back: its first restart waits
 * 1 s; generous for a loaded machine. */
#define BACK_WITHIN_MS 30000

static const char *cc(void)
{
	const char *c = getenv("CC");
	return c && *c ? c : "cc";
}

/* Compile the crashing plugin into DIR/crashy.so; its path. */
static const char *build_crashy(void)
{
	const char *so = fx_fmt("%s/crashy.so", fx.dir);
	char *out = NULL;
	int rc = fx_sh(60, &out, "%s -std=c11 -D_FILE_OFFSET_BITS=64 -shared "
		       "-fPIC -Iinclude -o '%s' tests/fixtures/crashy.c", cc(),
		       so);
	FX_ASSERT(rc == 0, "compiling tests/fixtures/crashy.c: expected exit "
		  "0, saw %d:\n%s", rc, out);
	free(out);
	return so;
}

/* Under ASan the daemon would turn the SIGSEGV into an exit(1) report:
 * let the signal through, as in a normal build. */
static void let_segv_through(void)
{
	const char *a = getenv("ASAN_OPTIONS");
	if (a && !strstr(a, "handle_segv"))
		setenv("ASAN_OPTIONS", fx_fmt("%s:handle_segv=0", a), 1);
}

/* Write the config of three backends and start the daemon. */
static void start_three(void)
{
	fx_prepare_dir();
	const char *so = build_crashy();
	static const char *const names[NMOUNTS] = { "a", "b", "crashy" };
	static const char *const backends[NMOUNTS] = { "local_a", "local_b",
						       "crashy" };
	FILE *f = fopen(fx.conf, "w");
	cr_assert(f, "fopen %s: %s", fx.conf, strerror(errno));
	fx_write_head(f);
	for (int i = 0; i < 2; i++) {
		const char *root = fx_fmt("%s/data/%s", fx.dir, names[i]);
		FX_OK(fx_mkdirs(fx_fmt("%s/shared_storage", root), 0755));
		fprintf(f, "[backend %s]\nplugin = local\nroot = %s\n\n",
			backends[i], root);
	}
	fprintf(f, "[backend crashy]\nplugin = %s\n", so);
	fx.nmounts = NMOUNTS;
	for (int i = 0; i < NMOUNTS; i++) {
		snprintf(fx.mnt[i], PATH_MAX, "%s/mnt/%s", fx.dir, names[i]);
		fx.backing[i][0] = '\0';
		mkdir(fx.mnt[i], 0755);
		fprintf(f, "\n[mount %s]\nbackend = %s\nscope = cloud\n",
			fx.mnt[i], backends[i]);
	}
	fclose(f);
	let_segv_through();
	fx_launch(NULL);
}

/* Write and read back a file in local mount I; 0, or -1 with the failure
 * described in why. */
static int local_round_trip(int i, int n, char *why, size_t len)
{
	char want[64], got[64];
	const char *p = fx_mpath(i, fx_fmt("during-%d", n));
	int w = snprintf(want, sizeof want, "round trip %d on mount %d\n", n, i);
	if (fx_write_file(p, want, (size_t)w, 0644) < 0) {
		snprintf(why, len, "write %s: %s", p, fx_errname(errno));
		return -1;
	}
	ssize_t r = fx_read_file(p, got, sizeof got);
	if (r != w || memcmp(got, want, (size_t)w) != 0) {
		snprintf(why, len, "read %s: %zd bytes (%s)", p, r,
			 r < 0 ? fx_errname(errno) : "other bytes");
		return -1;
	}
	return 0;
}

/* Has the daemon's log a line holding both A and B? */
static int log_has_line_with(const char *a, const char *b)
{
	char *log = fx_slurp(fx.log, NULL);
	int found = 0;
	for (char *l = log, *nl; l && *l && !found; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (nl)
			*nl = '\0';
		found = strstr(l, a) && strstr(l, b);
	}
	free(log);
	return found;
}

static int contains(const pid_t *set, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (set[i] == pid)
			return 1;
	return 0;
}

MOUNT_TEST(isolation, a_crashing_backend_takes_down_only_its_own_mounts,
	   .timeout = 120)
{
	start_three();
	pid_t before[FX_MAX_MOUNTS], after[FX_MAX_MOUNTS];
	int nbefore = fx_serving_pids(before, FX_MAX_MOUNTS);
	FX_EQ_INT(nbefore, 3); /* a worker per backend */
	char buf[64], why[PATH_MAX + 64] = "";
	FX_EQ_INT(fx_read_file(fx_mpath(CRASHY, "hello"), buf, sizeof buf), 18);

	struct stat st;
	errno = 0;
	int r = stat(fx_mpath(CRASHY, "segv"), &st);
	int segv_errno = errno;
	FX_ASSERT(r == -1, "stat of segv: expected an error (its worker "
		  "crashed), saw success");
	fprintf(stderr, "isolation: the stat that crashed the worker saw %s\n",
		fx_errname(segv_errno));

	/* Poll: the dead mount goes, the others serve, the crashed one
	 * comes back.  Until the mount first leaves the table it is the
	 * dead one (the supervisor restarts only after that, and mount IDs
	 * are reused, so nothing else tells them apart), which may answer
	 * ENOTCONN until auto_unmount takes it away: not probed. */
	int polls_gone = 0, back = 0, enotconn = 0, trips = 0, trips_down = 0;
	int errors = 0;
	for (long waited = 0; waited < BACK_WITHIN_MS && !back; waited += 20) {
		int mounted = fx_is_mounted(fx.mnt[CRASHY]);
		int down = polls_gone > 0 || !mounted;
		if (down) {
			if (stat(fx.mnt[CRASHY], &st) < 0 && errno == ENOTCONN)
				enotconn++;
			polls_gone += !mounted;
			back = mounted;
		}
		for (int i = LOCAL_A; i <= LOCAL_B; i++, trips++) {
			/* why keeps the first failure */
			int bad = local_round_trip(i, trips, why,
						   errors ? 0 : sizeof why);
			errors += bad < 0;
			trips_down += down && !back && bad == 0;
		}
		fx_sleep_ms(20);
	}
	FX_ASSERT(polls_gone > 0, "expected %s to leave the mount table after "
		  "its worker crashed, before the restart, saw it never gone",
		  fx.mnt[CRASHY]);
	FX_ASSERT(back, "expected %s mounted again within %d ms of the crash, "
		  "saw it not mounted", fx.mnt[CRASHY], BACK_WITHIN_MS);
	FX_EQ_INT(enotconn, 0);
	FX_ASSERT(errors == 0, "expected every round trip on the local mounts "
		  "to succeed while the crashed backend restarted, saw %d of "
		  "%d fail; the first: %s", errors, trips, why);
	FX_ASSERT(trips_down > 0, "expected round trips on the local mounts "
		  "while %s was down, saw none", fx.mnt[CRASHY]);

	/* the restarted worker serves again; nobody else was restarted */
	FX_OK(stat(fx.mnt[CRASHY], &st));
	FX_EQ_INT(fx_read_file(fx_mpath(CRASHY, "hello"), buf, sizeof buf), 18);
	int nafter = fx_serving_pids(after, FX_MAX_MOUNTS);
	FX_EQ_INT(nafter, 3);
	int kept = 0;
	for (int i = 0; i < nafter; i++)
		kept += contains(before, nbefore, after[i]);
	FX_EQ_INT(kept, 2);
	FX_ASSERT(log_has_line_with("backend crashy", strsignal(SIGSEGV)),
		  "expected a log line naming backend crashy and \"%s\", saw "
		  "none", strsignal(SIGSEGV));
	FX_ASSERT(log_has_line_with("backend crashy", fx.mnt[CRASHY]),
		  "expected a log line naming backend crashy and its mount %s, "
		  "saw none", fx.mnt[CRASHY]);
	for (int i = LOCAL_A; i <= LOCAL_B; i++)
		FX_ASSERT(!log_has_line_with(fx_fmt("[mount %s]", fx.mnt[i]),
					     "unmounted"),
			  "expected %s never unmounted, saw it in the log",
			  fx.mnt[i]);
}

MOUNT_TEST(isolation, sigterm_to_the_supervisor_ends_every_worker)
{
	start_three();
	pid_t sup = fx.pid, w[FX_MAX_MOUNTS], left[FX_MAX_MOUNTS];
	int n = fx_children(sup, 1, w, FX_MAX_MOUNTS);
	FX_EQ_INT(n, 3);
	fx_stop_sig(SIGTERM);
	FX_ASSERT(!fx.problem[0], "%s", fx.problem);
	for (int i = 0; i < NMOUNTS; i++)
		FX_ASSERT(!fx_is_mounted(fx.mnt[i]), "expected %s unmounted "
			  "after SIGTERM, saw it mounted", fx.mnt[i]);
	/* reaped before the supervisor exited: not even zombies remain */
	for (int i = 0; i < n; i++)
		FX_ASSERT(kill(w[i], 0) < 0 && errno == ESRCH, "expected worker "
			  "%d gone when the supervisor exited, saw it still "
			  "there", (int)w[i]);
	FX_EQ_INT(fx_children(sup, 0, left, FX_MAX_MOUNTS), 0);
	for (int i = 0; i < NMOUNTS; i++)
		FX_ASSERT(log_has_line_with(fx_fmt("[mount %s]", fx.mnt[i]),
					    "unmounted"),
			  "expected the log to say %s was unmounted, saw not",
			  fx.mnt[i]);
}

/* A worker stuck in its plugin (a call that never returns) must not keep
 * the daemon from stopping: SIGTERM ends it (within the worker's stop
 * grace, 20 s), every mount is gone, and the stuck caller gets an error. */
MOUNT_TEST(isolation, sigterm_ends_a_worker_stuck_in_its_plugin)
{
	start_three();
	pid_t caller = fork();
	FX_ASSERT(caller >= 0, "fork: %s", strerror(errno));
	if (caller == 0) {
		struct stat st;
		_exit(stat(fx_mpath(CRASHY, "hang"), &st) < 0 ? errno : 0);
	}
	/* the stuck call is in the worker when its log shows the lookup, or
	 * at the latest a moment later */
	fx_sleep_ms(500);
	int status;
	FX_ASSERT(waitpid(caller, &status, WNOHANG) == 0, "the stat of 'hang' "
		  "returned before the stop: %s", fx_status_str(status));
	kill(fx.pid, SIGTERM);
	int dstatus;
	int ended = fx_wait_timeout(fx.pid, &dstatus, 60000);
	if (!ended)
		kill(fx.pid, SIGKILL), waitpid(fx.pid, &dstatus, 0);
	fx.pid = 0;
	FX_ASSERT(ended, "expected the daemon to end within 60 s of SIGTERM "
		  "with a worker stuck in its plugin, saw it still running");
	FX_ASSERT(log_has_line_with("backend crashy", "have not returned"),
		  "expected the log to say the stop went on without the "
		  "stuck call");
	for (int i = 0; i < NMOUNTS; i++) {
		for (int t = 0; t < 100 && fx_is_mounted(fx.mnt[i]); t++)
			fx_sleep_ms(50); /* auto_unmount, for the killed one */
		FX_ASSERT(!fx_is_mounted(fx.mnt[i]), "expected %s unmounted "
			  "after SIGTERM, saw it mounted", fx.mnt[i]);
	}
	FX_ASSERT(fx_wait_timeout(caller, &status, 10000), "the caller stuck "
		  "in the plugin was not released by the stop");
	FX_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) != 0, "the stuck "
		  "stat ended %s, expected an error", fx_status_str(status));
}
