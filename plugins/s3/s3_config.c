/* s3_config: the keys of a [backend] section with plugin = s3, checked
 * one by one (config) and together (config_complete).  No network here:
 * the daemon forks after config_complete. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config_keys.h"
#include "crypto.h"
#include "credentials.h"
#include "s3.h"
#include "s3_config.h"

/* Each also as NAME_file, read from a file (the key id for symmetry:
 * secret stores hand both). */
static const char *const secrets[] = { "access_key_id", "secret_access_key",
				       "session_token", NULL };

int s3_config_key(struct s3_config *c, const char *key, const char *value)
{
	const struct scopefs_host *h = c->host;
	const char *name;
	char *secret;
	unsigned long u;
	int rc;

	if ((rc = ck_secret_key_file(h, key, value, secrets, &name,
				     &secret)) <= 0) {
		int inline_before = c->secret_inline;
		if (rc < 0)
			return rc;
		rc = s3_config_key(c, name, secret);
		secret_free(secret);
		c->secret_inline = inline_before; /* not in this file */
		if (rc == 0 && strcmp(name, "secret_access_key") == 0)
			rc = ck_str(h, &c->secret_file, value);
		return rc;
	}

	if (strcmp(key, "endpoint") == 0)
		return ck_url(h, key, &c->endpoint, value, 0);
	if (strcmp(key, "imds_endpoint") == 0)
		return ck_url(h, key, &c->imds_endpoint, value, 0);
	if (strcmp(key, "region") == 0) {
		if (!ck_name_ok(value, "-_")) {
			h->set_error(h, "region '%s' is not a region name",
				     value);
			return -EINVAL;
		}
		return ck_str(h, &c->region, value);
	}
	if (strcmp(key, "bucket") == 0) {
		if (!ck_name_ok(value, "-._")) {
			h->set_error(h, "bucket '%s' is not a bucket name "
				     "(letters, digits, '-', '.', '_')", value);
			return -EINVAL;
		}
		return ck_str(h, &c->bucket, value);
	}
	if (strcmp(key, "prefix") == 0)
		return ck_prefix(h, &c->prefix, value);
	if (strcmp(key, "path_style") == 0)
		return ck_bool(h, key, &c->path_style, value);
	if (strcmp(key, "access_key_id") == 0)
		return ck_str(h, &c->access_key_id, value);
	if (strcmp(key, "secret_access_key") == 0) {
		c->secret_inline = 1;
		return ck_str(h, &c->secret_access_key, value);
	}
	if (strcmp(key, "session_token") == 0) {
		c->secret_inline = 1;
		return ck_str(h, &c->session_token, value);
	}
	if (strcmp(key, "profile") == 0)
		return ck_str(h, &c->profile, value);
	if ((rc = ck_http_key(h, &c->http, key, value)) <= 0)
		return rc;
	if (strcmp(key, "unsigned_payload") == 0)
		return ck_bool(h, key, &c->unsigned_payload, value);
	if (strcmp(key, "list_page") == 0) {
		if ((rc = ck_uint(h, key, 1, S3_LIST_PAGE, &u, value)) == 0)
			c->list_page = (uint32_t)u;
		return rc;
	}
	if (strcmp(key, "copy_threshold") == 0)
		return ck_size(h, key, 1, S3_MAX_PUT, &c->copy_threshold,
				value);
	if (strcmp(key, "copy_part_size") == 0)
		return ck_size(h, key, S3_MIN_PART, S3_MAX_PART,
				&c->copy_part_size, value);
	h->set_error(h, "unknown key '%s' (see scopefs --help for the s3 "
		     "plugin's keys)", key);
	return -EINVAL;
}

static int check_secret_file(const struct s3_config *c)
{
	if (!c->secret_inline)
		return 0; /* none, or each from a file of its own */
	return ck_secret_file(c->host, "secret_access_key");
}

/* Virtual-hosted style for AWS itself, path style for anything else (and
 * for dotted bucket names, which break TLS wildcard certificates). */
static int default_path_style(const struct s3_config *c)
{
	const char *host, *tail = ".amazonaws.com";
	size_t n, t = strlen(tail);

	if (strchr(c->bucket, '.'))
		return 1;
	if (!c->endpoint)
		return 0;
	host = strstr(c->endpoint, "://") + 3;
	n = strcspn(host, ":/");
	return !(n > t && strncasecmp(host + n - t, tail, t) == 0);
}

int s3_config_complete(struct s3_config *c)
{
	const struct scopefs_host *h = c->host;
	int rc;

	if (!c->bucket) {
		h->set_error(h, "bucket is required");
		return -EINVAL;
	}
	if (!c->access_key_id != !c->secret_access_key) {
		h->set_error(h, "access_key_id and secret_access_key go "
			     "together: give both or neither");
		return -EINVAL;
	}
	if (c->session_token && !c->access_key_id) {
		h->set_error(h, "session_token needs access_key_id and "
			     "secret_access_key");
		return -EINVAL;
	}
	if ((rc = check_secret_file(c)) < 0)
		return rc;
	if (!c->region && (rc = ck_str(h, &c->region,
					"us-east-1")) < 0)
		return rc;
	if (!c->endpoint) {
		char url[256];
		snprintf(url, sizeof url, "https://s3.%s.amazonaws.com",
			 c->region);
		if ((rc = ck_str(h, &c->endpoint, url)) < 0)
			return rc;
		if (c->path_style < 0)
			c->path_style = strchr(c->bucket, '.') != NULL;
	}
	if (c->path_style < 0)
		c->path_style = default_path_style(c);
	if (!c->path_style && !ck_name_ok(c->bucket, "-")) {
		h->set_error(h, "bucket '%s' cannot be a host name; set "
			     "path_style = yes", c->bucket);
		return -EINVAL;
	}
	char plan[512];
	s3_creds_plan(c, plan, sizeof plan);
	h->log(h, SCOPEFS_LOG_INFO, "credentials from %s", plan);
	return 0;
}

void s3_config_init(struct s3_config *c, const struct scopefs_host *host)
{
	memset(c, 0, sizeof *c);
	c->host = host;
	c->prefix = strdup("");
	c->path_style = -1;
	http_config_defaults(&c->http);
	c->list_page = S3_LIST_PAGE;
	c->copy_threshold = S3_MAX_PUT;
	c->copy_part_size = 512ull << 20;
}

void s3_config_free(struct s3_config *c)
{
	free(c->endpoint);
	free(c->region);
	free(c->bucket);
	free(c->prefix);
	free(c->profile);
	free(c->imds_endpoint);
	secret_free(c->access_key_id);
	secret_free(c->secret_access_key);
	secret_free(c->session_token);
	free(c->secret_file);
	memset(c, 0, sizeof *c);
}
