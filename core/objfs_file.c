/* objfs_file: open files of an object mount.  All handles of one path
 * share one struct ofile, so two opens see the same bytes; the store only
 * learns about changes at close/fsync (close-to-open consistency). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "backend.h"
#include "log.h"
#include "objfs_internal.h"

/* The open file of PATH (not one unlinked while open, nor one whose
 * version another machine replaced), or NULL; with fs->lock held. */
static struct ofile *find_locked(struct objfs *fs, const char *path)
{
	struct ofile *of;

	for (of = fs->files; of; of = of->next)
		if (!of->unlinked && !of->superseded &&
		    strcmp(of->path, path) == 0)
			break;
	return of;
}

struct ofile *ofile_find(struct objfs *fs, const char *path)
{
	struct ofile *of;

	pthread_mutex_lock(&fs->lock);
	if ((of = find_locked(fs, path)))
		of->refs++;
	pthread_mutex_unlock(&fs->lock);
	return of;
}

void ofile_show(struct ofile *of)
{
	pthread_mutex_lock(&of->alock);
	of->shown_st = of->st;
	memcpy(of->shown_etag, of->etag, sizeof of->shown_etag);
	pthread_mutex_unlock(&of->alock);
}

void ofile_unlock(struct ofile *of)
{
	ofile_show(of);
	pthread_mutex_unlock(&of->lock);
}

void ofile_attrs(struct ofile *of, struct stat *st, char *etag)
{
	pthread_mutex_lock(&of->alock);
	*st = of->shown_st;
	if (etag)
		memcpy(etag, of->shown_etag, SCOPEFS_ETAG_MAX);
	pthread_mutex_unlock(&of->alock);
}

int ofile_peek(struct objfs *fs, const char *path, struct stat *st,
	       char *etag)
{
	struct ofile *of;

	/* fs->lock keeps OF alive; alock is taken inside it (leaf). */
	pthread_mutex_lock(&fs->lock);
	of = find_locked(fs, path);
	if (of)
		ofile_attrs(of, st, etag);
	pthread_mutex_unlock(&fs->lock);
	return of != NULL;
}

static void ofile_free(struct objfs *fs, struct ofile *of)
{
	pthread_mutex_lock(&of->lock);
	if (of->state == OF_STREAM && (of->upload || of->buf))
		stream_abort(fs, of);
	ra_drop(fs, of);
	if (of->fd >= 0) {
		close(of->fd);
		if (fs->p.metrics)
			metrics_add(&fs->p.metrics->staged_files, -1);
	}
	pthread_mutex_unlock(&of->lock);
	pthread_mutex_destroy(&of->lock);
	pthread_mutex_destroy(&of->alock);
	pthread_cond_destroy(&of->cond);
	free(of->path);
	free(of);
}

void ofile_put(struct objfs *fs, struct ofile *of)
{
	int last;

	pthread_mutex_lock(&fs->lock);
	last = --of->refs == 0;
	if (last) {
		struct ofile **pp = &fs->files;
		while (*pp != of)
			pp = &(*pp)->next;
		*pp = of->next;
	}
	pthread_mutex_unlock(&fs->lock);
	if (last)
		ofile_free(fs, of);
}

/* The open file for PATH, made from ST if nobody has it open. */
static struct ofile *ofile_get(struct objfs *fs, const char *path,
			       const struct stat *st, const char *etag,
			       int in_store, int *fresh)
{
	struct ofile *of;

	pthread_mutex_lock(&fs->lock);
	of = find_locked(fs, path);
	*fresh = !of;
	if (!of && (of = calloc(1, sizeof *of))) {
		if (!(of->path = strdup(path))) {
			free(of);
			of = NULL;
		} else {
			pthread_mutex_init(&of->lock, NULL);
			pthread_mutex_init(&of->alock, NULL);
			pthread_cond_init(&of->cond, NULL);
			of->st = *st;
			of->shown_st = *st;
			of->fd = -1;
			of->in_store = in_store;
			of->state = OF_CLEAN;
			snprintf(of->etag, sizeof of->etag, "%s", etag);
			memcpy(of->shown_etag, of->etag, sizeof of->etag);
			of->next = fs->files;
			fs->files = of;
		}
	}
	if (of)
		of->refs++;
	pthread_mutex_unlock(&fs->lock);
	return of;
}

