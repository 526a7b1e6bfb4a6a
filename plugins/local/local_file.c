/*
 * local_file: open files.  A handle owns one fd of the backing file, which
 * the core may also use directly (the fd op) for splice and friends.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* The open(2) flags passed through to the backing file.  Anything else
 * is dropped: creation is create's business, and FUSE open flags may
 * carry kernel-internal bits (__FMODE_EXEC) that openat2 refuses. */
#define PASSED_FLAGS                                                       \
	(O_ACCMODE | O_APPEND | O_TRUNC | O_NONBLOCK | O_SYNC | O_DSYNC |  \
	 O_DIRECT | O_NOATIME | O_LARGEFILE | O_DIRECTORY)

/* create retries this often when the file appears and vanishes again
 * between its O_EXCL attempt and the plain open. */
#define CREATE_TRIES 4

static int writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

int local_open_file(void *mnt, const char *path, int flags, void **fh)
{
	struct local_mount *m = mnt;
	struct local_file *f;
	int fd;

	if (m->read_only && writes(flags))
		return -EROFS;
	if (!(f = malloc(sizeof *f)))
		return -ENOMEM;
	fd = local_open(m, path, (flags & PASSED_FLAGS) | O_NOCTTY, 0);
	if (fd < 0) {
		free(f);
		return fd;
	}
	f->fd = fd;
	f->writable = (flags & O_ACCMODE) != O_RDONLY;
	*fh = f;
	return 0;
}

/* Open PATH, creating it if missing; *made says whether this call made
 * it.  Plain O_CREAT cannot tell, so when the answer matters (a root
 * daemon gives new files away) the file is created with O_EXCL and, if it
 * exists and the caller did not ask for O_EXCL, opened as it is. */
static int open_creating(struct local_mount *m, const char *path, int flags,
			 mode_t mode, int *made)
{
	int fd = -EEXIST;

	*made = 1;
	if (!m->give_to_caller || (flags & O_EXCL))
		return local_open(m, path, flags | O_CREAT, mode);
	for (int i = 0; i < CREATE_TRIES; i++) {
		fd = local_open(m, path, flags | O_CREAT | O_EXCL, mode);
		if (fd != -EEXIST)
			return fd;
		fd = local_open(m, path, flags, 0);
		if (fd != -ENOENT) {
			*made = 0;
			return fd;
		}
	}
	return fd;
}

int local_create(void *mnt, const char *path, int flags, mode_t mode,
		 const struct scopefs_caller *who, void **fh, struct stat *st)
{
	struct local_mount *m = mnt;
	mode_t setid = m->give_to_caller ? mode & (S_ISUID | S_ISGID) : 0;
	struct local_file *f;
	int fd, made, r = 0;

	if (m->read_only)
		return -EROFS;
	if (!(f = malloc(sizeof *f)))
		return -ENOMEM;
	flags = (flags & (PASSED_FLAGS | O_EXCL) & ~O_DIRECTORY) | O_NOCTTY;
	fd = open_creating(m, path, flags, mode & 07777 & ~setid, &made);
	if (fd < 0) {
		free(f);
		return fd;
	}
	if (fstat(fd, st) < 0)
		r = -errno;
	else if (made)
		r = local_give(m, who, fd, -1, NULL, setid, st);
	if (r < 0) {
		close(fd);
		free(f);
		/* A file the caller could not be given must not stay
		 * behind as the daemon's. */
		if (made)
			local_unlink(m, path);
		return r;
	}
	f->fd = fd;
	f->writable = (flags & O_ACCMODE) != O_RDONLY;
	*fh = f;
	return 0;
}

ssize_t local_read(void *mnt, void *fh, void *buf, size_t size, off_t off)
{
	struct local_file *f = fh;
	ssize_t n;

	(void)mnt;
	do
		n = pread(f->fd, buf, size, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* A short write is continued, so that the core sees either everything
 * written or why not (ENOSPC, EDQUOT, ...). */
ssize_t local_write(void *mnt, void *fh, const void *buf, size_t size,
		    off_t off)
{
	struct local_file *f = fh;
	size_t done = 0;

	(void)mnt;
	while (done < size) {
		ssize_t n = pwrite(f->fd, (const char *)buf + done,
				   size - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return done ? (ssize_t)done : -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int local_release(void *mnt, void *fh)
{
	struct local_file *f = fh;
	int r = close(f->fd) < 0 ? -errno : 0;

	(void)mnt;
	free(f);
	return r;
}

/* Every close(2) of the file in the mount arrives here.  Closing a
 * duplicate makes network filesystems under the root (NFS, Lustre) write
 * back and report errors now, as they would to a local process; a
 * read-only handle has nothing to report, so it costs nothing. */
int local_flush(void *mnt, void *fh)
{
	struct local_file *f = fh;
	int dup_fd;

	(void)mnt;
	if (!f->writable)
		return 0;
	if ((dup_fd = dup(f->fd)) < 0)
		return -errno;
	return close(dup_fd) < 0 ? -errno : 0;
}

int local_fsync(void *mnt, void *fh, int datasync)
{
	struct local_file *f = fh;

	(void)mnt;
	if (datasync)
		return fdatasync(f->fd) < 0 ? -errno : 0;
	return fsync(f->fd) < 0 ? -errno : 0;
}

int local_fd(void *mnt, void *fh)
{
	struct local_file *f = fh;

	(void)mnt;
	return f->fd;
}

int local_truncate(void *mnt, const char *path, void *fh, off_t size)
{
	struct local_mount *m = mnt;
	int fd, r;

	if (m->read_only)
		return -EROFS;
	if (fh)
		return ftruncate(((struct local_file *)fh)->fd, size) < 0 ?
			       -errno : 0;
	/* O_NONBLOCK: a FIFO must fail (ENXIO), not wait for a reader. */
	fd = local_open(m, path, O_WRONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	r = ftruncate(fd, size) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int local_fallocate(void *mnt, void *fh, int mode, off_t off, off_t len)
{
	struct local_file *f = fh;

	(void)mnt;
	return fallocate(f->fd, mode, off, len) < 0 ? -errno : 0;
}
