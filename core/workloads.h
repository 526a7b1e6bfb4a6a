/* workloads: from a cluster mount's prefix template to the pattern every
 * workload's cluster storage follows, so that `scopefs usage` and
 * `scopefs gc` can find all of them, not only this machine's:
 *
 *   job/{JOB_ID}/cluster_storage  ->  parent "job", any NAME below it,
 *                                     prefix "job/NAME/cluster_storage"
 *
 * The workload id must fill one path component (with literal text
 * around it if need be: "run-{workload_id}"), once.  Every other
 * variable takes this config's value ({user_id}, {cloud_id}), and
 * {workload} each workload type's name in turn. */
#ifndef SCOPEFS_WORKLOADS_H
#define SCOPEFS_WORKLOADS_H

#include <stddef.h>
#include "config.h"

/* PARENT/LEAD<id>TRAIL[/TAIL] */
struct wl_pattern {
	char *parent; /* "" = the backend's root */
	char *lead, *trail; /* literal text around the id in its component */
	char *tail;   /* components after it, "" for none */
	/* the workload type the pattern is for; WORKLOAD_NONE when all
	 * types share it (a template with {workload_id} only) */
	enum cfg_workload workload;
};

/* The patterns of cluster mount M: one per workload type the template
 * can name (the four default templates when M has no prefix key),
 * duplicates merged.  *n = 0 when the template has no workload id at
 * all: M's prefix is then the only one it has.  -EINVAL with err when
 * the id appears twice or the template cannot be expanded. */
int wl_patterns(const struct cfg_mount *m, const struct cfg_identity *id,
		struct wl_pattern **out, size_t *n, char *err, size_t errlen);
void wl_patterns_free(struct wl_pattern *p, size_t n);
/* Free the strings of one pattern (not P itself). */
void wl_pattern_clear(struct wl_pattern *p);
/* Do A and B describe the same prefixes (their types aside)? */
int wl_pattern_same(const struct wl_pattern *a, const struct wl_pattern *b);

/* NAME, one component below p->parent, is a workload's: its id (a
 * malloc'd copy) in *wid if non-NULL.  0: not one of p's. */
int wl_match(const struct wl_pattern *p, const char *name, char **wid);
/* The prefix the workload of component NAME uses; malloc'd, or NULL. */
char *wl_prefix(const struct wl_pattern *p, const char *name);

#endif
