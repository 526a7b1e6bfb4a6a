/*
 * s3: the S3 object-store plugin's internal interface.  s3.c holds the
 * plugin description, configuration and mounts; the object primitives
 * live one family per file (s3_object.c, s3_list.c, s3_copy.c, s3_mpu.c),
 * all sending through s3_request.c.
 */
#ifndef SCOPEFS_S3_H
#define SCOPEFS_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <scopefs/plugin.h>

#include "http.h"
#include "skew.h"
#include "sigv4.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

#define S3_MIN_PART (5ull << 20)
#define S3_MAX_PART (5ull << 30)
#define S3_MAX_PARTS 10000u
#define S3_MAX_PUT (5ull << 30)
/* User metadata per object: 2 KiB of keys and values (AWS S3 docs,
 * "User-defined object metadata"). */
#define S3_META_MAX 2048
#define S3_LIST_PAGE 1000u
#define S3_MAX_KEY 1024 /* bytes of a full key */

/* One [backend] section: its keys, checked.  Read-only after
 * config_complete, shared by the backend's mounts. */
struct s3_config {
	const struct scopefs_host *host;
	char *endpoint;      /* NULL: https://s3.REGION.amazonaws.com */
	char *region;        /* NULL: us-east-1 */
	char *bucket;
	char *prefix;        /* base prefix: "" or "a/b/" */
	int path_style;      /* -1 until decided in config_complete */
	char *access_key_id; /* static keys of the section, or NULL */
	char *secret_access_key;
	char *session_token;
	int secret_inline;   /* the file holds secret_access_key or a token */
	char *secret_file;   /* secret_access_key_file, for messages */
	char *profile;       /* NULL: $AWS_PROFILE, then "default" */
	char *imds_endpoint; /* NULL: http://169.254.169.254 */
	struct http_config http;
	int unsigned_payload;
	uint32_t list_page;      /* max-keys of a listing */
	uint64_t copy_threshold; /* larger sources use multipart copy */
	uint64_t copy_part_size; /* part size of a multipart copy */
};

struct s3_creds;

/* One mounted prefix. */
struct s3_mount {
	const struct s3_config *cfg;
	const struct scopefs_host *host;
	struct http_pool *http;
	struct s3_creds *creds;
	char *key_prefix;  /* base + mount prefix: "" or ends in '/' */
	char *origin;      /* scheme://host[:port] requests go to */
	char *host_header; /* host[:port], as sent and signed */
	char *bucket_path; /* "/BUCKET" with path style, else "" */
	struct skew skew;  /* the store's clock, for x-amz-date */
	int read_only;
};

/* One request, before signing. */
struct s3_req {
	const char *op;   /* for messages: "head", "put", ... */
	const char *name; /* the key as the core named it, for messages */
	const char *method;
	const char *key;  /* full key; NULL for the bucket itself */
	const struct http_pair *query;
	size_t nquery;
	/* Extra headers: x-amz-* ones are signed, the others only sent. */
	const struct http_pair *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
	void *out; /* see struct http_request */
	size_t out_cap;
	uint64_t skip_on_200;
};

/* Sign and send R (retries included).  0 for a 2xx answer, else -errno;
 * nothing is logged.  RESP must be freed with http_response_free(). */
int s3_send(struct s3_mount *m, const struct s3_req *r,
	    struct http_response *resp);

/* Report a failed request once: log it (debug for a plain "not found",
 * else warn) and set_error with the operation, key, status and the
 * server's error code and message.  Returns ERR, or a sharper errno
 * the error code implies. */
int s3_fail(struct s3_mount *m, const struct s3_req *r,
	    const struct http_response *resp, int err);

/* The server's error code and message from an error answer (XML body,
 * or x-amz-error-* headers for HEAD); "" when there is none. */
void s3_error_of(const struct http_response *resp, char *code,
		 size_t codelen, char *msg, size_t msglen);

/* Keys (s3_key.c). */

/* Check a key relative to the mount: no leading '/', no empty, "." or
 * ".." component (a trailing '/' marks a directory and is fine).  "" is
 * accepted only when allow_empty (a listing of the root).  Returns 0 or
 * -EINVAL after set_error. */
int s3_key_check(const struct s3_mount *m, const char *op, const char *key,
		 int allow_empty);
/* key_prefix + KEY, malloc'd; NULL (after set_error) when too long or
 * out of memory. */
char *s3_key_full(const struct s3_mount *m, const char *op, const char *key);

/* User metadata (s3_meta.c). */

/* Header pairs "x-amz-meta-KEY: value" for META, values that HTTP cannot
 * carry as is encoded as RFC 2047 "=?UTF-8?B?...?=" (as S3 itself
 * returns non-ASCII metadata).  *out is one malloc'd block; free it with
 * free().  -EINVAL (after set_error) for a key that is not a token. */
int s3_meta_headers(const struct s3_mount *m, const char *op,
		    const char *name, const struct scopefs_object_meta *meta,
		    size_t nmeta, struct http_pair **out);
/* Call FN for each x-amz-meta-* header of RESP, key without the prefix
 * and lower-cased, value decoded.  Returns FN's first non-zero result. */
int s3_meta_each(const struct http_response *resp, scopefs_meta_fn fn,
		 void *ctx);

/* Object primitives (the ops table). */
int s3_head(void *mnt, const char *key, struct scopefs_object_attr *a,
	    scopefs_meta_fn meta, void *ctx);
ssize_t s3_get(void *mnt, const char *key, uint64_t off, void *buf,
	       size_t len, const char *if_etag);
int s3_put(void *mnt, const char *key, const void *buf, size_t len,
	   const struct scopefs_object_meta *meta, size_t nmeta,
	   struct scopefs_object_attr *out);
/* Conditional create: -EEXIST if KEY exists (If-None-Match: *). */
int s3_put_new(void *mnt, const char *key, const void *buf, size_t len,
	       const struct scopefs_object_meta *meta, size_t nmeta,
	       struct scopefs_object_attr *out);
int s3_remove(void *mnt, const char *key);
int s3_list(void *mnt, const char *prefix, const char *delimiter,
	    char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx);
int s3_copy(void *mnt, const char *from, const char *to,
	    const struct scopefs_object_meta *meta, size_t nmeta,
	    struct scopefs_object_attr *out);
int s3_mpu_create(void *mnt, const char *key,
		  const struct scopefs_object_meta *meta, size_t nmeta,
		  void **upload);
int s3_mpu_part(void *mnt, void *upload, uint32_t part_number,
		const void *buf, size_t len);
int s3_mpu_complete(void *mnt, void *upload,
		    struct scopefs_object_attr *out);
int s3_mpu_abort(void *mnt, void *upload);

/* Copy an ETag into the ABI's fixed field (truncated if absurdly long). */
void s3_set_etag(struct scopefs_object_attr *a, const char *etag);

/* Multipart (s3_mpu.c), shared with the multipart copy of s3_copy.c. */
struct s3_upload;
struct s3_upload *s3_upload_start(struct s3_mount *m, const char *op,
				  const char *name, const char *key,
				  const struct scopefs_object_meta *meta,
				  size_t nmeta, int *err);
/* Record part N's ETag and size (replacing an earlier try of N). */
int s3_upload_record(struct s3_upload *u, uint32_t n, const char *etag,
		     uint64_t size);
const char *s3_upload_id(const struct s3_upload *u);
int s3_upload_finish(struct s3_mount *m, struct s3_upload *u,
		     struct scopefs_object_attr *out);
int s3_upload_cancel(struct s3_mount *m, struct s3_upload *u);
void s3_upload_free(struct s3_upload *u);

#pragma GCC visibility pop

#endif
