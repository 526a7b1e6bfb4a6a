/*
 * File locks through a mount, as a user on one machine sees them.  The
 * daemon leaves POSIX (fcntl) and flock locks to the kernel (op_init in
 * core/fuse_ops.c turns FUSE lock support off), so locks exclude each
 * other between processes that use the same mount, and reach no other
 * machine: a second mount of the same storage, the nearest thing to a
 * second machine on one host, shows that.  Every second process is a
 * fork() that opens the file itself (flock locks belong to an open file
 * description, fcntl locks to a process) and reports back through a pipe.
 */
#include <sys/file.h>
#include "mount_fixture.h"

#define M(rel) fx_mpath(0, rel)

static const struct fx_mount lock_mount[] = {
	{ "cluster_storage", "cluster", NULL },
};

static void start_locks(void)
{
	umask(022);
	fx_start(NULL, lock_mount, 1);
}

TestSuite(locks, .init = start_locks, .fini = fx_teardown, .timeout = 60);
/* Tests that start mounts of their own. */
TestSuite(locks_mounts, .fini = fx_teardown, .timeout = 60);

/* What a child saw: 0 or an errno, and for F_GETLK the lock it found. */
struct seen {
	int err;
	struct flock fl;
};

typedef void (*child_fn)(const char *path, const void *arg, struct seen *s);

/* Run FN(path, arg) in a forked child with its own open of PATH; wait for
 * its answer (at most 10 s). */
static struct seen in_child(child_fn fn, const char *path, const void *arg)
{
	struct seen s = { .err = -1 };
	int p[2];
	FX_OK(pipe(p));
	fflush(NULL);
	pid_t pid = FX_OK(fork());
	if (pid == 0) {
		close(p[0]);
		struct seen r = { 0 };
		fn(path, arg, &r);
		(void)!write(p[1], &r, sizeof r);
		_exit(0);
	}
	close(p[1]);
	ssize_t n = read(p[0], &s, sizeof s);
	close(p[0]);
	int status;
	if (!fx_wait_timeout(pid, &status, 10000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		FX_FAIL("the second process on %s did not answer within 10 s",
			path);
	}
	FX_ASSERT(n == sizeof s, "expected an answer from the second process "
		  "on %s, saw none (%s)", path, fx_status_str(status));
	return s;
}

static const char *errstr(int e)
{
	return e == 0 ? "success" : fx_errname(e);
}

/* ---- flock ------------------------------------------------------------- */

/* open PATH and flock(*(int *)arg) */
static void child_flock(const char *path, const void *arg, struct seen *s)
{
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		s->err = errno;
		return;
	}
	s->err = flock(fd, *(const int *)arg) < 0 ? errno : 0;
	close(fd);
}

static void expect_flock(const char *path, int op, int want, const char *when)
{
	struct seen s = in_child(child_flock, path, &op);
	FX_ASSERT(s.err == want, "%s: flock(%s) by another process: expected "
		  "%s, saw %s", when,
		  op == (LOCK_EX | LOCK_NB) ? "LOCK_EX|LOCK_NB" : "LOCK_SH|LOCK_NB",
		  errstr(want), errstr(s.err));
}

static int make_file(const char *rel)
{
	FX_OK(fx_write_file(M(rel), "0123456789", 10, 0644));
	return (int)FX_OK(open(M(rel), O_RDWR));
}

MOUNT_TEST(locks, flock_ex_excludes_another_process_until_unlock_or_close)
{
	int fd = make_file("f");
	FX_OK(flock(fd, LOCK_EX));
	expect_flock(M("f"), LOCK_EX | LOCK_NB, EWOULDBLOCK,
		     "while this process holds LOCK_EX");
	expect_flock(M("f"), LOCK_SH | LOCK_NB, EWOULDBLOCK,
		     "while this process holds LOCK_EX");
	FX_OK(flock(fd, LOCK_UN));
	expect_flock(M("f"), LOCK_EX | LOCK_NB, 0, "after LOCK_UN");

	FX_OK(flock(fd, LOCK_EX));
	expect_flock(M("f"), LOCK_EX | LOCK_NB, EWOULDBLOCK,
		     "while this process holds LOCK_EX again");
	FX_OK(close(fd));
	expect_flock(M("f"), LOCK_EX | LOCK_NB, 0, "after close");
}

