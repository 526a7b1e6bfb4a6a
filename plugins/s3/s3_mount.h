/* s3_mount: mount_open / mount_close of the s3 plugin. */
#ifndef SCOPEFS_S3_MOUNT_H
#define SCOPEFS_S3_MOUNT_H

#include "s3.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* Serve the mount rooted at PREFIX (under the section's prefix): builds
 * the connection pool, resolves keys and lists one key under the prefix.
 * Fails with set_error naming the reason when the bucket cannot be used. */
int s3_mount_open(const struct s3_config *cfg, const char *prefix,
		  unsigned int flags, void **mnt);
void s3_mount_close(void *mnt);

#pragma GCC visibility pop

#endif
