/*
 * The local plugin against a real directory: dlopen the built plugin,
 * drive it through the ABI with a minimal host, and check what happened
 * on disk.  Every test gets a fresh temporary tree:
 *
 *   BASE/root/                        the backend's root (made by mount_open)
 *   BASE/root/job/j1/cluster_storage  the mount (MNT below)
 *   BASE/outside/secret               a sentinel no operation may touch
 *
 * The plugin is $SCOPEFS_TEST_PLUGIN_DIR/scopefs-local.so (or .../local/
 * scopefs-local.so), else $O/plugins/local/scopefs-local.so, else
 * plugins/local/scopefs-local.so from the repository root.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <scopefs/plugin.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define PREFIX "job/j1/cluster_storage"

static void *dl;
static const struct scopefs_plugin *P;
static const struct scopefs_fs_ops *F;
static void *backend;
static void *mnt;
static char base[1024];        /* the temporary tree */
static char root[2048];        /* BASE/root: the backend's root key */
static char mntdir[2048];      /* BASE/root/PREFIX: what the mount shows */
static char secret[2048];      /* BASE/outside/secret */
static struct stat secret_st;  /* the sentinel as created */
static char last_error[1024];  /* the plugin's last set_error */
static char last_log[1024];    /* the plugin's last log line */
static int fds_at_start;       /* open fds once the mount is open */

/* ---- a minimal host ---------------------------------------------------- */

static void t_log(const struct scopefs_host *h, int level, const char *fmt,
		  ...)
{
	va_list ap;

	(void)h;
	va_start(ap, fmt);
	vsnprintf(last_log, sizeof last_log, fmt, ap);
	va_end(ap);
	fprintf(stderr, "[local plugin, level %d] %s\n", level, last_log);
}

static void t_set_error(const struct scopefs_host *h, const char *fmt, ...)
{
	va_list ap;

	(void)h;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	fprintf(stderr, "[local plugin error] %s\n", last_error);
}

static const char *t_config_get(const struct scopefs_host *h,
				const char *key)
{
	(void)h;
	(void)key;
	return NULL;
}

static const struct scopefs_host host = {
	.struct_size = sizeof(struct scopefs_host),
	.abi_major = SCOPEFS_ABI_MAJOR,
	.abi_minor = SCOPEFS_ABI_MINOR,
	.backend_name = "test",
	.log = t_log,
	.set_error = t_set_error,
	.config_get = t_config_get,
};

/* ---- fixture ----------------------------------------------------------- */

static void load_plugin(void)
{
	const char *dir = getenv("SCOPEFS_TEST_PLUGIN_DIR");
	const char *o = getenv("O");
	char path[PATH_MAX];
	scopefs_plugin_entry_fn entry;

	if (dir) {
		snprintf(path, sizeof path, "%s/scopefs-local.so", dir);
		if (access(path, F_OK) != 0)
			snprintf(path, sizeof path, "%s/local/scopefs-local.so",
				 dir);
	} else {
		snprintf(path, sizeof path, "%s/plugins/local/scopefs-local.so",
			 o && *o ? o : ".");
	}
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	cr_assert(dl != NULL, "dlopen %s: %s", path, dlerror());
	entry = (scopefs_plugin_entry_fn)(uintptr_t)dlsym(
		dl, SCOPEFS_PLUGIN_ENTRY_NAME);
	cr_assert(entry != NULL, "%s has no %s", path, SCOPEFS_PLUGIN_ENTRY_NAME);
	P = entry();
	F = P->fs;
}

static void write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	cr_assert(eq(sz, (size_t)write(fd, data, strlen(data)), strlen(data)));
	close(fd);
}

/* The content of PATH (at most 255 bytes) as a string. */
static const char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	cr_assert(n >= 0);
	buf[n] = '\0';
	return buf;
}

/* BASE/REL or MNT/REL on the real filesystem. */
static const char *in_base(const char *rel)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", base, rel);
	return p;
}

static const char *in_mnt(const char *rel)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof p, "%s/%s", mntdir, rel);
	return p;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert(d != NULL);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int r;

	load_plugin();
	snprintf(base, sizeof base, "%s/scopefs-local-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	cr_assert(mkdtemp(base) != NULL, "mkdtemp: %s", strerror(errno));
	snprintf(root, sizeof root, "%s/root", base);
	snprintf(mntdir, sizeof mntdir, "%s/root/%s", base, PREFIX);
	snprintf(secret, sizeof secret, "%s/outside/secret", base);
	cr_assert(eq(int, mkdir(in_base("outside"), 0755), 0));
	write_file(secret, "secret\n", 0600);
	cr_assert(eq(int, stat(secret, &secret_st), 0));

	cr_assert(eq(int, P->backend_open(&host, &backend), 0));
	cr_assert(eq(int, P->config(backend, "root", root), 0));
	cr_assert(eq(int, P->config_complete(backend), 0));
	cr_assert(eq(int, access(root, F_OK), -1),
		  "root exists before mount_open");
	r = P->mount_open(backend, PREFIX, 0, &mnt);
	cr_assert(eq(int, r, 0), "mount_open: %s", last_error);
	fds_at_start = count_fds();
}

