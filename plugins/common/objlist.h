/* objlist: one page of a listing as an object plugin parsed it, and its
 * delivery to the core: objects and common prefixes merged in key order,
 * keys made relative to the mount's prefix. */
#ifndef SCOPEFS_OBJLIST_H
#define SCOPEFS_OBJLIST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <scopefs/plugin.h>

#pragma GCC visibility push(hidden)

struct objlist_object {
	char *key; /* full key */
	uint64_t size;
	struct timespec mtime;
	char etag[SCOPEFS_ETAG_MAX];
	/* User metadata when the listing carries it (keys and values
	 * malloc'd), else none. */
	struct scopefs_object_meta *meta;
	size_t nmeta;
};

struct objlist {
	struct objlist_object *objects;
	size_t nobjects;
	char **prefixes; /* common prefixes, full keys ending in '/' */
	size_t nprefixes;
	char *next_token; /* the server's continuation, or NULL */
};

/* A zeroed new object at the end of the page (its fields to fill), or
 * NULL when out of memory. */
struct objlist_object *objlist_add_object(struct objlist *l);
/* Take PREFIX (malloc'd) into the page; -ENOMEM (and PREFIX freed). */
int objlist_add_prefix(struct objlist *l, char *prefix);
/* Append a metadata pair (copied) to O; -ENOMEM. */
int objlist_add_meta(struct objlist_object *o, const char *key,
		     const char *value);
/* Hand the page to FN in key order, keys relative to KEY_PREFIX (entries
 * outside it, and its own marker, are left out).  FN's first non-zero
 * result, else 0. */
int objlist_deliver(const struct objlist *l, const char *key_prefix,
		    scopefs_list_fn fn, void *ctx);
/* The end of a plugin's list call: the page's continuation (-EIO after
 * set_error naming PREFIX when it is longer than the ABI carries), then
 * objlist_deliver, then TOKEN set to the next page's continuation ("" at
 * the end). */
int objlist_finish(const struct scopefs_host *h, const struct objlist *l,
		   const char *key_prefix, const char *prefix,
		   char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn,
		   void *ctx);
void objlist_free(struct objlist *l);

#pragma GCC visibility pop

#endif
