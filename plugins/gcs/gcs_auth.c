/* gcs_auth: service-account JWTs, the metadata server, or nothing (see
 * gcs_auth.h).  The key file's private key stays in memory for renewals,
 * and is wiped when the mount closes; no message names more of it than
 * the account and the file. */
#include "gcs_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/crypto.h>

#include "crypto.h"
#include "strbuf.h"
#include "token.h"

#define TOKEN_TIMEOUT_MS 10000
#define METADATA_TIMEOUT_MS 2000
#define JWT_LIFETIME 3600
#define KEY_FILE_MAX (64 << 10)
#define METADATA_TOKEN_PATH \
	"/computeMetadata/v1/instance/service-accounts/default/token"

struct gcs_auth {
	enum gcs_auth_mode mode;
	char *email, *key_id, *key_pem, *token_uri;
	struct token_source *token;
	char source[1200];
};

/* ---- the JWT ---------------------------------------------------------- */

static char *b64url_json(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	return s ? b64url_encode(s, strlen(s)) : NULL;
}

char *gcs_jwt(const char *client_email, const char *key_id,
	      const char *private_key_pem, const char *aud, long long now,
	      char *err, size_t errlen)
{
	struct json_object *hd = json_object_new_object();
	struct json_object *cl = json_object_new_object();
	struct strbuf b = STRBUF_INIT;
	char *h64 = NULL, *c64 = NULL, *s64 = NULL, *jwt = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc;

	snprintf(err, errlen, "out of memory");
	if (!hd || !cl)
		goto out;
	json_object_object_add(hd, "alg", json_object_new_string("RS256"));
	json_object_object_add(hd, "typ", json_object_new_string("JWT"));
	if (key_id && key_id[0])
		json_object_object_add(hd, "kid", json_object_new_string(key_id));
	json_object_object_add(cl, "iss", json_object_new_string(client_email));
	json_object_object_add(cl, "scope", json_object_new_string(GCS_SCOPE));
	json_object_object_add(cl, "aud", json_object_new_string(aud));
	json_object_object_add(cl, "iat", json_object_new_int64(now));
	json_object_object_add(cl, "exp",
			       json_object_new_int64(now + JWT_LIFETIME));
	if (!(h64 = b64url_json(hd)) || !(c64 = b64url_json(cl)))
		goto out;
	sb_addf(&b, "%s.%s", h64, c64);
	if (b.oom)
		goto out;
	rc = rs256_sign(private_key_pem, b.s, b.len, &sig, &siglen);
	if (rc < 0) {
		snprintf(err, errlen, "%s", rc == -EINVAL
			 ? "the private_key is not an RSA private key in PEM"
			 : rc == -ENOMEM ? "out of memory"
					 : "OpenSSL could not sign the JWT");
		goto out;
	}
	if (!(s64 = b64url_encode(sig, siglen)))
		goto out;
	sb_addf(&b, ".%s", s64);
	jwt = sb_done(&b);
	if (jwt)
		err[0] = '\0';
out:
	sb_free(&b);
	free(h64);
	free(c64);
	free(s64);
	free(sig);
	if (hd)
		json_object_put(hd);
	if (cl)
		json_object_put(cl);
	return jwt;
}

/* The token URI's form body for the next JWT (token_body_fn). */
static int jwt_body(void *ctx, char **body, char *err, size_t errlen)
{
	struct gcs_auth *a = ctx;
	struct strbuf b = STRBUF_INIT;
	char *jwt = gcs_jwt(a->email, a->key_id, a->key_pem, a->token_uri,
			    (long long)time(NULL), err, errlen);

	if (!jwt)
		return -EACCES;
	sb_add(&b, "grant_type=");
	sb_add_uri_encoded(&b, "urn:ietf:params:oauth:grant-type:jwt-bearer", 0);
	sb_add(&b, "&assertion=");
	sb_add(&b, jwt); /* base64url and '.': nothing to encode */
	secret_free(jwt);
	if (b.oom) {
		if (b.s)
			OPENSSL_cleanse(b.s, b.len);
		sb_free(&b);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*body = sb_done(&b);
	return 0;
}

/* ---- the key file ----------------------------------------------------- */

/* The whole file, NUL-terminated, malloc'd; NULL with the reason. */
static char *slurp(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	ssize_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "cannot read the key file %s: %s", path,
			 strerror(errno));
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > KEY_FILE_MAX) {
		snprintf(err, errlen, "the key file %s is %s", path,
			 st.st_size <= 0 ? "empty" : "too large for a key file");
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	while (n < st.st_size) {
		ssize_t k = read(fd, buf + n, (size_t)(st.st_size - n));
		if (k <= 0) {
			snprintf(err, errlen, "cannot read the key file %s: %s",
				 path, k < 0 ? strerror(errno) : "short read");
			OPENSSL_cleanse(buf, (size_t)n);
			free(buf);
			buf = NULL;
			goto out;
		}
		n += k;
	}
	buf[n] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int take_string(struct json_object *o, const char *field, char **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, field, &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_get_string(v)[0])
		return -ENOENT;
	*out = strdup(json_object_get_string(v));
	return *out ? 0 : -ENOMEM;
}