static int rm_one(const char *path, const struct stat *st, int type,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void teardown(void)
{
	/* Every test releases what it opens: the rest would be the
	 * plugin's leak. */
	if (P && mnt)
		P->mount_close(mnt);
	if (P && backend)
		P->backend_close(backend);
	mnt = backend = NULL;
	if (base[0])
		nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (dl)
		dlclose(dl);
	dl = NULL;
}

TestSuite(local, .init = setup, .fini = teardown, .timeout = 20);

/* Every test releases what it opens, so an fd more than after setup is
 * the plugin's leak.  (Checked in the test: Criterion does not fail a
 * test for what its .fini asserts.) */
static void assert_no_leaked_fds(void)
{
	cr_assert(eq(int, count_fds(), fds_at_start), "file descriptors leaked");
}

#define LOCAL_TEST(name)                                                   \
	static void name##_body(void);                                     \
	Test(local, name)                                                  \
	{                                                                  \
		name##_body();                                             \
		assert_no_leaked_fds();                                    \
	}                                                                  \
	static void name##_body(void)

/* ---- helpers on top of the plugin ---------------------------------------- */

static const struct scopefs_caller me = { 0, 0, 1, 022 };

static void *create(const char *path, int flags, mode_t mode)
{
	struct stat st;
	void *fh = NULL;
	int r = F->create(mnt, path, flags, mode, &me, &fh, &st);

	cr_assert(eq(int, r, 0), "create %s", path);
	cr_assert(fh != NULL);
	return fh;
}

/* Write PATH through the plugin, making its directories as needed. */
static void put(const char *path, const char *data)
{
	char dir[PATH_MAX];
	struct stat st;
	void *fh;
	ssize_t n;

	snprintf(dir, sizeof dir, "%s", path);
	for (char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
		int r;

		*s = '\0';
		r = F->mkdir(mnt, dir, 0755, &me, &st);
		cr_assert(r == 0 || r == -EEXIST, "mkdir %s: %d", dir, r);
		*s = '/';
	}
	fh = create(path, O_WRONLY | O_TRUNC, 0644);
	n = F->write(mnt, fh, data, strlen(data), 0);

	cr_assert(eq(sz, (size_t)n, strlen(data)));
	cr_assert(eq(int, F->release(mnt, fh), 0));
}

/* The sentinel outside the root is as setup left it. */
static void assert_secret_untouched(void)
{
	struct stat st;

	cr_assert(eq(int, stat(secret, &st), 0));
	cr_assert(eq(str, (char *)slurp(secret), "secret\n"));
	cr_assert(eq(u32, st.st_mode, secret_st.st_mode));
	cr_assert(eq(u32, st.st_uid, secret_st.st_uid));
	cr_assert(eq(i64, st.st_size, secret_st.st_size));
	cr_assert(eq(i64, st.st_mtim.tv_sec, secret_st.st_mtim.tv_sec));
	cr_assert(eq(i64, st.st_mtim.tv_nsec, secret_st.st_mtim.tv_nsec));
	cr_assert(eq(sz, (size_t)listxattr(secret, NULL, 0), 0),
		  "the sentinel got extended attributes");
	cr_assert(eq(int, access(in_base("outside/new"), F_OK), -1),
		  "something was created outside the root");
}

static int fill_count(void *ctx, const char *name, const struct stat *st)
{
	int *n = ctx;

	(void)name;
	(void)st;
	(*n)++;
	return 0;
}

/* ---- lifecycle and configuration ---------------------------------------- */

LOCAL_TEST(test_plugin_describes_itself)
{
	cr_assert(eq(u32, P->abi_major, SCOPEFS_ABI_MAJOR));
	cr_assert(eq(u32, P->kind, SCOPEFS_KIND_FS));
	cr_assert(eq(u32, P->thread_model, SCOPEFS_THREAD_PARALLEL));
	cr_assert(eq(u32, P->flags,
		     SCOPEFS_CAP_EXCLUSIVE | SCOPEFS_CAP_STABLE_INO |
			     SCOPEFS_CAP_POSIX_ACL));
	cr_assert(eq(str, (char *)P->name, "local"));
	cr_assert(not(eq(ptr, (void *)P->fs, NULL)));
	cr_assert(eq(ptr, (void *)P->object, NULL));
}

LOCAL_TEST(test_mount_open_creates_prefix_under_root)
{
	struct stat st;

	cr_assert(eq(int, stat(mntdir, &st), 0), "%s missing", mntdir);
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFDIR));
	cr_assert(eq(u32, st.st_mode & 07777, 0755));
	/* "." is the mount's directory. */
	struct stat dot;
	cr_assert(eq(int, F->getattr(mnt, ".", NULL, &dot), 0));
	cr_assert(eq(u64, dot.st_ino, st.st_ino));
}

LOCAL_TEST(test_second_mount_of_existing_prefix_and_empty_prefix)
{
	void *again = NULL, *whole = NULL;
	struct stat st;

	put("f", "x");
	cr_assert(eq(int, P->mount_open(backend, PREFIX, 0, &again), 0));
	cr_assert(eq(int, F->getattr(again, "f", NULL, &st), 0));
	P->mount_close(again);
	cr_assert(eq(int, P->mount_open(backend, "", 0, &whole), 0));
	cr_assert(eq(int, F->getattr(whole, PREFIX "/f", NULL, &st), 0));
	P->mount_close(whole);
}

LOCAL_TEST(test_mount_prefix_through_symlink_is_refused)
{
	void *m2 = NULL;
	int r;

	char evil[PATH_MAX];

	snprintf(evil, sizeof evil, "%s/evil", root);
	cr_assert(eq(int, symlink(in_base("outside"), evil), 0));
	r = P->mount_open(backend, "evil/x", 0, &m2);
	cr_assert(lt(int, r, 0), "mount_open through a symlink succeeded");
	cr_assert(eq(ptr, m2, NULL));
	cr_assert(eq(int, access(in_base("outside/x"), F_OK), -1));
	assert_secret_untouched();
}

LOCAL_TEST(test_mount_prefix_with_dotdot_is_refused)
{
	void *m2 = NULL;

	cr_assert(eq(int, P->mount_open(backend, "job/../../outside", 0, &m2),
		     -EINVAL));
	cr_assert(eq(ptr, m2, NULL));
}

LOCAL_TEST(test_unknown_config_key_is_refused)
{
	void *b = NULL;

	cr_assert(eq(int, P->backend_open(&host, &b), 0));
	last_error[0] = '\0';
	cr_assert(eq(int, P->config(b, "bucket", "x"), -EINVAL));
	cr_assert(eq(str, last_error,
		     "unknown key 'bucket' (the local plugin takes: root)"));
	P->backend_close(b);
}

