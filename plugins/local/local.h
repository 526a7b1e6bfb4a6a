/*
 * local plugin internals: the mount handle, the open-file handle and the
 * path resolution every operation goes through.  Nothing declared here is
 * exported from the .so; the only public symbol is the plugin entry.
 *
 * The one rule of this plugin: a path is never turned into a string
 * beginning with the root directory.  Every operation starts from the
 * mount's directory fd and either
 *   - acts on a single component with a *at call that does not follow a
 *     symlink in that component, or
 *   - opens the parent directory beneath the mount (openat2 with
 *     RESOLVE_BENEATH) and does the same from there.
 * So neither a crafted path nor a symlink in the tree can reach outside.
 */
#ifndef SCOPEFS_LOCAL_H
#define SCOPEFS_LOCAL_H

#include <scopefs/plugin.h>

#include <linux/openat2.h> /* glibc 2.36 has no openat2 wrapper */
#include <sys/syscall.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; the same number on every arch */
#endif

#pragma GCC visibility push(hidden)

/* One [mount] served by a local backend.  Fixed after mount_open, so
 * concurrent calls (SCOPEFS_THREAD_PARALLEL) need no lock. */
struct local_mount {
	const struct scopefs_host *host;
	int root;           /* O_PATH fd of the mount's directory */
	int read_only;      /* SCOPEFS_MOUNT_READ_ONLY: refuse every change */
	int give_to_caller; /* running as root: new nodes get the caller's owner */
	gid_t own_gid;      /* the daemon's gid, which new nodes get by default */
	int has_openat2;    /* else nested paths are walked component-wise */
	int has_fchmodat2;  /* else chmod goes through glibc's /proc emulation */
};

/* What open and create hand the core as fh. */
struct local_file {
	int fd;
	int writable; /* flush has write errors to report */
};

/* A path made ready for the *at calls: the directory holding its last
 * component, and that component. */
struct local_at {
	int dirfd;        /* the mount root, or a directory opened beneath it */
	const char *name; /* points into the path; "." for the mount root */
};

/* local_path.c */
/* 0 if PATH has the form plugin.h promises, else -EINVAL (-ENAMETOOLONG
 * when longer than PATH_MAX). */
int local_path_check(const char *path);
/* Resolve all but the last component of PATH beneath the mount.  On
 * success the caller must local_at_close(at). */
int local_at_open(struct local_mount *m, const char *path,
		  struct local_at *at);
void local_at_close(struct local_mount *m, struct local_at *at);
/* open(2) PATH beneath the mount, never following a symlink in its last
 * component (O_NOFOLLOW and O_CLOEXEC are added).  Returns the fd or
 * -errno. */
int local_open(struct local_mount *m, const char *path, int flags,
	       mode_t mode);
/* Open one component below DIRFD as an O_PATH directory without following
 * symlinks.  Returns the fd or -errno. */
int local_open_subdir(int dirfd, const char *name);

/* local_file.c: open files and their data. */
int local_open_file(void *mnt, const char *path, int flags, void **fh);
int local_create(void *mnt, const char *path, int flags, mode_t mode,
		 const struct scopefs_caller *who, void **fh, struct stat *st);
ssize_t local_read(void *mnt, void *fh, void *buf, size_t size, off_t off);
ssize_t local_write(void *mnt, void *fh, const void *buf, size_t size,
		    off_t off);
int local_release(void *mnt, void *fh);
int local_flush(void *mnt, void *fh);
int local_fsync(void *mnt, void *fh, int datasync);
int local_fd(void *mnt, void *fh);
int local_truncate(void *mnt, const char *path, void *fh, off_t size);
int local_fallocate(void *mnt, void *fh, int mode, off_t off, off_t len);

/* local_dir.c: names, i.e. directories and the entries in them. */
int local_readdir(void *mnt, const char *path, scopefs_fill_fn fill,
		  void *ctx);
int local_mkdir(void *mnt, const char *path, mode_t mode,
		const struct scopefs_caller *who, struct stat *st);
int local_mknod(void *mnt, const char *path, mode_t mode, dev_t rdev,
		const struct scopefs_caller *who, struct stat *st);
int local_symlink(void *mnt, const char *target, const char *path,
		  const struct scopefs_caller *who, struct stat *st);
int local_link(void *mnt, const char *from, const char *to,
	       struct stat *st);
int local_unlink(void *mnt, const char *path);
int local_rmdir(void *mnt, const char *path);
int local_rename(void *mnt, const char *from, const char *to,
		 unsigned int flags);
int local_readlink(void *mnt, const char *path, char *buf, size_t size);

/* local_attr.c: attributes and ownership. */
int local_getattr(void *mnt, const char *path, void *fh, struct stat *st);
int local_chmod(void *mnt, const char *path, void *fh, mode_t mode);
int local_chown(void *mnt, const char *path, void *fh, uid_t uid,
		gid_t gid);
int local_utimens(void *mnt, const char *path, void *fh,
		  const struct timespec ts[2]);
int local_statfs(void *mnt, const char *path, struct statvfs *st);
/* chmod (dirfd, name) without following a symlink there (-EOPNOTSUPP on
 * a symlink, which has no mode of its own on Linux). */
int local_chmod_at(struct local_mount *m, int dirfd, const char *name,
		   mode_t mode);
/* Give a node this daemon just made to the caller who asked for it, as
 * the kernel would have had the caller made it: the caller's uid, and the
 * caller's gid unless the node took the group of a set-group-ID
 * directory.  The node is fd when fd >= 0, else (dirfd, name), not
 * followed.  SETID are S_ISUID/S_ISGID bits that were held back at
 * creation (so that no root-owned set-ID file ever exists) and are put
 * back after the chown.  st holds the node's stat and is refreshed.  Does
 * nothing unless the daemon runs as root. */
int local_give(struct local_mount *m, const struct scopefs_caller *who,
	       int fd, int dirfd, const char *name, mode_t setid,
	       struct stat *st);

/* local_xattr.c */
int local_setxattr(void *mnt, const char *path, const char *name,
		   const void *value, size_t size, int flags);
ssize_t local_getxattr(void *mnt, const char *path, const char *name,
		       void *value, size_t size);
ssize_t local_listxattr(void *mnt, const char *path, char *list,
			size_t size);
int local_removexattr(void *mnt, const char *path, const char *name);

#pragma GCC visibility pop

#endif
