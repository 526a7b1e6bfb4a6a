/*
 * local: serve scoped mounts from a directory of this machine.
 *
 *   [backend scratch]
 *   plugin = local
 *   root = /srv/scopefs
 *
 * A mount with prefix "job/j1/cluster_storage" shows the directory
 * /srv/scopefs/job/j1/cluster_storage, created (0755, each level) when the
 * mount opens.  The plugin is a thin pass-through: every operation is one
 * to three system calls on the backing directory.  It promises that
 * nothing outside the mount's directory is ever reached: see local.h for
 * how.  This file holds the description, the configuration and the
 * backend/mount lifecycle; the operations live in local_file.c,
 * local_dir.c, local_attr.c and local_xattr.c.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One [backend] section.  Read-only after config_complete. */
struct local_backend {
	const struct scopefs_host *host;
	char *root; /* absolute path of the backing directory */
};

static int local_backend_open(const struct scopefs_host *host, void **backend)
{
	struct local_backend *b = calloc(1, sizeof *b);

	if (!b)
		return -ENOMEM;
	b->host = host;
	*backend = b;
	return 0;
}

static int local_config(void *backend, const char *key, const char *value)
{
	struct local_backend *b = backend;
	char *copy;

	if (strcmp(key, "root") != 0) {
		b->host->set_error(b->host,
				   "unknown key '%s' (the local plugin takes: "
				   "root)",
				   key);
		return -EINVAL;
	}
	if (!(copy = strdup(value)))
		return -ENOMEM;
	free(b->root);
	b->root = copy;
	return 0;
}

