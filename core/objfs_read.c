/* objfs_read: ranged GETs with readahead.  A sequential reader gets a
 * window that doubles up to readahead_max, fetched as chunks in parallel
 * on the pool ahead of it; a random reader gets exactly the bytes it asked
 * for.  Chunk buffers come out of the mount's memory budget; when it is
 * spent, reads simply go direct. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "log.h"
#include "objfs_internal.h"

enum { CHUNK = 8 << 20, FIRST_WINDOW = 1 << 20 };

struct chunk_job {
	struct ra_chunk *c;
	struct objfs *fs;
	char *key;
	char etag[SCOPEFS_ETAG_MAX];
};

ssize_t objfs_get_version(struct objfs *fs, const char *key, uint64_t off,
			  char *buf, size_t len, const char *etag)
{
	ssize_t n;

	host_clear_error();
	n = objfs_store_get(fs, key, off, buf, len, etag);
	if (n < 0)
		return objfs_fail(fs, "get", key, (int)n);
	if ((size_t)n < len && etag && etag[0]) {
		log_info("%s: get '%s': %zd bytes at %llu where its version has "
			 "%zu: it changed under an open file", fs->p.label, key,
			 n, (unsigned long long)off, len);
		return -ESTALE;
	}
	return n;
}

static void chunk_load(struct job *j)
{
	struct ra_chunk *c = (struct ra_chunk *)j;
	struct chunk_job *cj = (struct chunk_job *)c->buf_owner;
	struct ofile *of = c->of;
	struct objfs *fs = cj->fs;
	ssize_t n;

	n = objfs_get_version(fs, cj->key, c->off, c->buf, c->len, cj->etag);
	pthread_mutex_lock(&of->lock);
	c->got = n < 0 ? 0 : (size_t)n;
	c->state = n < 0 ? (int)n : 2;
	pthread_cond_broadcast(&of->cond);
	ofile_unlock(of);
	free(cj->key);
	free(cj);
	ofile_put(fs, of);
}

static void chunk_free(struct objfs *fs, struct ra_chunk *c)
{
	if (c->buf) {
		free(c->buf);
		budget_give(&fs->pool, c->len);
	}
	c->buf = NULL;
	c->state = 0;
}

/* Start loading [off, off+len) into a free slot; 0 if none or no budget.
 * Called with of->lock held. */
static int chunk_start(struct objfs *fs, struct ofile *of, uint64_t off,
		       size_t len)
{
	struct ra_chunk *c = NULL;
	struct chunk_job *cj;

	for (int i = 0; i < RA_CHUNKS && !c; i++)
		if (of->ra[i].state == 0)
			c = &of->ra[i];
	if (!c || !budget_take(&fs->pool, len, 0))
		return 0;
	cj = calloc(1, sizeof *cj);
	c->buf = malloc(len);
	if (!cj || !c->buf || !(cj->key = strdup(of->path))) {
		free(cj);
		free(c->buf);
		c->buf = NULL;
		budget_give(&fs->pool, len);
		return 0;
	}
	cj->fs = fs;
	snprintf(cj->etag, sizeof cj->etag, "%s", of->etag);
	c->buf_owner = cj;
	c->of = of;
	c->off = off;
	c->len = len;
	c->got = 0;
	c->state = 1;
	c->job.fn = chunk_load;
	pthread_mutex_lock(&fs->lock);
	of->refs++; /* the job's */
	pthread_mutex_unlock(&fs->lock);
	pool_submit(&fs->pool, &c->job);
	return 1;
}

static struct ra_chunk *chunk_at(struct ofile *of, uint64_t off)
{
	for (int i = 0; i < RA_CHUNKS; i++) {
		struct ra_chunk *c = &of->ra[i];
		if (c->state != 0 && off >= c->off && off < c->off + c->len)
			return c;
	}
	return NULL;
}