static int read_key_file(struct gcs_auth *a, const struct gcs_config *cfg,
			 char *err, size_t errlen)
{
	char *text = slurp(cfg->credentials, err, errlen);
	struct json_object *o, *type;
	int rc = -EACCES;

	if (!text)
		return -EACCES;
	o = json_tokener_parse(text);
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "the key file %s is not JSON",
			 cfg->credentials);
		goto out;
	}
	if (json_object_object_get_ex(o, "type", &type) &&
	    strcmp(json_object_get_string(type), "service_account") != 0) {
		snprintf(err, errlen, "the key file %s is of type '%s', not "
			 "a service account's key", cfg->credentials,
			 json_object_get_string(type));
		goto out;
	}
	if (take_string(o, "client_email", &a->email) < 0 ||
	    take_string(o, "private_key", &a->key_pem) < 0) {
		snprintf(err, errlen, "the key file %s has no client_email or "
			 "no private_key", cfg->credentials);
		goto out;
	}
	(void)take_string(o, "private_key_id", &a->key_id);
	if (cfg->token_uri)
		a->token_uri = strdup(cfg->token_uri);
	else if (take_string(o, "token_uri", &a->token_uri) < 0)
		a->token_uri = strdup(GCS_TOKEN_URI);
	rc = a->token_uri ? 0 : -ENOMEM;
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
out:
	if (o)
		json_object_put(o);
	return rc;
}

/* ---- the sources ------------------------------------------------------ */

static int service_account(struct gcs_auth *a, const struct gcs_config *cfg,
			   struct http_pool *http, char *err, size_t errlen)
{
	char why[800], origin[256];

	if (read_key_file(a, cfg, err, errlen) < 0)
		return -EACCES;
	a->token = token_source_open_post(cfg->host, http, a->token_uri,
					  "application/x-www-form-urlencoded",
					  jwt_body, a, TOKEN_TIMEOUT_MS, why,
					  sizeof why);
	if (!a->token) {
		snprintf(err, errlen, "service account %s: %s", a->email, why);
		return -EACCES;
	}
	http_url_origin(a->token_uri, origin, sizeof origin);
	snprintf(a->source, sizeof a->source, "service account %s (key file "
		 "%s, token URI %s)", a->email, cfg->credentials, origin);
	return 0;
}

static int metadata_server(struct gcs_auth *a, const struct gcs_config *cfg,
			   struct http_pool *http, char *err, size_t errlen)
{
	const char *ep = cfg->metadata_endpoint ? cfg->metadata_endpoint
						: GCS_METADATA_ENDPOINT;
	char url[512], why[800], origin[256];

	snprintf(url, sizeof url, "%s%s", ep, METADATA_TOKEN_PATH);
	a->token = token_source_open(cfg->host, http, url,
				     "Metadata-Flavor: Google",
				     METADATA_TIMEOUT_MS, why, sizeof why);
	if (!a->token) {
		snprintf(err, errlen, "%s%s", cfg->credentials ? "" :
			 "no credentials: set credentials (or "
			 "GOOGLE_APPLICATION_CREDENTIALS) to a service-account "
			 "key file, or auth = none for an emulator; no "
			 "metadata server either: ", why);
		return -EACCES;
	}
	http_url_origin(ep, origin, sizeof origin);
	snprintf(a->source, sizeof a->source, "metadata server (%s)", origin);
	return 0;
}

struct gcs_auth *gcs_auth_open(const struct gcs_config *cfg,
			       struct http_pool *http, char *err,
			       size_t errlen)
{
	struct gcs_auth *a = calloc(1, sizeof *a);
	int rc = 0;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->mode = cfg->auth;
	switch (a->mode) {
	case GCS_AUTH_SERVICE_ACCOUNT:
		rc = service_account(a, cfg, http, err, errlen);
		break;
	case GCS_AUTH_METADATA:
	case GCS_AUTH_AUTO: /* config_complete resolved it */
		a->mode = GCS_AUTH_METADATA;
		rc = metadata_server(a, cfg, http, err, errlen);
		break;
	case GCS_AUTH_NONE:
		snprintf(a->source, sizeof a->source,
			 "no credentials (auth = none)");
		break;
	}
	if (rc < 0) {
		gcs_auth_close(a);
		return NULL;
	}
	return a;
}

void gcs_auth_close(struct gcs_auth *a)
{
	if (!a)
		return;
	token_source_close(a->token);
	free(a->email);
	free(a->key_id);
	secret_free(a->key_pem);
	free(a->token_uri);
	free(a);
}

int gcs_auth_header(struct gcs_auth *a, char **value)
{
	struct strbuf b = STRBUF_INIT;
	char *token;
	int rc;

	*value = NULL;
	if (a->mode == GCS_AUTH_NONE)
		return 0;
	if ((rc = token_source_get(a->token, &token)) < 0)
		return rc;
	sb_addf(&b, "Bearer %s", token);
	secret_free(token);
	*value = sb_done(&b);
	return *value ? 0 : -ENOMEM;
}

const char *gcs_auth_source(const struct gcs_auth *a)
{
	return a->source;
}
