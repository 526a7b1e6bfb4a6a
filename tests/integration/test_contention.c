/*
 * test_contention: two daemons on one prefix of one store, four workers
 * (two on each mount) writing the same names, reading them while the
 * other side overwrites and deletes them (and, opt-in, renaming the
 * directory they live in back and forth).  No daemon may crash, no read may return a mix
 * of two versions or a version cut short, no object may end up mixed,
 * and every error must be one the store's answers explain (the name went
 * away, or changed under an open file).
 *
 * The directory moves (rename) only in the opt-in case at the end.
 *
 * Two workers of one mount never write one name at the same time: their
 * writes would meet in the one open file of that mount, and the first
 * close would publish a mix of both, as two writers of one file do on
 * any filesystem.  That is not contention between machines.
 *
 * Every version a worker writes describes itself: a header naming writer,
 * sequence and length, then bytes derived from those.  A reader checks
 * what it got against the header, so any version is right and any mix is
 * caught.  Files of 2.6 MiB take several ranged GETs to read (the first
 * readahead window is 1 MiB), so a reader between two of them sees an
 * overwrite land.
 */
#include <sys/file.h>
#include <sys/mman.h>
#include <dirent.h>
#include "mount_fixture.h"

/* Of object_test.h this file takes the second daemon and its guard. */
#define OBJECT_TEST_BACKEND "object"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include "object_test.h"
#pragma GCC diagnostic pop

enum { WORKERS = 4, ITERATIONS = 80, NAMES = 3, HEAD_LEN = 64 };
static const size_t sizes[] = { 900, 300 * 1024, 2600 * 1024 };

/* What the workers saw, shared with the test process. */
struct tally {
	int ops, ok, enoent, estale, other;
	int other_errno, other_op;
	int torn;            /* reads that were not one whole version */
	int raced;           /* reads a local overwrite ran into: unchecked */
	char torn_what[256];
};
static struct tally *tally;
/* Writes in progress, by mount (0 A, 1 B), directory and name: on its own
 * mount an unfinished write shows, as on any filesystem (a reader may
 * see a prefix of it); from the other mount only closed versions may. */
static int (*writing)[2][NAMES];
/* Writes begun, likewise: a local overwrite during a read may show in
 * it, as on a native filesystem, so such a read proves nothing. */
static int (*begun)[2][NAMES];

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void make_version(char *b, size_t len, int writer, int seq)
{
	memset(b, ' ', HEAD_LEN);
	snprintf(b, HEAD_LEN, "W%02d S%05d L%09zu", writer, seq, len);
	b[HEAD_LEN - 1] = '\n';
	uint64_t s = mix(((uint64_t)writer << 32) | (uint64_t)seq);
	for (size_t i = HEAD_LEN; i < len; i++)
		b[i] = (char)(mix(s + i / 8) >> (8 * (i % 8)));
}

/* B (N bytes) is one whole version (with PREFIX_OK, or the start of
 * one): NULL, or what is wrong with it. */
static const char *check_version(const char *b, size_t n, char *scratch,
				 int prefix_ok)
{
	int writer, seq;
	size_t len;
	if (n < HEAD_LEN)
		return n ? "shorter than a header" : NULL; /* a new empty file */
	if (sscanf(b, "W%d S%d L%zu", &writer, &seq, &len) != 3)
		return "no header";
	if (len != n && !(prefix_ok && n < len))
		return fx_fmt("header says %zu bytes, read %zu", len, n);
	make_version(scratch, len, writer, seq);
	if (memcmp(scratch, b, n) != 0)
		return fx_fmt("bytes of another version inside W%02d S%05d",
			      writer, seq);
	return NULL;
}

static void count(struct tally *t, int op, int err)
{
	t->ops++;
	if (!err)
		t->ok++;
	else if (err == ENOENT)
		t->enoent++;
	else if (err == ESTALE)
		t->estale++;
	else {
		t->other++;
		t->other_errno = err;
		t->other_op = op;
	}
}

static const char *dir_of(const char *mnt, int which)
{
	return fx_fmt("%s/%s", mnt, which ? "e" : "d");
}

/* Read PATH in pieces, pausing between them, and check what came. */
static int read_and_check(struct tally *t, const char *path, char *buf,
			  char *scratch, size_t cap, int *local_writes,
			  int *local_begun)
{
	int busy = __atomic_load_n(local_writes, __ATOMIC_SEQ_CST);
	int gen = __atomic_load_n(local_begun, __ATOMIC_SEQ_CST);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	size_t got = 0;
	int err = 0;
	for (;;) {
		ssize_t n = read(fd, buf + got, 512 * 1024);
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got + 512 * 1024 > cap)
			break;
		fx_sleep_ms(5); /* room for the other side to overwrite */
	}
	close(fd);
	busy += __atomic_load_n(local_writes, __ATOMIC_SEQ_CST);
	if (gen != __atomic_load_n(local_begun, __ATOMIC_SEQ_CST)) {
		t->raced++;
		return err;
	}
	if (!err) {
		const char *bad = check_version(buf, got, scratch, busy > 0);
		if (bad) {
			t->torn++;
			snprintf(t->torn_what, sizeof t->torn_what, "%.120s: %.120s",
				 path, bad);
		}
	}
	return err;
}

