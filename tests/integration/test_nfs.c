/*
 * What only the nfs backend has to show, end to end through FUSE, against
 * nfs-ganesha (tests/servers/servers.sh, start_nfs):
 *   - a full export answers ENOSPC (its small tmpfs export /small), df
 *     shows the export's capacity, low_space_warning is logged;
 *   - the server hanging, stopped and restarted under a running mount:
 *     calls fail with EIO or ETIMEDOUT within the timeout, never hang, and
 *     the mount works again without a remount (a ganesha of the test's own);
 *   - two daemons on one export see each other's files, and O_EXCL holds
 *     between them;
 *   - configurations that cannot work are refused, with the reason.
 * Always runs on the nfs backend, whatever SCOPEFS_TEST_BACKEND says.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/statvfs.h>

#include "mount_fixture.h"

/* object_test.h's extra processes (a second daemon, a server of our
 * own, their watchdogs); its object-store helpers go unused here. */
#define OBJECT_TEST_BACKEND "nfs"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "object_test.h"
#pragma GCC diagnostic pop

#define M(rel) fx_mpath(0, rel)

TestSuite(nfs, .init = use_object_backend, .fini = object_fini,
	  .timeout = 300);

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The fixture's backend with an nfs section of the test's choosing: the
 * export EXPORT of the server whose ports are in NFS_PORT/MNT_PORT, and
 * KEYS ("key = value\n" lines). */
static void use_section(const char *export, const char *keys)
{
	static char section[1024];
	static struct fx_backend be;
	fx_prepare_dir();
	snprintf(section, sizeof section,
		 "[backend default]\nplugin = nfs\nurl = nfs://127.0.0.1/%s"
		 "?version=3&nfsport=%%2$s&mountport=%%4$s\nprefix = %%3$s\n%s",
		 export, keys ? keys : "");
	be = *fx.backend;
	be.section = section;
	fx.backend = &be;
}

/* -1 with errno EIO or ETIMEDOUT, and within MAX_MS. */
#define FX_FAILS_SOON(expr, max_ms)                                          \
	do {                                                                 \
		long long t0_ = now_ms();                                    \
		errno = 0;                                                   \
		long r_ = (long)(expr);                                      \
		int e_ = errno;                                              \
		long long took_ = now_ms() - t0_;                            \
		FX_ASSERT(r_ == -1 && (e_ == EIO || e_ == ETIMEDOUT),        \
			  "%s: expected -1 EIO or ETIMEDOUT, saw %ld %s", #expr, \
			  r_, r_ == -1 ? fx_errname(e_) : "(success)");      \
		FX_ASSERT(took_ <= (max_ms), "%s: expected an answer within " \
			  "%d ms, saw one after %lld ms", #expr, (int)(max_ms), \
			  took_);                                            \
	} while (0)

/* ---- a full export ------------------------------------------------------ */

