/* fuse_ops: the low-level FUSE operations, translated into calls of the
 * mount's fs-shaped ops (struct scopefs_fs_ops) on plugin paths. */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <fuse_lowlevel.h>
#include "freshness.h"
#include "parallel_dirops.h"
#include "log.h"
#include "mount.h"

/* An open file: the plugin's handle and, when the plugin exposes one, a
 * file descriptor the core reads and writes directly (splice). */
struct handle {
	void *fh;
	int fd;
	struct inode *node;
};

/* A directory listing, taken at opendir and served by offset. */
struct dir_entry {
	char *name;
	struct stat st;
	int has_st;
};

struct dir_handle {
	struct dir_entry *e;
	size_t n, cap;
	int served; /* a read past offset 0 happened: rewinddir reloads */
	int listed; /* dir_load succeeded: the first readdir lists */
	struct timespec loaded; /* CLOCK_MONOTONIC when listed */
	struct dir_handle *prev, *next; /* in mount.dirs */
};

static void dirs_add(struct mount *m, struct dir_handle *d)
{
	pthread_mutex_lock(&m->dirs_lock);
	d->prev = NULL;
	d->next = m->dirs;
	if (d->next)
		d->next->prev = d;
	m->dirs = d;
	pthread_mutex_unlock(&m->dirs_lock);
}

static void dirs_del(struct mount *m, struct dir_handle *d)
{
	pthread_mutex_lock(&m->dirs_lock);
	if (d->prev)
		d->prev->next = d->next;
	else
		m->dirs = d->next;
	if (d->next)
		d->next->prev = d->prev;
	pthread_mutex_unlock(&m->dirs_lock);
}

static struct mount *mnt_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct handle *handle_of(const struct fuse_file_info *fi)
{
	return fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
}

static void *fh_of(const struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	return h ? h->fh : NULL;
}

/* The plugin's thread model, enforced around each call. */
static void call_begin(struct mount *m)
{
	freshness_reset(); /* what the kernel may cache rests on this call */
	if (m->call_lock)
		pthread_mutex_lock(m->call_lock);
}

static void call_end(struct mount *m)
{
	if (m->call_lock)
		pthread_mutex_unlock(m->call_lock);
}

static int ro(struct mount *m)
{
	return m->cfg->read_only;
}

/* Apply the mount's uid/gid/umask overrides to what the plugin reported,
 * and give the entry an inode number when the plugin has none to offer
 * (readdir callers skip entries whose d_ino is 0). */
static void fix_attr(struct mount *m, struct stat *st, uint64_t ino)
{
	if (!m->stable_ino || !st->st_ino)
		st->st_ino = ino;
	if (m->cfg->has_uid)
		st->st_uid = m->cfg->uid;
	if (m->cfg->has_gid)
		st->st_gid = m->cfg->gid;
	if (m->cfg->has_umask)
		st->st_mode &= ~(m->cfg->umask & 07777);
}

/* The plugin handle of some open file of INO: a file whose last name is
 * gone is still reachable while open (fstat after unlink). */
static void *open_fh(struct mount *m, fuse_ino_t ino)
{
	struct handle *h = inode_open_any(&m->inodes, inode_get(&m->inodes, ino));

	return h ? h->fh : NULL;
}

static int path_of(struct mount *m, fuse_ino_t ino, const char *name,
		   char *buf)
{
	return inode_path(&m->inodes, inode_get(&m->inodes, ino), name, buf,
			  PATH_MAX);
}

static void caller_of(fuse_req_t req, struct scopefs_caller *who)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);

	who->uid = c->uid;
	who->gid = c->gid;
	who->pid = c->pid;
	who->umask = c->umask;
}

/* Remember what the kernel now believes about node INO. */
static void told(struct mount *m, fuse_ino_t ino, const struct stat *st)
{
	struct inode *n = inode_get(&m->inodes, ino);

	n->told_size = st->st_size;
	n->told_mtime = st->st_mtim;
}

/* Take a kernel reference on the node of (parent, name) whose plugin
 * attributes are ST: hard links of stable-inode plugins share a node. */
