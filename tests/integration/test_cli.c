/*
 * The command line: --version, --help, check (the table it prints, errors
 * located at file:line), mount (refusing missing or already mounted mount
 * points, passing -o to every mount, daemonizing without -f) and a clean
 * unmount on SIGINT and SIGTERM.
 */
#include <sys/un.h>
#include "mount_fixture.h"

TestSuite(cli, .fini = fx_teardown, .timeout = 60);

struct ran {
	int status;
	char *out, *err;
};

/* Run the daemon binary with up to four arguments (NULL-terminated). */
static struct ran run_bin(const char *a1, const char *a2, const char *a3,
			  const char *a4)
{
	fx_prepare_dir();
	char *argv[] = { fx.bin, (char *)a1, (char *)a2, (char *)a3,
			 (char *)a4, NULL };
	struct ran r;
	r.status = fx_run(argv, 20, &r.out, &r.err);
	return r;
}

static void free_ran(struct ran *r)
{
	free(r->out);
	free(r->err);
}

static int exit_code(const struct ran *r)
{
	return r->status >= 0 && WIFEXITED(r->status) ? WEXITSTATUS(r->status)
						      : -1;
}

#define EXPECT_EXIT(r, code, what)                                           \
	FX_ASSERT(exit_code(&(r)) == (code), "%s: expected exit %d, saw %s\n" \
		  "stdout:\n%s\nstderr:\n%s", what, code,                    \
		  (r).status < 0 ? "no exit (timeout)"                       \
				 : fx_status_str((r).status),                \
		  (r).out, (r).err)

#define EXPECT_FAILURE(r, what)                                              \
	FX_ASSERT((r).status >= 0 && WIFEXITED((r).status) &&                \
			  WEXITSTATUS((r).status) != 0,                      \
		  "%s: expected a non-zero exit, saw %s\nstdout:\n%s\n"      \
		  "stderr:\n%s", what,                                       \
		  (r).status < 0 ? "no exit within 20 s (killed)"            \
				 : fx_status_str((r).status),                \
		  (r).out, (r).err)

#define EXPECT_IN(hay, needle, what)                                         \
	FX_ASSERT(strstr((hay), (needle)), "%s: expected \"%s\" in the "     \
		  "output, saw:\n%s", what, needle, hay)

/* How many mounts are stacked on PATH. */
static int mount_count(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	size_t len = strlen(path);
	while (f && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
			fx_unescape(mp);
			n += strlen(mp) == len && !strcmp(mp, path);
		}
	}
	free(line);
	if (f)
		fclose(f);
	return n;
}

/* The super-block options of the mount on PATH ("" if none). */
static const char *super_options(const char *path)
{
	static char opts[1024];
	opts[0] = '\0';
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		fx_unescape(mp);
		char *sep = strstr(line, " - ");
		if (strcmp(mp, path) || !sep)
			continue;
		char type[256], src[PATH_MAX], so[1024];
		if (sscanf(sep, " - %255s %4095s %1023s", type, src, so) == 3)
			snprintf(opts, sizeof opts, "%s", so);
	}
	free(line);
	if (f)
		fclose(f);
	return opts;
}

static const struct fx_mount three_mounts[] = {
	{ "cluster_storage", "cluster", "cache_ttl = 1\n" },
	{ "user_storage", "user", NULL },
	{ "shared_storage", "cloud", "read_only = no\n" },
};

/* ---- --version, --help ------------------------------------------------- */

Test(cli, version_prints_a_version_and_exits_0)
{
	struct ran r = run_bin("--version", NULL, NULL, NULL);
	EXPECT_EXIT(r, 0, "scopefs --version");
#ifdef SCOPEFS_VERSION
	EXPECT_IN(r.out, SCOPEFS_VERSION, "scopefs --version");
#else
	int a, b;
	FX_ASSERT(strpbrk(r.out, "0123456789") &&
			  sscanf(strpbrk(r.out, "0123456789"), "%d.%d", &a,
				 &b) == 2,
		  "scopefs --version: expected a version number, saw:\n%s",
		  r.out);
#endif
	free_ran(&r);
}

Test(cli, help_mentions_mount_and_check)
{
	struct ran r = run_bin("--help", NULL, NULL, NULL);
	EXPECT_EXIT(r, 0, "scopefs --help");
	EXPECT_IN(r.out, "mount", "scopefs --help");
	EXPECT_IN(r.out, "check", "scopefs --help");
	free_ran(&r);
}