LOCAL_TEST(test_relative_or_missing_root_is_refused)
{
	void *b = NULL;

	cr_assert(eq(int, P->backend_open(&host, &b), 0));
	last_error[0] = '\0';
	cr_assert(eq(int, P->config_complete(b), -EINVAL), "no root key");
	cr_assert(not(eq(str, last_error, "")));
	cr_assert(eq(int, P->config(b, "root", "relative/dir"), 0));
	last_error[0] = '\0';
	cr_assert(eq(int, P->config_complete(b), -EINVAL));
	cr_assert(not(eq(str, last_error, "")));
	P->backend_close(b);
}

LOCAL_TEST(test_paths_with_dot_components_are_refused)
{
	static const char *const bad[] = {
		"..", "../x", "a/..", "a/../b", "./a", "a/./b", "a/.",
		"/etc/passwd", "", "a//b", "a/", "/",
	};
	struct stat st;
	void *fh = NULL;
	char buf[16];

	cr_assert(eq(int, mkdir(in_mnt("a"), 0755), 0));
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *p = bad[i];

		cr_assert(eq(int, F->getattr(mnt, p, NULL, &st), -EINVAL),
			  "getattr '%s'", p);
		cr_assert(eq(int, F->open(mnt, p, O_RDONLY, &fh), -EINVAL),
			  "open '%s'", p);
		cr_assert(eq(int, F->create(mnt, p, O_RDWR, 0644, &me, &fh,
					    &st), -EINVAL), "create '%s'", p);
		cr_assert(eq(int, F->mkdir(mnt, p, 0755, &me, &st), -EINVAL),
			  "mkdir '%s'", p);
		cr_assert(eq(int, F->unlink(mnt, p), -EINVAL), "unlink '%s'",
			  p);
		cr_assert(eq(int, F->rmdir(mnt, p), -EINVAL), "rmdir '%s'", p);
		cr_assert(eq(int, F->rename(mnt, "a", p, 0), -EINVAL),
			  "rename to '%s'", p);
		cr_assert(eq(int, F->readlink(mnt, p, buf, sizeof buf),
			     -EINVAL), "readlink '%s'", p);
		cr_assert(eq(int, F->truncate(mnt, p, NULL, 0), -EINVAL),
			  "truncate '%s'", p);
		cr_assert(eq(int, F->chmod(mnt, p, NULL, 0777), -EINVAL),
			  "chmod '%s'", p);
		cr_assert(eq(long, (long)F->listxattr(mnt, p, NULL, 0),
			     -EINVAL), "listxattr '%s'", p);
	}
	cr_assert(eq(int, F->rename(mnt, NULL, "a", 0), -EINVAL));
	assert_secret_untouched();
}

/* ---- files and their data ------------------------------------------------ */

LOCAL_TEST(test_create_write_read_at_offsets)
{
	struct stat st;
	void *fh = NULL;
	char buf[32];

	cr_assert(eq(int, F->create(mnt, "a.txt", O_RDWR, 0640, &me, &fh, &st),
		     0));
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFREG));
	cr_assert(eq(i64, st.st_size, 0));
	cr_assert(eq(long, (long)F->write(mnt, fh, "hello", 5, 0), 5));
	cr_assert(eq(long, (long)F->write(mnt, fh, "world", 5, 10), 5));
	cr_assert(eq(long, (long)F->read(mnt, fh, buf, 5, 10), 5));
	cr_assert(eq(int, memcmp(buf, "world", 5), 0));
	cr_assert(eq(long, (long)F->read(mnt, fh, buf, sizeof buf, 15), 0),
		  "read at end of file");
	cr_assert(eq(long, (long)F->read(mnt, fh, buf, sizeof buf, 0), 15));
	cr_assert(eq(int, memcmp(buf, "hello\0\0\0\0\0world", 15), 0));
	cr_assert(eq(int, F->flush(mnt, fh), 0));
	cr_assert(eq(int, F->fsync(mnt, fh, 0), 0));
	cr_assert(eq(int, F->fsync(mnt, fh, 1), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));

	cr_assert(eq(int, stat(in_mnt("a.txt"), &st), 0));
	cr_assert(eq(i64, st.st_size, 15));
	cr_assert(eq(u32, st.st_mode & 07777, 0640));
}

LOCAL_TEST(test_create_exclusive_on_existing_file_fails)
{
	struct stat st;
	void *fh = NULL;

	put("a", "old");
	cr_assert(eq(int, F->create(mnt, "a", O_RDWR | O_EXCL, 0644, &me, &fh,
				    &st), -EEXIST));
	/* Without O_EXCL the existing file is opened, untouched. */
	cr_assert(eq(int, F->create(mnt, "a", O_RDWR, 0600, &me, &fh, &st),
		     0));
	cr_assert(eq(i64, st.st_size, 3));
	cr_assert(eq(u32, st.st_mode & 07777, 0644));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("a")), "old"));
}

LOCAL_TEST(test_open_truncate_and_append)
{
	void *fh = NULL;

	put("f", "0123456789");
	cr_assert(eq(int, F->open(mnt, "f", O_WRONLY | O_APPEND, &fh), 0));
	cr_assert(eq(long, (long)F->write(mnt, fh, "ab", 2, 0), 2));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("f")), "0123456789ab"));

	cr_assert(eq(int, F->open(mnt, "f", O_RDWR | O_TRUNC, &fh), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("f")), ""));
	cr_assert(eq(int, F->open(mnt, "missing", O_RDONLY, &fh), -ENOENT));
}

