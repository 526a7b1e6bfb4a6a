/* store_walk: list, walk and remove through the plugin ABI (see the
 * header).  Everything runs on the caller's thread, one plugin call at a
 * time, so no thread model needs a lock here.  No callback of ours calls
 * back into the plugin while the plugin is inside list or readdir: each
 * page or directory is gathered first and handed on afterwards. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "log.h"
#include "store_walk.h"

/* Deeper than this is a loop or a hostile tree, not data. */
enum { MAX_DEPTH = 512 };

static int fail(const struct store *s, char *err, size_t errlen,
		const char *op, const char *key, int r)
{
	const char *why = host_last_error();

	snprintf(err, errlen, "backend %s: %s '%s': %s", s->be->cfg->name, op,
		 key, *why ? why : strerror(-r));
	host_clear_error();
	return r;
}

int store_open(struct store *s, struct backend *be, int writable, char *err,
	       size_t errlen)
{
	const struct plugin *p = be->plugin;
	int r;

	memset(s, 0, sizeof *s);
	s->be = be;
	s->writable = writable;
	s->object = p->has_obj;
	if (!p->has_obj && !p->has_fs) {
		snprintf(err, errlen, "backend %s: plugin %s has no operations "
			 "this core can use", be->cfg->name, p->desc.name);
		return -ENOTSUP;
	}
	host_clear_error();
	r = p->desc.mount_open(be->handle, "",
			       writable ? 0 : SCOPEFS_MOUNT_READ_ONLY, &s->pmnt);
	if (r < 0) {
		s->pmnt = NULL;
		return fail(s, err, errlen, "open", "", r);
	}
	return 0;
}

void store_close(struct store *s)
{
	if (s->pmnt)
		s->be->plugin->desc.mount_close(s->pmnt);
	s->pmnt = NULL;
}

/* "PREFIX/" for a listing, "" for the whole store; malloc'd. */
static char *list_prefix(const char *prefix)
{
	char *p;

	if (!*prefix)
		return strdup("");
	return asprintf(&p, "%s/", prefix) < 0 ? NULL : p;
}

/* ---- object stores ---- */

struct okey {
	char *key;
	int is_prefix;
	uint64_t size;
	struct timespec mtime;
};

struct page {
	struct okey *v;
	size_t n, cap;
	int err;
};

static void page_clear(struct page *pg)
{
	for (size_t i = 0; i < pg->n; i++)
		free(pg->v[i].key);
	pg->n = 0;
}

static int page_add(void *ctx, const char *key, int is_prefix,
		    const struct scopefs_object_attr *a,
		    const struct scopefs_object_meta *meta, size_t nmeta)
{
	struct page *pg = ctx;
	struct okey *k;

	(void)meta, (void)nmeta;
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? pg->cap * 2 : 256;
		struct okey *v = realloc(pg->v, cap * sizeof *v);

		if (!v)
			return pg->err = -ENOMEM;
		pg->v = v;
		pg->cap = cap;
	}
	k = &pg->v[pg->n];
	if (!(k->key = strdup(key)))
		return pg->err = -ENOMEM;
	k->is_prefix = is_prefix;
	k->size = a && !is_prefix ? a->size : 0;
	k->mtime = a && !is_prefix ? a->mtime : (struct timespec){ 0, 0 };
	pg->n++;
	return 0;
}

/* One page of PREFIX (with DELIM or none) into pg; token as list's. */
static int list_page(struct store *s, const char *lp, const char *delim,
		     char token[SCOPEFS_TOKEN_MAX], struct page *pg, char *err,
		     size_t errlen)
{
	int r;

	page_clear(pg);
	pg->err = 0;
	host_clear_error();
	r = s->be->plugin->obj.list(s->pmnt, lp, delim, token, page_add, pg);
	if (pg->err)
		r = pg->err;
	return r < 0 ? fail(s, err, errlen, "list", lp, r) : 0;
}