static void worker(int w, const char *mnt, int renames)
{
	struct tally *t = &tally[w];
	size_t cap = 4u << 20;
	char *buf = malloc(cap), *scratch = malloc(cap);
	uint64_t rng = mix(0x5eed + (uint64_t)w);
	if (!buf || !scratch)
		_exit(2);
	for (int i = 0; i < ITERATIONS; i++) {
		rng = mix(rng);
		int name = (int)(rng % NAMES), dir = (int)((rng >> 8) % 2);
		int what = (int)((rng >> 16) % (renames ? 10 : 9));
		const char *path = fx_fmt("%s/f%d", dir_of(mnt, dir), name);
		char p[PATH_MAX];
		snprintf(p, sizeof p, "%s", path);
		int err = 0;
		/* by name in either directory: a directory moves under its files */
		int *busy = &writing[w % 2][0][name];
		if (what < 4) { /* write a whole version */
			size_t len = sizes[(rng >> 24) % 3];
			make_version(buf, len, w, i);
			/* one writer of NAME per mount at a time (the top) */
			int lk = open(fx_fmt("%s/writer-%d-%d.lock", fx.dir,
					     w % 2, name),
				      O_RDWR | O_CREAT, 0600);
			if (lk < 0 || flock(lk, LOCK_EX) < 0)
				_exit(3);
			__atomic_add_fetch(busy, 1, __ATOMIC_SEQ_CST);
			__atomic_add_fetch(&begun[w % 2][0][name], 1,
					   __ATOMIC_SEQ_CST);
			int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd < 0) {
				err = errno;
			} else {
				if (write_all(fd, buf, len) < 0)
					err = errno;
				if (close(fd) < 0 && !err)
					err = errno;
			}
			__atomic_sub_fetch(busy, 1, __ATOMIC_SEQ_CST);
			close(lk);
		} else if (what < 8) {
			err = read_and_check(t, p, buf, scratch, cap, busy,
					     &begun[w % 2][0][name]);
		} else if (what == 8) {
			err = unlink(p) < 0 ? errno : 0;
		} else { /* move the directory to the other name */
			err = rename(dir_of(mnt, dir), dir_of(mnt, !dir)) < 0
				      ? errno : 0;
			if (err == ENOTEMPTY || err == EEXIST)
				err = ENOENT; /* the other name is taken: a no */
		}
		count(t, what, err);
	}
	free(buf);
	free(scratch);
	_exit(0);
}

/* The content of PATH into BUF: its length, or -errno. */
static ssize_t content_of(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = read_full(fd, buf, cap);
	int e = errno;
	close(fd);
	return n < 0 ? -e : n;
}

static void use_backend(const char *name)
{
	setenv("SCOPEFS_TEST_BACKEND", name, 1);
	umask(022);
}