MOUNT_TEST(nfs, a_full_export_answers_enospc_and_df_shows_its_size)
{
	use_section("small", "timeout = 5\nlow_space_warning = 50%\n");
	struct fx_mount m[] = { { "c", "cluster", NULL } };
	fx_start(NULL, m, 1);
	struct statvfs sv;
	FX_OK(statvfs(M(""), &sv));
	unsigned long long total = (unsigned long long)sv.f_blocks * sv.f_frsize;
	if (total > 64ull << 20)
		FX_SKIP("the export /small is %llu MiB, not a small tmpfs "
			"(start_nfs could not mount one)", total >> 20);
	FX_ASSERT(total >= 2ull << 20 && total <= 8ull << 20, "expected df to "
		  "show the small export's few MiB, saw %llu bytes", total);

	/* more than the export holds, in 64 KiB writes */
	static char buf[64 << 10];
	memset(buf, 'x', sizeof buf);
	int fd = FX_OK(open(M("fill"), O_WRONLY | O_CREAT | O_TRUNC, 0644));
	ssize_t n = 0;
	size_t written = 0;
	while (written < total + (4u << 20) &&
	       (n = write(fd, buf, sizeof buf)) > 0)
		written += (size_t)n;
	int e = errno;
	int rc = close(fd), ce = errno;
	struct statvfs full;
	FX_OK(statvfs(M(""), &full));
	/* removed through the mount before anything is asserted: the
	 * export is shared by the run (and ganesha would hold a file
	 * removed behind its back open, space and all) */
	FX_OK(unlink(M("fill")));
	FX_ASSERT(n < 0 || rc < 0, "expected a write or close to fail once "
		  "%llu bytes were written, saw all %zu bytes taken", total,
		  written);
	FX_ASSERT((n < 0 ? e : ce) == ENOSPC, "expected ENOSPC, saw %s",
		  fx_errname(n < 0 ? e : ce));
	FX_ASSERT(full.f_bavail * full.f_frsize < total / 4, "expected df to "
		  "show the export nearly full, saw %llu bytes free",
		  (unsigned long long)full.f_bavail * full.f_frsize);
	char *log = fx_slurp(fx.log, NULL);
	FX_ASSERT(log && strstr(log, "below low_space_warning"), "expected "
		  "the daemon to log the crossing of low_space_warning");
	free(log);

	/* the space is back after the unlink; writes work again */
	FX_OK(statvfs(M(""), &sv));
	FX_ASSERT(sv.f_bavail * sv.f_frsize > total / 2, "expected the space "
		  "back after unlink, saw %llu bytes free",
		  (unsigned long long)sv.f_bavail * sv.f_frsize);
	FX_OK(fx_write_file(M("small"), buf, sizeof buf, 0644));
}

/* ---- the server hanging, stopped, restarted ------------------------------ */

/* A ganesha of the test's own (servers.sh's start_nfs in DIR/srv), so
 * that stopping it disturbs no other test. */
static char srv_run[PATH_MAX];

static void own_server(const char *action)
{
	char *out = NULL;
	int rc = fx_sh(60, &out, "RUN_DIR='%s' SRV_DIR='%s' NFS_PORT='%s' "
		       "MNT_PORT='%s' NFS_SMALL_SIZE=none sh -c '. \"$SRV_DIR/servers.sh\" && %s'",
		       srv_run, srv_dir(), getenv("NFS_PORT"),
		       getenv("MNT_PORT"), action);
	FX_ASSERT(rc == 0, "%s of the test's own ganesha: expected exit 0, "
		  "saw %d: %s", action, rc, out);
	free(out);
}

static pid_t own_server_pid(void)
{
	char buf[32];
	ssize_t n = fx_read_file(fx_fmt("%s/ganesha.pid", srv_run), buf,
				 sizeof buf);
	FX_ASSERT(n > 0, "no %s/ganesha.pid", srv_run);
	return (pid_t)atoi(buf);
}

static void start_own_server(void)
{
	fx_prepare_dir();
	snprintf(srv_run, sizeof srv_run, "%s/srv", fx.dir);
	fx_mkdirs(srv_run, 0755);
	char p1[16], p2[16];
	snprintf(p1, sizeof p1, "%d", free_port());
	snprintf(p2, sizeof p2, "%d", free_port());
	setenv("NFS_PORT", p1, 1);
	setenv("MNT_PORT", p2, 1);
	own_server("start_nfs");
	server_k.pid = own_server_pid();
	guard(&server_k); /* killed if this test dies */
}

static void stop_own_server(void)
{
	unguard(&server_k);
	server_k.pid = 0;
	own_server("stop_nfs all");
}

/* SIGSTOP reaches a many-threaded ganesha one thread at a time, and a
 * thread still running may answer one more call: wait until every
 * thread shows as stopped. */
static void wait_stopped(pid_t pid)
{
	for (int tries = 0; tries < 200; tries++) {
		DIR *d = opendir(fx_fmt("/proc/%d/task", (int)pid));
		struct dirent *e;
		int running = 0;
		FX_ASSERT(d, "/proc/%d/task: %s", (int)pid, strerror(errno));
		while ((e = readdir(d))) {
			char st[512];
			if (e->d_name[0] == '.')
				continue;
			ssize_t n = fx_read_file(fx_fmt("/proc/%d/task/%s/stat",
							(int)pid, e->d_name),
						 st, sizeof st - 1);
			const char *paren = n > 0 ? (st[n] = '\0',
						     strrchr(st, ')')) : NULL;
			running += paren && paren[1] == ' ' && paren[2] != 'T' &&
				   paren[2] != 't';
		}
		closedir(d);
		if (!running)
			return;
		fx_sleep_ms(10);
	}
	FX_FAIL("ganesha %d: threads still running 2 s after SIGSTOP",
		(int)pid);
}

