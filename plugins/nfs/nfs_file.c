/*
 * nfs_file: open files.  A handle owns one libnfs nfsfh (the file's NFS
 * handle); reads and writes go to it at the core's offsets, and libnfs
 * splits reads into READs of at most the server's rtmax
 * (nfs_get_readmax).  Writes are raw WRITEs of at most its wtmax, since
 * libnfs 4.0's pwrite reports every NFS error as EFAULT and the caller
 * must see ENOSPC and EDQUOT as themselves.  Writes are UNSTABLE;
 * close (flush) and fsync send a COMMIT, so close() returns only when the
 * server has the data on stable storage, and reports what it said.
 */
#include "nfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

/* The open(2) flags handed to libnfs.  O_APPEND is the plugin's own (see
 * append_write); O_NOFOLLOW is always added: libnfs then refuses a
 * symlink anywhere in the path with ELOOP. */
#define PASSED_FLAGS (O_ACCMODE | O_TRUNC | O_SYNC | O_DSYNC)

static int writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static struct nfsp_file *new_file(int flags)
{
	struct nfsp_file *f = calloc(1, sizeof *f);

	if (!f)
		return NULL;
	f->writable = (flags & O_ACCMODE) != O_RDONLY;
	f->append = (flags & O_APPEND) != 0;
	f->sync = (flags & (O_SYNC | O_DSYNC)) != 0;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

static void free_file(struct nfsp_file *f)
{
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static int close_fh(struct nfsp_mount *m, struct nfsfh *fh);

/* Learn F's identity and count it as open (nfs_unlinked.c). */
static int track(struct nfsp_mount *m, struct nfsp_file *f)
{
	struct nfs_stat_64 st;
	int r;

	NFSP_CALL(m, r, NFSP_IDEM, "fstat", NULL, NFSP_COPY(st),
		  nfs_fstat64_async(ctx, f->fh, nfsp_cb, w));
	if (r < 0)
		return r;
	f->dev = st.nfs_dev;
	f->ino = st.nfs_ino;
	return nfsp_opened(m, f);
}

int nfsp_open(void *mnt, const char *path, int flags, void **fh)
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX];
	struct nfsp_file *f;
	int r;

	if (m->read_only && writes(flags))
		return -EROFS;
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	if (!(f = new_file(flags)))
		return -ENOMEM;
	NFSP_CALL(m, r, NFSP_IDEM, "open", p, NFSP_PTR(&f->fh),
		  nfs_open_async(ctx, p, (flags & PASSED_FLAGS) | O_NOFOLLOW,
				 nfsp_cb, w));
	if (r < 0) {
		free_file(f);
		return r;
	}
	if ((r = track(m, f)) < 0) {
		close_fh(m, f->fh);
		free_file(f);
		return r;
	}
	*fh = f;
	return 0;
}

int nfsp_create(void *mnt, const char *path, int flags, mode_t mode,
		const struct scopefs_caller *who, void **fh, struct stat *st)
{
	struct nfsp_mount *m = mnt;
	mode_t setid = m->give_to_caller ? mode & (S_ISUID | S_ISGID) : 0;
	struct nfs_stat_64 nst;
	char p[NFSP_PATH_MAX];
	struct nfsp_file *f;
	int r;

	if (m->read_only)
		return -EROFS;
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	if (!(f = new_file(flags)))
		return -ENOMEM;
	/* GUARDED with O_EXCL, so that of two clients only one makes it. */
	NFSP_CALL(m, r, NFSP_ONCE, "create", p, NFSP_PTR(&f->fh),
		  nfs_create_async(ctx, p, flags & (PASSED_FLAGS | O_EXCL),
				   (int)(mode & 07777 & ~setid), nfsp_cb, w));
	if (r < 0) {
		free_file(f);
		return r;
	}
	NFSP_CALL(m, r, NFSP_IDEM, "fstat", p, NFSP_COPY(nst),
		  nfs_fstat64_async(ctx, f->fh, nfsp_cb, w));
	if (r == 0) {
		nfsp_stat(&nst, st);
		f->dev = nst.nfs_dev;
		f->ino = nst.nfs_ino;
		r = nfsp_give(m, who, f->fh, p, setid, st);
	}
	if (r == 0 && (r = nfsp_opened(m, f)) < 0)
		f->ino = 0;
	if (r < 0) {
		close_fh(m, f->fh);
		free_file(f);
		/* A file the caller could not be given must not stay
		 * behind as the daemon's. */
		int ignored;

		NFSP_CALL(m, ignored, NFSP_ONCE, "unlink", p, NFSP_NONE,
			  nfs_unlink_async(ctx, p, nfsp_cb, w));
		(void)ignored;
		return r;
	}
	*fh = f;
	return 0;
}

