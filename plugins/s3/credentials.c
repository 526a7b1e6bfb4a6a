/* credentials: the key chain and the refresh of temporary keys (see
 * credentials.h). */
#include "credentials.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <ini.h>

#include "crypto.h"
#include "token.h"

enum source { SRC_SECTION, SRC_ENV, SRC_FILE, SRC_IMDS };

struct s3_creds {
	const struct s3_config *cfg;
	struct http_pool *http;
	enum source source;
	char role[128];
	char source_text[160];
	pthread_mutex_t lock; /* guards key and last_refresh */
	struct s3_key key;
	time_t last_refresh;
};

void s3_key_clear(struct s3_key *k)
{
	secret_free(k->access_key_id);
	secret_free(k->secret_key);
	secret_free(k->session_token);
	memset(k, 0, sizeof *k);
}

static int key_set(struct s3_key *k, const char *akid, const char *secret,
		   const char *token)
{
	memset(k, 0, sizeof *k);
	k->access_key_id = strdup(akid);
	k->secret_key = strdup(secret);
	k->session_token = token && token[0] ? strdup(token) : NULL;
	if (!k->access_key_id || !k->secret_key ||
	    (token && token[0] && !k->session_token)) {
		s3_key_clear(k);
		return -ENOMEM;
	}
	return 0;
}

static int key_copy(struct s3_key *dst, const struct s3_key *src)
{
	int rc = key_set(dst, src->access_key_id, src->secret_key,
			 src->session_token);

	dst->expires = src->expires;
	return rc;
}

static int from_env(struct s3_key *k)
{
	const char *akid = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");

	if (!akid || !akid[0] || !secret || !secret[0])
		return -ENOENT;
	return key_set(k, akid, secret, getenv("AWS_SESSION_TOKEN"));
}

struct profile_scan {
	const char *profile;
	int found; /* the section exists */
	char *akid, *secret, *token;
};

static int profile_line(void *ctx, const char *section, const char *name,
			const char *value)
{
	struct profile_scan *s = ctx;
	char **slot = NULL;

	if (strcmp(section, s->profile) != 0)
		return 1;
	s->found = 1;
	if (strcmp(name, "aws_access_key_id") == 0)
		slot = &s->akid;
	else if (strcmp(name, "aws_secret_access_key") == 0)
		slot = &s->secret;
	else if (strcmp(name, "aws_session_token") == 0)
		slot = &s->token;
	if (slot) {
		secret_free(*slot);
		*slot = strdup(value);
		if (!*slot)
			return 0;
	}
	return 1;
}

/* -ENOENT when the file or the profile is missing and no profile was
 * asked for by name (the chain goes on); else 0 or an error in err. */
static int from_file(const struct s3_config *cfg, struct s3_key *k,
		     char *err, size_t errlen)
{
	const char *env_file = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *env_profile = getenv("AWS_PROFILE");
	const char *home = getenv("HOME");
	struct profile_scan s = { 0 };
	int named = cfg->profile || (env_profile && env_profile[0]);
	char path[4096];
	int rc;

	s.profile = cfg->profile ? cfg->profile
		    : named      ? env_profile
				 : "default";
	if (env_file && env_file[0])
		snprintf(path, sizeof path, "%s", env_file);
	else if (home && home[0])
		snprintf(path, sizeof path, "%s/.aws/credentials", home);
	else
		path[0] = '\0';
	if (!path[0] || access(path, F_OK) != 0) {
		if (!named)
			return -ENOENT;
		snprintf(err, errlen, "profile '%s' asked for, but there is "
			 "no credentials file %s", s.profile,
			 path[0] ? path : "(HOME is not set)");
		return -EINVAL;
	}

	rc = ini_parse(path, profile_line, &s);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read credentials file %s", path);
		rc = -EACCES;
	} else if (rc > 0) {
		snprintf(err, errlen, "credentials file %s: syntax error on "
			 "line %d", path, rc);
		rc = -EINVAL;
	} else if (!s.found) {
		snprintf(err, errlen, "profile '%s' not found in %s",
			 s.profile, path);
		rc = named ? -EINVAL : -ENOENT;
	} else if (!s.akid || !s.secret) {
		snprintf(err, errlen, "profile '%s' in %s lacks "
			 "aws_access_key_id or aws_secret_access_key",
			 s.profile, path);
		rc = -EINVAL;
	} else {
		rc = key_set(k, s.akid, s.secret, s.token);
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
	}
	secret_free(s.akid);
	secret_free(s.secret);
	secret_free(s.token);
	return rc;
}

static const char *imds_endpoint(const struct s3_config *cfg)
{
	return cfg->imds_endpoint ? cfg->imds_endpoint
				  : "http://169.254.169.254";
}

static int imds_disabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");

	return v && strcasecmp(v, "true") == 0;
}

void s3_creds_plan(const struct s3_config *cfg, char *out, size_t len)
{
	struct s3_key k = { 0 };
	char err[512] = "";
	int rc;

	if (cfg->access_key_id) {
		snprintf(out, len, "section keys%s%.200s", cfg->secret_file
			 ? ", secret_access_key_file " : "",
			 cfg->secret_file ? cfg->secret_file : "");
		return;
	}
	if ((rc = from_env(&k)) != -ENOENT) {
		s3_key_clear(&k);
		snprintf(out, len, "the environment (AWS_ACCESS_KEY_ID)");
		return;
	}
	/* read as the mount will, to know whether the chain stops there */
	rc = from_file(cfg, &k, err, sizeof err);
	s3_key_clear(&k);
	if (rc == 0)
		snprintf(out, len, "the shared credentials file (profile "
			 "%.100s)", cfg->profile ? cfg->profile
			 : getenv("AWS_PROFILE") && getenv("AWS_PROFILE")[0]
				 ? getenv("AWS_PROFILE") : "default");
	else if (rc != -ENOENT)
		snprintf(out, len, "the shared credentials file, which the "
			 "mount will refuse: %.300s", err);
	else if (imds_disabled())
		snprintf(out, len, "nowhere: no section keys, environment or "
			 "credentials file, and AWS_EC2_METADATA_DISABLED");
	else
		snprintf(out, len, "the instance role, from the metadata "
			 "service at %.100s when mounting", imds_endpoint(cfg));
}

