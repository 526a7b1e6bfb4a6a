/* usage: which storage prefixes a scope of a config covers, and how much
 * each holds (objects, bytes, oldest and newest modification).
 *
 *   user, cloud: the prefix each [mount] of that scope resolves to.
 *   cluster:     every workload's prefix the mounts' templates describe
 *                (workloads.h): job/NAME/cluster_storage for each NAME
 *                under job/, the same for workspaces/, job_queue/ and
 *                service/ with the default templates, plus this
 *                config's own prefix even while it is empty.
 *
 * Times are the store's: an object's Last-Modified (a listing's, what
 * lifecycle rules go by), a file's or directory's mtime on local and nfs.
 * Directories and markers count as dirs, not objects, but their times
 * count: a directory made or emptied yesterday is yesterday's write. */
#ifndef SCOPEFS_USAGE_H
#define SCOPEFS_USAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "backend.h"
#include "config.h"
#include "progress.h"
#include "store_walk.h"

struct usage_stats {
	uint64_t objects; /* files, symlinks, objects (not markers) */
	uint64_t dirs;    /* directories and markers below the prefix */
	uint64_t bytes;   /* sizes of all of them (markers are usually 0) */
	uint64_t untimed; /* entries the store gave no time for */
	int timed;        /* oldest and newest are set */
	struct timespec oldest, newest;
};

struct usage_row {
	enum cfg_scope scope;
	size_t backend;      /* index into the config's backends */
	char *prefix;
	/* cluster rows found through a pattern: the prefix listed to find
	 * them ("job"), and what the name below it says */
	char *parent;
	enum cfg_workload workload; /* WORKLOAD_NONE: not known */
	char *workload_id;
	int current;  /* a [mount] of CONFIG has exactly this prefix */
	int guarded;  /* a [mount] of CONFIG on this backend has this prefix,
		       * one inside it or one around it */
	int found;    /* the walk saw anything (fs: the directory exists) */
	struct usage_stats st;
	char *error;  /* the walk failed (st is then partial): why */
};

struct usage {
	const struct config *conf;
	struct backend *backends;
	struct store *stores; /* per backend, opened when first needed */
	char **store_err;     /* per backend: why it would not open, so
			       * that it is asked once, not once per row */
	int writable;         /* open the stores for removing */
	struct usage_row *rows;
	size_t nrows, cap;
	char **notes;         /* what could not be covered, one line each */
	size_t nnotes;
	int errors;           /* backend errors (rows' and notes') */
	struct progress prog;
	uint64_t seen;        /* entries walked so far, for the progress */
};

/* C and its opened backends B (backends_open) stay the caller's. */
int usage_init(struct usage *u, const struct config *c, struct backend *b,
	       int writable);
void usage_free(struct usage *u);

/* Add the rows of scope S (sorted by backend and prefix) and, with
 * MEASURE, walk each for its stats; cluster rows a pattern found with
 * nothing under them are then dropped.  Failures are recorded in rows and
 * notes and counted in errors; the return is -errno only when nothing
 * could be done (out of memory). */
int usage_collect(struct usage *u, enum cfg_scope s, int measure);

/* Does CONFIG have a [mount] of scope S? */
int usage_has_scope(const struct config *c, enum cfg_scope s);

/* The opened store of backend I, or NULL with err. */
struct store *usage_store(struct usage *u, size_t i, char *err,
			  size_t errlen);

/* Add E's size, kind and time to ST. */
void usage_stats_add(struct usage_stats *st, const struct store_entry *e);
/* Add a row's totals to a scope's. */
void usage_stats_merge(struct usage_stats *into, const struct usage_stats *st);

/* Record a line for the report (printf-style); counts an error if ERROR. */
void usage_note(struct usage *u, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
