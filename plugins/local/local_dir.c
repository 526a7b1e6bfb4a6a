/*
 * local_dir: directories and the names in them (listing, making,
 * linking, removing and renaming entries).  Each operation resolves its
 * path(s) with local_at_open and acts with one *at call that does not
 * follow a symlink in the last component.
 */
#include "local.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Entries that vanish during the listing are left out; one that cannot be
 * stat'ed otherwise is listed by name and the core asks getattr. */
int local_readdir(void *mnt, const char *path, scopefs_fill_fn fill,
		  void *ctx)
{
	struct local_mount *m = mnt;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, r = 0;

	fd = local_open(m, path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	if (!(d = fdopendir(fd))) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		if (!(e = readdir(d))) {
			r = -errno;
			break;
		}
		if (is_dot_or_dotdot(e->d_name))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			r = fill(ctx, e->d_name, &st);
		else if (errno != ENOENT)
			r = fill(ctx, e->d_name, NULL);
		if (r < 0)
			break;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

/* AT names a node this call just made: fill st and give the node to the
 * caller; if either fails, remove the node again (REMOVE is 0 or
 * AT_REMOVEDIR) so that a failed call leaves nothing behind. */
static int made_node(struct local_mount *m, const struct scopefs_caller *who,
		     const struct local_at *at, mode_t setid, int remove,
		     struct stat *st)
{
	int r = 0;

	if (fstatat(at->dirfd, at->name, st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else
		r = local_give(m, who, -1, at->dirfd, at->name, setid, st);
	if (r < 0)
		unlinkat(at->dirfd, at->name, remove);
	return r;
}

int local_mkdir(void *mnt, const char *path, mode_t mode,
		const struct scopefs_caller *who, struct stat *st)
{
	struct local_mount *m = mnt;
	struct local_at at;
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (mkdirat(at.dirfd, at.name, mode & 07777) < 0)
		r = -errno;
	else
		r = made_node(m, who, &at, 0, AT_REMOVEDIR, st);
	local_at_close(m, &at);
	return r;
}

int local_mknod(void *mnt, const char *path, mode_t mode, dev_t rdev,
		const struct scopefs_caller *who, struct stat *st)
{
	struct local_mount *m = mnt;
	mode_t setid = 0;
	struct local_at at;
	int r;

	if (m->read_only)
		return -EROFS;
	/* The kernel checks CAP_MKNOD of the caller too; a root daemon must
	 * not be the way round it. */
	if ((S_ISCHR(mode) || S_ISBLK(mode)) && (!who || who->uid != 0))
		return -EPERM;
	if (S_ISREG(mode) && m->give_to_caller)
		setid = mode & (S_ISUID | S_ISGID);
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (mknodat(at.dirfd, at.name, (mode & S_IFMT) | (mode & 07777 & ~setid),
		    rdev) < 0)
		r = -errno;
	else
		r = made_node(m, who, &at, setid, 0, st);
	local_at_close(m, &at);
	return r;
}

/* TARGET is stored as given: the daemon never follows it, the kernel
 * resolves it for the process that uses the link. */
int local_symlink(void *mnt, const char *target, const char *path,
		  const struct scopefs_caller *who, struct stat *st)
{
	struct local_mount *m = mnt;
	struct local_at at;
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (symlinkat(target, at.dirfd, at.name) < 0)
		r = -errno;
	else
		r = made_node(m, who, &at, 0, 0, st);
	local_at_close(m, &at);
	return r;
}

int local_link(void *mnt, const char *from, const char *to, struct stat *st)
{
	struct local_mount *m = mnt;
	struct local_at src, dst;
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = local_at_open(m, from, &src)) < 0)
		return r;
	if ((r = local_at_open(m, to, &dst)) < 0) {
		local_at_close(m, &src);
		return r;
	}
	/* No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink. */
	if (linkat(src.dirfd, src.name, dst.dirfd, dst.name, 0) < 0 ||
	    fstatat(dst.dirfd, dst.name, st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	local_at_close(m, &dst);
	local_at_close(m, &src);
	return r;
}

static int remove_at(struct local_mount *m, const char *path, int flags)
{
	struct local_at at;
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (unlinkat(at.dirfd, at.name, flags) < 0)
		r = -errno;
	local_at_close(m, &at);
	return r;
}

int local_unlink(void *mnt, const char *path)
{
	return remove_at(mnt, path, 0);
}

int local_rmdir(void *mnt, const char *path)
{
	return remove_at(mnt, path, AT_REMOVEDIR);
}

int local_rename(void *mnt, const char *from, const char *to,
		 unsigned int flags)
{
	struct local_mount *m = mnt;
	struct local_at src, dst;
	int r;

	if (m->read_only)
		return -EROFS;
	/* RENAME_WHITEOUT would make a device node: not for callers. */
	if (flags & ~(unsigned int)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((r = local_at_open(m, from, &src)) < 0)
		return r;
	if ((r = local_at_open(m, to, &dst)) < 0) {
		local_at_close(m, &src);
		return r;
	}
	if (renameat2(src.dirfd, src.name, dst.dirfd, dst.name, flags) < 0)
		r = -errno;
	local_at_close(m, &dst);
	local_at_close(m, &src);
	return r;
}

int local_readlink(void *mnt, const char *path, char *buf, size_t size)
{
	struct local_mount *m = mnt;
	struct local_at at;
	ssize_t n;
	int r;

	if (size == 0)
		return -ENAMETOOLONG;
	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	n = readlinkat(at.dirfd, at.name, buf, size);
	if (n < 0)
		r = -errno;
	else if ((size_t)n == size)
		r = -ENAMETOOLONG; /* no room for the NUL, or cut short */
	else
		buf[n] = '\0';
	local_at_close(m, &at);
	return r;
}
