/* s3_mount: open a mount (addressing, connection pool, keys) and prove it
 * works before the daemon says it is mounted.  The proof is a one-key
 * ListObjectsV2 under the mount's prefix, not HeadBucket: least-privilege
 * policies often allow listing a prefix and nothing at the bucket root. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "objkey.h"
#include "s3.h"
#include "s3_mount.h"
#include "s3_xml.h"
#include "strbuf.h"
#include "xml.h"

/* origin, host_header and bucket_path from the endpoint and style. */
static int addressing(struct s3_mount *m)
{
	const struct s3_config *c = m->cfg;
	const char *host = strstr(c->endpoint, "://") + 3;
	struct strbuf hh = STRBUF_INIT, o = STRBUF_INIT, bp = STRBUF_INIT;

	if (!c->path_style) {
		sb_add(&hh, c->bucket);
		sb_addc(&hh, '.');
	} else {
		sb_addc(&bp, '/');
		sb_add(&bp, c->bucket);
	}
	sb_add(&hh, host);
	sb_addn(&o, c->endpoint, (size_t)(host - c->endpoint));
	sb_add(&o, hh.s ? hh.s : "");
	m->host_header = sb_done(&hh);
	m->origin = sb_done(&o);
	m->bucket_path = sb_done(&bp);
	return m->host_header && m->origin && m->bucket_path ? 0 : -ENOMEM;
}

/* Why the first listing failed, in the words a user needs. */
static void explain(struct s3_mount *m, const struct http_response *resp)
{
	const struct s3_config *c = m->cfg;
	const struct scopefs_host *h = m->host;
	char code[128], msg[512], what[CURL_ERROR_SIZE + 300];
	const char *region = http_header(resp, "x-amz-bucket-region");

	s3_error_of(resp, code, sizeof code, msg, sizeof msg);
	if (resp->curl_code == CURLE_OK && resp->status == 0) {
		return; /* failed before sending; set_error was called */
	} else if (resp->curl_code != CURLE_OK) {
		h->set_error(h, "%s", http_describe(m->origin, resp, what,
						    sizeof what));
	} else if (strcmp(code, "NoSuchBucket") == 0 ||
		   (resp->status == 404 && !code[0])) {
		h->set_error(h, "bucket '%s' does not exist at %s", c->bucket,
			     m->origin);
	} else if (resp->status == 401 || resp->status == 403) {
		h->set_error(h, "access denied to bucket '%s' prefix '%s' "
			     "with keys from %s: %s%s%s", c->bucket,
			     m->key_prefix, s3_creds_source(m->creds),
			     code[0] ? code : "HTTP 403", msg[0] ? ": " : "",
			     msg);
	} else if (region && strcmp(region, c->region) != 0) {
		h->set_error(h, "bucket '%s' is in region %s, not %s: set "
			     "region = %s", c->bucket, region, c->region,
			     region);
	} else {
		h->set_error(h, "bucket '%s' at %s: HTTP %ld %s%s%s",
			     c->bucket, m->origin, resp->status, code,
			     msg[0] ? ": " : "", msg);
	}
}

static int check_bucket(struct s3_mount *m)
{
	struct http_pair q[3] = { { "list-type", "2" },
				   { "max-keys", "1" },
				   { "prefix", m->key_prefix } };
	struct s3_req r = { .op = "mount", .name = m->key_prefix,
			    .method = "GET", .query = q, .nquery = 3 };
	struct http_response resp;
	struct s3_xml_list l;
	int rc = s3_send(m, &r, &resp);

	if (rc < 0) {
		explain(m, &resp);
	} else if (s3_xml_parse_list(resp.body, resp.body_len, &l) < 0) {
		m->host->set_error(m->host, "%s does not answer like S3 (no "
				   "ListBucketResult)", m->origin);
		rc = -EIO;
	} else {
		s3_xml_list_free(&l);
	}
	http_response_free(&resp);
	return rc;
}

void s3_mount_close(void *mnt)
{
	struct s3_mount *m = mnt;

	if (!m)
		return;
	s3_creds_close(m->creds);
	http_pool_free(m->http);
	free(m->key_prefix);
	free(m->origin);
	free(m->host_header);
	free(m->bucket_path);
	free(m);
}

int s3_mount_open(const struct s3_config *cfg, const char *prefix,
		  unsigned int flags, void **mnt)
{
	const struct scopefs_host *h = cfg->host;
	struct s3_mount *m = calloc(1, sizeof *m);
	char err[1024] = "";
	int rc = -ENOMEM;

	*mnt = NULL;
	if (!m)
		return -ENOMEM;
	xml_init(); /* before threads parse */
	m->cfg = cfg;
	m->host = h;
	m->read_only = (flags & SCOPEFS_MOUNT_READ_ONLY) != 0;
	rc = objkey_mount_prefix(h, cfg->prefix, prefix, &m->key_prefix);
	if (rc < 0 || (rc = addressing(m)) < 0)
		goto fail;
	m->http = http_pool_new(h, "s3", &cfg->http);
	if (!m->http) {
		rc = -ENOMEM;
		goto fail;
	}
	m->creds = s3_creds_open(cfg, m->http, err, sizeof err);
	if (!m->creds) {
		h->set_error(h, "%s", err);
		rc = -EACCES;
		goto fail;
	}
	rc = check_bucket(m);
	if (rc < 0)
		goto fail;
	h->log(h, SCOPEFS_LOG_INFO, "%s bucket '%s' prefix '%s' (%s "
	       "style, keys from %s)", m->origin, cfg->bucket, m->key_prefix,
	       cfg->path_style ? "path" : "virtual-hosted",
	       s3_creds_source(m->creds));
	*mnt = m;
	return 0;
fail:
	if (rc == -ENOMEM && !err[0])
		h->set_error(h, "out of memory");
	s3_mount_close(m);
	return rc;
}
