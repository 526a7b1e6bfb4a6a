/* objfs_internal: what the object layer's files share.  Nothing outside
 * core/objfs*.c includes this. */
#ifndef SCOPEFS_OBJFS_INTERNAL_H
#define SCOPEFS_OBJFS_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include "objfs.h"

#define DEF_FILE_MODE (S_IFREG | 0644)
#define DEF_DIR_MODE (S_IFDIR | 0755)

/* ---- the attribute, entry and negative cache (objfs_cache.c) ---- */

struct centry {
	struct centry *next;
	char *path;
	uint32_t hash;
	int exists;          /* 0: a cached "no such file or directory" */
	struct stat st;
	char etag[SCOPEFS_ETAG_MAX];
	double expires;      /* monotonic seconds */
	double ttl;          /* it was put for this long */
	int by_head;         /* from a lookup's HEAD no open has used yet */
	double listed_until; /* dir: every child is cached until then */
	int small;           /* dir: its last full listing was one page */
	int from_list;       /* 1: attributes from a listing, no metadata;
			      * 2: known to exist, attributes unknown */
};

struct cache {
	pthread_mutex_t lock;
	struct centry **b;
	size_t nb, count;
};

int cache_init(struct cache *c);
void cache_destroy(struct cache *c);
/* Copy the fresh entry for PATH into *out; 1 found, 0 not cached. */
int cache_get(struct cache *c, const char *path, struct centry *out);
/* The same, expired entries included (for metadata still valid when the
 * ETag has not changed). */
int cache_peek(struct cache *c, const char *path, struct centry *out);
void cache_put(struct cache *c, const char *path, int exists,
	       const struct stat *st, const char *etag, double ttl,
	       int from_list);
/* Mark directory PATH as completely listed by a listing that began at
 * SINCE (now_mono()), for ttl seconds from then. */
void cache_set_listed(struct cache *c, const char *path, double since,
		      double ttl, int small);
/* Was the parent of PATH last listed in one page (even if that is no
 * longer fresh)?  Then listing it again is the cheapest lookup. */
int cache_parent_small(struct cache *c, const char *path, char *parent,
		       size_t size);
/* Is PATH a child of a directory whose listing is cached in full? Then
 * a miss means "does not exist", for the seconds returned (0: no). */
double cache_parent_listed(struct cache *c, const char *path);
/* A lookup's HEAD of PATH: mark its entry (just put) as one that the
 * open to follow may use instead of asking again. */
void cache_mark_head(struct cache *c, const char *path);
/* Take that HEAD's entry if it is under WITHIN seconds old; only once, so
 * that one HEAD never serves two opens. */
int cache_take_head(struct cache *c, const char *path, double within,
		    struct centry *out);
void cache_drop(struct cache *c, const char *path);
/* Drop PATH and everything below it. */
void cache_drop_tree(struct cache *c, const char *path);
/* The object under PATH was rewritten by a copy: its entry, if any, now
 * has the copy's ETAG (stores give a copy a new one: GCS and Azure
 * always), or a conditional read of it would fail as stale. */
void cache_set_etag(struct cache *c, const char *path, const char *etag);
/* Entries below FROM/ become entries below TO/ (a directory moved). */
void cache_move_tree(struct cache *c, const char *from, const char *to);
/* Forget that the parent of PATH was listed in full (a child changed). */
void cache_unlist_parent(struct cache *c, const char *path);
double now_mono(void);

/* ---- worker threads and the memory budget (objfs_pool.c) ---- */

struct job {
	struct job *next;
	void (*fn)(struct job *);
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	pthread_t *threads;
	unsigned nthreads;
	int stop;
	/* Bytes of buffers (parts in flight, readahead) in use. */
	uint64_t budget, used;
	pthread_cond_t budget_cond;
	int64_t *used_gauge; /* the metrics' copy of used, or NULL */
};

int pool_start(struct pool *p, unsigned nthreads, uint64_t budget);
void pool_stop(struct pool *p);
void pool_submit(struct pool *p, struct job *j);
/* Take n bytes of budget: wait for it, or fail at once (0) if !wait. */
int budget_take(struct pool *p, uint64_t n, int wait);
void budget_give(struct pool *p, uint64_t n);

/* ---- open files (objfs_file.c, objfs_write.c, objfs_read.c) ---- */

enum ofile_state {
	OF_CLEAN,  /* the store's object, read with ranged GETs */
	OF_STREAM, /* new content written sequentially: multipart streaming */
	OF_STAGED, /* a full local copy in cache_dir, uploaded on close */
};

