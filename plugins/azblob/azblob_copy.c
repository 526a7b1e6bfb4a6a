/* azblob_copy: Copy Blob for rename.  Within one account the service
 * usually finishes at once (x-ms-copy-status: success in the answer);
 * otherwise the destination's x-ms-copy-status is polled until it says
 * success, failed or aborted, or copy_timeout passes.  Without META the
 * source's metadata is kept (no x-ms-meta-* headers); with it, replaced.
 * An empty META cannot be said to Copy Blob (no headers = keep): Set
 * Blob Metadata without headers then clears what it copied. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "azblob.h"
#include "azblob_auth.h"
#include "crypto.h"
#include "strbuf.h"

/* The source's URL, with the SAS when that is how we authorise. */
static char *source_url(const struct az_mount *m, const char *key)
{
	struct strbuf b = STRBUF_INIT;

	sb_add(&b, m->base_url);
	sb_addc(&b, '/');
	sb_add_uri_encoded(&b, key, 1);
	if (az_auth_mode(m->auth) == AZ_AUTH_SAS) {
		sb_addc(&b, '?');
		sb_add(&b, az_auth_sas(m->auth));
	}
	return sb_done(&b);
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Until the copy to TO is done; 0, -EIO (failed, aborted) or -ETIMEDOUT. */
static int wait_copy(struct az_mount *m, const char *to,
		     struct scopefs_object_attr *out)
{
	time_t deadline = time(NULL) + m->cfg->copy_timeout_s;
	long wait = 100;

	for (;;) {
		struct az_req r = { .op = "copy", .name = to,
				    .method = "HEAD" };
		struct http_response resp;
		const char *st;
		char *full = az_key_full(m, r.op, to);
		int rc;

		if (!full)
			return -errno;
		r.key = full;
		rc = az_send(m, &r, &resp);
		free(full);
		if (rc < 0) {
			rc = az_fail(m, &r, &resp, rc);
			http_response_free(&resp);
			return rc;
		}
		st = http_header(&resp, "x-ms-copy-status");
		if (!st || strcasecmp(st, "success") == 0) {
			http_attr_from_headers(&resp, out);
			http_response_free(&resp);
			return 0;
		}
		if (strcasecmp(st, "pending") != 0) {
			const char *why = http_header(&resp,
						      "x-ms-copy-status-description");
			m->host->set_error(m->host, "copy '%s': x-ms-copy-status "
					   "%s: %s", to, st, why ? why : "");
			http_response_free(&resp);
			return -EIO;
		}
		http_response_free(&resp);
		if (time(NULL) >= deadline) {
			m->host->set_error(m->host, "copy '%s': still pending "
					   "after %ld s", to,
					   m->cfg->copy_timeout_s);
			return -ETIMEDOUT;
		}
		nap_ms(wait);
		if (wait < 2000)
			wait *= 2;
	}
}

/* Set Blob Metadata with no x-ms-meta-*: the blob keeps none.  It
 * changes the ETag: OUT gets the new one. */
static int clear_meta(struct az_mount *m, const char *name, const char *key,
		      struct scopefs_object_attr *out)
{
	struct http_pair q[1] = { { "comp", "metadata" } };
	struct az_req r = { .op = "copy (metadata)", .name = name,
			    .method = "PUT", .key = key, .query = q,
			    .nquery = 1 };
	struct http_response resp;
	int rc = az_send(m, &r, &resp);

	if (rc < 0)
		rc = az_fail(m, &r, &resp, rc);
	else if (http_header(&resp, "ETag"))
		http_set_etag(out, http_header(&resp, "ETag"));
	http_response_free(&resp);
	return rc;
}

int az_copy(void *mnt, const char *from, const char *to,
	    const struct scopefs_object_meta *meta, size_t nmeta,
	    struct scopefs_object_attr *out)
{
	struct az_mount *m = mnt;
	struct scopefs_object_attr dummy;
	struct http_pair *mh = NULL, *h = NULL;
	struct http_response resp = { 0 };
	struct az_req r = { .op = "copy", .name = to, .method = "PUT" };
	char *src_key = NULL, *dst_key = NULL, *src = NULL;
	int rc;

	if (!out)
		out = &dummy;
	if (m->read_only)
		return -EROFS;
	if ((rc = az_key_check(m, r.op, from, 0)) < 0 ||
	    (rc = az_key_check(m, r.op, to, 0)) < 0)
		return rc;
	if (!(src_key = az_key_full(m, r.op, from)) ||
	    !(dst_key = az_key_full(m, r.op, to))) {
		rc = -errno;
		goto out;
	}
	if ((rc = az_meta_headers(m, r.op, to, meta, meta ? nmeta : 0,
				  &mh)) < 0)
		goto out;
	rc = -ENOMEM;
	if (!(src = source_url(m, src_key)) ||
	    !(h = calloc(nmeta + 1, sizeof *h)))
		goto out;
	h[r.nheaders++] = (struct http_pair){ "x-ms-copy-source", src };
	for (size_t i = 0; meta && i < nmeta; i++)
		h[r.nheaders++] = mh[i];
	r.headers = h;
	r.key = dst_key;
	rc = az_send(m, &r, &resp);
	if (rc < 0) {
		/* The missing one is the source (CannotVerifyCopySource). */
		rc = az_fail(m, &r, &resp, rc);
		goto out;
	}
	/* The answer has no size: the destination's properties do. */
	rc = wait_copy(m, to, out);
	if (rc == 0 && meta && nmeta == 0)
		rc = clear_meta(m, to, dst_key, out);
out:
	http_response_free(&resp);
	secret_free(src) /* may hold the SAS */;
	free(h);
	free(mh);
	free(src_key);
	free(dst_key);
	return rc;
}
