/*
 * mount_fixture: what every integration test shares.  Start scopefs in the
 * foreground on a temporary config, wait until its mounts show up, stop it
 * with SIGTERM and check that it exited 0 with nothing left mounted; run
 * programs with a timeout; assertion macros that print what was expected,
 * what was seen and, on failure, the daemon's stderr.
 *
 * Header-only (static functions) because the Makefile builds each
 * tests/integration/X.c as a binary of its own.
 *
 * Environment:
 *   SCOPEFS_BIN           the daemon (default ./scopefs)
 *   SCOPEFS_PLUGIN_DIR    passed on to the daemon (default $PWD/plugins)
 *   SCOPEFS_TEST_BACKEND  which [backend] fragment to mount (default local)
 *   SCOPEFS_TEST_LOG_LEVEL  log_level of the daemon (default info)
 *   SCOPEFS_KEEP_TMP      keep the temporary directory for inspection
 *   S3_PORT               the s3 backend's server on 127.0.0.1.  start_s3
 *                         (tests/servers/servers.sh) exports the port of the
 *                         server it started, a free one the kernel picked
 *                         unless S3_PORT was set, so tests/run.sh's tests
 *                         use that run's server.  Unset (a binary run
 *                         by hand): 19050
 *   AZ_PORT               the same for the azblob backend's Azurite
 *                         (start_azure); unset: 19051
 *   GCS_PORT              the same for the gcs backend's Cloud Storage
 *                         emulator (start_gcs); unset: 19052
 *   NFS_PORT, MNT_PORT    the nfs backend's ganesha (start_nfs): its NFS
 *                         and MOUNT ports; unset: 19053 and 19054
 *   TMPDIR                where DIR is made (default /tmp); tests/run.sh
 *                         gives each run its own
 *   SCOPEFS_REQUIRE_SERVERS  1: a backend whose server does not answer
 *                         fails the test instead of skipping it
 *
 * Layout of the temporary directory DIR:
 *   DIR/scopefs.conf  DIR/daemon.log  DIR/daemon.pid
 *   DIR/mnt/NAME      the mount points
 *   DIR/data          the local backend's root; a mount's files are in
 *                     DIR/data/PREFIX (job/job_1/cluster_storage, ...)
 *   DIR/cache         cache_dir (the object layer's staging), s3 only
 *
 * The s3 backend puts every test under its own base in the bucket, the
 * basename of DIR (s3://testbucket/scopefs-test.XXXXXX/PREFIX/...), so
 * tests never see each other's objects.
 *
 * Criterion ignores assertions made in .fini and skips .fini when .init
 * fails, hence: fx_start() cleans up itself before failing, MOUNT_TEST()
 * stops the daemon and checks its exit status inside the test body, and
 * fx_teardown() (the suites' .fini) only makes sure nothing is left behind.
 * A watchdog process unmounts if the test process dies (crash, timeout).
 */
#ifndef SCOPEFS_TEST_MOUNT_FIXTURE_H
#define SCOPEFS_TEST_MOUNT_FIXTURE_H

#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define FX_MAX_MOUNTS 8
/* A bound on hangs, not on speed: a mount takes well under a second, but
 * an object store's probe may wait behind another test's 2 GiB upload on
 * a loaded 2-core machine (seen: over 10 s on the GCS emulator). */
#define FX_MOUNT_TIMEOUT_MS 60000
#define FX_STOP_TIMEOUT_MS 10000

/* ---- backends ---------------------------------------------------------- */

/* One prepared [backend default] section the mounts of a test use.  The
 * same POSIX suite runs against every backend listed here. */
struct fx_backend {
	const char *name;
	/* The section; every "%1$s" is replaced by the test's DIR, "%2$s"
	 * by the server's port (S3_PORT), "%3$s" by DIR's basename, "%4$s"
	 * by the second port (port2_env) of a server that has two. */
	const char *section;
	/* Mounts are plain directories DIR/data/PREFIX on this host, so tests
	 * may look at (and tamper with) the backing files. */
	int has_backing_dir;
	/* An object store (the core's object layer): the config gets
	 * cache_dir = DIR/cache and, holding keys, mode 0600. */
	int object_store;
	/* The environment variable with the server's port and its default;
	 * NULL when the backend needs no server. */
	const char *port_env, *port_default;
	/* A second port (nfs: the MOUNT service), or NULL. */
	const char *port2_env, *port2_default;
	/* FX_NO_* bits: what a filesystem-like backend refuses by design
	 * (an object store refuses all of them; see fx_lacks). */
	unsigned lacks;
};

enum {
	FX_NO_XATTR = 1u << 0,     /* extended attributes: EOPNOTSUPP */
	FX_NO_FALLOCATE = 1u << 1, /* fallocate: EOPNOTSUPP */
	FX_NO_EXCHANGE = 1u << 2,  /* RENAME_EXCHANGE: EINVAL */
	/* utimensat(AT_SYMLINK_NOFOLLOW) of a symlink answers 0 and changes
	 * nothing (nfs-ganesha 4.3's VFS FSAL does that to SETATTR) */
	FX_NO_SYMLINK_TIMES = 1u << 3,
	/* writeback_cache = auto leaves the kernel's writeback cache off:
	 * the store is not the daemon's alone (README) */
	FX_NO_WRITEBACK_DEFAULT = 1u << 4,
};

