/*
 * Real programs working inside a mount: cp -r and diff -r, tar x and tar c
 * of a few thousand headers, git init/add/commit/fsck, sqlite3 with a
 * rollback journal and with WAL, cp -p and cp -rp.  Each runs through the
 * shell with a timeout; a failure shows the command, its exit code and its
 * output.  Every test runs on every backend (SCOPEFS_TEST_BACKEND): none of
 * these programs needs what an object store lacks (git clone falls back
 * from hard links to copies by itself; cp -p from an ACL to chmod).
 */
#include "mount_fixture.h"

static const struct fx_mount prog_mount[] = {
	{ "cluster_storage", "cluster", NULL },
};

static void start_prog(void)
{
	umask(022);
	fx_start(NULL, prog_mount, 1);
}

TestSuite(programs, .init = start_prog, .fini = fx_teardown, .timeout = 300);

/* Run CMD (printf-style) in sh -c and want exit 0. */
#define SH_OK(timeout, ...)                                                  \
	do {                                                                 \
		char *fx_out_ = NULL;                                        \
		const char *fx_cmd_ = fx_fmt(__VA_ARGS__);                   \
		char fx_cmdcopy_[PATH_MAX];                                  \
		snprintf(fx_cmdcopy_, sizeof fx_cmdcopy_, "%s", fx_cmd_);    \
		int fx_rc_ = fx_sh(timeout, &fx_out_, "%s", fx_cmdcopy_);    \
		if (fx_rc_ != 0)                                             \
			FX_FAIL("$ %s\nexpected exit 0, saw %d; output:\n%s",\
				fx_cmdcopy_, fx_rc_, fx_out_);               \
		free(fx_out_);                                               \
	} while (0)

/* Run CMD and want exactly WANT as its output. */
static void sh_output(const char *want, const char *cmd)
{
	char *out = NULL;
	int rc = fx_sh(120, &out, "%s", cmd);
	FX_ASSERT(rc == 0 && !strcmp(out, want), "$ %s\nexpected exit 0 and "
		  "output \"%s\", saw exit %d and output \"%s\"", cmd, want,
		  rc, out);
	free(out);
}

/* The headers every C toolchain installs: a few thousand files, with
 * subdirectories and symlinks. */
static const char *header_set(void)
{
	static char list[1024];
	const char *cand[] = { "linux", "asm-generic", "x86_64-linux-gnu",
			       "aarch64-linux-gnu", "sys", "netinet", "net",
			       "arpa", "rpc", "scsi", "sound", "drm", "mtd",
			       "misc", "rdma", "video", "xen" };
	snprintf(list, sizeof list, "$(cd /usr/include && ls *.h)");
	for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
		struct stat st;
		if (stat(fx_fmt("/usr/include/%s", cand[i]), &st) == 0) {
			size_t l = strlen(list);
			snprintf(list + l, sizeof list - l, " %s", cand[i]);
		}
	}
	return list;
}

MOUNT_TEST(programs, cp_r_of_a_tree_then_diff_r_finds_no_difference)
{
	struct stat st;
	if (stat("/usr/include/linux", &st) < 0)
		cr_skip_test("/usr/include/linux is missing");
	SH_OK(120, "cp -r /usr/include/linux '%s/linux'", fx.mnt[0]);
	SH_OK(120, "diff -r /usr/include/linux '%s/linux'", fx.mnt[0]);
	/* and cp -a, which also copies modes, times and symlinks */
	SH_OK(120, "cp -a /usr/include/linux '%s/linux-a'", fx.mnt[0]);
	SH_OK(120, "diff -r --no-dereference /usr/include/linux '%s/linux-a'",
	      fx.mnt[0]);
}