Test(cli, unknown_command_fails_with_usage)
{
	struct ran r = run_bin("frobnicate", NULL, NULL, NULL);
	EXPECT_FAILURE(r, "scopefs frobnicate");
	FX_ASSERT(r.err[0], "scopefs frobnicate: expected a message on "
		  "stderr, saw none (stdout:\n%s)", r.out);
	free_ran(&r);
}

/* ---- check ------------------------------------------------------------- */

Test(cli, check_prints_each_mount_with_its_plugin_and_prefix)
{
	fx_configure(three_mounts, 3);
	struct ran r = run_bin("check", fx.conf, NULL, NULL);
	EXPECT_EXIT(r, 0, "scopefs check");
	const char *prefix[] = { "job/job_1/cluster_storage",
				 "user_storage/usr_1", "shared_storage" };
	for (int i = 0; i < 3; i++) {
		/* one line with the mount point, then the plugin, then the
		 * prefix */
		int found = 0;
		for (char *l = r.out; l && *l && !found;) {
			char *end = strchr(l, '\n');
			size_t n = end ? (size_t)(end - l) : strlen(l);
			char line[PATH_MAX * 2];
			snprintf(line, sizeof line, "%.*s", (int)n, l);
			char *p = strstr(line, fx.mnt[i]);
			char *q = p ? strstr(p + strlen(fx.mnt[i]), "local") : NULL;
			found = q && strstr(q, prefix[i]);
			l = end ? end + 1 : NULL;
		}
		FX_ASSERT(found, "scopefs check: expected a line \"%s -> local "
			  "-> %s\", saw:\n%s", fx.mnt[i], prefix[i], r.out);
	}
	/* check mounts nothing */
	for (int i = 0; i < 3; i++)
		FX_ASSERT(!fx_is_mounted(fx.mnt[i]), "scopefs check: expected "
			  "nothing mounted, saw %s mounted", fx.mnt[i]);
	free_ran(&r);
}

/* Write a config with MOUNT_KEYS in its [mount] and BACKEND_KEYS (one
 * line) in its [backend], run check on it, and want a non-zero exit with
 * "CONFIG:LINE" in the message. */
static void expect_error_at(const char *what, const char *mount_keys,
			    const char *backend_keys, int line)
{
	fx_prepare_dir();
	FILE *f = fopen(fx.conf, "w");
	cr_assert(f);
	/* the line numbers below are counted from this text */
	fprintf(f, "[scopefs]\n"                              /* 1 */
		   "log_level = info\n"                       /* 2 */
		   "\n"                                       /* 3 */
		   "[identity]\n"                             /* 4 */
		   "cloud_id = cld_1\n"                       /* 5 */
		   "user_id = usr_1\n"                        /* 6 */
		   "workload = job\n"                         /* 7 */
		   "workload_id = job_1\n"                    /* 8 */
		   "\n"                                       /* 9 */
		   "[backend default]\n"                      /* 10 */
		   "plugin = local\n"                         /* 11 */
		   "root = %s/data\n"                         /* 12 */
		   "%s"                                       /* 13 */
		   "\n"                                       /* 14 */
		   "[mount %s/mnt/a]\n"                       /* 15 */
		   "%s",                                      /* 16.. */
		fx.dir, backend_keys, fx.dir, mount_keys);
	fclose(f);
	mkdir(fx_fmt("%s/mnt/a", fx.dir), 0755);
	struct ran r = run_bin("check", fx.conf, NULL, NULL);
	EXPECT_FAILURE(r, what);
	char where[PATH_MAX + 16];
	snprintf(where, sizeof where, "%s:%d", fx.conf, line);
	FX_ASSERT(strstr(r.err, where), "%s: expected \"%s\" in the message "
		  "on stderr, saw:\n%s", what, where, r.err);
	free_ran(&r);
}

Test(cli, check_locates_a_bad_scope_at_file_and_line)
{
	expect_error_at("scope = galaxy",
			"backend = default\nscope = galaxy\n", "\n", 17);
}

Test(cli, check_locates_an_unknown_mount_key_at_file_and_line)
{
	expect_error_at("unknown key colour",
			"backend = default\nscope = user\ncolour = blue\n",
			"\n", 18);
}

Test(cli, check_locates_an_undefined_backend_at_file_and_line)
{
	expect_error_at("backend = nosuch",
			"scope = user\nbackend = nosuch\n", "\n", 17);
}

