/* objfs_write: getting a file's bytes into the store.
 *
 * A file written sequentially (opened write-only, or created) streams:
 * bytes fill a part buffer, full parts upload in parallel on the pool while
 * the writer goes on, and close completes the multipart upload, so memory
 * is bounded by the parts in flight whatever the file size.  A file that
 * never fills one part goes up as a single put.  Anything else (random
 * writes, reads while writing, truncates, appends to an existing object)
 * is staged: a full local copy in cache_dir uploaded on close/fsync.
 * Until the upload completes the previous object stays as it was; a failed
 * upload is aborted and reported as EIO. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "backend.h"
#include "log.h"
#include "objfs_internal.h"

/* Part N's size: the configured size, doubled every 1000 parts so that
 * files past parts x size still fit in the store's part count (goofys
 * grows its parts the same way). */
static uint64_t part_size_for(struct objfs *fs, uint32_t number)
{
	uint64_t s = fs->part_size << ((number - 1) / 1000);

	if (fs->o->max_part_size && s > fs->o->max_part_size)
		s = fs->o->max_part_size;
	return s;
}

static void part_done(struct job *j)
{
	struct part_job *pj = (struct part_job *)j;
	struct ofile *of = pj->of;
	struct objfs *fs = NULL;
	int r;

	fs = *(struct objfs **)(pj + 1);
	host_clear_error();
	r = objfs_store_mpu_part(fs, of->upload, pj->number, pj->buf, pj->len);
	if (r < 0)
		objfs_fail(fs, "upload part", of->path, r);
	free(pj->buf);
	budget_give(&fs->pool, pj->len);
	pthread_mutex_lock(&of->lock);
	if (r < 0 && !of->err)
		of->err = r;
	of->inflight--;
	if (fs->p.metrics)
		metrics_add(&fs->p.metrics->parts_in_flight, -1);
	pthread_cond_broadcast(&of->cond);
	ofile_unlock(of);
	free(pj);
	ofile_put(fs, of);
}

/* Hand BUF (LEN bytes, malloc'd, budget taken) to the pool as the next
 * part.  Called with of->lock held. */
static int submit_part(struct objfs *fs, struct ofile *of, char *buf,
		       size_t len)
{
	struct part_job *pj;

	if (!of->upload) {
		struct scopefs_object_meta meta[META_N];
		char bufs[META_N][32];
		size_t n = meta_from_stat(&of->st, meta, bufs);
		int r;

		host_clear_error();
		r = objfs_store_mpu_create(fs, of->path, meta, n, &of->upload);
		if (r < 0) {
			of->upload = NULL;
			free(buf);
			budget_give(&fs->pool, len);
			return objfs_fail(fs, "create multipart upload",
					  of->path, r);
		}
		of->next_part = 1;
		of->upload_meta = 1;
		of->upload_mtime = of->st.st_mtim;
		of->meta_dirty = 0; /* what it has is in the upload now */
	}
	if (fs->o->max_parts && of->next_part > fs->o->max_parts) {
		log_error("%s: '%s' needs more than %u parts", fs->p.label,
			  of->path, fs->o->max_parts);
		free(buf);
		budget_give(&fs->pool, len);
		return -EFBIG;
	}
	/* The job carries the objfs pointer right after itself. */
	pj = calloc(1, sizeof *pj + sizeof fs);
	if (!pj) {
		free(buf);
		budget_give(&fs->pool, len);
		return -ENOMEM;
	}
	*(struct objfs **)(pj + 1) = fs;
	pj->job.fn = part_done;
	pj->of = of;
	pj->number = of->next_part++;
	pj->buf = buf;
	pj->len = len;
	of->inflight++;
	if (fs->p.metrics)
		metrics_add(&fs->p.metrics->parts_in_flight, 1);
	of->streamed += len;
	pthread_mutex_lock(&fs->lock);
	of->refs++; /* the job's */
	pthread_mutex_unlock(&fs->lock);
	pool_submit(&fs->pool, &pj->job);
	return 0;
}

static void wait_parts(struct ofile *of)
{
	ofile_show(of);
	while (of->inflight)
		pthread_cond_wait(&of->cond, &of->lock);
}