/* A readahead chunk: [off, off+len) of the object, filled by a job. */
struct ra_chunk {
	struct job job;
	struct ofile *of;
	uint64_t off;
	size_t len, got;
	char *buf;
	void *buf_owner; /* the loading job's context */
	int state; /* 0 empty, 1 loading, 2 ready, <0 -errno */
};

enum { RA_CHUNKS = 8 };

struct part_job {
	struct job job;
	struct ofile *of;
	uint32_t number;
	char *buf;
	size_t len;
};

struct ofile {
	struct ofile *next;  /* in objfs.files */
	char *path;          /* current name: renames update it */
	int refs;            /* open handles (+1 while a job runs) */
	pthread_mutex_t lock;
	pthread_cond_t cond;

	enum ofile_state state;
	int in_store;        /* the base object exists in the store */
	int dirty;           /* changes not yet in the store */
	int unlinked;        /* removed while open: never upload */
	int superseded;      /* another machine stored a newer version: new
			      * opens get a new ofile (under fs->lock) */
	int meta_dirty;      /* mode/owner/times changed while open (since
			      * the multipart upload began, if one has) */
	int failed;          /* a streamed upload failed: its bytes are gone,
			      * every later close/fsync says EIO */
	struct stat st;      /* attributes, st_size the logical size */
	char etag[SCOPEFS_ETAG_MAX]; /* of the base object */
	/* What stat and readdir show: st and etag as they were when lock was
	 * last released (ofile_unlock) or waited on (ofile_show).  Guarded by
	 * alock alone, a leaf lock, so that a stat never waits for a
	 * transfer that holds lock. */
	pthread_mutex_t alock;
	struct stat shown_st;
	char shown_etag[SCOPEFS_ETAG_MAX];

	/* OF_STREAM */
	void *upload;        /* the plugin's multipart upload, or NULL */
	uint32_t next_part;
	char *buf;           /* the part being filled */
	size_t buflen;
	uint64_t streamed;   /* bytes already handed to parts */
	int inflight;        /* parts being uploaded */
	int syncing;         /* a sync runs (it may be waiting on cond) */
	int err;             /* first failure of a part, -errno */
	/* A multipart upload takes its metadata when it is created, from
	 * of->st as it was then; its mtime then was upload_mtime. */
	int upload_meta;
	struct timespec upload_mtime;

	/* OF_STAGED */
	int fd;

	/* Reading in OF_CLEAN: sequential detection and readahead. */
	uint64_t seq_next;   /* where a sequential reader reads next */
	uint64_t window;     /* current readahead window */
	struct ra_chunk ra[RA_CHUNKS];
};

struct ofh {
	struct ofile *of;
	int flags;
};

struct objfs {
	const struct scopefs_object_ops *o;
	void *pm; /* the plugin's mount */
	struct objfs_params p; /* p.cache_dir and p.label point below */
	char cache_dir[PATH_MAX];
	char label[320];
	struct timespec started; /* shown for directories with no marker */
	struct cache cache;
	struct pool pool;
	pthread_mutex_t lock; /* files list */
	struct ofile *files;
	uint64_t part_size;
};

/* objfs_store.c: every call to the plugin, cleared, counted, timed. */
int objfs_store_head(struct objfs *fs, const char *key,
	       struct scopefs_object_attr *a, scopefs_meta_fn meta, void *ctx);
ssize_t objfs_store_get(struct objfs *fs, const char *key, uint64_t off, void *buf,
		  size_t len, const char *if_etag);
int objfs_store_put(struct objfs *fs, const char *key, const void *buf, size_t len,
	      const struct scopefs_object_meta *meta, size_t nmeta,
	      struct scopefs_object_attr *out);
int objfs_store_put_new(struct objfs *fs, const char *key, const void *buf,
		  size_t len, const struct scopefs_object_meta *meta,
		  size_t nmeta, struct scopefs_object_attr *out);
int objfs_store_list(struct objfs *fs, const char *prefix, const char *delimiter,
	       char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx);
int objfs_store_remove(struct objfs *fs, const char *key);
int objfs_store_copy(struct objfs *fs, const char *from, const char *to,
	       const struct scopefs_object_meta *meta, size_t nmeta,
	       struct scopefs_object_attr *out);
int objfs_store_mpu_create(struct objfs *fs, const char *key,
		     const struct scopefs_object_meta *meta, size_t nmeta,
		     void **upload);
int objfs_store_mpu_part(struct objfs *fs, void *upload, uint32_t number,
		   const void *buf, size_t len);
int objfs_store_mpu_complete(struct objfs *fs, void *upload,
		       struct scopefs_object_attr *out);
int objfs_store_mpu_abort(struct objfs *fs, void *upload);

