/*
 * sigv4: AWS Signature Version 4 for S3 requests (header authorization,
 * single-chunk payloads).  Pure computation: no I/O, no globals.
 */
#ifndef SCOPEFS_S3_SIGV4_H
#define SCOPEFS_S3_SIGV4_H

#include <stddef.h>

#include "../common/pair.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* Exported from the plugin only so tests/unit/test_sigv4.c can dlsym()
 * them; everything else in the plugin is hidden (plugin.mk). */
#define SIGV4_API __attribute__((visibility("default")))

#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SIGV4_UNSIGNED "UNSIGNED-PAYLOAD"

struct sigv4_request {
	const char *method;
	/* The path exactly as sent: each segment already encoded, e.g. by
	 * s3_sigv4_uri_encode(key, 1). */
	const char *canonical_uri;
	/* The query exactly as sent, already canonical (see
	 * s3_sigv4_canonical_query), "" for none. */
	const char *canonical_query;
	/* Every header to sign, "host" included; names in any case, no
	 * duplicates.  The signer lower-cases, trims and sorts them. */
	const struct http_pair *headers;
	size_t nheaders;
	const char *payload_hash; /* hex SHA-256 or SIGV4_UNSIGNED */
	const char *amz_date;     /* YYYYMMDD'T'HHMMSS'Z', as sent */
	const char *region;
	const char *service;      /* "s3" */
	const char *access_key_id;
	const char *secret_key;
};

struct sigv4_result {
	char signature[65];
	/* malloc'd; the intermediate strings are kept for tests and for
	 * debugging a SignatureDoesNotMatch. */
	char *canonical_request;
	char *string_to_sign;
	char *authorization; /* the Authorization header's value */
};

/* Returns 0, or -ENOMEM / -EINVAL (a missing field). */
SIGV4_API int s3_sigv4_sign(const struct sigv4_request *r,
			    struct sigv4_result *out);
SIGV4_API void s3_sigv4_result_free(struct sigv4_result *out);

/* Lower-case hex SHA-256 of DATA. */
SIGV4_API void s3_sigv4_sha256_hex(const void *data, size_t len,
				   char hex[65]);

/* Every byte but A-Z a-z 0-9 - . _ ~ as %XX, '/' kept when keep_slash.
 * malloc'd, NULL when out of memory. */
SIGV4_API char *s3_sigv4_uri_encode(const char *s, int keep_slash);

/* "name=value&..." with names and values encoded, sorted by name then
 * value, '=' present even for empty values.  NULL values count as "".
 * malloc'd, NULL when out of memory. */
SIGV4_API char *s3_sigv4_canonical_query(const struct http_pair *p,
					 size_t n);

/* "YYYYMMDD'T'HHMMSS'Z'" for time T. */
void s3_sigv4_amz_date(long long t, char out[17]);

#pragma GCC visibility pop

#endif