static void run_contention(int renames)
{
	fx_prepare_dir();
	tally = mmap(NULL, sizeof *tally * WORKERS, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(tally != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(tally, 0, sizeof *tally * WORKERS);
	writing = mmap(NULL, sizeof *writing * 2, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(writing != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(writing, 0, sizeof *writing * 2);
	begun = mmap(NULL, sizeof *begun * 2, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(begun != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(begun, 0, sizeof *begun * 2);
	const struct fx_mount m[] = { { "a", "cluster", NULL } };
	fx_start(NULL, m, 1);
	start_second_daemon(NULL);
	FX_OK(mkdir(dir_of(fx.mnt[0], 0), 0755));

	pid_t pid[WORKERS];
	fflush(NULL);
	for (int w = 0; w < WORKERS; w++) {
		pid[w] = fork();
		cr_assert(pid[w] >= 0, "fork: %s", strerror(errno));
		if (pid[w] == 0)
			worker(w, w % 2 ? daemon_b.mnt : fx.mnt[0], renames);
	}
	int hung = 0, broke = 0;
	for (int w = 0; w < WORKERS; w++) {
		int status;
		if (!fx_wait_timeout(pid[w], &status, 240000)) {
			kill(pid[w], SIGKILL);
			waitpid(pid[w], &status, 0);
			hung++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			broke++; /* out of memory, or its writer lock failed */
		}
	}
	FX_ASSERT(!broke, "expected every worker to exit 0, saw %d that did "
		  "not", broke);
	FX_ASSERT(!hung, "expected the workers to end, saw %d of them stuck "
		  "after 240 s", hung);
	int status;
	FX_ASSERT(waitpid(fx.pid, &status, WNOHANG) == 0, "daemon A died: %s",
		  fx_status_str(status));
	FX_ASSERT(waitpid(daemon_b.pid, &status, WNOHANG) == 0, "daemon B "
		  "died: %s", fx_status_str(status));

	struct tally all = { 0 };
	for (int w = 0; w < WORKERS; w++) {
		const struct tally *t = &tally[w];
		fprintf(stderr, "contention@%s worker %d (%s): %d ops, %d ok, "
			"%d ENOENT, %d ESTALE, %d other%s%s, %d torn, %d reads "
			"raced by a local write\n",
			fx.backend->name, w, w % 2 ? "B" : "A", t->ops, t->ok,
			t->enoent, t->estale, t->other,
			t->other ? " last " : "",
			t->other ? fx_errname(t->other_errno) : "", t->torn,
			t->raced);
		all.ops += t->ops;
		all.ok += t->ok;
		FX_ASSERT(!t->torn, "worker %d read a version that was not "
			  "whole: %s", w, t->torn_what);
		FX_ASSERT(!t->other, "worker %d: op kind %d failed with %s, "
			  "which no answer of the store explains", w,
			  t->other_op, fx_errname(t->other_errno));
	}
	/* the directory moves under the others often: many a no, by design */
	FX_ASSERT(all.ok >= all.ops / 10, "expected a tenth of the operations "
		  "at least to succeed, saw %d of %d", all.ok, all.ops);

	/* At rest, after the caches' TTL: both mounts hold the same names,
	 * each object a whole version. */
	fx_sleep_ms(1500);
	size_t cap = 4u << 20;
	char *buf = malloc(cap), *scratch = malloc(cap);
	cr_assert(buf && scratch);
	int seen = 0;
	for (int dir = 0; dir < 2; dir++)
		for (int name = 0; name < NAMES; name++) {
			char pa[PATH_MAX], pb[PATH_MAX];
			snprintf(pa, sizeof pa, "%s/f%d", dir_of(fx.mnt[0], dir),
				 name);
			snprintf(pb, sizeof pb, "%s/f%d",
				 dir_of(daemon_b.mnt, dir), name);
			ssize_t na = content_of(pa, buf, cap);
			const char *bad = na > 0 ? check_version(buf, (size_t)na,
								 scratch, 0)
						 : NULL;
			FX_ASSERT(!bad, "at rest, %s: %s", pa, bad);
			ssize_t nb = content_of(pb, scratch, cap);
			FX_ASSERT(na == nb, "at rest, A sees %zd bytes in %s, B "
				  "%zd", na, pa, nb);
			if (na > 0)
				FX_ASSERT(!memcmp(buf, scratch, (size_t)na),
					  "at rest, A and B read different "
					  "versions of %s", pa);
			seen += na >= 0;
		}
	fprintf(stderr, "contention@%s: %d objects at rest, all whole and "
		"alike on both mounts\n", fx.backend->name, seen);
	free(buf);
	free(scratch);
	stop_daemon_b(&daemon_b);
}

/* With the directory moving under the workers too.  Known to fail today
 * (a read, even at rest, returns a size from one version and bytes of
 * another: the object layer's directory rename with files open, issue
 * 14), so it runs only when asked, as the defect's reproducer. */
static void run_with_renames(void)
{
	const char *on = getenv("SCOPEFS_CONTENTION_RENAMES");
	if (!on || strcmp(on, "1") != 0)
		cr_skip_test("known defect: renaming a directory while the "
			     "other daemon writes and reads in it mixes "
			     "versions (issue 14); SCOPEFS_CONTENTION_RENAMES=1 "
			     "runs it");
	run_contention(1);
}

#define CONTENTION_TESTS(be)                                                 \
	static void use_##be(void) { use_backend(#be); }                     \
	TestSuite(contention_##be, .init = use_##be, .fini = object_fini,    \
		  .timeout = 300);                                           \
	MOUNT_TEST(contention_##be,                                          \
		   two_daemons_on_the_same_names_lose_and_mix_nothing)       \
	{ run_contention(0); }                                               \
	MOUNT_TEST(contention_##be,                                          \
		   and_renaming_their_directory_lose_and_mix_nothing)        \
	{ run_with_renames(); }

CONTENTION_TESTS(s3)
CONTENTION_TESTS(azblob)
CONTENTION_TESTS(gcs)