LOCAL_TEST(test_open_ignores_kernel_internal_flags)
{
	void *fh = NULL;

	put("d/f", "x");
	/* FUSE passes the kernel's f_flags, which may hold __FMODE_EXEC
	 * (0x20); openat2 would refuse it. */
	cr_assert(eq(int, F->open(mnt, "d/f", O_RDONLY | 0x20, &fh), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
}

LOCAL_TEST(test_nested_create_and_fd)
{
	struct stat st, real;
	void *fh;
	int fd;

	cr_assert(eq(int, F->mkdir(mnt, "d", 0755, &me, &st), 0));
	cr_assert(eq(int, F->mkdir(mnt, "d/e", 0700, &me, &st), 0));
	cr_assert(eq(u32, st.st_mode & 07777, 0700));
	fh = create("d/e/f", O_RDWR, 0644);
	fd = F->fd(mnt, fh);
	cr_assert(ge(int, fd, 0));
	cr_assert(eq(long, (long)pwrite(fd, "direct", 6, 0), 6));
	cr_assert(eq(int, F->getattr(mnt, "d/e/f", NULL, &st), 0));
	cr_assert(eq(i64, st.st_size, 6));
	cr_assert(eq(int, F->getattr(mnt, "d/e/f", fh, &st), 0));
	cr_assert(eq(int, stat(in_mnt("d/e/f"), &real), 0));
	cr_assert(eq(u64, st.st_ino, real.st_ino));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(int, F->getattr(mnt, "d/e/nope", NULL, &st), -ENOENT));
	cr_assert(eq(int, F->getattr(mnt, "d/nope/f", NULL, &st), -ENOENT));
}

LOCAL_TEST(test_truncate_by_path_and_by_handle)
{
	struct stat st;
	void *fh;

	put("f", "0123456789");
	cr_assert(eq(int, F->truncate(mnt, "f", NULL, 4), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("f")), "0123"));
	fh = create("f", O_RDWR, 0644);
	cr_assert(eq(int, F->truncate(mnt, "f", fh, 1), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("f")), "0"));
	cr_assert(eq(int, F->truncate(mnt, "f", NULL, 100), 0));
	cr_assert(eq(int, stat(in_mnt("f"), &st), 0));
	cr_assert(eq(i64, st.st_size, 100));
	cr_assert(eq(int, F->truncate(mnt, "nope", NULL, 0), -ENOENT));
}

LOCAL_TEST(test_truncate_of_fifo_fails_without_blocking)
{
	struct stat st;

	cr_assert(eq(int, F->mknod(mnt, "fifo", S_IFIFO | 0644, 0, &me, &st),
		     0));
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFIFO));
	cr_assert(lt(int, F->truncate(mnt, "fifo", NULL, 0), 0));
}

LOCAL_TEST(test_fallocate_extends_file)
{
	struct stat st;
	void *fh = create("f", O_RDWR, 0644);
	int r = F->fallocate(mnt, fh, 0, 0, 8192);

	if (r == -EOPNOTSUPP) {
		F->release(mnt, fh);
		cr_skip_test("the temporary filesystem has no fallocate");
	}
	cr_assert(eq(int, r, 0));
	cr_assert(eq(int, F->getattr(mnt, "f", fh, &st), 0));
	cr_assert(eq(i64, st.st_size, 8192));
	cr_assert(eq(int, F->release(mnt, fh), 0));
}

/* ---- names -------------------------------------------------------------- */

struct listing {
	int n;
	int saw_dot;
	char names[8][16];
	struct stat st[8];
	int has_st[8];
};

static int fill_listing(void *ctx, const char *name, const struct stat *st)
{
	struct listing *l = ctx;

	if (!strcmp(name, ".") || !strcmp(name, ".."))
		l->saw_dot = 1;
	if (l->n == 8)
		return -ENOBUFS;
	snprintf(l->names[l->n], sizeof l->names[0], "%s", name);
	l->has_st[l->n] = st != NULL;
	if (st)
		l->st[l->n] = *st;
	l->n++;
	return 0;
}

static int listing_find(const struct listing *l, const char *name)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->names[i], name))
			return i;
	return -1;
}

LOCAL_TEST(test_readdir_lists_entries_with_stat)
{
	struct listing l;
	struct stat st;
	int i;

	memset(&l, 0, sizeof l);
	put("file", "abc");
	cr_assert(eq(int, F->mkdir(mnt, "dir", 0755, &me, &st), 0));
	cr_assert(eq(int, F->symlink(mnt, "/etc", "link", &me, &st), 0));
	put("dir/inner", "x");
	cr_assert(eq(int, F->readdir(mnt, ".", fill_listing, &l), 0));
	cr_assert(eq(int, l.n, 3));
	cr_assert(not(l.saw_dot), "readdir listed . or ..");
	cr_assert(ge(int, i = listing_find(&l, "file"), 0));
	cr_assert(eq(int, l.has_st[i], 1));
	cr_assert(eq(u32, l.st[i].st_mode & S_IFMT, S_IFREG));
	cr_assert(eq(i64, l.st[i].st_size, 3));
	cr_assert(ge(int, i = listing_find(&l, "dir"), 0));
	cr_assert(eq(int, l.has_st[i], 1));
	cr_assert(eq(u32, l.st[i].st_mode & S_IFMT, S_IFDIR));
	cr_assert(ge(int, i = listing_find(&l, "link"), 0));
	cr_assert(eq(int, l.has_st[i], 1));
	cr_assert(eq(u32, l.st[i].st_mode & S_IFMT, S_IFLNK),
		  "readdir followed the symlink");

	memset(&l, 0, sizeof l);
	cr_assert(eq(int, F->readdir(mnt, "dir", fill_listing, &l), 0));
	cr_assert(eq(int, l.n, 1));
	cr_assert(eq(str, l.names[0], "inner"));
	cr_assert(eq(int, F->readdir(mnt, "file", fill_listing, &l),
		     -ENOTDIR));
	cr_assert(eq(int, F->readdir(mnt, "link", fill_listing, &l),
		     -ENOTDIR), "readdir through a symlink");
}

