/* workloads: a template's per-workload pattern (see the header).  The
 * template is expanded by scope.c, as for a mount, with a marker in
 * place of the workload id; where the marker lands splits the result
 * into parent, component and tail.  So the pattern obeys exactly the
 * rules a mount's prefix does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scope.h"
#include "workloads.h"

/* Stands for the id during expansion: a valid identity value (no '/'),
 * and nothing a template would hold. */
#define ID_MARK "<scopefs-workload-id>"

static const struct {
	enum cfg_workload w;
	const char *var; /* the platform's name for this type's id */
} types[] = {
	{ WORKLOAD_WORKSPACE, "{WORKSPACE_ID}" },
	{ WORKLOAD_JOB, "{JOB_ID}" },
	{ WORKLOAD_JOB_QUEUE, "{JOB_QUEUE_ID}" },
	{ WORKLOAD_SERVICE, "{SERVICE_ID}" },
};

/* Does TMPL name another type's id ({JOB_ID} for a workspace)?  Then it
 * has no prefix for type I. */
static int names_other_type(const char *tmpl, size_t i)
{
	for (size_t j = 0; j < sizeof types / sizeof *types; j++)
		if (j != i && strstr(tmpl, types[j].var))
			return 1;
	return 0;
}

void wl_pattern_clear(struct wl_pattern *p)
{
	free(p->parent);
	free(p->lead);
	free(p->trail);
	free(p->tail);
}

/* Split FULL (an expanded prefix with ID_MARK once) into P. */
static int split(const char *full, const char *mark, struct wl_pattern *p)
{
	const char *start = mark, *end = mark + strlen(ID_MARK);
	const char *stop;

	while (start > full && start[-1] != '/')
		start--;
	stop = strchrnul(end, '/');
	p->parent = strndup(full, start > full ? (size_t)(start - full - 1) : 0);
	p->lead = strndup(start, (size_t)(mark - start));
	p->trail = strndup(end, (size_t)(stop - end));
	p->tail = strdup(*stop ? stop + 1 : "");
	if (!p->parent || !p->lead || !p->trail || !p->tail) {
		wl_pattern_clear(p);
		return -ENOMEM;
	}
	return 0;
}

/* The pattern of TMPL for workload type W: 1 and *p, 0 when TMPL has no
 * workload id, or -errno with err. */
static int one_pattern(const char *tmpl, const struct cfg_identity *base,
		       enum cfg_workload w, struct wl_pattern *p, char *err,
		       size_t errlen)
{
	struct cfg_identity id = *base;
	char *full, *mark;
	int r;

	id.workload = w;
	id.workload_id = ID_MARK;
	if ((r = scope_expand(tmpl, &id, &full, err, errlen)) < 0)
		return r;
	mark = strstr(full, ID_MARK);
	if (!mark) {
		free(full);
		return 0;
	}
	if (strstr(mark + 1, ID_MARK)) {
		snprintf(err, errlen, "prefix '%s' has the workload id in "
			 "more than one place; usage and gc can find other "
			 "workloads' prefixes only when it fills one "
			 "component once", tmpl);
		free(full);
		return -EINVAL;
	}
	memset(p, 0, sizeof *p);
	r = split(full, mark, p);
	free(full);
	if (r < 0)
		return r;
	p->workload = w;
	return 1;
}

int wl_pattern_same(const struct wl_pattern *a, const struct wl_pattern *b)
{
	return !strcmp(a->parent, b->parent) && !strcmp(a->lead, b->lead) &&
	       !strcmp(a->trail, b->trail) && !strcmp(a->tail, b->tail);
}

int wl_patterns(const struct cfg_mount *m, const struct cfg_identity *id,
		struct wl_pattern **out, size_t *n, char *err, size_t errlen)
{
	const size_t ntypes = sizeof types / sizeof *types;
	struct wl_pattern *v = calloc(ntypes, sizeof *v);
	size_t got = 0;
	int r = 0, none = 0;

	*out = NULL;
	*n = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < ntypes; i++) {
		const char *tmpl = m->prefix_template;
		struct wl_pattern p;
		size_t j;

		if (!tmpl)
			tmpl = scope_default_template(SCOPE_CLUSTER, types[i].w);
		if (names_other_type(tmpl, i))
			continue;
		r = one_pattern(tmpl, id, types[i].w, &p, err, errlen);
		if (r < 0)
			break;
		if (r == 0) {
			none = 1;
			continue;
		}
		for (j = 0; j < got && !wl_pattern_same(&v[j], &p); j++)
			;
		if (j < got) {
			v[j].workload = WORKLOAD_NONE; /* shared by types */
			wl_pattern_clear(&p);
		} else {
			v[got++] = p;
		}
		r = 0;
	}
	if (r < 0 || none) {
		/* "none": an id-less template ({workload} alone names a
		 * type, not a workload) has one prefix per machine */
		wl_patterns_free(v, got);
		return r < 0 ? r : 0;
	}
	*out = v;
	*n = got;
	return 0;
}

void wl_patterns_free(struct wl_pattern *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		wl_pattern_clear(&p[i]);
	free(p);
}

int wl_match(const struct wl_pattern *p, const char *name, char **wid)
{
	size_t nl = strlen(name), ll = strlen(p->lead), tl = strlen(p->trail);
	size_t idl;

	if (nl <= ll + tl || strncmp(name, p->lead, ll) != 0 ||
	    strcmp(name + nl - tl, p->trail) != 0 || strchr(name, '/'))
		return 0;
	idl = nl - ll - tl;
	/* what scope.c refuses as an id is no workload's */
	if ((idl == 1 && name[ll] == '.') ||
	    (idl == 2 && name[ll] == '.' && name[ll + 1] == '.'))
		return 0;
	if (wid && !(*wid = strndup(name + ll, idl)))
		return -ENOMEM;
	return 1;
}

char *wl_prefix(const struct wl_pattern *p, const char *name)
{
	char *s;

	if (asprintf(&s, "%s%s%s%s%s", p->parent, *p->parent ? "/" : "", name,
		     *p->tail ? "/" : "", p->tail) < 0)
		return NULL;
	return s;
}