Test(cli, check_locates_a_key_the_plugin_rejects_at_file_and_line)
{
	expect_error_at("plugin key rooot", "backend = default\nscope = user\n",
			"rooot = /nowhere\n", 13);
}

Test(cli, check_of_a_missing_file_fails_naming_it)
{
	fx_prepare_dir();
	const char *missing = fx_fmt("%s/no-such.conf", fx.dir);
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", missing);
	struct ran r = run_bin("check", path, NULL, NULL);
	EXPECT_FAILURE(r, "scopefs check of a missing file");
	EXPECT_IN(r.err, path, "scopefs check of a missing file");
	free_ran(&r);
}

/* ---- mount ------------------------------------------------------------- */

MOUNT_TEST(cli, mount_shows_as_fuse_scopefs_in_mountinfo)
{
	fx_start(NULL, three_mounts, 3);
	for (int i = 0; i < 3; i++) {
		char type[64] = "";
		fx_mounted_type(fx.mnt[i], type, sizeof type);
		FX_EQ_STR(type, "fuse.scopefs");
	}
}

MOUNT_TEST(cli, mount_passes_o_options_to_every_mount)
{
	fx_start("allow_other", three_mounts, 3);
	for (int i = 0; i < 3; i++)
		FX_ASSERT(strstr(super_options(fx.mnt[i]), "allow_other"),
			  "expected allow_other in the options of %s, saw "
			  "\"%s\"", fx.mnt[i], super_options(fx.mnt[i]));
}

Test(cli, mount_refuses_a_missing_mount_point_naming_it)
{
	const struct fx_mount m[] = {
		{ "present", "cluster", NULL },
		{ "absent", "user", NULL },
	};
	fx_configure(m, 2);
	FX_OK(rmdir(fx.mnt[1]));
	struct ran r = run_bin("mount", "-f", fx.conf, NULL);
	int leftover = fx_is_mounted(fx.mnt[0]);
	if (leftover)
		fx_sh(10, NULL, "fusermount3 -u -z '%s'", fx.mnt[0]);
	EXPECT_FAILURE(r, "scopefs mount with a missing mount point");
	EXPECT_IN(r.err, fx.mnt[1], "scopefs mount with a missing mount point");
	FX_ASSERT(!leftover, "expected nothing mounted after the refusal, saw "
		  "%s mounted", fx.mnt[0]);
	free_ran(&r);
}

MOUNT_TEST(cli, mount_refuses_an_already_mounted_mount_point)
{
	fx_start(NULL, three_mounts, 3);
	char *argv[] = { fx.bin, "mount", "-f", fx.conf, NULL };
	struct ran r;
	r.status = fx_run(argv, 20, &r.out, &r.err);
	int stacked[3];
	for (int i = 0; i < 3; i++) {
		stacked[i] = mount_count(fx.mnt[i]);
		if (stacked[i] > 1) /* the second daemon mounted on top */
			fx_sh(10, NULL, "fusermount3 -u -z '%s'", fx.mnt[i]);
	}
	EXPECT_FAILURE(r, "a second scopefs mount of the same config");
	EXPECT_IN(r.err, fx.mnt[0], "a second scopefs mount of the same config");
	for (int i = 0; i < 3; i++)
		FX_EQ_INT(stacked[i], 1);
	/* the first daemon still serves */
	FX_OK(fx_write_file(fx_mpath(0, "still-here"), "yes", 3, 0644));
	char buf[8];
	FX_EQ_INT(fx_read_file(fx_mpath(0, "still-here"), buf, sizeof buf), 3);
	free_ran(&r);
}

/* Type=notify: with $NOTIFY_SOCKET set, the daemon says READY=1 once,
 * and only when every mount is up, then STOPPING=1 on SIGTERM.  The
 * socket here is the test's own, read as systemd would. */
