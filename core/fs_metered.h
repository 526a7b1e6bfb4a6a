/* fs_metered: the mount's operations, counted.  Sits between the FUSE
 * front end and what serves the mount (an fs plugin, or the object
 * layer), so every mount has per-operation counts, errors, bytes and
 * latency in the metrics, whatever its backend. */
#ifndef SCOPEFS_FS_METERED_H
#define SCOPEFS_FS_METERED_H

#include <scopefs/plugin.h>
#include "metrics.h"

struct fs_metered {
	struct scopefs_fs_ops ops;   /* the counting table; NULL where the
				      * inner one has NULL */
	const struct scopefs_fs_ops *inner;
	void *inner_mnt;
	struct mx_mount *mx;
};

/* Fill M to count INNER (on INNER_MNT) into MX; then M->ops is used with
 * M itself as the mount. */
void fs_metered_init(struct fs_metered *m, const struct scopefs_fs_ops *inner,
		     void *inner_mnt, struct mx_mount *mx);

#endif
