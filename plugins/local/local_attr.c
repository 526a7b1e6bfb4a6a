/*
 * local_attr: attributes (stat, mode, owner, times, statfs) and the
 * ownership of nodes the daemon creates on a caller's behalf.  With a
 * handle the call goes to its fd; by path, to (parent, name) without
 * following a symlink there.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static int file_fd(void *fh)
{
	return ((struct local_file *)fh)->fd;
}

int local_getattr(void *mnt, const char *path, void *fh, struct stat *st)
{
	struct local_mount *m = mnt;
	struct local_at at;
	int r;

	if (fh)
		return fstat(file_fd(fh), st) < 0 ? -errno : 0;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (fstatat(at.dirfd, at.name, st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	local_at_close(m, &at);
	return r;
}

/* fchmodat(2) itself always follows a symlink.  fchmodat2 does not, and
 * refuses symlinks; glibc's fchmodat(AT_SYMLINK_NOFOLLOW) does the same
 * through an O_PATH fd and /proc on kernels before 6.6. */
int local_chmod_at(struct local_mount *m, int dirfd, const char *name,
		   mode_t mode)
{
	long r;

	mode &= 07777;
	if (m->has_fchmodat2)
		r = syscall(SYS_fchmodat2, dirfd, name, mode,
			    AT_SYMLINK_NOFOLLOW);
	else
		r = fchmodat(dirfd, name, mode, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? -errno : 0;
}

int local_chmod(void *mnt, const char *path, void *fh, mode_t mode)
{
	struct local_mount *m = mnt;
	struct local_at at;
	int r;

	if (m->read_only)
		return -EROFS;
	if (fh)
		return fchmod(file_fd(fh), mode & 07777) < 0 ? -errno : 0;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	r = local_chmod_at(m, at.dirfd, at.name, mode);
	local_at_close(m, &at);
	return r;
}

int local_chown(void *mnt, const char *path, void *fh, uid_t uid, gid_t gid)
{
	struct local_mount *m = mnt;
	struct local_at at;
	int r;

	if (m->read_only)
		return -EROFS;
	if (fh)
		return fchown(file_fd(fh), uid, gid) < 0 ? -errno : 0;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (fchownat(at.dirfd, at.name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	local_at_close(m, &at);
	return r;
}

int local_utimens(void *mnt, const char *path, void *fh,
		  const struct timespec ts[2])
{
	struct local_mount *m = mnt;
	struct local_at at;
	int r;

	if (m->read_only)
		return -EROFS;
	if (fh)
		return futimens(file_fd(fh), ts) < 0 ? -errno : 0;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (utimensat(at.dirfd, at.name, ts, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	local_at_close(m, &at);
	return r;
}

/* The whole mount is one directory tree; its filesystem answers for any
 * path in it. */
int local_statfs(void *mnt, const char *path, struct statvfs *st)
{
	struct local_mount *m = mnt;

	(void)path;
	return fstatvfs(m->root, st) < 0 ? -errno : 0;
}

int local_give(struct local_mount *m, const struct scopefs_caller *who,
	       int fd, int dirfd, const char *name, mode_t setid,
	       struct stat *st)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (!m->give_to_caller || !who)
		return 0;
	uid = st->st_uid == who->uid ? (uid_t)-1 : who->uid;
	/* A new node has the daemon's gid unless its directory is
	 * set-group-ID; then it has the directory's, and keeps it. */
	gid = st->st_gid != m->own_gid || st->st_gid == who->gid ? (gid_t)-1 :
								   who->gid;
	/* chmod by root keeps S_ISGID whatever the group; the caller may
	 * have it only on a file of its own group. */
	if (who->uid != 0 && (gid == (gid_t)-1 ? st->st_gid : gid) != who->gid)
		setid &= (mode_t)~S_ISGID;
	if (uid == (uid_t)-1 && gid == (gid_t)-1 && !setid)
		return 0;
	if (uid != (uid_t)-1 || gid != (gid_t)-1) {
		r = fd >= 0 ? fchown(fd, uid, gid) :
			      fchownat(dirfd, name, uid, gid,
				       AT_SYMLINK_NOFOLLOW);
		if (r < 0)
			return -errno;
	}
	if (setid) {
		mode_t mode = (st->st_mode & 07777) | setid;

		r = fd >= 0 ? (fchmod(fd, mode) < 0 ? -errno : 0) :
			      local_chmod_at(m, dirfd, name, mode);
		if (r < 0)
			return r;
	}
	r = fd >= 0 ? fstat(fd, st) :
		      fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW);
	return r < 0 ? -errno : 0;
}