/* s3: the test server of tests/servers/servers.sh (start_s3). */
#define FX_S3_SECTION                                                        \
	"[backend default]\nplugin = s3\n"                                    \
	"endpoint = http://127.0.0.1:%2$s\nbucket = testbucket\n"             \
	"prefix = %3$s\naccess_key_id = S3RVER\n"                             \
	"secret_access_key = S3RVER\n"

/* azblob: Azurite of tests/servers/servers.sh (start_azure), its
 * development account and well-known key, container testcontainer. */
#define FX_AZ_KEY                                                            \
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"     \
	"K1SZFPTOtr/KBHBeksoGMGw=="
#define FX_AZBLOB_SECTION                                                    \
	"[backend default]\nplugin = azblob\naccount = devstoreaccount1\n"    \
	"endpoint = http://127.0.0.1:%2$s/devstoreaccount1\n"                 \
	"container = testcontainer\nprefix = %3$s\n"                          \
	"account_key = " FX_AZ_KEY "\n"

/* gcs: the Cloud Storage emulator of tests/servers/servers.sh
 * (start_gcs), which takes no credentials; bucket testbucket. */
#define FX_GCS_SECTION                                                       \
	"[backend default]\nplugin = gcs\nendpoint = http://127.0.0.1:%2$s\n" \
	"bucket = testbucket\nprefix = %3$s\nauth = none\n"

/* nfs: ganesha of tests/servers/servers.sh (start_nfs), its /export;
 * each test under a base of its own, as for s3. */
#define FX_NFS_SECTION                                                       \
	"[backend default]\nplugin = nfs\n"                                    \
	"url = nfs://127.0.0.1/export?version=3&nfsport=%2$s&mountport=%4$s\n"  \
	"prefix = %3$s\ntimeout = 5\n"

static const struct fx_backend fx_backends[] = {
	{ "local", "[backend default]\nplugin = local\nroot = %1$s/data\n", 1,
	  0, NULL, NULL, NULL, NULL, 0 },
	{ "s3", FX_S3_SECTION, 0, 1, "S3_PORT", "19050", NULL, NULL, 0 },
	{ "azblob", FX_AZBLOB_SECTION, 0, 1, "AZ_PORT", "19051", NULL, NULL,
	  0 },
	{ "gcs", FX_GCS_SECTION, 0, 1, "GCS_PORT", "19052", NULL, NULL, 0 },
	/* NFSv3 has no xattrs, no ALLOCATE and no atomic exchange; the
	 * test server ganesha keeps no times on symlinks */
	{ "nfs", FX_NFS_SECTION, 0, 0, "NFS_PORT", "19053", "MNT_PORT",
	  "19054",
	  FX_NO_XATTR | FX_NO_FALLOCATE | FX_NO_EXCHANGE | FX_NO_SYMLINK_TIMES |
		  FX_NO_WRITEBACK_DEFAULT },
};

/* One [mount] of a test's configuration. */
struct fx_mount {
	const char *name;  /* mount point DIR/mnt/NAME */
	const char *scope; /* cluster, user or cloud */
	const char *keys;  /* further "key = value\n" lines, or NULL */
};

/* The storage prefix a mount lands on with the fixture's identity. */
static inline const char *fx_scope_prefix(const char *scope)
{
	if (strcmp(scope, "cluster") == 0)
		return "job/job_1/cluster_storage";
	if (strcmp(scope, "user") == 0)
		return "user_storage/usr_1";
	if (strcmp(scope, "cloud") == 0)
		return "shared_storage";
	return NULL;
}

/* ---- state ------------------------------------------------------------- */

struct fx {
	int prepared;
	char dir[1024];
	char conf[PATH_MAX];
	char log[PATH_MAX];
	char bin[PATH_MAX];
	const struct fx_backend *backend;
	/* further "key = value\n" lines for the [backend default] section
	 * (e.g. write_mode = stage), set before fx_configure; or NULL */
	const char *backend_keys;
	/* further lines for [scopefs] (e.g. metrics = ...), or NULL */
	const char *scopefs_keys;
	int nmounts;
	char mnt[FX_MAX_MOUNTS][PATH_MAX];
	char backing[FX_MAX_MOUNTS][PATH_MAX]; /* "" without a backing dir */
	pid_t pid;          /* the daemon, 0 when not running */
	pid_t watchdog;
	int watch_fd;       /* write end of the watchdog's pipe */
	int stopped;        /* fx_stop ran: status and problem are valid */
	int status;         /* waitpid status of the daemon */
	char problem[PATH_MAX + 256]; /* what went wrong stopping, or "" */
	/* In a process the test forked: a failure is printed and ends that
	 * process with status 1, for the test to assert on (Criterion's
	 * own reporting belongs to the test's process). */
	int in_worker;
};

/* One fixture per test process (Criterion forks one per test). */
static struct fx fx __attribute__((unused));

/* ---- failure reporting ------------------------------------------------- */

static inline const char *fx_errname(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";
	return n ? n : "E?";
}