/* The object under PATH was rewritten by a copy (rename, metadata
 * update): its open file now reads against the copy's ETAG.  Stores give
 * a copy a new ETag (Azure always, S3 for multipart sources), so keeping
 * the old one makes every later conditional read fail. */
void ofile_set_etag(struct objfs *fs, const char *path, const char *etag)
{
	struct ofile *of = ofile_find(fs, path);

	if (!of)
		return;
	pthread_mutex_lock(&of->lock);
	snprintf(of->etag, sizeof of->etag, "%s", etag ? etag : "");
	ofile_unlock(of);
	ofile_put(fs, of);
}

/* Is OF's path FROM or below it?  (fs->lock or of->lock held) */
static int under(const struct ofile *of, const char *from, size_t fl)
{
	return !of->unlinked && strncmp(of->path, from, fl) == 0 &&
	       (of->path[fl] == '\0' || of->path[fl] == '/');
}

/* The open files at FROM or below it now answer to TO.  Their path is
 * changed with of->lock and then fs->lock held, the order every other
 * path takes the two (a job's reference is taken under of->lock), so
 * the files are gathered first, each with a reference. */
void ofiles_rename(struct objfs *fs, const char *from, const char *to)
{
	size_t fl = strlen(from), n = 0, cap = 0;
	struct ofile **v = NULL, *of;

	pthread_mutex_lock(&fs->lock);
	for (of = fs->files; of; of = of->next) {
		if (!under(of, from, fl))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 8;
			struct ofile **nv = realloc(v, c * sizeof *v);
			if (!nv) {
				/* cannot even list them: they upload nowhere */
				of->failed = 1;
				continue;
			}
			v = nv;
			cap = c;
		}
		of->refs++;
		v[n++] = of;
	}
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; i < n; i++) {
		char *np = NULL;

		of = v[i];
		pthread_mutex_lock(&of->lock);
		pthread_mutex_lock(&fs->lock);
		if (under(of, from, fl) &&
		    asprintf(&np, "%s%s", to, of->path + fl) >= 0) {
			free(of->path);
			of->path = np;
		} else if (under(of, from, fl)) {
			/* Out of memory: under its old name it would upload
			 * to a key that is no longer its own.  It uploads
			 * nowhere, and its close fails with EIO. */
			log_error("%s: '%s' moved while open and out of "
				  "memory: its later changes are not stored",
				  fs->p.label, of->path);
			of->failed = 1;
		}
		pthread_mutex_unlock(&fs->lock);
		ofile_unlock(of);
		ofile_put(fs, of);
	}
	free(v);
}

/* The name PATH is about to go (unlink, or a rename over it): its open
 * files keep their bytes, as on a local filesystem.  One that still reads
 * from the store gets a local copy first, since the object will be gone;
 * call this before the store changes. */
void ofiles_unlink(struct objfs *fs, const char *path)
{
	struct ofile *of;

	pthread_mutex_lock(&fs->lock);
	of = find_locked(fs, path);
	if (of)
		of->refs++;
	pthread_mutex_unlock(&fs->lock);
	if (!of)
		return;
	pthread_mutex_lock(&of->lock);
	if (of->state == OF_CLEAN && of->in_store && stage_begin(fs, of) < 0)
		log_warn("%s: '%s' removed while open: its descriptors can no "
			 "longer read it", fs->p.label, of->path);
	pthread_mutex_lock(&fs->lock);
	of->unlinked = 1;
	pthread_mutex_unlock(&fs->lock);
	of->st.st_nlink = 0;
	ofile_unlock(of);
	ofile_put(fs, of);
}

static void touch(struct ofile *of)
{
	clock_gettime(CLOCK_REALTIME, &of->st.st_mtim);
	of->st.st_ctim = of->st.st_mtim;
}