MOUNT_TEST(locks, flock_sh_is_shared_and_excludes_ex)
{
	int fd = make_file("f");
	FX_OK(flock(fd, LOCK_SH));
	expect_flock(M("f"), LOCK_SH | LOCK_NB, 0,
		     "while this process holds LOCK_SH");
	expect_flock(M("f"), LOCK_EX | LOCK_NB, EWOULDBLOCK,
		     "while this process holds LOCK_SH");
	FX_OK(close(fd));
	expect_flock(M("f"), LOCK_EX | LOCK_NB, 0, "after close");
}

MOUNT_TEST(locks, flock_waiter_gets_the_lock_when_the_holder_unlocks)
{
	int fd = make_file("f");
	FX_OK(flock(fd, LOCK_EX));
	int p[2];
	FX_OK(pipe(p));
	fflush(NULL);
	pid_t pid = FX_OK(fork());
	if (pid == 0) {
		close(p[0]);
		int cfd = open(M("f"), O_RDWR);
		char c = cfd >= 0 && flock(cfd, LOCK_EX) == 0 ? 'y' : 'n';
		(void)!write(p[1], &c, 1);
		_exit(0);
	}
	close(p[1]);
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	int early = poll(&pfd, 1, 300);
	FX_OK(flock(fd, LOCK_UN));
	char c = 0;
	int later = poll(&pfd, 1, 5000);
	if (later == 1)
		(void)!read(p[0], &c, 1);
	close(p[0]);
	int status;
	if (!fx_wait_timeout(pid, &status, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	FX_ASSERT(early == 0, "a blocking flock(LOCK_EX) by another process "
		  "while this one holds LOCK_EX: expected it to wait, saw it "
		  "return within 300 ms");
	FX_ASSERT(later == 1 && c == 'y', "after LOCK_UN: expected the "
		  "waiting process to get the lock within 5 s, saw %s",
		  later == 1 ? "its flock fail" : "nothing");
	FX_OK(close(fd));
}

/* ---- fcntl (POSIX) record locks ---------------------------------------- */

struct range {
	short type; /* F_WRLCK, F_RDLCK */
	off_t start, len;
	int get; /* F_GETLK instead of F_SETLK */
};

static void child_fcntl(const char *path, const void *arg, struct seen *s)
{
	const struct range *r = arg;
	int fd = open(path, O_RDWR);
	if (fd < 0) {
		s->err = errno;
		return;
	}
	s->fl = (struct flock){ .l_type = r->type, .l_whence = SEEK_SET,
				.l_start = r->start, .l_len = r->len };
	s->err = fcntl(fd, r->get ? F_GETLK : F_SETLK, &s->fl) < 0 ? errno : 0;
	close(fd);
}

static void set_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET,
			    .l_start = start, .l_len = len };
	FX_OK(fcntl(fd, F_SETLK, &fl));
}

static const char *type_str(short t)
{
	return t == F_WRLCK ? "F_WRLCK" : t == F_RDLCK ? "F_RDLCK"
		: t == F_UNLCK ? "F_UNLCK" : "?";
}

/* Another process's F_SETLK of TYPE on [start, start+len): WANT (0, or
 * a conflict: Linux says EAGAIN, POSIX also allows EACCES). */
static void expect_setlk(const char *path, short type, off_t start,
			 off_t len, int conflict, const char *when)
{
	struct range r = { type, start, len, 0 };
	struct seen s = in_child(child_fcntl, path, &r);
	if (conflict)
		FX_ASSERT(s.err == EAGAIN || s.err == EACCES, "%s: F_SETLK %s "
			  "[%lld, %lld) by another process: expected a "
			  "conflict (EAGAIN), saw %s", when, type_str(type),
			  (long long)start, (long long)(start + len),
			  errstr(s.err));
	else
		FX_ASSERT(s.err == 0, "%s: F_SETLK %s [%lld, %lld) by another "
			  "process: expected success, saw %s", when,
			  type_str(type), (long long)start,
			  (long long)(start + len), errstr(s.err));
}

