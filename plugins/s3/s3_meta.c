/* s3_meta: user metadata as x-amz-meta-* headers, through
 * plugins/common/meta_headers.c.  S3 keys: lower-case letters, digits,
 * '-', '_' and '.'. */
#include <string.h>

#include "meta_headers.h"
#include "s3.h"

#define META_PREFIX "x-amz-meta-"

static int key_ok(const char *k)
{
	if (!k || !k[0])
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
		      *k == '-' || *k == '_' || *k == '.'))
			return 0;
	return 1;
}

int s3_meta_headers(const struct s3_mount *m, const char *op,
		    const char *name, const struct scopefs_object_meta *meta,
		    size_t nmeta, struct http_pair **out)
{
	return meta_headers(m->host, META_PREFIX, key_ok, op, name, meta,
			    nmeta, out);
}

int s3_meta_each(const struct http_response *resp, scopefs_meta_fn fn,
		 void *ctx)
{
	return meta_each(resp, META_PREFIX, fn, ctx);
}