/* Called with of->lock held. */
static int sync_once(struct objfs *fs, struct ofile *of)
{
	int r = 0;

	if (of->unlinked) {
		/* Removed while open: its bytes must not come back. */
		if (of->state == OF_STREAM)
			stream_abort(fs, of);
		of->dirty = 0;
		return 0;
	}
	if (of->failed)
		return -EIO;
	if (!of->dirty)
		return 0;
	if (of->state == OF_STREAM)
		r = stream_finish(fs, of);
	else if (of->state == OF_STAGED)
		r = stage_upload(fs, of);
	if (r < 0) {
		/* The previous object is intact; the caller sees EIO.  A
		 * staged file keeps its bytes and is tried again at the next
		 * close; a stream's bytes are gone, so nothing more may be
		 * uploaded (an empty object would replace the old one). */
		log_error("%s: '%s' was not stored: close/fsync fails with "
			  "EIO and the previous version stays", fs->p.label,
			  of->path);
		if (of->state == OF_STREAM) {
			of->failed = 1;
			of->dirty = 0;
			of->state = OF_CLEAN;
		}
		cache_drop(&fs->cache, of->path);
		return -EIO;
	}
	if ((r = upload_settle_meta(fs, of)) < 0)
		log_error("%s: '%s' is stored, but not the attributes set "
			  "while it uploaded: close/fsync fails with EIO",
			  fs->p.label, of->path);
	of->dirty = 0;
	of->meta_dirty = 0;
	of->in_store = 1;
	if (of->state == OF_STREAM)
		of->state = OF_CLEAN;
	of->st.st_blocks = (of->st.st_size + 511) / 512;
	if (r < 0) {
		cache_drop(&fs->cache, of->path);
		return -EIO;
	}
	cache_put(&fs->cache, of->path, 1, &of->st, of->etag, fs->p.ttl, 0);
	return 0;
}

/* One upload at a time per file: a sync releases of->lock while it waits
 * for its parts, and a second flush (another descriptor's close) must not
 * finish the same upload again, nor a write slip data into a stream that
 * is being completed.  Called with of->lock held. */
static int sync_locked(struct objfs *fs, struct ofile *of)
{
	int r;

	while (of->syncing)
		pthread_cond_wait(&of->cond, &of->lock);
	of->syncing = 1;
	r = sync_once(fs, of);
	of->syncing = 0;
	pthread_cond_broadcast(&of->cond);
	return r;
}

/* Take of->lock once no sync of the file is under way. */
static void lock_settled(struct ofile *of)
{
	pthread_mutex_lock(&of->lock);
	while (of->syncing)
		pthread_cond_wait(&of->cond, &of->lock);
}

int ofile_sync(struct objfs *fs, struct ofile *of)
{
	int r;

	pthread_mutex_lock(&of->lock);
	r = sync_locked(fs, of);
	ofile_unlock(of);
	return r;
}

static int new_handle(struct ofile *of, int flags, void **fh)
{
	struct ofh *h = malloc(sizeof *h);

	if (!h)
		return -ENOMEM;
	h->of = of;
	h->flags = flags;
	*fh = h;
	return 0;
}

/* Replace the content with nothing: stream if write-only, else stage. */
static int start_empty(struct objfs *fs, struct ofile *of, int flags)
{
	if (of->state == OF_STREAM)
		stream_abort(fs, of);
	if (of->state == OF_STAGED) {
		if (ftruncate(of->fd, 0) < 0)
			return -errno;
	} else if ((flags & O_ACCMODE) == O_WRONLY && !fs->p.stage_all) {
		ra_drop(fs, of);
		of->state = OF_STREAM;
	} else {
		int r;
		of->st.st_size = 0;
		of->state = OF_STREAM; /* empty: stage_begin needs no GET */
		if ((r = stage_begin(fs, of)) < 0)
			return r;
	}
	of->st.st_size = 0;
	of->dirty = 1;
	touch(of);
	return 0;
}

/* An attribute entry younger than this (seconds) counts as asked now. */
#define OPEN_FRESH 0.1

/* What the store has under PATH, for an open. */
static int open_head(struct objfs *fs, const char *path, struct stat *st,
		     char *etag)
{
	/* Close-to-open, as NFS does it: every open asks the store, so a
	 * file another machine closed is seen whole -- unless the kernel's
	 * lookup for this open just did (a HEAD moments ago, used by one
	 * open only and not refreshed by it, so repeated opens never live
	 * on one old answer). */
	struct centry ce;
	int r;

	if (cache_take_head(&fs->cache, path, OPEN_FRESH, &ce) &&
	    S_ISREG(ce.st.st_mode)) {
		*st = ce.st;
		snprintf(etag, SCOPEFS_ETAG_MAX, "%s", ce.etag);
		return 0;
	}
	r = head_stat(fs, path, st, etag, 0);
	if (r == 0)
		cache_put(&fs->cache, path, 1, st, etag, fs->p.ttl, 0);
	return r;
}

