/* s3_copy: server-side copy.  CopyObject up to copy_threshold (5 GiB, the
 * most one CopyObject takes), UploadPartCopy ranges beyond.  The source is
 * read with HEAD first: its size picks the method, and a multipart copy
 * must carry the source's metadata itself when asked to keep it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "s3_xml.h"
#include "strbuf.h"

/* "/BUCKET/KEY", URL-encoded as x-amz-copy-source wants. */
static char *copy_source(const struct s3_mount *m, const char *key)
{
	struct strbuf b = STRBUF_INIT;

	sb_addc(&b, '/');
	sb_add_uri_encoded(&b, m->cfg->bucket, 0);
	sb_addc(&b, '/');
	sb_add_uri_encoded(&b, key, 1);
	return sb_done(&b);
}

/* Collects the source's user metadata for a multipart copy that keeps it. */
struct meta_copy {
	struct scopefs_object_meta *v;
	size_t n;
};

static int keep_meta(void *ctx, const char *key, const char *value)
{
	struct meta_copy *c = ctx;
	struct scopefs_object_meta *v = realloc(c->v, (c->n + 1) * sizeof *v);

	if (!v)
		return -ENOMEM;
	c->v = v;
	v[c->n].key = strdup(key);
	v[c->n].value = strdup(value);
	c->n++;
	return v[c->n - 1].key && v[c->n - 1].value ? 0 : -ENOMEM;
}

static void meta_copy_free(struct meta_copy *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free((char *)c->v[i].key);
		free((char *)c->v[i].value);
	}
	free(c->v);
}

/* A 200 answer to a copy may still be a failure, in the body. */
static int copy_result(struct s3_mount *m, const char *op, const char *name,
		       const struct http_response *resp, const char *root,
		       char *etag, size_t etaglen, struct timespec *mtime)
{
	char code[128], msg[512];
	int rc = s3_xml_parse_result(resp->body, resp->body_len, root, etag,
				     etaglen, mtime, code, sizeof code, msg,
				     sizeof msg);

	if (rc < 0) {
		m->host->log(m->host, SCOPEFS_LOG_WARN,
			     "%s '%s': HTTP %ld with error %s: %s", op, name,
			     resp->status, code, msg);
		m->host->set_error(m->host, "%s '%s': %s: %s", op, name, code,
				   msg);
	}
	return rc;
}

static int copy_single(struct s3_mount *m, const char *name,
		       const char *src, const char *dst,
		       const struct http_pair *meta_h, size_t nmeta,
		       int replace, struct scopefs_object_attr *out)
{
	struct http_pair *h = calloc(nmeta + 2, sizeof *h);
	struct http_response resp = { 0 };
	struct s3_req r = { .op = "copy", .name = name, .method = "PUT",
			    .key = dst, .headers = h };
	char etag[SCOPEFS_ETAG_MAX];
	int rc;

	if (!h)
		return -ENOMEM;
	h[r.nheaders++] = (struct http_pair){ "x-amz-copy-source", src };
	if (replace) {
		h[r.nheaders++] = (struct http_pair){
			"x-amz-metadata-directive", "REPLACE" };
		for (size_t i = 0; i < nmeta; i++)
			h[r.nheaders++] = meta_h[i];
	}
	rc = s3_send(m, &r, &resp);
	if (rc < 0)
		rc = s3_fail(m, &r, &resp, rc);
	else
		rc = copy_result(m, "copy", name, &resp, "CopyObjectResult",
				 etag, sizeof etag, &out->mtime);
	if (rc == 0)
		s3_set_etag(out, etag);
	http_response_free(&resp);
	free(h);
	return rc;
}

