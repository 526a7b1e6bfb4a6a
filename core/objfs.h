/* objfs: the core's object layer.  It serves a filesystem (the fs-shaped
 * struct scopefs_fs_ops the FUSE front end calls) on top of an
 * object-store plugin's primitives (struct scopefs_object_ops). */
#ifndef SCOPEFS_OBJFS_H
#define SCOPEFS_OBJFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <scopefs/plugin.h>
#include "metrics.h"

struct objfs;

/* Tunables of the object layer, read from the [backend] section by the
 * core (the plugin never sees these keys). */
struct objfs_params {
	uint64_t part_size;       /* multipart part size (default 8 MiB) */
	unsigned parallelism;     /* parts / ranges in flight per mount (16) */
	uint64_t readahead_max;   /* largest readahead window per file */
	uint64_t memory_budget;   /* bytes of part and readahead buffers */
	int stage_all;            /* write_mode = stage: always stage on disk */
	int excl_local;           /* exclusive_create = local: O_EXCL checked
				   * by this daemon only, not by the store */
	double ttl;               /* attribute/entry/negative cache TTL, s */
	const char *cache_dir;    /* where staged files live */
	uid_t uid;                /* owner of objects without metadata */
	gid_t gid;
	int multi_user;           /* other users reach the mount (allow_other):
				   * never guess a mode the store has not told */
	const char *label;        /* "[mount /path]" for log lines */
	struct mx_mount *metrics; /* the mount's counters, or NULL */
};

/* Is KEY one of the object layer's own backend keys? */
int objfs_is_core_key(const char *key);
/* Parse one of those keys into p; -EINVAL with a message in err. */
int objfs_parse_key(struct objfs_params *p, const char *key,
		    const char *value, char *err, size_t errlen);
void objfs_params_default(struct objfs_params *p);

/* Serve the plugin mount PMNT (ops O, limits in O) with parameters P.
 * The host is used for the plugin's set_error messages in logs. */
int objfs_open(const struct scopefs_object_ops *o, void *pmnt,
	       const struct objfs_params *p, struct objfs **out);
void objfs_close(struct objfs *fs);

/* The fs-shaped operations; their mnt argument is the struct objfs. */
extern const struct scopefs_fs_ops objfs_fs_ops;

#endif