/* PATH is open here already.  A file with changes of its own, or being
 * stored, serves the new open as it is: this machine's writer is the
 * newest.  A clean one serves it only while the store still holds its
 * version; if another machine replaced or removed the object, OF is set
 * aside for the handles that have it (their reads fail with ESTALE, as
 * NFS's do) and the open starts from the store's answer.  Returns 1 to
 * share OF, 0 with *R, *ST and ETAG from the store otherwise. */
static int open_shares(struct objfs *fs, struct ofile *of, const char *path,
		       struct stat *st, char *etag, int *r)
{
	char had[SCOPEFS_ETAG_MAX];
	int clean;

	pthread_mutex_lock(&of->lock);
	clean = of->state != OF_STREAM && of->in_store && !of->dirty &&
		!of->syncing && !of->failed;
	memcpy(had, of->etag, sizeof had);
	pthread_mutex_unlock(&of->lock);
	if (!clean)
		return 1;
	*r = open_head(fs, path, st, etag);
	if (*r == 0 && S_ISREG(st->st_mode) && strcmp(etag, had) == 0)
		return 1;
	if (*r < 0 && *r != -ENOENT)
		return 1; /* cannot tell: what is open here is the best known */
	log_debug("%s: '%s' changed in the store while open here: new opens "
		  "read the store's version", fs->p.label, path);
	pthread_mutex_lock(&fs->lock);
	of->superseded = 1;
	pthread_mutex_unlock(&fs->lock);
	return 0;
}

int objfs_open_file(void *mnt, const char *path, int flags, void **fh)
{
	struct objfs *fs = mnt;
	char etag[SCOPEFS_ETAG_MAX];
	struct ofile *of;
	struct stat st;
	int r = 0, fresh = 0;

	if ((of = ofile_find(fs, path)) &&
	    !open_shares(fs, of, path, &st, etag, &r)) {
		ofile_put(fs, of);
		of = NULL;
	} else if (!of) {
		r = open_head(fs, path, &st, etag);
	}
	if (!of) {
		if (r == -ENOENT) {
			cache_drop(&fs->cache, path);
			return r;
		}
		if (r < 0)
			return objfs_fail(fs, "head", path, r);
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!(of = ofile_get(fs, path, &st, etag, 1, &fresh)))
			return -ENOMEM;
	}
	lock_settled(of);
	r = (flags & O_TRUNC) ? start_empty(fs, of, flags) : 0;
	log_debug("%s: open '%s' flags 0%o: %s, size %lld, state %d: %d",
		  fs->p.label, path, flags, fresh ? "new" : "shared",
		  (long long)of->st.st_size, of->state, r);
	ofile_unlock(of);
	if (!r)
		r = new_handle(of, flags, fh);
	if (r < 0)
		ofile_put(fs, of);
	return r;
}

/* O_EXCL across machines: the empty object is stored now, on the
 * condition that no object has its name, so that of two machines creating
 * one lock file only one succeeds.  The file is then clean: closing it
 * unwritten costs nothing more; writes upload at close as usual. */
static int create_in_store(struct objfs *fs, struct ofile *of)
{
	struct scopefs_object_meta meta[META_N];
	struct scopefs_object_attr a = { 0 };
	char bufs[META_N][32];
	size_t n = meta_from_stat(&of->st, meta, bufs);
	int r;

	host_clear_error();
	r = objfs_store_put_new(fs, of->path, "", 0, meta, n, &a);
	if (r == -EEXIST) {
		/* Another machine made it since our lookup: forget what
		 * the caches said, so the next lookup asks the store. */
		cache_drop(&fs->cache, of->path);
		return r;
	}
	if (r < 0)
		return objfs_fail(fs, "put", of->path, r);
	snprintf(of->etag, sizeof of->etag, "%s", a.etag);
	of->in_store = 1;
	of->dirty = 0;
	cache_put(&fs->cache, of->path, 1, &of->st, of->etag, fs->p.ttl, 0);
	return 0;
}