MOUNT_TEST(locks, fcntl_write_locks_conflict_only_where_ranges_overlap)
{
	int fd = make_file("f");
	set_lock(fd, F_WRLCK, 0, 100);
	const char *held = "while this process holds F_WRLCK [0, 100)";
	expect_setlk(M("f"), F_WRLCK, 50, 100, 1, held);
	expect_setlk(M("f"), F_WRLCK, 99, 1, 1, held);
	expect_setlk(M("f"), F_RDLCK, 0, 10, 1, held);
	/* adjacent and beyond: no overlap */
	expect_setlk(M("f"), F_WRLCK, 100, 100, 0, held);
	expect_setlk(M("f"), F_WRLCK, 1000, 0, 0, held); /* to EOF and on */

	/* F_GETLK names the holder: this process, its range and type */
	struct range r = { F_WRLCK, 50, 100, 1 };
	struct seen s = in_child(child_fcntl, M("f"), &r);
	FX_ASSERT(s.err == 0, "F_GETLK [50, 150): expected success, saw %s",
		  errstr(s.err));
	FX_ASSERT(s.fl.l_type == F_WRLCK && s.fl.l_pid == getpid() &&
		  s.fl.l_start == 0 && s.fl.l_len == 100, "F_GETLK [50, 150) "
		  "by another process %s: expected F_WRLCK [0, 100) held by "
		  "pid %d, saw %s [%lld, +%lld) held by pid %d", held,
		  (int)getpid(), type_str(s.fl.l_type),
		  (long long)s.fl.l_start, (long long)s.fl.l_len,
		  (int)s.fl.l_pid);
	r = (struct range){ F_WRLCK, 100, 50, 1 };
	s = in_child(child_fcntl, M("f"), &r);
	FX_ASSERT(s.err == 0 && s.fl.l_type == F_UNLCK, "F_GETLK [100, 150) "
		  "%s: expected F_UNLCK (no conflict), saw %s, %s", held,
		  errstr(s.err), type_str(s.fl.l_type));

	/* unlocking a part frees just that part */
	set_lock(fd, F_UNLCK, 0, 50);
	expect_setlk(M("f"), F_WRLCK, 0, 50, 0, "after F_UNLCK [0, 50)");
	expect_setlk(M("f"), F_WRLCK, 50, 1, 1, "after F_UNLCK [0, 50)");
	FX_OK(close(fd));
	expect_setlk(M("f"), F_WRLCK, 0, 0, 0, "after close");
}

MOUNT_TEST(locks, fcntl_read_locks_are_shared_and_exclude_writers)
{
	int fd = make_file("f");
	set_lock(fd, F_RDLCK, 0, 10);
	const char *held = "while this process holds F_RDLCK [0, 10)";
	expect_setlk(M("f"), F_RDLCK, 0, 10, 0, held);
	expect_setlk(M("f"), F_WRLCK, 5, 1, 1, held);
	expect_setlk(M("f"), F_WRLCK, 10, 10, 0, held);
	FX_OK(close(fd));
}

/* ---- a holder that goes away ------------------------------------------- */

/* A child takes flock LOCK_EX and F_WRLCK [0, 10) on PATH, says so, and
 * exits (without unlocking or closing) when *go is written to, unless it
 * is killed first. */
static pid_t holder(const char *path, int *go)
{
	int p[2], g[2];
	FX_OK(pipe(p));
	FX_OK(pipe(g));
	fflush(NULL);
	pid_t pid = FX_OK(fork());
	if (pid == 0) {
		close(p[0]);
		close(g[1]);
		int fd = open(path, O_RDWR);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
				    .l_start = 0, .l_len = 10 };
		char c = fd >= 0 && flock(fd, LOCK_EX) == 0 &&
				 fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
		(void)!write(p[1], &c, 1);
		(void)!read(g[0], &c, 1);
		_exit(0);
	}
	close(p[1]);
	close(g[0]);
	*go = g[1];
	char c = 0;
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	if (poll(&pfd, 1, 10000) == 1)
		(void)!read(p[0], &c, 1);
	close(p[0]);
	if (c != 'y') {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(g[1]);
		FX_FAIL("the holder process could not lock %s (%s)", path,
			c ? "flock or F_SETLK failed" : "no answer in 10 s");
	}
	return pid;
}

static int try_flock_nb(const char *path)
{
	int fd = (int)FX_OK(open(path, O_RDWR));
	int e = flock(fd, LOCK_EX | LOCK_NB) < 0 ? errno : 0;
	close(fd);
	return e;
}

