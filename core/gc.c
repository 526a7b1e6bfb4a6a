/* gc: choose what goes, sweep it, report (see the header). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gc.h"
#include "usage_report.h"

/* A store refusing every delete should not be asked a million times. */
enum { MAX_FAILURES_PER_PREFIX = 20 };

struct gc_row {
	struct usage_row *r;
	int del;          /* chosen: the prefix (cluster) or its old files */
	char why[160];    /* why not, when !del */
	uint64_t objects, dirs, bytes; /* what goes (or would) */
	uint64_t kept;    /* entries the sweep left: newer, or not empty */
	int failures;
};

struct gc {
	struct usage *u;
	const struct gc_opts *o;
	struct gc_row *rows;
	size_t nrows;
	char **failures;
	size_t nfailures;
};

static void add_failure(struct gc *g, const char *msg)
{
	char **v = realloc(g->failures, (g->nfailures + 1) * sizeof *v);

	if (!v)
		return;
	g->failures = v;
	if ((v[g->nfailures] = strdup(msg)))
		g->nfailures++;
}

static int timed(const struct timespec *t)
{
	return t->tv_sec || t->tv_nsec;
}

static int before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* ---- choosing (cluster) ---- */

static void choose(struct gc *g, struct gc_row *gr)
{
	const struct usage_row *r = gr->r;
	char t[32];

	if (r->error)
		snprintf(gr->why, sizeof gr->why, "not listed in full: %s",
			 r->error);
	else if (r->current)
		snprintf(gr->why, sizeof gr->why,
			 "this configuration's own prefix");
	else if (r->guarded)
		snprintf(gr->why, sizeof gr->why,
			 "holds or lies in a prefix this configuration mounts");
	else if (r->st.untimed)
		snprintf(gr->why, sizeof gr->why, "%" PRIu64 " entries have "
			 "no modification time", r->st.untimed);
	else if (!r->st.timed)
		snprintf(gr->why, sizeof gr->why, "nothing stored");
	else if (!before(&r->st.newest, &g->o->cutoff)) {
		report_time(&r->st.newest, 1, t, sizeof t);
		snprintf(gr->why, sizeof gr->why, "written since the cut-off "
			 "(newest %s)", t);
	} else {
		gr->del = 1;
		gr->objects = r->st.objects;
		gr->dirs = r->st.dirs;
		gr->bytes = r->st.bytes;
	}
}

/* ---- sweeping ---- */

struct sweep {
	struct gc *g;
	struct gc_row *gr;
	struct store *s;
	int dirs_too; /* cluster: the prefix's directories and markers too */
	int dry;
};

static int sweep_fn(void *ctx, const struct store_entry *e)
{
	struct sweep *sw = ctx;
	struct gc_row *gr = sw->gr;
	char err[1024] = "";
	int r;

	if (e->is_dir && !sw->dirs_too)
		return 0;
	/* the time again, as the listing before may be minutes old */
	if (!timed(&e->mtime) || !before(&e->mtime, &sw->g->o->cutoff)) {
		gr->kept++;
		return 0;
	}
	if (!sw->dry) {
		r = store_remove(sw->s, e, err, sizeof err);
		if (r == -ENOTEMPTY) {
			gr->kept++; /* what is left in it was kept */
			return 0;
		}
		if (r == -ENOENT)
			return 0; /* gone already: not ours to count */
		if (r < 0) {
			add_failure(sw->g, err);
			if (++gr->failures >= MAX_FAILURES_PER_PREFIX) {
				snprintf(err, sizeof err, "%s: stopped after "
					 "%d failures", gr->r->prefix,
					 gr->failures);
				add_failure(sw->g, err);
				return -EIO;
			}
			return 0;
		}
	}
	if (!e->is_dir)
		gr->objects++;
	else if (!e->is_root)
		gr->dirs++;
	gr->bytes += e->size;
	return 0;
}

/* On local and nfs: the workload's directories between the pattern's
 * parent and the removed prefix (job/ID/ of job/ID/cluster_storage),
 * if nothing else is in them. */