int objfs_create(void *mnt, const char *path, int flags, mode_t mode,
		 const struct scopefs_caller *who, void **fh, struct stat *st)
{
	struct objfs *fs = mnt;
	struct ofile *of;
	int r, fresh;

	stat_from_object(fs, st, NULL, 0);
	st->st_mode = S_IFREG | (mode & 07777);
	st->st_uid = who->uid;
	st->st_gid = who->gid;
	inherit_group(fs, path, st);
	clock_gettime(CLOCK_REALTIME, &st->st_mtim);
	st->st_atim = st->st_ctim = st->st_mtim;
	if (!(of = ofile_get(fs, path, st, "", 0, &fresh)))
		return -ENOMEM;
	lock_settled(of);
	if (!fresh && (flags & O_EXCL))
		r = -EEXIST;
	else
		r = fresh || (flags & O_TRUNC) ? start_empty(fs, of, flags) : 0;
	if (r == 0 && fresh && (flags & O_EXCL) && fs->o->put_new &&
	    !fs->p.excl_local)
		r = create_in_store(fs, of);
	*st = of->st;
	ofile_unlock(of);
	if (!r)
		r = new_handle(of, flags, fh);
	if (r < 0)
		ofile_put(fs, of);
	return r;
}

/* A fifo, socket or device node: an empty object whose metadata holds
 * its type and mode (and rdev), as s3fs stores them.  The kernel serves
 * the node itself (a pipe, a bound socket, a device it may refuse with
 * nodev); the store keeps that it exists and its attributes.  Made on
 * the condition that no object has the name, where the store can. */
static int make_special(struct objfs *fs, const char *path, mode_t mode,
			dev_t rdev, const struct scopefs_caller *who,
			struct stat *st)
{
	struct scopefs_object_meta meta[META_N];
	struct scopefs_object_attr a = { 0 };
	char bufs[META_N][32];
	size_t n;
	int r;

	stat_from_object(fs, st, NULL, 0);
	st->st_mode = mode;
	st->st_rdev = S_ISCHR(mode) || S_ISBLK(mode) ? rdev : 0;
	st->st_uid = who->uid;
	st->st_gid = who->gid;
	inherit_group(fs, path, st);
	clock_gettime(CLOCK_REALTIME, &st->st_mtim);
	st->st_atim = st->st_ctim = st->st_mtim;
	n = meta_from_stat(st, meta, bufs);
	if (fs->o->put_new && !fs->p.excl_local)
		r = objfs_store_put_new(fs, path, "", 0, meta, n, &a);
	else
		r = objfs_store_put(fs, path, "", 0, meta, n, &a);
	if (r == -EEXIST) {
		cache_drop(&fs->cache, path);
		return r;
	}
	if (r < 0)
		return objfs_fail(fs, "put", path, r);
	cache_put(&fs->cache, path, 1, st, a.etag, fs->p.ttl, 0);
	return 0;
}

int objfs_mknod(void *mnt, const char *path, mode_t mode, dev_t rdev,
		const struct scopefs_caller *who, struct stat *st)
{
	void *fh;
	int r;

	if (S_ISFIFO(mode) || S_ISSOCK(mode) || S_ISCHR(mode) ||
	    S_ISBLK(mode))
		return make_special(mnt, path, mode, rdev, who, st);
	if (!S_ISREG(mode))
		return -EPERM;
	r = objfs_create(mnt, path, O_WRONLY | O_EXCL, mode, who, &fh, st);
	if (r == 0) {
		r = objfs_flush(mnt, fh);
		objfs_release(mnt, fh);
	}
	return r;
}

ssize_t objfs_read(void *mnt, void *fh, void *buf, size_t size, off_t off)
{
	struct objfs *fs = mnt;
	struct ofile *of = ((struct ofh *)fh)->of;
	ssize_t r;

	lock_settled(of);
	switch (of->state) {
	case OF_STAGED:
		r = pread(of->fd, buf, size, off);
		if (r < 0)
			r = -errno;
		break;
	case OF_STREAM:
		/* Readable only while nothing has left for the store. */
		r = stage_begin(fs, of);
		if (r == 0 && (r = pread(of->fd, buf, size, off)) < 0)
			r = -errno;
		break;
	default:
		r = ra_read(fs, of, buf, size, (uint64_t)off);
	}
	ofile_unlock(of);
	return r;
}

