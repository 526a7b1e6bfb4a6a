/* s3_config: reading a [backend] section into struct s3_config. */
#ifndef SCOPEFS_S3_CONFIG_H
#define SCOPEFS_S3_CONFIG_H

#include "s3.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

void s3_config_init(struct s3_config *c, const struct scopefs_host *host);
/* One key; -EINVAL after set_error for an unknown key or a bad value. */
int s3_config_key(struct s3_config *c, const char *key, const char *value);
/* Required keys, combinations, defaults, and the permissions of a file
 * that holds secrets. */
int s3_config_complete(struct s3_config *c);
void s3_config_free(struct s3_config *c); /* wipes the secrets */

#pragma GCC visibility pop

#endif
