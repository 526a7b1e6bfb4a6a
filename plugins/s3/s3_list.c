/* s3_list: one ListObjectsV2 page, keys made relative to the mount.
 * encoding-type=url lets keys that XML 1.0 cannot carry (control
 * characters) through; keys are decoded only when the answer says it
 * encoded them, since some servers ignore the parameter. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "s3_xml.h"

/* In place: "%XX" -> byte, '+' -> ' ' (S3 encodes spaces as '+'). */
static void url_decode(char *s)
{
	char *w = s;

	for (char *p = s; *p; p++) {
		if (*p == '+') {
			*w++ = ' ';
		} else if (p[0] == '%' && p[1] && p[2] &&
			   strchr("0123456789abcdefABCDEF", p[1]) &&
			   strchr("0123456789abcdefABCDEF", p[2])) {
			char hx[3] = { p[1], p[2], 0 };
			*w++ = (char)strtoul(hx, NULL, 16);
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
}

/* The key relative to the mount, or NULL for one outside it or the
 * mount's own root marker. */
static const char *relative(const struct s3_mount *m, const char *key)
{
	size_t n = strlen(m->key_prefix);

	if (strncmp(key, m->key_prefix, n) != 0 || !key[n])
		return NULL;
	return key + n;
}

/* Hand the page to FN in key order, merging objects and prefixes. */
static int deliver(const struct s3_mount *m, struct s3_xml_list *l,
		   scopefs_list_fn fn, void *ctx)
{
	size_t i = 0, j = 0;

	while (i < l->nobjects || j < l->nprefixes) {
		int obj = j >= l->nprefixes ||
			  (i < l->nobjects &&
			   strcmp(l->objects[i].key, l->prefixes[j]) < 0);
		const char *rel;
		int rc = 0;

		if (obj) {
			struct s3_xml_object *o = &l->objects[i++];
			struct scopefs_object_attr a = { .size = o->size,
							 .mtime = o->mtime };
			s3_set_etag(&a, o->etag);
			rel = relative(m, o->key);
			if (rel)
				rc = fn(ctx, rel, 0, &a, NULL, 0);
		} else {
			rel = relative(m, l->prefixes[j++]);
			if (rel)
				rc = fn(ctx, rel, 1, NULL, NULL, 0);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int s3_list(void *mnt, const char *prefix, const char *delimiter,
	    char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx)
{
	struct s3_mount *m = mnt;
	struct http_response resp;
	struct s3_xml_list l = { 0 };
	struct sigv4_pair q[6];
	char max[16], *full;
	struct s3_req r = { .op = "list", .name = prefix, .method = "GET",
			    .query = q };
	int rc;

	if ((rc = s3_key_check(m, r.op, prefix, 1)) < 0)
		return rc;
	if (!(full = s3_key_full(m, r.op, prefix)))
		return -errno;
	snprintf(max, sizeof max, "%u", m->cfg->list_page);
	if (token[0])
		q[r.nquery++] = (struct sigv4_pair){ "continuation-token",
						     token };
	if (delimiter && delimiter[0])
		q[r.nquery++] = (struct sigv4_pair){ "delimiter", delimiter };
	q[r.nquery++] = (struct sigv4_pair){ "encoding-type", "url" };
	q[r.nquery++] = (struct sigv4_pair){ "list-type", "2" };
	q[r.nquery++] = (struct sigv4_pair){ "max-keys", max };
	q[r.nquery++] = (struct sigv4_pair){ "prefix", full };

	rc = s3_send(m, &r, &resp);
	if (rc < 0) {
		rc = s3_fail(m, &r, &resp, rc == -ENOENT ? -EIO : rc);
		goto out;
	}
	rc = s3_xml_parse_list(resp.body, resp.body_len, &l);
	if (rc < 0) {
		m->host->set_error(m->host, "list '%s': the answer is not a "
				   "ListBucketResult", prefix);
		goto out;
	}
	if (l.url_encoded) {
		for (size_t i = 0; i < l.nobjects; i++)
			url_decode(l.objects[i].key);
		for (size_t i = 0; i < l.nprefixes; i++)
			url_decode(l.prefixes[i]);
	}
	if (l.truncated && (!l.next_token || !l.next_token[0] ||
			    strlen(l.next_token) >= SCOPEFS_TOKEN_MAX)) {
		m->host->set_error(m->host, "list '%s': truncated page without "
				   "a usable NextContinuationToken", prefix);
		rc = -EIO;
		goto out;
	}
	rc = deliver(m, &l, fn, ctx);
	if (rc == 0)
		snprintf(token, SCOPEFS_TOKEN_MAX, "%s",
			 l.truncated ? l.next_token : "");
out:
	s3_xml_list_free(&l);
	http_response_free(&resp);
	free(full);
	return rc;
}