/* objfs_file.c */
/* Publish of->st and of->etag to readers (of->lock held). */
void ofile_show(struct ofile *of);
/* ofile_show, then release of->lock: every unlock of an open file. */
void ofile_unlock(struct ofile *of);
/* The shown attributes of the open file of PATH, without a reference or
 * of->lock: 1 if PATH is open here, else 0.  etag may be NULL. */
int ofile_peek(struct objfs *fs, const char *path, struct stat *st,
	       char *etag);
/* The shown attributes of OF (a handle's). */
void ofile_attrs(struct ofile *of, struct stat *st, char *etag);
struct ofile *ofile_find(struct objfs *fs, const char *path); /* +ref */
void ofile_put(struct objfs *fs, struct ofile *of);
/* Rename open files at FROM (or below it, for a directory) to TO. */
void ofiles_rename(struct objfs *fs, const char *from, const char *to);
void ofile_set_etag(struct objfs *fs, const char *path, const char *etag);
void ofiles_unlink(struct objfs *fs, const char *path);
/* Upload what is dirty now (flush, fsync, and before a rename). */
int ofile_sync(struct objfs *fs, struct ofile *of);

/* The file half of the ops lives in objfs_file.c. */
int objfs_open_file(void *, const char *, int, void **);
int objfs_create(void *, const char *, int, mode_t,
			const struct scopefs_caller *, void **, struct stat *);
ssize_t objfs_read(void *, void *, void *, size_t, off_t);
ssize_t objfs_write(void *, void *, const void *, size_t, off_t);
int objfs_release(void *, void *);
int objfs_flush(void *, void *);
int objfs_fsync(void *, void *, int);
int objfs_truncate(void *, const char *, void *, off_t);
int objfs_mknod(void *, const char *, mode_t, dev_t,
		       const struct scopefs_caller *, struct stat *);

/* objfs_write.c */
int stream_write(struct objfs *fs, struct ofile *of, const char *buf,
		 size_t len, uint64_t off);
int stream_finish(struct objfs *fs, struct ofile *of);
void stream_abort(struct objfs *fs, struct ofile *of);
int stage_begin(struct objfs *fs, struct ofile *of);
int stage_upload(struct objfs *fs, struct ofile *of);
int upload_settle_meta(struct objfs *fs, struct ofile *of);

/* objfs_read.c */
/* LEN bytes of the version ETAG of KEY at OFF (within its size): the count,
 * or -errno; -ESTALE when the store gave fewer, since a version does not
 * shrink (a store may answer 416 for a range past the end of a newer,
 * shorter version before it checks If-Match). */
ssize_t objfs_get_version(struct objfs *fs, const char *key, uint64_t off,
			  char *buf, size_t len, const char *etag);
ssize_t ra_read(struct objfs *fs, struct ofile *of, char *buf, size_t len,
		uint64_t off);
void ra_drop(struct objfs *fs, struct ofile *of);

/* objfs_meta.c: POSIX attributes <-> user metadata */
/* The most pairs meta_from_stat gives: mode, uid, gid, mtime, ctime, and
 * rdev for a device node. */
#define META_N 6
/* The most bytes of metadata meta_from_stat gives (keys and values):
 * 24 of keys, three 10-digit ids, two 30-character times, a 20-digit
 * device number. */
#define META_MOST 134
size_t meta_from_stat(const struct stat *st,
		      struct scopefs_object_meta meta[META_N], char bufs[META_N][32]);
void stat_from_object(struct objfs *fs, struct stat *st,
		      const struct scopefs_object_attr *a, int dir);
int meta_apply(void *ctx, const char *key, const char *value);
/* HEAD the key of a file or the marker of a directory into st. */
int head_stat(struct objfs *fs, const char *key, struct stat *st,
	      char etag[SCOPEFS_ETAG_MAX], int dir);
/* objfs_dir.c: the attributes of PATH from open files, the cache or the
 * store (HEAD of the key, then a listing of "PATH/"). */
int obj_stat(struct objfs *fs, const char *path, struct stat *st,
	     char etag[SCOPEFS_ETAG_MAX]);
/* A new entry PATH of attributes ST in a set-group-ID directory takes
 * the directory's group (a directory its set-group-ID bit too). */
void inherit_group(struct objfs *fs, const char *path, struct stat *st);
/* "a/b" -> key "a/b" (file) or "a/b/" (directory marker or list prefix);
 * "." -> "" */
int obj_key(const char *path, int dir, char *key, size_t size);

/* Log a plugin failure with the plugin's own message. */
int objfs_fail(struct objfs *fs, const char *op, const char *key, int r);

#endif