static int copy_part(struct s3_mount *m, struct s3_upload *u,
		     const char *name, const char *dst, const char *src,
		     uint32_t n, uint64_t first, uint64_t last)
{
	char num[16], range[64], etag[SCOPEFS_ETAG_MAX];
	struct http_pair q[2] = { { "partNumber", num },
				   { "uploadId", s3_upload_id(u) } };
	struct http_pair h[2] = { { "x-amz-copy-source", src },
				   { "x-amz-copy-source-range", range } };
	struct s3_req r = { .op = "copy", .name = name, .method = "PUT",
			    .key = dst, .query = q, .nquery = 2,
			    .headers = h, .nheaders = 2 };
	struct http_response resp;
	int rc;

	snprintf(num, sizeof num, "%u", n);
	snprintf(range, sizeof range, "bytes=%llu-%llu",
		 (unsigned long long)first, (unsigned long long)last);
	rc = s3_send(m, &r, &resp);
	if (rc < 0)
		rc = s3_fail(m, &r, &resp, rc);
	else
		rc = copy_result(m, "copy", name, &resp, "CopyPartResult",
				 etag, sizeof etag, NULL);
	if (rc == 0)
		rc = s3_upload_record(u, n, etag, last - first + 1);
	http_response_free(&resp);
	return rc;
}

static int copy_multipart(struct s3_mount *m, const char *name,
			  const char *src, const char *dst, uint64_t size,
			  const struct scopefs_object_meta *meta, size_t nmeta,
			  struct scopefs_object_attr *out)
{
	uint64_t part = m->cfg->copy_part_size;
	struct s3_upload *u;
	uint32_t n = 1;
	int rc;

	/* Bigger parts when the object would need more than 10000. */
	if ((size + part - 1) / part > S3_MAX_PARTS)
		part = (size + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
	u = s3_upload_start(m, "copy", name, dst, meta, nmeta, &rc);
	if (!u)
		return rc;
	for (uint64_t off = 0; off < size && rc == 0; off += part, n++) {
		uint64_t last = off + part < size ? off + part - 1 : size - 1;
		rc = copy_part(m, u, name, dst, src, n, off, last);
	}
	if (rc == 0)
		rc = s3_upload_finish(m, u, out);
	if (rc < 0)
		s3_upload_cancel(m, u); /* best effort: rc says what failed */
	s3_upload_free(u);
	return rc;
}

int s3_copy(void *mnt, const char *from, const char *to,
	    const struct scopefs_object_meta *meta, size_t nmeta,
	    struct scopefs_object_attr *out)
{
	struct s3_mount *m = mnt;
	struct scopefs_object_attr src_attr, dummy;
	struct meta_copy kept = { 0 };
	struct http_pair *meta_h = NULL;
	char *src_key = NULL, *dst_key = NULL, *src = NULL;
	int rc;

	if (!out)
		out = &dummy;
	if (m->read_only)
		return -EROFS;
	if ((rc = s3_key_check(m, "copy", from, 0)) < 0 ||
	    (rc = s3_key_check(m, "copy", to, 0)) < 0)
		return rc;
	if (!(src_key = s3_key_full(m, "copy", from)) ||
	    !(dst_key = s3_key_full(m, "copy", to))) {
		rc = -errno;
		goto out;
	}
	src = copy_source(m, src_key);
	rc = -ENOMEM;
	if (!src)
		goto out;
	rc = s3_head(m, from, &src_attr, meta ? NULL : keep_meta, &kept);
	if (rc < 0)
		goto out;
	if (src_attr.size > m->cfg->copy_threshold) {
		rc = copy_multipart(m, to, src, dst_key, src_attr.size,
				    meta ? meta : kept.v, meta ? nmeta : kept.n,
				    out);
	} else {
		rc = s3_meta_headers(m, "copy", to, meta, meta ? nmeta : 0,
				     &meta_h);
		if (rc == 0)
			rc = copy_single(m, to, src, dst_key, meta_h,
					 meta ? nmeta : 0, meta != NULL, out);
	}
	out->size = src_attr.size;
out:
	meta_copy_free(&kept);
	free(meta_h);
	free(src);
	free(src_key);
	free(dst_key);
	return rc;
}
