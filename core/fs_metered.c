/* fs_metered: see fs_metered.h.  One wrapper per operation: time the
 * inner call, count it under its name, with its errno when it fails and
 * its bytes for read and write. */
#include <stddef.h>
#include "fs_metered.h"

const char *const mx_fs_op_names[MX_FS_NOPS] = {
	"getattr", "readdir", "open", "create", "read", "write", "release", "flush", "fsync", "fd", "truncate", "mkdir", "mknod", "unlink", "rmdir", "rename", "symlink", "readlink", "link", "chmod", "chown", "utimens", "statfs", "fallocate", "setxattr", "getxattr", "listxattr", "removexattr",
};

#define M ((struct fs_metered *)mnt)

static int m_getattr(void *mnt, const char *path, void *fh, struct stat *st)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->getattr(M->inner_mnt, path, fh, st);

	metrics_fsop(M->mx, 0, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_readdir(void *mnt, const char *path, scopefs_fill_fn fill, void *ctx)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->readdir(M->inner_mnt, path, fill, ctx);

	metrics_fsop(M->mx, 1, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_open(void *mnt, const char *path, int flags, void **fh)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->open(M->inner_mnt, path, flags, fh);

	metrics_fsop(M->mx, 2, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_create(void *mnt, const char *path, int flags, mode_t mode, const struct scopefs_caller *who, void **fh, struct stat *st)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->create(M->inner_mnt, path, flags, mode, who, fh, st);

	metrics_fsop(M->mx, 3, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static ssize_t m_read(void *mnt, void *fh, void *buf, size_t size, off_t off)
{
	uint64_t t0 = metrics_now_ns();
	ssize_t r = M->inner->read(M->inner_mnt, fh, buf, size, off);

	metrics_fsop(M->mx, 4, (long)r, (uint64_t)(r > 0 ? r : 0), metrics_now_ns() - t0);
	return r;
}

static ssize_t m_write(void *mnt, void *fh, const void *buf, size_t size, off_t off)
{
	uint64_t t0 = metrics_now_ns();
	ssize_t r = M->inner->write(M->inner_mnt, fh, buf, size, off);

	metrics_fsop(M->mx, 5, (long)r, (uint64_t)(r > 0 ? r : 0), metrics_now_ns() - t0);
	return r;
}

static int m_release(void *mnt, void *fh)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->release(M->inner_mnt, fh);

	metrics_fsop(M->mx, 6, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_flush(void *mnt, void *fh)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->flush(M->inner_mnt, fh);

	metrics_fsop(M->mx, 7, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_fsync(void *mnt, void *fh, int datasync)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->fsync(M->inner_mnt, fh, datasync);

	metrics_fsop(M->mx, 8, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_fd(void *mnt, void *fh)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->fd(M->inner_mnt, fh);

	metrics_fsop(M->mx, 9, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_truncate(void *mnt, const char *path, void *fh, off_t size)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->truncate(M->inner_mnt, path, fh, size);

	metrics_fsop(M->mx, 10, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_mkdir(void *mnt, const char *path, mode_t mode, const struct scopefs_caller *who, struct stat *st)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->mkdir(M->inner_mnt, path, mode, who, st);

	metrics_fsop(M->mx, 11, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_mknod(void *mnt, const char *path, mode_t mode, dev_t rdev, const struct scopefs_caller *who, struct stat *st)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->mknod(M->inner_mnt, path, mode, rdev, who, st);

	metrics_fsop(M->mx, 12, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_unlink(void *mnt, const char *path)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->unlink(M->inner_mnt, path);

	metrics_fsop(M->mx, 13, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_rmdir(void *mnt, const char *path)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->rmdir(M->inner_mnt, path);

	metrics_fsop(M->mx, 14, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_rename(void *mnt, const char *from, const char *to, unsigned int flags)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->rename(M->inner_mnt, from, to, flags);

	metrics_fsop(M->mx, 15, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_symlink(void *mnt, const char *target, const char *path, const struct scopefs_caller *who, struct stat *st)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->symlink(M->inner_mnt, target, path, who, st);

	metrics_fsop(M->mx, 16, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_readlink(void *mnt, const char *path, char *buf, size_t size)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->readlink(M->inner_mnt, path, buf, size);

	metrics_fsop(M->mx, 17, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_link(void *mnt, const char *from, const char *to, struct stat *st)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->link(M->inner_mnt, from, to, st);

	metrics_fsop(M->mx, 18, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_chmod(void *mnt, const char *path, void *fh, mode_t mode)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->chmod(M->inner_mnt, path, fh, mode);

	metrics_fsop(M->mx, 19, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_chown(void *mnt, const char *path, void *fh, uid_t uid, gid_t gid)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->chown(M->inner_mnt, path, fh, uid, gid);

	metrics_fsop(M->mx, 20, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_utimens(void *mnt, const char *path, void *fh, const struct timespec ts[2])
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->utimens(M->inner_mnt, path, fh, ts);

	metrics_fsop(M->mx, 21, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_statfs(void *mnt, const char *path, struct statvfs *st)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->statfs(M->inner_mnt, path, st);

	metrics_fsop(M->mx, 22, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_fallocate(void *mnt, void *fh, int mode, off_t off, off_t len)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->fallocate(M->inner_mnt, fh, mode, off, len);

	metrics_fsop(M->mx, 23, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_setxattr(void *mnt, const char *path, const char *name, const void *value, size_t size, int flags)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->setxattr(M->inner_mnt, path, name, value, size, flags);

	metrics_fsop(M->mx, 24, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static ssize_t m_getxattr(void *mnt, const char *path, const char *name, void *value, size_t size)
{
	uint64_t t0 = metrics_now_ns();
	ssize_t r = M->inner->getxattr(M->inner_mnt, path, name, value, size);

	metrics_fsop(M->mx, 25, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static ssize_t m_listxattr(void *mnt, const char *path, char *list, size_t size)
{
	uint64_t t0 = metrics_now_ns();
	ssize_t r = M->inner->listxattr(M->inner_mnt, path, list, size);

	metrics_fsop(M->mx, 26, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

static int m_removexattr(void *mnt, const char *path, const char *name)
{
	uint64_t t0 = metrics_now_ns();
	int r = M->inner->removexattr(M->inner_mnt, path, name);

	metrics_fsop(M->mx, 27, (long)r, 0, metrics_now_ns() - t0);
	return r;
}

void fs_metered_init(struct fs_metered *m, const struct scopefs_fs_ops *inner,
		     void *inner_mnt, struct mx_mount *mx)
{
	m->ops = *inner;
	m->inner = inner;
	m->inner_mnt = inner_mnt;
	m->mx = mx;
	if (inner->getattr)
		m->ops.getattr = m_getattr;
	if (inner->readdir)
		m->ops.readdir = m_readdir;
	if (inner->open)
		m->ops.open = m_open;
	if (inner->create)
		m->ops.create = m_create;
	if (inner->read)
		m->ops.read = m_read;
	if (inner->write)
		m->ops.write = m_write;
	if (inner->release)
		m->ops.release = m_release;
	if (inner->flush)
		m->ops.flush = m_flush;
	if (inner->fsync)
		m->ops.fsync = m_fsync;
	if (inner->fd)
		m->ops.fd = m_fd;
	if (inner->truncate)
		m->ops.truncate = m_truncate;
	if (inner->mkdir)
		m->ops.mkdir = m_mkdir;
	if (inner->mknod)
		m->ops.mknod = m_mknod;
	if (inner->unlink)
		m->ops.unlink = m_unlink;
	if (inner->rmdir)
		m->ops.rmdir = m_rmdir;
	if (inner->rename)
		m->ops.rename = m_rename;
	if (inner->symlink)
		m->ops.symlink = m_symlink;
	if (inner->readlink)
		m->ops.readlink = m_readlink;
	if (inner->link)
		m->ops.link = m_link;
	if (inner->chmod)
		m->ops.chmod = m_chmod;
	if (inner->chown)
		m->ops.chown = m_chown;
	if (inner->utimens)
		m->ops.utimens = m_utimens;
	if (inner->statfs)
		m->ops.statfs = m_statfs;
	if (inner->fallocate)
		m->ops.fallocate = m_fallocate;
	if (inner->setxattr)
		m->ops.setxattr = m_setxattr;
	if (inner->getxattr)
		m->ops.getxattr = m_getxattr;
	if (inner->listxattr)
		m->ops.listxattr = m_listxattr;
	if (inner->removexattr)
		m->ops.removexattr = m_removexattr;
}