MOUNT_TEST(nfs, the_server_hanging_and_restarting_needs_no_remount)
{
	start_own_server();
	use_section("export", "timeout = 2\nretries = 1\nconnections = 2\n");
	struct fx_mount m[] = { { "c", "cluster", "cache_ttl = 0\n" } };
	fx_start(NULL, m, 1);
	FX_OK(fx_write_file(M("f"), "before", 6, 0644));
	int fd = FX_OK(open(M("f"), O_RDWR));
	char buf[64];
	struct stat st;
	/* timeout 2 s, one retry: about 4 s, well below 12 */
	const int bound = 12000;

	/* hung: the connections stay up, nothing answers */
	pid_t g = own_server_pid();
	FX_OK(kill(g, SIGSTOP));
	wait_stopped(g);
	FX_FAILS_SOON(stat(M("g"), &st), bound);
	FX_FAILS_SOON(pread(fd, buf, sizeof buf, 0), bound);
	FX_OK(kill(g, SIGCONT));
	FX_EQ_INT(pread(fd, buf, sizeof buf, 0), 6);
	FX_OK(stat(M("f"), &st));

	/* stopped: connections refused */
	unguard(&server_k);
	server_k.pid = 0;
	own_server("stop_nfs");
	FX_FAILS_SOON(stat(M("h"), &st), bound);
	FX_FAILS_SOON(pread(fd, buf, sizeof buf, 0), bound);

	/* back on the same ports: the same mount and the same open file */
	own_server("start_nfs");
	server_k.pid = own_server_pid();
	guard(&server_k);
	FX_OK(stat(M("f"), &st));
	FX_EQ_INT(pread(fd, buf, sizeof buf, 0), 6);
	FX_EQ_MEM(buf, "before", 6);
	FX_EQ_INT(pwrite(fd, "+after", 6, 6), 6);
	FX_OK(close(fd));
	ssize_t n = fx_read_file(M("f"), buf, sizeof buf);
	FX_EQ_INT(n, 12);
	FX_EQ_MEM(buf, "before+after", 12);
	FX_OK(fx_write_file(M("new"), "x", 1, 0644));
	fx_stop();
	stop_own_server();
}

/* ---- two daemons on one export -------------------------------------------- */