static void tidy_parents(struct store *s, const struct usage_row *r)
{
	size_t pl = strlen(r->parent);
	char *d = strdup(r->prefix), *slash;

	while (d && (slash = strrchr(d, '/')) && (size_t)(slash - d) > pl) {
		*slash = '\0';
		if (store_rmdir(s, d) < 0)
			break;
	}
	free(d);
}

static void sweep(struct gc *g, struct gc_row *gr, int dry)
{
	struct usage_row *r = gr->r;
	char err[1024] = "";
	struct store *s = usage_store(g->u, r->backend, err, sizeof err);
	struct sweep sw = { g, gr, s, g->o->scope == SCOPE_CLUSTER, dry };
	int rc;

	gr->objects = gr->dirs = gr->bytes = gr->kept = 0;
	if (!s) {
		add_failure(g, err);
		gr->failures++;
		return;
	}
	rc = store_walk(s, r->prefix, sweep_fn, &sw, err, sizeof err);
	if (rc < 0 && *err) {
		add_failure(g, err);
		gr->failures++;
	}
	if (!dry && sw.dirs_too && r->parent && !gr->kept && !gr->failures)
		tidy_parents(s, r);
}

/* ---- the report ---- */

static const char *action(const struct gc *g, const struct gc_row *gr)
{
	if (!gr->del)
		return gr->r->error ? "skip" : "keep";
	if (g->o->yes)
		return gr->failures ? "failed" : "deleted";
	return "delete";
}

static void totals(const struct gc *g, struct usage_stats *t, size_t *n)
{
	memset(t, 0, sizeof *t);
	*n = 0;
	for (size_t i = 0; i < g->nrows; i++) {
		const struct gc_row *gr = &g->rows[i];

		if (!gr->del)
			continue;
		t->objects += gr->objects;
		t->dirs += gr->dirs;
		t->bytes += gr->bytes;
		*n += 1;
	}
}

static void header(const struct gc *g, FILE *f)
{
	char cut[32];

	report_time(&g->o->cutoff, 1, cut, sizeof cut);
	fprintf(f, "gc %s scope: %s modified before %s UTC%s%s%s\n",
		config_scope_name(g->o->scope),
		g->o->scope == SCOPE_CLUSTER ? "workload prefixes last"
					     : "files and objects",
		cut, g->o->older_than ? " (older than " : "",
		g->o->older_than ? g->o->older_than : "",
		g->o->older_than ? ")" : "");
	if (!g->o->yes)
		fprintf(f, "dry run: nothing is deleted; add --yes to "
			"delete\n");
}

static void print_table(const struct gc *g, FILE *f)
{
	int bw = 7, pw = 6;
	struct usage_stats t;
	char bytes[32], newest[32];
	size_t n;

	header(g, f);
	for (size_t i = 0; i < g->nrows; i++) {
		const struct usage_row *r = g->rows[i].r;
		int l = (int)strlen(g->u->conf->backends[r->backend].name);
		int p = (int)strlen(r->prefix) + 2;

		bw = l > bw ? l : bw;
		pw = p > pw ? p : pw;
	}
	fprintf(f, "%-8s %-*s %-*s %9s %8s  %-19s  %s\n", "ACTION", bw,
		"BACKEND", pw, "PREFIX", "OBJECTS", "BYTES", "NEWEST (UTC)",
		"WHY KEPT");
	for (size_t i = 0; i < g->nrows; i++) {
		const struct gc_row *gr = &g->rows[i];
		const struct usage_row *r = gr->r;
		char prefix[4096];
		uint64_t objects = gr->del ? gr->objects : r->st.objects;

		report_bytes(gr->del ? gr->bytes : r->st.bytes, bytes,
			     sizeof bytes);
		report_time(&r->st.newest, r->st.timed, newest, sizeof newest);
		snprintf(prefix, sizeof prefix, "%s%s",
			 *r->prefix ? r->prefix : "(root)",
			 r->current ? " *" : "");
		fprintf(f, "%-8s %-*s %-*s %9" PRIu64 " %8s  %-19s  %s\n",
			action(g, gr), bw,
			g->u->conf->backends[r->backend].name, pw, prefix,
			objects, bytes, newest, gr->del ? "" : gr->why);
		if (gr->del && gr->kept)
			fprintf(f, "%-8s   kept %" PRIu64 " entries written "
				"since the cut-off%s\n", "", gr->kept,
				g->o->scope == SCOPE_CLUSTER
					? " or still holding some" : "");
	}
	totals(g, &t, &n);
	report_bytes(t.bytes, bytes, sizeof bytes);
	fprintf(f, "%s %" PRIu64 " object%s, %" PRIu64 " dir%s, %" PRIu64
		" byte%s (%s) in %zu prefix%s\n",
		g->o->yes ? "freed:" : "would free:", t.objects,
		t.objects == 1 ? "" : "s", t.dirs, t.dirs == 1 ? "" : "s",
		t.bytes, t.bytes == 1 ? "" : "s", bytes, n, n == 1 ? "" : "es");
	for (size_t i = 0; i < g->nfailures; i++)
		fprintf(f, "failed: %s\n", g->failures[i]);
	for (size_t i = 0; i < g->u->nnotes; i++)
		fprintf(f, "note: %s\n", g->u->notes[i]);
}

