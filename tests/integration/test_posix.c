/*
 * POSIX behaviour through a scopefs mount, as root: file data at any
 * offset, namespace operations and their errors, attributes, xattrs,
 * readdir, large I/O, open-unlinked files; symlinks that point outside the
 * mount must never let the daemon write outside its root; read-only,
 * scoped and uid/gid/umask-overriding mounts.
 */
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include "mount_fixture.h"

#define M(rel) fx_mpath(0, rel)
#define B(rel) fx_bpath(0, rel)

static const struct fx_mount cluster_mount[] = {
	{ "cluster_storage", "cluster", NULL },
};

static void start_cluster(void)
{
	umask(022);
	fx_start(NULL, cluster_mount, 1);
}

TestSuite(posix, .init = start_cluster, .fini = fx_teardown, .timeout = 120);
/* Tests that start mounts of their own. */
TestSuite(posix_mounts, .fini = fx_teardown, .timeout = 120);

/* Deterministic bytes: the same (seed, offset) always gives the same byte,
 * so any range can be checked without keeping a copy. */
static unsigned char pattern_byte(unsigned seed, size_t off)
{
	uint64_t x = (off / 8 + 1) * 0x9E3779B97F4A7C15ull ^ seed;
	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	return (unsigned char)(x >> (8 * (off % 8)));
}

static void pattern_fill(unsigned char *buf, size_t len, unsigned seed,
			 size_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(seed, off + i);
}

static int renameat2_(const char *from, const char *to, unsigned flags)
{
	return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
}

static int is_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void expect_content(const char *path, const char *want, size_t len)
{
	char *buf = malloc(len + 2);
	cr_assert(buf);
	ssize_t n = fx_read_file(path, buf, len + 2);
	FX_ASSERT(n >= 0, "read %s: expected %zu bytes, saw error %s", path,
		  len, fx_errname(errno));
	FX_ASSERT((size_t)n == len, "read %s: expected %zu bytes, saw %zd",
		  path, len, n);
	for (size_t i = 0; i < len; i++)
		if (buf[i] != want[i])
			FX_FAIL("read %s: first difference at byte %zu of %zu: "
				"expected 0x%02x, saw 0x%02x (\"%.*s\")", path,
				i, len, (unsigned char)want[i],
				(unsigned char)buf[i], (int)(len < 40 ? len : 40),
				buf);
	free(buf);
}

static void expect_missing(const char *path)
{
	struct stat st;
	FX_ERRNO(lstat(path, &st), ENOENT);
}

/* ---- file data --------------------------------------------------------- */

MOUNT_TEST(posix, write_at_offsets_reads_back)
{
	int fd = FX_OK(open(M("f"), O_RDWR | O_CREAT | O_EXCL, 0644));
	FX_EQ_INT(pwrite(fd, "hello", 5, 0), 5);
	FX_EQ_INT(pwrite(fd, "world", 5, 100), 5);
	FX_EQ_INT(pwrite(fd, "EL", 2, 1), 2);
	struct stat st;
	FX_OK(fstat(fd, &st));
	FX_EQ_INT(st.st_size, 105);

	char want[105] = "hELlo";
	memcpy(want + 100, "world", 5);
	char buf[200];
	FX_EQ_INT(pread(fd, buf, sizeof buf, 0), 105);
	FX_EQ_MEM(buf, want, 105);
	FX_EQ_INT(pread(fd, buf, 10, 103), 2);
	FX_EQ_MEM(buf, "ld", 2);
	FX_EQ_INT(pread(fd, buf, 10, 105), 0);
	FX_EQ_INT(pread(fd, buf, 10, 5000), 0);
	FX_OK(close(fd));
	expect_content(M("f"), want, 105);
}

MOUNT_TEST(posix, write_far_beyond_eof_leaves_a_zero_hole)
{
	const off_t off = 5 * 1024 * 1024 + 3;
	int fd = FX_OK(open(M("sparse"), O_RDWR | O_CREAT, 0644));
	FX_EQ_INT(pwrite(fd, "tail", 4, off), 4);
	FX_OK(close(fd));
	struct stat st;
	FX_OK(stat(M("sparse"), &st));
	FX_EQ_INT(st.st_size, off + 4);

	char *buf = malloc((size_t)off + 16);
	cr_assert(buf);
	FX_EQ_INT(fx_read_file(M("sparse"), buf, (size_t)off + 16), off + 4);
	FX_ASSERT(is_zero(buf, (size_t)off),
		  "expected %lld zero bytes before the tail, saw data there",
		  (long long)off);
	FX_EQ_MEM(buf + off, "tail", 4);
	free(buf);
}

MOUNT_TEST(posix, o_append_writes_go_to_the_current_end)
{
	FX_OK(fx_write_file(M("log"), "abc", 3, 0644));
	int a = FX_OK(open(M("log"), O_WRONLY | O_APPEND));
	int b = FX_OK(open(M("log"), O_WRONLY | O_APPEND));
	int plain = FX_OK(open(M("log"), O_RDWR));
	FX_OK(lseek(a, 0, SEEK_SET));
	FX_EQ_INT(write(a, "def", 3), 3);
	FX_EQ_INT(write(b, "gh", 2), 2);
	/* the file grows through another descriptor: appends follow it */
	FX_EQ_INT(pwrite(plain, "Z", 1, 20), 1);
	FX_EQ_INT(write(a, "ij", 2), 2);
	FX_OK(close(a));
	FX_OK(close(b));
	FX_OK(close(plain));

	char want[23] = "abcdefgh";
	want[20] = 'Z';
	memcpy(want + 21, "ij", 2);
	expect_content(M("log"), want, sizeof want);
}

MOUNT_TEST(posix, truncate_grows_with_zeros_and_shrinks)
{
	FX_OK(fx_write_file(M("t"), "0123456789", 10, 0644));
	FX_OK(truncate(M("t"), 20));
	expect_content(M("t"), "0123456789\0\0\0\0\0\0\0\0\0\0", 20);
	FX_OK(truncate(M("t"), 4));
	expect_content(M("t"), "0123", 4);
	/* bytes cut off must not come back when the file grows again */
	FX_OK(truncate(M("t"), 8));
	expect_content(M("t"), "0123\0\0\0\0", 8);

	int fd = FX_OK(open(M("t"), O_RDWR));
	FX_OK(ftruncate(fd, 2));
	struct stat st;
	FX_OK(fstat(fd, &st));
	FX_EQ_INT(st.st_size, 2);
	FX_OK(ftruncate(fd, 70000));
	FX_EQ_INT(pwrite(fd, "x", 1, 69999), 1);
	FX_OK(close(fd));
	char *want = calloc(1, 70000);
	cr_assert(want);
	memcpy(want, "01", 2);
	want[69999] = 'x';
	expect_content(M("t"), want, 70000);
	free(want);
}

