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
#include "strbuf.h"

int s3_list(void *mnt, const char *prefix, const char *delimiter,
	    char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx)
{
	struct s3_mount *m = mnt;
	struct http_response resp;
	struct s3_xml_list l = { 0 };
	struct http_pair q[6];
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
		q[r.nquery++] = (struct http_pair){ "continuation-token",
						     token };
	if (delimiter && delimiter[0])
		q[r.nquery++] = (struct http_pair){ "delimiter", delimiter };
	q[r.nquery++] = (struct http_pair){ "encoding-type", "url" };
	q[r.nquery++] = (struct http_pair){ "list-type", "2" };
	q[r.nquery++] = (struct http_pair){ "max-keys", max };
	q[r.nquery++] = (struct http_pair){ "prefix", full };

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
		for (size_t i = 0; i < l.page.nobjects; i++)
			uri_decode(l.page.objects[i].key, 1);
		for (size_t i = 0; i < l.page.nprefixes; i++)
			uri_decode(l.page.prefixes[i], 1);
	}
	if (l.truncated &&
	    (!l.page.next_token || !l.page.next_token[0] ||
	     strlen(l.page.next_token) >= SCOPEFS_TOKEN_MAX)) {
		m->host->set_error(m->host, "list '%s': truncated page without "
				   "a usable NextContinuationToken", prefix);
		rc = -EIO;
		goto out;
	}
	rc = objlist_deliver(&l.page, m->key_prefix, fn, ctx);
	if (rc == 0)
		snprintf(token, SCOPEFS_TOKEN_MAX, "%s",
			 l.truncated ? l.page.next_token : "");
out:
	s3_xml_list_free(&l);
	http_response_free(&resp);
	free(full);
	return rc;
}