int stream_write(struct objfs *fs, struct ofile *of, const char *buf,
		 size_t len, uint64_t off)
{
	static const char zeros[65536];
	uint64_t end = of->streamed + of->buflen;

	if (of->err)
		return of->err;
	/* A hole ahead of the writer (lseek past the end) is zeros. */
	while (off > end) {
		size_t z = off - end > sizeof zeros ? sizeof zeros
						    : (size_t)(off - end);
		int r = stream_write(fs, of, zeros, z, end);
		if (r < 0)
			return r;
		end += z;
	}
	while (len) {
		uint64_t psize = part_size_for(fs, of->next_part ? of->next_part
								 : 1);
		size_t n;

		if (!of->buf) {
			/* Waits while too many parts are in flight: this is
			 * what bounds memory. */
			ofile_unlock(of);
			budget_take(&fs->pool, psize, 1);
			pthread_mutex_lock(&of->lock);
			if (!(of->buf = malloc(psize))) {
				budget_give(&fs->pool, psize);
				return -ENOMEM;
			}
			of->buflen = 0;
		}
		n = psize - of->buflen < len ? psize - of->buflen : len;
		memcpy(of->buf + of->buflen, buf, n);
		of->buflen += n;
		buf += n;
		len -= n;
		if (of->buflen == psize) {
			int r = submit_part(fs, of, of->buf, of->buflen);
			of->buf = NULL;
			of->buflen = 0;
			if (r < 0)
				return of->err = r;
		}
	}
	return 0;
}

static void drop_buffer(struct objfs *fs, struct ofile *of)
{
	if (of->buf) {
		free(of->buf);
		budget_give(&fs->pool,
			    part_size_for(fs, of->next_part ? of->next_part : 1));
		of->buf = NULL;
	}
	of->buflen = 0;
}

void stream_abort(struct objfs *fs, struct ofile *of)
{
	wait_parts(of);
	drop_buffer(fs, of);
	if (of->upload) {
		int r;
		host_clear_error();
		r = objfs_store_mpu_abort(fs, of->upload);
		if (r < 0)
			objfs_fail(fs, "abort multipart upload", of->path, r);
		of->upload = NULL;
	}
	of->streamed = 0;
	of->next_part = 0;
	of->err = 0;
	of->upload_meta = 0;
}

static int put_whole(struct objfs *fs, struct ofile *of, const char *buf,
		     size_t len, struct scopefs_object_attr *a)
{
	struct scopefs_object_meta meta[META_N];
	char bufs[META_N][32];
	size_t n = meta_from_stat(&of->st, meta, bufs);
	int r;

	host_clear_error();
	r = objfs_store_put(fs, of->path, buf, len, meta, n, a);
	return r < 0 ? objfs_fail(fs, "put", of->path, r) : 0;
}

static int complete(struct objfs *fs, struct ofile *of,
		    struct scopefs_object_attr *a)
{
	int r;

	wait_parts(of);
	if (of->err) {
		r = of->err;
		stream_abort(fs, of);
		return r;
	}
	host_clear_error();
	r = objfs_store_mpu_complete(fs, of->upload, a);
	of->upload = NULL;
	if (r < 0)
		objfs_fail(fs, "complete multipart upload", of->path, r);
	return r;
}

/* Called with of->lock held; on success the object is in the store. */
int stream_finish(struct objfs *fs, struct ofile *of)
{
	struct scopefs_object_attr a;
	int r;

	memset(&a, 0, sizeof a);
	if (of->err) {
		r = of->err;
		stream_abort(fs, of);
		return r;
	}
	if (!of->upload) {
		/* Never filled a part: one put. */
		r = put_whole(fs, of, of->buf ? of->buf : "", of->buflen, &a);
		drop_buffer(fs, of);
	} else {
		if (of->buflen) {
			/* The last part is short: the part job gives back
			 * its length, so the rest of its buffer's budget
			 * goes back now (else every streamed file whose
			 * size is no multiple of the part size kept some,
			 * until writes waited forever for a full budget). */
			budget_give(&fs->pool,
				    part_size_for(fs, of->next_part) -
					    of->buflen);
			r = submit_part(fs, of, of->buf, of->buflen);
			of->buf = NULL;
			of->buflen = 0;
			if (r < 0) {
				stream_abort(fs, of);
				return r;
			}
		}
		r = complete(fs, of, &a);
	}
	of->streamed = 0;
	of->next_part = 0;
	if (r == 0)
		snprintf(of->etag, sizeof of->etag, "%s", a.etag);
	return r;
}

/* After a completed multipart upload (of->lock held): the object has the
 * metadata of when the upload began, often parts before the last write.
 * Attributes set since (fchmod, fchown, futimens on the writing
 * descriptor, as cp -p does) are written now, with the mtime they leave;
 * otherwise the mtime shown becomes the one the store keeps, so that the
 * file does not change once its attributes are read back from there. */
