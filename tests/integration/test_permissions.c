/*
 * Permission checks for a user other than root, on a mount with
 * -o allow_other.  Each test states the outcome Linux gives (success or
 * which errno, plus up to two numbers such as an owner or a mode), and
 * prepares the same tree (as root) in a plain directory and in the mount,
 * runs one operation as nobody (65534:65534, no supplementary groups) in a
 * forked child on each, and wants that outcome from both: the native
 * directory first, so that a wrong expectation or a machine where nobody
 * cannot work at all fails as such, then the mount.  Comparing the two
 * alone would pass when both say EACCES because nobody cannot even reach
 * the test directory; the guard test nobody_can_reach_and_use_both_trees
 * fails loudly on exactly that setup mistake.
 *
 * The trees are a directory "tree" in the mount and DIR/native, not the
 * mount point itself: on an object store the mount point's root has no
 * object of its own to keep a mode in.
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
 * reports (an owner, a mode, a byte count, an errno); note says what
 * went wrong where that helps (the guard test). */
struct outcome {
	int err;
	long x[2];
	char note[512];
};

#define OUT(e, a, b) ((struct outcome){ .err = (e), .x = { (a), (b) } })

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

/* The names directly in ROOT. */
#define TREE_ENTRIES 10

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
	FX_OK(mkdir(root, 0755));
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
		    getuid() != NOBODY || geteuid() != NOBODY ||
		    getgid() != NOBODY || getegid() != NOBODY ||
		    getgroups(0, NULL) != 0) {
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

/* "-13" or "420 (0644)" */
static const char *value_str(long v)
{
	return v < 0 ? fx_fmt("%ld", v) : fx_fmt("%ld (0%lo)", v, v);
}

/* "EACCES, values 0 (00), 13 (015)": for messages. */
static const char *outcome_str(const struct outcome *o)
{
	return fx_fmt("%s, values %s, %s%s%s", errstr(o->err),
		      value_str(o->x[0]), value_str(o->x[1]),
		      o->note[0] ? "; " : "", o->note);
}

static int same_outcome(const struct outcome *a, const struct outcome *b)
{
	return a->err == b->err && a->x[0] == b->x[0] && a->x[1] == b->x[1];
}

/* Prepare both trees, run OP as nobody on each: the native directory must
 * give WANT (else the expectation or this machine is wrong), the mount
 * WANT_MOUNT (WANT, or what an object store gives by design). */
static void check_case(const char *what, perm_op op, struct outcome want,
		       struct outcome want_mount)
{
	char native[PATH_MAX], tree[PATH_MAX];
	snprintf(native, sizeof native, "%s/native", fx.dir);
	snprintf(tree, sizeof tree, "%s", fx_mpath(0, "tree"));
	prepare(native);
	prepare(tree);
	struct outcome n = as_nobody(op, native);
	FX_ASSERT(same_outcome(&n, &want), "as nobody, %s on a native "
		  "directory: expected %s, saw %s (the test's expectation or "
		  "this machine's setup is wrong; see the guard test "
		  "nobody_can_reach_and_use_both_trees)", what,
		  outcome_str(&want), outcome_str(&n));
	struct outcome m = as_nobody(op, tree);
	FX_ASSERT(same_outcome(&m, &want_mount), "as nobody, %s: expected %s "
		  "on the mount (%s backend; a native directory gave %s), saw "
		  "%s", what, outcome_str(&want_mount), fx.backend->name,
		  outcome_str(&n), outcome_str(&m));
}

#define ERR(call) ((call) < 0 ? errno : 0)
#define P(rel) fx_fmt("%s/%s", root, rel)

/* PERM_TEST(name, OUT(errno or 0, x0, x1)) runs BODY, with `root` and `o`,
 * as nobody on both trees and wants that outcome from both. */
#define PERM_TEST(name, want) PERM_TEST_OBJ(name, want, want)

/* The same where an object store answers differently by design: WANT_OBJ
 * on the mount when fx_object_store().  Say why at each use. */
#define PERM_TEST_OBJ(name, want, want_obj)                                  \
	static void op_##name(const char *root, struct outcome *o);          \
	MOUNT_TEST(perm, name)                                               \
	{                                                                    \
		struct outcome w_ = want;                                    \
		check_case(#name, op_##name, w_,                             \
			   fx_object_store() ? want_obj : w_);               \
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

/* ---- the guard: nobody really works in both trees ---------------------- */

/* Every directory from / down to ROOT can be searched, ROOT can be listed,
 * a readable file read, a file created, written, read back, owned by the
 * caller and removed in open/; and secret stays closed (the child kept no
 * privilege).  Without this, a setup where nobody cannot reach the test
 * directory (a TMPDIR under a 0700 home, a mount without allow_other)
 * would let each EACCES case pass for the wrong reason. */
static void op_reach(const char *root, struct outcome *o)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof path, "%s", root);
	for (char *s = path + 1;; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (stat(path, &st) < 0 || access(path, X_OK) < 0) {
			o->err = errno;
			snprintf(o->note, sizeof o->note, "nobody cannot search "
				 "%.300s: %s (every directory down to the test's "
				 "must be searchable by others, and the mount "
				 "must be allow_other)", path, strerror(errno));
			return;
		}
		*s = c;
		if (!c)
			break;
	}
	DIR *d = opendir(root);
	if (!d) {
		o->err = errno;
		snprintf(o->note, sizeof o->note, "opendir %.300s: %s", root,
			 strerror(errno));
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		o->x[0] += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	char buf[64] = "";
	if (fx_read_file(P("public"), buf, sizeof buf) < 0 ||
	    strcmp(buf, "public") != 0) {
		o->err = errno ? errno : EIO;
		snprintf(o->note, sizeof o->note, "read %.300s: %s, \"%.20s\"",
			 P("public"), strerror(errno), buf);
		return;
	}
	const char *g = P("open/guard");
	if (fx_write_file(g, "guard", 5, 0644) < 0 ||
	    fx_read_file(g, buf, sizeof buf) != 5 || strcmp(buf, "guard") ||
	    stat(g, &st) < 0 || st.st_uid != NOBODY || unlink(g) < 0) {
		o->err = errno ? errno : EIO;
		snprintf(o->note, sizeof o->note, "create, write, read back "
			 "and remove %.300s as nobody: %s (read \"%.20s\")", g,
			 strerror(errno), buf);
		return;
	}
	o->x[1] = try_open(P("secret"), O_RDONLY);
}

/* works: TREE_ENTRIES names listed, and secret gives EACCES */
MOUNT_TEST(perm, nobody_can_reach_and_use_both_trees)
{
	check_case("reach and use the tree", op_reach,
		   OUT(0, TREE_ENTRIES, EACCES), OUT(0, TREE_ENTRIES, EACCES));
}

/* ---- reading and writing ----------------------------------------------- */

PERM_TEST(open_of_a_root_0600_file_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = try_open(P("secret"), O_RDONLY);
}

/* works, and reads the 6 bytes of content */
PERM_TEST(read_of_a_root_0644_file_works, OUT(0, 1, 6))
{
	char buf[16] = "";
	ssize_t n = fx_read_file(P("public"), buf, sizeof buf);
	o->err = ERR(n);
	o->x[0] = strcmp(buf, "public") == 0;
	o->x[1] = n;
}

PERM_TEST(write_open_of_a_root_0644_file_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = try_open(P("public"), O_WRONLY);
}

PERM_TEST(truncate_of_a_root_0644_file_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = ERR(truncate(P("public"), 0));
}

/* EACCES for W_OK on public; R_OK works on public, gives EACCES on secret */
PERM_TEST(access_answers_as_open_would, OUT(EACCES, 0, EACCES))
{
	o->err = ERR(access(P("public"), W_OK));
	o->x[0] = ERR(access(P("public"), R_OK));
	o->x[1] = ERR(access(P("secret"), R_OK));
}

/* works: one byte written, and the file reads "xhared" after */
PERM_TEST(write_to_anothers_0666_file_works, OUT(0, 1, 1))
{
	int fd = open(P("shared"), O_WRONLY);
	ssize_t n = fd < 0 ? -1 : write(fd, "x", 1);
	o->err = fd < 0 || n < 0 ? errno : 0;
	o->x[0] = n;
	if (fd >= 0 && close(fd) < 0 && !o->err)
		o->err = errno;
	char buf[16] = "";
	fx_read_file(P("shared"), buf, sizeof buf);
	o->x[1] = strcmp(buf, "xhared") == 0;
}

/* works, and the kernel drops the set-user-ID bit (mode 0777 after) */
PERM_TEST(write_by_a_non_owner_clears_the_setuid_bit, OUT(0, 0777, 0))
{
	int fd = open(P("suid"), O_WRONLY);
	o->err = fd < 0 ? errno : ERR(write(fd, "x", 1));
	if (fd >= 0)
		close(fd);
	struct stat st;
	o->x[0] = stat(P("suid"), &st) < 0 ? -errno : (long)(st.st_mode & 07777);
}

/* EACCES even for the owner */
PERM_TEST(open_of_own_file_without_permission_bits_gives_eacces,
	  OUT(EACCES, 0, 0))
{
	o->err = try_open(P("own/locked"), O_RDONLY);
}

/* ---- creating and removing --------------------------------------------- */

PERM_TEST(create_in_a_root_0755_dir_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = try_open(P("closed/new"), O_WRONLY | O_CREAT);
}

PERM_TEST(mkdir_in_a_root_0755_dir_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = ERR(mkdir(P("closed/new"), 0755));
}

PERM_TEST(unlink_in_a_root_0755_dir_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = ERR(unlink(P("closed/f")));
}

PERM_TEST(rename_into_a_root_0755_dir_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = ERR(rename(P("open/mine"), P("closed/mine")));
}

/* works; the new file is owned by 65534:65534 */
PERM_TEST(create_in_a_0777_dir_is_owned_by_the_caller,
	  OUT(0, NOBODY, NOBODY))
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
PERM_TEST(mkdir_in_a_0777_dir_is_owned_by_the_caller,
	  OUT(0, NOBODY, NOBODY))
{
	o->err = ERR(mkdir(P("open/newdir"), 0755));
	struct stat st;
	if (stat(P("open/newdir"), &st) == 0) {
		o->x[0] = st.st_uid;
		o->x[1] = st.st_gid;
	}
}

/* works; the file takes the directory's group (OTHER), on the open file
 * and on a fresh lookup */
PERM_TEST(create_in_a_setgid_dir_takes_the_dirs_group, OUT(0, OTHER, OTHER))
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

/* works; the directory takes the group and the set-group-ID bit */
PERM_TEST(mkdir_in_a_setgid_dir_takes_the_group_and_the_bit,
	  OUT(0, OTHER, 02755))
{
	o->err = ERR(mkdir(P("setgid/sub"), 0755));
	struct stat st;
	if (stat(P("setgid/sub"), &st) == 0) {
		o->x[0] = st.st_gid;
		o->x[1] = st.st_mode & 07777;
	}
}

/* EPERM (Linux; POSIX also allows EACCES) */
PERM_TEST(unlink_of_anothers_file_in_a_sticky_dir_gives_eperm,
	  OUT(EPERM, 0, 0))
{
	o->err = ERR(unlink(P("sticky/other")));
}

PERM_TEST(rename_of_anothers_file_in_a_sticky_dir_gives_eperm,
	  OUT(EPERM, 0, 0))
{
	o->err = ERR(rename(P("sticky/other"), P("sticky/taken")));
}

PERM_TEST(unlink_of_own_file_in_a_sticky_dir_works, OUT(0, 0, 0))
{
	o->err = ERR(unlink(P("sticky/mine")));
}

/* The kernel's answer for a link to another user's file that the caller
 * cannot read and write: EPERM with fs.protected_hardlinks = 1, else the
 * link is made. */
static int protected_hardlinks(void)
{
	char buf[16] = "";
	return fx_read_file("/proc/sys/fs/protected_hardlinks", buf,
			    sizeof buf) > 0 && atoi(buf) != 0;
}

/* EPERM with fs.protected_hardlinks = 1 (the default); an object store
 * has no hard links and answers EPERM to every link(2) anyway */
PERM_TEST_OBJ(hard_link_to_anothers_0600_file_gives_eperm,
	      OUT(protected_hardlinks() ? EPERM : 0, 0, 0),
	      OUT(EPERM, 0, 0))
{
	o->err = ERR(link(P("secret"), P("open/hl")));
}

/* ---- attributes -------------------------------------------------------- */

PERM_TEST(chmod_of_anothers_file_gives_eperm, OUT(EPERM, 0, 0))
{
	o->err = ERR(chmod(P("public"), 0666));
}

/* works, and the mode is 0600 after */
PERM_TEST(chmod_of_own_file_works, OUT(0, 0600, 0))
{
	o->err = ERR(chmod(P("own/mine"), 0600));
	struct stat st;
	o->x[0] = stat(P("own/mine"), &st) < 0 ? -errno
					       : (long)(st.st_mode & 07777);
}

PERM_TEST(chown_of_anothers_file_gives_eperm, OUT(EPERM, 0, 0))
{
	o->err = ERR(chown(P("public"), NOBODY, NOBODY));
}

PERM_TEST(chown_of_own_file_to_root_gives_eperm, OUT(EPERM, 0, 0))
{
	o->err = ERR(chown(P("own/mine"), 0, (gid_t)-1));
}

/* EPERM: nobody is not in group 0 */
PERM_TEST(chgrp_of_own_file_to_a_foreign_group_gives_eperm,
	  OUT(EPERM, 0, 0))
{
	o->err = ERR(chown(P("own/mine"), (uid_t)-1, 0));
}

/* works: write permission is enough to set both times to now */
PERM_TEST(utimens_now_on_anothers_0666_file_works, OUT(0, 0, 0))
{
	o->err = ERR(utimensat(AT_FDCWD, P("shared"), NULL, 0));
}

/* EPERM: explicit times need ownership */
PERM_TEST(utimens_explicit_on_anothers_0666_file_gives_eperm,
	  OUT(EPERM, 0, 0))
{
	struct timespec ts[2] = { { 1000, 0 }, { 2000, 0 } };
	o->err = ERR(utimensat(AT_FDCWD, P("shared"), ts, 0));
}

/* EACCES: the kernel checks write permission for a user xattr before
 * asking the filesystem, so an object store (no xattrs) answers the same */
PERM_TEST(setxattr_on_anothers_file_gives_eacces, OUT(EACCES, 0, 0))
{
	o->err = ERR(setxattr(P("public"), "user.x", "1", 1, 0));
}

/* ---- directories ------------------------------------------------------- */

PERM_TEST(lookup_in_a_dir_without_x_gives_eacces, OUT(EACCES, 0, 0))
{
	struct stat st;
	o->err = ERR(stat(P("noexec/inner"), &st));
}

/* works: r lists the one name (. and .. not counted) */
PERM_TEST(listing_a_dir_with_r_but_without_x_works, OUT(0, 1, 0))
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

/* ---- modes a listing does not carry ------------------------------------- */

static void op_read_cold_secret(const char *root, struct outcome *o)
{
	o->err = try_open(P("secret"), O_RDONLY);
}

/* A file kept at 0600 stays closed to others right after a cold listing.
 * An S3 listing carries sizes, not modes: a fresh daemon that showed the
 * kernel a listing's default mode (0644) would let nobody read the file
 * until the TTL passed.  Over 1 KiB, the size a listing alone describes. */
MOUNT_TEST(perm, a_cold_listing_keeps_a_private_file_private)
{
	const char *root = fx_mpath(0, "cold");
	static char data[3000];
	memset(data, 's', sizeof data);
	FX_OK(mkdir(root, 0755));
	FX_OK(fx_write_file(P("secret"), data, sizeof data, 0600));
	FX_OK(chmod(P("secret"), 0600));
	/* a daemon that has read no metadata yet */
	fx_stop();
	fx_finish();
	fx_launch("allow_other");
	DIR *d = opendir(root);
	FX_ASSERT(d, "opendir %s: %s", root, fx_errname(errno));
	while (readdir(d))
		;
	closedir(d);
	struct outcome o = as_nobody(op_read_cold_secret, root);
	FX_ASSERT(o.err == EACCES, "nobody opened %s/secret (0600, root's) "
		  "right after a fresh daemon listed its directory: expected "
		  "EACCES, saw %s", root, errstr(o.err));
	struct stat st;
	FX_OK(lstat(P("secret"), &st));
	FX_EQ_MODE(st.st_mode, S_IFREG | 0600);
}