MOUNT_TEST(programs, tar_x_then_tar_c_gives_back_the_same_archive)
{
	char tarball[PATH_MAX], native[PATH_MAX];
	snprintf(tarball, sizeof tarball, "%s/headers.tar", fx.dir);
	snprintf(native, sizeof native, "%s/native", fx.dir);
	const char *c = "tar -c --sort=name --numeric-owner --format=gnu";
	SH_OK(120, "cd /usr/include && tar -cf '%s' %s", tarball,
	      header_set());
	char *out = NULL;
	fx_sh(30, &out, "tar -tf '%s' | wc -l", tarball);
	long files = atol(out);
	free(out);
	FX_ASSERT(files > 1000, "expected a tarball of over 1000 entries, saw "
		  "%ld", files);

	/* the same archive extracted natively is the reference */
	SH_OK(30, "mkdir '%s' && tar -xpf '%s' -C '%s'", native, tarball,
	      native);
	SH_OK(240, "tar -xpf '%s' -C '%s'", tarball, fx.mnt[0]);
	SH_OK(120, "diff -r --no-dereference '%s' '%s'", native, fx.mnt[0]);
	/* the same names as the original (the roots' own times differ) */
	SH_OK(120, "cd '%s' && %s -f '%s/native.tar' %s", native, c, fx.dir,
	      header_set());
	SH_OK(120, "cd '%s' && %s -f '%s/mount.tar' %s", fx.mnt[0], c, fx.dir,
	      header_set());
	if (fx_lacks(FX_NO_SYMLINK_TIMES)) {
		/* the store keeps no symlink times: the listings, with a
		 * symlink's time left out, must be the same */
		const char *l = "tar -tv --full-time --numeric-owner -f '%s/%s.tar'"
				" | sed '/^l/s/[0-9-]\\{10\\} [0-9:]\\{8\\}/(time)/' >"
				" '%s/%s.lst'";
		SH_OK(60, l, fx.dir, "native", fx.dir, "native");
		SH_OK(60, l, fx.dir, "mount", fx.dir, "mount");
		SH_OK(60, "diff '%s/native.lst' '%s/mount.lst'", fx.dir,
		      fx.dir);
	} else {
		SH_OK(60, "cmp '%s/native.tar' '%s/mount.tar'", fx.dir,
		      fx.dir);
	}
	/* tar's own comparison: contents, modes, owners, times */
	SH_OK(120, "tar -df '%s' -C '%s'", tarball, fx.mnt[0]);
}

MOUNT_TEST(programs, git_init_add_commit_and_fsck_work)
{
	const char *g = "git -c user.name=scopefs -c user.email=t@scopefs "
			"-c init.defaultBranch=main -c gc.auto=0";
	SH_OK(60, "cd '%s' && %s init -q repo", fx.mnt[0], g);
	/* ~100 files in a few directories: on an object store each loose
	 * object is a create, a write and a rename (copy + delete), and all
	 * of /usr/include/linux took minutes on Azurite */
	SH_OK(60, "cp -r /usr/include/linux/netfilter '%s/repo/src' && "
		  "echo hello > '%s/repo/README'", fx.mnt[0], fx.mnt[0]);
	SH_OK(120, "cd '%s/repo' && %s add -A && %s commit -q -m first",
	      fx.mnt[0], g, g);
	SH_OK(60, "cd '%s/repo' && echo more >> README && %s commit -q -am "
		  "second && %s mv README README.md && %s commit -q -m third",
	      fx.mnt[0], g, g, g);
	SH_OK(120, "cd '%s/repo' && %s fsck --full --strict", fx.mnt[0], g);
	sh_output("3\n", fx_fmt("cd '%s/repo' && %s rev-list --count HEAD",
				fx.mnt[0], g));
	sh_output("", fx_fmt("cd '%s/repo' && %s status --porcelain",
			     fx.mnt[0], g));
	/* gc repacks, renames and deletes a lot of files */
	SH_OK(120, "cd '%s/repo' && %s gc -q && %s fsck --full", fx.mnt[0], g,
	      g);
	SH_OK(60, "cd '%s' && %s clone -q repo clone && diff -r --exclude=.git "
		  "repo clone", fx.mnt[0], g);
}

static void sqlite_thousand_rows(const char *journal)
{
	SH_OK(120,
	      "cd '%s' && sqlite3 test.db \"PRAGMA journal_mode=%s;\" "
	      "\"CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v BLOB);\" "
	      "\"CREATE INDEX t_name ON t(name);\" "
	      "\"BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
	      "FROM n WHERE i < 1000) INSERT INTO t SELECT i, 'row ' || i, "
	      "randomblob(500) FROM n; COMMIT;\" >/dev/null",
	      fx.mnt[0], journal);
	sh_output("ok\n1000|500500\n",
		  fx_fmt("cd '%s' && sqlite3 test.db 'PRAGMA integrity_check;' "
			 "'SELECT count(*), sum(id) FROM t;'", fx.mnt[0]));
	/* an update and a delete in a second transaction, then reopen */
	SH_OK(60, "cd '%s' && sqlite3 test.db \"BEGIN; UPDATE t SET name = "
		  "upper(name) WHERE id %% 2 = 0; DELETE FROM t WHERE id > 900; "
		  "COMMIT;\"", fx.mnt[0]);
	sh_output("ok\n900|450\n",
		  fx_fmt("cd '%s' && sqlite3 test.db 'PRAGMA integrity_check;' "
			 "\"SELECT count(*), sum(name GLOB 'ROW *') FROM t;\"",
			 fx.mnt[0]));
}

MOUNT_TEST(programs, sqlite3_transaction_of_1000_rows_passes_integrity_check)
{
	sqlite_thousand_rows("delete");
}

