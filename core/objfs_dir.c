/* objfs_dir: the namespace of an object store as a filesystem:
 * attributes, listings, directories from prefixes and "dir/" markers,
 * rename as copy + delete, and attribute changes kept in metadata. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "backend.h"
#include "freshness.h"
#include "log.h"
#include "objfs_internal.h"

int obj_key(const char *path, int dir, char *key, size_t size)
{
	int n;

	if (strcmp(path, ".") == 0)
		n = snprintf(key, size, "%s", "");
	else
		n = snprintf(key, size, "%s%s", path, dir ? "/" : "");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void root_stat(struct objfs *fs, struct stat *st)
{
	stat_from_object(fs, st, NULL, 1);
}

/* Does anything live under "PATH/"?  Reports the marker's presence. */
struct probe {
	const char *marker;
	int any, marker_seen;
	struct scopefs_object_attr marker_attr;
};

static int probe_fn(void *ctx, const char *key, int is_prefix,
		    const struct scopefs_object_attr *a,
		    const struct scopefs_object_meta *meta, size_t nmeta)
{
	struct probe *p = ctx;

	(void)meta, (void)nmeta;
	p->any = 1;
	if (!is_prefix && strcmp(key, p->marker) == 0) {
		p->marker_seen = 1;
		p->marker_attr = *a;
	}
	return 1; /* one entry is enough */
}

static int dir_probe(struct objfs *fs, const char *path, struct stat *st)
{
	char prefix[PATH_MAX], token[SCOPEFS_TOKEN_MAX] = "";
	struct probe p = {0};
	int r;

	if ((r = obj_key(path, 1, prefix, sizeof prefix)) < 0)
		return r;
	p.marker = prefix;
	host_clear_error();
	r = objfs_store_list(fs, prefix, "/", token, probe_fn, &p);
	if (r < 0)
		return objfs_fail(fs, "list", prefix, r);
	if (!p.any)
		return -ENOENT;
	if (p.marker_seen) {
		/* An explicit directory: its marker has the mode. */
		r = head_stat(fs, prefix, st, NULL, 1);
		if (r == 0)
			return 0;
	}
	stat_from_object(fs, st, p.marker_seen ? &p.marker_attr : NULL, 1);
	return 0;
}

static int o_readdir(void *mnt, const char *path, scopefs_fill_fn fill,
		     void *ctx);

static int ignore_entry(void *ctx, const char *name, const struct stat *st)
{
	(void)ctx, (void)name, (void)st;
	return 0;
}

/* Errors that say the store did not answer, rather than what it holds
 * or allows (a listing refused with EACCES may still allow a HEAD). */
static int store_unreachable(int r)
{
	return r == -ETIMEDOUT || r == -EIO || r == -EAGAIN;
}

/* Directories up to this many entries are listed again rather than
 * probed name by name (HEAD + LIST) when a lookup misses. */
enum { RELIST_MAX = 256 };

/* List the parent of PATH again if its last listing was small. */
static int relist_parent(struct objfs *fs, const char *path)
{
	char parent[PATH_MAX];

	if (fs->p.ttl <= 0 ||
	    !cache_parent_small(&fs->cache, path, parent, sizeof parent))
		return -ENOENT;
	return o_readdir(fs, parent, ignore_entry, NULL);
}

static void count_cache(struct objfs *fs, int hit)
{
	if (fs->p.metrics)
		metrics_count(hit ? &fs->p.metrics->cache_hits
				  : &fs->p.metrics->cache_misses);
}

