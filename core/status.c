/* status: read back the exposition metrics_write() makes (our own
 * format: one sample per line, name{k="v",...} value) into rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "metrics.h"
#include "status.h"

#define MAX_ROWS 512

struct row {
	char a[256], b[64], c[16]; /* mount/backend, op/method, status */
	double v[6];
};

struct table {
	struct row r[MAX_ROWS];
	int n;
};

/* The value of label KEY in the {...} of LINE, into OUT. */
static int label(const char *line, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *p, *end = strchr(line, '}');
	size_t n = 0;

	snprintf(pat, sizeof pat, "%s=\"", key);
	for (p = strchr(line, '{'); p && p < end; p++) {
		if ((p[-1] == '{' || p[-1] == ',') &&
		    strncmp(p, pat, strlen(pat)) == 0)
			break;
	}
	if (!p || p >= end)
		return 0;
	for (p += strlen(pat); *p && *p != '"' && n + 1 < len; p++) {
		if (*p == '\\' && p[1])
			p++;
		out[n++] = *p;
	}
	out[n] = '\0';
	return 1;
}

static struct row *row(struct table *t, const char *a, const char *b,
		       const char *c)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->r[i].a, a) && !strcmp(t->r[i].b, b) &&
		    !strcmp(t->r[i].c, c))
			return &t->r[i];
	if (t->n == MAX_ROWS)
		return NULL;
	struct row *r = &t->r[t->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->a, sizeof r->a, "%s", a);
	snprintf(r->b, sizeof r->b, "%s", b);
	snprintf(r->c, sizeof r->c, "%s", c);
	return r;
}

static const char *human(double bytes, char *buf, size_t len)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (bytes >= 1024 && i < 4) {
		bytes /= 1024;
		i++;
	}
	snprintf(buf, len, i ? "%.1f %s" : "%.0f %s", bytes, u[i]);
	return buf;
}

/* Rows of calls, errors, bytes and mean latency; those never called are
 * left out. */
static void print_ops(FILE *f, const struct table *t, const char *what)
{
	int any = 0;

	for (int i = 0; i < t->n; i++)
		any |= t->r[i].v[0] > 0;
	if (!any)
		return;
	fprintf(f, "%-32s %-8s %-12s %9s %7s %11s %8s\n", "MOUNT", "BACKEND",
		what, "CALLS", "ERRORS", "BYTES", "MEAN ms");
	for (int i = 0; i < t->n; i++) {
		const struct row *r = &t->r[i];
		char b[32];
		if (!r->v[0])
			continue;
		fprintf(f, "%-32s %-8s %-12s %9.0f %7.0f %11s %8.2f\n", r->a,
			r->c, r->b, r->v[0], r->v[1],
			r->v[2] ? human(r->v[2], b, sizeof b) : "-",
			r->v[3] * 1000 / r->v[0]);
	}
	fputc('\n', f);
}

