/* token: temporary credentials and their renewal.  renew_due() is the one
 * renewal policy (s3's instance-role keys, azblob's managed-identity
 * tokens, gcs's OAuth tokens); token_source is a bearer token from an
 * endpoint that answers JSON with access_token and expires_on /
 * expires_in: asked with a GET (instance metadata services: Azure's
 * managed identity, the GCE metadata server) or with a POST whose body is
 * made afresh for each fetch (an OAuth token URI taking a signed JWT),
 * fetched at mount and renewed before it expires. */
#ifndef SCOPEFS_TOKEN_H
#define SCOPEFS_TOKEN_H

#include <stddef.h>
#include <time.h>
#include <scopefs/plugin.h>

#include "http.h"

#pragma GCC visibility push(hidden)

/* Renew this long before expiry (clock skew, long requests), and ask at
 * most this often while the endpoint keeps answering inside that window. */
#define RENEW_AHEAD 300
#define RENEW_GAP 5

/* Should credentials expiring at EXPIRES (0: never) be renewed at NOW,
 * the last try having been at LAST? */
int renew_due(time_t expires, time_t last, time_t now);

/* A token endpoint's JSON answer BODY (NULL: none), received at NOW:
 * the access_token, malloc'd into *token (free with secret_free), and
 * when it expires.  0, -EIO without an access_token, -ENODATA without
 * expires_on or expires_in, -ENOMEM. */
int token_parse_answer(const char *body, time_t now, char **token,
		       time_t *expires);

struct token_source;

/* A source asking URL (with the extra header line HEADER, or NULL) with
 * one try of at most TIMEOUT_MS per request.  The first token is fetched
 * here: NULL with the reason in err when that fails. */
struct token_source *token_source_open(const struct scopefs_host *h,
				       struct http_pool *http, const char *url,
				       const char *header, long timeout_ms,
				       char *err, size_t errlen);
/* Makes the body of a POST source's next request: a malloc'd secret
 * (freed with secret_free) in *body; 0, or -errno with the reason in err. */
typedef int (*token_body_fn)(void *ctx, char **body, char *err,
			     size_t errlen);

/* A source POSTing to URL the body BODY_FN makes (Content-Type
 * CONTENT_TYPE), each request one try of at most TIMEOUT_MS.  CTX must
 * outlive the source.  As token_source_open otherwise. */
struct token_source *token_source_open_post(const struct scopefs_host *h,
					    struct http_pool *http,
					    const char *url,
					    const char *content_type,
					    token_body_fn body_fn, void *ctx,
					    long timeout_ms, char *err,
					    size_t errlen);
void token_source_close(struct token_source *t);
/* A malloc'd copy of the current token (free with secret_free), renewed
 * first when due; a failed renewal keeps a token that still works.
 * Thread-safe.  0, or -EACCES after set_error when it has expired. */
int token_source_get(struct token_source *t, char **token);
/* Tokens fetched so far (the first included), for messages and tests. */
unsigned token_source_fetches(const struct token_source *t);

#pragma GCC visibility pop

#endif