static struct inode *node_ref(struct mount *m, fuse_ino_t parent,
			      const char *name, const struct stat *st)
{
	int stable = m->stable_ino && !S_ISDIR(st->st_mode) && st->st_ino;

	return inode_lookup_ref(&m->inodes, inode_get(&m->inodes, parent),
				name, stable, st->st_dev, st->st_ino);
}

/* Reply with a new entry for (parent, name): takes one kernel reference on
 * the node, which a failed reply gives back. */
static void reply_entry(fuse_req_t req, struct mount *m, fuse_ino_t parent,
			const char *name, const struct stat *st)
{
	struct fuse_entry_param e;
	struct inode *n;

	n = node_ref(m, parent, name, st);
	if (!n) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memset(&e, 0, sizeof e);
	e.ino = inode_id(&m->inodes, n);
	e.attr = *st;
	fix_attr(m, &e.attr, e.ino);
	e.attr_timeout = freshness_ttl(m->ttl);
	e.entry_timeout = e.attr_timeout;
	told(m, e.ino, &e.attr);
	if (fuse_reply_entry(req, &e) != 0)
		inode_forget(&m->inodes, n, 1);
}

static void reply_status(fuse_req_t req, int r)
{
	fuse_reply_err(req, r < 0 ? -r : 0);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct mount *m = userdata;

	conn->want |= conn->capable &
		      (FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
		       FUSE_CAP_SPLICE_READ | FUSE_CAP_ATOMIC_O_TRUNC |
		       FUSE_CAP_PARALLEL_DIROPS | FUSE_CAP_ASYNC_READ |
		       FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	if (m->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
	else
		m->writeback = 0;
	if (m->keep_cache && (conn->capable & FUSE_CAP_CACHE_SYMLINKS))
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* A plugin whose store applies POSIX ACLs itself (local: the
	 * directory's own filesystem) lets the kernel enforce them too, as
	 * on a native filesystem; the kernel then also drops its cached
	 * mode when an ACL is set. */
	if (m->posix_acl && (conn->capable & FUSE_CAP_POSIX_ACL))
		conn->want |= FUSE_CAP_POSIX_ACL;
	/* Plugins do not implement locks: the kernel keeps them local. */
	conn->want &= ~(FUSE_CAP_POSIX_LOCKS | FUSE_CAP_FLOCK_LOCKS);
	conn->max_write = 1u << 20;
	conn->max_background = 64;
	conn->congestion_threshold = 48;
	/* libfuse < 3.17 wants it but does not tell the kernel */
	if (fuse_version() < 317 && (conn->want & FUSE_CAP_PARALLEL_DIROPS))
		parallel_dirops_arm();
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX];
	struct stat st;
	int r = path_of(m, parent, name, path);

	if (!r) {
		call_begin(m);
		r = m->ops->getattr(m->mnt, path, NULL, &st);
		call_end(m);
	}
	if (r == -ENOENT) {
		/* A negative entry, cached by the kernel for the TTL. */
		struct fuse_entry_param e;

		memset(&e, 0, sizeof e);
		e.entry_timeout = freshness_ttl(m->ttl);
		fuse_reply_entry(req, &e);
		return;
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, m, parent, name, &st);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct mount *m = mnt_of(req);

	inode_forget(&m->inodes, inode_get(&m->inodes, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct mount *m = mnt_of(req);

	for (size_t i = 0; i < count; i++)
		inode_forget(&m->inodes, inode_get(&m->inodes, forgets[i].ino),
			     forgets[i].nlookup);
	fuse_reply_none(req);
}

static void reply_attr(fuse_req_t req, struct mount *m, fuse_ino_t ino,
		       struct stat *st)
{
	fix_attr(m, st, ino);
	told(m, ino, st);
	fuse_reply_attr(req, st, freshness_ttl(m->ttl));
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX];
	const char *p = path;
	struct stat st;
	int r = path_of(m, ino, NULL, path);

	void *fh = fh_of(fi);

	if (r == -ENOENT && (fh || (fh = open_fh(m, ino))))
		p = NULL, r = 0;
	if (!r) {
		call_begin(m);
		r = m->ops->getattr(m->mnt, p, fh, &st);
		call_end(m);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_attr(req, m, ino, &st);
}

/* setattr is up to four plugin calls; each optional one must exist. */
static int do_setattr(struct mount *m, const char *p, void *fh,
		      const struct stat *a, int valid)
{
	const struct scopefs_fs_ops *o = m->ops;
	int r = 0;

	if (valid & FUSE_SET_ATTR_MODE)
		r = o->chmod ? o->chmod(m->mnt, p, fh, a->st_mode) : -ENOSYS;
	if (!r && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		r = o->chown ? o->chown(m->mnt, p, fh,
					(valid & FUSE_SET_ATTR_UID) ? a->st_uid
								    : (uid_t)-1,
					(valid & FUSE_SET_ATTR_GID) ? a->st_gid
								    : (gid_t)-1)
			     : -ENOSYS;
	if (!r && (valid & FUSE_SET_ATTR_SIZE))
		r = o->truncate ? o->truncate(m->mnt, p, fh, a->st_size)
				: -ENOSYS;
	if (!r && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME))) {
		struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};

		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			ts[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			ts[0] = a->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			ts[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			ts[1] = a->st_mtim;
		r = o->utimens ? o->utimens(m->mnt, p, fh, ts) : -ENOSYS;
	}
	return r;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX];
	const char *p = path;
	void *fh = fh_of(fi);
	struct stat st;
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	r = path_of(m, ino, NULL, path);
	if (r == -ENOENT && (fh || (fh = open_fh(m, ino))))
		p = NULL, r = 0;
	if (!r) {
		call_begin(m);
		r = do_setattr(m, p, fh, attr, valid);
		if (!r)
			r = m->ops->getattr(m->mnt, p, fh, &st);
		call_end(m);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_attr(req, m, ino, &st);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX], target[PATH_MAX + 1];
	int r = path_of(m, ino, NULL, path);

	if (!r) {
		call_begin(m);
		r = m->ops->readlink ? m->ops->readlink(m->mnt, path, target,
							 sizeof target)
				     : -ENOSYS;
		call_end(m);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_readlink(req, target);
}

/* The shared tail of mknod, mkdir and symlink. */
enum make_kind { MAKE_NODE, MAKE_DIR, MAKE_SYMLINK };

static void make(fuse_req_t req, fuse_ino_t parent, const char *name,
		 enum make_kind kind, mode_t mode, dev_t rdev,
		 const char *target)
{
	struct mount *m = mnt_of(req);
	const struct scopefs_fs_ops *o = m->ops;
	struct scopefs_caller who;
	char path[PATH_MAX];
	struct stat st;
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	caller_of(req, &who);
	r = path_of(m, parent, name, path);
	if (r < 0) {
		fuse_reply_err(req, -r);
		return;
	}
	call_begin(m);
	switch (kind) {
	case MAKE_NODE:
		r = o->mknod ? o->mknod(m->mnt, path, mode, rdev, &who, &st)
			     : -EPERM;
		break;
	case MAKE_DIR:
		r = o->mkdir ? o->mkdir(m->mnt, path, mode, &who, &st) : -EPERM;
		break;
	case MAKE_SYMLINK:
		r = o->symlink ? o->symlink(m->mnt, target, path, &who, &st)
			       : -EPERM;
		break;
	}
	call_end(m);
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, m, parent, name, &st);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	make(req, parent, name, MAKE_NODE, mode, rdev, NULL);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	make(req, parent, name, MAKE_DIR, mode | S_IFDIR, 0, NULL);
}

static void op_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
		       const char *name)
{
	make(req, parent, name, MAKE_SYMLINK, S_IFLNK | 0777, 0, target);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
			 int dir)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX];
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	r = path_of(m, parent, name, path);
	if (!r) {
		int (*fn)(void *, const char *) =
			dir ? m->ops->rmdir : m->ops->unlink;
		call_begin(m);
		r = fn ? fn(m->mnt, path) : -EPERM;
		call_end(m);
	}
	if (!r)
		inode_unlink(&m->inodes, inode_get(&m->inodes, parent), name);
	else
		log_debug("%s %s: %s", dir ? "rmdir" : "unlink", path,
			  strerror(-r));
	reply_status(req, r);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 0);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	remove_entry(req, parent, name, 1);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct mount *m = mnt_of(req);
	char from[PATH_MAX], to[PATH_MAX];
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	r = path_of(m, parent, name, from);
	if (!r)
		r = path_of(m, newparent, newname, to);
	if (!r) {
		call_begin(m);
		r = m->ops->rename ? m->ops->rename(m->mnt, from, to, flags)
				   : -EPERM;
		call_end(m);
	}
	if (!r)
		r = inode_rename(&m->inodes, inode_get(&m->inodes, parent),
				 name, inode_get(&m->inodes, newparent),
				 newname, flags == RENAME_EXCHANGE);
	reply_status(req, r);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct mount *m = mnt_of(req);
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	r = path_of(m, ino, NULL, from);
	if (!r)
		r = path_of(m, newparent, newname, to);
	if (!r) {
		call_begin(m);
		r = m->ops->link ? m->ops->link(m->mnt, from, to, &st) : -EPERM;
		call_end(m);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		reply_entry(req, m, newparent, newname, &st);
}

