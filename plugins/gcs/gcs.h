/*
 * gcs: the Google Cloud Storage plugin's internal interface (the JSON API).
 * gcs.c is the description the core loads; gcs_config.c reads the keys,
 * gcs_auth.c gets the OAuth tokens, gcs_request.c sends, gcs_json.c reads
 * and writes the API's JSON, and the primitives live one family per file
 * (gcs_object.c, gcs_list.c, gcs_copy.c, gcs_compose.c).  Everything that
 * is not GCS's is in plugins/common.
 */
#ifndef SCOPEFS_GCS_H
#define SCOPEFS_GCS_H

#include <stddef.h>
#include <stdint.h>
#include <scopefs/plugin.h>

#include "http.h"
#include "objlist.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

#define GCS_ENDPOINT "https://storage.googleapis.com"
#define GCS_TOKEN_URI "https://oauth2.googleapis.com/token"
#define GCS_METADATA_ENDPOINT "http://metadata.google.internal"
#define GCS_SCOPE "https://www.googleapis.com/auth/devstorage.read_write"
/* Object names: 1-1024 bytes of UTF-8 (GCS "Object naming requirements"). */
#define GCS_MAX_KEY 1024
/* Custom metadata: 8 KiB of keys and values per object ("Quotas and
 * limits"). */
#define GCS_META_MAX 8192
#define GCS_LIST_PAGE 1000u
/* compose takes 1 to 32 source objects per call. */
#define GCS_COMPOSE_MAX 32
/* One upload request: GCS takes 5 TiB; the emulator's body parser stops
 * at 130 MB, and no part the object layer sends is larger. */
#define GCS_MAX_PUT (128ull << 20)
#define GCS_MAX_PARTS 10000u
/* Where streamed uploads keep their parts until compose: under the
 * backend's base prefix, outside every mount, and never listed. */
#define GCS_PARTS_DIR ".scopefs-parts/"

enum gcs_auth_mode {
	GCS_AUTH_AUTO,
	GCS_AUTH_SERVICE_ACCOUNT,
	GCS_AUTH_METADATA,
	GCS_AUTH_NONE,
};

/* One [backend] section, checked; read-only after config_complete. */
struct gcs_config {
	const struct scopefs_host *host;
	char *bucket;
	char *endpoint;          /* NULL until config_complete sets it */
	char *prefix;            /* base prefix: "" or "a/b/" */
	enum gcs_auth_mode auth;
	char *credentials;       /* path of a service-account key file */
	char *token_uri;         /* overrides the key file's */
	char *metadata_endpoint; /* NULL: the GCE metadata server */
	struct http_config http;
	uint32_t list_page;
};

struct gcs_auth;

struct gcs_mount {
	const struct gcs_config *cfg;
	const struct scopefs_host *host;
	struct http_pool *http;
	struct gcs_auth *auth;
	char *key_prefix;   /* base + mount prefix: "" or ends in '/' */
	char *parts_prefix; /* base + GCS_PARTS_DIR */
	char *bucket_path;  /* "/b/" + encoded bucket */
	int read_only;
};

/* One request.  PATH is below the API root ("/storage/v1" or, with
 * upload, "/upload/storage/v1"); query values are raw (encoded here). */
struct gcs_req {
	const char *op;   /* for messages: "head", "put", ... */
	const char *name; /* the key as the core named it */
	const char *method;
	int upload;       /* the upload endpoint */
	const char *path;
	const struct http_pair *query;
	size_t nquery;
	const struct http_pair *headers;
	size_t nheaders;
	const char *content_type;
	const void *body;
	size_t body_len;
	const void *body_head, *body_tail; /* see struct http_request */
	size_t head_len, tail_len;
	void *out;
	size_t out_cap;
	uint64_t skip_on_200;
};

/* Authorise (Bearer) and send R, retries included: 0 for a 2xx, else
 * -errno; nothing logged.  RESP must be freed with http_response_free(). */
int gcs_send(struct gcs_mount *m, const struct gcs_req *r,
	     struct http_response *resp);
/* Report a failed request once (with the JSON error's reason and message)
 * and return ERR, or a sharper errno the reason implies. */
int gcs_fail(struct gcs_mount *m, const struct gcs_req *r,
	     const struct http_response *resp, int err);

