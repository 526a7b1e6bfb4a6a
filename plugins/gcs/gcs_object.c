/* gcs_object: objects.get (metadata, and alt=media with a Range for
 * data), uploads (multipart: the resource and the bytes in one request;
 * media for a part, which carries no metadata) and objects.delete. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "gcs.h"
#include "strbuf.h"

#define OBJECT_FIELDS "name,size,updated,generation,metadata"

int gcs_head(void *mnt, const char *key, struct scopefs_object_attr *a,
	     scopefs_meta_fn meta, void *ctx)
{
	struct gcs_mount *m = mnt;
	struct http_response resp;
	struct http_pair q[] = { { "fields", OBJECT_FIELDS } };
	struct gcs_req r = { .op = "head", .name = key, .method = "GET",
			     .query = q, .nquery = 1 };
	char *full = NULL, *path = NULL;
	int rc;

	if ((rc = gcs_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (!(full = gcs_key_full(m, r.op, key)))
		return -errno;
	if (!(path = gcs_object_path(m, full, NULL))) {
		free(full);
		return -ENOMEM;
	}
	r.path = path;
	rc = gcs_send(m, &r, &resp);
	if (rc < 0) {
		rc = gcs_fail(m, &r, &resp, rc);
	} else if ((rc = gcs_json_object(resp.body, a, meta, ctx)) == -EIO) {
		m->host->set_error(m->host, "head '%s': the answer is not an "
				   "object resource", key);
	}
	http_response_free(&resp);
	free(path);
	free(full);
	return rc;
}

ssize_t gcs_get(void *mnt, const char *key, uint64_t off, void *buf,
		size_t len, const char *if_etag)
{
	struct gcs_mount *m = mnt;
	struct http_response resp;
	struct http_pair q[2] = { { "alt", "media" } }, h[1];
	char range[64], *full, *path;
	struct gcs_req r = { .op = "get", .name = key, .method = "GET",
			     .query = q, .nquery = 1, .headers = h,
			     .nheaders = 1, .out = buf, .skip_on_200 = off };
	ssize_t rc;

	if ((rc = gcs_key_check(m, r.op, key, 0)) < 0)
		return rc;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	if (len > UINT64_MAX - off)
		len = (size_t)(UINT64_MAX - off);
	if (len == 0)
		return 0;
	r.out_cap = len;
	if (!(full = gcs_key_full(m, r.op, key)))
		return -errno;
	if (!(path = gcs_object_path(m, full, NULL))) {
		free(full);
		return -ENOMEM;
	}
	r.path = path;
	snprintf(range, sizeof range, "bytes=%llu-%llu",
		 (unsigned long long)off, (unsigned long long)(off + len - 1));
	h[0] = (struct http_pair){ "Range", range };
	/* our ETags are generations (gcs_json.c) */
	if (if_etag && if_etag[0] && strspn(if_etag, "0123456789") ==
					     strlen(if_etag))
		q[r.nquery++] = (struct http_pair){ "ifGenerationMatch",
						    if_etag };
	rc = gcs_send(m, &r, &resp);
	if (rc == 0)
		rc = (ssize_t)resp.out_len;
	else if (resp.status == 416)
		rc = 0; /* the range starts at or past the end */
	else
		rc = gcs_fail(m, &r, &resp, (int)rc);
	http_response_free(&resp);
	free(path);
	free(full);
	return rc;
}

/* A multipart/related boundary that BUF does not contain. */
static int boundary(char out[48], const void *buf, size_t len)
{
	for (int tries = 0; tries < 8; tries++) {
		unsigned char raw[16];
		if (RAND_bytes(raw, sizeof raw) != 1)
			return -EIO;
		memcpy(out, "scopefs-", 8);
		for (int i = 0; i < 16; i++)
			snprintf(out + 8 + 2 * i, 3, "%02x", raw[i]);
		if (!memmem(buf, len, out, strlen(out)))
			return 0;
	}
	return -EIO;
}

int gcs_upload(struct gcs_mount *m, const char *op, const char *name,
	       const char *full, const void *buf, size_t len,
	       const char *resource, const char *if_gen,
	       struct scopefs_object_attr *out)
{
	struct http_response resp;
	struct http_pair q[4];
	struct gcs_req r = { .op = op, .name = name, .method = "POST",
			     .upload = 1, .query = q, .body = buf,
			     .body_len = len };
	struct strbuf head = STRBUF_INIT, tail = STRBUF_INIT,
		      ctype = STRBUF_INIT, path = STRBUF_INIT;
	char b[48];
	int rc;

