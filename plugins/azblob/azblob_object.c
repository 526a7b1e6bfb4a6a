/* azblob_object: Get Blob Properties, Get Blob (ranged), Put Blob (block
 * blob) and Delete Blob; with the key, metadata and attribute helpers
 * the other primitives share. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "azblob.h"
#include "meta_headers.h"
#include "objkey.h"

/* Azure stores a backslash in a blob name as '/' (so "a\b" would come
 * back as a directory "a" holding "b"): such names are refused, not
 * changed. */
int az_key_check(const struct az_mount *m, const char *op, const char *key,
		 int allow_empty)
{
	int rc = objkey_check(m->host, op, key, allow_empty);

	if (rc == 0 && strchr(key, '\\')) {
		m->host->set_error(m->host, "%s '%s': Azure Blob Storage turns "
				   "'\\' into '/' in blob names", op, key);
		return -EINVAL;
	}
	return rc;
}

char *az_key_full(const struct az_mount *m, const char *op, const char *key)
{
	return objkey_full(m->host, m->key_prefix, AZ_MAX_KEY, op, key);
}

/* Metadata names must be C# identifiers. */
static int meta_key_ok(const char *k)
{
	if (!k || !k[0] || (k[0] >= '0' && k[0] <= '9'))
		return 0;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return 0;
	return 1;
}

int az_meta_headers(const struct az_mount *m, const char *op,
		    const char *name, const struct scopefs_object_meta *meta,
		    size_t nmeta, struct http_pair **out)
{
	return meta_headers(m->host, AZ_META_PREFIX, meta_key_ok, op, name,
			    meta, nmeta, out);
}

int az_head(void *mnt, const char *key, struct scopefs_object_attr *a,
	    scopefs_meta_fn meta, void *ctx)
{
	struct az_mount *m = mnt;
	struct http_response resp;
	struct az_req r = { .op = "head", .name = key, .method = "HEAD" };
	char *full;
	int rc;

	if ((rc = az_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (!(full = az_key_full(m, r.op, key)))
		return -errno;
	r.key = full;
	rc = az_send(m, &r, &resp);
	if (rc < 0) {
		rc = az_fail(m, &r, &resp, rc);
	} else {
		if (a)
			http_attr_from_headers(&resp, a);
		rc = meta ? meta_each(&resp, AZ_META_PREFIX, meta, ctx) : 0;
	}
	http_response_free(&resp);
	free(full);
	return rc;
}

ssize_t az_get(void *mnt, const char *key, uint64_t off, void *buf,
	       size_t len, const char *if_etag)
{
	struct az_mount *m = mnt;
	struct http_response resp;
	struct http_pair h[2];
	char range[64];
	struct az_req r = { .op = "get", .name = key, .method = "GET",
			    .headers = h, .out = buf, .skip_on_200 = off };
	char *full;
	ssize_t rc;

	if ((rc = az_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (len > UINT64_MAX - off)
		len = (size_t)(UINT64_MAX - off);
	if (len == 0)
		return 0;
	r.out_cap = len;
	if (!(full = az_key_full(m, r.op, key)))
		return -errno;
	r.key = full;
	snprintf(range, sizeof range, "bytes=%llu-%llu",
		 (unsigned long long)off, (unsigned long long)(off + len - 1));
	h[r.nheaders++] = (struct http_pair){ "x-ms-range", range };
	if (if_etag && if_etag[0])
		h[r.nheaders++] = (struct http_pair){ "If-Match", if_etag };
	rc = az_send(m, &r, &resp);
	if (rc == 0)
		rc = (ssize_t)resp.out_len;
	else if (resp.status == 416)
		rc = 0; /* the range starts at or past the end */
	else
		rc = az_fail(m, &r, &resp, (int)rc);
	http_response_free(&resp);
	free(full);
	return rc;
}

/* Put Blob of a block blob; IF_NONE_MATCH "*" makes it conditional. */
static int put_blob(struct az_mount *m, const char *op, const char *key,
		    const void *buf, size_t len,
		    const struct scopefs_object_meta *meta, size_t nmeta,
		    const char *if_none_match, struct scopefs_object_attr *out)
{
	struct http_response resp;
	struct http_pair *mh = NULL, *h = NULL;
	struct az_req r = { .op = op, .name = key, .method = "PUT",
			    .body = buf, .body_len = len };
	char *full = NULL;
	int rc;

	if (m->read_only)
		return -EROFS;
	if ((rc = az_key_check(m, op, key, 0)) < 0)
		return rc;
	if (len > AZ_MAX_PUT) {
		m->host->set_error(m->host, "%s '%s': %zu bytes is more than "
				   "one Put Blob takes", op, key, len);
		return -EFBIG;
	}
	if ((rc = az_meta_headers(m, op, key, meta, nmeta, &mh)) < 0)
		return rc;
	rc = -ENOMEM;
	if (!(h = calloc(nmeta + 2, sizeof *h)))
		goto out;
	h[r.nheaders++] = (struct http_pair){ "x-ms-blob-type", "BlockBlob" };
	if (if_none_match)
		h[r.nheaders++] = (struct http_pair){ "If-None-Match",
						      if_none_match };
	for (size_t i = 0; i < nmeta; i++)
		h[r.nheaders++] = mh[i];
	r.headers = h;
	if (!(full = az_key_full(m, op, key))) {
		rc = -errno;
		goto out;
	}
	r.key = full;
	rc = az_send(m, &r, &resp);
	if (rc < 0 && if_none_match &&
	    (resp.status == 409 || resp.status == 412)) {
		/* 409 BlobAlreadyExists (412 from servers that say so): the
		 * caller's answer, not a failure to log. */
		rc = -EEXIST;
	} else if (rc < 0) {
		rc = az_fail(m, &r, &resp, rc);
	} else if (out) {
		http_attr_from_headers(&resp, out);
		out->size = len;
	}
	http_response_free(&resp);
out:
	free(full);
	free(h);
	free(mh);
	return rc;
}

int az_put(void *mnt, const char *key, const void *buf, size_t len,
	   const struct scopefs_object_meta *meta, size_t nmeta,
	   struct scopefs_object_attr *out)
{
	return put_blob(mnt, "put", key, buf, len, meta, nmeta, NULL, out);
}

int az_put_new(void *mnt, const char *key, const void *buf, size_t len,
	       const struct scopefs_object_meta *meta, size_t nmeta,
	       struct scopefs_object_attr *out)
{
	return put_blob(mnt, "put_new", key, buf, len, meta, nmeta, "*", out);
}

int az_remove(void *mnt, const char *key)
{
	struct az_mount *m = mnt;
	struct http_response resp;
	struct az_req r = { .op = "remove", .name = key, .method = "DELETE" };
	char *full;
	int rc;

	if (m->read_only)
		return -EROFS;
	if ((rc = az_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (!(full = az_key_full(m, r.op, key)))
		return -errno;
	r.key = full;
	rc = az_send(m, &r, &resp);
	if (rc < 0 && resp.status != 404)
		rc = az_fail(m, &r, &resp, rc); /* ContainerNotFound: -EIO */
	else if (rc < 0) {
		char code[128], msg[512];
		az_error_of(&resp, code, sizeof code, msg, sizeof msg);
		rc = strcmp(code, "ContainerNotFound") == 0
			     ? az_fail(m, &r, &resp, -EIO)
			     : 0; /* absent already: what remove wants */
	}
	http_response_free(&resp);
	free(full);
	return rc;
}
