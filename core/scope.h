/* scope: from (identity, scope, template) to the storage prefix of a mount. */
#ifndef SCOPEFS_SCOPE_H
#define SCOPEFS_SCOPE_H

#include <stddef.h>
#include "config.h"

/* The default template for a scope and workload type, e.g.
 * "job/{workload_id}/cluster_storage"; NULL when cluster scope has no
 * workload type. */
const char *scope_default_template(enum cfg_scope s, enum cfg_workload w);

/* Expand a template.  Variables: {cloud_id} {user_id} {workload}
 * {workload_id} and the platform's names {CLOUD_ID} {USER_ID}
 * {WORKSPACE_ID} {JOB_ID} {JOB_QUEUE_ID} {SERVICE_ID} (the latter four only
 * for their own workload type).  The result is normalised (no leading,
 * trailing or doubled '/') and may not contain "." or ".." components.
 * Returns 0 and a malloc'd *out, or -EINVAL with a message in err. */
int scope_expand(const char *tmpl, const struct cfg_identity *id, char **out,
		 char *err, size_t errlen);

/* Expand ${VAR} and ${VAR:-default} from the environment.  Returns 0 and a
 * malloc'd *out, or -EINVAL naming the variable that has no value. */
int scope_expand_env(const char *s, char **out, char *err, size_t errlen);

#endif
