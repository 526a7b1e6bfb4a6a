/* s3_mpu: multipart uploads.  An upload remembers its key, UploadId and
 * the ETag of every part sent, under a lock, because the core sends parts
 * from several threads at once. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parts.h"
#include "s3.h"
#include "s3_xml.h"

struct s3_upload {
	char *name;      /* the key as the core named it, for messages */
	char *key;       /* full key */
	char *upload_id;
	struct parts parts; /* ETags of the parts sent */
};

void s3_upload_free(struct s3_upload *u)
{
	if (!u)
		return;
	parts_free(&u->parts);
	free(u->name);
	free(u->key);
	free(u->upload_id);
	free(u);
}

const char *s3_upload_id(const struct s3_upload *u)
{
	return u->upload_id;
}

struct s3_upload *s3_upload_start(struct s3_mount *m, const char *op,
				  const char *name, const char *key,
				  const struct scopefs_object_meta *meta,
				  size_t nmeta, int *err)
{
	struct s3_upload *u = calloc(1, sizeof *u);
	struct http_pair q = { "uploads", "" };
	struct http_pair *h = NULL;
	struct http_response resp = { 0 };
	struct s3_req r = { .op = op, .name = name, .method = "POST",
			    .key = key, .query = &q, .nquery = 1 };
	int rc = -ENOMEM;

	if (!u)
		goto out;
	parts_init(&u->parts);
	u->name = strdup(name);
	u->key = strdup(key);
	if (!u->name || !u->key)
		goto out;
	rc = s3_meta_headers(m, op, name, meta, nmeta, &h);
	if (rc < 0)
		goto out;
	r.headers = h;
	r.nheaders = nmeta;
	rc = s3_send(m, &r, &resp);
	if (rc < 0) {
		rc = s3_fail(m, &r, &resp, rc);
		goto out;
	}
	rc = s3_xml_parse_upload_id(resp.body, resp.body_len, &u->upload_id);
	if (rc < 0)
		m->host->set_error(m->host, "%s '%s': no UploadId in the "
				   "answer", op, name);
out:
	http_response_free(&resp);
	free(h);
	if (rc < 0) {
		s3_upload_free(u);
		u = NULL;
	}
	*err = rc;
	return u;
}

int s3_upload_record(struct s3_upload *u, uint32_t n, const char *etag,
		     uint64_t size)
{
	return parts_record(&u->parts, n, etag, size);
}

int s3_mpu_create(void *mnt, const char *key,
		  const struct scopefs_object_meta *meta, size_t nmeta,
		  void **upload)
{
	struct s3_mount *m = mnt;
	char *full;
	int rc;

	*upload = NULL;
	if (m->read_only)
		return -EROFS;
	if ((rc = s3_key_check(m, "mpu_create", key, 0)) < 0)
		return rc;
	if (!(full = s3_key_full(m, "mpu_create", key)))
		return -errno;
	*upload = s3_upload_start(m, "mpu_create", key, full, meta, nmeta,
				  &rc);
	free(full);
	return rc;
}

int s3_mpu_part(void *mnt, void *upload, uint32_t part_number,
		const void *buf, size_t len)
{
	struct s3_mount *m = mnt;
	struct s3_upload *u = upload;
	struct http_response resp;
	char num[16];
	struct http_pair q[2] = { { "partNumber", num },
				   { "uploadId", u->upload_id } };
	struct s3_req r = { .op = "mpu_part", .name = u->name, .method = "PUT",
			    .key = u->key, .query = q, .nquery = 2,
			    .body = buf, .body_len = len };
	const char *etag;
	int rc;

	if (part_number < 1 || part_number > S3_MAX_PARTS ||
	    len > S3_MAX_PART) {
		m->host->set_error(m->host, "mpu_part '%s': part %u of %zu "
				   "bytes is outside S3's limits", u->name,
				   part_number, len);
		return -EINVAL;
	}
	snprintf(num, sizeof num, "%u", part_number);
	rc = s3_send(m, &r, &resp);
	if (rc < 0) {
		rc = s3_fail(m, &r, &resp, rc);
	} else if (!(etag = http_header(&resp, "etag"))) {
		m->host->set_error(m->host, "mpu_part '%s': part %u: no ETag "
				   "in the answer", u->name, part_number);
		rc = -EIO;
	} else {
		rc = s3_upload_record(u, part_number, etag, len);
	}
	http_response_free(&resp);
	return rc;
}

int s3_upload_finish(struct s3_mount *m, struct s3_upload *u,
		     struct scopefs_object_attr *out)
{
	struct s3_xml_part *xp = NULL;
	struct http_response resp = { 0 };
	struct http_pair q = { "uploadId", u->upload_id };
	struct http_pair h = { "Content-Type", "application/xml" };
	struct s3_req r = { .op = "mpu_complete", .name = u->name,
			    .method = "POST", .key = u->key, .query = &q,
			    .nquery = 1, .headers = &h, .nheaders = 1 };
	char etag[SCOPEFS_ETAG_MAX], code[128], msg[512];
	uint64_t size;
	char *body = NULL;
	size_t len = 0;
	int rc = -ENOMEM;

	/* Every mpu_part has returned by now: no lock needed. */
	size = parts_sort(&u->parts);
	xp = calloc(u->parts.n ? u->parts.n : 1, sizeof *xp);
	if (!xp)
		goto out;
	for (size_t i = 0; i < u->parts.n; i++)
		xp[i] = (struct s3_xml_part){ u->parts.v[i].number,
					      u->parts.v[i].id };
	body = s3_xml_complete_body(xp, u->parts.n, &len);
	if (!body)
		goto out;
	r.body = body;
	r.body_len = len;
	rc = s3_send(m, &r, &resp);
	if (rc < 0) {
		rc = s3_fail(m, &r, &resp, rc);
		goto out;
	}
	/* S3 may answer 200 and still fail, in the body. */
	rc = s3_xml_parse_result(resp.body, resp.body_len,
				 "CompleteMultipartUploadResult", etag,
				 sizeof etag, NULL, code, sizeof code, msg,
				 sizeof msg);
	if (rc < 0) {
		m->host->set_error(m->host, "mpu_complete '%s': %s: %s",
				   u->name, code, msg);
		m->host->log(m->host, SCOPEFS_LOG_WARN,
			     "mpu_complete '%s': HTTP 200 with error %s: %s",
			     u->name, code, msg);
		goto out;
	}
	if (out) {
		http_attr_from_headers(&resp, out);
		out->size = size;
		s3_set_etag(out, etag);
	}
out:
	http_response_free(&resp);
	free(body);
	free(xp);
	return rc;
}

int s3_mpu_complete(void *mnt, void *upload, struct scopefs_object_attr *out)
{
	int rc = s3_upload_finish(mnt, upload, out);

	s3_upload_free(upload);
	return rc;
}

int s3_upload_cancel(struct s3_mount *m, struct s3_upload *u)
{
	struct http_response resp;
	struct http_pair q = { "uploadId", u->upload_id };
	struct s3_req r = { .op = "mpu_abort", .name = u->name,
			    .method = "DELETE", .key = u->key, .query = &q,
			    .nquery = 1 };
	int rc = s3_send(m, &r, &resp);

	/* Not found: already gone, which is what abort wants. */
	if (rc < 0 && rc != -ENOENT)
		rc = s3_fail(m, &r, &resp, rc);
	else
		rc = 0;
	http_response_free(&resp);
	return rc;
}

int s3_mpu_abort(void *mnt, void *upload)
{
	int rc = s3_upload_cancel(mnt, upload);

	s3_upload_free(upload);
	return rc;
}