static struct json_object *totals_json(const struct usage_stats *t, size_t n)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "prefixes", json_object_new_uint64(n));
	json_object_object_add(o, "objects", json_object_new_uint64(t->objects));
	json_object_object_add(o, "dirs", json_object_new_uint64(t->dirs));
	json_object_object_add(o, "bytes", json_object_new_uint64(t->bytes));
	return o;
}

static void print_json(const struct gc *g, FILE *f)
{
	struct json_object *top = json_object_new_object();
	struct json_object *rows = json_object_new_array();
	struct json_object *fails = json_object_new_array();
	struct json_object *notes = json_object_new_array();
	struct usage_stats t;
	size_t n;

	json_object_object_add(top, "config",
			       json_object_new_string(g->u->conf->file));
	json_object_object_add(top, "scope", json_object_new_string(
		config_scope_name(g->o->scope)));
	json_object_object_add(top, "dry_run", json_object_new_boolean(!g->o->yes));
	json_object_object_add(top, "older_than", g->o->older_than
		? json_object_new_string(g->o->older_than) : NULL);
	json_object_object_add(top, "cutoff", report_json_time(&g->o->cutoff, 1));
	json_object_object_add(top, "cutoff_unix",
			       json_object_new_int64(g->o->cutoff.tv_sec));
	for (size_t i = 0; i < g->nrows; i++) {
		const struct gc_row *gr = &g->rows[i];
		struct json_object *o = json_object_new_object();
		struct json_object *st = json_object_new_object();

		json_object_object_add(o, "backend", json_object_new_string(
			g->u->conf->backends[gr->r->backend].name));
		json_object_object_add(o, "prefix",
				       json_object_new_string(gr->r->prefix));
		json_object_object_add(o, "current",
				       json_object_new_boolean(gr->r->current));
		json_object_object_add(o, "action",
				       json_object_new_string(action(g, gr)));
		json_object_object_add(o, "reason", gr->del ? NULL
			: json_object_new_string(gr->why));
		/* what is there, then what goes (or would) */
		report_json_stats(st, &gr->r->st);
		json_object_object_add(o, "stored", st);
		json_object_object_add(o, "objects", json_object_new_uint64(gr->objects));
		json_object_object_add(o, "dirs", json_object_new_uint64(gr->dirs));
		json_object_object_add(o, "bytes", json_object_new_uint64(gr->bytes));
		json_object_object_add(o, "kept", json_object_new_uint64(gr->kept));
		json_object_object_add(o, "failures", json_object_new_int(gr->failures));
		json_object_array_add(rows, o);
	}
	json_object_object_add(top, "prefixes", rows);
	totals(g, &t, &n);
	json_object_object_add(top, g->o->yes ? "freed" : "would_free",
			       totals_json(&t, n));
	for (size_t i = 0; i < g->nfailures; i++)
		json_object_array_add(fails, json_object_new_string(g->failures[i]));
	json_object_object_add(top, "failures", fails);
	for (size_t i = 0; i < g->u->nnotes; i++)
		json_object_array_add(notes, json_object_new_string(g->u->notes[i]));
	json_object_object_add(top, "notes", notes);
	json_object_object_add(top, "errors", json_object_new_int(
		g->u->errors + (int)g->nfailures));
	report_json_put(top, f);
}

