/*
 * nfs_dir: directories and the names in them (listing, making, linking,
 * removing and renaming entries).  Each is one NFSv3 call after libnfs's
 * lookup of the parent, plus a LOOKUP for the new node's attributes.
 */
#include "nfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

static int is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

static void dirent_stat(const struct nfsdirent *e, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_dev = (dev_t)e->dev;
	st->st_ino = (ino_t)e->inode;
	st->st_mode = (mode_t)e->mode;
	st->st_nlink = (nlink_t)e->nlink;
	st->st_uid = (uid_t)e->uid;
	st->st_gid = (gid_t)e->gid;
	st->st_rdev = (dev_t)e->rdev;
	st->st_size = (off_t)e->size;
	st->st_blksize = (blksize_t)e->blksize;
	st->st_blocks = (blkcnt_t)e->blocks;
	st->st_atim.tv_sec = e->atime.tv_sec;
	st->st_atim.tv_nsec = e->atime_nsec;
	st->st_mtim.tv_sec = e->mtime.tv_sec;
	st->st_mtim.tv_nsec = e->mtime_nsec;
	st->st_ctim.tv_sec = e->ctime.tv_sec;
	st->st_ctim.tv_nsec = e->ctime_nsec;
}

/* libnfs reads the whole directory at opendir (READDIRPLUS, so every
 * entry comes with its attributes); an entry the server sent without
 * attributes (no type in its mode) is listed by name only. */
static int list(struct nfs_context *ctx, struct nfsdir *dir, const char *p,
		scopefs_fill_fn fill, void *fctx)
{
	struct nfsdirent *e;
	struct stat st;
	int r = 0;

	while (r == 0 && (e = nfs_readdir(ctx, dir))) {
		if (is_dot_or_dotdot(e->name) || nfsp_hidden_name(p, e->name))
			continue;
		dirent_stat(e, &st);
		r = fill(fctx, e->name, (st.st_mode & S_IFMT) ? &st : NULL);
	}
	return r;
}

int nfsp_readdir(void *mnt, const char *path, scopefs_fill_fn fill,
		 void *fctx)
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX];
	struct nfsp_try t = { 0 };
	struct nfsp_conn *c;
	int r, filled = 0;

	if ((r = nfsp_path(path, p)) < 0)
		return r;
	/* By hand rather than NFSP_CALL: the listing is read while the
	 * context is held, since nfs_readdir and nfs_closedir use it. */
	while ((c = nfsp_begin(m, &t, &r))) {
		struct nfsdir *dir = NULL;
		struct nfs_context *ctx = c->ctx;

		r = NFSP_ONE(m->be, ctx, NFSP_DIR(&dir),
			     nfs_opendir_async(ctx, p, nfsp_cb, w));
		if (r == 0) {
			filled = list(ctx, dir, p, fill, fctx);
			nfs_closedir(ctx, dir);
		}
		if (!nfsp_end(m, &t, c, &r, NFSP_IDEM, "readdir", p))
			break;
	}
	return r < 0 ? r : filled;
}

/* P names a node this call just made: fill st and give the node to the
 * caller; if either fails, remove the node again (rmdir when DIR) so that
 * a failed call leaves nothing behind. */
static int made_node(struct nfsp_mount *m, const struct scopefs_caller *who,
		     const char *p, mode_t setid, int dir, struct stat *st)
{
	int r = nfsp_lstat(m, p, st), ignored;

	if (r == 0)
		r = nfsp_give(m, who, NULL, p, setid, st);
	if (r < 0 && dir)
		NFSP_CALL(m, ignored, NFSP_ONCE, "rmdir", p, NFSP_NONE,
			  nfs_rmdir_async(ctx, p, nfsp_cb, w));
	else if (r < 0)
		NFSP_CALL(m, ignored, NFSP_ONCE, "unlink", p, NFSP_NONE,
			  nfs_unlink_async(ctx, p, nfsp_cb, w));
	(void)ignored;
	return r;
}

int nfsp_mkdir(void *mnt, const char *path, mode_t mode,
	       const struct scopefs_caller *who, struct stat *st)
{
	struct nfsp_mount *m = mnt;
	mode_t setid = m->give_to_caller ? mode & S_ISGID : 0;
	char p[NFSP_PATH_MAX];
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	NFSP_CALL(m, r, NFSP_ONCE, "mkdir", p, NFSP_NONE,
		  nfs_mkdir2_async(ctx, p, (int)(mode & 07777 & ~setid),
				   nfsp_cb, w));
	return r < 0 ? r : made_node(m, who, p, setid, 1, st);
}