static inline void fx_print_file(const char *title, const char *path,
				 long tail)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "---- %s: %s: %s\n", title, path, strerror(errno));
		return;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	if (tail > 0 && size > tail)
		fseek(f, size - tail, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	fprintf(stderr, "---- %s (%s)%s ----\n", title, path,
		tail > 0 && size > tail ? ", last part" : "");
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of %s ----\n", title);
	fclose(f);
}

/* Called before every failed assertion: show what the daemon said. */
static inline void fx_on_failure(void)
{
	static int shown;
	if (!fx.prepared || shown)
		return;
	shown = 1;
	fx_print_file("scopefs config", fx.conf, 0);
	fx_print_file("scopefs stderr", fx.log, 64 * 1024);
}

#define FX_FAIL(...)                                                         \
	do {                                                                 \
		fx_on_failure();                                             \
		if (fx.in_worker) {                                          \
			fprintf(stderr, "process %d: %s:%d: ", (int)getpid(),\
				__FILE__, __LINE__);                         \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			_exit(1);                                            \
		}                                                            \
		cr_assert_fail(__VA_ARGS__);                                 \
	} while (0)

#define FX_ASSERT(cond, ...)                                                 \
	do {                                                                 \
		if (!(cond))                                                 \
			FX_FAIL(__VA_ARGS__);                                \
	} while (0)