static int walk_object(struct store *s, const char *prefix, store_visit_fn fn,
		       void *ctx, char *err, size_t errlen)
{
	char token[SCOPEFS_TOKEN_MAX] = "";
	struct page pg = { 0 };
	char *lp = list_prefix(prefix);
	size_t lpl;
	int r = 0;

	if (!lp)
		return -ENOMEM;
	lpl = strlen(lp);
	do {
		if ((r = list_page(s, lp, NULL, token, &pg, err, errlen)) < 0)
			break;
		for (size_t i = 0; i < pg.n && r == 0; i++) {
			const struct okey *k = &pg.v[i];
			size_t kl = strlen(k->key);
			struct store_entry e = {
				.name = k->key,
				.is_dir = kl && k->key[kl - 1] == '/',
				.is_root = lpl && strcmp(k->key, lp) == 0,
				.size = k->size,
				.mtime = k->mtime,
			};

			/* a store that ignored the prefix: not ours to count */
			if (k->is_prefix || strncmp(k->key, lp, lpl) != 0)
				continue;
			r = fn(ctx, &e);
		}
	} while (r == 0 && token[0]);
	page_clear(&pg);
	free(pg.v);
	free(lp);
	return r;
}

static int children_object(struct store *s, const char *prefix,
			   store_child_fn fn, void *ctx, char *err,
			   size_t errlen)
{
	char token[SCOPEFS_TOKEN_MAX] = "";
	struct page pg = { 0 };
	char *lp = list_prefix(prefix);
	size_t lpl;
	int r = 0;

	if (!lp)
		return -ENOMEM;
	lpl = strlen(lp);
	do {
		if ((r = list_page(s, lp, "/", token, &pg, err, errlen)) < 0)
			break;
		for (size_t i = 0; i < pg.n && r == 0; i++) {
			char *name = pg.v[i].key + lpl;
			size_t nl;

			if (!pg.v[i].is_prefix ||
			    strncmp(pg.v[i].key, lp, lpl) != 0)
				continue;
			nl = strlen(name);
			if (nl && name[nl - 1] == '/')
				name[--nl] = '\0';
			/* "a//b" has an empty component: no workload's name */
			if (nl && !strchr(name, '/'))
				r = fn(ctx, name);
		}
	} while (r == 0 && token[0]);
	page_clear(&pg);
	free(pg.v);
	free(lp);
	return r;
}

/* ---- local and nfs ---- */

struct dent {
	char *name;
	int has_st;
	struct stat st;
};

struct dir_list {
	struct dent *v;
	size_t n, cap;
	int err;
};

static void dir_list_free(struct dir_list *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
}

static int dir_add(void *ctx, const char *name, const struct stat *st)
{
	struct dir_list *d = ctx;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct dent *v = realloc(d->v, cap * sizeof *v);

		if (!v)
			return d->err = -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	if (!(d->v[d->n].name = strdup(name)))
		return d->err = -ENOMEM;
	d->v[d->n].has_st = st != NULL;
	if (st)
		d->v[d->n].st = *st;
	d->n++;
	return 0;
}

