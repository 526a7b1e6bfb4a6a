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
#include <openssl/crypto.h>

#include "s3.h"
#include "s3_config.h"

static int set_str(const struct scopefs_host *h, const char *key,
		   char **slot, const char *value)
{
	char *s = strdup(value);

	if (!s) {
		h->set_error(h, "out of memory");
		return -ENOMEM;
	}
	free(*slot);
	*slot = s;
	(void)key;
	return 0;
}

/* A URL of our own: http(s)://host[:port], no path, query or user. */
static int set_url(const struct scopefs_host *h, const char *key,
		   char **slot, const char *value)
{
	size_t n = strlen(value);
	const char *rest;

	if (strncmp(value, "http://", 7) == 0)
		rest = value + 7;
	else if (strncmp(value, "https://", 8) == 0)
		rest = value + 8;
	else
		rest = NULL;
	while (n > 0 && value[n - 1] == '/')
		n--;
	if (!rest || rest >= value + n ||
	    strcspn(rest, "/?#@ ") < (size_t)(value + n - rest)) {
		h->set_error(h, "%s must be http://HOST[:PORT] or "
			     "https://HOST[:PORT], not '%s'", key, value);
		return -EINVAL;
	}
	free(*slot);
	*slot = strndup(value, n);
	return *slot ? 0 : -ENOMEM;
}