/* EXPR (a syscall-like call) must not return -1; yields its value. */
#define FX_OK(expr)                                                          \
	({                                                                   \
		errno = 0;                                                   \
		long fx_r_ = (long)(expr);                                   \
		int fx_e_ = errno;                                           \
		if (fx_r_ == -1)                                             \
			FX_FAIL("%s: expected success, saw -1 %s (%s)",      \
				#expr, fx_errname(fx_e_), strerror(fx_e_));  \
		fx_r_;                                                       \
	})

/* EXPR must return -1 with errno ERR. */
#define FX_ERRNO(expr, err)                                                  \
	do {                                                                 \
		errno = 0;                                                   \
		long fx_r_ = (long)(expr);                                   \
		int fx_e_ = errno;                                           \
		if (fx_r_ != -1 || fx_e_ != (err))                           \
			FX_FAIL("%s: expected -1 %s, saw %ld %s", #expr,     \
				fx_errname(err), fx_r_,                      \
				fx_r_ == -1 ? fx_errname(fx_e_) : "(success)"); \
	} while (0)

#define FX_EQ_INT(seen, expected)                                            \
	do {                                                                 \
		long long fx_s_ = (long long)(seen);                         \
		long long fx_x_ = (long long)(expected);                     \
		if (fx_s_ != fx_x_)                                          \
			FX_FAIL("%s: expected %lld (%s), saw %lld", #seen,   \
				fx_x_, #expected, fx_s_);                    \
	} while (0)

#define FX_EQ_MODE(seen, expected)                                           \
	do {                                                                 \
		unsigned fx_s_ = (unsigned)(seen);                           \
		unsigned fx_x_ = (unsigned)(expected);                       \
		if (fx_s_ != fx_x_)                                          \
			FX_FAIL("%s: expected 0%o, saw 0%o", #seen, fx_x_,   \
				fx_s_);                                      \
	} while (0)

#define FX_EQ_STR(seen, expected)                                            \
	do {                                                                 \
		const char *fx_s_ = (seen);                                  \
		const char *fx_x_ = (expected);                              \
		if (!fx_s_ || strcmp(fx_s_, fx_x_) != 0)                     \
			FX_FAIL("%s: expected \"%s\", saw \"%s\"", #seen,    \
				fx_x_, fx_s_ ? fx_s_ : "(null)");            \
	} while (0)

/* LEN bytes at SEEN must equal EXPECTED; reports the first difference. */
#define FX_EQ_MEM(seen, expected, len)                                       \
	do {                                                                 \
		const unsigned char *fx_s_ = (const void *)(seen);           \
		const unsigned char *fx_x_ = (const void *)(expected);       \
		size_t fx_n_ = (len), fx_i_ = 0;                             \
		while (fx_i_ < fx_n_ && fx_s_[fx_i_] == fx_x_[fx_i_])        \
			fx_i_++;                                             \
		if (fx_i_ < fx_n_)                                           \
			FX_FAIL("%s: first difference at byte %zu of %zu: "  \
				"expected 0x%02x, saw 0x%02x", #seen, fx_i_, \
				fx_n_, fx_x_[fx_i_], fx_s_[fx_i_]);          \
	} while (0)

/* ---- paths ------------------------------------------------------------- */

/* A string in a rotating static buffer, for immediate use only: the last
 * 32 results stay valid, so copy one that must live longer. */
static inline const char *fx_vfmt(const char *fmt, va_list ap)
{
	static char bufs[32][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % 32];
	vsnprintf(b, PATH_MAX, fmt, ap);
	return b;
}

static inline const char *fx_fmt(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *s = fx_vfmt(fmt, ap);
	va_end(ap);
	return s;
}

/* DIR/mnt/NAME-of-mount-I/REL ("" for the mount point itself). */
static inline const char *fx_mpath(int i, const char *rel)
{
	return fx_fmt("%s%s%s", fx.mnt[i], *rel ? "/" : "", rel);
}

/* Same, in the backing directory; only when fx_has_backing(). */
static inline const char *fx_bpath(int i, const char *rel)
{
	return fx_fmt("%s%s%s", fx.backing[i], *rel ? "/" : "", rel);
}

static inline void fx_finish(void);
static inline void fx_teardown(void);

/* Skip the rest of a MOUNT_TEST: stop the daemon first (and fail if it
 * did not exit 0 with its mounts gone), clean up as .fini would (Criterion
 * runs no .fini after a skip), then report the skip with its reason. */
#define FX_SKIP(...)                                                         \
	do {                                                                 \
		fx_finish();                                                 \
		fx_teardown();                                               \
		cr_skip_test(__VA_ARGS__);                                   \
	} while (0)

/* Skip the test when the backend keeps no plain directory on this host. */
static inline void fx_need_backing(void)
{
	if (!fx.backend->has_backing_dir)
		FX_SKIP("backend %s has no backing directory to look at",
			fx.backend->name);
}

/* The backend is an object store (the core's object layer): no hard
 * links, no RENAME_EXCHANGE, no xattrs, no device nodes or fifos. */
static inline int fx_object_store(void)
{
	return fx.backend && fx.backend->object_store;
}

/* The backend refuses WHAT (FX_NO_* bits) by design. */
static inline int fx_lacks(unsigned what)
{
	return fx.backend &&
	       (fx.backend->object_store || (fx.backend->lacks & what));
}

/* ---- small file helpers ------------------------------------------------ */

static inline int fx_write_file(const char *path, const void *data,
				size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0) {
			int e = errno;
			close(fd);
			errno = n < 0 ? e : EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* Read up to CAP-1 bytes, NUL-terminate; returns the length or -1. */
static inline ssize_t fx_read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t len = 0;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return (ssize_t)len;
}

/* The whole file in a malloc'd, NUL-terminated buffer, or NULL. */
static inline char *fx_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	size_t r;
	while (b && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0) {
			char *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	fclose(f);
	if (b)
		b[n] = '\0';
	if (len)
		*len = n;
	return b;
}

static inline int fx_mkdirs(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, mode) < 0 && errno != EEXIST ? -1 : 0;
}

static inline int fx_rm_one(const char *p, const struct stat *st, int type,
			    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0; /* best effort: keep going */
}

/* rm -rf that never follows a symlink nor crosses into a mount. */
static inline void fx_rm_rf(const char *path)
{
	nftw(path, fx_rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* ---- mountinfo --------------------------------------------------------- */

/* Undo mountinfo's octal escapes (\040 for a space, ...) in place. */
static inline void fx_unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] &&
		    s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* The filesystem type mounted on PATH (the topmost mount there), copied
 * into type; returns 1 if PATH is a mount point, 0 if not. */
static inline int fx_mounted_type(const char *path, char *type, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *field[5] = { 0 };
		char *tok = strtok_r(line, " ", &save);
		for (int i = 0; tok && i < 5; i++) {
			field[i] = tok;
			if (i < 4)
				tok = strtok_r(NULL, " ", &save);
		}
		if (!field[4])
			continue;
		fx_unescape(field[4]);
		if (strcmp(field[4], path) != 0)
			continue;
		/* optional fields, then "-", then the fs type */
		while ((tok = strtok_r(NULL, " ", &save)) && strcmp(tok, "-"))
			;
		tok = tok ? strtok_r(NULL, " ", &save) : NULL;
		found = 1;
		if (type)
			snprintf(type, len, "%s", tok ? tok : "?");
	}
	free(line);
	fclose(f);
	return found;
}

static inline int fx_is_mounted(const char *path)
{
	return fx_mounted_type(path, NULL, 0);
}

/* ---- running programs -------------------------------------------------- */

static inline void fx_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* waitpid with a timeout; returns 1 and *status when PID exited, 0 on
 * timeout. */
static inline int fx_wait_timeout(pid_t pid, int *status, long ms)
{
	for (long waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return 1; /* not our child any more: treat as gone */
		if (waited >= ms)
			return 0;
		fx_sleep_ms(10);
	}
}

static inline const char *fx_status_str(int status)
{
	static char b[64];
	if (WIFEXITED(status))
		snprintf(b, sizeof b, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(b, sizeof b, "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(b, sizeof b, "status 0x%x", status);
	return b;
}

/* Spawn ARGV with stdout to OUT and stderr to ERR (files; NULL =
 * /dev/null; the same path twice = both into one file). */
static inline pid_t fx_spawn(char *const argv[], const char *out,
			     const char *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out && err && strcmp(out, err) == 0)
		posix_spawn_file_actions_adddup2(&fa, 1, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2,
						 err ? err : "/dev/null",
						 O_WRONLY | O_CREAT | O_TRUNC,
						 0644);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e) {
		errno = e;
		return -1;
	}
	return pid;
}

/* Run ARGV to completion (SIGKILL after timeout_s); stdout and stderr
 * land in malloc'd strings when out/err are non-NULL.  Returns the wait
 * status, or -1 with *out describing a spawn failure or timeout. */
static inline int fx_run(char *const argv[], int timeout_s, char **out,
			 char **err)
{
	char o[64], e[64];
	snprintf(o, sizeof o, "/tmp/scopefs-run.%d.out", (int)getpid());
	snprintf(e, sizeof e, "/tmp/scopefs-run.%d.err", (int)getpid());
	pid_t pid = fx_spawn(argv, o, e);
	int status = -1;
	if (pid > 0 && !fx_wait_timeout(pid, &status, timeout_s * 1000L)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		status = -2;
	}
	if (out)
		*out = pid > 0 ? fx_slurp(o, NULL) : NULL;
	if (err)
		*err = pid > 0 ? fx_slurp(e, NULL) : NULL;
	if (out && !*out)
		*out = strdup("");
	if (err && !*err)
		*err = strdup(status == -2 ? "(timed out)" : "(could not run)");
	unlink(o);
	unlink(e);
	return status < 0 ? -1 : status;
}

/* Run a shell command (printf-style) with a timeout; its combined output
 * in *out (malloc'd).  Returns the exit code, or -1 if it did not exit. */
static inline int fx_sh(int timeout_s, char **out, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int fx_sh(int timeout_s, char **out, const char *fmt, ...)
{
	char *cmd;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		cmd = NULL;
	va_end(ap);
	if (!cmd)
		return -1;
	char o[64];
	snprintf(o, sizeof o, "/tmp/scopefs-sh.%d.out", (int)getpid());
	char *argv[] = { "sh", "-c", cmd, NULL };
	pid_t pid = fx_spawn(argv, o, o);
	int status = 0, rc;
	if (pid < 0)
		rc = -1;
	else if (!fx_wait_timeout(pid, &status, timeout_s * 1000L)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		rc = -1;
	} else
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (out) {
		*out = fx_slurp(o, NULL);
		if (!*out)
			*out = strdup("");
		if (rc == -1 && pid > 0) {
			char *t;
			if (asprintf(&t, "%s\n(did not exit within %d s or "
				     "was killed: %s)", *out, timeout_s,
				     fx_status_str(status)) >= 0) {
				free(*out);
				*out = t;
			}
		}
	}
	unlink(o);
	free(cmd);
	return rc;
}

/* ---- the daemon's processes ------------------------------------------- */

/* The parent pid in /proc/PID/stat, or -1 when PID is gone. */
static inline pid_t fx_ppid(pid_t pid)
{
	char *st = fx_slurp(fx_fmt("/proc/%d/stat", (int)pid), NULL);
	char *rp = st ? strrchr(st, ')') : NULL; /* comm may hold spaces */
	int ppid = -1;
	if (rp && sscanf(rp + 1, " %*c %d", &ppid) != 1)
		ppid = -1;
	free(st);
	return (pid_t)ppid;
}

/* The children of PARENT (SAME_EXE: only those running PARENT's
 * executable, i.e. forked, not exec'd), up to MAX in OUT; how many.
 * Scans /proc, so it also answers once PARENT is gone. */
static inline int fx_children(pid_t parent, int same_exe, pid_t *out,
			      int max)
{
	char exe[PATH_MAX] = "", cexe[PATH_MAX];
	ssize_t n = readlink(fx_fmt("/proc/%d/exe", (int)parent), exe,
			     sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	while (d && (e = readdir(d)) && found < max) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || fx_ppid(pid) != parent)
			continue;
		n = readlink(fx_fmt("/proc/%d/exe", (int)pid), cexe,
			     sizeof cexe - 1);
		cexe[n > 0 ? n : 0] = '\0';
		if (!same_exe || strcmp(cexe, exe) == 0)
			out[found++] = pid;
	}
	if (d)
		closedir(d);
	return found;
}

/* What serves the mounts: the daemon's workers (one per backend,
 * docs/isolation.md), or the daemon itself should it have none. */
static inline int fx_serving_pids(pid_t *out, int max)
{
	int n = fx.pid ? fx_children(fx.pid, 1, out, max) : 0;
	if (n == 0 && fx.pid && max > 0)
		out[n++] = fx.pid;
	return n;
}

/* A "kB" field of /proc/PID/status (VmHWM, VmRSS), or -1. */
static inline long fx_status_kib(pid_t pid, const char *field)
{
	char line[256];
	FILE *f = fopen(fx_fmt("/proc/%d/status", (int)pid), "r");
	long v = -1;
	size_t fl = strlen(field);
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, field, fl) && line[fl] == ':')
			v = strtol(line + fl + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

/* FIELD summed over what serves the mounts: for VmHWM, a bound on the
 * peak memory of the daemon's work (the supervisor holds no buffers). */
static inline long fx_serving_kib(const char *field)
{
	pid_t p[FX_MAX_MOUNTS];
	int n = fx_serving_pids(p, FX_MAX_MOUNTS);
	long sum = -1;
	for (int i = 0; i < n; i++) {
		long v = fx_status_kib(p[i], field);
		if (v >= 0)
			sum = (sum < 0 ? 0 : sum) + v;
	}
	return sum;
}

/* ---- the daemon -------------------------------------------------------- */

static inline const struct fx_backend *fx_pick_backend(void)
{
	const char *want = getenv("SCOPEFS_TEST_BACKEND");
	if (!want || !*want)
		want = "local";
	for (size_t i = 0; i < sizeof fx_backends / sizeof fx_backends[0]; i++)
		if (strcmp(fx_backends[i].name, want) == 0)
			return &fx_backends[i];
	return NULL;
}

/* The port of BE's server ("" when it needs none). */
static inline const char *fx_server_port(const struct fx_backend *be)
{
	if (!be->port_env)
		return "";
	const char *p = getenv(be->port_env);
	return p && *p ? p : be->port_default;
}

/* The second port of BE's server ("" when it has none). */
static inline const char *fx_server_port2(const struct fx_backend *be)
{
	if (!be->port2_env)
		return "";
	const char *p = getenv(be->port2_env);
	return p && *p ? p : be->port2_default;
}

/* Something accepts TCP connections on 127.0.0.1:PORT (within 2 s). */
static inline int fx_port_answers(const char *port)
{
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (getaddrinfo("127.0.0.1", port, &hints, &ai) != 0 || !ai)
		return 0;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int ok = 0;
	if (s >= 0) {
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
			ok = 1;
		else if (errno == EINPROGRESS) {
			struct pollfd pfd = { .fd = s, .events = POLLOUT };
			int err = 0;
			socklen_t el = sizeof err;
			if (poll(&pfd, 1, 2000) == 1 &&
			    getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
			    err == 0)
				ok = 1;
		}
		close(s);
	}
	freeaddrinfo(ai);
	return ok;
}

/* Fail (SCOPEFS_REQUIRE_SERVERS=1) or skip the test when BE's server
 * does not answer. */
static inline void fx_need_server(const struct fx_backend *be)
{
	if (!be->port_env)
		return;
	const char *port = fx_server_port(be);
	if (fx_port_answers(port))
		return;
	const char *req = getenv("SCOPEFS_REQUIRE_SERVERS");
	if (req && strcmp(req, "1") == 0)
		cr_assert_fail("backend %s: expected its server on 127.0.0.1:%s "
			       "(%s; tests/servers/servers.sh), saw nothing "
			       "answering there (SCOPEFS_REQUIRE_SERVERS=1)",
			       be->name, port, be->port_env);
	cr_skip_test("backend %s: no server answers on 127.0.0.1:%s (%s; "
		     "start it with tests/servers/servers.sh)", be->name,
		     port, be->port_env);
}

/* Make DIR, pick the backend, settle the environment.  Idempotent. */
static inline void fx_prepare_dir(void)
{
	if (fx.prepared)
		return;
	fx.backend = fx_pick_backend();
	if (!fx.backend)
		cr_assert_fail("SCOPEFS_TEST_BACKEND=%s: expected one of the "
			       "prepared backends (local, s3, azblob, gcs, nfs), saw an unknown "
			       "one", getenv("SCOPEFS_TEST_BACKEND"));
	fx_need_server(fx.backend);
	const char *tmp = getenv("TMPDIR");
	snprintf(fx.dir, sizeof fx.dir, "%s/scopefs-test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fx.dir))
		cr_assert_fail("mkdtemp %s: %s", fx.dir, strerror(errno));
	/* others (nobody, in the permission tests) must reach the mounts */
	chmod(fx.dir, 0755);
	snprintf(fx.conf, sizeof fx.conf, "%s/scopefs.conf", fx.dir);
	snprintf(fx.log, sizeof fx.log, "%s/daemon.log", fx.dir);
	mkdir(fx_fmt("%s/mnt", fx.dir), 0755);
	mkdir(fx_fmt("%s/data", fx.dir), 0755);
	if (fx.backend->object_store)
		mkdir(fx_fmt("%s/cache", fx.dir), 0700);

	const char *bin = getenv("SCOPEFS_BIN");
	if (!bin || !*bin)
		bin = "./scopefs";
	if (!realpath(bin, fx.bin))
		snprintf(fx.bin, sizeof fx.bin, "%s", bin);
	if (!getenv("SCOPEFS_PLUGIN_DIR")) {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof cwd))
			setenv("SCOPEFS_PLUGIN_DIR",
			       fx_fmt("%s/plugins", cwd), 1);
	}
	fx.prepared = 1;
}