MOUNT_TEST(programs, sqlite3_in_wal_mode_passes_integrity_check)
{
	sqlite_thousand_rows("wal");
}

/* ---- cp -p and cp -rp: the attributes right after cp returns ------------ */

/*
 * GNU cp -p copies the owner with fchown, the times with utimensat and the
 * mode through fsetxattr(system.posix_acl_access) (an ACL that says no
 * more than the mode; it falls back to fchmod where xattrs are not
 * supported, as on an object store).  A kernel that kept its cached
 * attributes across that setxattr showed the old mode until the attribute
 * TTL passed: this mount's cache_ttl = 30 makes any stale cache show at
 * the stat right after cp.  The reference is the same cp into a native
 * directory; both must also match the source.
 */
static const struct fx_mount cp_mount[] = {
	{ "cluster_storage", "cluster", "cache_ttl = 30\n" },
};

static void start_cp(void)
{
	umask(022);
	fx_start(NULL, cp_mount, 1);
}

TestSuite(programs_cp, .init = start_cp, .fini = fx_teardown, .timeout = 120);

/* One file or directory of the source: type and mode, owner, mtime, size
 * (files; sizes on both sides of the object layer's 1 KiB probe limit). */
struct cp_node {
	const char *rel;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	time_t sec;
	long nsec;
	size_t size;
};

static const struct cp_node cp_file = {
	"file", S_IFREG | 0640, 1000, 1000, 1234567890, 500000000, 3000
};

/* Parents before children; attributes are set in the reverse order, so a
 * directory's mtime is set after its entries were made. */
static const struct cp_node cp_tree[] = {
	{ "tree", S_IFDIR | 0750, 0, 0, 1100000000, 0, 0 },
	{ "tree/a", S_IFREG | 0644, 65534, 65534, 1200000000, 250000000, 5000 },
	{ "tree/b", S_IFREG | 0600, 0, 0, 1300000000, 0, 100 },
	{ "tree/x", S_IFREG | 0755, 1000, 65534, 1000000000, 123456789, 2000 },
	{ "tree/sub", S_IFDIR | 0700, 1000, 1000, 1400000000, 0, 0 },
	{ "tree/sub/c", S_IFREG | 0444, 0, 1000, 900000000, 0, 0 },
	{ "tree/sub/d", S_IFREG | 0640, 1000, 1000, 1500000000, 1, 70000 },
	{ "tree/empty", S_IFDIR | 0751, 0, 0, 1000000001, 0, 0 },
};

#define CP_TREE_N (sizeof cp_tree / sizeof cp_tree[0])

static void cp_make(const char *root, const struct cp_node *n, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const char *p = fx_fmt("%s/%s", root, n[i].rel);
		if (S_ISDIR(n[i].mode)) {
			FX_OK(mkdir(p, 0700));
			continue;
		}
		char *data = malloc(n[i].size + 1);
		cr_assert(data);
		for (size_t k = 0; k < n[i].size; k++)
			data[k] = (char)('a' + (k * 7 + i) % 26);
		FX_OK(fx_write_file(p, data, n[i].size, 0600));
		free(data);
	}
	for (size_t i = count; i-- > 0;) {
		const char *p = fx_fmt("%s/%s", root, n[i].rel);
		struct timespec ts[2] = { { n[i].sec, n[i].nsec },
					  { n[i].sec, n[i].nsec } };
		FX_OK(chown(p, n[i].uid, n[i].gid));
		FX_OK(chmod(p, n[i].mode & 07777));
		FX_OK(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW));
	}
}

/* ST (of PATH, on WHERE) shows what the source node N has. */
static void cp_expect(const char *where, const char *path,
		      const struct stat *st, const struct cp_node *n)
{
	FX_ASSERT(st->st_mode == n->mode, "%s: %s: expected mode 0%o, saw 0%o",
		  where, path, (unsigned)n->mode, (unsigned)st->st_mode);
	FX_ASSERT(st->st_uid == n->uid && st->st_gid == n->gid, "%s: %s: "
		  "expected owner %u:%u, saw %u:%u", where, path,
		  (unsigned)n->uid, (unsigned)n->gid, (unsigned)st->st_uid,
		  (unsigned)st->st_gid);
	FX_ASSERT(st->st_mtim.tv_sec == n->sec && st->st_mtim.tv_nsec == n->nsec,
		  "%s: %s: expected mtime %lld.%09ld, saw %lld.%09ld", where,
		  path, (long long)n->sec, n->nsec,
		  (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (S_ISREG(n->mode))
		FX_ASSERT(st->st_size == (off_t)n->size, "%s: %s: expected "
			  "size %zu, saw %lld", where, path, n->size,
			  (long long)st->st_size);
}

/* statx asking for what ls -l shows, and no more.  The fields not asked
 * for matter: lstat() asks for everything, ctime too, and a FUSE kernel
 * refetches all attributes when any asked-for one is out of date; a
 * setxattr marks only ctime so, and an lstat would hide a stale mode
 * that ls -l and stat -c %a show. */
static int ls_stat(const char *path, struct stat *st)
{
	struct statx sx;
	unsigned mask = STATX_TYPE | STATX_MODE | STATX_NLINK | STATX_UID |
			STATX_GID | STATX_MTIME | STATX_SIZE;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, mask, &sx) < 0)
		return -1;
	memset(st, 0, sizeof *st);
	st->st_mode = sx.stx_mode;
	st->st_nlink = sx.stx_nlink;
	st->st_uid = sx.stx_uid;
	st->st_gid = sx.stx_gid;
	st->st_size = (off_t)sx.stx_size;
	st->st_mtim.tv_sec = sx.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = sx.stx_mtime.tv_nsec;
	return 0;
}

