/* objkey: key checks and prefixes for object plugins (see objkey.h). */
#include "objkey.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

int objkey_check(const struct scopefs_host *h, const char *op,
		 const char *key, int allow_empty)
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
	h->set_error(h, "%s '%s': %s", op, key ? key : "", why);
	return -EINVAL;
}

char *objkey_full(const struct scopefs_host *h, const char *prefix,
		  size_t max, const char *op, const char *key)
{
	struct strbuf b = STRBUF_INIT;
	char *s;

	sb_add(&b, prefix);
	sb_add(&b, key);
	if (!b.oom && b.len > max) {
		h->set_error(h, "%s '%s': key longer than %zu bytes with the "
			     "prefix", op, key, max);
		sb_free(&b);
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = sb_done(&b);
	if (!s) {
		h->set_error(h, "%s '%s': out of memory", op, key);
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

int objkey_prefix_join(const char *base, const char *sub, char **out)
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

int objkey_mount_prefix(const struct scopefs_host *h, const char *base,
			const char *prefix, char **out)
{
	int rc = objkey_prefix_join(base, prefix, out);

	if (rc == -EINVAL)
		h->set_error(h, "mount prefix '%s' has a '.' or '..' component",
			     prefix);
	return rc;
}

const char *objkey_relative(const char *prefix, const char *key)
{
	size_t n = strlen(prefix);

	if (strncmp(key, prefix, n) != 0 || !key[n])
		return NULL;
	return key + n;
}
