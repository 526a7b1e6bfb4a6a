/* s3_key: the mount's view of plugins/common/objkey.c: keys checked and
 * prefixed with the mount's key_prefix, at most S3's 1024 bytes. */
#include "objkey.h"
#include "s3.h"

int s3_key_check(const struct s3_mount *m, const char *op, const char *key,
		 int allow_empty)
{
	return objkey_check(m->host, op, key, allow_empty);
}

char *s3_key_full(const struct s3_mount *m, const char *op, const char *key)
{
	return objkey_full(m->host, m->key_prefix, S3_MAX_KEY, op, key);
}