int upload_settle_meta(struct objfs *fs, struct ofile *of)
{
	struct scopefs_object_meta meta[META_N];
	struct scopefs_object_attr a;
	char bufs[META_N][32];
	size_t n;
	int r;

	if (!of->upload_meta)
		return 0;
	of->upload_meta = 0;
	if (!of->meta_dirty) {
		of->st.st_mtim = of->st.st_ctim = of->upload_mtime;
		return 0;
	}
	if (!fs->o->copy || !(fs->o->flags & SCOPEFS_OBJ_CAN_COPY))
		return -EOPNOTSUPP; /* no way to change metadata in place */
	memset(&a, 0, sizeof a);
	n = meta_from_stat(&of->st, meta, bufs);
	host_clear_error();
	r = objfs_store_copy(fs, of->path, of->path, meta, n, &a);
	if (r < 0)
		return objfs_fail(fs, "copy (metadata)", of->path, r);
	snprintf(of->etag, sizeof of->etag, "%s", a.etag);
	return 0;
}

/* ---- staging ---- */

static int temp_file(struct objfs *fs)
{
	int fd = open(fs->p.cache_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0) {
		int e = errno;
		log_error("%s: cannot create a staging file in '%s': %s",
			  fs->p.label, fs->p.cache_dir, strerror(e));
		return -e;
	}
	return fd;
}

static int pwrite_all(int fd, const char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* Fill the staging file with the object's current bytes. */
static int download(struct objfs *fs, struct ofile *of, int fd)
{
	uint64_t size = (uint64_t)of->st.st_size, chunk = fs->part_size;
	char *buf = malloc(chunk);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (uint64_t off = 0; off < size && r == 0;) {
		size_t want = size - off < chunk ? size - off : chunk;
		ssize_t n;

		n = objfs_get_version(fs, of->path, off, buf, want, of->etag);
		if (n <= 0) {
			r = n < 0 ? (int)n : -ESTALE; /* shorter: it changed */
			break;
		}
		r = pwrite_all(fd, buf, (size_t)n, off);
		off += (uint64_t)n;
	}
	free(buf);
	return r;
}

/* Move OF to OF_STAGED (of->lock held).  From OF_STREAM only while no
 * part has left; from OF_CLEAN by downloading, unless it is empty. */
int stage_begin(struct objfs *fs, struct ofile *of)
{
	int fd, r = 0;

	if (of->state == OF_STAGED)
		return 0;
	if (of->state == OF_STREAM && (of->upload || of->streamed)) {
		log_error("%s: '%s': a non-sequential write or a read after "
			  "%llu bytes were streamed; set write_mode = stage "
			  "for files written this way", fs->p.label, of->path,
			  (unsigned long long)of->streamed);
		return -EIO;
	}
	if ((fd = temp_file(fs)) < 0)
		return fd;
	if (of->state == OF_STREAM) {
		r = pwrite_all(fd, of->buf ? of->buf : "", of->buflen, 0);
		drop_buffer(fs, of);
	} else {
		ra_drop(fs, of);
		if (of->in_store && of->st.st_size > 0)
			r = download(fs, of, fd);
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	of->fd = fd;
	of->state = OF_STAGED;
	if (fs->p.metrics)
		metrics_add(&fs->p.metrics->staged_files, 1);
	return 0;
}

/* Upload the staging file: one put when it fits one part, else a
 * multipart upload read from the file part by part. */
int stage_upload(struct objfs *fs, struct ofile *of)
{
	uint64_t size = (uint64_t)of->st.st_size;
	struct scopefs_object_attr a;
	int r = 0;

	memset(&a, 0, sizeof a);
	if (size <= fs->part_size) {
		char *buf = malloc(size ? size : 1);
		ssize_t n = 0;
		if (!buf)
			return -ENOMEM;
		if (size)
			n = pread(of->fd, buf, size, 0);
		r = n == (ssize_t)size ? put_whole(fs, of, buf, size, &a) : -EIO;
		free(buf);
	} else {
		uint64_t off = 0;
		of->next_part = 1;
		while (off < size && r == 0) {
			uint64_t psize = part_size_for(fs, of->next_part);
			size_t len = size - off < psize ? size - off : psize;
			char *buf;

			ofile_unlock(of);
			budget_take(&fs->pool, len, 1);
			pthread_mutex_lock(&of->lock);
			if (!(buf = malloc(len))) {
				budget_give(&fs->pool, len);
				r = -ENOMEM;
				break;
			}
			if (pread(of->fd, buf, len, (off_t)off) != (ssize_t)len) {
				free(buf);
				budget_give(&fs->pool, len);
				r = -EIO;
				break;
			}
			r = submit_part(fs, of, buf, len);
			off += len;
		}
		if (r < 0)
			stream_abort(fs, of);
		else
			r = complete(fs, of, &a);
		of->streamed = 0;
		of->next_part = 0;
	}
	if (r == 0)
		snprintf(of->etag, sizeof of->etag, "%s", a.etag);
	return r;
}
