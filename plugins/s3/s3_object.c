/* s3_object: HEAD, ranged GET, PUT and DELETE of single objects. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3.h"

void s3_set_etag(struct scopefs_object_attr *a, const char *etag)
{
	snprintf(a->etag, sizeof a->etag, "%s", etag ? etag : "");
}

int s3_head(void *mnt, const char *key, struct scopefs_object_attr *a,
	    scopefs_meta_fn meta, void *ctx)
{
	struct s3_mount *m = mnt;
	struct http_response resp;
	struct s3_req r = { .op = "head", .name = key, .method = "HEAD" };
	char *full;
	int rc;

	if ((rc = s3_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (!(full = s3_key_full(m, r.op, key)))
		return -errno;
	r.key = full;
	rc = s3_send(m, &r, &resp);
	if (rc < 0) {
		rc = s3_fail(m, &r, &resp, rc);
	} else {
		if (a)
			http_attr_from_headers(&resp, a);
		rc = s3_meta_each(&resp, meta, ctx);
	}
	http_response_free(&resp);
	free(full);
	return rc;
}

ssize_t s3_get(void *mnt, const char *key, uint64_t off, void *buf,
	       size_t len, const char *if_etag)
{
	struct s3_mount *m = mnt;
	struct http_response resp;
	struct http_pair h[2];
	char range[64];
	struct s3_req r = {
		.op = "get", .name = key, .method = "GET", .headers = h,
		.out = buf, .out_cap = len, .skip_on_200 = off,
	};
	char *full;
	ssize_t rc;

	if ((rc = s3_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (len > UINT64_MAX - off)
		len = (size_t)(UINT64_MAX - off); /* the range must not wrap */
	if (len == 0)
		return 0;
	r.out_cap = len;
	if (!(full = s3_key_full(m, r.op, key)))
		return -errno;
	r.key = full;
	snprintf(range, sizeof range, "bytes=%llu-%llu",
		 (unsigned long long)off,
		 (unsigned long long)(off + len - 1));
	h[r.nheaders++] = (struct http_pair){ "Range", range };
	if (if_etag && if_etag[0])
		h[r.nheaders++] = (struct http_pair){ "If-Match", if_etag };
	rc = s3_send(m, &r, &resp);
	if (rc == 0)
		rc = (ssize_t)resp.out_len;
	else if (resp.status == 416)
		rc = 0; /* the range starts at or past the end */
	else
		rc = s3_fail(m, &r, &resp, (int)rc);
	http_response_free(&resp);
	free(full);
	return rc;
}

/* PUT Object; IF_NONE_MATCH "*" stores it only if the key is free (S3
 * answers 412 PreconditionFailed, or 409 ConditionalRequestConflict when
 * another conditional write to the key is in flight). */
static int put_object(struct s3_mount *m, const char *op, const char *key,
		      const void *buf, size_t len,
		      const struct scopefs_object_meta *meta, size_t nmeta,
		      const char *if_none_match,
		      struct scopefs_object_attr *out)
{
	struct http_response resp;
	struct http_pair *mh = NULL, *h = NULL;
	struct s3_req r = { .op = op, .name = key, .method = "PUT",
			    .body = buf, .body_len = len };
	char *full = NULL;
	int rc;

	if (m->read_only)
		return -EROFS;
	if ((rc = s3_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (len > S3_MAX_PUT) {
		m->host->set_error(m->host, "%s '%s': %zu bytes is more than "
				   "a single PUT takes", op, key, len);
		return -EFBIG;
	}
	if ((rc = s3_meta_headers(m, r.op, key, meta, nmeta, &mh)) < 0)
		return rc;
	rc = -ENOMEM;
	if (!(h = calloc(nmeta + 1, sizeof *h)))
		goto out;
	for (size_t i = 0; i < nmeta; i++)
		h[r.nheaders++] = mh[i];
	if (if_none_match)
		h[r.nheaders++] = (struct http_pair){ "If-None-Match",
						      if_none_match };
	if (!(full = s3_key_full(m, r.op, key))) {
		rc = -errno;
		goto out;
	}
	r.key = full;
	r.headers = h;
	rc = s3_send(m, &r, &resp);
	if (rc < 0 && if_none_match &&
	    (resp.status == 412 || resp.status == 409)) {
		rc = -EEXIST; /* not a failure: the caller's answer */
	} else if (rc < 0) {
		rc = s3_fail(m, &r, &resp, rc);
	} else if (out) {
		/* No Last-Modified in a PUT answer: its Date is the time
		 * the object was stored. */
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

int s3_put(void *mnt, const char *key, const void *buf, size_t len,
	   const struct scopefs_object_meta *meta, size_t nmeta,
	   struct scopefs_object_attr *out)
{
	return put_object(mnt, "put", key, buf, len, meta, nmeta, NULL, out);
}

int s3_put_new(void *mnt, const char *key, const void *buf, size_t len,
	       const struct scopefs_object_meta *meta, size_t nmeta,
	       struct scopefs_object_attr *out)
{
	return put_object(mnt, "put_new", key, buf, len, meta, nmeta, "*",
			  out);
}

int s3_remove(void *mnt, const char *key)
{
	struct s3_mount *m = mnt;
	struct http_response resp;
	struct s3_req r = { .op = "remove", .name = key, .method = "DELETE" };
	char *full;
	int rc;

	if (m->read_only)
		return -EROFS;
	if ((rc = s3_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (!(full = s3_key_full(m, r.op, key)))
		return -errno;
	r.key = full;
	rc = s3_send(m, &r, &resp);
	if (rc < 0)
		rc = s3_fail(m, &r, &resp, rc); /* NoSuchBucket: -EIO */
	if (rc == -ENOENT)
		rc = 0; /* S3 says 204 anyway; others say 404 */
	http_response_free(&resp);
	free(full);
	return rc;
}