/* The path of NAME in directory DIR ("." is the root). */
static char *child_path(const char *dir, const char *name)
{
	char *p;

	if (strcmp(dir, ".") == 0)
		return strdup(name);
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int read_dir(struct store *s, const char *path, struct dir_list *d,
		    char *err, size_t errlen)
{
	int r;

	memset(d, 0, sizeof *d);
	host_clear_error();
	r = s->be->plugin->fs.readdir(s->pmnt, path, dir_add, d);
	if (d->err)
		r = d->err;
	return r < 0 ? fail(s, err, errlen, "readdir", path, r) : 0;
}

/* The attributes of PATH as lstat gives them (getattr never follows the
 * last component); -ENOENT quietly: it went while we looked. */
static int get_attr(struct store *s, const char *path, struct stat *st,
		    char *err, size_t errlen)
{
	int r;

	host_clear_error();
	r = s->be->plugin->fs.getattr(s->pmnt, path, NULL, st);
	if (r == -ENOENT) {
		host_clear_error();
		return r;
	}
	return r < 0 ? fail(s, err, errlen, "getattr", path, r) : 0;
}

static int visit_stat(const char *path, const struct stat *st, int is_root,
		      store_visit_fn fn, void *ctx)
{
	struct store_entry e = {
		.name = path,
		.is_dir = S_ISDIR(st->st_mode),
		.is_root = is_root,
		.size = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size,
		.mtime = st->st_mtim,
	};
	return fn(ctx, &e);
}

static int walk_fs(struct store *s, const char *path, const struct stat *st,
		   int depth, store_visit_fn fn, void *ctx, char *err,
		   size_t errlen)
{
	struct dir_list d;
	int r;

	if (!S_ISDIR(st->st_mode))
		return visit_stat(path, st, depth == 0, fn, ctx);
	if (depth > MAX_DEPTH) {
		snprintf(err, errlen, "backend %s: readdir '%s': more than %d "
			 "levels of directories", s->be->cfg->name, path,
			 MAX_DEPTH);
		return -ELOOP;
	}
	if ((r = read_dir(s, path, &d, err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < d.n && r == 0; i++) {
		char *cp = child_path(path, d.v[i].name);
		struct stat cst;

		if (!cp) {
			r = -ENOMEM;
			break;
		}
		if (d.v[i].has_st)
			cst = d.v[i].st;
		else if ((r = get_attr(s, cp, &cst, err, errlen)) == -ENOENT)
			r = 1; /* gone meanwhile */
		if (r == 0)
			r = walk_fs(s, cp, &cst, depth + 1, fn, ctx, err,
				    errlen);
		if (r == 1)
			r = 0;
		free(cp);
	}
	dir_list_free(&d);
	return r < 0 ? r : visit_stat(path, st, depth == 0, fn, ctx);
}

static const char *fs_path(const char *prefix)
{
	return *prefix ? prefix : ".";
}

static int children_fs(struct store *s, const char *prefix, store_child_fn fn,
		       void *ctx, char *err, size_t errlen)
{
	const char *path = fs_path(prefix);
	struct dir_list d;
	struct stat st;
	int r = get_attr(s, path, &st, err, errlen);

	if (r == -ENOENT)
		return 0;
	if (r < 0 || !S_ISDIR(st.st_mode))
		return r;
	if ((r = read_dir(s, path, &d, err, errlen)) < 0)
		return r;
	for (size_t i = 0; i < d.n && r == 0; i++) {
		struct stat cst = d.v[i].st;
		char *cp;

		if (!d.v[i].has_st) {
			if (!(cp = child_path(path, d.v[i].name))) {
				r = -ENOMEM;
				break;
			}
			r = get_attr(s, cp, &cst, err, errlen);
			free(cp);
			if (r == -ENOENT) {
				r = 0;
				continue;
			}
			if (r < 0)
				break;
		}
		if (S_ISDIR(cst.st_mode))
			r = fn(ctx, d.v[i].name);
	}
	dir_list_free(&d);
	return r;
}

/* ---- the interface ---- */

int store_walk(struct store *s, const char *prefix, store_visit_fn fn,
	       void *ctx, char *err, size_t errlen)
{
	struct stat st;
	int r;

	if (s->object)
		return walk_object(s, prefix, fn, ctx, err, errlen);
	r = get_attr(s, fs_path(prefix), &st, err, errlen);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return walk_fs(s, fs_path(prefix), &st, 0, fn, ctx, err, errlen);
}

int store_children(struct store *s, const char *prefix, store_child_fn fn,
		   void *ctx, char *err, size_t errlen)
{
	if (s->object)
		return children_object(s, prefix, fn, ctx, err, errlen);
	return children_fs(s, prefix, fn, ctx, err, errlen);
}

int store_remove(struct store *s, const struct store_entry *e, char *err,
		 size_t errlen)
{
	const struct plugin *p = s->be->plugin;
	const char *op;
	int r;

	/* the backend's own root is never a thing to remove */
	if (!*e->name || strcmp(e->name, ".") == 0)
		return -EBUSY;
	host_clear_error();
	if (s->object) {
		op = "delete";
		r = p->obj.remove ? p->obj.remove(s->pmnt, e->name) : -ENOSYS;
	} else if (e->is_dir) {
		op = "rmdir";
		r = p->fs.rmdir ? p->fs.rmdir(s->pmnt, e->name) : -ENOSYS;
		if (r == -ENOTEMPTY || r == -EEXIST) {
			host_clear_error();
			return -ENOTEMPTY;
		}
	} else {
		op = "unlink";
		r = p->fs.unlink ? p->fs.unlink(s->pmnt, e->name) : -ENOSYS;
	}
	if (r == -ENOENT) { /* someone else removed it first */
		host_clear_error();
		return -ENOENT;
	}
	return r < 0 ? fail(s, err, errlen, op, e->name, r) : 0;
}

int store_rmdir(struct store *s, const char *path)
{
	int r;

	if (s->object || !s->be->plugin->fs.rmdir || !*path ||
	    strcmp(path, ".") == 0)
		return -ENOTSUP;
	host_clear_error();
	r = s->be->plugin->fs.rmdir(s->pmnt, path);
	host_clear_error();
	return r;
}
