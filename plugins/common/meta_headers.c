/* meta_headers: user metadata as HTTP headers (x-amz-meta-*, x-ms-meta-*).
 * A header carries only printable ASCII without surrounding blanks; any
 * other value (a symlink target in UTF-8, say) travels as RFC 2047
 * "=?UTF-8?B?base64?=", which is also how S3 returns non-ASCII metadata
 * written by other tools. */
#include "meta_headers.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>

#define B_HEAD "=?UTF-8?B?"
#define B_TAIL "?="

static int value_plain(const char *v)
{
	size_t n = strlen(v);

	if (n && (v[0] == ' ' || v[n - 1] == ' '))
		return 0;
	if (strncmp(v, "=?", 2) == 0) /* would read back as encoded */
		return 0;
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
			return 0;
	return 1;
}

static size_t value_size(const char *v)
{
	size_t n = strlen(v);

	if (value_plain(v))
		return n + 1;
	return sizeof B_HEAD - 1 + 4 * ((n + 2) / 3) + sizeof B_TAIL;
}

int meta_headers(const struct scopefs_host *h, const char *prefix,
		 int (*key_ok)(const char *), const char *op, const char *name,
		 const struct scopefs_object_meta *meta, size_t nmeta,
		 struct http_pair **out)
{
	size_t plen = strlen(prefix);
	size_t total = nmeta * sizeof **out + 1;
	struct http_pair *v;
	char *p;

	*out = NULL;
	for (size_t i = 0; i < nmeta; i++) {
		if (!key_ok(meta[i].key) || !meta[i].value) {
			h->set_error(h, "%s '%s': metadata key '%s' cannot be "
				     "a %s header name", op, name,
				     meta[i].key ? meta[i].key : "", prefix);
			return -EINVAL;
		}
		total += plen + 1 + strlen(meta[i].key) +
			 value_size(meta[i].value);
	}
	v = malloc(total);
	if (!v)
		return -ENOMEM;
	p = (char *)(v + nmeta);
	for (size_t i = 0; i < nmeta; i++) {
		const char *val = meta[i].value;
		size_t n = strlen(val);

		v[i].name = p;
		p = stpcpy(stpcpy(p, prefix), meta[i].key) + 1;
		v[i].value = p;
		if (value_plain(val)) {
			p = stpcpy(p, val) + 1;
			continue;
		}
		p = stpcpy(p, B_HEAD);
		p += EVP_EncodeBlock((unsigned char *)p,
				     (const unsigned char *)val, (int)n);
		/* value_size() counted exactly this. */
		p = stpcpy(p, B_TAIL) + 1;
	}
	*out = v;
	return 0;
}

char *meta_value_encode(const char *value)
{
	char *out = malloc(value_size(value)), *p;

	if (!out || value_plain(value))
		return out ? strcpy(out, value) : NULL;
	p = stpcpy(out, B_HEAD);
	p += EVP_EncodeBlock((unsigned char *)p, (const unsigned char *)value,
			     (int)strlen(value));
	strcpy(p, B_TAIL);
	return out;
}

/* Decode "=?charset?B?...?=" (or ?Q?) into a malloc'd string; any other
 * value is copied as is. */
char *meta_value_decode(const char *v)
{
	size_t n = strlen(v);
	const char *q1, *data;
	char enc, *out;

	if (n < 8 || strncmp(v, "=?", 2) != 0 ||
	    strcmp(v + n - 2, "?=") != 0)
		return strdup(v);
	q1 = strchr(v + 2, '?');
	if (!q1 || !q1[1] || q1[2] != '?' || q1 + 3 > v + n - 2)
		return strdup(v);
	enc = q1[1];
	data = q1 + 3;
	n = (size_t)(v + n - 2 - data);
	out = malloc(n + 1);
	if (!out)
		return NULL;
	if (enc == 'B' || enc == 'b') {
		int len;
		size_t pad = 0;
		if (n % 4 != 0)
			goto raw;
		len = EVP_DecodeBlock((unsigned char *)out,
				      (const unsigned char *)data, (int)n);
		if (len < 0)
			goto raw;
		/* EVP_DecodeBlock counts '=' padding as zero bytes. */
		while (pad < 2 && n > pad && data[n - 1 - pad] == '=')
			pad++;
		out[len - (int)pad] = '\0';
		return out;
	}
	if (enc == 'Q' || enc == 'q') {
		size_t j = 0;
		for (size_t i = 0; i < n; i++) {
			unsigned int c;
			if (data[i] == '_') {
				out[j++] = ' ';
			} else if (data[i] == '=' && i + 2 < n &&
				   isxdigit((unsigned char)data[i + 1]) &&
				   isxdigit((unsigned char)data[i + 2])) {
				char hx[3] = { data[i + 1], data[i + 2], 0 };
				c = (unsigned int)strtoul(hx, NULL, 16);
				out[j++] = (char)c;
				i += 2;
			} else {
				out[j++] = data[i];
			}
		}
		out[j] = '\0';
		return out;
	}
raw:
	free(out);
	return strdup(v);
}

int meta_each(const struct http_response *resp, const char *prefix,
	      scopefs_meta_fn fn, void *ctx)
{
	const size_t plen = strlen(prefix);

	if (!fn)
		return 0;
	for (size_t i = 0; i < resp->nheaders; i++) {
		const struct http_header *h = &resp->headers[i];
		char *value;
		int rc;

		if (strncasecmp(h->name, prefix, plen) != 0 ||
		    !h->name[plen])
			continue;
		value = meta_value_decode(h->value);
		if (!value)
			return -ENOMEM;
		rc = fn(ctx, h->name + plen, value); /* name is lower case */
		free(value);
		if (rc)
			return rc;
	}
	return 0;
}
