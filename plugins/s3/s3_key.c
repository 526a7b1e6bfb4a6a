/* s3_key: the one place keys are checked and prefixed, so that no key
 * from the core can leave the mount's prefix. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "strbuf.h"

int s3_key_check(const struct s3_mount *m, const char *op, const char *key,
		 int allow_empty)
{
	const char *p = key, *why = NULL;

	if (!key)
		why = "no key";
	else if (!key[0] && !allow_empty)
		why = "empty key";
	else if (key[0] == '/')
		why = "key starts with '/'";
	while (!why && *p) {
		size_t n = strcspn(p, "/");
		if (n == 0)
			why = "empty component ('//')";
		else if ((n == 1 && p[0] == '.') ||
			 (n == 2 && p[0] == '.' && p[1] == '.'))
			why = "'.' or '..' component";
		p += n;
		if (*p == '/')
			p++; /* a trailing '/' (directory marker) is fine */
	}
	if (!why)
		return 0;
	m->host->set_error(m->host, "%s '%s': %s", op, key ? key : "", why);
	return -EINVAL;
}

char *s3_key_full(const struct s3_mount *m, const char *op, const char *key)
{
	struct strbuf b = STRBUF_INIT;
	char *s;

	sb_add(&b, m->key_prefix);
	sb_add(&b, key);
	if (!b.oom && b.len > S3_MAX_KEY) {
		m->host->set_error(m->host, "%s '%s': key longer than %d bytes "
				   "with the prefix", op, key, S3_MAX_KEY);
		sb_free(&b);
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = sb_done(&b);
	if (!s) {
		m->host->set_error(m->host, "%s '%s': out of memory", op, key);
		errno = ENOMEM;
	}
	return s;
}

/* Append the components of P to B, each followed by '/'. */
static int add_components(struct strbuf *b, const char *p)
{
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (n) {
			sb_addn(b, p, n);
			sb_addc(b, '/');
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return 0;
}

int s3_prefix_join(const char *base, const char *sub, char **out)
{
	struct strbuf b = STRBUF_INIT;

	*out = NULL;
	if (add_components(&b, base ? base : "") < 0 ||
	    add_components(&b, sub ? sub : "") < 0) {
		sb_free(&b);
		return -EINVAL;
	}
	*out = sb_done(&b);
	return *out ? 0 : -ENOMEM;
}