ssize_t nfsp_read(void *mnt, void *fh, void *buf, size_t size, off_t off)
{
	struct nfsp_mount *m = mnt;
	struct nfsp_file *f = fh;
	size_t done = 0;
	int r = 0;

	/* A short READ is not the end of the file (NFSv3 says so with
	 * eof); continue until the count or a read of 0. */
	while (done < size) {
		NFSP_CALL(m, r, NFSP_IDEM, "read", NULL,
			  NFSP_BYTES((char *)buf + done, size - done),
			  nfs_pread_async(ctx, f->fh, (uint64_t)off + done,
					  size - done, nfsp_cb, w));
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return done ? (ssize_t)done : r;
}

/* One WRITE of at most wtmax bytes: the count taken, or -errno. */
static int write_rpc(struct nfsp_mount *m, struct nfsp_file *f,
		     const char *buf, size_t size, uint64_t off)
{
	const struct nfs_fh *nfh = nfs_get_fh(f->fh);
	WRITE3args a;
	int r;

	memset(&a, 0, sizeof a);
	a.file.data.data_len = (u_int)nfh->len;
	a.file.data.data_val = nfh->val;
	a.offset = off;
	a.count = (count3)size;
	a.stable = f->sync ? FILE_SYNC : UNSTABLE;
	a.data.data_len = (u_int)size;
	a.data.data_val = (char *)buf;
	NFSP_CALL(m, r, NFSP_IDEM, "write", NULL, NFSP_NONE,
		  rpc_nfs3_write_async(nfs_get_rpc_context(ctx), nfsp_write_cb,
				       &a, w));
	return r;
}

/* Write at OFF in WRITEs of at most wtmax; a short WRITE is continued, so
 * that the core sees either everything written or why not (ENOSPC,
 * EDQUOT, ...). */
static ssize_t write_at(struct nfsp_mount *m, struct nfsp_file *f,
			const void *buf, size_t size, uint64_t off)
{
	uint64_t max = __atomic_load_n(&m->writemax, __ATOMIC_RELAXED);
	size_t done = 0;
	int r = 0;

	if (max == 0 || max > (1u << 24))
		max = 1u << 20;
	while (done < size) {
		size_t n = size - done < max ? size - done : (size_t)max;

		r = write_rpc(m, f, (const char *)buf + done, n, off + done);
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	if (done)
		__atomic_store_n(&f->dirty, 1, __ATOMIC_RELAXED);
	return done ? (ssize_t)done : r;
}

/* O_APPEND: at the end the server reports, one append of this handle at
 * a time.  Another client appending at the same moment may interleave (as
 * with any NFSv3 client: the protocol has no atomic append). */
static ssize_t append_write(struct nfsp_mount *m, struct nfsp_file *f,
			    const void *buf, size_t size)
{
	struct nfs_stat_64 st;
	ssize_t n;
	int r;

	pthread_mutex_lock(&f->lock);
	NFSP_CALL(m, r, NFSP_IDEM, "fstat", NULL, NFSP_COPY(st),
		  nfs_fstat64_async(ctx, f->fh, nfsp_cb, w));
	n = r < 0 ? r : write_at(m, f, buf, size, st.nfs_size);
	pthread_mutex_unlock(&f->lock);
	return n;
}

ssize_t nfsp_write(void *mnt, void *fh, const void *buf, size_t size,
		   off_t off)
{
	struct nfsp_mount *m = mnt;
	struct nfsp_file *f = fh;
	ssize_t n;

	if (m->read_only)
		return -EROFS;
	n = f->append ? append_write(m, f, buf, size) :
			write_at(m, f, buf, size, (uint64_t)off);
	if (n == -ENOSPC || n == -EDQUOT)
		nfsp_check_space(m, 1);
	return n;
}

/* COMMIT what this handle wrote since the last COMMIT. */
static int commit(struct nfsp_mount *m, struct nfsp_file *f)
{
	int r;

	if (!__atomic_exchange_n(&f->dirty, 0, __ATOMIC_RELAXED))
		return 0;
	NFSP_CALL(m, r, NFSP_IDEM, "commit", NULL, NFSP_NONE,
		  nfs_fsync_async(ctx, f->fh, nfsp_cb, w));
	if (r < 0)
		__atomic_store_n(&f->dirty, 1, __ATOMIC_RELAXED);
	return r;
}

/* Every close(2) of the file arrives here (and the last one before
 * release). */
int nfsp_flush(void *mnt, void *fh)
{
	struct nfsp_mount *m = mnt;
	struct nfsp_file *f = fh;
	int r = commit(m, f);

	if (f->writable)
		nfsp_check_space(m, 0);
	return r;
}

int nfsp_fsync(void *mnt, void *fh, int datasync)
{
	(void)datasync; /* COMMIT covers data and metadata alike */
	return commit(mnt, fh);
}

/* Close (free) an nfsfh.  libnfs frees it however the call ends, so it
 * is never sent twice; a handle that was ever written is COMMITted
 * again, which costs one COMMIT with nothing left to write. */
static int close_fh(struct nfsp_mount *m, struct nfsfh *fh)
{
	int r;

	NFSP_CALL(m, r, NFSP_ONCE, "close", NULL, NFSP_NONE,
		  nfs_close_async(ctx, fh, nfsp_cb, w));
	return r;
}

int nfsp_release(void *mnt, void *fh)
{
	struct nfsp_mount *m = mnt;
	struct nfsp_file *f = fh;
	int r = commit(m, f), rc = close_fh(m, f->fh);

	nfsp_closed(m, f);
	free_file(f);
	return r < 0 ? r : rc;
}

int nfsp_truncate(void *mnt, const char *path, void *fh, off_t size)
{
	struct nfsp_mount *m = mnt;
	struct nfsp_file *f = fh;
	char p[NFSP_PATH_MAX];
	int r;

	if (m->read_only)
		return -EROFS;
	if (size < 0)
		return -EINVAL;
	if (f) {
		NFSP_CALL(m, r, NFSP_IDEM, "truncate", NULL, NFSP_NONE,
			  nfs_ftruncate_async(ctx, f->fh, (uint64_t)size,
					      nfsp_cb, w));
		return r;
	}
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	/* Through an O_NOFOLLOW open: a symlink is refused, not followed. */
	struct nfsfh *tfh = NULL;

	NFSP_CALL(m, r, NFSP_IDEM, "truncate", p, NFSP_PTR(&tfh),
		  nfs_open_async(ctx, p, O_WRONLY | O_NOFOLLOW, nfsp_cb, w));
	if (r < 0)
		return r;
	NFSP_CALL(m, r, NFSP_IDEM, "truncate", p, NFSP_NONE,
		  nfs_ftruncate_async(ctx, tfh, (uint64_t)size, nfsp_cb, w));
	int rc = close_fh(m, tfh);

	return r < 0 ? r : rc;
}