int obj_stat(struct objfs *fs, const char *path, struct stat *st,
	     char etag[SCOPEFS_ETAG_MAX])
{
	char tag[SCOPEFS_ETAG_MAX] = "";
	struct centry ce = {0};
	double left;
	int r;

	if (etag)
		etag[0] = '\0';
	if (strcmp(path, ".") == 0) {
		root_stat(fs, st);
		return 0;
	}
	if (ofile_peek(fs, path, st, etag))
		return 0; /* open here: never waits for its transfers */
	if (cache_get(&fs->cache, path, &ce) && ce.from_list != 2) {
		count_cache(fs, 1);
		freshness_note(ce.expires - now_mono());
		if (!ce.exists)
			return -ENOENT;
		*st = ce.st;
		if (etag)
			snprintf(etag, SCOPEFS_ETAG_MAX, "%s", ce.etag);
		return 0;
	}
	if (!ce.exists && (left = cache_parent_listed(&fs->cache, path))) {
		count_cache(fs, 1);
		freshness_note(left);
		return -ENOENT;
	}
	count_cache(fs, 0); /* the store must answer */
	if (!ce.exists && (r = relist_parent(fs, path)) == 0) {
		/* The parent fits one listing: one request answers for this
		 * name and for its siblings' lookups to come (tar x, cp -r
		 * into a directory), where HEAD + LIST answer for one. */
		int found = cache_get(&fs->cache, path, &ce);

		if (found && ce.from_list != 2) {
			freshness_note(ce.expires - now_mono());
			if (!ce.exists)
				return -ENOENT;
			*st = ce.st;
			if (etag)
				snprintf(etag, SCOPEFS_ETAG_MAX, "%s", ce.etag);
			return 0;
		}
		/* listed but attributes unknown (a small object): HEAD it */
		if (!found && cache_parent_listed(&fs->cache, path))
			return -ENOENT;
	} else if (!ce.exists && store_unreachable(r)) {
		/* The store did not answer the listing (logged there): a HEAD
		 * would wait out a second deadline for the same answer. */
		return r;
	}
	r = head_stat(fs, path, st, tag, 0);
	if (r == -ENOENT) {
		r = dir_probe(fs, path, st);
		tag[0] = '\0';
	} else if (r < 0) {
		return objfs_fail(fs, "head", path, r);
	}
	if (r == 0 && etag)
		snprintf(etag, SCOPEFS_ETAG_MAX, "%s", tag);
	if (r == 0) {
		cache_put(&fs->cache, path, 1, st, tag, fs->p.ttl, 0);
		if (tag[0])
			cache_mark_head(&fs->cache, path);
	} else if (r == -ENOENT)
		cache_put(&fs->cache, path, 0, NULL, NULL, fs->p.ttl, 0);
	return r;
}

/* As Linux filesystems do (inode_init_owner): the group of a set-group-ID
 * directory goes to what is created in it, and the bit to directories,
 * so that a shared directory stays shared below. */
void inherit_group(struct objfs *fs, const char *path, struct stat *st)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	struct stat pst;

	if (!slash)
		return; /* the mount's root: never set-group-ID here */
	snprintf(parent, sizeof parent, "%.*s", (int)(slash - path), path);
	if (obj_stat(fs, parent, &pst, NULL) < 0 || !S_ISDIR(pst.st_mode) ||
	    !(pst.st_mode & S_ISGID))
		return;
	st->st_gid = pst.st_gid;
	if (S_ISDIR(st->st_mode))
		st->st_mode |= S_ISGID;
}

static int o_getattr(void *mnt, const char *path, void *fh, struct stat *st)
{
	struct objfs *fs = mnt;

	if (fh) {
		ofile_attrs(((struct ofh *)fh)->of, st, NULL);
		return 0;
	}
	return obj_stat(fs, path, st, NULL);
}

/* ---- readdir ---- */

struct lister {
	struct objfs *fs;
	const char *dir;      /* the directory's path ("." for the root) */
	size_t prefix_len;    /* of the listed prefix */
	scopefs_fill_fn fill;
	void *ctx;
	int err;
	size_t count;
};

static void child_path(const char *dir, const char *name, char *out,
		       size_t size)
{
	if (strcmp(dir, ".") == 0)
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "%s/%s", dir, name);
}

/* Objects up to this size may be symlinks; see list_fn. */
enum { PROBE_MAX = 1024 };

