/*
 * Real programs working inside a mount: cp -r and diff -r, tar x and tar c
 * of a few thousand headers, git init/add/commit/fsck, sqlite3 with a
 * rollback journal and with WAL.  Each runs through the shell with a
 * timeout; a failure shows the command, its exit code and its output.
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
	SH_OK(60, "cmp '%s/native.tar' '%s/mount.tar'", fx.dir, fx.dir);
	/* tar's own comparison: contents, modes, owners, times */
	SH_OK(120, "tar -df '%s' -C '%s'", tarball, fx.mnt[0]);
}

MOUNT_TEST(programs, git_init_add_commit_and_fsck_work)
{
	const char *g = "git -c user.name=scopefs -c user.email=t@scopefs "
			"-c init.defaultBranch=main -c gc.auto=0";
	SH_OK(60, "cd '%s' && %s init -q repo", fx.mnt[0], g);
	SH_OK(60, "cp -r /usr/include/linux '%s/repo/src' && "
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
