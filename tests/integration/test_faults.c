/*
 * test_faults: every FUSE operation on every object plugin under the
 * faults of a real network and a real store, injected on the wire by
 * tests/helpers/faultproxy between the daemon and the test server.
 *
 * Each test seeds a directory, turns one fault on, runs a dozen
 * operations at once (each in a child of its own, so that one that hangs
 * cannot hide the others), turns the fault off and checks:
 *   - a transient fault (a few resets, a few 503s, a few cut bodies,
 *     latency) is invisible: every operation succeeds, every byte read is
 *     right;
 *   - under a lasting fault every operation that needs the store fails
 *     with EIO, ETIMEDOUT or EAGAIN (never ENOENT for what exists, never
 *     wrong bytes) within the bound below, and statfs still answers;
 *   - the mount recovers by itself: the same operations succeed at once
 *     once the fault ends, with no remount;
 *   - nothing is lost: after a remount (every cache cold), each object is
 *     what the operation under the fault reported: a close that failed
 *     left the old object whole, an unlink or rename that failed left the
 *     data in one place at least, nothing is half-written;
 *   - retries under throttling are in the daemon's log.
 *
 * The bound: the plugins run with deadline = 4 s (a request, its retries
 * and their waits end within it), and an operation makes at most two
 * store requests in turn before it knows the store is not answering
 * (objfs_dir.c: a listing that gets no answer is not followed by a HEAD).
 * So an operation must end within 2 x deadline, plus BOUND_SLACK_S for a
 * loaded machine: 14 s.  Without deadlines a stalled store costs
 * timeout x attempts per request, over 150 s per operation.
 */
#include <sys/mman.h>
#include <sys/statfs.h>
#include <dirent.h>
#include "mount_fixture.h"

/* The three object suites each pick their backend (use_backend); of
 * object_test.h this file takes the guarded proxy and the remount. */
#define OBJECT_TEST_BACKEND "object"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "object_test.h"
#pragma GCC diagnostic pop

enum { DEADLINE_S = 4, BOUND_SLACK_S = 6, HANG_S = 90 };
#define BOUND_S (2.0 * DEADLINE_S + BOUND_SLACK_S)

#define FAULT_KEYS                                                           \
	"connect_timeout = 2\ntimeout = 2\nretries = 3\ndeadline = 4\n"

static char faults_file[PATH_MAX];

/* Turn a fault on (or "pass" off): the proxy reads the file's first line
 * at each request; a rename makes the change whole. */
static void set_fault(const char *spec)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof tmp, "%s.new", faults_file);
	FILE *f = fopen(tmp, "w");
	cr_assert(f, "fopen %s: %s", tmp, strerror(errno));
	fprintf(f, "%s\n", spec);
	fclose(f);
	cr_assert(rename(tmp, faults_file) == 0, "rename %s: %s", tmp,
		  strerror(errno));
}

/* ---- the operations ----------------------------------------------------- */

enum op { OP_STAT, OP_MISSING, OP_LIST, OP_READ, OP_CREATE, OP_OVERWRITE,
	  OP_MKDIR, OP_UNLINK, OP_RENAME, OP_RMDIR, OP_CHMOD, OP_TRUNCATE,
	  OP_STATFS, NOPS };
static const char *const op_names[NOPS] = {
	"stat", "lookup of a missing name", "readdir", "read", "create+write+close",
	"overwrite+close", "mkdir", "unlink", "rename", "rmdir", "chmod",
	"truncate", "statfs" };

struct outcome {
	int ran;
	int err;       /* 0 or the errno the operation ended with */
	double secs;
	int bad_data;  /* it succeeded and returned wrong bytes */
};

/* The rounds: 0 under the fault, 1 once it has ended. */
static struct outcome (*out)[NOPS];

enum { OLD_LEN = 96 * 1024, NEW_LEN = 40 * 1024 };

/* Two contents a test can tell apart byte by byte. */
static void pattern(char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)((i * 31 + seed * 7 + i / 251) & 0xff);
}

/* Each operation of each round works in a directory of its own at the
 * mount's root, DIR.ROUND.  The kernel lets one lookup of a name run at a
 * time (the others wait for its answer, and look again when it failed),
 * and serializes the operations that change one directory; in a shared
 * directory, or under a shared uncached parent, each operation would
 * wait out the others' deadlines as well as its own.  (That is what N
 * callers of one path see during an outage: N deadlines in turn.) */
static const char *name(const char *dir, int round, const char *leaf)
{
	return fx_mpath(0, fx_fmt("%s.%d%s%s", dir, round, leaf ? "/" : "",
				  leaf ? leaf : ""));
}

