/* usage_report: the usage table and its JSON (see the header). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "usage_report.h"

void report_bytes(uint64_t b, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64, b);
		return;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%c", v, units[u]);
}

void report_time(const struct timespec *t, int set, char *buf, size_t len)
{
	struct tm tm;

	if (!set || !gmtime_r(&t->tv_sec, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

struct json_object *report_json_time(const struct timespec *t, int set)
{
	char buf[64];
	struct tm tm;

	if (!set || !gmtime_r(&t->tv_sec, &tm))
		return NULL;
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(buf);
}

void report_json_stats(struct json_object *o, const struct usage_stats *st)
{
	json_object_object_add(o, "objects", json_object_new_uint64(st->objects));
	json_object_object_add(o, "dirs", json_object_new_uint64(st->dirs));
	json_object_object_add(o, "bytes", json_object_new_uint64(st->bytes));
	json_object_object_add(o, "oldest", report_json_time(&st->oldest,
							     st->timed));
	json_object_object_add(o, "newest", report_json_time(&st->newest,
							     st->timed));
	json_object_object_add(o, "oldest_unix", st->timed
		? json_object_new_int64(st->oldest.tv_sec) : NULL);
	json_object_object_add(o, "newest_unix", st->timed
		? json_object_new_int64(st->newest.tv_sec) : NULL);
	json_object_object_add(o, "untimed", json_object_new_uint64(st->untimed));
}

void report_json_put(struct json_object *o, FILE *f)
{
	fprintf(f, "%s\n", json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int wanted(const struct usage_row *r, unsigned scopes)
{
	return (scopes & (1u << r->scope)) != 0;
}

/* ---- the table ---- */

struct widths {
	int backend, prefix;
};

static void row_line(FILE *f, const struct widths *w, const char *scope,
		     const char *backend, const char *prefix,
		     const struct usage_stats *st)
{
	char bytes[32], oldest[32], newest[32];

	report_bytes(st->bytes, bytes, sizeof bytes);
	report_time(&st->oldest, st->timed, oldest, sizeof oldest);
	report_time(&st->newest, st->timed, newest, sizeof newest);
	fprintf(f, "%-8s %-*s %-*s %9" PRIu64 " %7" PRIu64 " %8s  %-19s  %s\n",
		scope, w->backend, backend, w->prefix, prefix, st->objects,
		st->dirs, bytes, oldest, newest);
}

void usage_print_table(const struct usage *u, unsigned scopes, FILE *f)
{
	struct widths w = { 7, 6 };
	int any_current = 0;

	for (size_t i = 0; i < u->nrows; i++) {
		const struct usage_row *r = &u->rows[i];
		int bl = (int)strlen(u->conf->backends[r->backend].name);
		int pl = (int)strlen(r->prefix) + 2;

		if (!wanted(r, scopes))
			continue;
		w.backend = bl > w.backend ? bl : w.backend;
		w.prefix = pl > w.prefix ? pl : w.prefix;
	}
	fprintf(f, "%-8s %-*s %-*s %9s %7s %8s  %-19s  %s\n", "SCOPE",
		w.backend, "BACKEND", w.prefix, "PREFIX", "OBJECTS", "DIRS",
		"BYTES", "OLDEST (UTC)", "NEWEST (UTC)");
	for (int s = SCOPE_CLUSTER; s <= SCOPE_CLOUD; s++) {
		struct usage_stats total = { 0 };
		size_t n = 0;

		if (!(scopes & (1u << s)))
			continue;
		for (size_t i = 0; i < u->nrows; i++) {
			const struct usage_row *r = &u->rows[i];
			char prefix[4096];

			if (r->scope != (enum cfg_scope)s)
				continue;
			snprintf(prefix, sizeof prefix, "%s%s",
				 *r->prefix ? r->prefix : "(root)",
				 r->current ? " *" : "");
			any_current |= r->current;
			row_line(f, &w, config_scope_name(r->scope),
				 u->conf->backends[r->backend].name, prefix,
				 &r->st);
			if (r->error)
				fprintf(f, "%-8s   error: %s\n", "", r->error);
			usage_stats_merge(&total, &r->st);
			n++;
		}
		if (n > 1) {
			char label[64];

			snprintf(label, sizeof label, "%zu prefixes", n);
			row_line(f, &w, config_scope_name(s), "total", label,
				 &total);
		}
	}
	if (any_current)
		fprintf(f, "* this configuration's own prefix\n");
	for (size_t i = 0; i < u->nnotes; i++)
		fprintf(f, "note: %s\n", u->notes[i]);
}

/* ---- JSON ---- */

static struct json_object *row_json(const struct usage *u,
				    const struct usage_row *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "backend", json_object_new_string(
		u->conf->backends[r->backend].name));
	json_object_object_add(o, "prefix", json_object_new_string(r->prefix));
	json_object_object_add(o, "current", json_object_new_boolean(r->current));
	json_object_object_add(o, "workload", r->workload != WORKLOAD_NONE
		? json_object_new_string(config_workload_name(r->workload))
		: NULL);
	json_object_object_add(o, "workload_id", r->workload_id
		? json_object_new_string(r->workload_id) : NULL);
	report_json_stats(o, &r->st);
	if (r->error)
		json_object_object_add(o, "error",
				       json_object_new_string(r->error));
	return o;
}

void usage_print_json(const struct usage *u, unsigned scopes, FILE *f)
{
	struct json_object *top = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	struct json_object *notes = json_object_new_array();

	json_object_object_add(top, "config",
			       json_object_new_string(u->conf->file));
	for (int s = SCOPE_CLUSTER; s <= SCOPE_CLOUD; s++) {
		struct json_object *so, *rows;
		struct usage_stats total = { 0 };

		if (!(scopes & (1u << s)))
			continue;
		so = json_object_new_object();
		rows = json_object_new_array();
		json_object_object_add(so, "scope", json_object_new_string(
			config_scope_name(s)));
		for (size_t i = 0; i < u->nrows; i++) {
			if (u->rows[i].scope != (enum cfg_scope)s)
				continue;
			json_object_array_add(rows, row_json(u, &u->rows[i]));
			usage_stats_merge(&total, &u->rows[i].st);
		}
		report_json_stats(so, &total);
		json_object_object_add(so, "prefixes", rows);
		json_object_array_add(arr, so);
	}
	json_object_object_add(top, "scopes", arr);
	for (size_t i = 0; i < u->nnotes; i++)
		json_object_array_add(notes, json_object_new_string(u->notes[i]));
	json_object_object_add(top, "notes", notes);
	json_object_object_add(top, "errors", json_object_new_int(u->errors));
	report_json_put(top, f);
}
