/* usage: the rows of a scope and their stats (see the header). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "usage.h"
#include "workloads.h"

int usage_init(struct usage *u, const struct config *c, struct backend *b,
	       int writable)
{
	memset(u, 0, sizeof *u);
	u->conf = c;
	u->backends = b;
	u->writable = writable;
	u->stores = calloc(c->nbackends ? c->nbackends : 1, sizeof *u->stores);
	u->store_err = calloc(c->nbackends ? c->nbackends : 1,
			      sizeof *u->store_err);
	if (!u->stores || !u->store_err) {
		free(u->stores);
		free(u->store_err);
		return -ENOMEM;
	}
	progress_init(&u->prog, stderr);
	return 0;
}

static void row_free(struct usage_row *r)
{
	free(r->prefix);
	free(r->parent);
	free(r->workload_id);
	free(r->error);
}

void usage_free(struct usage *u)
{
	progress_clear(&u->prog);
	for (size_t i = 0; u->stores && i < u->conf->nbackends; i++) {
		store_close(&u->stores[i]);
		free(u->store_err[i]);
	}
	free(u->stores);
	free(u->store_err);
	for (size_t i = 0; i < u->nrows; i++)
		row_free(&u->rows[i]);
	free(u->rows);
	for (size_t i = 0; i < u->nnotes; i++)
		free(u->notes[i]);
	free(u->notes);
	memset(u, 0, sizeof *u);
}

void usage_note(struct usage *u, int error, const char *fmt, ...)
{
	char **v = realloc(u->notes, (u->nnotes + 1) * sizeof *v);
	va_list ap;
	char *s;
	int n;

	u->errors += error != 0;
	if (!v)
		return;
	u->notes = v;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n >= 0)
		u->notes[u->nnotes++] = s;
}

int usage_has_scope(const struct config *c, enum cfg_scope s)
{
	for (size_t i = 0; i < c->nmounts; i++)
		if (c->mounts[i].scope == s)
			return 1;
	return 0;
}

struct store *usage_store(struct usage *u, size_t i, char *err,
			  size_t errlen)
{
	struct store *s = &u->stores[i];

	if (s->pmnt)
		return s;
	if (u->store_err[i]) {
		snprintf(err, errlen, "%s", u->store_err[i]);
		return NULL;
	}
	if (store_open(s, &u->backends[i], u->writable, err, errlen) < 0) {
		u->store_err[i] = strdup(err);
		return NULL;
	}
	return s;
}

static size_t backend_index(const struct config *c, const struct cfg_mount *m)
{
	return (size_t)(m->be - c->backends);
}

/* ---- rows ---- */

static struct usage_row *find_row(struct usage *u, enum cfg_scope s,
				  size_t be, const char *prefix)
{
	for (size_t i = 0; i < u->nrows; i++)
		if (u->rows[i].scope == s && u->rows[i].backend == be &&
		    strcmp(u->rows[i].prefix, prefix) == 0)
			return &u->rows[i];
	return NULL;
}

/* The row of PREFIX (made if new; PREFIX is taken either way), or NULL
 * when out of memory. */
static struct usage_row *add_row(struct usage *u, enum cfg_scope s, size_t be,
				 char *prefix)
{
	struct usage_row *r = find_row(u, s, be, prefix);

	if (r) {
		free(prefix);
		return r;
	}
	if (u->nrows == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 32;
		struct usage_row *v = realloc(u->rows, cap * sizeof *v);

		if (!v) {
			free(prefix);
			return NULL;
		}
		u->rows = v;
		u->cap = cap;
	}
	r = &u->rows[u->nrows++];
	memset(r, 0, sizeof *r);
	r->scope = s;
	r->backend = be;
	r->prefix = prefix;
	r->workload = WORKLOAD_NONE;
	return r;
}

/* Is A equal to B, inside it or around it ("" is around everything)? */
static int overlaps(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), l = la < lb ? la : lb;

	if (!la || !lb)
		return 1;
	return strncmp(a, b, l) == 0 &&
	       (la == lb || (la < lb ? b[l] : a[l]) == '/');
}