static int list_fn(void *ctx, const char *key, int is_prefix,
		   const struct scopefs_object_attr *a,
		   const struct scopefs_object_meta *meta, size_t nmeta)
{
	struct lister *l = ctx;
	char name[PATH_MAX], path[PATH_MAX];
	size_t len;
	struct centry ce;
	struct stat st;
	int known = 0;

	if (strlen(key) <= l->prefix_len)
		return 0; /* the directory's own marker */
	snprintf(name, sizeof name, "%s", key + l->prefix_len);
	len = strlen(name);
	if (is_prefix && len && name[len - 1] == '/')
		name[--len] = '\0';
	/* Keys that cannot be a file name here ("a//b", "x/./y") are not
	 * shown rather than shown wrong. */
	if (!len || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	child_path(l->dir, name, path, sizeof path);
	l->count++;
	if (!is_prefix && ofile_peek(l->fs, path, &st, NULL))
		/* Open here: what this machine wrote wins over the store. */
		return l->err = l->fill(l->ctx, name, &st);
	stat_from_object(l->fs, &st, is_prefix ? NULL : a, is_prefix);
	if (nmeta) {
		st.st_ctim = (struct timespec){0, 0};
		for (size_t i = 0; i < nmeta; i++)
			meta_apply(&st, meta[i].key, meta[i].value);
		if (!st.st_ctim.tv_sec && !st.st_ctim.tv_nsec)
			st.st_ctim = st.st_mtim;
	}
	if (!is_prefix && !meta && cache_peek(&l->fs->cache, path, &ce) &&
	    ce.exists && !ce.from_list && ce.etag[0] &&
	    strcmp(ce.etag, a->etag) == 0) {
		/* The same object as when its metadata was last seen (even
		 * if that entry has expired): keep the metadata. */
		off_t size = st.st_size;
		st = ce.st;
		st.st_size = size;
		known = 1;
	} else if (!is_prefix && !meta &&
		   (a->size <= PROBE_MAX || l->fs->p.multi_user)) {
		/* A listing cannot tell a symlink (a small object marked in
		 * metadata) from a small file: leave these to a HEAD when
		 * looked up, and keep every larger file free of requests --
		 * unless other users reach the mount: the kernel would check
		 * their access against the default mode, so a file chmod 600
		 * would be theirs to read until the TTL passed. */
		cache_put(&l->fs->cache, path, 1, &st, a->etag, l->fs->p.ttl,
			  2);
		return l->err = l->fill(l->ctx, name, NULL);
	}
	/* Every child's entry is (re)written, so none expires before the
	 * directory's "listed in full" flag (cache_set_listed). */
	/* A listing says nothing of a directory's marker: keep the mode
	 * known from its marker (mkdir, chmod, an earlier HEAD). */
	if (is_prefix && cache_peek(&l->fs->cache, path, &ce) && ce.exists &&
	    S_ISDIR(ce.st.st_mode))
		st = ce.st;
	cache_put(&l->fs->cache, path, 1, &st, is_prefix ? "" : a->etag,
		  l->fs->p.ttl, !is_prefix && !meta && !known);
	l->err = l->fill(l->ctx, name, &st);
	return l->err;
}

/* Files created here and not yet uploaded are part of the listing too. */
static int list_open_files(struct objfs *fs, const char *dir,
			   scopefs_fill_fn fill, void *ctx)
{
	size_t dl = strcmp(dir, ".") == 0 ? 0 : strlen(dir) + 1;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	for (struct ofile *of = fs->files; of && !r; of = of->next) {
		const char *name = of->path + dl;
		if (of->in_store || of->unlinked || strlen(of->path) <= dl ||
		    (dl && strncmp(of->path, dir, dl - 1) != 0) ||
		    (dl && of->path[dl - 1] != '/') || strchr(name, '/'))
			continue;
		r = fill(ctx, name, &of->st);
	}
	pthread_mutex_unlock(&fs->lock);
	return r;
}

static int o_readdir(void *mnt, const char *path, scopefs_fill_fn fill,
		     void *ctx)
{
	struct objfs *fs = mnt;
	char prefix[PATH_MAX], token[SCOPEFS_TOKEN_MAX] = "";
	struct lister l = {fs, path, 0, fill, ctx, 0, 0};
	double since = now_mono();
	struct stat st;
	int r, pages = 0;

	if ((r = obj_key(path, 1, prefix, sizeof prefix)) < 0)
		return r;
	l.prefix_len = strlen(prefix);
	do {
		host_clear_error();
		r = objfs_store_list(fs, prefix, "/", token, list_fn, &l);
		if (l.err)
			return l.err;
		if (r < 0)
			return objfs_fail(fs, "list", prefix, r);
		pages++;
	} while (token[0]);
	if ((r = list_open_files(fs, path, fill, ctx)) < 0)
		return r;
	/* Every child is now cached: lookups of other names are answered
	 * "no such file" without a request until the TTL passes. */
	if (obj_stat(fs, path, &st, NULL) == 0) {
		if (strcmp(path, ".") == 0)
			cache_put(&fs->cache, path, 1, &st, "", fs->p.ttl, 0);
		cache_set_listed(&fs->cache, path, since, fs->p.ttl,
				 pages == 1 && l.count <= RELIST_MAX);
	}
	return 0;
}

/* ---- directories ---- */

static void now_ts(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

/* Write the marker of directory PATH with the attributes in st. */
static int put_marker(struct objfs *fs, const char *path,
		      const struct stat *st)
{
	struct scopefs_object_meta meta[META_N];
	char bufs[META_N][32], key[PATH_MAX];
	struct scopefs_object_attr a;
	size_t n = meta_from_stat(st, meta, bufs);
	int r;

	if ((r = obj_key(path, 1, key, sizeof key)) < 0)
		return r;
	host_clear_error();
	r = objfs_store_put(fs, key, "", 0, meta, n, &a);
	return r < 0 ? objfs_fail(fs, "put", key, r) : 0;
}

static int o_mkdir(void *mnt, const char *path, mode_t mode,
		   const struct scopefs_caller *who, struct stat *st)
{
	struct objfs *fs = mnt;
	double since = now_mono();
	int r;

	stat_from_object(fs, st, NULL, 1);
	st->st_mode = S_IFDIR | (mode & 07777);
	st->st_uid = who->uid;
	st->st_gid = who->gid;
	inherit_group(fs, path, st);
	now_ts(&st->st_mtim);
	st->st_ctim = st->st_atim = st->st_mtim;
	if ((r = put_marker(fs, path, st)) < 0)
		return r;
	cache_put(&fs->cache, path, 1, st, "", fs->p.ttl, 0);
	/* A new directory is empty: it is "listed" from the start. */
	cache_set_listed(&fs->cache, path, since, fs->p.ttl, 1);
	return 0;
}

/* Count the entries under "PATH/" other than its marker, up to 1. */
struct emptiness {
	const char *marker;
	int others, marker_seen;
};

static int empty_fn(void *ctx, const char *key, int is_prefix,
		    const struct scopefs_object_attr *a,
		    const struct scopefs_object_meta *meta, size_t nmeta)
{
	struct emptiness *e = ctx;

	(void)a, (void)meta, (void)nmeta;
	if (!is_prefix && strcmp(key, e->marker) == 0) {
		e->marker_seen = 1;
		return 0;
	}
	e->others = 1;
	return 1;
}

static int open_below(struct objfs *fs, const char *path)
{
	size_t l = strlen(path);
	int found = 0;

	pthread_mutex_lock(&fs->lock);
	for (struct ofile *of = fs->files; of && !found; of = of->next)
		found = !of->unlinked && strncmp(of->path, path, l) == 0 &&
			of->path[l] == '/';
	pthread_mutex_unlock(&fs->lock);
	return found;
}

/* Upload every open file below directory PATH, before it moves.  The
 * files are gathered with a reference each under fs->lock and synced
 * after it is released: the list may change meanwhile (a file opened or
 * closed), and a sync must not hold fs->lock across store I/O. */
static int sync_below(struct objfs *fs, const char *path)
{
	size_t l = strlen(path), n = 0, cap = 0;
	struct ofile **v = NULL;
	int r = 0;

	pthread_mutex_lock(&fs->lock);
	for (struct ofile *of = fs->files; of && r == 0; of = of->next) {
		if (of->unlinked || strncmp(of->path, path, l) != 0 ||
		    of->path[l] != '/')
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct ofile **nv = realloc(v, c * sizeof *v);
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
			cap = c;
		}
		of->refs++;
		v[n++] = of;
	}
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; i < n; i++) {
		int s = r == 0 ? ofile_sync(fs, v[i]) : 0;
		if (s < 0 && r == 0)
			r = s; /* its bytes are not in the store: do not move */
		ofile_put(fs, v[i]);
	}
	free(v);
	return r;
}

