/* objlist: a listing page and its delivery (see objlist.h). */
#include "objlist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objkey.h"

struct objlist_object *objlist_add_object(struct objlist *l)
{
	struct objlist_object *v =
		realloc(l->objects, (l->nobjects + 1) * sizeof *v);

	if (!v)
		return NULL;
	l->objects = v;
	memset(&v[l->nobjects], 0, sizeof *v);
	return &v[l->nobjects++];
}

int objlist_add_prefix(struct objlist *l, char *prefix)
{
	char **v = prefix ? realloc(l->prefixes,
				    (l->nprefixes + 1) * sizeof *v)
			  : NULL;

	if (!v) {
		free(prefix);
		return -ENOMEM;
	}
	l->prefixes = v;
	v[l->nprefixes++] = prefix;
	return 0;
}

int objlist_add_meta(struct objlist_object *o, const char *key,
		     const char *value)
{
	struct scopefs_object_meta *v =
		realloc(o->meta, (o->nmeta + 1) * sizeof *v);

	if (!v)
		return -ENOMEM;
	o->meta = v;
	v[o->nmeta].key = strdup(key);
	v[o->nmeta].value = strdup(value);
	o->nmeta++;
	return v[o->nmeta - 1].key && v[o->nmeta - 1].value ? 0 : -ENOMEM;
}

int objlist_deliver(const struct objlist *l, const char *key_prefix,
		    scopefs_list_fn fn, void *ctx)
{
	size_t i = 0, j = 0;

	while (i < l->nobjects || j < l->nprefixes) {
		int obj = j >= l->nprefixes ||
			  (i < l->nobjects &&
			   strcmp(l->objects[i].key, l->prefixes[j]) < 0);
		const char *rel;
		int rc = 0;

		if (obj) {
			const struct objlist_object *o = &l->objects[i++];
			struct scopefs_object_attr a = { .size = o->size,
							 .mtime = o->mtime };
			memcpy(a.etag, o->etag, sizeof a.etag);
			rel = objkey_relative(key_prefix, o->key);
			if (rel)
				rc = fn(ctx, rel, 0, &a, o->meta, o->nmeta);
		} else {
			rel = objkey_relative(key_prefix, l->prefixes[j++]);
			if (rel)
				rc = fn(ctx, rel, 1, NULL, NULL, 0);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int objlist_finish(const struct scopefs_host *h, const struct objlist *l,
		   const char *key_prefix, const char *prefix,
		   char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn,
		   void *ctx)
{
	int rc;

	if (l->next_token && strlen(l->next_token) >= SCOPEFS_TOKEN_MAX) {
		h->set_error(h, "list '%s': the continuation token is longer "
			     "than %d bytes", prefix, SCOPEFS_TOKEN_MAX);
		return -EIO;
	}
	rc = objlist_deliver(l, key_prefix, fn, ctx);
	if (rc == 0)
		snprintf(token, SCOPEFS_TOKEN_MAX, "%s",
			 l->next_token ? l->next_token : "");
	return rc;
}

void objlist_free(struct objlist *l)
{
	for (size_t i = 0; i < l->nobjects; i++) {
		struct objlist_object *o = &l->objects[i];
		for (size_t k = 0; k < o->nmeta; k++) {
			free((char *)o->meta[k].key);
			free((char *)o->meta[k].value);
		}
		free(o->meta);
		free(o->key);
	}
	for (size_t i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i]);
	free(l->objects);
	free(l->prefixes);
	free(l->next_token);
	memset(l, 0, sizeof *l);
}