/* ---- running ---- */

int gc_run(struct usage *u, const struct gc_opts *o, FILE *out)
{
	struct gc g = { u, o, NULL, 0, NULL, 0 };
	int cluster = o->scope == SCOPE_CLUSTER;
	/* measured for user and cloud too: the report shows what is there */
	int r = usage_collect(u, o->scope, 1);

	if (r < 0)
		return r;
	if (!(g.rows = calloc(u->nrows ? u->nrows : 1, sizeof *g.rows)))
		return -ENOMEM;
	for (size_t i = 0; i < u->nrows; i++) {
		struct gc_row *gr = &g.rows[g.nrows++];

		gr->r = &u->rows[i];
		if (cluster) {
			choose(&g, gr);
			if (gr->del && o->yes)
				sweep(&g, gr, 0);
		} else {
			/* the scope's own prefix: its old files, one by one */
			gr->del = 1;
			sweep(&g, gr, !o->yes);
			if (!gr->objects && !gr->failures) {
				gr->del = 0;
				snprintf(gr->why, sizeof gr->why,
					 "nothing older than the cut-off");
			}
		}
		progress_note(&u->prog, "gc: %zu of %zu prefixes", i + 1,
			      u->nrows);
	}
	progress_clear(&u->prog);
	if (o->json)
		print_json(&g, out);
	else
		print_table(&g, out);
	r = u->errors || g.nfailures ? 1 : 0;
	for (size_t i = 0; i < g.nfailures; i++)
		free(g.failures[i]);
	free(g.failures);
	free(g.rows);
	return r;
}

/* ---- options ---- */

int gc_parse_duration(const char *s, long long *seconds, char *err,
		      size_t errlen)
{
	static const struct {
		char unit;
		long long s;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 },
		      { 'd', 86400 }, { 'w', 7 * 86400 } };
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || v <= 0 || errno || end[0] == '\0' || end[1] != '\0') {
		snprintf(err, errlen, "'%s' is not a duration (a positive "
			 "number and a unit: 45s, 90m, 12h, 30d, 2w)", s);
		return -EINVAL;
	}
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		if (units[i].unit != *end)
			continue;
		if (v > LLONG_MAX / units[i].s) {
			snprintf(err, errlen, "duration '%s' is too long", s);
			return -EINVAL;
		}
		*seconds = v * units[i].s;
		return 0;
	}
	snprintf(err, errlen, "'%s': unknown unit '%c' (s, m, h, d or w)", s,
		 *end);
	return -EINVAL;
}

int gc_parse_time(const char *s, struct timespec *t, char *err,
		  size_t errlen)
{
	struct tm tm = { 0 };
	const char *end = NULL;
	char *e;

	if (s[0] == '@') {
		long long v;

		errno = 0;
		v = strtoll(s + 1, &e, 10);
		if (e != s + 1 && !*e && !errno && v >= 0) {
			*t = (struct timespec){ (time_t)v, 0 };
			return 0;
		}
	} else {
		end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (!end || *end) {
			memset(&tm, 0, sizeof tm);
			end = strptime(s, "%Y-%m-%d", &tm);
		}
		if (end && !*end) {
			*t = (struct timespec){ timegm(&tm), 0 };
			return 0;
		}
	}
	snprintf(err, errlen, "'%s' is not a time (@SECONDS, YYYY-MM-DD or "
		 "YYYY-MM-DDTHH:MM:SSZ, in UTC)", s);
	return -EINVAL;
}
