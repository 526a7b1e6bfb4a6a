/* gcs_mount: open a mount (URLs, connection pool, token) and prove it
 * works before the daemon says it is mounted: a one-object objects.list
 * under the mount's prefix (what the mount needs most, and what a
 * credential limited to the bucket allows).  401/403 refuses the mount
 * with the server's reason and where the token came from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcs.h"
#include "gcs_auth.h"
#include "objkey.h"
#include "strbuf.h"
#include "xml.h"

static void explain(struct gcs_mount *m, const struct http_response *resp)
{
	const struct scopefs_host *h = m->host;
	char reason[128] = "", msg[512] = "", what[CURL_ERROR_SIZE + 300];

	if (resp->curl_code == CURLE_OK && resp->status == 0)
		return; /* failed before sending; set_error was called */
	if (resp->body)
		gcs_json_error(resp->body, reason, sizeof reason, msg,
			       sizeof msg);
	if (resp->curl_code != CURLE_OK)
		h->set_error(h, "%s", http_describe(m->cfg->endpoint, resp,
						    what, sizeof what));
	else if (resp->status == 404)
		h->set_error(h, "bucket '%s' does not exist at %s",
			     m->cfg->bucket, m->cfg->endpoint);
	else if (resp->status == 401 || resp->status == 403)
		h->set_error(h, "access denied to bucket '%s' prefix '%s' with "
			     "the %s: HTTP %ld %s%s%s", m->cfg->bucket,
			     m->key_prefix, gcs_auth_source(m->auth),
			     resp->status, reason, msg[0] ? ": " : "", msg);
	else
		h->set_error(h, "bucket '%s' at %s: HTTP %ld %s%s%s",
			     m->cfg->bucket, m->cfg->endpoint, resp->status,
			     reason, msg[0] ? ": " : "", msg);
}

static int check_bucket(struct gcs_mount *m)
{
	struct http_pair q[3] = { { "prefix", m->key_prefix },
				  { "maxResults", "1" },
				  { "fields", "nextPageToken" } };
	struct strbuf b = STRBUF_INIT;
	struct gcs_req r = { .op = "mount", .name = m->key_prefix,
			     .method = "GET", .query = q, .nquery = 3 };
	struct http_response resp;
	char *path;
	int rc;

	sb_addf(&b, "%s/o", m->bucket_path);
	if (!(path = sb_done(&b)))
		return -ENOMEM;
	r.path = path;
	rc = gcs_send(m, &r, &resp);
	if (rc < 0) {
		explain(m, &resp);
	} else if (!resp.body || resp.body[0] != '{') {
		m->host->set_error(m->host, "%s does not answer like the Cloud "
				   "Storage JSON API (no JSON from "
				   "objects.list)", m->cfg->endpoint);
		rc = -EIO;
	}
	http_response_free(&resp);
	free(path);
	return rc;
}

void gcs_mount_close(void *mnt)
{
	struct gcs_mount *m = mnt;

	if (!m)
		return;
	gcs_auth_close(m->auth);
	http_pool_free(m->http);
	free(m->key_prefix);
	free(m->parts_prefix);
	free(m->bucket_path);
	free(m);
}

int gcs_mount_open(const struct gcs_config *cfg, const char *prefix,
		   unsigned int flags, void **mnt)
{
	const struct scopefs_host *h = cfg->host;
	struct gcs_mount *m = calloc(1, sizeof *m);
	struct strbuf b = STRBUF_INIT, pp = STRBUF_INIT;
	char err[1600] = "";
	int rc;

	*mnt = NULL;
	if (!m)
		return -ENOMEM;
	xml_init(); /* xml_parse_iso8601's library, before threads */
	m->cfg = cfg;
	m->host = h;
	m->read_only = (flags & SCOPEFS_MOUNT_READ_ONLY) != 0;
	rc = objkey_mount_prefix(h, cfg->prefix, prefix, &m->key_prefix);
	if (rc < 0)
		goto fail;
	sb_add(&b, "/b/");
	sb_add_uri_encoded(&b, cfg->bucket, 0);
	sb_addf(&pp, "%s%s", cfg->prefix, GCS_PARTS_DIR);
	rc = -ENOMEM;
	if (!(m->bucket_path = sb_done(&b)) ||
	    !(m->parts_prefix = sb_done(&pp)) ||
	    !(m->http = http_pool_new(h, "gcs", &cfg->http)))
		goto fail;
	if (!(m->auth = gcs_auth_open(cfg, m->http, err, sizeof err))) {
		h->set_error(h, "%s", err);
		rc = -EACCES;
		goto fail;
	}
	if ((rc = check_bucket(m)) < 0)
		goto fail;
	h->log(h, SCOPEFS_LOG_INFO, "%s bucket '%s' prefix '%s' (%s)",
	       cfg->endpoint, cfg->bucket, m->key_prefix,
	       gcs_auth_source(m->auth));
	*mnt = m;
	return 0;
fail:
	if (rc == -ENOMEM && !err[0])
		h->set_error(h, "out of memory");
	sb_free(&b);
	sb_free(&pp);
	gcs_mount_close(m);
	return rc;
}