static int fill_stop(void *ctx, const char *name, const struct stat *st)
{
	(void)name;
	(void)st;
	(*(int *)ctx)++;
	return -ENOMEM;
}

LOCAL_TEST(test_readdir_stops_when_fill_fails)
{
	int calls = 0;

	put("a", "");
	put("b", "");
	cr_assert(eq(int, F->readdir(mnt, ".", fill_stop, &calls), -ENOMEM));
	cr_assert(eq(int, calls, 1));
	calls = 0;
	cr_assert(eq(int, F->readdir(mnt, ".", fill_count, &calls), 0));
	cr_assert(eq(int, calls, 2));
}

LOCAL_TEST(test_mkdir_and_rmdir_not_empty)
{
	struct stat st;

	cr_assert(eq(int, F->mkdir(mnt, "d", 0755, &me, &st), 0));
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFDIR));
	cr_assert(eq(int, F->mkdir(mnt, "d", 0755, &me, &st), -EEXIST));
	put("d/f", "x");
	cr_assert(eq(int, F->rmdir(mnt, "d"), -ENOTEMPTY));
	cr_assert(eq(int, F->rmdir(mnt, "d/f"), -ENOTDIR));
	cr_assert(eq(int, F->unlink(mnt, "d"), -EISDIR));
	cr_assert(eq(int, F->unlink(mnt, "d/f"), 0));
	cr_assert(eq(int, F->rmdir(mnt, "d"), 0));
	cr_assert(eq(int, access(in_mnt("d"), F_OK), -1));
}

LOCAL_TEST(test_rename_over_existing_file)
{
	put("a", "A");
	put("b", "B");
	cr_assert(eq(int, F->mkdir(mnt, "d", 0755, &me, &(struct stat){0}),
		     0));
	cr_assert(eq(int, F->rename(mnt, "a", "b", 0), 0));
	cr_assert(eq(int, access(in_mnt("a"), F_OK), -1));
	cr_assert(eq(str, (char *)slurp(in_mnt("b")), "A"));
	cr_assert(eq(int, F->rename(mnt, "b", "d/c", 0), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("d/c")), "A"));
	cr_assert(eq(int, F->rename(mnt, "nope", "x", 0), -ENOENT));
}

LOCAL_TEST(test_rename_noreplace_refuses_existing_target)
{
	put("a", "A");
	put("b", "B");
	cr_assert(eq(int, F->rename(mnt, "a", "b", RENAME_NOREPLACE),
		     -EEXIST));
	cr_assert(eq(str, (char *)slurp(in_mnt("b")), "B"));
	cr_assert(eq(int, F->rename(mnt, "a", "c", RENAME_NOREPLACE), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("c")), "A"));
}

LOCAL_TEST(test_rename_exchange_swaps)
{
	put("a", "A");
	put("d/b", "B");
	cr_assert(eq(int, F->rename(mnt, "a", "d/b", RENAME_EXCHANGE), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("a")), "B"));
	cr_assert(eq(str, (char *)slurp(in_mnt("d/b")), "A"));
	cr_assert(eq(int, F->rename(mnt, "a", "nope", RENAME_EXCHANGE),
		     -ENOENT));
	cr_assert(eq(int, F->rename(mnt, "a", "d/b", RENAME_WHITEOUT),
		     -EINVAL));
}

LOCAL_TEST(test_symlink_and_readlink)
{
	struct stat st;
	char buf[64];

	cr_assert(eq(int, F->symlink(mnt, "some/target", "l", &me, &st), 0));
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFLNK));
	cr_assert(eq(int, F->readlink(mnt, "l", buf, sizeof buf), 0));
	cr_assert(eq(str, buf, "some/target"));
	cr_assert(eq(int, F->readlink(mnt, "l", buf, 11), -ENAMETOOLONG),
		  "no room for the NUL");
	cr_assert(eq(int, F->readlink(mnt, "l", buf, 12), 0));
	cr_assert(eq(str, buf, "some/target"));
	put("f", "");
	cr_assert(eq(int, F->readlink(mnt, "f", buf, sizeof buf), -EINVAL));
	cr_assert(eq(int, F->getattr(mnt, "l", NULL, &st), 0));
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFLNK));
	cr_assert(eq(int, F->symlink(mnt, "x", "l", &me, &st), -EEXIST));
}

LOCAL_TEST(test_link_shares_the_inode)
{
	struct stat a, b;

	put("a", "data");
	cr_assert(eq(int, F->link(mnt, "a", "d/b", &b), -ENOENT));
	cr_assert(eq(int, F->mkdir(mnt, "d", 0755, &me, &b), 0));
	cr_assert(eq(int, F->link(mnt, "a", "d/b", &b), 0));
	cr_assert(eq(int, F->getattr(mnt, "a", NULL, &a), 0));
	cr_assert(eq(u64, a.st_ino, b.st_ino));
	cr_assert(eq(u64, (uint64_t)b.st_nlink, 2));
	cr_assert(eq(str, (char *)slurp(in_mnt("d/b")), "data"));
	cr_assert(eq(int, F->link(mnt, "a", "d/b", &b), -EEXIST));
}

LOCAL_TEST(test_mknod_makes_fifo_but_no_device_for_users)
{
	struct stat st;
	struct scopefs_caller user = { 1000, 1000, 1, 022 };

	cr_assert(eq(int, F->mknod(mnt, "p", S_IFIFO | 0600, 0, &me, &st), 0));
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFIFO));
	cr_assert(eq(int, F->mknod(mnt, "dev", S_IFCHR | 0666,
				   makedev(1, 3), &user, &st), -EPERM));
	cr_assert(eq(int, access(in_mnt("dev"), F_OK), -1));
}

/* ---- attributes ----------------------------------------------------------- */