static int dir_emptiness(struct objfs *fs, const char *path,
			 struct emptiness *e, char *prefix, size_t size)
{
	char token[SCOPEFS_TOKEN_MAX] = "";
	int r;

	if ((r = obj_key(path, 1, prefix, size)) < 0)
		return r;
	memset(e, 0, sizeof *e);
	e->marker = prefix;
	do {
		host_clear_error();
		r = objfs_store_list(fs, prefix, "/", token, empty_fn, e);
		if (r < 0)
			return objfs_fail(fs, "list", prefix, r);
	} while (token[0] && !e->others);
	if (open_below(fs, path))
		e->others = 1;
	return 0;
}

static int o_rmdir(void *mnt, const char *path)
{
	struct objfs *fs = mnt;
	char prefix[PATH_MAX];
	struct emptiness e;
	struct stat st;
	int r;

	if ((r = obj_stat(fs, path, &st, NULL)) < 0)
		return r;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if ((r = dir_emptiness(fs, path, &e, prefix, sizeof prefix)) < 0)
		return r;
	if (e.others)
		return -ENOTEMPTY;
	if (e.marker_seen) {
		host_clear_error();
		if ((r = objfs_store_remove(fs, prefix)) < 0)
			return objfs_fail(fs, "delete", prefix, r);
	}
	cache_drop_tree(&fs->cache, path);
	cache_put(&fs->cache, path, 0, NULL, NULL, fs->p.ttl, 0);
	return 0;
}

