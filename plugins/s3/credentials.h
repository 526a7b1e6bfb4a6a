/*
 * credentials: where the S3 plugin's keys come from, first found wins:
 *   1. access_key_id / secret_access_key (/ session_token) of the section
 *      (config_complete has checked the file is not group/other-readable);
 *   2. $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY (/ $AWS_SESSION_TOKEN);
 *   3. the shared credentials file ($AWS_SHARED_CREDENTIALS_FILE or
 *      ~/.aws/credentials), profile from the section, $AWS_PROFILE or
 *      "default";
 *   4. the EC2 instance role through IMDSv2 (temporary keys, refreshed
 *      five minutes before they expire); skipped when
 *      $AWS_EC2_METADATA_DISABLED is "true".
 */
#ifndef SCOPEFS_S3_CREDENTIALS_H
#define SCOPEFS_S3_CREDENTIALS_H

#include <stddef.h>
#include <time.h>

#include "http.h"
#include "s3.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* A set of keys; strings malloc'd, token NULL for long-term keys. */
struct s3_key {
	char *access_key_id;
	char *secret_key;
	char *session_token;
	time_t expires; /* 0: never */
};

void s3_key_clear(struct s3_key *k); /* wipes and frees */

/* Resolve the chain for a mount (may reach IMDS through HTTP).  NULL with
 * a one-sentence reason in err when no source has keys. */
struct s3_creds *s3_creds_open(const struct s3_config *cfg,
			       struct http_pool *http, char *err,
			       size_t errlen);
void s3_creds_close(struct s3_creds *c);

/* Where s3_creds_open will take the keys from, told without the network
 * and without a secret (for `scopefs check` and the start-up log). */
void s3_creds_plan(const struct s3_config *cfg, char *out, size_t len);

/* A copy of the current keys for one request, refreshed first when they
 * expire within five minutes.  Thread-safe.  0, or -EACCES (after
 * set_error) when they have expired and cannot be renewed. */
int s3_creds_get(struct s3_creds *c, struct s3_key *out);

/* The store called the keys expired though we thought them good (its
 * clock runs ahead, or they were revoked): renew them now if they are
 * an instance role's.  1 when renewed (worth a new signature), else 0. */
int s3_creds_renew(struct s3_creds *c);

/* Where the keys came from, for messages: "section keys", "environment",
 * "shared credentials file", "instance role ROLE". */
const char *s3_creds_source(const struct s3_creds *c);

/* IMDSv2 (imds.c): a session token, the role name, then the role's keys. */
int s3_imds_fetch(struct http_pool *http, const char *endpoint,
		  struct s3_key *out, char *role, size_t rolelen, char *err,
		  size_t errlen);

#pragma GCC visibility pop

#endif