static int write_whole(const char *path, int flags, const char *b, size_t n)
{
	int fd = open(path, O_WRONLY | flags, 0644);
	if (fd < 0)
		return errno;
	int e = write_all(fd, b, n) < 0 ? errno : 0;
	if (close(fd) < 0 && !e)
		e = errno;
	return e;
}

/* Run one operation; 0 or an errno, *bad_data when it lied. */
static int run_op(enum op op, int round, int *bad_data)
{
	static char old[OLD_LEN], neu[NEW_LEN], got[OLD_LEN + 1];
	struct stat st;
	struct statfs sfs;
	pattern(old, sizeof old, 1);
	pattern(neu, sizeof neu, 2);
	switch (op) {
	case OP_STAT:
		if (stat(name("stat", round, "old"), &st) < 0)
			return errno;
		*bad_data = st.st_size != OLD_LEN;
		return 0;
	case OP_MISSING:
		if (stat(name("missing", round, "nothing"), &st) == 0)
			*bad_data = 1;
		return errno;
	case OP_LIST: {
		DIR *d = opendir(name("list", round, NULL));
		if (!d)
			return errno;
		int seen = 0;
		struct dirent *e;
		errno = 0;
		while ((e = readdir(d)))
			seen += !strcmp(e->d_name, "old");
		int err = errno;
		closedir(d);
		if (!err)
			*bad_data = seen != 1;
		return err;
	}
	case OP_READ: {
		int fd = open(name("read", round, "old"), O_RDONLY);
		if (fd < 0)
			return errno;
		ssize_t n = read_full(fd, got, sizeof got);
		int err = n < 0 ? errno : 0;
		close(fd);
		if (!err)
			*bad_data = n != OLD_LEN || memcmp(got, old, OLD_LEN);
		return err;
	}
	case OP_CREATE:
		return write_whole(name("new", round, "it"), O_CREAT | O_EXCL, neu,
				   NEW_LEN);
	case OP_OVERWRITE:
		return write_whole(name("ow", round, "it"), O_TRUNC, neu, NEW_LEN);
	case OP_MKDIR:
		return mkdir(name("sub", round, "it"), 0755) < 0 ? errno : 0;
	case OP_UNLINK:
		return unlink(name("victim", round, "it")) < 0 ? errno : 0;
	case OP_RENAME:
		return rename(name("ren", round, "it"), name("ren", round, "renamed")) < 0
			       ? errno : 0;
	case OP_RMDIR:
		return rmdir(name("empty", round, "it")) < 0 ? errno : 0;
	case OP_CHMOD:
		return chmod(name("mode", round, "it"), 0600) < 0 ? errno : 0;
	case OP_TRUNCATE:
		return truncate(name("trunc", round, "it"), 1000) < 0 ? errno : 0;
	case OP_STATFS:
		return statfs(fx.mnt[0], &sfs) < 0 ? errno : 0;
	default:
		return EINVAL;
	}
}