/* Open flags as the plugin should see them.  With the writeback cache the
 * kernel may read from a file opened write-only and handles O_APPEND
 * itself (passthrough_hp does the same). */
static int plugin_flags(struct mount *m, int flags)
{
	if (m->writeback) {
		if ((flags & O_ACCMODE) == O_WRONLY)
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		flags &= ~O_APPEND;
	}
	return flags;
}

static int wants_write(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

/* Wrap a plugin handle of NODE; on failure release it. */
static int handle_new(struct mount *m, struct inode *node, void *fh,
		      struct fuse_file_info *fi)
{
	struct handle *h = malloc(sizeof *h);

	if (!h || inode_open_add(&m->inodes, node, h) < 0) {
		free(h);
		m->ops->release(m->mnt, fh);
		return -ENOMEM;
	}
	h->node = node;
	h->fh = fh;
	h->fd = m->ops->fd ? m->ops->fd(m->mnt, fh) : -ENOSYS;
	fi->fh = (uint64_t)(uintptr_t)h;
	fi->keep_cache = m->keep_cache;
	return 0;
}

/* Release a handle the kernel will never see. */
static void handle_drop(struct mount *m, struct handle *h)
{
	call_begin(m);
	m->ops->release(m->mnt, h->fh);
	call_end(m);
	inode_open_del(&m->inodes, h->node, h);
	free(h);
}

/* Close-to-open: when the file changed since the kernel last heard of
 * it (another machine wrote it), drop the kernel's attributes and pages
 * now, or it would cut the new content at the old size.  Drop the
 * attributes even when nothing seems to have changed: what the daemon
 * last told is not always what the kernel kept (it discards an attribute
 * reply that raced another change of the inode), and a size from an older
 * version would cut, or pad, the bytes of this one (test_contention). */
static void revalidate(struct mount *m, fuse_ino_t ino, struct handle *h)
{
	struct inode *n = inode_get(&m->inodes, ino);
	struct stat st;
	int r;

	call_begin(m);
	r = m->ops->getattr(m->mnt, NULL, h->fh, &st);
	call_end(m);
	if (r == 0 && (st.st_size != n->told_size ||
		       st.st_mtim.tv_sec != n->told_mtime.tv_sec ||
		       st.st_mtim.tv_nsec != n->told_mtime.tv_nsec)) {
		told(m, ino, &st);
		fuse_lowlevel_notify_inval_inode(m->se, ino, 0, 0);
	} else if (r == 0) {
		fuse_lowlevel_notify_inval_inode(m->se, ino, -1, 0);
	}
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX];
	void *fh = NULL;
	int r;

	if (ro(m) && wants_write(fi->flags)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	r = path_of(m, ino, NULL, path);
	if (!r) {
		call_begin(m);
		r = m->ops->open(m->mnt, path, plugin_flags(m, fi->flags), &fh);
		if (!r)
			r = handle_new(m, inode_get(&m->inodes, ino), fh, fi);
		call_end(m);
	}
	/* Not with the writeback cache (the kernel owns the size then, and
	 * holds page locks across an O_TRUNC open: invalidating here would
	 * deadlock), nor for O_TRUNC (nothing old is left to drop). */
	if (!r && !m->keep_cache && !m->writeback && !(fi->flags & O_TRUNC))
		revalidate(m, ino, handle_of(fi));
	if (r < 0)
		fuse_reply_err(req, -r);
	else if (fuse_reply_open(req, fi) != 0)
		handle_drop(m, handle_of(fi)); /* interrupted: no release comes */
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	struct fuse_entry_param e;
	struct scopefs_caller who;
	char path[PATH_MAX];
	struct inode *n;
	void *fh = NULL;
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	caller_of(req, &who);
	memset(&e, 0, sizeof e);
	r = path_of(m, parent, name, path);
	if (!r) {
		call_begin(m);
		r = m->ops->create(m->mnt, path, plugin_flags(m, fi->flags),
				   mode, &who, &fh, &e.attr);
		call_end(m);
	}
	if (r < 0) {
		fuse_reply_err(req, -r);
		/* EEXIST on a name the kernel thought free: the store said
		 * another machine made it.  Drop the kernel's negative entry,
		 * or stat would go on saying ENOENT for its TTL.  After the
		 * reply: the kernel holds the directory's lock until the
		 * create returns, and the notification takes it. */
		if (r == -EEXIST)
			fuse_lowlevel_notify_inval_entry(m->se, parent, name,
							 strlen(name));
		return;
	}
	n = node_ref(m, parent, name, &e.attr);
	if (!n || (r = handle_new(m, n, fh, fi)) < 0) {
		/* handle_new released fh on failure; without a node, do it */
		if (!n) {
			call_begin(m);
			m->ops->release(m->mnt, fh);
			call_end(m);
		} else {
			inode_forget(&m->inodes, n, 1);
		}
		fuse_reply_err(req, ENOMEM);
		return;
	}
	e.ino = inode_id(&m->inodes, n);
	fix_attr(m, &e.attr, e.ino);
	e.attr_timeout = m->ttl;
	e.entry_timeout = m->ttl;
	told(m, e.ino, &e.attr);
	if (fuse_reply_create(req, &e, fi) != 0) {
		inode_forget(&m->inodes, n, 1);
		handle_drop(m, handle_of(fi));
	}
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	struct handle *h = handle_of(fi);
	ssize_t r;
	char *buf;

	(void)ino;
	if (h->fd >= 0) {
		/* Straight from the plugin's file: spliced, never copied
		 * through our memory. */
		struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);

		bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		bv.buf[0].fd = h->fd;
		bv.buf[0].pos = off;
		fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	call_begin(m);
	r = m->ops->read(m->mnt, h->fh, buf, size, off);
	call_end(m);
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	struct handle *h = handle_of(fi);
	size_t size = fuse_buf_size(in);
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(size);
	char *mem = NULL;
	ssize_t r;

	(void)ino;
	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (h->fd >= 0) {
		out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
		out.buf[0].fd = h->fd;
		out.buf[0].pos = off;
		r = fuse_buf_copy(&out, in, 0);
		goto reply;
	}
	if (in->count == 1 && !(in->buf[0].flags & FUSE_BUF_IS_FD)) {
		mem = in->buf[0].mem;
	} else {
		out.buf[0].mem = mem = malloc(size ? size : 1);
		if (!mem) {
			fuse_reply_err(req, ENOMEM);
			return;
		}
		r = fuse_buf_copy(&out, in, 0);
		if (r < 0)
			goto reply;
		size = (size_t)r;
	}
	call_begin(m);
	r = m->ops->write(m->mnt, h->fh, mem, size, off);
	call_end(m);
	if (mem != in->buf[0].mem)
		free(mem);
reply:
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_write(req, (size_t)r);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	int r = 0;

	(void)ino;
	if (m->ops->flush) {
		call_begin(m);
		r = m->ops->flush(m->mnt, fh_of(fi));
		call_end(m);
	}
	reply_status(req, r);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	struct handle *h = handle_of(fi);
	int r;

	(void)ino;
	call_begin(m);
	r = m->ops->release(m->mnt, h->fh);
	call_end(m);
	inode_open_del(&m->inodes, h->node, h);
	free(h);
	reply_status(req, r);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	int r = 0;

	(void)ino;
	if (m->ops->fsync) {
		call_begin(m);
		r = m->ops->fsync(m->mnt, fh_of(fi), datasync);
		call_end(m);
	}
	reply_status(req, r);
}

static int dir_fill(void *ctx, const char *name, const struct stat *st)
{
	struct dir_handle *d = ctx;
	struct dir_entry *e;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct dir_entry *ne = realloc(d->e, cap * sizeof *ne);
		if (!ne)
			return -ENOMEM;
		d->e = ne;
		d->cap = cap;
	}
	e = &d->e[d->n];
	if (!(e->name = strdup(name)))
		return -ENOMEM;
	e->has_st = st != NULL;
	if (st)
		e->st = *st;
	else
		memset(&e->st, 0, sizeof e->st);
	d->n++;
	return 0;
}