Test(cli, notify_socket_hears_ready_with_every_mount_up_then_stopping,
     .timeout = 60)
{
	fx_configure(three_mounts, 3);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/scopefs-notify.%d",
		 (int)getpid());
	unlink(sa.sun_path);
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	FX_ASSERT(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof sa) == 0,
		  "notify socket %s: %s", sa.sun_path, strerror(errno));
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	char *argv[] = { fx.bin, "mount", "-f", fx.conf, NULL };
	pid_t pid = fx_spawn(argv, fx.log, fx.log);
	unsetenv("NOTIFY_SOCKET");
	FX_ASSERT(pid > 0, "cannot run %s", fx.bin);
	fx.pid = pid; /* for the fixture's cleanup if an assert fails */

	/* every message until READY=1: each mount must be up when it comes */
	char msg[1024];
	int ready = 0, up_at_ready = 0;
	for (int waited = 0; !ready && waited < 30000;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		ssize_t n = recv(s, msg, sizeof msg - 1, 0);
		FX_ASSERT(n > 0, "recv: %s", strerror(errno));
		msg[n] = '\0';
		if (strstr(msg, "READY=1")) {
			ready = 1;
			for (int i = 0; i < 3; i++)
				up_at_ready += fx_is_mounted(fx.mnt[i]);
		}
	}
	FX_ASSERT(ready, "expected READY=1 on the notify socket within 30 s");
	FX_ASSERT(up_at_ready == 3, "READY=1 came with %d of the 3 mounts up",
		  up_at_ready);
	FX_ASSERT(strstr(msg, "STATUS="), "expected a STATUS= line with "
		  "READY=1, saw \"%s\"", msg);

	kill(pid, SIGTERM);
	int stopping = 0;
	for (int waited = 0; !stopping && waited < 20000;) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0) {
			waited += 100;
			continue;
		}
		ssize_t n = recv(s, msg, sizeof msg - 1, 0);
		if (n <= 0)
			break;
		msg[n] = '\0';
		FX_ASSERT(!strstr(msg, "READY=1"), "a second READY=1 after "
			  "SIGTERM: \"%s\"", msg);
		stopping = strstr(msg, "STOPPING=1") != NULL;
	}
	int status;
	FX_ASSERT(fx_wait_timeout(pid, &status, 20000), "the daemon did not "
		  "exit within 20 s of SIGTERM");
	fx.pid = 0;
	close(s);
	unlink(sa.sun_path);
	FX_ASSERT(stopping, "expected STOPPING=1 on the notify socket after "
		  "SIGTERM");
	FX_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit after "
		  "SIGTERM: %s", fx_status_str(status));
}

MOUNT_TEST(cli, sigint_unmounts_cleanly_and_exits_0)
{
	fx_start(NULL, three_mounts, 3);
	FX_OK(fx_write_file(fx_mpath(0, "f"), "x", 1, 0644));
	fx_stop_sig(SIGINT);
	for (int i = 0; i < 3; i++)
		FX_ASSERT(mount_count(fx.mnt[i]) == 0, "expected %s gone from "
			  "mountinfo after SIGINT, saw it", fx.mnt[i]);
	/* fx_finish (after this body) checks exit 0 and no problem */
}

MOUNT_TEST(cli, sigterm_unmounts_even_with_files_open_in_the_mount)
{
	fx_start(NULL, three_mounts, 3);
	int fd = FX_OK(open(fx_mpath(0, "busy"), O_RDWR | O_CREAT, 0644));
	int dfd = FX_OK(open(fx_mpath(1, ""), O_RDONLY | O_DIRECTORY));
	fx_stop_sig(SIGTERM);
	close(fd);
	close(dfd);
	for (int i = 0; i < 3; i++)
		FX_ASSERT(mount_count(fx.mnt[i]) == 0, "expected %s gone from "
			  "mountinfo after SIGTERM, saw it", fx.mnt[i]);
}

/* A daemon killed outright (SIGKILL, the OOM killer, a crash) runs no
 * unmount of its own: the mounts go with it (auto_unmount: fusermount3
 * unmounts once the FUSE connection closes), so nothing is left answering
 * "Transport endpoint is not connected" and a restart can mount again. */