static int o_unlink(void *mnt, const char *path)
{
	struct objfs *fs = mnt;
	struct ofile *of = ofile_find(fs, path);
	struct stat st;
	int r, local_only = 0;

	if (of) {
		pthread_mutex_lock(&of->lock);
		local_only = !of->in_store;
		ofile_unlock(of);
		ofile_put(fs, of);
	} else if ((r = obj_stat(fs, path, &st, NULL)) < 0) {
		return r;
	} else if (S_ISDIR(st.st_mode)) {
		return -EISDIR;
	}
	/* Open handles keep their data but must never upload it again. */
	ofiles_unlink(fs, path);
	if (!local_only) {
		host_clear_error();
		r = objfs_store_remove(fs, path);
		if (r < 0)
			return objfs_fail(fs, "delete", path, r);
	}
	cache_put(&fs->cache, path, 0, NULL, NULL, fs->p.ttl, 0);
	return 0;
}

static int o_symlink(void *mnt, const char *target, const char *path,
		     const struct scopefs_caller *who, struct stat *st)
{
	struct objfs *fs = mnt;
	struct scopefs_object_meta meta[META_N];
	struct scopefs_object_attr a;
	char bufs[META_N][32];
	size_t n;
	int r;

	stat_from_object(fs, st, NULL, 0);
	st->st_mode = S_IFLNK | 0777;
	st->st_uid = who->uid;
	st->st_gid = who->gid;
	inherit_group(fs, path, st);
	st->st_size = (off_t)strlen(target);
	now_ts(&st->st_mtim);
	st->st_ctim = st->st_atim = st->st_mtim;
	n = meta_from_stat(st, meta, bufs);
	host_clear_error();
	r = objfs_store_put(fs, path, target, strlen(target), meta, n, &a);
	if (r < 0)
		return objfs_fail(fs, "put", path, r);
	cache_put(&fs->cache, path, 1, st, a.etag, fs->p.ttl, 0);
	return 0;
}

static int o_readlink(void *mnt, const char *path, char *buf, size_t size)
{
	struct objfs *fs = mnt;
	ssize_t n;

	host_clear_error();
	n = objfs_store_get(fs, path, 0, buf, size, NULL);
	if (n < 0)
		return objfs_fail(fs, "get", path, (int)n);
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return 0;
}

