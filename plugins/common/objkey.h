/* objkey: the one place an object plugin checks and prefixes the keys the
 * core hands it, so that no key can leave the mount's prefix. */
#ifndef SCOPEFS_OBJKEY_H
#define SCOPEFS_OBJKEY_H

#include <stddef.h>
#include <scopefs/plugin.h>

#pragma GCC visibility push(hidden)

/* Check a key relative to the mount: no leading '/', no empty, "." or
 * ".." component (a trailing '/' marks a directory and is fine).  "" is
 * accepted only when allow_empty (a listing of the root).  Returns 0 or
 * -EINVAL after set_error. */
int objkey_check(const struct scopefs_host *h, const char *op,
		 const char *key, int allow_empty);
/* PREFIX + KEY, malloc'd; NULL with errno ENAMETOOLONG (longer than MAX
 * bytes) or ENOMEM, after set_error. */
char *objkey_full(const struct scopefs_host *h, const char *prefix,
		  size_t max, const char *op, const char *key);
/* Join and normalise prefixes ("a//b/" + "/c" -> "a/b/c/", "" stays
 * ""); -EINVAL for "." or ".." components. */
int objkey_prefix_join(const char *base, const char *sub, char **out);
/* A mount's key prefix: the backend's BASE joined with the mount's
 * PREFIX; -EINVAL after set_error for "." or ".." components, -ENOMEM. */
int objkey_mount_prefix(const struct scopefs_host *h, const char *base,
			const char *prefix, char **out);
/* KEY relative to PREFIX, or NULL for one outside it or the prefix's
 * own marker (a listing's entries). */
const char *objkey_relative(const char *prefix, const char *key);

#pragma GCC visibility pop

#endif
