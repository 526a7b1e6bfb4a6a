/* gc: delete what a scope holds that nobody has written for a while.
 *
 * cluster (the default): whole workload prefixes (every one usage finds)
 *   whose NEWEST entry is older than the cut-off -- never one with a
 *   recent write, never one a [mount] of this config uses (the running
 *   workload's own), is inside or holds, never one that could not be
 *   listed in full or has an entry without a time.  The deletion pass
 *   checks each entry's time again and leaves anything written since the
 *   listing.  On local and nfs, the workload's directories left empty
 *   above the prefix (job/ID/) go too.
 * user, cloud (only when named): the scope's own prefix is never removed
 *   as a whole, since it is in use by definition; the files and objects
 *   in it older than the cut-off are, one by one.  Directories and
 *   markers stay.
 *
 * Without yes nothing is deleted: the report says what would go. */
#ifndef SCOPEFS_GC_H
#define SCOPEFS_GC_H

#include <stdio.h>
#include <time.h>
#include "usage.h"

struct gc_opts {
	enum cfg_scope scope;
	struct timespec cutoff; /* entries modified before this are old */
	const char *older_than; /* as given, for the report; or NULL */
	int yes;                /* delete (else a dry run) */
	int json;
};

/* Run gc on U (usage_init'ed, writable when o->yes) and print the report
 * to OUT.  Returns 0, 1 when something failed (a listing, a deletion:
 * each named in the report), or -errno when nothing could be done. */
int gc_run(struct usage *u, const struct gc_opts *o, FILE *out);

/* "30d", "12h", "90m", "45s", "2w" into seconds (> 0); -EINVAL with err. */
int gc_parse_duration(const char *s, long long *seconds, char *err,
		      size_t errlen);
/* "@SECONDS", "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) into *t. */
int gc_parse_time(const char *s, struct timespec *t, char *err,
		  size_t errlen);

#endif