static int set_seconds(const struct scopefs_host *h, const char *key,
		       long *ms, const char *value)
{
	char *end;
	double s = strtod(value, &end);

	if (end == value || *end || !(s > 0) || s > 3600) {
		h->set_error(h, "%s must be a number of seconds (0 < n <= "
			     "3600), not '%s'", key, value);
		return -EINVAL;
	}
	*ms = (long)(s * 1000 + 0.5);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

static int set_uint(const struct scopefs_host *h, const char *key,
		    unsigned long lo, unsigned long hi, unsigned long *out,
		    const char *value)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (end == value || *end || errno || value[0] == '-' || v < lo ||
	    v > hi) {
		h->set_error(h, "%s must be a whole number from %lu to %lu, "
			     "not '%s'", key, lo, hi, value);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int set_size(const struct scopefs_host *h, const char *key,
		    uint64_t lo, uint64_t hi, uint64_t *out, const char *value)
{
	uint64_t v;

	if (h->parse_size(value, &v) < 0 || v < lo || v > hi) {
		h->set_error(h, "%s must be a size from %llu to %llu bytes "
			     "(suffixes k, M, G), not '%s'", key,
			     (unsigned long long)lo, (unsigned long long)hi,
			     value);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int set_bool(const struct scopefs_host *h, const char *key, int *out,
		    const char *value)
{
	if (h->parse_bool(value, out) < 0) {
		h->set_error(h, "%s must be yes or no, not '%s'", key, value);
		return -EINVAL;
	}
	return 0;
}

/* Bucket names travel in host names and paths unencoded. */
static int name_ok(const char *s, const char *extra)
{
	if (!s[0])
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      (*s >= 'A' && *s <= 'Z') || strchr(extra, *s)))
			return 0;
	return 1;
}

int s3_config_key(struct s3_config *c, const char *key, const char *value)
{
	const struct scopefs_host *h = c->host;
	unsigned long u;
	uint64_t size;
	int rc;

	if (strcmp(key, "endpoint") == 0)
		return set_url(h, key, &c->endpoint, value);
	if (strcmp(key, "imds_endpoint") == 0)
		return set_url(h, key, &c->imds_endpoint, value);
	if (strcmp(key, "region") == 0) {
		if (!name_ok(value, "-_")) {
			h->set_error(h, "region '%s' is not a region name",
				     value);
			return -EINVAL;
		}
		return set_str(h, key, &c->region, value);
	}
	if (strcmp(key, "bucket") == 0) {
		if (!name_ok(value, "-._")) {
			h->set_error(h, "bucket '%s' is not a bucket name "
				     "(letters, digits, '-', '.', '_')", value);
			return -EINVAL;
		}
		return set_str(h, key, &c->bucket, value);
	}
	if (strcmp(key, "prefix") == 0) {
		char *p;
		if (s3_prefix_join(value, "", &p) < 0) {
			h->set_error(h, "prefix '%s' has a '.' or '..' "
				     "component", value);
			return -EINVAL;
		}
		free(c->prefix);
		c->prefix = p;
		return 0;
	}
	if (strcmp(key, "path_style") == 0)
		return set_bool(h, key, &c->path_style, value);
	if (strcmp(key, "access_key_id") == 0)
		return set_str(h, key, &c->access_key_id, value);
	if (strcmp(key, "secret_access_key") == 0)
		return set_str(h, key, &c->secret_access_key, value);
	if (strcmp(key, "session_token") == 0)
		return set_str(h, key, &c->session_token, value);
	if (strcmp(key, "profile") == 0)
		return set_str(h, key, &c->profile, value);
	if (strcmp(key, "connect_timeout") == 0)
		return set_seconds(h, key, &c->http.connect_timeout_ms, value);
	if (strcmp(key, "timeout") == 0) {
		long ms;
		if ((rc = set_seconds(h, key, &ms, value)) == 0)
			c->http.stall_timeout_s = (ms + 999) / 1000;
		return rc;
	}
	if (strcmp(key, "retries") == 0) {
		if ((rc = set_uint(h, key, 0, 10, &u, value)) == 0)
			c->http.attempts = (int)u + 1;
		return rc;
	}
	if (strcmp(key, "unsigned_payload") == 0)
		return set_bool(h, key, &c->unsigned_payload, value);
	if (strcmp(key, "list_page") == 0) {
		if ((rc = set_uint(h, key, 1, S3_LIST_PAGE, &u, value)) == 0)
			c->list_page = (uint32_t)u;
		return rc;
	}
	if (strcmp(key, "copy_threshold") == 0)
		return set_size(h, key, 1, S3_MAX_PUT, &c->copy_threshold,
				value);
	if (strcmp(key, "copy_part_size") == 0)
		return set_size(h, key, S3_MIN_PART, S3_MAX_PART,
				&c->copy_part_size, value);
	/* Read by the core's object layer through config_get; checked here
	 * so that a typo fails at start rather than at the first upload. */
	if (strcmp(key, "part_size") == 0)
		return set_size(h, key, S3_MIN_PART, S3_MAX_PART, &size, value);
	if (strcmp(key, "upload_parallelism") == 0)
		return set_uint(h, key, 1, 256, &u, value);
	h->set_error(h, "unknown key '%s' (see scopefs --help for the s3 "
		     "plugin's keys)", key);
	return -EINVAL;
}

/* Secrets in a file others can read are no secrets. */
static int check_secret_file(const struct s3_config *c)
{
	const struct scopefs_host *h = c->host;
	const char *f = h->config_file;
	struct stat st;

	if (!c->secret_access_key && !c->session_token)
		return 0;
	if (!f)
		return 0; /* keys given without a file (embedding, tests) */
	if (stat(f, &st) < 0) {
		h->set_error(h, "cannot check the permissions of %s, which "
			     "holds secret_access_key: %s", f, strerror(errno));
		return -EACCES;
	}
	if (st.st_mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)) {
		h->set_error(h, "%s holds secret_access_key but has mode %04o, "
			     "open to group or others; chmod 600 it",
			     f, (unsigned)(st.st_mode & 07777));
		return -EACCES;
	}
	return 0;
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
	if (!c->region && (rc = set_str(h, "region", &c->region,
					"us-east-1")) < 0)
		return rc;
	if (!c->endpoint) {
		char url[256];
		snprintf(url, sizeof url, "https://s3.%s.amazonaws.com",
			 c->region);
		if ((rc = set_str(h, "endpoint", &c->endpoint, url)) < 0)
			return rc;
		if (c->path_style < 0)
			c->path_style = strchr(c->bucket, '.') != NULL;
	}
	if (c->path_style < 0)
		c->path_style = default_path_style(c);
	if (!c->path_style && !name_ok(c->bucket, "-")) {
		h->set_error(h, "bucket '%s' cannot be a host name; set "
			     "path_style = yes", c->bucket);
		return -EINVAL;
	}
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

static void wipe(char *s)
{
	if (s)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void s3_config_free(struct s3_config *c)
{
	free(c->endpoint);
	free(c->region);
	free(c->bucket);
	free(c->prefix);
	free(c->profile);
	free(c->imds_endpoint);
	wipe(c->access_key_id);
	wipe(c->secret_access_key);
	wipe(c->session_token);
	memset(c, 0, sizeof *c);
}
