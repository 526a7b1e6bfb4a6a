/* fuzz_deliver: a listing page handed over as a plugin's list call ends
 * (objlist_finish), for the targets of the listing parsers. */
#ifndef SCOPEFS_FUZZ_DELIVER_H
#define SCOPEFS_FUZZ_DELIVER_H

#include "fuzz_host.h"
#include "objlist.h"

/* What the core's list callback would be given; nothing to keep. */
static int fuzz_on_entry(void *ctx, const char *key, int is_prefix,
			 const struct scopefs_object_attr *a,
			 const struct scopefs_object_meta *meta, size_t nmeta)
{
	(void)ctx;
	(void)is_prefix;
	(void)a;
	(void)meta;
	(void)nmeta;
	if (!key[0])
		__builtin_trap(); /* objkey_relative never gives "" */
	return 0;
}

/* Every entry of L handed over, relative to a prefix some keys have and
 * to none. */
static inline void fuzz_deliver(const struct objlist *l)
{
	char token[SCOPEFS_TOKEN_MAX];

	objlist_finish(&fuzz_host, l, "", "", token, fuzz_on_entry, NULL);
	objlist_finish(&fuzz_host, l, "a/", "a/", token, fuzz_on_entry, NULL);
}

#endif