static int try_setlk(const char *path)
{
	int fd = (int)FX_OK(open(path, O_RDWR));
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET,
			    .l_start = 0, .l_len = 10 };
	int e = fcntl(fd, F_SETLK, &fl) < 0 ? errno : 0;
	close(fd); /* drops this process's lock again */
	return e;
}

/* The holder exits by itself (KILL 0) or is killed with SIGKILL. */
static void holder_goes(int kill_it)
{
	close(make_file("f"));
	int go;
	pid_t pid = holder(M("f"), &go);
	int fe = try_flock_nb(M("f")), pe = try_setlk(M("f"));
	if (kill_it)
		kill(pid, SIGKILL);
	else
		(void)!write(go, "x", 1);
	close(go);
	int status;
	FX_ASSERT(fx_wait_timeout(pid, &status, 5000), "the holder did not "
		  "go within 5 s");
	FX_ASSERT(fe == EWOULDBLOCK, "flock(LOCK_EX|LOCK_NB) while another "
		  "process holds LOCK_EX: expected EWOULDBLOCK, saw %s",
		  errstr(fe));
	FX_ASSERT(pe == EAGAIN || pe == EACCES, "F_SETLK F_WRLCK [0, 10) "
		  "while another process holds it: expected EAGAIN, saw %s",
		  errstr(pe));
	fe = try_flock_nb(M("f"));
	pe = try_setlk(M("f"));
	FX_ASSERT(fe == 0, "flock(LOCK_EX|LOCK_NB) after the holder went "
		  "(%s): expected success, saw %s", fx_status_str(status),
		  errstr(fe));
	FX_ASSERT(pe == 0, "F_SETLK F_WRLCK [0, 10) after the holder went "
		  "(%s): expected success, saw %s", fx_status_str(status),
		  errstr(pe));
}

MOUNT_TEST(locks, locks_are_released_when_the_holder_exits)
{
	holder_goes(0);
}

MOUNT_TEST(locks, locks_are_released_when_the_holder_is_killed)
{
	holder_goes(1);
}

/* ---- where locks stop -------------------------------------------------- */

/*
 * Two mounts of the same storage (the same prefix): the same file, but
 * two filesystems to the kernel, which keeps locks per filesystem.  A lock
 * taken through one does not exclude one taken through the other: this
 * is what two machines sharing a bucket (or a directory) see, and what a
 * process that uses the backing directory directly sees.  If the daemon
 * ever implements locks across mounts, this test must change with the
 * README.
 */
MOUNT_TEST(locks_mounts, locks_do_not_reach_another_mount_of_the_same_storage)
{
	umask(022);
	const struct fx_mount two[] = {
		{ "a", "cluster", NULL },
		{ "b", "cluster", NULL },
	};
	fx_start(NULL, two, 2);
	FX_OK(fx_write_file(fx_mpath(0, "f"), "0123456789", 10, 0644));
	char buf[16];
	FX_ASSERT(fx_read_file(fx_mpath(1, "f"), buf, sizeof buf) == 10 &&
		  !strcmp(buf, "0123456789"), "expected the file written "
		  "through mount a to read the same through mount b");
	int fd = (int)FX_OK(open(fx_mpath(0, "f"), O_RDWR));
	FX_OK(flock(fd, LOCK_EX));
	set_lock(fd, F_WRLCK, 0, 10);
	/* the same mount: excluded */
	expect_flock(fx_mpath(0, "f"), LOCK_EX | LOCK_NB, EWOULDBLOCK,
		     "through the same mount, while this process holds "
		     "LOCK_EX");
	expect_setlk(fx_mpath(0, "f"), F_WRLCK, 0, 10, 1,
		     "through the same mount, while this process holds "
		     "F_WRLCK [0, 10)");
	/* the other mount: not */
	expect_flock(fx_mpath(1, "f"), LOCK_EX | LOCK_NB, 0,
		     "through another mount of the same storage, while this "
		     "process holds LOCK_EX through the first (locks are "
		     "per mount, as they are per machine)");
	expect_setlk(fx_mpath(1, "f"), F_WRLCK, 0, 10, 0,
		     "through another mount of the same storage, while this "
		     "process holds F_WRLCK [0, 10) through the first");
	if (fx.backend->has_backing_dir)
		expect_flock(fx_bpath(0, "f"), LOCK_EX | LOCK_NB, 0,
			     "on the backing file itself, while this process "
			     "holds LOCK_EX through the mount");
	FX_OK(close(fd));
}