MOUNT_TEST(posix, open_o_trunc_empties_the_file)
{
	FX_OK(fx_write_file(M("t"), "some content", 12, 0644));
	int fd = FX_OK(open(M("t"), O_WRONLY | O_TRUNC));
	struct stat st;
	FX_OK(fstat(fd, &st));
	FX_EQ_INT(st.st_size, 0);
	FX_EQ_INT(write(fd, "new", 3), 3);
	FX_OK(close(fd));
	expect_content(M("t"), "new", 3);
}

MOUNT_TEST(posix, o_excl_on_an_existing_name_fails_eexist)
{
	FX_OK(fx_write_file(M("f"), "keep", 4, 0644));
	FX_OK(mkdir(M("d"), 0755));
	FX_OK(symlink("dangling-target", M("l")));
	FX_ERRNO(open(M("f"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	FX_ERRNO(open(M("d"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	/* O_EXCL does not follow a symlink, even a dangling one */
	FX_ERRNO(open(M("l"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	expect_content(M("f"), "keep", 4);
	expect_missing(M("dangling-target"));
}

/* ---- namespace --------------------------------------------------------- */

MOUNT_TEST(posix, rename_file_over_an_existing_file_replaces_it)
{
	FX_OK(fx_write_file(M("a"), "AAA", 3, 0644));
	FX_OK(fx_write_file(M("b"), "BBBBB", 5, 0644));
	FX_OK(rename(M("a"), M("b")));
	expect_missing(M("a"));
	expect_content(M("b"), "AAA", 3);
	/* renaming onto itself is a no-op */
	FX_OK(rename(M("b"), M("b")));
	expect_content(M("b"), "AAA", 3);
	FX_ERRNO(rename(M("missing"), M("b")), ENOENT);
}

/* A file held open across a rename and a chmod: on an object store both
 * rewrite the object (copy), and stores give the copy a new ETag (Azure
 * always); a later write that reads the old bytes must use the new one. */
MOUNT_TEST(posix, file_held_open_is_writable_after_rename_and_chmod)
{
	char want[4096];
	memset(want, 'x', sizeof want);
	FX_OK(fx_write_file(M("e"), want, sizeof want, 0644));
	FX_OK(mkdir(M("d1"), 0755));
	FX_OK(fx_write_file(M("d1/f"), want, sizeof want, 0644));
	int held = FX_OK(open(M("e"), O_RDONLY));
	int held2 = FX_OK(open(M("d1/f"), O_RDONLY));
	FX_OK(rename(M("e"), M("c")));
	FX_OK(chmod(M("c"), 0700));
	FX_OK(rename(M("d1"), M("d2")));
	int fd = FX_OK(open(M("c"), O_WRONLY));
	FX_ASSERT(pwrite(fd, "YY", 2, 100) == 2, "pwrite c after rename and "
		  "chmod with e held open: %s", fx_errname(errno));
	FX_OK(close(fd));
	fd = FX_OK(open(M("d2/f"), O_WRONLY));
	FX_ASSERT(pwrite(fd, "ZZ", 2, 200) == 2, "pwrite d2/f after renaming "
		  "its directory with it held open: %s", fx_errname(errno));
	FX_OK(close(fd));
	FX_OK(close(held));
	FX_OK(close(held2));
	memcpy(want + 100, "YY", 2);
	expect_content(M("c"), want, sizeof want);
	memcpy(want + 100, "xx", 2);
	memcpy(want + 200, "ZZ", 2);
	expect_content(M("d2/f"), want, sizeof want);
}

MOUNT_TEST(posix, rename_between_file_and_dir_is_refused)
{
	FX_OK(fx_write_file(M("f"), "f", 1, 0644));
	FX_OK(mkdir(M("d"), 0755));
	FX_ERRNO(rename(M("f"), M("d")), EISDIR);
	FX_ERRNO(rename(M("d"), M("f")), ENOTDIR);
	FX_ERRNO(rename(M("d"), M("d/sub")), EINVAL);
}

MOUNT_TEST(posix, rename_directory_moves_its_contents)
{
	FX_OK(mkdir(M("d1"), 0755));
	FX_OK(mkdir(M("d1/sub"), 0755));
	FX_OK(fx_write_file(M("d1/sub/f"), "deep", 4, 0644));
	FX_OK(rename(M("d1"), M("d2")));
	expect_missing(M("d1"));
	expect_content(M("d2/sub/f"), "deep", 4);
	/* over an empty directory */
	FX_OK(mkdir(M("empty"), 0755));
	FX_OK(rename(M("d2"), M("empty")));
	expect_missing(M("d2"));
	expect_content(M("empty/sub/f"), "deep", 4);
	/* into another directory, then a file into it */
	FX_OK(mkdir(M("parent"), 0755));
	FX_OK(rename(M("empty"), M("parent/moved")));
	expect_content(M("parent/moved/sub/f"), "deep", 4);
	FX_OK(rename(M("parent/moved/sub/f"), M("parent/f2")));
	expect_content(M("parent/f2"), "deep", 4);
	expect_missing(M("parent/moved/sub/f"));
}

MOUNT_TEST(posix, rename_dir_over_a_non_empty_dir_fails_enotempty)
{
	FX_OK(mkdir(M("src"), 0755));
	FX_OK(mkdir(M("dst"), 0755));
	FX_OK(fx_write_file(M("dst/keep"), "k", 1, 0644));
	FX_ERRNO(rename(M("src"), M("dst")), ENOTEMPTY);
	expect_content(M("dst/keep"), "k", 1);
	struct stat st;
	FX_OK(stat(M("src"), &st));
}

MOUNT_TEST(posix, rename_noreplace_refuses_an_existing_target)
{
	FX_OK(fx_write_file(M("a"), "A", 1, 0644));
	FX_OK(fx_write_file(M("b"), "B", 1, 0644));
	FX_ERRNO(renameat2_(M("a"), M("b"), RENAME_NOREPLACE), EEXIST);
	expect_content(M("a"), "A", 1);
	expect_content(M("b"), "B", 1);
	FX_OK(renameat2_(M("a"), M("c"), RENAME_NOREPLACE));
	expect_missing(M("a"));
	expect_content(M("c"), "A", 1);
}

MOUNT_TEST(posix, rename_exchange_swaps_two_entries)
{
	FX_OK(fx_write_file(M("a"), "A", 1, 0644));
	FX_OK(fx_write_file(M("b"), "BB", 2, 0644));
	if (fx_lacks(FX_NO_EXCHANGE)) {
		/* two objects (NFSv3 names) cannot be swapped atomically:
		 * refused, both left as they were */
		FX_ERRNO(renameat2_(M("a"), M("b"), RENAME_EXCHANGE), EINVAL);
		expect_content(M("a"), "A", 1);
		expect_content(M("b"), "BB", 2);
		FX_SKIP("backend %s: RENAME_EXCHANGE is refused with EINVAL by "
			"design", fx.backend->name);
	}
	FX_OK(renameat2_(M("a"), M("b"), RENAME_EXCHANGE));
	expect_content(M("a"), "BB", 2);
	expect_content(M("b"), "A", 1);
	/* a file and a directory */
	FX_OK(mkdir(M("d"), 0755));
	FX_OK(fx_write_file(M("d/in"), "in", 2, 0644));
	FX_OK(renameat2_(M("d"), M("a"), RENAME_EXCHANGE));
	expect_content(M("a/in"), "in", 2);
	expect_content(M("d"), "BB", 2);
	FX_ERRNO(renameat2_(M("a"), M("missing"), RENAME_EXCHANGE), ENOENT);
}

MOUNT_TEST(posix, mkdir_and_rmdir)
{
	FX_OK(mkdir(M("d"), 0750));
	struct stat st;
	FX_OK(stat(M("d"), &st));
	FX_ASSERT(S_ISDIR(st.st_mode), "expected a directory, saw mode 0%o",
		  st.st_mode);
	FX_EQ_MODE(st.st_mode & 07777, 0750);
	FX_ERRNO(mkdir(M("d"), 0755), EEXIST);
	FX_ERRNO(mkdir(M("missing/d"), 0755), ENOENT);
	FX_OK(rmdir(M("d")));
	expect_missing(M("d"));
	FX_ERRNO(rmdir(M("d")), ENOENT);
	FX_OK(fx_write_file(M("f"), "", 0, 0644));
	FX_ERRNO(rmdir(M("f")), ENOTDIR);
}

MOUNT_TEST(posix, rmdir_of_a_non_empty_dir_fails_enotempty)
{
	FX_OK(mkdir(M("d"), 0755));
	FX_OK(fx_write_file(M("d/f"), "x", 1, 0644));
	FX_ERRNO(rmdir(M("d")), ENOTEMPTY);
	FX_OK(unlink(M("d/f")));
	FX_OK(mkdir(M("d/sub"), 0755));
	FX_ERRNO(rmdir(M("d")), ENOTEMPTY);
	FX_OK(rmdir(M("d/sub")));
	FX_OK(rmdir(M("d")));
}

MOUNT_TEST(posix, unlink_removes_a_file_and_refuses_directories)
{
	FX_OK(fx_write_file(M("f"), "x", 1, 0644));
	FX_OK(unlink(M("f")));
	expect_missing(M("f"));
	FX_ERRNO(unlink(M("f")), ENOENT);
	FX_OK(mkdir(M("d"), 0755));
	FX_ERRNO(unlink(M("d")), EISDIR);
	FX_OK(symlink("f", M("l")));
	FX_OK(unlink(M("l")));
	expect_missing(M("l"));
}

MOUNT_TEST(posix, symlink_and_readlink)
{
	const char *target = "some/../relative target";
	FX_OK(symlink(target, M("l")));
	char buf[PATH_MAX];
	ssize_t n = FX_OK(readlink(M("l"), buf, sizeof buf));
	buf[n] = '\0';
	FX_EQ_STR(buf, target);
	struct stat st;
	FX_OK(lstat(M("l"), &st));
	FX_ASSERT(S_ISLNK(st.st_mode), "expected a symlink, saw mode 0%o",
		  st.st_mode);
	FX_EQ_INT(st.st_size, strlen(target));
	FX_ERRNO(symlink("x", M("l")), EEXIST);

	/* a relative link to a file beside it is followed by open() */
	FX_OK(fx_write_file(M("file"), "via link", 8, 0644));
	FX_OK(symlink("file", M("tofile")));
	expect_content(M("tofile"), "via link", 8);
	FX_ERRNO(readlink(M("file"), buf, sizeof buf), EINVAL);
}

MOUNT_TEST(posix, hard_link_counts_two_and_shares_content)
{
	FX_OK(fx_write_file(M("f"), "data", 4, 0644));
	FX_OK(mkdir(M("d"), 0755));
	if (fx_object_store()) {
		/* objects have one name each: link(2) answers EPERM, as on
		 * filesystems without hard links */
		FX_ERRNO(link(M("f"), M("d/g")), EPERM);
		expect_missing(M("d/g"));
		expect_content(M("f"), "data", 4);
		FX_SKIP("backend %s is an object store: hard links are "
			"refused with EPERM by design", fx.backend->name);
	}
	FX_OK(link(M("f"), M("d/g")));
	struct stat sf, sg;
	FX_OK(stat(M("f"), &sf));
	FX_OK(stat(M("d/g"), &sg));
	FX_EQ_INT(sf.st_nlink, 2);
	FX_EQ_INT(sg.st_nlink, 2);
	FX_EQ_INT(sg.st_ino, sf.st_ino);
	expect_content(M("d/g"), "data", 4);
	/* a write through one name shows through the other */
	int fd = FX_OK(open(M("d/g"), O_WRONLY));
	FX_EQ_INT(pwrite(fd, "DA", 2, 0), 2);
	FX_OK(close(fd));
	expect_content(M("f"), "DAta", 4);
	FX_OK(unlink(M("f")));
	FX_OK(stat(M("d/g"), &sg));
	FX_EQ_INT(sg.st_nlink, 1);
	FX_ERRNO(link(M("d"), M("dlink")), EPERM);
	FX_ERRNO(link(M("d/g"), M("d/g")), EEXIST);
}

/* ---- attributes -------------------------------------------------------- */

MOUNT_TEST(posix, chmod_sets_the_mode_bits)
{
	FX_OK(fx_write_file(M("f"), "x", 1, 0644));
	FX_OK(mkdir(M("d"), 0755));
	const mode_t modes[] = { 0600, 0640, 0000, 0777, 04755, 02750, 0444 };
	struct stat st;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		FX_OK(chmod(M("f"), modes[i]));
		FX_OK(stat(M("f"), &st));
		FX_EQ_MODE(st.st_mode & 07777, modes[i]);
		FX_ASSERT(S_ISREG(st.st_mode), "expected a regular file, saw "
			  "mode 0%o", st.st_mode);
	}
	FX_OK(chmod(M("d"), 01777));
	FX_OK(stat(M("d"), &st));
	FX_EQ_MODE(st.st_mode & 07777, 01777);
	int fd = FX_OK(open(M("f"), O_RDONLY));
	FX_OK(fchmod(fd, 0604));
	FX_OK(fstat(fd, &st));
	FX_EQ_MODE(st.st_mode & 07777, 0604);
	FX_OK(close(fd));
	FX_ERRNO(chmod(M("missing"), 0644), ENOENT);
}

MOUNT_TEST(posix, chown_as_root_changes_the_owner)
{
	FX_OK(fx_write_file(M("f"), "x", 1, 0644));
	struct stat st;
	FX_OK(chown(M("f"), 1234, 5678));
	FX_OK(stat(M("f"), &st));
	FX_EQ_INT(st.st_uid, 1234);
	FX_EQ_INT(st.st_gid, 5678);
	FX_OK(chown(M("f"), (uid_t)-1, 42));
	FX_OK(stat(M("f"), &st));
	FX_EQ_INT(st.st_uid, 1234);
	FX_EQ_INT(st.st_gid, 42);
	/* lchown changes the link, not what it points to */
	FX_OK(symlink("f", M("l")));
	FX_OK(lchown(M("l"), 77, 88));
	FX_OK(lstat(M("l"), &st));
	FX_EQ_INT(st.st_uid, 77);
	FX_EQ_INT(st.st_gid, 88);
	FX_OK(stat(M("f"), &st));
	FX_EQ_INT(st.st_uid, 1234);
	FX_EQ_INT(st.st_gid, 42);
}

MOUNT_TEST(posix, utimens_sets_times_read_back_exactly)
{
	FX_OK(fx_write_file(M("f"), "x", 1, 0644));
	struct timespec ts[2] = { { 1000000000, 123456789 },
				  { 1234567890, 987654321 } };
	FX_OK(utimensat(AT_FDCWD, M("f"), ts, 0));
	struct stat st;
	FX_OK(stat(M("f"), &st));
	/* exact to what the storage keeps: the backing file when there is
	 * one, else the nanoseconds asked for */
	struct timespec want_a = ts[0], want_m = ts[1];
	if (fx.backend->has_backing_dir) {
		struct stat bs;
		FX_OK(stat(B("f"), &bs));
		want_a = bs.st_atim;
		want_m = bs.st_mtim;
		FX_EQ_INT(bs.st_mtim.tv_sec, ts[1].tv_sec);
	}
	FX_EQ_INT(st.st_mtim.tv_sec, want_m.tv_sec);
	FX_EQ_INT(st.st_mtim.tv_nsec, want_m.tv_nsec);
	FX_EQ_INT(st.st_atim.tv_sec, want_a.tv_sec);
	FX_EQ_INT(st.st_atim.tv_nsec, want_a.tv_nsec);

	/* UTIME_OMIT keeps a time, UTIME_NOW takes the clock */
	struct timespec ts2[2] = { { 0, UTIME_OMIT }, { 0, UTIME_NOW } };
	time_t before = time(NULL);
	FX_OK(utimensat(AT_FDCWD, M("f"), ts2, 0));
	FX_OK(stat(M("f"), &st));
	FX_EQ_INT(st.st_atim.tv_sec, want_a.tv_sec);
	FX_EQ_INT(st.st_atim.tv_nsec, want_a.tv_nsec);
	FX_ASSERT(st.st_mtim.tv_sec >= before - 1 &&
			  st.st_mtim.tv_sec <= time(NULL) + 1,
		  "UTIME_NOW: expected mtime near %lld, saw %lld",
		  (long long)before, (long long)st.st_mtim.tv_sec);
	/* futimens through an open descriptor */
	int fd = FX_OK(open(M("f"), O_RDWR));
	FX_OK(futimens(fd, ts));
	FX_OK(close(fd));
	FX_OK(stat(M("f"), &st));
	FX_EQ_INT(st.st_mtim.tv_sec, want_m.tv_sec);
	FX_EQ_INT(st.st_mtim.tv_nsec, want_m.tv_nsec);
}

MOUNT_TEST(posix, statfs_reports_the_storage)
{
	struct statvfs sv;
	FX_OK(statvfs(M(""), &sv));
	FX_ASSERT(sv.f_bsize > 0 && sv.f_blocks > 0 && sv.f_namemax > 0,
		  "expected non-zero f_bsize, f_blocks, f_namemax, saw %lu, "
		  "%llu, %lu", sv.f_bsize, (unsigned long long)sv.f_blocks,
		  sv.f_namemax);
	FX_ASSERT(sv.f_bavail <= sv.f_blocks, "expected f_bavail <= f_blocks,"
		  " saw %llu > %llu", (unsigned long long)sv.f_bavail,
		  (unsigned long long)sv.f_blocks);
	if (!fx.backend->has_backing_dir)
		return;
	struct statvfs bv;
	FX_OK(statvfs(B(""), &bv));
	FX_EQ_INT((unsigned long long)sv.f_blocks * sv.f_frsize,
		  (unsigned long long)bv.f_blocks * bv.f_frsize);
	FX_EQ_INT(sv.f_files, bv.f_files);
}

MOUNT_TEST(posix, fsync_and_fdatasync_succeed)
{
	int fd = FX_OK(open(M("f"), O_RDWR | O_CREAT, 0644));
	FX_EQ_INT(write(fd, "durable", 7), 7);
	FX_OK(fsync(fd));
	FX_EQ_INT(write(fd, "!", 1), 1);
	FX_OK(fdatasync(fd));
	FX_OK(close(fd));
	int dfd = FX_OK(open(M(""), O_RDONLY | O_DIRECTORY));
	FX_OK(fsync(dfd));
	FX_OK(close(dfd));
	expect_content(M("f"), "durable!", 8);
	if (fx.backend->has_backing_dir)
		expect_content(B("f"), "durable!", 8);
}

MOUNT_TEST(posix, user_xattrs_set_get_list_remove)
{
	if (fx.backend->has_backing_dir) {
		const char *probe = fx_fmt("%s/xattr-probe", fx.dir);
		FX_OK(fx_write_file(probe, "", 0, 0644));
		if (setxattr(probe, "user.probe", "1", 1, 0) < 0 &&
		    (errno == ENOTSUP || errno == EOPNOTSUPP))
			FX_SKIP("the backing filesystem of %s has no user "
				"xattrs", fx.dir);
	}
	FX_OK(fx_write_file(M("f"), "x", 1, 0644));
	if (fx_lacks(FX_NO_XATTR)) {
		FX_ERRNO(setxattr(M("f"), "user.color", "blue", 4, 0),
			 EOPNOTSUPP);
		FX_SKIP("backend %s: extended attributes are not supported "
			"(EOPNOTSUPP)", fx.backend->name);
	}
	FX_OK(setxattr(M("f"), "user.color", "blue", 4, 0));
	char buf[256];
	FX_EQ_INT(getxattr(M("f"), "user.color", NULL, 0), 4);
	FX_EQ_INT(getxattr(M("f"), "user.color", buf, sizeof buf), 4);
	FX_EQ_MEM(buf, "blue", 4);
	FX_ERRNO(getxattr(M("f"), "user.color", buf, 2), ERANGE);
	FX_ERRNO(getxattr(M("f"), "user.none", buf, sizeof buf), ENODATA);
	FX_ERRNO(setxattr(M("f"), "user.color", "red", 3, XATTR_CREATE),
		 EEXIST);
	FX_ERRNO(setxattr(M("f"), "user.none", "red", 3, XATTR_REPLACE),
		 ENODATA);
	FX_OK(setxattr(M("f"), "user.color", "red", 3, XATTR_REPLACE));
	FX_EQ_INT(getxattr(M("f"), "user.color", buf, sizeof buf), 3);
	FX_EQ_MEM(buf, "red", 3);
	FX_OK(setxattr(M("f"), "user.empty", "", 0, 0));
	FX_EQ_INT(getxattr(M("f"), "user.empty", buf, sizeof buf), 0);

	ssize_t n = FX_OK(listxattr(M("f"), buf, sizeof buf));
	int color = 0, empty = 0;
	for (char *p = buf; p < buf + n; p += strlen(p) + 1) {
		color |= strcmp(p, "user.color") == 0;
		empty |= strcmp(p, "user.empty") == 0;
	}
	FX_ASSERT(color && empty, "listxattr: expected user.color and "
		  "user.empty, saw color=%d empty=%d in %zd bytes", color,
		  empty, n);
	FX_EQ_INT(listxattr(M("f"), NULL, 0), n);
	if (fx.backend->has_backing_dir) {
		FX_EQ_INT(getxattr(B("f"), "user.color", buf, sizeof buf), 3);
		FX_EQ_MEM(buf, "red", 3);
	}
	FX_OK(removexattr(M("f"), "user.color"));
	FX_ERRNO(getxattr(M("f"), "user.color", buf, sizeof buf), ENODATA);
	FX_ERRNO(removexattr(M("f"), "user.color"), ENODATA);
	/* directories carry them too */
	FX_OK(mkdir(M("d"), 0755));
	FX_OK(setxattr(M("d"), "user.tag", "dir", 3, 0));
	FX_EQ_INT(getxattr(M("d"), "user.tag", buf, sizeof buf), 3);
	FX_EQ_MEM(buf, "dir", 3);
}

/* ---- readdir ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in DIR (with "." and ".."), checking d_type against
 * lstat when the filesystem fills it. */
static int list_dir(const char *dir, char ***names)
{
	DIR *d = opendir(dir);
	FX_ASSERT(d, "opendir %s: %s", dir, fx_errname(errno));
	int n = 0, cap = 64;
	char **v = malloc(cap * sizeof *v);
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		cr_assert(v);
		v[n++] = strdup(e->d_name);
		if (e->d_type == DT_UNKNOWN || !strcmp(e->d_name, ".") ||
		    !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		FX_OK(fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW));
		FX_EQ_INT(e->d_type, IFTODT(st.st_mode));
	}
	FX_ASSERT(errno == 0, "readdir %s: %s", dir, fx_errname(errno));
	closedir(d);
	if (n)
		qsort(v, n, sizeof *v, cmp_str);
	*names = v;
	return n;
}

/* DIR must list exactly WANT, "." and ".." aside (see
 * readdir_includes_dot_and_dotdot). */
static void expect_listing(const char *dir, char **want, int nwant)
{
	char **got;
	int n = list_dir(dir, &got), k = 0;
	for (int i = 0; i < n; i++) {
		if (strcmp(got[i], ".") && strcmp(got[i], ".."))
			got[k++] = got[i];
		else
			free(got[i]);
	}
	n = k;
	if (nwant) /* qsort(NULL, 0) is undefined */
		qsort(want, nwant, sizeof *want, cmp_str);
	for (int i = 0; i < n || i < nwant; i++) {
		const char *g = i < n ? got[i] : "(end)";
		const char *w = i < nwant ? want[i] : "(end)";
		FX_ASSERT(!strcmp(g, w), "listing %s, sorted entry %d: "
			  "expected \"%s\", saw \"%s\" (%d entries expected, "
			  "%d seen)", dir, i, w, g, nwant, n);
	}
	for (int i = 0; i < n; i++)
		free(got[i]);
	free(got);
}

MOUNT_TEST(posix, readdir_lists_exactly_the_entries)
{
	char *want[64];
	int n = 0;
	static char names[20][16];
	FX_OK(mkdir(M("d"), 0755));
	for (int i = 0; i < 20; i++) {
		char *name = names[i];
		snprintf(name, sizeof names[i], "file-%02d", i);
		FX_OK(fx_write_file(M(fx_fmt("d/%s", name)), name, 3, 0644));
		want[n++] = name;
	}
	FX_OK(mkdir(M("d/subdir"), 0755));
	want[n++] = "subdir";
	FX_OK(symlink("file-00", M("d/link")));
	want[n++] = "link";
	FX_OK(fx_write_file(M("d/name with spaces & ünïcode"), "", 0, 0644));
	want[n++] = "name with spaces & ünïcode";
	expect_listing(M("d"), want, n);

	FX_OK(unlink(M("d/file-05")));
	FX_OK(rename(M("d/file-06"), M("d/renamed")));
	for (int i = 0; i < n; i++) {
		if (!strcmp(want[i], "file-05"))
			want[i] = want[--n];
		if (!strcmp(want[i], "file-06"))
			want[i] = "renamed";
	}
	expect_listing(M("d"), want, n);
	expect_listing(M("d/subdir"), NULL, 0);
}

MOUNT_TEST(posix, readdir_includes_dot_and_dotdot)
{
	/* as every native Linux filesystem does; some programs rely on it */
	FX_OK(mkdir(M("d"), 0755));
	FX_OK(fx_write_file(M("d/f"), "", 0, 0644));
	const char *dirs[] = { "", "d" };
	for (int k = 0; k < 2; k++) {
		char **got;
		int n = list_dir(M(dirs[k]), &got), dot = 0, dotdot = 0;
		for (int i = 0; i < n; i++) {
			dot += !strcmp(got[i], ".");
			dotdot += !strcmp(got[i], "..");
			free(got[i]);
		}
		free(got);
		FX_ASSERT(dot == 1 && dotdot == 1, "listing \"%s\": expected "
			  "\".\" and \"..\" once each, saw them %d and %d "
			  "times", M(dirs[k]), dot, dotdot);
	}
}

/* 2,000 creates are 2,000 round trips on an object store (about 50 s
 * here on a loaded machine), hence the long timeout. */
MOUNT_TEST(posix, readdir_lists_two_thousand_entries_once_each,
	   .timeout = 400)
{
	enum { N = 2000 };
	char **want = malloc(N * sizeof *want);
	cr_assert(want);
	FX_OK(mkdir(M("big"), 0755));
	for (int i = 0; i < N; i++) {
		/* long names make the listing span many readdir replies */
		want[i] = strdup(fx_fmt("entry-with-a-rather-long-name-to-"
					"fill-the-buffers-%05d", i));
		int fd = FX_OK(open(M(fx_fmt("big/%s", want[i])),
				    O_CREAT | O_WRONLY, 0644));
		close(fd);
	}
	expect_listing(M("big"), want, N);
	for (int i = 0; i < N; i++)
		free(want[i]);
	free(want);
}

/* ---- larger I/O and open files ----------------------------------------- */

MOUNT_TEST(posix, eight_mib_in_one_mib_writes_reads_back_identical,
	   .timeout = 180)
{
	const size_t total = 8u << 20, chunk = 1u << 20;
	unsigned char *w = malloc(chunk), *r = malloc(total + 1);
	cr_assert(w && r);
	int fd = FX_OK(open(M("big"), O_WRONLY | O_CREAT | O_TRUNC, 0644));
	for (size_t off = 0; off < total; off += chunk) {
		pattern_fill(w, chunk, 7, off);
		FX_EQ_INT(write(fd, w, chunk), chunk);
	}
	FX_OK(close(fd));
	struct stat st;
	FX_OK(stat(M("big"), &st));
	FX_EQ_INT(st.st_size, total);

	/* read back with an odd read size, compared byte by byte */
	fd = FX_OK(open(M("big"), O_RDONLY));
	size_t got = 0;
	for (;;) {
		ssize_t n = FX_OK(read(fd, r + got, 100003));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	FX_OK(close(fd));
	FX_EQ_INT(got, total);
	for (size_t off = 0; off < total; off += chunk) {
		pattern_fill(w, chunk, 7, off);
		for (size_t i = 0; i < chunk; i++)
			if (r[off + i] != w[i])
				FX_FAIL("byte %zu: expected 0x%02x, saw 0x%02x",
					off + i, w[i], r[off + i]);
	}
	if (fx.backend->has_backing_dir) {
		FX_OK(stat(B("big"), &st));
		FX_EQ_INT(st.st_size, total);
	}
	free(w);
	free(r);
}

MOUNT_TEST(posix, open_unlinked_file_stays_readable_and_writable)
{
	FX_OK(mkdir(M("d"), 0755));
	int fd = FX_OK(open(M("d/f"), O_RDWR | O_CREAT, 0644));
	FX_EQ_INT(write(fd, "before", 6), 6);
	FX_OK(unlink(M("d/f")));
	expect_missing(M("d/f"));
	struct stat st;
	FX_OK(fstat(fd, &st));
	FX_EQ_INT(st.st_size, 6);
	FX_EQ_INT(st.st_nlink, 0);
	FX_EQ_INT(pwrite(fd, "after", 5, 6), 5);
	char buf[32];
	FX_EQ_INT(pread(fd, buf, sizeof buf, 0), 11);
	FX_EQ_MEM(buf, "beforeafter", 11);
	FX_OK(fstat(fd, &st));
	FX_EQ_INT(st.st_size, 11);
	FX_EQ_INT(st.st_nlink, 0);
	expect_listing(M("d"), NULL, 0);
	/* a new file of the same name is a different file */
	FX_OK(fx_write_file(M("d/f"), "new", 3, 0644));
	FX_EQ_INT(pread(fd, buf, sizeof buf, 0), 11);
	FX_OK(close(fd));
	expect_content(M("d/f"), "new", 3);
	char *one[] = { "f" };
	expect_listing(M("d"), one, 1);
	if (fx.backend->has_backing_dir)
		expect_listing(B("d"), one, 1);
}

MOUNT_TEST(posix, reopened_then_unlinked_file_keeps_its_attributes)
{
	/* the descriptor is not the one that created the file */
	FX_OK(fx_write_file(M("f"), "hello", 5, 0644));
	int fd = FX_OK(open(M("f"), O_RDWR));
	int other = FX_OK(open(M("f"), O_RDONLY));
	FX_OK(close(other));
	FX_OK(unlink(M("f")));
	struct stat st;
	FX_OK(fstat(fd, &st));
	FX_EQ_INT(st.st_size, 5);
	FX_EQ_INT(st.st_nlink, 0);
	FX_OK(ftruncate(fd, 2));
	FX_OK(fstat(fd, &st));
	FX_EQ_INT(st.st_size, 2);
	char buf[8];
	FX_EQ_INT(pread(fd, buf, sizeof buf, 0), 2);
	FX_EQ_MEM(buf, "he", 2);
	FX_OK(fchmod(fd, 0600));
	FX_OK(close(fd));
}

MOUNT_TEST(posix, data_is_in_the_backing_dir_after_close)
{
	fx_need_backing();
	FX_OK(mkdir(M("dir"), 0755));
	FX_OK(fx_write_file(M("dir/f"), "persisted", 9, 0640));
	expect_content(B("dir/f"), "persisted", 9);
	struct stat st;
	FX_OK(stat(B("dir/f"), &st));
	FX_EQ_MODE(st.st_mode & 07777, 0640);
	FX_OK(symlink("f", M("dir/l")));
	char buf[16];
	ssize_t n = FX_OK(readlink(B("dir/l"), buf, sizeof buf));
	FX_EQ_INT(n, 1);
	FX_EQ_MEM(buf, "f", 1);
	/* and what lands in the backing dir shows through the mount */
	FX_OK(fx_write_file(B("dir/outside-made"), "hello", 5, 0644));
	expect_content(M("dir/outside-made"), "hello", 5);
}

/* ---- symlinks that leave the mount ------------------------------------- */

/* What the sentinel outside the mount looks like; compared before and
 * after the attempts to reach it through the mount. */
struct snapshot {
	struct stat st;
	char data[64];
	ssize_t len;
	char xattrs[256];
	ssize_t xlen;
};

static void snap(const char *path, struct snapshot *s)
{
	memset(s, 0, sizeof *s);
	FX_OK(lstat(path, &s->st));
	s->len = fx_read_file(path, s->data, sizeof s->data);
	s->xlen = listxattr(path, s->xattrs, sizeof s->xattrs);
}

static void expect_untouched(const char *path, const struct snapshot *was,
			     const char *after)
{
	struct snapshot now;
	snap(path, &now);
	FX_ASSERT(now.len == was->len && !memcmp(now.data, was->data,
						  (size_t)was->len),
		  "after %s: expected %s to hold \"%.*s\", saw \"%.*s\"", after,
		  path, (int)was->len, was->data, (int)now.len, now.data);
	FX_ASSERT(now.st.st_mode == was->st.st_mode, "after %s: expected %s "
		  "mode 0%o, saw 0%o", after, path, was->st.st_mode,
		  now.st.st_mode);
	FX_ASSERT(now.st.st_uid == was->st.st_uid &&
			  now.st.st_gid == was->st.st_gid,
		  "after %s: expected %s owned by %d:%d, saw %d:%d", after,
		  path, was->st.st_uid, was->st.st_gid, now.st.st_uid,
		  now.st.st_gid);
	FX_ASSERT(now.st.st_mtim.tv_sec == was->st.st_mtim.tv_sec &&
			  now.st.st_mtim.tv_nsec == was->st.st_mtim.tv_nsec,
		  "after %s: expected %s mtime %lld, saw %lld", after, path,
		  (long long)was->st.st_mtim.tv_sec,
		  (long long)now.st.st_mtim.tv_sec);
	FX_ASSERT(now.xlen == was->xlen, "after %s: expected %s to have %zd "
		  "bytes of xattr names, saw %zd", after, path, was->xlen,
		  now.xlen);
}

/* DIR/outside/sentinel, the file nothing done through the mount may
 * change, and a twin to try unlinking. */
static const char *make_sentinel(struct snapshot *s)
{
	const char *out = fx_fmt("%s/outside", fx.dir);
	FX_OK(mkdir(out, 0755));
	static char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/outside/sentinel", fx.dir);
	FX_OK(fx_write_file(p, "sentinel\n", 9, 0644));
	FX_OK(fx_write_file(fx_fmt("%s/outside/sentinel2", fx.dir), "s2", 2,
			    0644));
	struct timespec old[2] = { { 1000, 0 }, { 1000, 0 } };
	FX_OK(utimensat(AT_FDCWD, p, old, 0));
	snap(p, s);
	return p;
}

/* From the backing dir of a cluster mount (DIR/data/job/job_1/
 * cluster_storage) this leads to DIR/outside; from the mount point
 * (DIR/mnt/cluster_storage), as the kernel resolves it, it leads two levels
 * above DIR, where nothing of the kind exists. */
#define ESCAPE "../../../../outside"

static void need_client_side_miss(void)
{
	const char *client = fx_fmt("%s/mnt/cluster_storage/" ESCAPE, fx.dir);
	struct stat st;
	if (stat(client, &st) == 0)
		FX_SKIP("%s exists, so the client-side resolution of the "
			"escaping link is not harmless here", client);
}

MOUNT_TEST(posix, escaping_symlinks_read_as_the_client_resolves_them)
{
	fx_need_backing();
	FX_OK(symlink("/etc/passwd", B("to_passwd")));
	FX_OK(symlink("../../../../etc", B("to_etc")));
	/* a decoy where the link leads from the backing dir's point of view */
	FX_OK(mkdir(fx_fmt("%s/etc", fx.dir), 0755));
	FX_OK(fx_write_file(fx_fmt("%s/etc/decoy", fx.dir), "", 0, 0644));

	char buf[PATH_MAX];
	ssize_t n = FX_OK(readlink(M("to_passwd"), buf, sizeof buf - 1));
	buf[n] = '\0';
	FX_EQ_STR(buf, "/etc/passwd");
	n = FX_OK(readlink(M("to_etc"), buf, sizeof buf - 1));
	buf[n] = '\0';
	FX_EQ_STR(buf, "../../../../etc");

	/* reading follows the link where the client sits */
	size_t plen = 0, mlen = 0;
	char *passwd = fx_slurp("/etc/passwd", &plen);
	char *via = fx_slurp(M("to_passwd"), &mlen);
	FX_ASSERT(passwd && via && plen == mlen && !memcmp(passwd, via, plen),
		  "expected %s to read as the client's /etc/passwd (%zu bytes)"
		  ", saw %zu bytes", M("to_passwd"), plen, via ? mlen : 0);
	free(passwd);
	free(via);
	struct stat want, seen;
	const char *client_etc = fx_fmt("%s/../../etc", fx.dir);
	if (stat(client_etc, &want) == 0) {
		FX_OK(stat(M("to_etc"), &seen));
		FX_ASSERT(seen.st_dev == want.st_dev &&
				  seen.st_ino == want.st_ino,
			  "expected %s to be %s, saw another directory",
			  M("to_etc"), client_etc);
	}
	FX_ERRNO(stat(M("to_etc/decoy"), &seen), ENOENT);
}

MOUNT_TEST(posix, setattr_on_an_escaping_symlink_leaves_its_target_alone)
{
	fx_need_backing();
	struct snapshot s;
	const char *sentinel = make_sentinel(&s);
	FX_OK(symlink(sentinel, B("esc")));
	struct stat st;
	FX_OK(lstat(M("esc"), &st));

	/* every call may succeed on the link itself or fail; none may reach
	 * the file it points to */
	(void)lchown(M("esc"), 1234, 1234);
	expect_untouched(sentinel, &s, "lchown of the link");
	struct timespec ts[2] = { { 5000, 0 }, { 5000, 0 } };
	(void)utimensat(AT_FDCWD, M("esc"), ts, AT_SYMLINK_NOFOLLOW);
	expect_untouched(sentinel, &s, "utimensat(AT_SYMLINK_NOFOLLOW)");
	(void)lsetxattr(M("esc"), "trusted.scopefs_test", "x", 1, 0);
	(void)lsetxattr(M("esc"), "user.scopefs_test", "x", 1, 0);
	expect_untouched(sentinel, &s, "lsetxattr of the link");
#ifdef SYS_fchmodat2
	(void)syscall(SYS_fchmodat2, AT_FDCWD, M("esc"), 0600,
		      AT_SYMLINK_NOFOLLOW);
#else
	(void)syscall(452, AT_FDCWD, M("esc"), 0600, AT_SYMLINK_NOFOLLOW);
#endif
	expect_untouched(sentinel, &s, "fchmodat2(AT_SYMLINK_NOFOLLOW)");
	(void)lremovexattr(M("esc"), "user.scopefs_test");
	expect_untouched(sentinel, &s, "lremovexattr of the link");
}

/* A mount that keeps what it looked up for a minute, so the kernel keeps
 * believing a name is what it was when the backing dir changes under it. */
static const struct fx_mount cached_mount[] = {
	{ "cluster_storage", "cluster", "cache_ttl = 60\n" },
};

/* Try to change what PATH names in every way the kernel forwards. */
static void attack(const char *path)
{
	(void)truncate(path, 0);
	(void)chmod(path, 0600);
	(void)chown(path, 1234, 1234);
	(void)setxattr(path, "user.evil", "1", 1, 0);
	struct timespec ts[2] = { { 5000, 0 }, { 5000, 0 } };
	(void)utimensat(AT_FDCWD, path, ts, 0);
	int fd = open(path, O_WRONLY);
	if (fd >= 0) {
		(void)!write(fd, "PWNED", 5);
		close(fd);
	}
	fd = open(path, O_RDWR | O_TRUNC);
	if (fd >= 0)
		close(fd);
}

MOUNT_TEST(posix_mounts, file_swapped_for_an_escaping_symlink_is_not_followed)
{
	fx_configure(cached_mount, 1);
	fx_need_backing();
	fx_launch(NULL);
	need_client_side_miss();
	struct snapshot s;
	const char *sentinel = make_sentinel(&s);
	FX_OK(fx_write_file(M("victim"), "victim", 6, 0644));
	struct stat st;
	FX_OK(stat(M("victim"), &st));
	/* behind the daemon's back, the file becomes a link out */
	FX_OK(symlink(ESCAPE "/sentinel", B("victim.tmp")));
	FX_OK(rename(B("victim.tmp"), B("victim")));
	attack(M("victim"));
	expect_untouched(sentinel, &s, "writes to a file swapped for a link");
}

MOUNT_TEST(posix_mounts, dir_swapped_for_an_escaping_symlink_is_not_followed)
{
	fx_configure(cached_mount, 1);
	fx_need_backing();
	fx_launch(NULL);
	need_client_side_miss();
	struct snapshot s;
	const char *sentinel = make_sentinel(&s);
	FX_OK(mkdir(M("sub"), 0755));
	struct stat st;
	FX_OK(stat(M("sub"), &st));
	FX_OK(rename(B("sub"), B("sub.old")));
	FX_OK(symlink(ESCAPE, B("sub")));

	attack(M("sub/sentinel"));
	expect_untouched(sentinel, &s, "writes below a dir swapped for a link");
	(void)unlink(M("sub/sentinel2"));
	(void)rename(M("sub/sentinel"), M("sub/moved"));
	int fd = open(M("sub/created"), O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	(void)mkdir(M("sub/newdir"), 0755);
	(void)symlink("x", M("sub/newlink"));
	expect_untouched(sentinel, &s, "namespace changes below the link");
	char *want[] = { "sentinel", "sentinel2" };
	expect_listing(fx_fmt("%s/outside", fx.dir), want, 2);
}

/* ---- mounts with options ----------------------------------------------- */

MOUNT_TEST(posix_mounts, read_only_mount_answers_erofs)
{
	/* Fill the prefix in the backing dir, or through a writable mount
	 * of the same prefix when the backend has no backing dir here. */
	const struct fx_mount m[] = {
		{ "ro", "cluster", "read_only = yes\n" },
		{ "rw", "cluster", NULL },
	};
	fx_configure(m, fx_pick_backend()->has_backing_dir ? 1 : 2);
	if (fx.backend->has_backing_dir) {
		FX_OK(fx_mkdirs(B("dir"), 0755));
		FX_OK(fx_write_file(B("existing"), "content", 7, 0644));
		fx_launch(NULL);
	} else {
		fx_launch(NULL);
		FX_OK(fx_write_file(fx_mpath(1, "existing"), "content", 7,
				    0644));
		FX_OK(mkdir(fx_mpath(1, "dir"), 0755));
	}
#define RO(rel) fx_mpath(0, rel)
	expect_content(RO("existing"), "content", 7);
	FX_ERRNO(open(RO("new"), O_WRONLY | O_CREAT, 0644), EROFS);
	FX_ERRNO(mkdir(RO("newdir"), 0755), EROFS);
	FX_ERRNO(unlink(RO("existing")), EROFS);
	FX_ERRNO(rmdir(RO("dir")), EROFS);
	FX_ERRNO(chmod(RO("existing"), 0600), EROFS);
	FX_ERRNO(chown(RO("existing"), 1, 1), EROFS);
	FX_ERRNO(open(RO("existing"), O_WRONLY), EROFS);
	FX_ERRNO(open(RO("existing"), O_RDWR), EROFS);
	FX_ERRNO(truncate(RO("existing"), 0), EROFS);
	FX_ERRNO(rename(RO("existing"), RO("renamed")), EROFS);
	FX_ERRNO(symlink("x", RO("link")), EROFS);
	FX_ERRNO(link(RO("existing"), RO("hard")), EROFS);
	FX_ERRNO(setxattr(RO("existing"), "user.x", "1", 1, 0), EROFS);
	FX_ERRNO(utimensat(AT_FDCWD, RO("existing"), NULL, 0), EROFS);
	expect_content(RO("existing"), "content", 7);
#undef RO
}

MOUNT_TEST(posix_mounts, scoped_mounts_land_in_their_prefixes)
{
	const struct fx_mount m[] = {
		{ "cluster_storage", "cluster", "cache_ttl = 1\n" },
		{ "user_storage", "user", NULL },
		{ "shared_storage", "cloud", "read_only = no\n" },
	};
	fx_start(NULL, m, 3);
	const char *tag[] = { "cluster", "user", "shared" };
	for (int i = 0; i < 3; i++)
		FX_OK(fx_write_file(fx_mpath(i, "whose"), tag[i],
				    strlen(tag[i]), 0644));
	for (int i = 0; i < 3; i++)
		expect_content(fx_mpath(i, "whose"), tag[i], strlen(tag[i]));
	if (!fx.backend->has_backing_dir)
		return;
	const char *where[] = { "job/job_1/cluster_storage",
				"user_storage/usr_1", "shared_storage" };
	for (int i = 0; i < 3; i++)
		expect_content(fx_fmt("%s/data/%s/whose", fx.dir, where[i]),
			       tag[i], strlen(tag[i]));
}

MOUNT_TEST(posix_mounts, uid_gid_umask_overrides_show_in_stat)
{
	const struct fx_mount m[] = {
		{ "over", "cluster", "uid = 1234\ngid = 2345\numask = 027\n" },
	};
	fx_start(NULL, m, 1);
	umask(0);
	FX_OK(fx_write_file(M("f"), "x", 1, 0666));
	FX_OK(mkdir(M("d"), 0777));
	FX_OK(fx_write_file(M("x"), "x", 1, 0755));
	struct stat st;
	const char *paths[] = { "", "f", "d", "x" };
	for (size_t i = 0; i < 4; i++) {
		FX_OK(stat(M(paths[i]), &st));
		FX_ASSERT(st.st_uid == 1234 && st.st_gid == 2345,
			  "stat \"%s\": expected owner 1234:2345, saw %d:%d",
			  paths[i], st.st_uid, st.st_gid);
		FX_ASSERT((st.st_mode & 027) == 0, "stat \"%s\": expected no "
			  "bits of umask 027, saw mode 0%o", paths[i],
			  st.st_mode & 07777);
	}
	FX_OK(stat(M("f"), &st));
	FX_EQ_MODE(st.st_mode & 07777, 0640);
	FX_OK(stat(M("d"), &st));
	FX_EQ_MODE(st.st_mode & 07777, 0750);
	FX_OK(stat(M("x"), &st));
	FX_EQ_MODE(st.st_mode & 07777, 0750);
	umask(022);
}