static void dir_clear(struct dir_handle *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->e[i].name);
	d->n = 0;
	d->served = 0;
}

static int dir_load(struct mount *m, fuse_ino_t ino, struct dir_handle *d)
{
	char path[PATH_MAX];
	struct stat dot;
	int r = path_of(m, ino, NULL, path);

	dir_clear(d);
	if (r < 0)
		return r;
	memset(&dot, 0, sizeof dot);
	dot.st_mode = S_IFDIR;
	if ((r = dir_fill(d, ".", NULL)) < 0 || (r = dir_fill(d, "..", NULL)))
		return r;
	d->e[0].st = d->e[1].st = dot;
	clock_gettime(CLOCK_MONOTONIC, &d->loaded);
	call_begin(m);
	r = m->ops->readdir(m->mnt, path, dir_fill, d);
	call_end(m);
	d->listed = r >= 0;
	return r;
}

/* The TTL left to entries of D's listing: it ages while the reader
 * reads on, and the kernel must not cache them past the mount's TTL
 * from when the store was listed. */
static double dir_ttl(const struct mount *m, const struct dir_handle *d)
{
	struct timespec now;
	double age;

	clock_gettime(CLOCK_MONOTONIC, &now);
	age = (double)(now.tv_sec - d->loaded.tv_sec) +
	      (now.tv_nsec - d->loaded.tv_nsec) / 1e9;
	return age >= m->ttl ? 0 : m->ttl - age;
}