static int local_config_complete(void *backend)
{
	struct local_backend *b = backend;

	if (!b->root || !b->root[0]) {
		b->host->set_error(b->host,
				   "missing key 'root' (the directory to "
				   "serve, e.g. root = /srv/scopefs)");
		return -EINVAL;
	}
	if (b->root[0] != '/') {
		b->host->set_error(b->host,
				   "root '%s' is not an absolute path", b->root);
		return -EINVAL;
	}
	if (strlen(b->root) >= PATH_MAX) {
		b->host->set_error(b->host, "root is longer than %d bytes",
				   PATH_MAX - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* mkdir -p for the configured root, which the administrator chose and so
 * may contain symlinks; everything below it is created with mkdirat. */
static int make_root(const char *root)
{
	char p[PATH_MAX];

	strcpy(p, root); /* length checked by config_complete */
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (c == '\0')
			return 0;
		*s = c;
	}
}

static int open_root(struct local_backend *b)
{
	int fd = open(b->root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		int r = make_root(b->root);

		if (r < 0) {
			b->host->set_error(b->host, "cannot create root '%s': %s",
					   b->root, strerror(-r));
			return r;
		}
		fd = open(b->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0) {
		int r = -errno;

		b->host->set_error(b->host, "cannot open root '%s': %s",
				   b->root, strerror(-r));
		return r;
	}
	return fd;
}

/* Open ROOT/PREFIX, creating missing levels (0755) with mkdirat beneath
 * the root and refusing to pass through a symlink.  Takes ROOTFD. */
static int open_prefix(struct local_backend *b, int rootfd,
		       const char *prefix)
{
	char dir[PATH_MAX], *save = NULL;
	int fd = rootfd, r;

	if (!prefix[0])
		return rootfd;
	if ((r = local_path_check(prefix)) < 0) {
		b->host->set_error(b->host, "bad prefix '%s' (expected names "
				   "joined by '/', no '.' or '..')", prefix);
		close(rootfd);
		return r;
	}
	strcpy(dir, prefix);
	for (char *c = strtok_r(dir, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		int next = local_open_subdir(fd, c);

		if (next == -ENOENT) {
			if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
				next = -errno;
			else
				next = local_open_subdir(fd, c);
		}
		close(fd);
		if (next < 0) {
			b->host->set_error(b->host,
					   "cannot open '%s' of prefix '%s' "
					   "under '%s': %s%s",
					   c, prefix, b->root, strerror(-next),
					   next == -ENOTDIR || next == -ELOOP ?
					   " (symlinks are not followed)" : "");
			return next;
		}
		fd = next;
	}
	return fd;
}

/* Which of the newer system calls this kernel offers.  Asked once, with
 * arguments that fail (EBADF) without doing anything if the call exists. */
static void probe_kernel(struct local_mount *m)
{
	struct open_how how = { .flags = O_PATH };

	m->has_openat2 =
		syscall(SYS_openat2, -1, "x", &how, sizeof how) >= 0 ||
		errno == EBADF;
	m->has_fchmodat2 =
		syscall(SYS_fchmodat2, -1, "x", 0, AT_SYMLINK_NOFOLLOW) >= 0 ||
		errno == EBADF;
}

static int local_mount_open(void *backend, const char *prefix,
			    unsigned int flags, void **mnt)
{
	struct local_backend *b = backend;
	struct local_mount *m;
	int fd;

	if (!prefix)
		prefix = "";
	if (strlen(prefix) >= PATH_MAX)
		return -ENAMETOOLONG;
	if ((fd = open_root(b)) < 0)
		return fd;
	if ((fd = open_prefix(b, fd, prefix)) < 0)
		return fd;
	if (!(m = calloc(1, sizeof *m))) {
		close(fd);
		return -ENOMEM;
	}
	m->host = b->host;
	m->root = fd;
	m->read_only = (flags & SCOPEFS_MOUNT_READ_ONLY) != 0;
	m->give_to_caller = geteuid() == 0;
	m->own_gid = getegid();
	probe_kernel(m);
	if (!m->has_openat2)
		b->host->log(b->host, SCOPEFS_LOG_INFO,
			     "no openat2 in this kernel: nested paths are "
			     "opened one level at a time");
	*mnt = m;
	return 0;
}

static void local_mount_close(void *mnt)
{
	struct local_mount *m = mnt;

	close(m->root);
	free(m);
}

static void local_backend_close(void *backend)
{
	struct local_backend *b = backend;

	free(b->root);
	free(b);
}

static const struct scopefs_fs_ops local_ops = {
	.struct_size = sizeof(struct scopefs_fs_ops),
	.getattr = local_getattr,
	.readdir = local_readdir,
	.open = local_open_file,
	.create = local_create,
	.read = local_read,
	.write = local_write,
	.release = local_release,
	.flush = local_flush,
	.fsync = local_fsync,
	.fd = local_fd,
	.truncate = local_truncate,
	.mkdir = local_mkdir,
	.mknod = local_mknod,
	.unlink = local_unlink,
	.rmdir = local_rmdir,
	.rename = local_rename,
	.symlink = local_symlink,
	.readlink = local_readlink,
	.link = local_link,
	.chmod = local_chmod,
	.chown = local_chown,
	.utimens = local_utimens,
	.statfs = local_statfs,
	.fallocate = local_fallocate,
	.setxattr = local_setxattr,
	.getxattr = local_getxattr,
	.listxattr = local_listxattr,
	.removexattr = local_removexattr,
};

static const struct scopefs_plugin local_plugin = {
	SCOPEFS_PLUGIN_HEAD,
	.kind = SCOPEFS_KIND_FS,
	.thread_model = SCOPEFS_THREAD_PARALLEL,
	.flags = SCOPEFS_CAP_EXCLUSIVE | SCOPEFS_CAP_STABLE_INO |
		 SCOPEFS_CAP_POSIX_ACL,
	.name = "local",
	.version = "1.0",
	.description = "a directory of this machine",
	.config_help =
		"root=PATH   absolute path of the directory holding every "
		"mount's prefix\n"
		"            (required; created 0755 when the first mount "
		"opens)\n",
	.backend_open = local_backend_open,
	.config = local_config,
	.config_complete = local_config_complete,
	.mount_open = local_mount_open,
	.mount_close = local_mount_close,
	.backend_close = local_backend_close,
	.fs = &local_ops,
};

SCOPEFS_REGISTER_PLUGIN(local_plugin)