/* The end of the contiguous prefetched run that starts at OFF. */
static uint64_t prefetched_end(struct ofile *of, uint64_t off)
{
	struct ra_chunk *c;

	while ((c = chunk_at(of, off)))
		off = c->off + c->len;
	return off;
}

/* Keep [from, from + window) loading, chunk by chunk. */
static void prefetch(struct objfs *fs, struct ofile *of, uint64_t from)
{
	uint64_t size = (uint64_t)of->st.st_size;
	uint64_t stop = from + of->window;

	if (stop > size)
		stop = size;
	for (uint64_t off = prefetched_end(of, from); off < stop;) {
		size_t len = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
		if (!chunk_start(fs, of, off, len))
			break;
		off += len;
	}
}

/* Free chunks wholly behind OFF: a sequential reader is done with them. */
static void evict_behind(struct objfs *fs, struct ofile *of, uint64_t off)
{
	for (int i = 0; i < RA_CHUNKS; i++) {
		struct ra_chunk *c = &of->ra[i];
		if (c->state != 0 && c->state != 1 && c->off + c->len <= off)
			chunk_free(fs, c);
	}
}

void ra_drop(struct objfs *fs, struct ofile *of)
{
	for (int i = 0; i < RA_CHUNKS; i++) {
		struct ra_chunk *c = &of->ra[i];
		if (c->state == 1)
			ofile_show(of);
		while (c->state == 1)
			pthread_cond_wait(&of->cond, &of->lock);
		chunk_free(fs, c);
	}
	of->window = 0;
}

/* Read straight from the store without holding the file's lock. */
static ssize_t direct(struct objfs *fs, struct ofile *of, char *buf,
		      size_t len, uint64_t off)
{
	char key[PATH_MAX], etag[SCOPEFS_ETAG_MAX];
	ssize_t n;

	snprintf(key, sizeof key, "%s", of->path);
	snprintf(etag, sizeof etag, "%s", of->etag);
	ofile_unlock(of);
	n = objfs_get_version(fs, key, off, buf, len, etag);
	pthread_mutex_lock(&of->lock);
	return n;
}

ssize_t ra_read(struct objfs *fs, struct ofile *of, char *buf, size_t len,
		uint64_t off)
{
	uint64_t size = (uint64_t)of->st.st_size;
	size_t done = 0;
	int sequential;

	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	sequential = off == of->seq_next || chunk_at(of, off);
	if (!sequential) {
		of->window = 0;
	} else if (fs->p.readahead_max) {
		of->window = of->window ? of->window * 2 : FIRST_WINDOW;
		if (of->window > fs->p.readahead_max)
			of->window = fs->p.readahead_max;
		if (of->window < len)
			of->window = len;
	}
	of->seq_next = off + len;
	evict_behind(fs, of, off);
	if (of->window)
		prefetch(fs, of, off);
	while (done < len) {
		struct ra_chunk *c = chunk_at(of, off + done);
		ssize_t n;

		if (!c) {
			n = direct(fs, of, buf + done, len - done, off + done);
			if (n <= 0)
				return done ? (ssize_t)done : n;
			done += (size_t)n;
			continue;
		}
		if (c->state == 1)
			ofile_show(of);
		while (c->state == 1)
			pthread_cond_wait(&of->cond, &of->lock);
		if (c->state < 0) {
			int e = c->state;
			chunk_free(fs, c);
			return done ? (ssize_t)done : e;
		}
		if (c->state == 0)
			continue; /* freed while we waited: look again */
		{
			uint64_t in = off + done - c->off;
			size_t n2;
			if (in >= c->got)
				return (ssize_t)done; /* object shrank */
			n2 = c->got - in < len - done ? c->got - (size_t)in
						       : len - done;
			memcpy(buf + done, c->buf + in, n2);
			done += n2;
		}
	}
	if (of->window)
		prefetch(fs, of, of->seq_next);
	return (ssize_t)done;
}