/* ---- rename ---- */

/* Copy KEY to the same key with TO's prefix, for a directory move. */
struct mover {
	struct objfs *fs;
	const char *from, *to; /* "a/" -> "b/" */
	char **keys;
	size_t n, cap;
	int err;
};

static int collect_fn(void *ctx, const char *key, int is_prefix,
		      const struct scopefs_object_attr *a,
		      const struct scopefs_object_meta *meta, size_t nmeta)
{
	struct mover *m = ctx;

	(void)a, (void)meta, (void)nmeta, (void)is_prefix;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 256;
		char **k = realloc(m->keys, cap * sizeof *k);
		if (!k)
			return m->err = -ENOMEM;
		m->keys = k;
		m->cap = cap;
	}
	if (!(m->keys[m->n] = strdup(key)))
		return m->err = -ENOMEM;
	m->n++;
	return 0;
}

static int move_key(struct objfs *fs, const char *from, const char *to,
		    struct scopefs_object_attr *a)
{
	int r;

	host_clear_error();
	r = objfs_store_copy(fs, from, to, NULL, 0, a);
	if (r < 0)
		return objfs_fail(fs, "copy", from, r);
	host_clear_error();
	r = objfs_store_remove(fs, from);
	return r < 0 ? objfs_fail(fs, "delete", from, r) : 0;
}

/* Move every object below directory FROM to TO.  Not atomic: a failure
 * half-way leaves some objects moved, and says so. */
static int move_tree(struct objfs *fs, const char *from, const char *to)
{
	char fp[PATH_MAX], tp[PATH_MAX], token[SCOPEFS_TOKEN_MAX] = "";
	struct mover m = {fs, fp, tp, NULL, 0, 0, 0};
	size_t fl;
	int r = 0;

	if ((r = obj_key(from, 1, fp, sizeof fp)) < 0 ||
	    (r = obj_key(to, 1, tp, sizeof tp)) < 0)
		return r;
	fl = strlen(fp);
	do {
		host_clear_error();
		r = objfs_store_list(fs, fp, NULL, token, collect_fn, &m);
		if (m.err)
			r = m.err;
		if (r < 0) {
			objfs_fail(fs, "list", fp, r);
			goto out;
		}
	} while (token[0]);
	for (size_t i = 0; i < m.n && r == 0; i++) {
		char dst[PATH_MAX];

		if (snprintf(dst, sizeof dst, "%s%s", tp, m.keys[i] + fl) >=
		    (int)sizeof dst) {
			r = -ENAMETOOLONG;
			break;
		}
		struct scopefs_object_attr a = {0};
		r = move_key(fs, m.keys[i], dst, &a);
		if (r == 0) { /* before the renames: still the old name */
			ofile_set_etag(fs, m.keys[i], a.etag);
			cache_set_etag(&fs->cache, m.keys[i], a.etag);
		}
		if (r < 0)
			log_error("%s: rename of directory '%s' to '%s' "
				  "stopped after %zu of %zu objects",
				  fs->p.label, from, to, i, m.n);
	}
out:
	for (size_t i = 0; i < m.n; i++)
		free(m.keys[i]);
	free(m.keys);
	return r;
}

static int rename_dir(struct objfs *fs, const char *from, const char *to,
		      const struct stat *src, const struct stat *dst,
		      int dst_exists)
{
	char prefix[PATH_MAX];
	struct emptiness e;
	int r;

	if (dst_exists) {
		if (!S_ISDIR(dst->st_mode))
			return -ENOTDIR;
		if ((r = dir_emptiness(fs, to, &e, prefix, sizeof prefix)) < 0)
			return r;
		if (e.others)
			return -ENOTEMPTY;
	}
	/* Open files below FROM go to the store first, then follow. */
	if ((r = sync_below(fs, from)) < 0)
		return r;
	r = move_tree(fs, from, to);
	cache_drop_tree(&fs->cache, to);
	if (r == 0)
		cache_move_tree(&fs->cache, from, to);
	cache_drop_tree(&fs->cache, from);
	cache_unlist_parent(&fs->cache, to);
	if (r == 0) {
		ofiles_rename(fs, from, to);
		/* its marker moved with it: so do its mode and owner */
		cache_put(&fs->cache, from, 0, NULL, NULL, fs->p.ttl, 0);
		cache_put(&fs->cache, to, 1, src, "", fs->p.ttl, 0);
	}
	return r;
}

