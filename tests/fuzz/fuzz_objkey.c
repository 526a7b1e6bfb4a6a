/* fuzz_objkey: the keys of object plugins (objkey.c) and the URI encoding
 * of strbuf.c, by the properties they promise.  The input is
 * "PREFIX\nKEY" (no '\n': all of it is the key, under "base/"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "objkey.h"
#include "strbuf.h"

/* No leading '/', no empty, "." or ".." component but for a trailing
 * '/': what objkey_check lets through (and the core relies on). */
static void check_key_form(const char *k)
{
	if (k[0] == '/')
		__builtin_trap();
	while (*k) {
		size_t n = strcspn(k, "/");
		if (n == 0 || (n == 1 && k[0] == '.') ||
		    (n == 2 && k[0] == '.' && k[1] == '.'))
			__builtin_trap();
		k += n;
		if (*k == '/')
			k++;
	}
}

/* A prefix objkey_prefix_join made: "" or components each ending '/'. */
static void check_prefix_form(const char *p)
{
	size_t n = strlen(p);

	if (n && p[n - 1] != '/')
		__builtin_trap();
	if (n)
		check_key_form(p);
}

/* Encoding then decoding gives S back, and the encoding holds only the
 * unreserved bytes, '%' and (when kept) '/'. */
static void check_uri(const char *s, int keep_slash)
{
	struct strbuf b = STRBUF_INIT;
	char *e;

	sb_add_uri_encoded(&b, s, keep_slash);
	if (!(e = sb_done(&b)))
		return;
	for (const char *c = e; *c; c++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789-._~%", *c) &&
		    !(keep_slash && *c == '/'))
			__builtin_trap();
	uri_decode(e, 0);
	if (strcmp(e, s) != 0)
		__builtin_trap();
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_string(data, size), *nl, *prefix = NULL, *full;
	const char *base = "base/", *key, *rel;

	if (!in)
		return 0;
	if ((nl = strchr(in, '\n'))) {
		*nl = '\0';
		base = in;
		key = nl + 1;
	} else {
		key = in;
	}
	check_uri(key, 0);
	check_uri(key, 1);
	if (objkey_mount_prefix(&fuzz_host, base, key, &prefix) == 0) {
		check_prefix_form(prefix);
		free(prefix);
	}
	prefix = NULL;
	if (objkey_prefix_join(base, "", &prefix) != 0)
		goto out;
	check_prefix_form(prefix);
	if (objkey_check(&fuzz_host, "fuzz", key, 1) == 0) {
		check_key_form(key);
		full = objkey_full(&fuzz_host, prefix, 1024, "fuzz", key);
		if (full) {
			/* Back from a listing: the key itself, or nothing
			 * for the prefix's own marker. */
			rel = objkey_relative(prefix, full);
			if (key[0] ? !rel || strcmp(rel, key) != 0 : rel != NULL)
				__builtin_trap();
			free(full);
		} else if (strlen(prefix) + strlen(key) <= 1024) {
			__builtin_trap(); /* refused though short enough */
		}
	}
out:
	free(prefix);
	free(in);
	return 0;
}
