/*
 * Permission checks for a user other than root, on a mount with
 * -o allow_other.  The oracle is the kernel on a native directory: each
 * test prepares the same tree (as root) in a plain directory and in the
 * mount, runs one operation as nobody (65534:65534, no supplementary
 * groups) in a forked child on each, and wants the same result from both,
 * errno for errno.  The comment on each test says what Linux answers.
 */
#include <grp.h>
#include <sys/xattr.h>
#include "mount_fixture.h"

#define NOBODY 65534
#define OTHER 1000 /* some other unprivileged user */

static const struct fx_mount perm_mount[] = {
	{ "cluster_storage", "cluster", NULL },
};

static void start_allow_other(void)
{
	umask(022);
	fx_start("allow_other", perm_mount, 1);
}

TestSuite(perm, .init = start_allow_other, .fini = fx_teardown,
	  .timeout = 60);

/* What an operation gave: 0 or an errno, plus up to two numbers it
 * reports (an owner, a mode, a byte count). */
struct outcome {
	int err;
	long x[2];
};

typedef void (*perm_op)(const char *root, struct outcome *o);

/* ---- the tree, made by root -------------------------------------------- */

static void mkfile(const char *root, const char *rel, const char *data,
		   mode_t mode, uid_t uid, gid_t gid)
{
	const char *p = fx_fmt("%s/%s", root, rel);
	FX_OK(fx_write_file(p, data, strlen(data), 0600));
	FX_OK(chown(p, uid, gid));
	FX_OK(chmod(p, mode));
}

static void mkdir_as(const char *root, const char *rel, mode_t mode,
		     uid_t uid, gid_t gid)
{
	const char *p = fx_fmt("%s/%s", root, rel);
	FX_OK(mkdir(p, 0700));
	FX_OK(chown(p, uid, gid));
	FX_OK(chmod(p, mode));
}

/*
 * ROOT/              0755 root
 *   secret           0600 root     "secret"
 *   public           0644 root     "public"
 *   shared           0666 root     "shared"
 *   suid             04777 root    "suid"
 *   closed/          0755 root     (root's directory)
 *     f              0644 root
 *   open/            0777 root
 *     mine           0644 nobody
 *   setgid/          02777 root:OTHER
 *   sticky/          01777 root
 *     other          0666 OTHER
 *     mine           0644 nobody
 *   noexec/          0666 root     (r and w, no x)
 *     inner          0644 root
 *   own/             0755 nobody
 *     mine           0644 nobody
 *     locked         0000 nobody
 */
static void prepare(const char *root)
{
	FX_OK(chmod(root, 0755));
	mkfile(root, "secret", "secret", 0600, 0, 0);
	mkfile(root, "public", "public", 0644, 0, 0);
	mkfile(root, "shared", "shared", 0666, 0, 0);
	mkfile(root, "suid", "suid", 04777, 0, 0);
	mkdir_as(root, "closed", 0755, 0, 0);
	mkfile(root, "closed/f", "f", 0644, 0, 0);
	mkdir_as(root, "open", 0777, 0, 0);
	mkfile(root, "open/mine", "mine", 0644, NOBODY, NOBODY);
	mkdir_as(root, "setgid", 02777, 0, OTHER);
	mkdir_as(root, "sticky", 01777, 0, 0);
	mkfile(root, "sticky/other", "other", 0666, OTHER, OTHER);
	mkfile(root, "sticky/mine", "mine", 0644, NOBODY, NOBODY);
	mkdir_as(root, "noexec", 0755, 0, 0);
	mkfile(root, "noexec/inner", "inner", 0644, 0, 0);
	FX_OK(chmod(fx_fmt("%s/noexec", root), 0666));
	mkdir_as(root, "own", 0755, NOBODY, NOBODY);
	mkfile(root, "own/mine", "mine", 0644, NOBODY, NOBODY);
	mkfile(root, "own/locked", "locked", 0000, NOBODY, NOBODY);
}

/* ---- running as nobody ------------------------------------------------- */

/* Run OP on ROOT in a child that has become nobody. */
static struct outcome as_nobody(perm_op op, const char *root)
{
	struct outcome o = { .err = -1 };
	int p[2];
	FX_OK(pipe(p));
	fflush(NULL);
	pid_t pid = FX_OK(fork());
	if (pid == 0) {
		close(p[0]);
		struct outcome r = { 0 };
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY) ||
		    getuid() != NOBODY || geteuid() != NOBODY) {
			r.err = -2;
		} else {
			umask(022);
			op(root, &r);
		}
		(void)!write(p[1], &r, sizeof r);
		_exit(0);
	}
	close(p[1]);
	ssize_t n = read(p[0], &o, sizeof o);
	close(p[0]);
	int status;
	if (!fx_wait_timeout(pid, &status, 30000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		FX_FAIL("the operation as nobody on %s did not finish in 30 s",
			root);
	}
	FX_ASSERT(n == sizeof o, "expected a result from the child working "
		  "as nobody on %s, saw none (%s)", root, fx_status_str(status));
	FX_ASSERT(o.err != -2, "could not become nobody (uid %d)", NOBODY);
	return o;
}

