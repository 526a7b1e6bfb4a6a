/* sharedkey: Azure Shared Key signing (see sharedkey.h).  The layout
 * follows "Authorize with Shared Key" of the Azure Storage REST docs. */
#include "sharedkey.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "strbuf.h"

/* The standard headers, in their order in the string to sign;
 * Content-Length is taken from the request itself. */
static const char *const standard[] = {
	"Content-Encoding", "Content-Language", NULL /* Content-Length */,
	"Content-MD5", "Content-Type", "Date", "If-Modified-Since",
	"If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
};

static const char *header(const struct sharedkey_request *r,
			  const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static int cmp_name(const void *a, const void *b)
{
	const struct http_pair *x = *(const struct http_pair *const *)a;
	const struct http_pair *y = *(const struct http_pair *const *)b;

	return strcasecmp(x->name, y->name);
}

static void add_lower(struct strbuf *b, const char *s)
{
	for (; *s; s++)
		sb_addc(b, (char)tolower((unsigned char)*s));
}

/* Pointers to the pairs of V whose names start with PREFIX (any case;
 * "" for all), sorted by name. */
static const struct http_pair **sorted(const struct http_pair *v, size_t n,
				       const char *prefix, size_t *count)
{
	const struct http_pair **p = calloc(n ? n : 1, sizeof *p);
	size_t k = 0, plen = strlen(prefix);

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncasecmp(v[i].name, prefix, plen) == 0)
			p[k++] = &v[i];
	qsort(p, k, sizeof *p, cmp_name);
	*count = k;
	return p;
}

char *az_sharedkey_string_to_sign(const struct sharedkey_request *r)
{
	struct strbuf b = STRBUF_INIT;
	const struct http_pair **h, **q;
	size_t nh = 0, nq = 0;

	h = sorted(r->headers, r->nheaders, "x-ms-", &nh);
	q = sorted(r->query, r->nquery, "", &nq);
	if (!h || !q) {
		free(h);
		free(q);
		return NULL;
	}
	sb_add(&b, r->method);
	sb_addc(&b, '\n');
	for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++) {
		const char *v = standard[i] ? header(r, standard[i]) : NULL;
		if (!standard[i] && r->content_length)
			sb_addf(&b, "%llu", r->content_length);
		else if (v)
			sb_add(&b, v);
		sb_addc(&b, '\n');
	}
	for (size_t i = 0; i < nh; i++) {
		const char *v = h[i]->value;
		size_t len = strlen(v);
		while (*v == ' ')
			v++, len--;
		while (len && v[len - 1] == ' ')
			len--;
		add_lower(&b, h[i]->name);
		sb_addc(&b, ':');
		sb_addn(&b, v, len);
		sb_addc(&b, '\n');
	}
	sb_addc(&b, '/');
	sb_add(&b, r->account);
	sb_add(&b, r->path);
	for (size_t i = 0; i < nq; i++) {
		sb_addc(&b, '\n');
		add_lower(&b, q[i]->name);
		sb_addc(&b, ':');
		sb_add(&b, q[i]->value ? q[i]->value : "");
	}
	free(h);
	free(q);
	return sb_done(&b);
}

char *az_sharedkey_authorization(const struct sharedkey_request *r,
				 const unsigned char *key, size_t keylen)
{
	char *sts = az_sharedkey_string_to_sign(r), *sig = NULL, *out = NULL;
	unsigned char mac[32];
	struct strbuf b = STRBUF_INIT;

	if (sts && hmac_sha256(key, keylen, sts, strlen(sts), mac) == 0)
		sig = b64_encode(mac, sizeof mac);
	if (sig) {
		sb_addf(&b, "SharedKey %s:%s", r->account, sig);
		out = sb_done(&b);
	}
	free(sts);
	free(sig);
	return out;
}