MOUNT_TEST(cli, sigkill_leaves_no_dead_mount_behind)
{
	fx_start(NULL, three_mounts, 3);
	FX_OK(fx_write_file(fx_mpath(0, "f"), "x", 1, 0644));
	kill(fx.pid, SIGKILL);
	waitpid(fx.pid, &fx.status, 0);
	fx.pid = 0;
	fx_stop_watchdog();
	int left = 0;
	for (int tries = 0; tries < 100; tries++) { /* unmounts are async */
		left = 0;
		for (int i = 0; i < 3; i++)
			left += mount_count(fx.mnt[i]) > 0;
		if (!left)
			break;
		fx_sleep_ms(100);
	}
	int stat_errno[3] = { 0, 0, 0 };
	for (int i = 0; i < 3; i++) {
		struct stat st;
		if (stat(fx.mnt[i], &st) < 0)
			stat_errno[i] = errno;
		if (mount_count(fx.mnt[i]) > 0)
			fx_sh(10, NULL, "fusermount3 -u -z '%s'", fx.mnt[i]);
	}
	FX_ASSERT(left == 0, "after SIGKILL of the daemon: expected its 3 "
		  "mounts gone within 10 s, saw %d left", left);
	for (int i = 0; i < 3; i++)
		FX_ASSERT(stat_errno[i] == 0, "stat of %s after the daemon's "
			  "SIGKILL: %s", fx.mnt[i], fx_errname(stat_errno[i]));
	/* and the same config mounts again at once */
	fx_launch(NULL);
	FX_OK(fx_write_file(fx_mpath(0, "g"), "y", 1, 0644));
}

/* ---- daemon mode ------------------------------------------------------- */

/* Does PID's command line name our config? */
static int names_conf(pid_t pid)
{
	size_t n;
	char *cmd = fx_slurp(fx_fmt("/proc/%d/cmdline", (int)pid), &n);
	int found = 0;
	for (size_t i = 0; cmd && i < n && !found; i += strlen(cmd + i) + 1)
		found = !strcmp(cmd + i, fx.conf);
	free(cmd);
	return found;
}

/* The pid of the daemon serving our config, or 0: the process whose
 * command line names it, but not one of its workers (forked children with
 * the same command line, docs/isolation.md). */
static pid_t find_daemon(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;
	while (d && (e = readdir(d)) && !found) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid > 0 && names_conf(pid) && !names_conf(fx_ppid(pid)))
			found = pid;
	}
	if (d)
		closedir(d);
	return found;
}

static pid_t daemonized;

static void gone_or_zombie_wait(pid_t pid, long ms)
{
	for (long t = 0; t < ms; t += 20) {
		char *st = fx_slurp(fx_fmt("/proc/%d/stat", pid), NULL);
		char *rp = st ? strrchr(st, ')') : NULL;
		int gone = !st || (rp && rp[1] == ' ' && rp[2] == 'Z');
		free(st);
		if (gone)
			return;
		fx_sleep_ms(20);
	}
}

static void stop_daemonized(void)
{
	if (daemonized > 0) {
		kill(daemonized, SIGKILL);
		gone_or_zombie_wait(daemonized, 5000);
		daemonized = 0;
	}
	for (int i = 0; i < fx.nmounts; i++)
		if (fx_is_mounted(fx.mnt[i]))
			fx_sh(10, NULL, "fusermount3 -u -z '%s'", fx.mnt[i]);
	fx_teardown();
}

Test(cli, mount_without_f_daemonizes_with_the_mounts_up,
     .fini = stop_daemonized)
{
	fx_configure(three_mounts, 3);
	struct ran r = run_bin("mount", fx.conf, NULL, NULL);
	daemonized = find_daemon();
	if (daemonized > 0) {
		/* for tests/run.sh to kill should this test die midway */
		FILE *pf = fopen(fx_fmt("%s/daemon.pid", fx.dir), "w");
		if (pf) {
			fprintf(pf, "%d\n", (int)daemonized);
			fclose(pf);
		}
	}
	EXPECT_EXIT(r, 0, "scopefs mount (daemonizing)");
	for (int i = 0; i < 3; i++)
		FX_ASSERT(fx_is_mounted(fx.mnt[i]), "expected %s mounted when "
			  "scopefs mount returns, saw it not mounted",
			  fx.mnt[i]);
	FX_ASSERT(daemonized > 0, "expected a scopefs process serving %s, saw "
		  "none", fx.conf);
	FX_OK(fx_write_file(fx_mpath(2, "f"), "daemon", 6, 0644));
	char buf[16];
	FX_EQ_INT(fx_read_file(fx_mpath(2, "f"), buf, sizeof buf), 6);
	FX_OK(kill(daemonized, SIGTERM));
	gone_or_zombie_wait(daemonized, 10000);
	for (int i = 0; i < 3; i++)
		FX_ASSERT(!fx_is_mounted(fx.mnt[i]), "expected %s unmounted "
			  "after SIGTERM to the daemon, saw it mounted",
			  fx.mnt[i]);
	daemonized = 0;
	free_ran(&r);
}
