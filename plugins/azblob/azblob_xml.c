/* azblob_xml: Azure's XML documents (see azblob_xml.h). */
#include "azblob_xml.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azblob.h"
#include "http.h"
#include "meta_headers.h"
#include "strbuf.h"
#include "xml.h"

/* A Name element's text, percent-decoded when it says Encoded="true"
 * (names XML 1.0 cannot carry, such as control characters). */
static char *name_text(const xmlNode *n)
{
	xmlChar *enc = xmlGetProp(n, BAD_CAST "Encoded");
	char *s = xml_text(n);

	if (s && enc && strcmp((const char *)enc, "true") == 0)
		uri_decode(s, 0);
	xmlFree(enc);
	return s;
}

/* Metadata elements are the keys; values as the headers carried them. */
static int push_meta(struct objlist_object *o, const xmlNode *md)
{
	for (xmlNode *c = md ? md->children : NULL; c; c = c->next) {
		char key[128], *raw, *value;
		int rc;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		snprintf(key, sizeof key, "%s", (const char *)c->name);
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		raw = xml_text(c);
		value = raw ? meta_value_decode(raw) : NULL;
		free(raw);
		if (!value)
			return -ENOMEM;
		rc = objlist_add_meta(o, key, value);
		free(value);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int push_blob(struct objlist *l, const xmlNode *b)
{
	xmlNode *name = xml_child(b, "Name"), *props = xml_child(b, "Properties");
	struct objlist_object *o;
	char buf[128];
	time_t t;

	if (!name)
		return -EIO;
	if (!(o = objlist_add_object(l)) || !(o->key = name_text(name)))
		return -ENOMEM;
	if (xml_child_text(props, "Content-Length", buf, sizeof buf) == 0)
		o->size = strtoull(buf, NULL, 10);
	if (xml_child_text(props, "Last-Modified", buf, sizeof buf) == 0 &&
	    (t = http_parse_date(buf)) != (time_t)-1)
		o->mtime.tv_sec = t;
	/* Listings give the ETag bare, headers quoted: keep one form. */
	if (xml_child_text(props, "Etag", buf, sizeof buf) == 0) {
		struct scopefs_object_attr a;
		http_set_etag(&a, buf);
		memcpy(o->etag, a.etag, sizeof o->etag);
	}
	return push_meta(o, xml_child(b, "Metadata"));
}

int az_xml_parse_list(const char *body, size_t len, struct objlist *page)
{
	xmlDocPtr doc = xml_parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *blobs = xml_child(root, "Blobs"), *next;
	int rc = 0;

	memset(page, 0, sizeof *page);
	if (!xml_is(root, "EnumerationResults")) {
		xmlFreeDoc(doc);
		return -EIO;
	}
	for (xmlNode *c = blobs ? blobs->children : NULL; c && rc == 0;
	     c = c->next) {
		xmlNode *n;
		if (xml_is(c, "Blob"))
			rc = push_blob(page, c);
		else if (xml_is(c, "BlobPrefix"))
			rc = (n = xml_child(c, "Name"))
				     ? objlist_add_prefix(page, name_text(n))
				     : -EIO;
	}
	next = xml_child(root, "NextMarker");
	if (rc == 0 && next && !(page->next_token = xml_text(next)))
		rc = -ENOMEM;
	xmlFreeDoc(doc);
	if (rc < 0)
		objlist_free(page);
	return rc;
}

int az_xml_parse_error(const char *body, size_t len, char *code,
		       size_t codelen, char *msg, size_t msglen)
{
	xmlDocPtr doc = xml_parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	int rc = -ENOENT;

	if (xml_is(root, "Error")) {
		if (xml_child_text(root, "Code", code, codelen) < 0)
			code[0] = '\0';
		if (xml_child_text(root, "Message", msg, msglen) < 0)
			msg[0] = '\0';
		rc = 0;
	}
	xmlFreeDoc(doc);
	return rc;
}

char *az_xml_block_list(const struct parts *p, size_t *len)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = doc ? xmlNewNode(NULL, BAD_CAST "BlockList") : NULL;
	char *out = NULL;

	if (!root)
		goto out;
	xmlDocSetRootElement(doc, root);
	for (size_t i = 0; i < p->n; i++)
		if (!xmlNewTextChild(root, NULL, BAD_CAST "Latest",
				     BAD_CAST p->v[i].id))
			goto out;
	out = xml_dump(doc, len);
out:
	xmlFreeDoc(doc);
	return out;
}