/* The listing waits for the first readdir: open(2) of a directory is not
 * a listing (df opens its argument to trigger automounts, shells open
 * the cwd), and must not wait on a store that does not answer. */
static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	struct dir_handle *d = calloc(1, sizeof *d);

	(void)ino;
	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	fi->cache_readdir = 0;
	dirs_add(m, d);
	if (fuse_reply_open(req, fi) != 0) {
		dirs_del(m, d);
		free(d);
	}
}

/* An inode number for a listing entry that has no node: never 0. */
static ino_t name_ino(const char *name, size_t i)
{
	uint64_t h = 1469598103934665603ULL + i;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (ino_t)(h | 1);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	struct mount *m = mnt_of(req);
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;
	char *buf;
	size_t pos = 0;

	if (!d->listed || (off == 0 && d->served)) {
		int r = dir_load(m, ino, d);
		if (r < 0) {
			fuse_reply_err(req, -r);
			return;
		}
	}
	d->served = 1;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < d->n; i++) {
		struct dir_entry *de = &d->e[i];
		size_t need;

		if (!de->st.st_ino || !m->stable_ino)
			de->st.st_ino = name_ino(de->name, i);

		if (!plus) {
			need = fuse_add_direntry(req, buf + pos, size - pos,
						 de->name, &de->st,
						 (off_t)(i + 1));
		} else {
			struct fuse_entry_param e;
			int dot = i < 2;

			memset(&e, 0, sizeof e);
			e.attr = de->st;
			need = fuse_add_direntry_plus(req, NULL, 0, de->name,
						      NULL, 0);
			if (need > size - pos)
				break;
			if (de->has_st && !dot) {
				struct inode *n =
					node_ref(m, ino, de->name, &de->st);
				if (n) {
					e.ino = inode_id(&m->inodes, n);
					fix_attr(m, &e.attr, e.ino);
					e.attr_timeout = dir_ttl(m, d);
					e.entry_timeout = e.attr_timeout;
					told(m, e.ino, &e.attr);
				}
			}
			need = fuse_add_direntry_plus(req, buf + pos,
						      size - pos, de->name,
						      &e, (off_t)(i + 1));
		}
		if (need > size - pos)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	struct dir_handle *d = (struct dir_handle *)(uintptr_t)fi->fh;

	(void)ino;
	dirs_del(mnt_of(req), d);
	dir_clear(d);
	free(d->e);
	free(d);
	fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct mount *m = mnt_of(req);
	struct statvfs sv;
	int r = 0;

	(void)ino;
	memset(&sv, 0, sizeof sv);
	sv.f_bsize = sv.f_frsize = 4096;
	sv.f_namemax = 255;
	if (m->ops->statfs) {
		call_begin(m);
		r = m->ops->statfs(m->mnt, ".", &sv);
		call_end(m);
	}
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_statfs(req, &sv);
}

