/* gcs_json: the JSON API's documents with json-c: object resources (what
 * objects.get, uploads, compose and rewrite answer), objects.list pages,
 * the resource sent with an upload, compose or rewrite, and errors.
 * Numbers come as strings ("size": "22"); the generation stands in for
 * the ETag, since it is what preconditions name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "gcs.h"
#include "meta_headers.h"
#include "xml.h" /* xml_parse_iso8601: RFC 3339 times */

static const char *str_of(struct json_object *o, const char *field)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, field, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* size, updated and generation of resource O. */
static int attr_of(struct json_object *o, struct scopefs_object_attr *a)
{
	const char *size = str_of(o, "size"), *updated = str_of(o, "updated");
	const char *gen = str_of(o, "generation");

	memset(a, 0, sizeof *a);
	if (!str_of(o, "name"))
		return -EIO;
	if (size)
		a->size = strtoull(size, NULL, 10);
	if (!updated || xml_parse_iso8601(updated, &a->mtime) < 0)
		a->mtime.tv_sec = 0;
	if (gen)
		snprintf(a->etag, sizeof a->etag, "%s", gen);
	return 0;
}

/* Each pair of the resource's "metadata", value decoded, to FN. */
static int meta_of(struct json_object *o, scopefs_meta_fn fn, void *ctx)
{
	struct json_object *md;
	int rc = 0;

	if (!json_object_object_get_ex(o, "metadata", &md) ||
	    !json_object_is_type(md, json_type_object))
		return 0;
	json_object_object_foreach(md, k, v) {
		char *val;
		if (!json_object_is_type(v, json_type_string))
			continue;
		if (!(val = meta_value_decode(json_object_get_string(v))))
			return -ENOMEM;
		rc = fn(ctx, k, val);
		free(val);
		if (rc)
			break;
	}
	return rc;
}

int gcs_json_object(const char *body, struct scopefs_object_attr *a,
		    scopefs_meta_fn fn, void *ctx)
{
	struct json_object *o = body ? json_tokener_parse(body) : NULL;
	struct scopefs_object_attr dummy;
	int rc = -EIO;

	if (o && json_object_is_type(o, json_type_object))
		rc = attr_of(o, a ? a : &dummy);
	if (rc == 0 && fn)
		rc = meta_of(o, fn, ctx);
	if (o)
		json_object_put(o);
	return rc;
}

static int add_meta(void *ctx, const char *key, const char *value)
{
	return objlist_add_meta(ctx, key, value);
}

static int list_item(struct json_object *it, const char *skip,
		     struct objlist *page)
{
	const char *name = str_of(it, "name");
	struct objlist_object *obj;
	struct scopefs_object_attr a;

	if (!name)
		return -EIO;
	if (skip[0] && strncmp(name, skip, strlen(skip)) == 0)
		return 0; /* a streamed upload's part */
	if (!(obj = objlist_add_object(page)) || !(obj->key = strdup(name)))
		return -ENOMEM;
	attr_of(it, &a);
	obj->size = a.size;
	obj->mtime = a.mtime;
	memcpy(obj->etag, a.etag, sizeof obj->etag);
	return meta_of(it, add_meta, obj);
}

int gcs_json_list(const char *body, const char *skip, struct objlist *page)
{
	struct json_object *o = body ? json_tokener_parse(body) : NULL;
	struct json_object *items, *prefixes;
	const char *next;
	int rc = -EIO;

	memset(page, 0, sizeof *page);
	if (!o || !json_object_is_type(o, json_type_object))
		goto out;
	rc = 0;
	if (json_object_object_get_ex(o, "items", &items) &&
	    json_object_is_type(items, json_type_array))
		for (size_t i = 0; rc == 0 && i < json_object_array_length(items);
		     i++)
			rc = list_item(json_object_array_get_idx(items, i), skip,
				       page);
	if (rc == 0 && json_object_object_get_ex(o, "prefixes", &prefixes) &&
	    json_object_is_type(prefixes, json_type_array))
		for (size_t i = 0;
		     rc == 0 && i < json_object_array_length(prefixes); i++) {
			struct json_object *p =
				json_object_array_get_idx(prefixes, i);
			const char *s = json_object_get_string(p);
			char *dup;
			if (!json_object_is_type(p, json_type_string))
				continue;
			if (skip[0] && strncmp(s, skip, strlen(skip)) == 0)
				continue;
			rc = (dup = strdup(s)) ? objlist_add_prefix(page, dup)
					       : -ENOMEM;
		}
	next = str_of(o, "nextPageToken");
	if (rc == 0 && next && next[0] && !(page->next_token = strdup(next)))
		rc = -ENOMEM;
out:
	if (o)
		json_object_put(o);
	if (rc < 0)
		objlist_free(page);
	return rc;
}

int gcs_json_resource(const struct gcs_mount *m, const char *op,
		      const char *key, const char *name,
		      const struct scopefs_object_meta *meta, size_t nmeta,
		      int keep_meta, char **out)
{
	struct json_object *o = json_object_new_object(), *md = NULL;
	const char *s;
	int rc = -ENOMEM;

	*out = NULL;
	if (!o)
		return -ENOMEM;
	if (name)
		json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "contentType",
			       json_object_new_string("application/octet-stream"));
	if (meta || !keep_meta) {
		if (!(md = json_object_new_object()))
			goto out;
		json_object_object_add(o, "metadata", md);
	}
	for (size_t i = 0; meta && i < nmeta; i++) {
		char *v;
		if (!meta[i].key || !meta[i].key[0] || !meta[i].value) {
			m->host->set_error(m->host, "%s '%s': metadata key '%s' "
					   "cannot be stored", op, key,
					   meta[i].key ? meta[i].key : "");
			rc = -EINVAL;
			goto out;
		}
		if (!(v = meta_value_encode(meta[i].value)))
			goto out;
		json_object_object_add(md, meta[i].key,
				       json_object_new_string(v));
		free(v);
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s && (*out = strdup(s)))
		rc = 0;
out:
	json_object_put(o);
	return rc;
}

void gcs_json_error(const char *body, char *reason, size_t reasonlen,
		    char *msg, size_t msglen)
{
	struct json_object *o = json_tokener_parse(body), *e, *errs;
	const char *s;

	reason[0] = msg[0] = '\0';
	if (!o)
		return;
	if (json_object_object_get_ex(o, "error", &e) &&
	    json_object_is_type(e, json_type_object)) {
		if ((s = str_of(e, "message")))
			snprintf(msg, msglen, "%s", s);
		if (json_object_object_get_ex(e, "errors", &errs) &&
		    json_object_is_type(errs, json_type_array) &&
		    json_object_array_length(errs) > 0 &&
		    (s = str_of(json_object_array_get_idx(errs, 0), "reason")))
			snprintf(reason, reasonlen, "%s", s);
	} else if ((s = str_of(o, "error"))) {
		/* the token URI's OAuth errors: {"error": "invalid_grant"} */
		snprintf(reason, reasonlen, "%s", s);
		if ((s = str_of(o, "error_description")))
			snprintf(msg, msglen, "%s", s);
	}
	json_object_put(o);
	msg[strcspn(msg, "\r\n")] = '\0';
}