static void mark_guarded(struct usage *u, struct usage_row *r)
{
	for (size_t i = 0; i < u->conf->nmounts; i++) {
		const struct cfg_mount *m = &u->conf->mounts[i];

		if (backend_index(u->conf, m) != r->backend)
			continue;
		if (strcmp(m->prefix, r->prefix) == 0)
			r->current = 1;
		if (overlaps(m->prefix, r->prefix))
			r->guarded = 1;
	}
}

struct finder {
	struct usage *u;
	const struct wl_pattern *p;
	size_t be;
	int nomem;
};

static int found_child(void *ctx, const char *name)
{
	struct finder *f = ctx;
	struct usage_row *r;
	char *wid = NULL, *prefix;
	int m = wl_match(f->p, name, &wid);

	if (m <= 0)
		return m;
	if (!(prefix = wl_prefix(f->p, name)) ||
	    !(r = add_row(f->u, SCOPE_CLUSTER, f->be, prefix))) {
		free(wid);
		return f->nomem = -ENOMEM;
	}
	if (!r->parent) {
		r->parent = strdup(f->p->parent);
		r->workload = f->p->workload;
		r->workload_id = wid;
		wid = NULL;
	}
	free(wid);
	return r->parent ? 0 : (f->nomem = -ENOMEM);
}

/* The workloads' prefixes pattern P finds on backend BE. */
static int find_workloads(struct usage *u, size_t be, const struct wl_pattern *p)
{
	char err[1024] = "";
	struct finder f = { u, p, be, 0 };
	struct store *s = usage_store(u, be, err, sizeof err);
	int r;

	if (!s) {
		usage_note(u, 1, "%s", err);
		return 0;
	}
	progress_note(&u->prog, "usage: looking for workloads under '%s/'",
		      p->parent);
	r = store_children(s, p->parent, found_child, &f, err, sizeof err);
	if (f.nomem)
		return f.nomem;
	if (r < 0)
		usage_note(u, 1, "%s (the workloads there are not counted)",
			   err);
	return 0;
}

/* The patterns of every cluster mount, each once per backend. */
struct pattern_set {
	struct bpat {
		size_t be;
		struct wl_pattern p;
	} *v;
	size_t n;
};

static void pattern_set_free(struct pattern_set *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		wl_pattern_clear(&ps->v[i].p);
	free(ps->v);
}

/* Add the patterns of cluster mount M to PS (taking them). */
static int mount_patterns(struct usage *u, const struct cfg_mount *m,
			  struct pattern_set *ps)
{
	size_t be = backend_index(u->conf, m), n;
	struct wl_pattern *pats;
	char err[1024] = "";
	int r = wl_patterns(m, &u->conf->id, &pats, &n, err, sizeof err);

	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		usage_note(u, 0, "[mount %s]: %s: only its own prefix is "
			   "counted", m->path, err);
		return 0;
	}
	if (n == 0)
		usage_note(u, 0, "[mount %s]: prefix '%s' holds no workload "
			   "id: only its own prefix is counted", m->path,
			   m->prefix_template ? m->prefix_template : m->prefix);
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < ps->n; j++)
			if (ps->v[j].be == be &&
			    wl_pattern_same(&ps->v[j].p, &pats[i]))
				break;
		if (j < ps->n) {
			wl_pattern_clear(&pats[i]);
			continue;
		}
		struct bpat *v = realloc(ps->v, (ps->n + 1) * sizeof *v);
		if (!v) {
			for (; i < n; i++)
				wl_pattern_clear(&pats[i]);
			r = -ENOMEM;
			break;
		}
		ps->v = v;
		ps->v[ps->n].be = be;
		ps->v[ps->n++].p = pats[i];
	}
	free(pats); /* the strings moved into ps or were freed */
	return r;
}

/* Rows for scope S: the mounts' own prefixes, and for cluster scope
 * every workload's prefix the patterns find. */