static const char *errstr(int e)
{
	return e == 0 ? "success" : fx_errname(e);
}

/* Prepare both trees, run OP as nobody on each, want the same outcome.
 * Returns the mount's outcome for further checks. */
static struct outcome same_as_native(const char *what, perm_op op)
{
	char native[PATH_MAX];
	snprintf(native, sizeof native, "%s/native", fx.dir);
	FX_OK(mkdir(native, 0755));
	prepare(native);
	prepare(fx.mnt[0]);
	struct outcome n = as_nobody(op, native);
	struct outcome m = as_nobody(op, fx.mnt[0]);
	FX_ASSERT(m.err == n.err, "as nobody, %s: expected %s (what a native "
		  "directory answers), saw %s on the mount", what,
		  errstr(n.err), errstr(m.err));
	for (int i = 0; i < 2; i++)
		FX_ASSERT(m.x[i] == n.x[i], "as nobody, %s: expected value %d "
			  "to be %ld (0%lo) as on a native directory, saw %ld "
			  "(0%lo) on the mount", what, i, n.x[i], n.x[i],
			  m.x[i], m.x[i]);
	return m;
}

#define ERR(call) ((call) < 0 ? errno : 0)
#define P(rel) fx_fmt("%s/%s", root, rel)

/* Each PERM_TEST runs BODY, with `root` and `o`, as nobody on both trees. */
#define PERM_TEST(name)                                                      \
	static void op_##name(const char *root, struct outcome *o);          \
	MOUNT_TEST(perm, name)                                               \
	{                                                                    \
		same_as_native(#name, op_##name);                            \
	}                                                                    \
	static void op_##name(const char *root, struct outcome *o)

/* Open and close; the errno of open. */
static int try_open(const char *path, int flags)
{
	int fd = open(path, flags, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* ---- reading and writing ----------------------------------------------- */

/* EACCES */
PERM_TEST(open_of_a_root_0600_file_gives_eacces)
{
	o->err = try_open(P("secret"), O_RDONLY);
}

/* works, and reads the content */
PERM_TEST(read_of_a_root_0644_file_works)
{
	char buf[16] = "";
	o->err = ERR(fx_read_file(P("public"), buf, sizeof buf));
	o->x[0] = strcmp(buf, "public") == 0;
}

/* EACCES */
PERM_TEST(write_open_of_a_root_0644_file_gives_eacces)
{
	o->err = try_open(P("public"), O_WRONLY);
}

/* EACCES */
PERM_TEST(truncate_of_a_root_0644_file_gives_eacces)
{
	o->err = ERR(truncate(P("public"), 0));
}

/* EACCES for W_OK; R_OK works */
PERM_TEST(access_answers_as_open_would)
{
	o->err = ERR(access(P("public"), W_OK));
	o->x[0] = ERR(access(P("public"), R_OK));
	o->x[1] = ERR(access(P("secret"), R_OK));
}

/* works */
PERM_TEST(write_to_anothers_0666_file_works)
{
	int fd = open(P("shared"), O_WRONLY);
	o->err = fd < 0 ? errno : ERR(write(fd, "x", 1));
	if (fd >= 0)
		close(fd);
}

/* works, and the kernel drops the set-user-ID bit (mode 0777 after) */
PERM_TEST(write_by_a_non_owner_clears_the_setuid_bit)
{
	int fd = open(P("suid"), O_WRONLY);
	o->err = fd < 0 ? errno : ERR(write(fd, "x", 1));
	if (fd >= 0)
		close(fd);
	struct stat st;
	o->x[0] = stat(P("suid"), &st) < 0 ? -errno : (long)(st.st_mode & 07777);
}

/* EACCES even for the owner */
PERM_TEST(open_of_own_file_without_permission_bits_gives_eacces)
{
	o->err = try_open(P("own/locked"), O_RDONLY);
}

/* ---- creating and removing --------------------------------------------- */

/* EACCES */
PERM_TEST(create_in_a_root_0755_dir_gives_eacces)
{
	o->err = try_open(P("closed/new"), O_WRONLY | O_CREAT);
}

/* EACCES */
PERM_TEST(mkdir_in_a_root_0755_dir_gives_eacces)
{
	o->err = ERR(mkdir(P("closed/new"), 0755));
}

/* EACCES */
PERM_TEST(unlink_in_a_root_0755_dir_gives_eacces)
{
	o->err = ERR(unlink(P("closed/f")));
}

/* EACCES */
PERM_TEST(rename_into_a_root_0755_dir_gives_eacces)
{
	o->err = ERR(rename(P("open/mine"), P("closed/mine")));
}

/* works; the new file is owned by 65534:65534 */
PERM_TEST(create_in_a_0777_dir_is_owned_by_the_caller)
{
	int fd = open(P("open/new"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	o->err = fd < 0 ? errno : 0;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		o->x[0] = st.st_uid;
		o->x[1] = st.st_gid;
	}
	if (fd >= 0)
		close(fd);
}

/* works; the directory is owned by 65534:65534 */
PERM_TEST(mkdir_in_a_0777_dir_is_owned_by_the_caller)
{
	o->err = ERR(mkdir(P("open/newdir"), 0755));
	struct stat st;
	if (stat(P("open/newdir"), &st) == 0) {
		o->x[0] = st.st_uid;
		o->x[1] = st.st_gid;
	}
}

/* works; the file takes the directory's group (OTHER) */
PERM_TEST(create_in_a_setgid_dir_takes_the_dirs_group)
{
	int fd = open(P("setgid/new"), O_WRONLY | O_CREAT, 0644);
	o->err = fd < 0 ? errno : 0;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0)
		o->x[0] = st.st_gid;
	if (fd >= 0)
		close(fd);
	o->x[1] = stat(P("setgid/new"), &st) == 0 ? (long)st.st_gid : -1;
}

/* EPERM (EACCES on some systems: whatever native gives) */
PERM_TEST(unlink_of_anothers_file_in_a_sticky_dir_gives_eperm)
{
	o->err = ERR(unlink(P("sticky/other")));
}

/* EPERM */
PERM_TEST(rename_of_anothers_file_in_a_sticky_dir_gives_eperm)
{
	o->err = ERR(rename(P("sticky/other"), P("sticky/taken")));
}

/* works */
PERM_TEST(unlink_of_own_file_in_a_sticky_dir_works)
{
	o->err = ERR(unlink(P("sticky/mine")));
}

/* EPERM with fs.protected_hardlinks = 1 */
PERM_TEST(hard_link_to_anothers_0600_file_gives_eperm)
{
	o->err = ERR(link(P("secret"), P("open/hl")));
}

/* ---- attributes -------------------------------------------------------- */

/* EPERM */
PERM_TEST(chmod_of_anothers_file_gives_eperm)
{
	o->err = ERR(chmod(P("public"), 0666));
}

/* works */
PERM_TEST(chmod_of_own_file_works)
{
	o->err = ERR(chmod(P("own/mine"), 0600));
	struct stat st;
	o->x[0] = stat(P("own/mine"), &st) < 0 ? -errno
					       : (long)(st.st_mode & 07777);
}

/* EPERM */
PERM_TEST(chown_of_anothers_file_gives_eperm)
{
	o->err = ERR(chown(P("public"), NOBODY, NOBODY));
}

/* EPERM */
PERM_TEST(chown_of_own_file_to_root_gives_eperm)
{
	o->err = ERR(chown(P("own/mine"), 0, (gid_t)-1));
}

/* EPERM: nobody is not in group 0 */
PERM_TEST(chgrp_of_own_file_to_a_foreign_group_gives_eperm)
{
	o->err = ERR(chown(P("own/mine"), (uid_t)-1, 0));
}

/* works: write permission is enough to set both times to now */
PERM_TEST(utimens_now_on_anothers_0666_file_works)
{
	o->err = ERR(utimensat(AT_FDCWD, P("shared"), NULL, 0));
}

/* EPERM: explicit times need ownership */
PERM_TEST(utimens_explicit_on_anothers_0666_file_gives_eperm)
{
	struct timespec ts[2] = { { 1000, 0 }, { 2000, 0 } };
	o->err = ERR(utimensat(AT_FDCWD, P("shared"), ts, 0));
}

/* EACCES (a user xattr needs write permission) */
PERM_TEST(setxattr_on_anothers_file_gives_eacces)
{
	o->err = ERR(setxattr(P("public"), "user.x", "1", 1, 0));
}

/* ---- directories ------------------------------------------------------- */

/* EACCES */
PERM_TEST(lookup_in_a_dir_without_x_gives_eacces)
{
	struct stat st;
	o->err = ERR(stat(P("noexec/inner"), &st));
}

/* works: r lists the names (the count includes . and .. natively) */
PERM_TEST(listing_a_dir_with_r_but_without_x_works)
{
	DIR *d = opendir(P("noexec"));
	o->err = d ? 0 : errno;
	long names = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		names += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	o->x[0] = names;
}
