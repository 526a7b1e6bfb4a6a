/* mount: one [mount] section served by one FUSE session (its own threads)
 * inside the daemon. */
#ifndef SCOPEFS_MOUNT_H
#define SCOPEFS_MOUNT_H

#include <pthread.h>
#include <stddef.h>
#include <scopefs/plugin.h>
#include "backend.h"
#include "config.h"
#include "inode.h"
#include "fs_metered.h"

struct fuse_session;

struct mount {
	const struct cfg_mount *cfg;
	struct backend *be;
	/* The fs-shaped operations the front end calls: the plugin's own for
	 * filesystem-like plugins, the object layer's for object stores. */
	const struct scopefs_fs_ops *ops;
	struct fs_metered meter; /* ops and mnt counted, with metrics */
	void *mnt;               /* what ops take: plugin mount or objfs */
	void *pmnt;              /* the plugin's mount handle */
	struct objfs *objfs;     /* object plugins only */
	char label[300];         /* "[mount /path]" */
	pthread_mutex_t lock;    /* SCOPEFS_THREAD_SERIALIZE_MOUNT */
	pthread_mutex_t *call_lock; /* NULL for parallel plugins */
	struct inode_table inodes;
	double ttl;              /* entry/attr/negative timeout, seconds */
	int writeback;           /* kernel writeback cache in use */
	int keep_cache;          /* page cache may survive an open */
	int stable_ino;          /* report the plugin's st_ino */
	int posix_acl;           /* the kernel enforces POSIX ACLs */
	struct fuse_session *se;
	/* Open directory handles, so teardown can free those the kernel
	 * never released (fuse_ops.c owns the list). */
	pthread_mutex_t dirs_lock;
	void *dirs;
	pthread_t thread;
	int running;
	int loop_status;
};

/* Open the plugin mount and the FUSE session and mount it at cfg->path.
 * opts: extra -o options for every mount (may be NULL).  On failure
 * nothing stays mounted and err says why. */
int mount_start(struct mount *m, const struct cfg_mount *cfg,
		struct backend *be, const char *opts, char *err,
		size_t errlen);
/* Start the session's threads. */
int mount_run(struct mount *m, void (*on_exit)(struct mount *));
/* Ask the session to end and unmount (safe from any thread). */
void mount_stop(struct mount *m);
/* Join the threads and free everything. */
void mount_finish(struct mount *m);

/* The low-level FUSE operations (fuse_ops.c). */
struct fuse_lowlevel_ops;
extern const struct fuse_lowlevel_ops scopefs_fuse_ops;

/* After the session ended: release what the kernel left open (files
 * are flushed to the plugin first, as on close). */
void fuse_ops_teardown(struct mount *m);

/* Is PATH already a mount point? (reads /proc/self/mountinfo) */
int mount_point_busy(const char *path);
/* Is the canonical path REAL a mount point?  Unlike mount_point_busy it
 * touches nothing at REAL, so it also answers for a dead FUSE mount,
 * where realpath() fails with ENOTCONN. */
int mount_table_has(const char *real);
/* Is PATH a mount point?  Then 1, with its filesystem type ("fuse.scopefs")
 * in FSTYPE. */
int mount_point_fstype(const char *path, char *fstype, size_t len);

#endif