/* The [scopefs] and [identity] head every test config starts with. */
static inline void fx_write_head(FILE *f)
{
	const char *lvl = getenv("SCOPEFS_TEST_LOG_LEVEL");
	fprintf(f, "[scopefs]\nlog_level = %s\n", lvl && *lvl ? lvl : "info");
	if (fx.backend->object_store)
		fprintf(f, "cache_dir = %s/cache\n", fx.dir);
	if (fx.scopefs_keys)
		fprintf(f, "%s", fx.scopefs_keys);
	fprintf(f, "\n");
	fprintf(f, "[identity]\ncloud_id = cld_1\nuser_id = usr_1\n"
		   "workload = job\nworkload_id = job_1\n\n");
}

/* A key's value in "key = value\n" lines, into out; 1 if present. */
static inline int fx_key_value(const char *keys, const char *key, char *out,
			       size_t len)
{
	size_t kl = strlen(key);
	for (const char *l = keys; l && *l;) {
		while (*l == ' ' || *l == '\t')
			l++;
		if (strncmp(l, key, kl) == 0 && (l[kl] == ' ' || l[kl] == '=')) {
			const char *v = strchr(l, '=');
			if (v) {
				v++;
				while (*v == ' ')
					v++;
				size_t n = strcspn(v, "\n ;#");
				snprintf(out, len, "%.*s", (int)n, v);
				return 1;
			}
		}
		l = strchr(l, '\n');
		if (l)
			l++;
	}
	return 0;
}