struct s3_creds *s3_creds_open(const struct s3_config *cfg,
			       struct http_pool *http, char *err,
			       size_t errlen)
{
	struct s3_creds *c = calloc(1, sizeof *c);
	char why[512] = "";
	int rc;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	c->http = http;
	pthread_mutex_init(&c->lock, NULL);
	if (cfg->access_key_id) {
		c->source = SRC_SECTION;
		rc = key_set(&c->key, cfg->access_key_id,
			     cfg->secret_access_key, cfg->session_token);
	} else if ((rc = from_env(&c->key)) != -ENOENT) {
		c->source = SRC_ENV;
	} else if ((rc = from_file(cfg, &c->key, err, errlen)) != -ENOENT) {
		c->source = SRC_FILE;
		if (rc < 0)
			goto fail; /* err says what is wrong with the file */
	} else if (imds_disabled()) {
		snprintf(err, errlen,
			 "no credentials: set access_key_id and "
			 "secret_access_key, AWS_ACCESS_KEY_ID and "
			 "AWS_SECRET_ACCESS_KEY, or a profile in "
			 "~/.aws/credentials (instance metadata is disabled "
			 "by AWS_EC2_METADATA_DISABLED)");
		goto fail;
	} else {
		c->source = SRC_IMDS;
		rc = s3_imds_fetch(http, imds_endpoint(cfg), &c->key, c->role,
				   sizeof c->role, why, sizeof why);
		if (rc < 0) {
			snprintf(err, errlen,
				 "no credentials: set access_key_id and "
				 "secret_access_key, AWS_ACCESS_KEY_ID and "
				 "AWS_SECRET_ACCESS_KEY, or a profile in "
				 "~/.aws/credentials; no instance role either "
				 "(%s)",
				 why);
			goto fail;
		}
	}
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	switch (c->source) {
	case SRC_SECTION:
		snprintf(c->source_text, sizeof c->source_text,
			 "section keys%s%.120s", cfg->secret_file
			 ? ", secret_access_key_file " : "",
			 cfg->secret_file ? cfg->secret_file : "");
		break;
	case SRC_ENV:
		snprintf(c->source_text, sizeof c->source_text,
			 "environment");
		break;
	case SRC_FILE:
		snprintf(c->source_text, sizeof c->source_text,
			 "shared credentials file");
		break;
	case SRC_IMDS:
		snprintf(c->source_text, sizeof c->source_text,
			 "instance role %s", c->role);
		break;
	}
	return c;
fail:
	s3_creds_close(c);
	return NULL;
}

void s3_creds_close(struct s3_creds *c)
{
	if (!c)
		return;
	s3_key_clear(&c->key);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

const char *s3_creds_source(const struct s3_creds *c)
{
	return c->source_text;
}

/* Called with the lock held.  Keeps the old keys when IMDS fails and
 * they are still good: a blip must not fail requests that would work. */
static void refresh(struct s3_creds *c, time_t now)
{
	const struct scopefs_host *h = c->cfg->host;
	struct s3_key fresh;
	char role[sizeof c->role], why[512] = "";

	c->last_refresh = now;
	if (s3_imds_fetch(c->http, imds_endpoint(c->cfg), &fresh, role,
			  sizeof role, why, sizeof why) < 0) {
		h->log(h, SCOPEFS_LOG_WARN,
		       "cannot renew keys of instance role %s: %s",
		       c->role, why);
		return;
	}
	s3_key_clear(&c->key);
	c->key = fresh;
	h->log(h, SCOPEFS_LOG_DEBUG,
	       "renewed keys of instance role %s, valid %lld s", role,
	       (long long)(fresh.expires - now));
}

int s3_creds_get(struct s3_creds *c, struct s3_key *out)
{
	time_t now = time(NULL);
	int rc;

	pthread_mutex_lock(&c->lock);
	if (c->source == SRC_IMDS &&
	    renew_due(c->key.expires, c->last_refresh, now))
		refresh(c, now);
	if (c->key.expires && now >= c->key.expires) {
		pthread_mutex_unlock(&c->lock);
		c->cfg->host->set_error(c->cfg->host,
					"keys of instance role %s expired and "
					"cannot be renewed",
					c->role);
		return -EACCES;
	}
	rc = key_copy(out, &c->key);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int s3_creds_renew(struct s3_creds *c)
{
	time_t now = time(NULL);
	int renewed = 0;

	pthread_mutex_lock(&c->lock);
	/* Many requests may see the same refusal: one renewal per
	 * RENEW_GAP serves them all, later ones use its keys. */
	if (c->source == SRC_IMDS) {
		if (now - c->last_refresh >= RENEW_GAP) {
			time_t before = c->key.expires;
			refresh(c, now);
			renewed = c->key.expires != before;
		} else {
			renewed = 1;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return renewed;
}
