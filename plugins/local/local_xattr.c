/*
 * local_xattr: extended attributes by path, never following a symlink.
 *
 * There is no *at form of the xattr calls, so the name is reached as
 * /proc/self/fd/DIRFD/NAME with the l*xattr calls: the kernel jumps to
 * the directory DIRFD holds (a magic link names exactly that directory,
 * wherever it is), looks NAME up in it and, the l* calls being what they
 * are, does not follow NAME if it is a symlink.  NAME is one component,
 * never "..", so the lookup cannot leave the directory; the directory
 * itself came from local_at_open, beneath the mount.  One system call for
 * a name in the mount's root, which matters: the kernel asks for
 * security.capability on every write and ls asks for ACLs on every file.
 */
#include "local.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/xattr.h>

/* "/proc/self/fd/" + an int + "/" + NAME_MAX + NUL, with room to spare. */
#define PROC_PATH_MAX (32 + NAME_MAX + 1)

enum xattr_op { XA_SET, XA_GET, XA_LIST, XA_REMOVE };

struct xattr_call {
	enum xattr_op op;
	const char *name;
	void *value; /* in (set) or out (get, list) */
	size_t size;
	int flags;
};

static ssize_t xattr_at(struct local_mount *m, const char *path,
			const struct xattr_call *c)
{
	char proc[PROC_PATH_MAX];
	struct local_at at;
	ssize_t r;

	if ((r = local_at_open(m, path, &at)) < 0)
		return r;
	if (snprintf(proc, sizeof proc, "/proc/self/fd/%d/%s", at.dirfd,
		     at.name) >= (int)sizeof proc) {
		local_at_close(m, &at);
		return -ENAMETOOLONG;
	}
	switch (c->op) {
	case XA_SET:
		r = lsetxattr(proc, c->name, c->value, c->size, c->flags);
		break;
	case XA_GET:
		r = lgetxattr(proc, c->name, c->value, c->size);
		break;
	case XA_LIST:
		r = llistxattr(proc, c->value, c->size);
		break;
	case XA_REMOVE:
		r = lremovexattr(proc, c->name);
		break;
	}
	if (r < 0)
		r = -errno;
	local_at_close(m, &at);
	return r;
}

int local_setxattr(void *mnt, const char *path, const char *name,
		   const void *value, size_t size, int flags)
{
	struct local_mount *m = mnt;
	struct xattr_call c = { XA_SET, name, (void *)value, size, flags };

	if (m->read_only)
		return -EROFS;
	return (int)xattr_at(m, path, &c);
}

ssize_t local_getxattr(void *mnt, const char *path, const char *name,
		       void *value, size_t size)
{
	struct xattr_call c = { XA_GET, name, value, size, 0 };

	return xattr_at(mnt, path, &c);
}

ssize_t local_listxattr(void *mnt, const char *path, char *list, size_t size)
{
	struct xattr_call c = { XA_LIST, NULL, list, size, 0 };

	return xattr_at(mnt, path, &c);
}

int local_removexattr(void *mnt, const char *path, const char *name)
{
	struct local_mount *m = mnt;
	struct xattr_call c = { XA_REMOVE, name, NULL, 0, 0 };

	if (m->read_only)
		return -EROFS;
	return (int)xattr_at(m, path, &c);
}