/* Write DIR/scopefs.conf with MOUNTS on the selected backend and record
 * where each mount and its backing directory are.  Does not start. */
static inline void fx_configure(const struct fx_mount *m, int n)
{
	fx_prepare_dir();
	cr_assert(n <= FX_MAX_MOUNTS, "at most %d mounts", FX_MAX_MOUNTS);
	FILE *f = fopen(fx.conf, "w");
	cr_assert(f, "fopen %s: %s", fx.conf, strerror(errno));
	/* the s3 plugin refuses keys in a file others can read */
	if (fx.backend->object_store)
		fchmod(fileno(f), 0600);
	fx_write_head(f);
	const char *base = strrchr(fx.dir, '/');
	fprintf(f, fx.backend->section, fx.dir, fx_server_port(fx.backend),
		base ? base + 1 : fx.dir, fx_server_port2(fx.backend));
	if (fx.backend_keys)
		fprintf(f, "%s", fx.backend_keys);
	fx.nmounts = n;
	for (int i = 0; i < n; i++) {
		snprintf(fx.mnt[i], PATH_MAX, "%s/mnt/%s", fx.dir, m[i].name);
		mkdir(fx.mnt[i], 0755);
		fprintf(f, "\n[mount %s]\nbackend = default\nscope = %s\n%s",
			fx.mnt[i], m[i].scope, m[i].keys ? m[i].keys : "");
		char prefix[1024];
		if (!fx_key_value(m[i].keys, "prefix", prefix, sizeof prefix))
			snprintf(prefix, sizeof prefix, "%s",
				 fx_scope_prefix(m[i].scope));
		fx.backing[i][0] = '\0';
		if (fx.backend->has_backing_dir)
			snprintf(fx.backing[i], PATH_MAX, "%s/data/%s", fx.dir,
				 prefix);
	}
	fclose(f);
}

