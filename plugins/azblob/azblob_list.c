/* azblob_list: one List Blobs page (restype=container&comp=list) with
 * prefix, delimiter and marker, asking for metadata so that a listing
 * gives full attributes (SCOPEFS_OBJ_LIST_HAS_META). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azblob.h"
#include "azblob_xml.h"

int az_list(void *mnt, const char *prefix, const char *delimiter,
	    char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx)
{
	struct az_mount *m = mnt;
	struct http_response resp;
	struct objlist page = { 0 };
	struct http_pair q[7];
	char max[16], *full;
	struct az_req r = { .op = "list", .name = prefix, .method = "GET",
			    .query = q };
	int rc;

	if ((rc = az_key_check(m, r.op, prefix, 1)) < 0)
		return rc;
	if (!(full = az_key_full(m, r.op, prefix)))
		return -errno;
	snprintf(max, sizeof max, "%u", m->cfg->list_page);
	q[r.nquery++] = (struct http_pair){ "restype", "container" };
	q[r.nquery++] = (struct http_pair){ "comp", "list" };
	q[r.nquery++] = (struct http_pair){ "prefix", full };
	if (delimiter && delimiter[0])
		q[r.nquery++] = (struct http_pair){ "delimiter", delimiter };
	if (token[0])
		q[r.nquery++] = (struct http_pair){ "marker", token };
	q[r.nquery++] = (struct http_pair){ "maxresults", max };
	q[r.nquery++] = (struct http_pair){ "include", "metadata" };

	rc = az_send(m, &r, &resp);
	if (rc < 0) {
		rc = az_fail(m, &r, &resp, rc == -ENOENT ? -EIO : rc);
		goto out;
	}
	rc = az_xml_parse_list(resp.body, resp.body_len, &page);
	if (rc < 0) {
		m->host->set_error(m->host, "list '%s': the answer is not an "
				   "EnumerationResults", prefix);
		goto out;
	}
	rc = objlist_finish(m->host, &page, m->key_prefix, prefix, token, fn,
			    ctx);
out:
	objlist_free(&page);
	http_response_free(&resp);
	free(full);
	return rc;
}
