/*
 * azblob: the Azure Blob Storage plugin's internal interface.  azblob.c
 * is the description the core loads; azblob_config.c reads the keys,
 * azblob_auth.c picks the credentials, sharedkey.c signs,
 * azblob_request.c sends, and the primitives live one family per file
 * (azblob_object.c, azblob_list.c, azblob_copy.c, azblob_blocks.c).
 * Everything that is not Azure's is in plugins/common.
 */
#ifndef SCOPEFS_AZBLOB_H
#define SCOPEFS_AZBLOB_H

#include <stddef.h>
#include <stdint.h>
#include <scopefs/plugin.h>

#include "http.h"
#include "skew.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* The REST API version we speak: Azurite 3.35.0 accepts it without
 * --skipApiVersionCheck, and it has everything used here (5000 MiB Put
 * Blob and Put Block, 50,000 blocks, SharedKey with empty Content-Length
 * for 0, Bearer tokens, account SAS sv=2021-08-06). */
#define AZ_API_VERSION "2021-08-06"
#define AZ_MAX_PUT (5000ull << 20)
/* Metadata per blob: 8 KiB of names and values together (Azure docs,
 * "Setting and retrieving properties and metadata"). */
#define AZ_META_MAX 8192
#define AZ_MAX_BLOCK (4000ull << 20)
#define AZ_MAX_BLOCKS 50000u
#define AZ_LIST_PAGE 5000u
#define AZ_MAX_KEY 1024 /* characters of a blob name */
#define AZ_META_PREFIX "x-ms-meta-"

enum az_auth_mode { AZ_AUTH_AUTO, AZ_AUTH_KEY, AZ_AUTH_SAS, AZ_AUTH_MSI };

/* One [backend] section, checked; read-only after config_complete. */
struct az_config {
	const struct scopefs_host *host;
	char *account;
	char *container;
	char *endpoint;      /* NULL until config_complete sets the default */
	char *prefix;        /* base prefix: "" or "a/b/" */
	enum az_auth_mode auth;
	char *account_key;   /* base64, as the portal shows it */
	char *sas_token;     /* without the leading '?' */
	int secret_inline;   /* the file holds account_key or sas_token */
	char *key_file;      /* account_key_file, for messages */
	char *sas_file;      /* sas_token_file, likewise */
	char *msi_endpoint;  /* NULL: the instance metadata service */
	char *msi_client_id;
	struct http_config http;
	uint32_t list_page;
	long copy_timeout_s; /* deadline of an asynchronous Copy Blob */
};

struct az_auth;

struct az_mount {
	const struct az_config *cfg;
	const struct scopefs_host *host;
	struct http_pool *http;
	struct az_auth *auth;
	char *key_prefix;  /* base + mount prefix: "" or ends in '/' */
	char *base_url;    /* endpoint + "/" + container */
	struct skew skew;  /* the store's clock, for x-ms-date */
	int read_only;
};

/* One request.  query values are raw (encoded here); headers are sent
 * as given and signed when SharedKey signs them. */
struct az_req {
	const char *op;   /* for messages: "head", "put", ... */
	const char *name; /* the key as the core named it */
	const char *method;
	const char *key;  /* full blob name; NULL for the container */
	const struct http_pair *query;
	size_t nquery;
	const struct http_pair *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
	void *out;
	size_t out_cap;
	uint64_t skip_on_200;
};

/* Authorise and send R (retries included): 0 for a 2xx, else -errno;
 * nothing logged.  RESP must be freed with http_response_free(). */
int az_send(struct az_mount *m, const struct az_req *r,
	    struct http_response *resp);
/* Report a failed request once (http_report with x-ms-error-code) and
 * return ERR, or a sharper errno the error code implies. */
int az_fail(struct az_mount *m, const struct az_req *r,
	    const struct http_response *resp, int err);
/* The server's error code (x-ms-error-code, else the XML body) and
 * message; "" when there is none. */
void az_error_of(const struct http_response *resp, char *code,
		 size_t codelen, char *msg, size_t msglen);

/* Keys: checked, prefixed (at most AZ_MAX_KEY). */
int az_key_check(const struct az_mount *m, const char *op, const char *key,
		 int allow_empty);
char *az_key_full(const struct az_mount *m, const char *op, const char *key);

/* x-ms-meta-* headers for META (*out: one malloc'd block). */
int az_meta_headers(const struct az_mount *m, const char *op,
		    const char *name, const struct scopefs_object_meta *meta,
		    size_t nmeta, struct http_pair **out);

/* The primitives (the ops table). */
int az_head(void *mnt, const char *key, struct scopefs_object_attr *a,
	    scopefs_meta_fn meta, void *ctx);
ssize_t az_get(void *mnt, const char *key, uint64_t off, void *buf,
	       size_t len, const char *if_etag);
int az_put(void *mnt, const char *key, const void *buf, size_t len,
	   const struct scopefs_object_meta *meta, size_t nmeta,
	   struct scopefs_object_attr *out);
/* Put Blob only if no blob has the name (If-None-Match: *): -EEXIST. */
int az_put_new(void *mnt, const char *key, const void *buf, size_t len,
	       const struct scopefs_object_meta *meta, size_t nmeta,
	       struct scopefs_object_attr *out);
int az_remove(void *mnt, const char *key);
int az_list(void *mnt, const char *prefix, const char *delimiter,
	    char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx);
int az_copy(void *mnt, const char *from, const char *to,
	    const struct scopefs_object_meta *meta, size_t nmeta,
	    struct scopefs_object_attr *out);
int az_mpu_create(void *mnt, const char *key,
		  const struct scopefs_object_meta *meta, size_t nmeta,
		  void **upload);
int az_mpu_part(void *mnt, void *upload, uint32_t part_number,
		const void *buf, size_t len);
int az_mpu_complete(void *mnt, void *upload,
		    struct scopefs_object_attr *out);
int az_mpu_abort(void *mnt, void *upload);

/* Mounts (azblob_mount.c). */
int az_mount_open(const struct az_config *cfg, const char *prefix,
		  unsigned int flags, void **mnt);
void az_mount_close(void *mnt);

/* Configuration (azblob_config.c). */
void az_config_init(struct az_config *c, const struct scopefs_host *host);
int az_config_key(struct az_config *c, const char *key, const char *value);
int az_config_complete(struct az_config *c);
void az_config_free(struct az_config *c);

#pragma GCC visibility pop

#endif