int nfsp_mknod(void *mnt, const char *path, mode_t mode, dev_t rdev,
	       const struct scopefs_caller *who, struct stat *st)
{
	struct nfsp_mount *m = mnt;
	mode_t setid = 0;
	char p[NFSP_PATH_MAX];
	struct nfsfh *fh = NULL;
	int r, rc;

	if (m->read_only)
		return -EROFS;
	/* The kernel checks CAP_MKNOD of the caller too; a root daemon must
	 * not be the way round it. */
	if ((S_ISCHR(mode) || S_ISBLK(mode)) && (!who || who->uid != 0))
		return -EPERM;
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	if (S_ISREG(mode)) {
		if (m->give_to_caller)
			setid = mode & (S_ISUID | S_ISGID);
		NFSP_CALL(m, r, NFSP_ONCE, "mknod", p, NFSP_PTR(&fh),
			  nfs_create_async(ctx, p, O_EXCL,
					   (int)(mode & 07777 & ~setid),
					   nfsp_cb, w));
		if (r == 0) {
			NFSP_CALL(m, rc, NFSP_ONCE, "close", p, NFSP_NONE,
				  nfs_close_async(ctx, fh, nfsp_cb, w));
			(void)rc;
		}
	} else if (S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISCHR(mode) ||
		   S_ISBLK(mode)) {
		NFSP_CALL(m, r, NFSP_ONCE, "mknod", p, NFSP_NONE,
			  nfs_mknod_async(ctx, p, (int)(mode & (S_IFMT | 07777)),
					  (int)rdev, nfsp_cb, w));
	} else {
		return -EINVAL;
	}
	return r < 0 ? r : made_node(m, who, p, setid, 0, st);
}

/* TARGET is stored as given: the daemon never follows it, the kernel
 * resolves it for the process that uses the link. */
int nfsp_symlink(void *mnt, const char *target, const char *path,
		 const struct scopefs_caller *who, struct stat *st)
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX];
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	NFSP_CALL(m, r, NFSP_ONCE, "symlink", p, NFSP_NONE,
		  nfs_symlink_async(ctx, target, p, nfsp_cb, w));
	return r < 0 ? r : made_node(m, who, p, 0, 0, st);
}

/* Open P's parent directory (for its handle); the name in P into *name. */
static int open_parent(struct nfsp_mount *m, const char *p, struct nfsfh **dir,
		       const char **name)
{
	char parent[NFSP_PATH_MAX];
	const char *slash = strrchr(p, '/');
	int r;

	memcpy(parent, p, (size_t)(slash - p));
	strcpy(parent + (slash - p), slash == p ? "/" : "");
	*name = slash + 1;
	NFSP_CALL(m, r, NFSP_IDEM, "open", parent, NFSP_PTR(dir),
		  nfs_open_async(ctx, parent, O_RDONLY | O_NOFOLLOW, nfsp_cb,
				 w));
	return r;
}

static void close_dir(struct nfsp_mount *m, struct nfsfh *dir)
{
	int r;

	NFSP_CALL(m, r, NFSP_ONCE, "close", NULL, NFSP_NONE,
		  nfs_close_async(ctx, dir, nfsp_cb, w));
	(void)r;
}

static void fh3(nfs_fh3 *out, const struct nfs_fh *in)
{
	out->data.data_len = (u_int)in->len;
	out->data.data_val = in->val;
}

/* LINK of what FROM names itself, a symlink included (libnfs's link
 * looks its source up following a final symlink): the source's handle
 * from a LOOKUP in its directory, then a raw LINK. */