/* An extended attribute can change what stat shows: a POSIX access ACL
 * sets the mode (GNU cp -p sets modes that way), security.capability and
 * every change the ctime.  The kernel keeps its cached attributes across
 * a setxattr, so drop them before the reply: the caller's next stat asks
 * again.  Attributes only (offset < 0): no page is touched, so this is
 * safe while the kernel holds the inode's lock for the call. */
static void xattr_changed(struct mount *m, fuse_ino_t ino, int r)
{
	if (r == 0)
		fuse_lowlevel_notify_inval_inode(m->se, ino, -1, 0);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX];
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	r = path_of(m, ino, NULL, path);
	if (!r) {
		call_begin(m);
		r = m->ops->setxattr ? m->ops->setxattr(m->mnt, path, name,
							 value, size, flags)
				     : -EOPNOTSUPP;
		call_end(m);
	}
	xattr_changed(m, ino, r);
	reply_status(req, r);
}

/* getxattr and listxattr share the size-probe protocol. */
static void reply_sized(fuse_req_t req, struct mount *m, fuse_ino_t ino,
			const char *name, size_t size)
{
	char path[PATH_MAX];
	char *buf = NULL;
	ssize_t r = path_of(m, ino, NULL, path);

	if (!r && size && !(buf = malloc(size)))
		r = -ENOMEM;
	if (!r) {
		call_begin(m);
		if (name)
			r = m->ops->getxattr ? m->ops->getxattr(m->mnt, path,
								 name, buf, size)
					     : -EOPNOTSUPP;
		else
			r = m->ops->listxattr ? m->ops->listxattr(m->mnt, path,
								   buf, size)
					      : -EOPNOTSUPP;
		call_end(m);
	}
	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else if (!size)
		fuse_reply_xattr(req, (size_t)r);
	else
		fuse_reply_buf(req, buf, (size_t)r);
	free(buf);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	reply_sized(req, mnt_of(req), ino, name, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	reply_sized(req, mnt_of(req), ino, NULL, size);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct mount *m = mnt_of(req);
	char path[PATH_MAX];
	int r;

	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	r = path_of(m, ino, NULL, path);
	if (!r) {
		call_begin(m);
		r = m->ops->removexattr
			    ? m->ops->removexattr(m->mnt, path, name)
			    : -EOPNOTSUPP;
		call_end(m);
	}
	xattr_changed(m, ino, r);
	reply_status(req, r);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
			 off_t len, struct fuse_file_info *fi)
{
	struct mount *m = mnt_of(req);
	int r;

	(void)ino;
	if (ro(m)) {
		fuse_reply_err(req, EROFS);
		return;
	}
	call_begin(m);
	r = m->ops->fallocate ? m->ops->fallocate(m->mnt, fh_of(fi), mode, off,
						  len)
			      : -EOPNOTSUPP;
	call_end(m);
	reply_status(req, r);
}

static void teardown_file(void *hp, void *ctx)
{
	struct mount *m = ctx;
	struct handle *h = hp;

	if (m->ops->flush)
		m->ops->flush(m->mnt, h->fh);
	m->ops->release(m->mnt, h->fh);
	free(h);
}

void fuse_ops_teardown(struct mount *m)
{
	inode_drain_open(&m->inodes, teardown_file, m);
	while (m->dirs) {
		struct dir_handle *d = m->dirs;
		m->dirs = d->next;
		dir_clear(d);
		free(d->e);
		free(d);
	}
}

const struct fuse_lowlevel_ops scopefs_fuse_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write_buf = op_write_buf,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.fallocate = op_fallocate,
};
