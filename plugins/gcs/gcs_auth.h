/*
 * gcs_auth: where a mount's OAuth 2.0 access tokens come from, with
 * auth = auto (the default) the first that is configured:
 *   1. service_account: the key file credentials (or
 *      GOOGLE_APPLICATION_CREDENTIALS): a JWT signed RS256 with its private
 *      key is exchanged at the token URI (token_uri, else the key file's,
 *      else Google's) for a token;
 *   2. metadata: the GCE metadata server's token for the VM's service
 *      account (metadata_endpoint for tests).
 * auth = none sends no Authorization (emulators).  Tokens are renewed five
 * minutes before they expire (plugins/common/token.c) and never logged.
 */
#ifndef SCOPEFS_GCS_AUTH_H
#define SCOPEFS_GCS_AUTH_H

#include <stddef.h>

#include "gcs.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* NULL with a one-sentence reason in err when no token can be had (the
 * first one is fetched here). */
struct gcs_auth *gcs_auth_open(const struct gcs_config *cfg,
			       struct http_pool *http, char *err,
			       size_t errlen);
void gcs_auth_close(struct gcs_auth *a);
/* The Authorization header's value ("Bearer ..."), malloc'd (free with
 * secret_free), or NULL in *value with auth = none.  0 or -errno. */
int gcs_auth_header(struct gcs_auth *a, char **value);
/* "service account NAME (key file PATH)", "metadata server (ORIGIN)",
 * "no credentials (auth = none)". */
const char *gcs_auth_source(const struct gcs_auth *a);

/* Exported only so that tests/unit/test_gcs_plugin.c can dlsym it. */
#define GCS_TEST_API __attribute__((visibility("default")))

/* The JWT assertion for the key: header
 * {"alg":"RS256","typ":"JWT"[,"kid"]}, claims iss, scope, aud, iat=NOW,
 * exp=NOW+3600, signed.  malloc'd secret; NULL with the reason in err. */
GCS_TEST_API char *gcs_jwt(const char *client_email, const char *key_id,
			   const char *private_key_pem, const char *aud,
			   long long now, char *err, size_t errlen);

#pragma GCC visibility pop

#endif