static int o_rename(void *mnt, const char *from, const char *to,
		    unsigned int flags)
{
	struct objfs *fs = mnt;
	struct scopefs_object_attr a;
	struct stat src, dst;
	struct ofile *of;
	int r, dst_exists;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL; /* RENAME_EXCHANGE cannot be made atomic */
	if (!fs->o->copy || !(fs->o->flags & SCOPEFS_OBJ_CAN_COPY))
		return -EXDEV; /* mv then copies and deletes itself */
	if ((r = obj_stat(fs, from, &src, NULL)) < 0)
		return r;
	r = obj_stat(fs, to, &dst, NULL);
	if (r < 0 && r != -ENOENT)
		return r;
	dst_exists = r == 0;
	if (dst_exists && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	if (S_ISDIR(src.st_mode))
		return rename_dir(fs, from, to, &src, &dst, dst_exists);
	if (dst_exists && S_ISDIR(dst.st_mode))
		return -EISDIR;

	/* Open files of the old target keep their bytes (staged now). */
	if (dst_exists)
		ofiles_unlink(fs, to);
	of = ofile_find(fs, from);
	if (of) {
		/* The data goes to the store under the old name first;
		 * a file that never reached the store just moves. */
		int in_store;
		if ((r = ofile_sync(fs, of)) < 0) {
			ofile_put(fs, of);
			return r;
		}
		pthread_mutex_lock(&of->lock);
		in_store = of->in_store;
		ofile_unlock(of);
		ofile_put(fs, of);
		if (!in_store) {
			host_clear_error();
			if (dst_exists && (r = objfs_store_remove(fs, to)) < 0)
				return objfs_fail(fs, "delete", to, r);
			ofiles_rename(fs, from, to);
			cache_put(&fs->cache, from, 0, NULL, NULL, fs->p.ttl, 0);
			cache_drop(&fs->cache, to);
			return 0;
		}
	}
	memset(&a, 0, sizeof a);
	if ((r = move_key(fs, from, to, &a)) < 0)
		return r;
	ofiles_rename(fs, from, to);
	ofile_set_etag(fs, to, a.etag);
	cache_put(&fs->cache, from, 0, NULL, NULL, fs->p.ttl, 0);
	/* The copy kept the source's metadata: its attributes move too. */
	cache_put(&fs->cache, to, 1, &src, a.etag, fs->p.ttl, 0);
	return 0;
}

/* ---- attributes ---- */

/* Store new attributes of PATH: in the open file if it will upload
 * anyway, else in the object's metadata (a copy onto itself). */
static int set_attrs(struct objfs *fs, const char *path, void *fh,
		     void (*change)(struct stat *, const void *),
		     const void *arg)
{
	struct ofile *of = fh ? ((struct ofh *)fh)->of : NULL;
	struct scopefs_object_meta meta[META_N];
	struct scopefs_object_attr a = {0};
	char bufs[META_N][32], key[PATH_MAX];
	struct stat st;
	size_t n;
	int r;

	if (of || (path && (of = ofile_find(fs, path)))) {
		int pending;
		pthread_mutex_lock(&of->lock);
		change(&of->st, arg);
		pending = of->dirty || !of->in_store || of->unlinked;
		of->meta_dirty = 1;
		st = of->st;
		snprintf(key, sizeof key, "%s", of->path);
		ofile_unlock(of);
		if (!fh)
			ofile_put(fs, of);
		if (pending)
			return 0; /* goes up with the data */
		path = key;
	} else if ((r = obj_stat(fs, path, &st, NULL)) < 0) {
		return r;
	} else {
		change(&st, arg);
	}
	if (S_ISDIR(st.st_mode)) {
		r = put_marker(fs, path, &st);
	} else if (!fs->o->copy || !(fs->o->flags & SCOPEFS_OBJ_CAN_COPY)) {
		/* Metadata changes by copying the object onto itself; a
		 * store without copy keeps what the file was created with. */
		return -EOPNOTSUPP;
	} else {
		n = meta_from_stat(&st, meta, bufs);
		host_clear_error();
		r = objfs_store_copy(fs, path, path, meta, n, &a);
		if (r < 0)
			objfs_fail(fs, "copy (metadata)", path, r);
		else
			ofile_set_etag(fs, path, a.etag);
	}
	if (r == 0)
		cache_put(&fs->cache, path, 1, &st,
			  S_ISDIR(st.st_mode) ? "" : a.etag, fs->p.ttl, 0);
	else
		cache_drop(&fs->cache, path);
	return r;
}

static void chmod_fn(struct stat *st, const void *arg)
{
	st->st_mode = (st->st_mode & S_IFMT) | (*(const mode_t *)arg & 07777);
	now_ts(&st->st_ctim);
}

static int o_chmod(void *mnt, const char *path, void *fh, mode_t mode)
{
	return set_attrs(mnt, path, fh, chmod_fn, &mode);
}

struct owner {
	uid_t uid;
	gid_t gid;
};

static void chown_fn(struct stat *st, const void *arg)
{
	const struct owner *o = arg;

	if (o->uid != (uid_t)-1)
		st->st_uid = o->uid;
	if (o->gid != (gid_t)-1)
		st->st_gid = o->gid;
	now_ts(&st->st_ctim);
}

static int o_chown(void *mnt, const char *path, void *fh, uid_t uid,
		   gid_t gid)
{
	struct owner o = {uid, gid};

	return set_attrs(mnt, path, fh, chown_fn, &o);
}

static void times_fn(struct stat *st, const void *arg)
{
	const struct timespec *ts = arg;
	struct timespec now;

	now_ts(&now);
	for (int i = 0; i < 2; i++) {
		struct timespec *t = i ? &st->st_mtim : &st->st_atim;
		if (ts[i].tv_nsec == UTIME_OMIT)
			continue;
		*t = ts[i].tv_nsec == UTIME_NOW ? now : ts[i];
	}
	st->st_ctim = now;
}

static int o_utimens(void *mnt, const char *path, void *fh,
		     const struct timespec ts[2])
{
	if (ts[1].tv_nsec == UTIME_OMIT) {
		/* Only atime, which objects do not keep: nothing to store. */
		return 0;
	}
	return set_attrs(mnt, path, fh, times_fn, ts);
}

static int o_statfs(void *mnt, const char *path, struct statvfs *sv)
{
	(void)mnt, (void)path;
	memset(sv, 0, sizeof *sv);
	/* Object stores have no fixed size: report plenty, like s3fs. */
	sv->f_bsize = sv->f_frsize = 4096;
	sv->f_blocks = sv->f_bfree = sv->f_bavail = 1ULL << 40;
	sv->f_files = sv->f_ffree = sv->f_favail = 1ULL << 32;
	sv->f_namemax = 1024;
	return 0;
}

static int o_link(void *mnt, const char *from, const char *to,
		  struct stat *st)
{
	(void)mnt, (void)from, (void)to, (void)st;
	return -EPERM; /* what link(2) says where hard links do not exist */
}

const struct scopefs_fs_ops objfs_fs_ops = {
	.struct_size = sizeof(struct scopefs_fs_ops),
	.getattr = o_getattr,
	.readdir = o_readdir,
	.open = objfs_open_file,
	.create = objfs_create,
	.read = objfs_read,
	.write = objfs_write,
	.release = objfs_release,
	.flush = objfs_flush,
	.fsync = objfs_fsync,
	.truncate = objfs_truncate,
	.mkdir = o_mkdir,
	.mknod = objfs_mknod,
	.unlink = o_unlink,
	.rmdir = o_rmdir,
	.rename = o_rename,
	.symlink = o_symlink,
	.readlink = o_readlink,
	.link = o_link,
	.chmod = o_chmod,
	.chown = o_chown,
	.utimens = o_utimens,
	.statfs = o_statfs,
};