void status_print(const char *text, FILE *f)
{
	/* ops: v = calls, errors, bytes, latency sum; mounts: v = hits,
	 * misses, parts, staged, used, budget; http: v = requests */
	struct table *ops = calloc(1, sizeof *ops);
	struct table *mounts = calloc(1, sizeof *mounts);
	struct table *http = calloc(1, sizeof *http);
	struct table *retries = calloc(1, sizeof *retries);
	struct table *fsops = calloc(1, sizeof *fsops);
	double started = 0;
	char *copy = strdup(text), *save = NULL;

	if (!ops || !mounts || !http || !retries || !fsops || !copy)
		goto out;
	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char m[256] = "", op[64] = "", be[64] = "", st[16] = "";
		const char *sp = strrchr(l, ' ');
		double v = sp ? strtod(sp + 1, NULL) : 0;
		struct row *r = NULL;
		int k = -1;

		if (l[0] == '#' || !sp)
			continue;
		label(l, "mount", m, sizeof m);
		label(l, "op", op, sizeof op);
		label(l, "backend", be, sizeof be);
		if (!strncmp(l, "scopefs_start_time_seconds ", 27)) {
			started = v;
		} else if (!strncmp(l, "scopefs_fs_requests_total{", 26)) {
			r = row(fsops, m, op, be), k = 0;
		} else if (!strncmp(l, "scopefs_fs_errors_total{", 24)) {
			r = row(fsops, m, op, be), k = 1;
		} else if (!strncmp(l, "scopefs_fs_bytes_total{", 23)) {
			r = row(fsops, m, op, be), k = 2;
		} else if (!strncmp(l, "scopefs_fs_latency_seconds_sum{", 31)) {
			r = row(fsops, m, op, be), k = 3;
		} else if (!strncmp(l, "scopefs_store_requests_total{", 29)) {
			r = row(ops, m, op, be), k = 0;
		} else if (!strncmp(l, "scopefs_store_errors_total{", 27)) {
			r = row(ops, m, op, be), k = 1;
		} else if (!strncmp(l, "scopefs_store_bytes_total{", 26)) {
			r = row(ops, m, op, be), k = 2;
		} else if (!strncmp(l, "scopefs_store_latency_seconds_sum{", 34)) {
			r = row(ops, m, op, be), k = 3;
		} else if (!strncmp(l, "scopefs_cache_hits_total{", 25)) {
			r = row(mounts, m, be, ""), k = 0;
		} else if (!strncmp(l, "scopefs_cache_misses_total{", 27)) {
			r = row(mounts, m, be, ""), k = 1;
		} else if (!strncmp(l, "scopefs_parts_in_flight{", 24)) {
			r = row(mounts, m, be, ""), k = 2;
		} else if (!strncmp(l, "scopefs_staged_files{", 21)) {
			r = row(mounts, m, be, ""), k = 3;
		} else if (!strncmp(l, "scopefs_memory_used_bytes{", 26)) {
			r = row(mounts, m, be, ""), k = 4;
		} else if (!strncmp(l, "scopefs_memory_budget_bytes{", 28)) {
			r = row(mounts, m, be, ""), k = 5;
		} else if (!strncmp(l, "scopefs_http_requests_total{", 28)) {
			label(l, "method", op, sizeof op);
			label(l, "status", st, sizeof st);
			r = row(http, be, op, st), k = 0;
		} else if (!strncmp(l, "scopefs_http_retries_total{", 27)) {
			label(l, "method", op, sizeof op);
			r = row(retries, be, op, ""), k = 0;
		}
		if (r && k >= 0)
			r->v[k] += v;
	}
	if (started > 0) {
		long up = (long)(time(NULL) - started);
		fprintf(f, "up %ldd %02ld:%02ld:%02ld\n\n", up / 86400,
			up / 3600 % 24, up / 60 % 60, up % 60);
	}
	print_ops(f, fsops, "MOUNT OP");
	print_ops(f, ops, "STORE OP");
	/* the object layer's state: only mounts that have one */
	for (int i = 0, shown = 0; i < mounts->n; i++) {
		struct row *r = &mounts->r[i];
		char u[32], b[32], ub[80];
		if (!r->v[5])
			continue;
		if (!shown++)
			fprintf(f, "%-32s %-8s %9s %9s %6s %6s %21s\n", "MOUNT",
				"BACKEND", "CACHE HIT", "MISS", "PARTS",
				"STAGED", "MEMORY USED/BUDGET");
		snprintf(ub, sizeof ub, "%s / %s", human(r->v[4], u, sizeof u),
			 human(r->v[5], b, sizeof b));
		fprintf(f, "%-32s %-8s %9.0f %9.0f %6.0f %6.0f %21s\n", r->a,
			r->b, r->v[0], r->v[1], r->v[2], r->v[3], ub);
	}
	if (http->n)
		fprintf(f, "\n%-16s %-7s %-7s %10s %8s\n", "BACKEND",
			"METHOD", "STATUS", "REQUESTS", "RETRIES");
	for (int i = 0; i < http->n; i++) {
		struct row *r = &http->r[i];
		struct row *rt = row(retries, r->a, r->b, "");
		fprintf(f, "%-16s %-7s %-7s %10.0f %8.0f\n", r->a, r->b,
			strcmp(r->c, "0") ? r->c : "none", r->v[0],
			rt ? rt->v[0] : 0);
		if (rt)
			rt->v[0] = 0; /* shown once per method */
	}
out:
	free(copy);
	free(ops);
	free(mounts);
	free(http);
	free(retries);
	free(fsops);
}
