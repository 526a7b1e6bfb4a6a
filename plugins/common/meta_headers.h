/* meta_headers: the core's user-metadata pairs as HTTP headers PREFIX+KEY
 * and back (see meta_headers.c for the value encoding). */
#ifndef SCOPEFS_META_HEADERS_H
#define SCOPEFS_META_HEADERS_H

#include <stddef.h>
#include <scopefs/plugin.h>

#include "http.h"

#pragma GCC visibility push(hidden)

/* Header pairs "PREFIXKEY: value" for META, *out one malloc'd block (free
 * it with free()).  -EINVAL (after set_error naming OP and NAME) for a
 * key KEY_OK refuses. */
int meta_headers(const struct scopefs_host *h, const char *prefix,
		 int (*key_ok)(const char *), const char *op, const char *name,
		 const struct scopefs_object_meta *meta, size_t nmeta,
		 struct http_pair **out);
/* Call FN for each PREFIX* header of RESP, key without the prefix and
 * lower-cased, value decoded.  FN's first non-zero result, or -ENOMEM. */
int meta_each(const struct http_response *resp, const char *prefix,
	      scopefs_meta_fn fn, void *ctx);
/* VALUE as meta_headers writes it: as is when it is printable ASCII
 * without surrounding blanks, else RFC 2047 "=?UTF-8?B?...?=".  For stores
 * whose metadata is not in headers (GCS's JSON), so that every store holds
 * the same text and meta_value_decode reads it back.  malloc'd; NULL when
 * out of memory. */
char *meta_value_encode(const char *value);
/* A value as meta_headers wrote it (or another tool, RFC 2047 ?B? or
 * ?Q?), decoded, malloc'd; NULL when out of memory. */
char *meta_value_decode(const char *v);

#pragma GCC visibility pop

#endif
