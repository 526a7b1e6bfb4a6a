/* crypto: the hashing and encoding the HTTP plugins sign with (OpenSSL):
 * HMAC-SHA256 (SigV4, SharedKey), RS256 (a Google service account's JWT)
 * and base64 in both alphabets.  Pure computation. */
#ifndef SCOPEFS_CRYPTO_H
#define SCOPEFS_CRYPTO_H

#include <stddef.h>

#pragma GCC visibility push(hidden) /* see plugins/s3/plugin.mk */

/* HMAC-SHA256 of MSG (LEN bytes) under KEY; 0, or -1 if OpenSSL fails. */
int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
		unsigned char out[32]);

/* Standard base64 (with '=' padding) of DATA, malloc'd and
 * NUL-terminated; NULL when out of memory. */
char *b64_encode(const void *data, size_t len);
/* Bytes of base64 text S into a malloc'd buffer (NUL-terminated, *len
 * without it); NULL for text that is not base64 or out of memory. */
unsigned char *b64_decode(const char *s, size_t *len);

/* Base64url without padding (RFC 4648 section 5, as JWTs use it) of
 * DATA, malloc'd and NUL-terminated; NULL when out of memory. */
char *b64url_encode(const void *data, size_t len);

/* RSASSA-PKCS1-v1_5 with SHA-256 ("RS256") of MSG under the PEM private
 * key KEY_PEM (PKCS#8 or PKCS#1).  The signature is malloc'd into *sig
 * (*siglen bytes).  0, -EINVAL for a key that is not an RSA private key
 * in PEM, -ENOMEM, or -EIO when OpenSSL fails to sign. */
int rs256_sign(const char *key_pem, const void *msg, size_t len,
	       unsigned char **sig, size_t *siglen);

/* Overwrite and free a secret string (NULL is fine). */
void secret_free(char *s);

#pragma GCC visibility pop

#endif