ssize_t objfs_write(void *mnt, void *fh, const void *buf, size_t size,
		    off_t off)
{
	struct objfs *fs = mnt;
	struct ofh *h = fh;
	struct ofile *of = h->of;
	uint64_t end;
	int r = 0;

	lock_settled(of);
	if (h->flags & O_APPEND)
		off = of->st.st_size;
	end = (uint64_t)off + size;
	if (of->state == OF_STREAM &&
	    (uint64_t)off < of->streamed + of->buflen) {
		/* A rewrite: stage if still can.  If not (parts have left),
		 * the upload can no longer hold what the file was made to
		 * say: fail it too, so that close reports EIO and the
		 * previous object stays, instead of storing the file
		 * without this write. */
		if ((r = stage_begin(fs, of)) < 0)
			of->err = r;
	} else if (of->state == OF_CLEAN)
		r = stage_begin(fs, of);
	if (r == 0 && of->state == OF_STREAM)
		r = stream_write(fs, of, buf, size, (uint64_t)off);
	else if (r == 0)
		r = pwrite(of->fd, buf, size, off) == (ssize_t)size ? 0 : -EIO;
	if (r == 0) {
		if (end > (uint64_t)of->st.st_size)
			of->st.st_size = (off_t)end;
		of->dirty = 1;
		touch(of);
	}
	ofile_unlock(of);
	return r < 0 ? r : (ssize_t)size;
}

int objfs_truncate(void *mnt, const char *path, void *fh, off_t size)
{
	struct objfs *fs = mnt;
	struct ofile *of = fh ? ((struct ofh *)fh)->of : NULL;
	int r = 0, own = 0, fresh, same = 0;

	if (!of && path && (of = ofile_find(fs, path)))
		own = 1;
	if (!of) {
		char etag[SCOPEFS_ETAG_MAX];
		struct stat st;
		if ((r = obj_stat(fs, path, &st, etag)) < 0)
			return r;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		if (!(of = ofile_get(fs, path, &st, etag, 1, &fresh)))
			return -ENOMEM;
		own = 1;
	}
	lock_settled(of);
	if (size == 0) {
		r = start_empty(fs, of, O_RDWR);
	} else if (size != of->st.st_size) {
		if (of->state == OF_STREAM &&
		    (uint64_t)size > of->streamed + of->buflen)
			r = stream_write(fs, of, "", 0, (uint64_t)size);
		else
			r = stage_begin(fs, of);
		if (r == 0 && of->state == OF_STAGED &&
		    ftruncate(of->fd, size) < 0)
			r = -errno;
		if (r == 0) {
			of->st.st_size = size;
			of->dirty = 1;
			touch(of);
		}
	} else {
		same = 1;
	}
	/* truncate(2) without an open file: nobody will close it. */
	if (r == 0 && !fh)
		r = sync_locked(fs, of);
	ofile_unlock(of);
	if (own)
		ofile_put(fs, of);
	if (r == 0 && same && fh) {
		/* ftruncate(2) to the size the file has: Linux moves the
		 * mtime all the same, and the kernel leaves that to us. */
		static const struct timespec now[2] = { { 0, UTIME_OMIT },
							{ 0, UTIME_NOW } };
		r = objfs_fs_ops.utimens(mnt, NULL, fh, now);
	}
	return r;
}

/* A reader's close stores nothing: the file's one open state may hold a
 * writer's bytes half-way, which that writer's own close stores whole.
 * (O_RDONLY with O_CREAT or O_TRUNC may have changed the file itself.) */
static int reader(const struct ofh *h)
{
	return (h->flags & O_ACCMODE) == O_RDONLY &&
	       !(h->flags & (O_CREAT | O_TRUNC));
}

int objfs_flush(void *mnt, void *fh)
{
	struct ofh *h = fh;

	return reader(h) ? 0 : ofile_sync(mnt, h->of);
}

int objfs_fsync(void *mnt, void *fh, int datasync)
{
	(void)datasync;
	return ofile_sync(mnt, ((struct ofh *)fh)->of);
}

int objfs_release(void *mnt, void *fh)
{
	struct objfs *fs = mnt;
	struct ofh *h = fh;
	int r = reader(h) ? 0 : ofile_sync(fs, h->of);

	ofile_put(fs, h->of);
	free(h);
	return r;
}
