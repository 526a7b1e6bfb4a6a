/*
 * sharedkey: Azure Storage's Shared Key authorization (version 2015-02-21
 * and later): the string to sign from the verb, twelve standard headers,
 * the canonicalized x-ms-* headers and the canonicalized resource, signed
 * with HMAC-SHA256 under the decoded account key.  Pure computation.
 *
 * For a path-style emulator URL (http://127.0.0.1:10000/ACCOUNT/C/B) the
 * path already starts with the account, so the resource carries it twice:
 * "/ACCOUNT/ACCOUNT/C/B".
 */
#ifndef SCOPEFS_AZ_SHAREDKEY_H
#define SCOPEFS_AZ_SHAREDKEY_H

#include <stddef.h>

#include "../common/pair.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* Exported only so that tests/unit/test_azblob_plugin.c can dlsym them. */
#define SHAREDKEY_API __attribute__((visibility("default")))

struct sharedkey_request {
	const char *method;
	const char *account;
	/* The URL's path exactly as sent (percent-encoded), from the first
	 * '/' on. */
	const char *path;
	/* Query parameters, values not encoded; names any case. */
	const struct http_pair *query;
	size_t nquery;
	/* Every header sent but Content-Length (names any case). */
	const struct http_pair *headers;
	size_t nheaders;
	unsigned long long content_length; /* signed as "" when 0 */
};

/* The string to sign, malloc'd; NULL when out of memory. */
SHAREDKEY_API char *az_sharedkey_string_to_sign(
	const struct sharedkey_request *r);
/* "SharedKey ACCOUNT:SIGNATURE" for R under KEY (the decoded account
 * key), malloc'd; NULL when out of memory or OpenSSL fails. */
SHAREDKEY_API char *az_sharedkey_authorization(
	const struct sharedkey_request *r, const unsigned char *key,
	size_t keylen);

#pragma GCC visibility pop

#endif
