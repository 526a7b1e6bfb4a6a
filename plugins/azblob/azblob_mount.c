/* azblob_mount: open a mount (URLs, connection pool, credentials) and
 * prove it works before the daemon says it is mounted: a one-blob List
 * Blobs under the mount's prefix (a container SAS may not allow anything
 * at the account level).  403 AuthenticationFailed / AuthorizationFailure
 * refuses the mount with the server's reason and where the credentials
 * came from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azblob.h"
#include "azblob_auth.h"
#include "azblob_xml.h"
#include "objkey.h"
#include "strbuf.h"
#include "xml.h"

static void explain(struct az_mount *m, const struct http_response *resp)
{
	const struct scopefs_host *h = m->host;
	char code[128], msg[512], what[CURL_ERROR_SIZE + 300];

	az_error_of(resp, code, sizeof code, msg, sizeof msg);
	if (resp->curl_code == CURLE_OK && resp->status == 0)
		return; /* failed before sending; set_error was called */
	if (resp->curl_code != CURLE_OK)
		h->set_error(h, "%s", http_describe(m->base_url, resp, what,
						    sizeof what));
	else if (strcmp(code, "ContainerNotFound") == 0 ||
		 (resp->status == 404 && !code[0]))
		h->set_error(h, "container '%s' does not exist in account "
			     "'%s' at %s", m->cfg->container, m->cfg->account,
			     m->cfg->endpoint);
	else if (resp->status == 401 || resp->status == 403)
		h->set_error(h, "access denied to container '%s' prefix '%s' "
			     "with the %s: HTTP %ld %s%s%s", m->cfg->container,
			     m->key_prefix, az_auth_source(m->auth),
			     resp->status, code, msg[0] ? ": " : "", msg);
	else
		h->set_error(h, "container '%s' at %s: HTTP %ld %s%s%s",
			     m->cfg->container, m->cfg->endpoint, resp->status,
			     code, msg[0] ? ": " : "", msg);
}

static int check_container(struct az_mount *m)
{
	struct http_pair q[4] = { { "restype", "container" },
				  { "comp", "list" },
				  { "maxresults", "1" },
				  { "prefix", m->key_prefix } };
	struct az_req r = { .op = "mount", .name = m->key_prefix,
			    .method = "GET", .query = q, .nquery = 4 };
	struct http_response resp;
	struct objlist page;
	int rc = az_send(m, &r, &resp);

	if (rc < 0) {
		explain(m, &resp);
	} else if (az_xml_parse_list(resp.body, resp.body_len, &page) < 0) {
		m->host->set_error(m->host, "%s does not answer like Azure Blob "
				   "Storage (no EnumerationResults)",
				   m->cfg->endpoint);
		rc = -EIO;
	} else {
		objlist_free(&page);
	}
	http_response_free(&resp);
	return rc;
}

void az_mount_close(void *mnt)
{
	struct az_mount *m = mnt;

	if (!m)
		return;
	az_auth_close(m->auth);
	http_pool_free(m->http);
	free(m->key_prefix);
	free(m->base_url);
	free(m);
}

int az_mount_open(const struct az_config *cfg, const char *prefix,
		  unsigned int flags, void **mnt)
{
	const struct scopefs_host *h = cfg->host;
	struct az_mount *m = calloc(1, sizeof *m);
	struct strbuf b = STRBUF_INIT;
	char err[1024] = "";
	int rc;

	*mnt = NULL;
	if (!m)
		return -ENOMEM;
	xml_init(); /* before threads parse */
	m->cfg = cfg;
	m->host = h;
	m->read_only = (flags & SCOPEFS_MOUNT_READ_ONLY) != 0;
	rc = objkey_mount_prefix(h, cfg->prefix, prefix, &m->key_prefix);
	if (rc < 0)
		goto fail;
	sb_addf(&b, "%s/%s", cfg->endpoint, cfg->container);
	rc = -ENOMEM;
	if (!(m->base_url = sb_done(&b)) ||
	    !(m->http = http_pool_new(h, "azblob", &cfg->http)))
		goto fail;
	if (!(m->auth = az_auth_open(cfg, m->http, err, sizeof err))) {
		h->set_error(h, "%s", err);
		rc = -EACCES;
		goto fail;
	}
	if ((rc = check_container(m)) < 0)
		goto fail;
	h->log(h, SCOPEFS_LOG_INFO, "%s container '%s' prefix '%s' (%s)",
	       cfg->endpoint, cfg->container, m->key_prefix,
	       az_auth_source(m->auth));
	*mnt = m;
	return 0;
fail:
	if (rc == -ENOMEM && !err[0])
		h->set_error(h, "out of memory");
	az_mount_close(m);
	return rc;
}