/* Kill the daemon and unmount if this process dies without fx_stop(). */
static inline void fx_start_watchdog(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	/* everything the watchdog needs, prepared before fork */
	char *const *mnts[FX_MAX_MOUNTS];
	static char *argvs[FX_MAX_MOUNTS][5];
	for (int i = 0; i < fx.nmounts; i++) {
		argvs[i][0] = "fusermount3";
		argvs[i][1] = "-u";
		argvs[i][2] = "-z";
		argvs[i][3] = fx.mnt[i];
		argvs[i][4] = NULL;
		mnts[i] = argvs[i];
	}
	pid_t daemon = fx.pid;
	fflush(NULL);
	pid_t w = fork();
	if (w < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (w > 0) {
		close(p[0]);
		fx.watchdog = w;
		fx.watch_fd = p[1];
		return;
	}
	/* the watchdog: own session, so a kill of the test's group spares it */
	setsid();
	for (int fd = 3; fd < 1024; fd++)
		if (fd != p[0])
			close(fd);
	char c;
	ssize_t r;
	do
		r = read(p[0], &c, 1);
	while (r < 0 && errno == EINTR);
	if (r == 1)
		_exit(0); /* orderly stop: fx_stop does the work */
	kill(daemon, SIGTERM);
	for (int i = 0; i < 500 && kill(daemon, 0) == 0; i++)
		fx_sleep_ms(10);
	kill(daemon, SIGKILL);
	for (int i = 0; i < fx.nmounts; i++) {
		pid_t u = fork();
		if (u == 0) {
			int nul = open("/dev/null", O_WRONLY);
			dup2(nul, 2);
			execvp("fusermount3", mnts[i]);
			_exit(127);
		}
		if (u > 0)
			waitpid(u, NULL, 0);
	}
	dprintf(2, "scopefs test: the test process died: stopped daemon %d, "
		"unmounted; its log is in %s\n", (int)daemon, fx.log);
	_exit(0);
}

/* Start the daemon on the config written by fx_configure(); OPTS is the
 * -o argument or NULL.  Returns once every mount point is mounted; on
 * failure cleans up and fails the test. */
static inline void fx_launch(const char *opts)
{
	char *argv[8];
	int a = 0;
	argv[a++] = fx.bin;
	argv[a++] = "mount";
	argv[a++] = "-f";
	if (opts) {
		argv[a++] = "-o";
		argv[a++] = (char *)opts;
	}
	argv[a++] = fx.conf;
	argv[a] = NULL;

	fx.stopped = 0;
	fx.problem[0] = '\0';
	fx.pid = fx_spawn(argv, fx.log, fx.log);
	if (fx.pid < 0) {
		fx.pid = 0;
		FX_FAIL("cannot run %s: %s (set SCOPEFS_BIN)", fx.bin,
			strerror(errno));
	}
	FILE *pf = fopen(fx_fmt("%s/daemon.pid", fx.dir), "w");
	if (pf) {
		fprintf(pf, "%d\n", (int)fx.pid);
		fclose(pf);
	}
	fx_start_watchdog();

	char why[PATH_MAX + 128] = "";
	for (long waited = 0;; waited += 20) {
		int status, all = 1;
		if (waitpid(fx.pid, &status, WNOHANG) == fx.pid) {
			snprintf(why, sizeof why, "expected the daemon to keep "
				 "running, saw it exit before mounting: %s",
				 fx_status_str(status));
			fx.pid = 0;
			break;
		}
		for (int i = 0; i < fx.nmounts && all; i++) {
			char type[64];
			if (!fx_mounted_type(fx.mnt[i], type, sizeof type)) {
				all = 0;
				if (waited >= FX_MOUNT_TIMEOUT_MS)
					snprintf(why, sizeof why, "expected %s "
						 "mounted within %d ms, saw it "
						 "not in /proc/self/mountinfo",
						 fx.mnt[i], FX_MOUNT_TIMEOUT_MS);
			} else if (strncmp(type, "fuse", 4) != 0) {
				snprintf(why, sizeof why, "expected %s of type "
					 "fuse.scopefs, saw type %s", fx.mnt[i],
					 type);
			}
		}
		if (all || why[0])
			break;
		fx_sleep_ms(20);
	}
	if (why[0]) {
		fx_on_failure();
		if (fx.pid) {
			kill(fx.pid, SIGKILL);
			waitpid(fx.pid, NULL, 0);
			fx.pid = 0;
		}
		for (int i = 0; i < fx.nmounts; i++)
			if (fx_is_mounted(fx.mnt[i]))
				fx_sh(10, NULL, "fusermount3 -u -z '%s'",
				      fx.mnt[i]);
		if (fx.watchdog) {
			(void)!write(fx.watch_fd, "x", 1);
			close(fx.watch_fd);
			waitpid(fx.watchdog, NULL, 0);
			fx.watchdog = 0;
		}
		cr_assert_fail("%s", why);
	}
}

/* fx_configure + fx_launch. */
static inline void fx_start(const char *opts, const struct fx_mount *m,
			    int n)
{
	fx_configure(m, n);
	fx_launch(opts);
}

/* SIGTERM the daemon, wait for it (SIGKILL after a timeout), make sure
 * nothing stays mounted.  Records the status and any problem; never
 * asserts. */
/* The daemon is gone: the watchdog (which would abort its mounts should
 * the test die) has nothing left to guard. */
static inline void fx_stop_watchdog(void)
{
	if (fx.watchdog) {
		(void)!write(fx.watch_fd, "x", 1);
		close(fx.watch_fd);
		waitpid(fx.watchdog, NULL, 0);
		fx.watchdog = 0;
	}
}

static inline void fx_stop_sig(int sig)
{
	if (!fx.pid)
		return;
	fx.problem[0] = '\0';
	kill(fx.pid, sig);
	if (!fx_wait_timeout(fx.pid, &fx.status, FX_STOP_TIMEOUT_MS)) {
		snprintf(fx.problem, sizeof fx.problem,
			 "expected the daemon to exit within %d ms of signal "
			 "%d, saw it still running (killed it)",
			 FX_STOP_TIMEOUT_MS, sig);
		kill(fx.pid, SIGKILL);
		waitpid(fx.pid, &fx.status, 0);
	}
	fx.pid = 0;
	fx.stopped = 1;
	fx_stop_watchdog();
	for (int i = 0; i < fx.nmounts; i++) {
		if (!fx_is_mounted(fx.mnt[i]))
			continue;
		if (!fx.problem[0])
			snprintf(fx.problem, sizeof fx.problem,
				 "expected %s unmounted after the daemon "
				 "exited, saw it still mounted", fx.mnt[i]);
		fx_sh(10, NULL, "fusermount3 -u -z '%s'", fx.mnt[i]);
	}
}

static inline void fx_stop(void)
{
	fx_stop_sig(SIGTERM);
}

/* Stop the daemon if it runs and fail the test unless it exited 0 with
 * its mounts gone.  Called at the end of every MOUNT_TEST body. */
static inline void fx_finish(void)
{
	if (fx.pid)
		fx_stop();
	if (!fx.stopped)
		return;
	fx.stopped = 0;
	FX_ASSERT(!fx.problem[0], "%s", fx.problem);
	FX_ASSERT(WIFEXITED(fx.status) && WEXITSTATUS(fx.status) == 0,
		  "expected the daemon to exit 0 after SIGTERM, saw %s",
		  fx_status_str(fx.status));
}

/* The suites' .fini: never leave a daemon, a mount or files behind. */
static inline void fx_teardown(void)
{
	if (fx.pid)
		fx_stop();
	if (!fx.prepared)
		return;
	int busy = 0;
	for (int i = 0; i < fx.nmounts; i++)
		busy |= fx_is_mounted(fx.mnt[i]);
	if (getenv("SCOPEFS_KEEP_TMP") || busy)
		fprintf(stderr, "scopefs test: kept %s\n", fx.dir);
	else
		fx_rm_rf(fx.dir);
	fx.prepared = 0;
}

/*
 * A test that ends by stopping the daemon and asserting that it exited 0
 * with its mounts gone (fx_finish); the suite's .fini should be
 * fx_teardown.  Use like Test(): MOUNT_TEST(suite, name, .timeout = 60) {}
 */
#define MOUNT_TEST(suite, name, ...)                                         \
	static void fx_body_##suite##_##name(void);                          \
	Test(suite, name, ##__VA_ARGS__)                                     \
	{                                                                    \
		fx_body_##suite##_##name();                                  \
		fx_finish();                                                 \
	}                                                                    \
	static void fx_body_##suite##_##name(void)

#endif