	q[r.nquery++] = (struct http_pair){ "uploadType", resource ? "multipart"
								   : "media" };
	q[r.nquery++] = (struct http_pair){ "name", full };
	if (if_gen)
		q[r.nquery++] = (struct http_pair){ "ifGenerationMatch",
						    if_gen };
	q[r.nquery++] = (struct http_pair){ "fields", OBJECT_FIELDS };
	sb_addf(&path, "%s/o", m->bucket_path);
	if (resource) {
		if ((rc = boundary(b, buf, len)) < 0) {
			m->host->set_error(m->host, "%s '%s': no multipart "
					   "boundary", op, name);
			goto out;
		}
		sb_addf(&head, "--%s\r\nContent-Type: application/json; "
			"charset=UTF-8\r\n\r\n%s\r\n--%s\r\nContent-Type: "
			"application/octet-stream\r\n\r\n", b, resource, b);
		sb_addf(&tail, "\r\n--%s--\r\n", b);
		sb_addf(&ctype, "multipart/related; boundary=%s", b);
		r.body_head = head.s;
		r.head_len = head.len;
		r.body_tail = tail.s;
		r.tail_len = tail.len;
		r.content_type = ctype.s;
	} else {
		r.content_type = "application/octet-stream";
	}
	rc = -ENOMEM;
	if (head.oom || tail.oom || ctype.oom || path.oom)
		goto out;
	r.path = path.s;
	rc = gcs_send(m, &r, &resp);
	if (rc < 0 && if_gen && strcmp(if_gen, "0") == 0 &&
	    resp.status == 412) {
		rc = -EEXIST; /* the caller's answer, not a failure to log */
	} else if (rc < 0) {
		rc = gcs_fail(m, &r, &resp, rc);
	} else if (out) {
		if (gcs_json_object(resp.body, out, NULL, NULL) < 0)
			memset(out, 0, sizeof *out);
		out->size = len;
	}
	http_response_free(&resp);
out:
	sb_free(&head);
	sb_free(&tail);
	sb_free(&ctype);
	sb_free(&path);
	return rc;
}

static int put_object(struct gcs_mount *m, const char *op, const char *key,
		      const void *buf, size_t len,
		      const struct scopefs_object_meta *meta, size_t nmeta,
		      const char *if_gen, struct scopefs_object_attr *out)
{
	char *full = NULL, *res = NULL;
	int rc;

	if (m->read_only)
		return -EROFS;
	if ((rc = gcs_key_check(m, op, key, 0)) < 0)
		return rc;
	if (len > GCS_MAX_PUT) {
		m->host->set_error(m->host, "%s '%s': %zu bytes is more than "
				   "one upload takes here", op, key, len);
		return -EFBIG;
	}
	if (!(full = gcs_key_full(m, op, key)))
		return -errno;
	if ((rc = gcs_json_resource(m, op, key, NULL, meta, nmeta, 0,
				    &res)) == 0)
		rc = gcs_upload(m, op, key, full, buf, len, res, if_gen, out);
	free(res);
	free(full);
	return rc;
}

int gcs_put(void *mnt, const char *key, const void *buf, size_t len,
	    const struct scopefs_object_meta *meta, size_t nmeta,
	    struct scopefs_object_attr *out)
{
	return put_object(mnt, "put", key, buf, len, meta, nmeta, NULL, out);
}

int gcs_put_new(void *mnt, const char *key, const void *buf, size_t len,
		const struct scopefs_object_meta *meta, size_t nmeta,
		struct scopefs_object_attr *out)
{
	return put_object(mnt, "put_new", key, buf, len, meta, nmeta, "0",
			  out);
}

int gcs_delete(struct gcs_mount *m, const char *op, const char *name,
	       const char *full)
{
	struct http_response resp;
	struct gcs_req r = { .op = op, .name = name, .method = "DELETE" };
	char *path = gcs_object_path(m, full, NULL);
	int rc;

	if (!path)
		return -ENOMEM;
	r.path = path;
	rc = gcs_send(m, &r, &resp);
	if (rc < 0 && resp.status == 404) {
		char reason[64], msg[256];
		gcs_json_error(resp.body ? resp.body : "", reason,
			       sizeof reason, msg, sizeof msg);
		/* absent already: what remove wants; a missing bucket is not
		 * a missing object */
		rc = strstr(msg, "bucket") && !strstr(msg, "object")
			     ? gcs_fail(m, &r, &resp, -EIO)
			     : 0;
	} else if (rc < 0) {
		rc = gcs_fail(m, &r, &resp, rc);
	}
	http_response_free(&resp);
	free(path);
	return rc;
}

int gcs_remove(void *mnt, const char *key)
{
	struct gcs_mount *m = mnt;
	char *full;
	int rc;

	if (m->read_only)
		return -EROFS;
	if ((rc = gcs_key_check(m, "remove", key, 0)) < 0)
		return rc;
	if (!(full = gcs_key_full(m, "remove", key)))
		return -errno;
	rc = gcs_delete(m, "remove", key, full);
	free(full);
	return rc;
}
