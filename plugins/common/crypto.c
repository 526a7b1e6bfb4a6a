/* crypto: HMAC-SHA256, RS256 and base64 with OpenSSL (see crypto.h). */
#include "crypto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

int hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
		unsigned char out[32])
{
	unsigned int n = 0;

	if (keylen > 0x7fffffff ||
	    !HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &n) ||
	    n != 32)
		return -1;
	return 0;
}

char *b64_encode(const void *data, size_t len)
{
	char *out;

	if (len > 0x3fffffff)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

unsigned char *b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out;
	int got;

	if (n % 4 != 0 || n > 0x3fffffff)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (got < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts '=' padding as zero bytes. */
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	*len = (size_t)got - pad;
	out[*len] = '\0';
	return out;
}

char *b64url_encode(const void *data, size_t len)
{
	char *out = b64_encode(data, len);
	size_t n;

	if (!out)
		return NULL;
	for (n = 0; out[n] && out[n] != '='; n++)
		out[n] = out[n] == '+' ? '-' : out[n] == '/' ? '_' : out[n];
	out[n] = '\0';
	return out;
}

int rs256_sign(const char *key_pem, const void *msg, size_t len,
	       unsigned char **sig, size_t *siglen)
{
	BIO *bio = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t n = 0;
	int rc = -ENOMEM;

	*sig = NULL;
	if (!bio)
		return -ENOMEM;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		rc = -EINVAL;
		goto out;
	}
	if (!(ctx = EVP_MD_CTX_new()))
		goto out;
	rc = -EIO;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, msg, len) != 1)
		goto out;
	rc = -ENOMEM;
	if (!(*sig = malloc(n)))
		goto out;
	rc = -EIO;
	if (EVP_DigestSign(ctx, *sig, &n, msg, len) != 1) {
		free(*sig);
		*sig = NULL;
		goto out;
	}
	*siglen = n;
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return rc;
}

void secret_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}