#define SEED(expr)                                                           \
	do {                                                                 \
		int e_ = (expr);                                             \
		FX_ASSERT(!e_, "seeding: %s: %s", #expr, fx_errname(e_));    \
	} while (0)

/* What each round's operations start from. */
static void seed(int round)
{
	static char old[OLD_LEN];
	static const char *const dirs[] = { "stat", "missing", "list", "read",
					    "new", "ow", "sub", "victim", "ren",
					    "empty", "mode", "trunc" };
	pattern(old, sizeof old, 1);
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		FX_OK(mkdir(name(dirs[i], round, NULL), 0755));
	SEED(write_whole(name("stat", round, "old"), O_CREAT, old, OLD_LEN));
	SEED(write_whole(name("list", round, "old"), O_CREAT, old, 10));
	SEED(write_whole(name("read", round, "old"), O_CREAT, old, OLD_LEN));
	SEED(write_whole(name("ow", round, "it"), O_CREAT, old, OLD_LEN));
	SEED(write_whole(name("victim", round, "it"), O_CREAT, old, 100));
	SEED(write_whole(name("ren", round, "it"), O_CREAT, old, OLD_LEN));
	SEED(write_whole(name("mode", round, "it"), O_CREAT, old, 10));
	SEED(write_whole(name("trunc", round, "it"), O_CREAT, old, OLD_LEN));
	FX_OK(mkdir(name("empty", round, "it"), 0755));
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every operation at once, each in a child; one that hangs past HANG_S
 * is killed and recorded as ETIME. */
static void run_round(int round)
{
	pid_t pid[NOPS];
	double t0 = mono_s();
	fflush(NULL);
	for (int op = 0; op < NOPS; op++) {
		pid[op] = fork();
		cr_assert(pid[op] >= 0, "fork: %s", strerror(errno));
		if (pid[op] == 0) {
			struct outcome *o = &out[round][op];
			double t = mono_s();
			int bad = 0;
			o->err = run_op((enum op)op, round, &bad);
			o->secs = mono_s() - t;
			o->bad_data = bad;
			o->ran = 1;
			_exit(0);
		}
	}
	for (int op = 0; op < NOPS; op++) {
		int status;
		long left = (long)((t0 + HANG_S - mono_s()) * 1000);
		if (!fx_wait_timeout(pid[op], &status, left > 0 ? left : 1)) {
			kill(pid[op], SIGKILL);
			waitpid(pid[op], &status, 0);
			out[round][op].err = ETIME;
			out[round][op].secs = mono_s() - t0;
		}
	}
}

/* ---- the checks --------------------------------------------------------- */

static const char *outcome_str(const struct outcome *o)
{
	return fx_fmt("%s in %.1f s%s", o->err ? fx_errname(o->err) : "ok",
		      o->secs, o->bad_data ? " WITH WRONG DATA" : "");
}

static void print_round(const char *fault, int round)
{
	fprintf(stderr, "faults@%s %s, %s:\n", fx.backend->name, fault,
		round ? "after it" : "under it");
	for (int op = 0; op < NOPS; op++)
		fprintf(stderr, "  %-26s %s\n", op_names[op],
			outcome_str(&out[round][op]));
}

/* The answer an operation gives when it found what the seed made. */
static int succeeded(enum op op, const struct outcome *o)
{
	return op == OP_MISSING ? o->err == ENOENT : o->err == 0;
}

static void expect_all_succeed(const char *fault, int round)
{
	for (int op = 0; op < NOPS; op++) {
		const struct outcome *o = &out[round][op];
		FX_ASSERT(!o->bad_data, "%s, %s: %s returned wrong data", fault,
			  round ? "after the fault" : "under it", op_names[op]);
		FX_ASSERT(succeeded((enum op)op, o), "%s, %s: expected %s to "
			  "succeed%s, saw %s", fault,
			  round ? "after the fault ended" : "under it",
			  op_names[op], round ? " (the mount recovers by "
			  "itself)" : " (retries absorb a transient fault)",
			  outcome_str(o));
	}
}

static void expect_bounded_errors(const char *fault, const int *allowed,
				  int nallowed)
{
	for (int op = 0; op < NOPS; op++) {
		const struct outcome *o = &out[0][op];
		FX_ASSERT(!o->bad_data, "%s: %s returned wrong data", fault,
			  op_names[op]);
		FX_ASSERT(o->secs <= BOUND_S, "%s: expected %s to end within "
			  "%.0f s (2 x deadline %d s + %d s), saw %s", fault,
			  op_names[op], BOUND_S, DEADLINE_S, BOUND_SLACK_S,
			  outcome_str(o));
		if (op == OP_STATFS) {
			FX_ASSERT(o->err == 0, "%s: expected statfs to answer "
				  "from what is known, saw %s", fault,
				  outcome_str(o));
			continue;
		}
		if (succeeded((enum op)op, o))
			continue; /* an answer the kernel had at hand */
		int ok = 0;
		for (int i = 0; i < nallowed; i++)
			ok |= o->err == allowed[i];
		FX_ASSERT(ok, "%s: expected %s to fail with %s%s%s%s%s, saw %s",
			  fault, op_names[op], fx_errname(allowed[0]),
			  nallowed > 1 ? " or " : "",
			  nallowed > 1 ? fx_errname(allowed[1]) : "",
			  nallowed > 2 ? " or " : "",
			  nallowed > 2 ? fx_errname(allowed[2]) : "",
			  outcome_str(o));
	}
}

/* The content of PATH: its length, or -errno. */
static ssize_t content(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = read_full(fd, buf, cap);
	int e = errno;
	close(fd);
	return n < 0 ? -e : n;
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* After a remount: each object is what the round's operations said. */
static void expect_store_matches(const char *fault, int round)
{
	static char old[OLD_LEN], neu[NEW_LEN], got[OLD_LEN + 1];
	const struct outcome *o = out[round];
	const char *when = round ? "after the fault" : "under the fault";
	pattern(old, sizeof old, 1);
	pattern(neu, sizeof neu, 2);

	ssize_t n = content(name("new", round, "it"), got, sizeof got);
	if (!o[OP_CREATE].err)
		FX_ASSERT(n == NEW_LEN && !memcmp(got, neu, NEW_LEN), "%s: a "
			  "create whose close succeeded %s: expected its %d "
			  "bytes in the store, saw %zd", fault, when, NEW_LEN, n);
	else /* absent, empty (the create got through, the data did not),
	      * or whole (only the answer was lost) */
		FX_ASSERT(n == -ENOENT || n == 0 ||
			  (n == NEW_LEN && !memcmp(got, neu, NEW_LEN)),
			  "%s: a create whose close failed: expected no object, "
			  "an empty one or the whole one, saw %zd bytes", fault,
			  n);

	n = content(name("ow", round, "it"), got, sizeof got);
	int is_old = n == OLD_LEN && !memcmp(got, old, OLD_LEN);
	int is_new = n == NEW_LEN && !memcmp(got, neu, NEW_LEN);
	if (!o[OP_OVERWRITE].err)
		FX_ASSERT(is_new, "%s: an overwrite whose close succeeded %s: "
			  "expected the new %d bytes, saw %zd%s", fault, when,
			  NEW_LEN, n, is_old ? " (the old object)" : "");
	else
		FX_ASSERT(is_old || is_new, "%s: an overwrite whose close "
			  "failed (%s): expected the old object intact (or the "
			  "whole new one), saw %zd bytes that are neither",
			  fault, fx_errname(o[OP_OVERWRITE].err), n);

	int sub = exists(name("sub", round, "it"));
	FX_ASSERT(o[OP_MKDIR].err || sub, "%s: mkdir succeeded %s, expected "
		  "the directory after a remount", fault, when);

	int victim = exists(name("victim", round, "it"));
	FX_ASSERT(o[OP_UNLINK].err || !victim, "%s: unlink succeeded %s, "
		  "expected the name gone after a remount", fault, when);

	ssize_t from = content(name("ren", round, "it"), got, sizeof got);
	int from_ok = from == OLD_LEN && !memcmp(got, old, OLD_LEN);
	ssize_t to = content(name("ren", round, "renamed"), got, sizeof got);
	int to_ok = to == OLD_LEN && !memcmp(got, old, OLD_LEN);
	if (!o[OP_RENAME].err)
		FX_ASSERT(to_ok && from == -ENOENT, "%s: rename succeeded %s: "
			  "expected the data under the new name only, saw old "
			  "name %zd, new name %zd", fault, when, from, to);
	else
		FX_ASSERT(from_ok || to_ok, "%s: a rename that failed (%s) "
			  "lost the data: old name %zd, new name %zd", fault,
			  fx_errname(o[OP_RENAME].err), from, to);

	int empty = exists(name("empty", round, "it"));
	FX_ASSERT(o[OP_RMDIR].err || !empty, "%s: rmdir succeeded %s, "
		  "expected the directory gone after a remount", fault, when);

	struct stat st;
	int have_mode = stat(name("mode", round, "it"), &st) == 0;
	FX_ASSERT(have_mode, "%s: chmod's file is gone", fault);
	if (!o[OP_CHMOD].err)
		FX_EQ_MODE(st.st_mode & 07777, 0600);

	n = content(name("trunc", round, "it"), got, sizeof got);
	if (!o[OP_TRUNCATE].err)
		FX_ASSERT(n == 1000 && !memcmp(got, old, 1000), "%s: truncate "
			  "succeeded %s: expected 1000 bytes, saw %zd", fault,
			  when, n);
	else
		FX_ASSERT((n == OLD_LEN && !memcmp(got, old, OLD_LEN)) ||
			  (n == 1000 && !memcmp(got, old, 1000)), "%s: a "
			  "truncate that failed: expected the old object or "
			  "the truncated one, saw %zd bytes", fault, n);

	n = content(name("read", round, "old"), got, sizeof got);
	FX_ASSERT(n == OLD_LEN && !memcmp(got, old, OLD_LEN), "%s: the file "
		  "only read under the fault changed: %zd bytes", fault, n);
}

/* ---- the run ------------------------------------------------------------ */

struct fault_case {
	const char *spec;    /* the proxy's line (%s: the store's error code) */
	int transient;       /* every operation must succeed */
	int allowed[3];      /* else: the errnos an operation may end with */
	int nallowed;
	const char *log_has; /* in the daemon's log afterwards, or NULL */
};

/* The store's own error codes, as each plugin's server would send them. */
static const char *throttle_code(void)
{
	const char *b = fx.backend->name;
	return !strcmp(b, "azblob") ? "ServerBusy"
	       : !strcmp(b, "gcs") ? "rateLimitExceeded" : "SlowDown";
}

static const char *flavor(void)
{
	return fx.backend->name;
}

static void use_backend(const char *name)
{
	setenv("SCOPEFS_TEST_BACKEND", name, 1);
	umask(022);
}

static void run_case(const struct fault_case *c)
{
	fx_prepare_dir();
	out = mmap(NULL, sizeof(struct outcome) * NOPS * 2,
		   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(out != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(out, 0, sizeof(struct outcome) * NOPS * 2);
	snprintf(faults_file, sizeof faults_file, "%s/faults", fx.dir);
	set_fault("pass");
	const char *port = start_proxy_faults(fx_server_port(fx.backend),
					      faults_file, flavor());
	setenv(fx.backend->port_env, port, 1);
	fx.backend_keys = FAULT_KEYS;
	static const struct fx_mount m[] = {
		{ "m", "cluster", "cache_ttl = 0\n" } };
	fx_start(NULL, m, 1);
	seed(0);
	seed(1);

	char spec[256];
	snprintf(spec, sizeof spec, c->spec, throttle_code());
	set_fault(spec);
	run_round(0);
	set_fault("pass");
	print_round(spec, 0);
	run_round(1);
	print_round(spec, 1);

	if (c->transient)
		expect_all_succeed(spec, 0);
	else
		expect_bounded_errors(spec, c->allowed, c->nallowed);
	expect_all_succeed(spec, 1);
	if (c->log_has) { /* before the remount starts a new log */
		char *log = fx_slurp(fx.log, NULL);
		FX_ASSERT(log && strstr(log, c->log_has), "%s: expected \"%s\" "
			  "in the daemon's log %s", spec, c->log_has, fx.log);
		free(log);
	}
	remount();
	expect_store_matches(spec, 0);
	expect_store_matches(spec, 1);
	fx_finish();
}

/* What a store that does not answer, or answers with an error, may
 * cost a caller. */
#define UNREACHABLE { EIO, ETIMEDOUT, EAGAIN }, 3

static const struct fault_case
	latency = { "latency 300", 1, { 0 }, 0, NULL },
	few_resets = { "reset count=3", 1, { 0 }, 0, "retry 1 of" },
	few_throttles = { "status 503 %s count=4", 1, { 0 }, 0,
			  "HTTP 503; retry 1 of" },
	few_cuts = { "cut method=GET count=2", 1, { 0 }, 0, "retry 1 of" },
	errors = { "status 500 InternalError", 0, UNREACHABLE,
		   "HTTP 500; retry 1 of" },
	throttled = { "status 503 %s", 0, UNREACHABLE, "HTTP 503; retry" },
	resets = { "reset", 0, UNREACHABLE, NULL },
	cuts = { "cut", 0, UNREACHABLE, NULL },
	stall = { "stall", 0, UNREACHABLE, NULL },
	blackhole = { "blackhole", 0, UNREACHABLE, NULL };

#define FAULT_TESTS(be)                                                      \
	TestSuite(faults_##be, .init = use_##be, .fini = object_fini,        \
		  .timeout = 240);                                           \
	Test(faults_##be, latency_slows_but_nothing_fails)                   \
	{ run_case(&latency); }                                              \
	Test(faults_##be, a_few_reset_connections_are_retried)               \
	{ run_case(&few_resets); }                                           \
	Test(faults_##be, a_few_throttling_answers_are_retried)              \
	{ run_case(&few_throttles); }                                        \
	Test(faults_##be, a_few_bodies_cut_short_are_read_again)             \
	{ run_case(&few_cuts); }                                             \
	Test(faults_##be, server_errors_fail_every_op_in_bound_and_lose_nothing) \
	{ run_case(&errors); }                                               \
	Test(faults_##be, lasting_throttling_fails_in_bound_and_loses_nothing) \
	{ run_case(&throttled); }                                            \
	Test(faults_##be, reset_connections_fail_in_bound_and_lose_nothing)  \
	{ run_case(&resets); }                                               \
	Test(faults_##be, answers_cut_short_fail_in_bound_and_lose_nothing)  \
	{ run_case(&cuts); }                                                 \
	Test(faults_##be, a_stalled_store_fails_in_bound_and_loses_nothing)  \
	{ run_case(&stall); }                                                \
	Test(faults_##be, a_black_hole_fails_in_bound_and_loses_nothing)     \
	{ run_case(&blackhole); }

static void use_s3(void) { use_backend("s3"); }
static void use_azblob(void) { use_backend("azblob"); }
static void use_gcs(void) { use_backend("gcs"); }

FAULT_TESTS(s3)
FAULT_TESTS(azblob)
FAULT_TESTS(gcs)
