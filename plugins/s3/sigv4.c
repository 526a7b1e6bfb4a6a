/* sigv4: AWS Signature Version 4 (see sigv4.h).  Steps and names follow
 * the AWS documentation: canonical request, string to sign, signing key
 * derived from the secret by date, region and service, signature. */
#include "sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/evp.h>

#include "crypto.h"
#include "strbuf.h"

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void s3_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32) {
		out[0] = '\0';
		return;
	}
	hex(md, 32, out);
}

static int hmac(const void *key, size_t keylen, const char *msg,
		unsigned char out[32])
{
	return hmac_sha256(key, keylen, msg, strlen(msg), out);
}

char *s3_sigv4_uri_encode(const char *s, int keep_slash)
{
	struct strbuf b = STRBUF_INIT;

	sb_add_uri_encoded(&b, s, keep_slash);
	return sb_done(&b);
}

struct enc_pair {
	char *name;
	char *value;
};

static int cmp_enc_pair(const void *a, const void *b)
{
	const struct enc_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

char *s3_sigv4_canonical_query(const struct http_pair *p, size_t n)
{
	struct enc_pair *v = n ? calloc(n, sizeof *v) : NULL;
	struct strbuf b = STRBUF_INIT;
	char *out = NULL;
	size_t i;

	if (n && !v)
		return NULL;
	for (i = 0; i < n; i++) {
		v[i].name = s3_sigv4_uri_encode(p[i].name, 0);
		v[i].value = s3_sigv4_uri_encode(p[i].value ? p[i].value : "",
						 0);
		if (!v[i].name || !v[i].value)
			goto out;
	}
	/* Sorted after encoding: AWS compares the encoded bytes. */
	if (n)
		qsort(v, n, sizeof *v, cmp_enc_pair);
	for (i = 0; i < n; i++)
		sb_addf(&b, "%s%s=%s", i ? "&" : "", v[i].name, v[i].value);
	out = sb_done(&b);
out:
	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	sb_free(&b);
	return out;
}

void s3_sigv4_amz_date(long long t, char out[17])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

struct lc_header {
	char *name;        /* lower case */
	const char *value; /* as given; trimmed when written */
};

static int cmp_header(const void *a, const void *b)
{
	return strcmp(((const struct lc_header *)a)->name,
		      ((const struct lc_header *)b)->name);
}

/* "value" with leading/trailing blanks dropped and inner runs of blanks
 * squeezed to one space, as the canonical headers require. */
static void add_trimmed(struct strbuf *b, const char *v)
{
	int space = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = 1;
			continue;
		}
		if (space)
			sb_addc(b, ' ');
		space = 0;
		sb_addc(b, *v);
	}
}

/* Canonical headers and the signed-headers list, in one pass. */
static int canonical_headers(const struct sigv4_request *r,
			     struct strbuf *canon, struct strbuf *signed_list)
{
	struct lc_header *h = calloc(r->nheaders ? r->nheaders : 1, sizeof *h);
	size_t i;
	int rc = -ENOMEM;

	if (!h)
		return -ENOMEM;
	for (i = 0; i < r->nheaders; i++) {
		h[i].name = strdup(r->headers[i].name);
		h[i].value = r->headers[i].value ? r->headers[i].value : "";
		if (!h[i].name)
			goto out;
		for (char *c = h[i].name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	qsort(h, r->nheaders, sizeof *h, cmp_header);
	for (i = 0; i < r->nheaders; i++) {
		sb_add(canon, h[i].name);
		sb_addc(canon, ':');
		add_trimmed(canon, h[i].value);
		sb_addc(canon, '\n');
		if (i)
			sb_addc(signed_list, ';');
		sb_add(signed_list, h[i].name);
	}
	rc = canon->oom || signed_list->oom ? -ENOMEM : 0;
out:
	for (i = 0; i < r->nheaders; i++)
		free(h[i].name);
	free(h);
	return rc;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
 * service), "aws4_request"). */
static int signing_key(const struct sigv4_request *r, const char *date,
		       unsigned char key[32])
{
	struct strbuf k = STRBUF_INIT;
	unsigned char a[32], b[32];
	int rc;

	sb_add(&k, "AWS4");
	sb_add(&k, r->secret_key);
	if (k.oom) {
		sb_free(&k);
		return -ENOMEM;
	}
	rc = hmac(k.s, k.len, date, a) || hmac(a, 32, r->region, b) ||
	     hmac(b, 32, r->service, a) || hmac(a, 32, "aws4_request", key);
	OPENSSL_cleanse(k.s, k.len);
	sb_free(&k);
	OPENSSL_cleanse(a, sizeof a);
	OPENSSL_cleanse(b, sizeof b);
	return rc ? -EIO : 0;
}

int s3_sigv4_sign(const struct sigv4_request *r, struct sigv4_result *out)
{
	struct strbuf canon = STRBUF_INIT, hdrs = STRBUF_INIT,
		      signed_list = STRBUF_INIT, sts = STRBUF_INIT,
		      auth = STRBUF_INIT;
	char date[9], creq_hash[65];
	unsigned char key[32], sig[32];
	int rc;

	memset(out, 0, sizeof *out);
	if (!r->method || !r->canonical_uri || !r->payload_hash ||
	    !r->amz_date || strlen(r->amz_date) != 16 || !r->region ||
	    !r->service || !r->access_key_id || !r->secret_key)
		return -EINVAL;
	memcpy(date, r->amz_date, 8);
	date[8] = '\0';

	rc = canonical_headers(r, &hdrs, &signed_list);
	if (rc < 0)
		goto out;
	sb_addf(&canon, "%s\n%s\n%s\n", r->method, r->canonical_uri,
		r->canonical_query ? r->canonical_query : "");
	sb_addn(&canon, hdrs.s ? hdrs.s : "", hdrs.len);
	sb_addf(&canon, "\n%s\n%s", signed_list.s ? signed_list.s : "",
		r->payload_hash);
	rc = -ENOMEM;
	if (canon.oom)
		goto out;
	s3_sigv4_sha256_hex(canon.s, canon.len, creq_hash);

	sb_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
		r->amz_date, date, r->region, r->service, creq_hash);
	if (sts.oom)
		goto out;
	rc = signing_key(r, date, key);
	if (rc < 0)
		goto out;
	rc = hmac(key, 32, sts.s, sig) ? -EIO : 0;
	OPENSSL_cleanse(key, sizeof key);
	if (rc < 0)
		goto out;
	hex(sig, 32, out->signature);

	sb_addf(&auth,
		"AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,"
		"SignedHeaders=%s,Signature=%s",
		r->access_key_id, date, r->region, r->service,
		signed_list.s ? signed_list.s : "", out->signature);
	out->canonical_request = sb_done(&canon);
	out->string_to_sign = sb_done(&sts);
	out->authorization = sb_done(&auth);
	rc = out->canonical_request && out->string_to_sign &&
			     out->authorization
		     ? 0
		     : -ENOMEM;
	if (rc < 0)
		s3_sigv4_result_free(out);
out:
	sb_free(&canon);
	sb_free(&hdrs);
	sb_free(&signed_list);
	sb_free(&sts);
	sb_free(&auth);
	return rc;
}

void s3_sigv4_result_free(struct sigv4_result *out)
{
	free(out->canonical_request);
	free(out->string_to_sign);
	free(out->authorization);
	memset(out, 0, sizeof *out);
}
