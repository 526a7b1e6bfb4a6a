/* crypto: HMAC-SHA256 and base64 with OpenSSL (see crypto.h). */
#include "crypto.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

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

void secret_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}