/* Call right after cp into the mount returned (the native copy made
 * before it): the mount's copies are stat'ed first, at once, as ls -l
 * would, then with lstat; then the native ones.  All must show the
 * source's attributes. */
static void cp_check(const char *native, const char *mnt,
		     const struct cp_node *n, size_t count, const char *when)
{
	struct stat ms[CP_TREE_N + 1], ns;
	cr_assert(count <= CP_TREE_N + 1);
	for (size_t i = 0; i < count; i++)
		FX_OK(ls_stat(fx_fmt("%s/%s", mnt, n[i].rel), &ms[i]));
	for (size_t i = 0; i < count; i++) {
		const char *mp = fx_fmt("%s/%s", mnt, n[i].rel);
		const char *np = fx_fmt("%s/%s", native, n[i].rel);
		FX_OK(lstat(np, &ns));
		cp_expect("the native copy (the reference)", np, &ns, &n[i]);
		cp_expect(fx_fmt("%s (statx as ls -l)", when), mp, &ms[i],
			  &n[i]);
		FX_OK(lstat(mp, &ns));
		cp_expect(fx_fmt("%s (lstat)", when), mp, &ns, &n[i]);
	}
}

static void cp_prepare(char *src, char *native)
{
	snprintf(src, PATH_MAX, "%s/src", fx.dir);
	snprintf(native, PATH_MAX, "%s/native", fx.dir);
	FX_OK(mkdir(src, 0755));
	FX_OK(mkdir(native, 0755));
}

/* The daemon again, on the same store: the attributes were stored, not
 * only cached. */
static void cp_remount(void)
{
	fx_stop();
	fx_finish();
	fx_launch(NULL);
}

MOUNT_TEST(programs_cp, cp_p_of_a_file_keeps_mode_mtime_size_and_owner)
{
	char src[PATH_MAX], native[PATH_MAX];
	cp_prepare(src, native);
	cp_make(src, &cp_file, 1);
	SH_OK(30, "cp -p '%s/file' '%s/file'", src, native);
	SH_OK(30, "cp -p '%s/file' '%s/file'", src, fx.mnt[0]);
	cp_check(native, fx.mnt[0], &cp_file, 1,
		 "the mount's copy, right after cp -p");
	/* and again over the existing copy, whose attributes are cached */
	SH_OK(30, "chmod 0777 '%s/file' && touch '%s/file' && cp -p '%s/file' "
	      "'%s/file'", fx.mnt[0], fx.mnt[0], src, fx.mnt[0]);
	cp_check(native, fx.mnt[0], &cp_file, 1,
		 "the mount's copy, right after cp -p over a 0777 one");
	cp_remount();
	cp_check(native, fx.mnt[0], &cp_file, 1,
		 "the mount's copy, after a remount");
}

MOUNT_TEST(programs_cp, cp_rp_of_a_tree_keeps_modes_mtimes_sizes_and_owners)
{
	char src[PATH_MAX], native[PATH_MAX];
	cp_prepare(src, native);
	cp_make(src, cp_tree, CP_TREE_N);
	SH_OK(60, "cp -rp '%s/tree' '%s/tree'", src, native);
	SH_OK(60, "cp -rp '%s/tree' '%s/tree'", src, fx.mnt[0]);
	cp_check(native, fx.mnt[0], cp_tree, CP_TREE_N,
		 "the mount's copy, right after cp -rp");
	SH_OK(60, "diff -r '%s/tree' '%s/tree'", native, fx.mnt[0]);
	cp_remount();
	cp_check(native, fx.mnt[0], cp_tree, CP_TREE_N,
		 "the mount's copy, after a remount");
}