/* Keys: checked, prefixed (at most GCS_MAX_KEY bytes). */
int gcs_key_check(const struct gcs_mount *m, const char *op, const char *key,
		  int allow_empty);
char *gcs_key_full(const struct gcs_mount *m, const char *op,
		   const char *key);
/* "/b/BUCKET/o/NAME" with NAME percent-encoded as one path segment (its
 * '/'s too), then SUFFIX (or ""); malloc'd, NULL when out of memory. */
char *gcs_object_path(const struct gcs_mount *m, const char *name,
		      const char *suffix);

/* JSON (gcs_json.c). */
/* The object resource BODY: attributes into A, then each user-metadata
 * pair to FN (when not NULL).  -EIO when it is not an object resource. */
int gcs_json_object(const char *body, struct scopefs_object_attr *a,
		    scopefs_meta_fn fn, void *ctx);
/* An objects.list answer into PAGE (full names); -EIO if it is not one. */
int gcs_json_list(const char *body, const char *skip_prefix,
		  struct objlist *page);
/* An object resource to send: contentType, "metadata" with the core's
 * pairs (values made header-safe, as on the other stores; left out when
 * KEEP_META and META is NULL, so that a rewrite keeps the source's), and
 * "name" when NAME is not NULL; malloc'd.  -EINVAL after set_error for a
 * key GCS cannot store. */
int gcs_json_resource(const struct gcs_mount *m, const char *op,
		      const char *key, const char *name,
		      const struct scopefs_object_meta *meta, size_t nmeta,
		      int keep_meta, char **out);
/* The error's reason ("notFound", ...) and message; "" when none. */
void gcs_json_error(const char *body, char *reason, size_t reasonlen,
		    char *msg, size_t msglen);

/* An upload of BUF as object FULL (the full name) with RESOURCE (JSON
 * from gcs_json_resource, or NULL: media upload), ifGenerationMatch=IF_GEN
 * when not NULL; the new object's attributes in OUT (may be NULL). */
int gcs_upload(struct gcs_mount *m, const char *op, const char *name,
	       const char *full, const void *buf, size_t len,
	       const char *resource, const char *if_gen,
	       struct scopefs_object_attr *out);
/* Delete object FULL (the full name); absent is fine.  Reports failures
 * once, for NAME. */
int gcs_delete(struct gcs_mount *m, const char *op, const char *name,
	       const char *full);

/* The primitives (the ops table). */
int gcs_head(void *mnt, const char *key, struct scopefs_object_attr *a,
	     scopefs_meta_fn meta, void *ctx);
ssize_t gcs_get(void *mnt, const char *key, uint64_t off, void *buf,
		size_t len, const char *if_etag);
int gcs_put(void *mnt, const char *key, const void *buf, size_t len,
	    const struct scopefs_object_meta *meta, size_t nmeta,
	    struct scopefs_object_attr *out);
/* Upload only if no object has the name (ifGenerationMatch=0): -EEXIST. */
int gcs_put_new(void *mnt, const char *key, const void *buf, size_t len,
		const struct scopefs_object_meta *meta, size_t nmeta,
		struct scopefs_object_attr *out);
int gcs_remove(void *mnt, const char *key);
int gcs_list(void *mnt, const char *prefix, const char *delimiter,
	     char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx);
int gcs_copy(void *mnt, const char *from, const char *to,
	     const struct scopefs_object_meta *meta, size_t nmeta,
	     struct scopefs_object_attr *out);
int gcs_mpu_create(void *mnt, const char *key,
		   const struct scopefs_object_meta *meta, size_t nmeta,
		   void **upload);
int gcs_mpu_part(void *mnt, void *upload, uint32_t part_number,
		 const void *buf, size_t len);
int gcs_mpu_complete(void *mnt, void *upload,
		     struct scopefs_object_attr *out);
int gcs_mpu_abort(void *mnt, void *upload);

/* Mounts (gcs_mount.c). */
int gcs_mount_open(const struct gcs_config *cfg, const char *prefix,
		   unsigned int flags, void **mnt);
void gcs_mount_close(void *mnt);

/* Configuration (gcs_config.c). */
void gcs_config_init(struct gcs_config *c, const struct scopefs_host *host);
int gcs_config_key(struct gcs_config *c, const char *key, const char *value);
int gcs_config_complete(struct gcs_config *c);
void gcs_config_free(struct gcs_config *c);

#pragma GCC visibility pop

#endif
