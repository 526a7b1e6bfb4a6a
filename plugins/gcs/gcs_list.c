/* gcs_list: one objects.list page with prefix, delimiter (prefixes[])
 * and pageToken, asking only for the fields a listing needs, metadata
 * included, so that a listing gives full attributes
 * (SCOPEFS_OBJ_LIST_HAS_META).  The parts of streamed uploads, under the
 * base prefix's GCS_PARTS_DIR, are never listed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs.h"
#include "strbuf.h"

#define LIST_FIELDS \
	"items(name,size,updated,generation,metadata),prefixes,nextPageToken"

int gcs_list(void *mnt, const char *prefix, const char *delimiter,
	     char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx)
{
	struct gcs_mount *m = mnt;
	struct http_response resp;
	struct objlist page = { 0 };
	struct http_pair q[5];
	char max[16], *full, *path = NULL;
	struct gcs_req r = { .op = "list", .name = prefix, .method = "GET",
			     .query = q };
	struct strbuf b = STRBUF_INIT;
	int rc;

	if ((rc = gcs_key_check(m, r.op, prefix, 1)) < 0)
		return rc;
	if (!(full = gcs_key_full(m, r.op, prefix)))
		return -errno;
	sb_addf(&b, "%s/o", m->bucket_path);
	if (!(path = sb_done(&b))) {
		free(full);
		return -ENOMEM;
	}
	r.path = path;
	snprintf(max, sizeof max, "%u", m->cfg->list_page);
	q[r.nquery++] = (struct http_pair){ "prefix", full };
	if (delimiter && delimiter[0])
		q[r.nquery++] = (struct http_pair){ "delimiter", delimiter };
	if (token[0])
		q[r.nquery++] = (struct http_pair){ "pageToken", token };
	q[r.nquery++] = (struct http_pair){ "maxResults", max };
	q[r.nquery++] = (struct http_pair){ "fields", LIST_FIELDS };

	rc = gcs_send(m, &r, &resp);
	if (rc < 0) {
		/* 404 here is the bucket's, not a missing directory's */
		rc = gcs_fail(m, &r, &resp, rc == -ENOENT ? -EIO : rc);
		goto out;
	}
	if ((rc = gcs_json_list(resp.body, m->parts_prefix, &page)) < 0) {
		if (rc == -EIO)
			m->host->set_error(m->host, "list '%s': the answer is "
					   "not an objects.list page", prefix);
		goto out;
	}
	rc = objlist_finish(m->host, &page, m->key_prefix, prefix, token, fn,
			    ctx);
out:
	objlist_free(&page);
	http_response_free(&resp);
	free(path);
	free(full);
	return rc;
}