MOUNT_TEST(nfs, two_daemons_on_one_export_share_files_and_o_excl)
{
	struct fx_mount m[] = { { "a", "cluster", "cache_ttl = 0\n" } };
	fx_start(NULL, m, 1);
	snprintf(daemon_b.mnt, sizeof daemon_b.mnt, "%s/mnt/b", fx.dir);
	snprintf(daemon_b.log, sizeof daemon_b.log, "%s/daemon_b.log", fx.dir);
	mkdir(daemon_b.mnt, 0755);
	const char *conf = fx_fmt("%s/b.conf", fx.dir);
	write_config(conf, daemon_b.mnt, fx_server_port(fx.backend),
		     "cache_ttl = 0\n");
	start_daemon_b(&daemon_b, conf);
	const char *B = daemon_b.mnt;

	FX_OK(fx_write_file(M("from_a"), "A", 1, 0644));
	expect_text(fx_fmt("%s/from_a", B), "A");
	FX_OK(fx_write_file(fx_fmt("%s/from_b", B), "BB", 2, 0600));
	expect_text(M("from_b"), "BB");
	struct stat st;
	FX_OK(stat(M("from_b"), &st));
	FX_EQ_MODE(st.st_mode & 07777, 0600);

	/* a lock file: of two exclusive creates, only the first succeeds */
	int fd = FX_OK(open(M("lock"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	FX_ERRNO(open(fx_fmt("%s/lock", B), O_WRONLY | O_CREAT | O_EXCL, 0644),
		 EEXIST);
	FX_OK(close(fd));

	/* a rename and a removal by B show at once on A (cache_ttl 0) */
	FX_OK(rename(fx_fmt("%s/from_a", B), fx_fmt("%s/renamed", B)));
	expect_text(M("renamed"), "A");
	FX_ERRNO(stat(M("from_a"), &st), ENOENT);
	FX_OK(unlink(M("lock")));
	FX_ERRNO(stat(fx_fmt("%s/lock", B), &st), ENOENT);
	stop_daemon_b(&daemon_b);
}

/* ---- refusals ------------------------------------------------------------ */

/* `scopefs CMD` (check, or mount -f) of the fixture's config exits
 * RC_WANT, says WANT on stderr, and mounts nothing. */
static void expect_refusal(const char *cmd, int rc_want, const char *want)
{
	struct fx_mount m[] = { { "c", "cluster", NULL } };
	fx_configure(m, 1);
	char *mount_argv[] = { fx.bin, "mount", "-f", fx.conf, NULL };
	char *check_argv[] = { fx.bin, "check", fx.conf, NULL };
	char **argv = strcmp(cmd, "mount") == 0 ? mount_argv : check_argv;
	char *out = NULL, *err = NULL;
	long long t0 = now_ms();
	int status = fx_run(argv, 60, &out, &err);
	FX_ASSERT(status != -1 && WIFEXITED(status) &&
		  WEXITSTATUS(status) == rc_want,
		  "scopefs %s: expected exit %d, saw %s; stderr: %s", cmd,
		  rc_want, fx_status_str(status), err);
	FX_ASSERT(strstr(err, want), "scopefs %s: expected stderr to say "
		  "'%s', saw: %s", cmd, want, err);
	FX_ASSERT(now_ms() - t0 < 30000, "scopefs %s took %lld ms", cmd,
		  now_ms() - t0);
	FX_ASSERT(!fx_is_mounted(fx.mnt[0]), "expected nothing mounted");
	free(out);
	free(err);
}

MOUNT_TEST(nfs, bad_configurations_are_refused_with_the_reason)
{
	use_section("export?version=4", NULL);
	expect_refusal("check", 2, "version must be 3");
	use_section("export", "uid = nobody\n");
	expect_refusal("check", 2, "uid must be a whole number");
	use_section("export", "retries = many\nconnections = 0\n");
	expect_refusal("check", 2, "connections must be");
	use_section("export", "low_space_warning = 1000%\n");
	expect_refusal("check", 2, "low_space_warning");
}

MOUNT_TEST(nfs, a_mount_that_cannot_work_is_refused_quickly)
{
	fx_prepare_dir(); /* checks the run's server: it is there */
	/* nothing listens here */
	char p[16];
	snprintf(p, sizeof p, "%d", free_port());
	setenv("NFS_PORT", p, 1);
	setenv("MNT_PORT", p, 1);
	use_section("export", "timeout = 2\n");
	expect_refusal("mount", 1, "cannot mount");
}

MOUNT_TEST(nfs, a_prefix_that_is_a_file_on_the_server_is_refused)
{
	const char *run = getenv("RUN_DIR");
	if (!run)
		FX_SKIP("no RUN_DIR: the export's directory is unknown");
	fx_prepare_dir();
	const char *base = strrchr(fx.dir, '/') + 1;
	/* the mount's prefix job/job_1/cluster_storage: "job" a file */
	const char *top = fx_fmt("%s/nfs/export/%s", run, base);
	FX_OK(fx_mkdirs(top, 0755));
	FX_OK(fx_write_file(fx_fmt("%s/job", top), "x", 1, 0644));
	expect_refusal("mount", 1, "Not a directory");
	FX_OK(unlink(fx_fmt("%s/job", top)));
	FX_OK(symlink("/", fx_fmt("%s/job", top)));
	expect_refusal("mount", 1, "symlinks are not followed");
	FX_OK(unlink(fx_fmt("%s/job", top)));
	rmdir(top);
}
