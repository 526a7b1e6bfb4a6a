/* gcs_copy: objects.rewrite for rename, looping on rewriteToken until the
 * service says done (a large object, or one moving between locations or
 * storage classes, takes several calls; each carries the token of the
 * last).  Without META the source's metadata is kept (no resource in the
 * body); with it, the destination gets exactly META. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "gcs.h"
#include "strbuf.h"

/* The rewriteResponse: done, rewriteToken, resource. */
static int rewrite_answer(const char *body, int *done, char **token,
			  struct scopefs_object_attr *out)
{
	struct json_object *o = body ? json_tokener_parse(body) : NULL, *v;
	int rc = -EIO;

	*done = 0;
	*token = NULL;
	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	if (json_object_object_get_ex(o, "done", &v) &&
	    json_object_get_boolean(v)) {
		*done = 1;
		if (json_object_object_get_ex(o, "resource", &v))
			rc = gcs_json_object(json_object_to_json_string(v), out,
					     NULL, NULL);
		goto out;
	}
	if (json_object_object_get_ex(o, "rewriteToken", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    json_object_get_string(v)[0])
		rc = (*token = strdup(json_object_get_string(v))) ? 0 : -ENOMEM;
out:
	if (o)
		json_object_put(o);
	return rc;
}

int gcs_copy(void *mnt, const char *from, const char *to,
	     const struct scopefs_object_meta *meta, size_t nmeta,
	     struct scopefs_object_attr *out)
{
	struct gcs_mount *m = mnt;
	struct scopefs_object_attr dummy;
	struct strbuf b = STRBUF_INIT;
	char *src = NULL, *dst = NULL, *path = NULL, *res = NULL, *tok = NULL;
	int rc, done = 0;

	if (!out)
		out = &dummy;
	if (m->read_only)
		return -EROFS;
	if ((rc = gcs_key_check(m, "copy", from, 0)) < 0 ||
	    (rc = gcs_key_check(m, "copy", to, 0)) < 0)
		return rc;
	if (!(src = gcs_key_full(m, "copy", from)) ||
	    !(dst = gcs_key_full(m, "copy", to))) {
		rc = -errno;
		goto out;
	}
	/* no body at all keeps the source's metadata */
	if (!meta)
		res = strdup("");
	else if ((rc = gcs_json_resource(m, "copy", to, NULL, meta, nmeta, 0,
					 &res)) < 0)
		goto out;
	if (!res) {
		rc = -ENOMEM;
		goto out;
	}
	rc = -ENOMEM;
	{
		char *s = gcs_object_path(m, src, "/rewriteTo");
		sb_add(&b, s);
		free(s);
		if (!s)
			goto out;
	}
	sb_addf(&b, "%s/o/", m->bucket_path);
	sb_add_uri_encoded(&b, dst, 0);
	if (!(path = sb_done(&b)))
		goto out;
	while (!done) {
		struct http_pair q[1];
		struct gcs_req r = { .op = "copy", .name = to, .method = "POST",
				     .path = path, .query = q,
				     .content_type = res[0] ? "application/json"
							    : NULL,
				     .body = res, .body_len = strlen(res) };
		struct http_response resp;
		if (tok)
			q[r.nquery++] = (struct http_pair){ "rewriteToken",
							    tok };
		rc = gcs_send(m, &r, &resp);
		free(tok);
		tok = NULL;
		if (rc < 0) {
			rc = gcs_fail(m, &r, &resp, rc); /* the source's 404 */
		} else if ((rc = rewrite_answer(resp.body, &done, &tok,
						out)) == -EIO) {
			m->host->set_error(m->host, "copy '%s': the answer is "
					   "not a rewriteResponse", to);
		}
		http_response_free(&resp);
		if (rc < 0)
			break;
	}
out:
	free(tok);
	free(path);
	free(res);
	free(src);
	free(dst);
	return rc;
}
