/* gcs_config: the keys of a [backend] section with plugin = gcs, one by
 * one (config) and together (config_complete).  No network here: the
 * daemon forks after config_complete.  GOOGLE_APPLICATION_CREDENTIALS
 * stands in for credentials when the section does not set it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "gcs.h"
#include "objkey.h"

static int set_auth(const struct scopefs_host *h, enum gcs_auth_mode *out,
		    const char *value)
{
	static const char *const names[] = { "auto", "service_account",
					      "metadata", "none" };

	for (int i = 0; i < 4; i++)
		if (strcmp(value, names[i]) == 0) {
			*out = (enum gcs_auth_mode)i;
			return 0;
		}
	h->set_error(h, "auth must be auto, service_account, metadata or none, "
		     "not '%s'", value);
	return -EINVAL;
}

/* Bucket names: 3-222 bytes of lower-case letters, digits, '-', '_' and
 * '.', beginning and ending with a letter or digit ("Bucket naming
 * requirements"; the 63-byte limit per dot-separated part is GCS's to
 * check). */
static int bucket_ok(const char *s)
{
	size_t n = strlen(s);
	const char *alnum = "abcdefghijklmnopqrstuvwxyz0123456789";

	return n >= 3 && n <= 222 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
					      "0123456789-_.") == n &&
	       strchr(alnum, s[0]) && strchr(alnum, s[n - 1]);
}

int gcs_config_key(struct gcs_config *c, const char *key, const char *value)
{
	const struct scopefs_host *h = c->host;
	unsigned long u;
	int rc;

	if ((rc = ck_http_key(h, &c->http, key, value)) <= 0)
		return rc;
	if (strcmp(key, "bucket") == 0) {
		if (!bucket_ok(value)) {
			h->set_error(h, "bucket '%s' is not a bucket name (3-222 "
				     "lower-case letters, digits, '-', '_' and "
				     "'.')", value);
			return -EINVAL;
		}
		return ck_str(h, &c->bucket, value);
	}
	if (strcmp(key, "endpoint") == 0)
		return ck_url(h, key, &c->endpoint, value, 0);
	if (strcmp(key, "token_uri") == 0)
		return ck_url(h, key, &c->token_uri, value, 1);
	if (strcmp(key, "metadata_endpoint") == 0)
		return ck_url(h, key, &c->metadata_endpoint, value, 0);
	if (strcmp(key, "prefix") == 0)
		return ck_prefix(h, &c->prefix, value);
	if (strcmp(key, "auth") == 0)
		return set_auth(h, &c->auth, value);
	if (strcmp(key, "credentials") == 0)
		return ck_str(h, &c->credentials, value);
	if (strcmp(key, "list_page") == 0) {
		if ((rc = ck_uint(h, key, 1, GCS_LIST_PAGE, &u, value)) == 0)
			c->list_page = (uint32_t)u;
		return rc;
	}
	h->set_error(h, "unknown key '%s' (see scopefs --help for the gcs "
		     "plugin's keys)", key);
	return -EINVAL;
}

int gcs_config_complete(struct gcs_config *c)
{
	const struct scopefs_host *h = c->host;
	const char *env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	int rc;

	if (!c->bucket) {
		h->set_error(h, "bucket is required");
		return -EINVAL;
	}
	if (!c->credentials && env && env[0] && c->auth != GCS_AUTH_NONE &&
	    c->auth != GCS_AUTH_METADATA &&
	    (rc = ck_str(h, &c->credentials, env)) < 0)
		return rc;
	if (c->auth == GCS_AUTH_AUTO)
		c->auth = c->credentials ? GCS_AUTH_SERVICE_ACCOUNT
					 : GCS_AUTH_METADATA;
	if (c->auth == GCS_AUTH_SERVICE_ACCOUNT) {
		if (!c->credentials) {
			h->set_error(h, "auth = service_account needs "
				     "credentials (or "
				     "GOOGLE_APPLICATION_CREDENTIALS), the "
				     "path of a service-account key file");
			return -EINVAL;
		}
		if ((rc = ck_secret_path(h, c->credentials,
					 "a service-account private key")) < 0)
			return rc;
	}
	if (!c->endpoint && (rc = ck_str(h, &c->endpoint, GCS_ENDPOINT)) < 0)
		return rc;
	if (c->auth == GCS_AUTH_SERVICE_ACCOUNT)
		h->log(h, SCOPEFS_LOG_INFO, "credentials from the service "
		       "account key file %s", c->credentials);
	else if (c->auth == GCS_AUTH_METADATA)
		h->log(h, SCOPEFS_LOG_INFO, "credentials from the instance's "
		       "service account, from %s when mounting",
		       c->metadata_endpoint ? c->metadata_endpoint
					    : "the metadata server");
	else
		h->log(h, SCOPEFS_LOG_INFO, "no credentials (auth = none)");
	return 0;
}

void gcs_config_init(struct gcs_config *c, const struct scopefs_host *host)
{
	memset(c, 0, sizeof *c);
	c->host = host;
	c->prefix = strdup("");
	http_config_defaults(&c->http);
	c->list_page = GCS_LIST_PAGE;
}

void gcs_config_free(struct gcs_config *c)
{
	free(c->bucket);
	free(c->endpoint);
	free(c->prefix);
	free(c->credentials);
	free(c->token_uri);
	free(c->metadata_endpoint);
	memset(c, 0, sizeof *c);
}