static int link_node(struct nfsp_mount *m, const char *from, const char *to)
{
	struct nfsfh *sdir = NULL, *ddir = NULL;
	const char *sname, *dname;
	struct nfsp_fh3 src;
	LOOKUP3args la;
	LINK3args ka;
	int r;

	if ((r = open_parent(m, from, &sdir, &sname)) < 0)
		return r;
	memset(&la, 0, sizeof la);
	fh3(&la.what.dir, nfs_get_fh(sdir));
	la.what.name = (char *)sname;
	NFSP_CALL(m, r, NFSP_IDEM, "lookup", from, NFSP_COPY(src),
		  rpc_nfs3_lookup_async(nfs_get_rpc_context(ctx),
					nfsp_lookup_cb, &la, w));
	close_dir(m, sdir);
	if (r < 0 || (r = open_parent(m, to, &ddir, &dname)) < 0)
		return r;
	memset(&ka, 0, sizeof ka);
	ka.file.data.data_len = src.len;
	ka.file.data.data_val = src.val;
	fh3(&ka.link.dir, nfs_get_fh(ddir));
	ka.link.name = (char *)dname;
	NFSP_CALL(m, r, NFSP_ONCE, "link", to, NFSP_NONE,
		  rpc_nfs3_link_async(nfs_get_rpc_context(ctx), nfsp_rpc_cb,
				      &ka, w));
	close_dir(m, ddir);
	return r;
}

int nfsp_link(void *mnt, const char *from, const char *to, struct stat *st)
{
	struct nfsp_mount *m = mnt;
	char f[NFSP_PATH_MAX], t[NFSP_PATH_MAX];
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = nfsp_path(from, f)) < 0 || (r = nfsp_path(to, t)) < 0)
		return r;
	if (strcmp(f, "/") == 0 || strcmp(t, "/") == 0)
		return strcmp(t, "/") == 0 ? -EEXIST : -EPERM;
	if ((r = link_node(m, f, t)) < 0)
		return r;
	return nfsp_lstat(m, t, st);
}

/* REMOVE (or RMDIR when DIR) of PATH; a file open here is hidden
 * instead (nfs_unlinked.c). */
static int remove_name(struct nfsp_mount *m, const char *path, int dir)
{
	char p[NFSP_PATH_MAX];
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	if (strcmp(p, "/") == 0)
		return dir ? -EBUSY : -EISDIR;
	if (!dir && (r = nfsp_hide_if_open(m, p)) != 0)
		return r < 0 ? r : 0;
	if (dir)
		NFSP_CALL(m, r, NFSP_ONCE, "rmdir", p, NFSP_NONE,
			  nfs_rmdir_async(ctx, p, nfsp_cb, w));
	else
		NFSP_CALL(m, r, NFSP_ONCE, "unlink", p, NFSP_NONE,
			  nfs_unlink_async(ctx, p, nfsp_cb, w));
	return r;
}

int nfsp_unlink(void *mnt, const char *path)
{
	return remove_name(mnt, path, 0);
}

int nfsp_rmdir(void *mnt, const char *path)
{
	return remove_name(mnt, path, 1);
}

/* NFSv3 RENAME replaces the target; RENAME_NOREPLACE is a LOOKUP first,
 * so another client may still make the target between the two.  There is
 * no RENAME_EXCHANGE in the protocol. */
int nfsp_rename(void *mnt, const char *from, const char *to,
		unsigned int flags)
{
	struct nfsp_mount *m = mnt;
	char f[NFSP_PATH_MAX], t[NFSP_PATH_MAX];
	struct stat st;
	int r;

	if (m->read_only)
		return -EROFS;
	if (flags & ~(unsigned int)RENAME_NOREPLACE)
		return -EINVAL;
	if ((r = nfsp_path(from, f)) < 0 || (r = nfsp_path(to, t)) < 0)
		return r;
	if (flags & RENAME_NOREPLACE) {
		r = nfsp_lstat(m, t, &st);
		if (r == 0)
			return -EEXIST;
		if (r != -ENOENT)
			return r;
	} else if (strcmp(f, t) != 0 && (r = nfsp_hide_if_open(m, t)) < 0) {
		return r; /* an open file about to be replaced is kept */
	}
	NFSP_CALL(m, r, NFSP_ONCE, "rename", f, NFSP_NONE,
		  nfs_rename_async(ctx, f, t, nfsp_cb, w));
	return r;
}

int nfsp_readlink(void *mnt, const char *path, char *buf, size_t size)
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX], *target = NULL;
	int r;

	if (size == 0)
		return -ENAMETOOLONG;
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	NFSP_CALL(m, r, NFSP_IDEM, "readlink", p, NFSP_STR(&target),
		  nfs_readlink_async(ctx, p, nfsp_cb, w));
	if (r < 0)
		return r;
	if (strlen(target) >= size)
		r = -ENAMETOOLONG;
	else
		strcpy(buf, target);
	free(target);
	return r;
}