static int add_rows(struct usage *u, enum cfg_scope s)
{
	struct pattern_set ps = { 0 };
	int r = 0;

	for (size_t i = 0; i < u->conf->nmounts && r == 0; i++) {
		const struct cfg_mount *m = &u->conf->mounts[i];
		char *prefix;

		if (m->scope != s)
			continue;
		if (!(prefix = strdup(m->prefix)) ||
		    !add_row(u, s, backend_index(u->conf, m), prefix))
			r = -ENOMEM;
		else if (s == SCOPE_CLUSTER)
			r = mount_patterns(u, m, &ps);
	}
	for (size_t i = 0; i < ps.n && r == 0; i++)
		r = find_workloads(u, ps.v[i].be, &ps.v[i].p);
	pattern_set_free(&ps);
	for (size_t i = 0; i < u->nrows; i++)
		if (u->rows[i].scope == s)
			mark_guarded(u, &u->rows[i]);
	return r;
}

/* ---- stats ---- */

static int ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

void usage_stats_add(struct usage_stats *st, const struct store_entry *e)
{
	if (!e->is_dir)
		st->objects++;
	else if (!e->is_root)
		st->dirs++; /* the prefix's own directory is no content */
	st->bytes += e->size;
	if (!e->mtime.tv_sec && !e->mtime.tv_nsec) {
		st->untimed++;
		return;
	}
	if (!st->timed || ts_before(e->mtime, st->oldest))
		st->oldest = e->mtime;
	if (!st->timed || ts_before(st->newest, e->mtime))
		st->newest = e->mtime;
	st->timed = 1;
}

void usage_stats_merge(struct usage_stats *into, const struct usage_stats *st)
{
	into->objects += st->objects;
	into->dirs += st->dirs;
	into->bytes += st->bytes;
	into->untimed += st->untimed;
	if (!st->timed)
		return;
	if (!into->timed || ts_before(st->oldest, into->oldest))
		into->oldest = st->oldest;
	if (!into->timed || ts_before(into->newest, st->newest))
		into->newest = st->newest;
	into->timed = 1;
}

struct measuring {
	struct usage *u;
	struct usage_row *r;
};

static int measure_fn(void *ctx, const struct store_entry *e)
{
	struct measuring *m = ctx;

	usage_stats_add(&m->r->st, e);
	m->r->found = 1;
	if ((++m->u->seen & 1023) == 0)
		progress_note(&m->u->prog, "usage: %llu entries listed "
			      "(now in '%s')",
			      (unsigned long long)m->u->seen, m->r->prefix);
	return 0;
}

static void measure(struct usage *u, struct usage_row *r)
{
	char err[1024] = "";
	struct measuring m = { u, r };
	struct store *s = usage_store(u, r->backend, err, sizeof err);
	int rc = s ? store_walk(s, r->prefix, measure_fn, &m, err, sizeof err)
		   : -EIO;

	if (rc < 0) {
		r->error = strdup(*err ? err : strerror(-rc));
		u->errors++;
	}
}

static int row_order(const void *a, const void *b)
{
	const struct usage_row *x = a, *y = b;

	if (x->scope != y->scope)
		return x->scope < y->scope ? -1 : 1;
	if (x->backend != y->backend)
		return x->backend < y->backend ? -1 : 1;
	return strcmp(x->prefix, y->prefix);
}

int usage_collect(struct usage *u, enum cfg_scope s, int measure_rows)
{
	size_t from = u->nrows, kept;
	int r = add_rows(u, s);

	if (r < 0)
		return r;
	for (size_t i = from; measure_rows && i < u->nrows; i++)
		measure(u, &u->rows[i]);
	/* a workload directory without this template's storage in it
	 * (job/X/ holding something else) is not a row */
	kept = from;
	for (size_t i = from; i < u->nrows; i++) {
		struct usage_row *row = &u->rows[i];

		if (measure_rows && !row->found && !row->current &&
		    !row->error)
			row_free(row);
		else
			u->rows[kept++] = *row;
	}
	u->nrows = kept;
	qsort(u->rows + from, u->nrows - from, sizeof *u->rows, row_order);
	progress_clear(&u->prog);
	return 0;
}