LOCAL_TEST(test_chmod_by_path_and_by_handle)
{
	struct stat st;
	void *fh;

	put("f", "x");
	cr_assert(eq(int, F->chmod(mnt, "f", NULL, 0600), 0));
	cr_assert(eq(int, stat(in_mnt("f"), &st), 0));
	cr_assert(eq(u32, st.st_mode & 07777, 0600));
	fh = create("f", O_RDONLY, 0644);
	cr_assert(eq(int, F->chmod(mnt, "f", fh, 0640), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(int, stat(in_mnt("f"), &st), 0));
	cr_assert(eq(u32, st.st_mode & 07777, 0640));
	cr_assert(eq(int, F->chmod(mnt, ".", NULL, 0750), 0));
	cr_assert(eq(int, stat(mntdir, &st), 0));
	cr_assert(eq(u32, st.st_mode & 07777, 0750));
}

LOCAL_TEST(test_utimens_sets_times_and_honours_omit)
{
	struct timespec ts[2] = { { 1000, 5 }, { 2000, 7 } };
	struct stat st;
	void *fh;

	put("d/f", "x");
	cr_assert(eq(int, F->utimens(mnt, "d/f", NULL, ts), 0));
	cr_assert(eq(int, stat(in_mnt("d/f"), &st), 0));
	cr_assert(eq(i64, st.st_atim.tv_sec, 1000));
	cr_assert(eq(i64, st.st_mtim.tv_sec, 2000));
	cr_assert(eq(i64, st.st_mtim.tv_nsec, 7));

	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_sec = 3000;
	fh = create("d/f", O_RDONLY, 0644);
	cr_assert(eq(int, F->utimens(mnt, "d/f", fh, ts), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(int, stat(in_mnt("d/f"), &st), 0));
	cr_assert(eq(i64, st.st_atim.tv_sec, 1000), "UTIME_OMIT changed atime");
	cr_assert(eq(i64, st.st_mtim.tv_sec, 3000));

	ts[1].tv_nsec = UTIME_NOW;
	cr_assert(eq(int, F->utimens(mnt, "d/f", NULL, ts), 0));
	cr_assert(eq(int, stat(in_mnt("d/f"), &st), 0));
	cr_assert(gt(i64, st.st_mtim.tv_sec, 3000));
}

LOCAL_TEST(test_chown_by_path_and_handle)
{
	struct stat st;
	void *fh;

	if (geteuid() != 0)
		cr_skip_test("chown to another user needs root");
	put("f", "x");
	cr_assert(eq(int, F->chown(mnt, "f", NULL, 1234, (gid_t)-1), 0));
	cr_assert(eq(int, stat(in_mnt("f"), &st), 0));
	cr_assert(eq(u32, st.st_uid, 1234));
	cr_assert(eq(u32, st.st_gid, 0));
	fh = create("f", O_RDONLY, 0644);
	cr_assert(eq(int, F->chown(mnt, "f", fh, (uid_t)-1, 4321), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(int, stat(in_mnt("f"), &st), 0));
	cr_assert(eq(u32, st.st_uid, 1234));
	cr_assert(eq(u32, st.st_gid, 4321));
}

LOCAL_TEST(test_new_nodes_belong_to_the_caller)
{
	struct scopefs_caller user = { 1234, 5678, 1, 022 };
	struct stat st, real;
	void *fh = NULL;

	if (geteuid() != 0)
		cr_skip_test("giving files to another user needs root");
	cr_assert(eq(int, F->create(mnt, "f", O_RDWR, 04755, &user, &fh, &st),
		     0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(int, stat(in_mnt("f"), &real), 0));
	cr_assert(eq(u32, real.st_uid, 1234));
	cr_assert(eq(u32, real.st_gid, 5678));
	cr_assert(eq(u32, real.st_mode & 07777, 04755),
		  "set-user-ID bit lost or not restored after chown");
	cr_assert(eq(u32, st.st_uid, 1234), "create's stat is stale");
	cr_assert(eq(u32, st.st_mode & 07777, 04755));

	cr_assert(eq(int, F->mkdir(mnt, "d", 0750, &user, &st), 0));
	cr_assert(eq(u32, st.st_uid, 1234));
	cr_assert(eq(u32, st.st_gid, 5678));
	cr_assert(eq(int, F->symlink(mnt, "f", "l", &user, &st), 0));
	cr_assert(eq(int, lstat(in_mnt("l"), &real), 0));
	cr_assert(eq(u32, real.st_uid, 1234));
	cr_assert(eq(int, F->mknod(mnt, "p", S_IFIFO | 0600, 0, &user, &st),
		     0));
	cr_assert(eq(u32, st.st_uid, 1234));

	/* A set-group-ID directory gives its group, which stays. */
	cr_assert(eq(int, chown(in_mnt("d"), 1234, 777), 0));
	cr_assert(eq(int, chmod(in_mnt("d"), 02775), 0));
	cr_assert(eq(int, F->create(mnt, "d/g", O_RDWR, 0644, &user, &fh, &st),
		     0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(u32, st.st_uid, 1234));
	cr_assert(eq(u32, st.st_gid, 777));
	/* An existing file opened by create stays whose it was. */
	put("mine", "x");
	cr_assert(eq(int, F->create(mnt, "mine", O_RDWR, 0644, &user, &fh,
				    &st), 0));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(u32, st.st_uid, 0));
}

LOCAL_TEST(test_statfs_reports_the_backing_filesystem)
{
	struct statvfs a, b;

	cr_assert(eq(int, F->statfs(mnt, ".", &a), 0));
	cr_assert(eq(int, statvfs(mntdir, &b), 0));
	cr_assert(gt(u64, (uint64_t)a.f_bsize, 0));
	cr_assert(eq(u64, (uint64_t)a.f_blocks, (uint64_t)b.f_blocks));
	cr_assert(eq(u64, (uint64_t)a.f_fsid, (uint64_t)b.f_fsid));
}

LOCAL_TEST(test_xattrs_set_get_list_remove)
{
	char buf[64];
	ssize_t n;
	int r;

	put("f", "x");
	r = F->setxattr(mnt, "f", "user.colour", "blue", 4, 0);
	if (r == -EOPNOTSUPP || r == -ENOTSUP)
		cr_skip_test("%s has no user extended attributes", base);
	cr_assert(eq(int, r, 0));
	cr_assert(eq(int, F->setxattr(mnt, "f", "user.colour", "red", 3,
				      XATTR_CREATE), -EEXIST));
	cr_assert(eq(long, (long)F->getxattr(mnt, "f", "user.colour", NULL, 0),
		     4), "size query");
	cr_assert(eq(long, (long)F->getxattr(mnt, "f", "user.colour", buf, 2),
		     -ERANGE));
	n = F->getxattr(mnt, "f", "user.colour", buf, sizeof buf);
	cr_assert(eq(long, (long)n, 4));
	cr_assert(eq(int, memcmp(buf, "blue", 4), 0));
	n = getxattr(in_mnt("f"), "user.colour", buf, sizeof buf);
	cr_assert(eq(long, (long)n, 4), "not on the real file");

	n = F->listxattr(mnt, "f", buf, sizeof buf);
	cr_assert(ge(long, (long)n, 12));
	cr_assert(not(eq(ptr, memmem(buf, (size_t)n, "user.colour", 12), NULL)));
	cr_assert(eq(long, (long)F->listxattr(mnt, "f", NULL, 0), (long)n));

	cr_assert(eq(int, F->removexattr(mnt, "f", "user.colour"), 0));
	cr_assert(eq(long, (long)F->getxattr(mnt, "f", "user.colour", buf,
					     sizeof buf), -ENODATA));
	cr_assert(eq(int, F->removexattr(mnt, "f", "user.colour"), -ENODATA));

	/* Nested paths and the mount's root. */
	put("d/g", "x");
	cr_assert(eq(int, F->setxattr(mnt, "d/g", "user.k", "v", 1, 0), 0));
	cr_assert(eq(long, (long)getxattr(in_mnt("d/g"), "user.k", buf,
					  sizeof buf), 1));
	cr_assert(eq(int, F->setxattr(mnt, ".", "user.k", "v", 1, 0), 0));
	cr_assert(eq(long, (long)getxattr(mntdir, "user.k", buf, sizeof buf),
		     1));
}

LOCAL_TEST(test_read_only_mount_refuses_changes)
{
	struct stat st;
	void *ro = NULL, *fh = NULL;
	char buf[8];

	put("f", "abc");
	cr_assert(eq(int, P->mount_open(backend, PREFIX,
					SCOPEFS_MOUNT_READ_ONLY, &ro), 0));
	cr_assert(eq(int, F->open(ro, "f", O_RDONLY, &fh), 0));
	cr_assert(eq(long, (long)F->read(ro, fh, buf, sizeof buf, 0), 3));
	cr_assert(eq(int, F->release(ro, fh), 0));
	cr_assert(eq(int, F->open(ro, "f", O_RDWR, &fh), -EROFS));
	cr_assert(eq(int, F->open(ro, "f", O_RDONLY | O_TRUNC, &fh), -EROFS));
	cr_assert(eq(int, F->create(ro, "g", O_RDWR, 0644, &me, &fh, &st),
		     -EROFS));
	cr_assert(eq(int, F->mkdir(ro, "d", 0755, &me, &st), -EROFS));
	cr_assert(eq(int, F->unlink(ro, "f"), -EROFS));
	cr_assert(eq(int, F->rename(ro, "f", "g", 0), -EROFS));
	cr_assert(eq(int, F->truncate(ro, "f", NULL, 0), -EROFS));
	cr_assert(eq(int, F->chmod(ro, "f", NULL, 0600), -EROFS));
	cr_assert(eq(int, F->setxattr(ro, "f", "user.a", "b", 1, 0), -EROFS));
	P->mount_close(ro);
	cr_assert(eq(str, (char *)slurp(in_mnt("f")), "abc"));
}

/* ---- nothing outside the root ------------------------------------------- */

/* Every way in through a symlink LINK (to a file outside the root) must
 * act on the link or fail, and leave the sentinel alone. */
static void check_file_link_not_followed(const char *link)
{
	struct stat st;
	void *fh = NULL;
	char buf[PATH_MAX];
	struct timespec ts[2] = { { 1, 0 }, { 1, 0 } };
	int r;

	cr_assert(eq(int, F->getattr(mnt, link, NULL, &st), 0));
	cr_assert(eq(u32, st.st_mode & S_IFMT, S_IFLNK), "getattr %s followed the link", link);
	cr_assert(eq(int, F->readlink(mnt, link, buf, sizeof buf), 0));
	cr_assert(lt(int, F->open(mnt, link, O_RDONLY, &fh), 0),
		  "open %s succeeded", link);
	cr_assert(lt(int, F->open(mnt, link, O_WRONLY | O_TRUNC, &fh), 0));
	cr_assert(lt(int, F->create(mnt, link, O_WRONLY | O_TRUNC, 0644, &me,
				    &fh, &st), 0), "create over %s", link);
	cr_assert(lt(int, F->truncate(mnt, link, NULL, 0), 0));
	r = F->chmod(mnt, link, NULL, 0666);
	cr_assert(eq(int, r, -EOPNOTSUPP), "chmod %s", link);
	cr_assert(eq(int, F->utimens(mnt, link, NULL, ts), 0));
	cr_assert(eq(int, lstat(in_mnt(link), &st), 0));
	cr_assert(eq(i64, st.st_mtim.tv_sec, 1), "utimens missed the link");
	if (geteuid() == 0) {
		cr_assert(eq(int, F->chown(mnt, link, NULL, 1234, 1234), 0));
		cr_assert(eq(int, lstat(in_mnt(link), &st), 0));
		cr_assert(eq(u32, st.st_uid, 1234), "chown missed the link");
	}
	/* user.* attributes do not exist on symlinks (EPERM). */
	cr_assert(lt(int, F->setxattr(mnt, link, "user.x", "1", 1, 0), 0));
	cr_assert(lt(long, (long)F->getxattr(mnt, link, "user.x", buf,
					     sizeof buf), 0));
	assert_secret_untouched();
}

LOCAL_TEST(test_absolute_symlink_outside_is_never_followed)
{
	struct stat st;

	cr_assert(eq(int, F->symlink(mnt, secret, "abs", &me, &st), 0));
	check_file_link_not_followed("abs");
	cr_assert(eq(int, F->symlink(mnt, secret, "d/abs", &me, &st),
		     -ENOENT));
	cr_assert(eq(int, F->mkdir(mnt, "d", 0755, &me, &st), 0));
	cr_assert(eq(int, F->symlink(mnt, secret, "d/abs", &me, &st), 0));
	check_file_link_not_followed("d/abs");
}

LOCAL_TEST(test_relative_symlink_outside_is_never_followed)
{
	struct stat st;

	/* MNT is BASE/root/job/j1/cluster_storage. */
	cr_assert(eq(int, F->symlink(mnt, "../../../../outside/secret", "up",
				     &me, &st), 0));
	cr_assert(eq(str, (char *)slurp(in_mnt("up")), "secret\n"),
		  "the test's link does not reach the sentinel");
	check_file_link_not_followed("up");
}

/* A directory symlink to outside: nothing beneath it is reachable. */
static void check_dir_link_not_followed(const char *link,
					const char *inside_name)
{
	char path[PATH_MAX], buf[64];
	struct stat st;
	void *fh = NULL;
	int n = 0;

	snprintf(path, sizeof path, "%s/%s", link, inside_name);
	cr_assert(lt(int, F->getattr(mnt, path, NULL, &st), 0),
		  "getattr %s reached outside", path);
	cr_assert(lt(int, F->open(mnt, path, O_RDONLY, &fh), 0),
		  "open %s reached outside", path);
	cr_assert(lt(int, F->truncate(mnt, path, NULL, 0), 0));
	cr_assert(lt(int, F->chmod(mnt, path, NULL, 0666), 0));
	cr_assert(lt(int, F->unlink(mnt, path), 0));
	cr_assert(lt(long, (long)F->listxattr(mnt, path, buf, sizeof buf), 0));
	cr_assert(lt(int, F->readdir(mnt, link, fill_count, &n), 0),
		  "readdir %s listed outside", link);
	cr_assert(eq(int, n, 0));
	snprintf(path, sizeof path, "%s/new", link);
	cr_assert(lt(int, F->create(mnt, path, O_RDWR, 0644, &me, &fh, &st),
		     0), "create %s", path);
	cr_assert(lt(int, F->mkdir(mnt, path, 0755, &me, &st), 0));
	cr_assert(lt(int, F->symlink(mnt, "x", path, &me, &st), 0));
	cr_assert(lt(int, F->rename(mnt, link, path, 0), 0));
	assert_secret_untouched();
}

LOCAL_TEST(test_symlink_to_directory_outside_is_never_followed)
{
	struct stat st;

	cr_assert(eq(int, F->symlink(mnt, in_base("outside"), "out", &me,
				     &st), 0));
	check_dir_link_not_followed("out", "secret");
	cr_assert(eq(int, F->symlink(mnt, "../../../../outside", "up", &me,
				     &st), 0));
	check_dir_link_not_followed("up", "secret");
	cr_assert(eq(int, F->symlink(mnt, "/etc", "etc", &me, &st), 0));
	check_dir_link_not_followed("etc", "passwd");
}

/* ---- kernels without openat2 and fchmodat2 ---------------------------------- */

/* Make openat2 and fchmodat2 fail with ENOSYS in this test's process, as
 * on Linux before 5.6 (or under a seccomp profile that predates them). */
static void hide_new_syscalls(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 452 /* fchmodat2 */, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
	};
	struct sock_fprog prog = { sizeof code / sizeof *code, code };

	cr_assert(eq(int, prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0));
	cr_assert(eq(int, prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog),
		     0), "seccomp: %s", strerror(errno));
}

LOCAL_TEST(test_without_openat2_nothing_outside_is_reached)
{
	struct stat st;
	void *fh;

	hide_new_syscalls();
	P->mount_close(mnt);
	mnt = NULL;
	last_log[0] = '\0';
	cr_assert(eq(int, P->mount_open(backend, PREFIX "/sub", 0, &mnt), 0),
		  "mount_open: %s", last_error);
	cr_assert(not(eq(ptr, strstr(last_log, "openat2"), NULL)),
		  "the plugin did not notice openat2 is missing");
	snprintf(mntdir, sizeof mntdir, "%s/root/%s/sub", base, PREFIX);

	/* The ordinary operations still work on nested paths... */
	put("d/e/f", "nested");
	cr_assert(eq(int, F->getattr(mnt, "d/e/f", NULL, &st), 0));
	cr_assert(eq(i64, st.st_size, 6));
	fh = create("d/e/g", O_RDWR, 0644);
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(int, F->chmod(mnt, "d/e/g", NULL, 0600), 0));
	cr_assert(eq(int, F->rename(mnt, "d/e/g", "d/h", 0), 0));

	/* ...and none of them goes through a symlink to outside. */
	cr_assert(eq(int, F->symlink(mnt, secret, "d/abs", &me, &st), 0));
	check_file_link_not_followed("d/abs");
	cr_assert(eq(int, F->symlink(mnt, in_base("outside"), "out", &me,
				     &st), 0));
	check_dir_link_not_followed("out", "secret");
	cr_assert(eq(int, F->symlink(mnt, "/etc", "d/etc", &me, &st), 0));
	check_dir_link_not_followed("d/etc", "passwd");
}
