/* s3_xml: S3's XML documents with libxml2 (see s3_xml.h). */
#include "s3_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* No entity expansion (billion laughs), no DTD or network fetch, and no
 * messages of libxml2's own on stderr: a bad body is our error to tell. */
#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static xmlDocPtr parse(const char *body, size_t len)
{
	if (!body || len == 0 || len > 0x7fffffff)
		return NULL;
	return xmlReadMemory(body, (int)len, "s3.xml", NULL, XML_OPTS);
}

static int is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNode *child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* The element's text, malloc'd ("" for an empty element). */
static char *text(const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s;

	if (!t)
		return strdup("");
	s = strdup((const char *)t);
	xmlFree(t);
	return s;
}

/* Copy the text of N's child NAME into buf; 0, or -1 when absent. */
static int child_text(const xmlNode *n, const char *name, char *buf,
		      size_t len)
{
	xmlNode *c = child(n, name);
	xmlChar *t;

	if (!c)
		return -1;
	t = xmlNodeGetContent(c);
	snprintf(buf, len, "%s", t ? (const char *)t : "");
	xmlFree(t);
	return 0;
}

int s3_parse_iso8601(const char *s, struct timespec *ts)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0;
	long nsec = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
			 &sec, &n) != 6)
		return -1;
	if (s[n] == '.') {
		long scale = 100000000;
		for (const char *p = s + n + 1; *p >= '0' && *p <= '9'; p++) {
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	ts->tv_sec = timegm(&tm);
	ts->tv_nsec = nsec;
	return 0;
}

static int parse_object(const xmlNode *c, struct s3_xml_object *o)
{
	char buf[64];
	xmlNode *k = child(c, "Key");

	memset(o, 0, sizeof *o);
	if (!k)
		return -EIO;
	o->key = text(k);
	if (!o->key)
		return -ENOMEM;
	if (child_text(c, "Size", buf, sizeof buf) == 0)
		o->size = strtoull(buf, NULL, 10);
	if (child_text(c, "LastModified", buf, sizeof buf) == 0)
		s3_parse_iso8601(buf, &o->mtime);
	child_text(c, "ETag", o->etag, sizeof o->etag);
	return 0;
}

static int push_object(struct s3_xml_list *l, const xmlNode *c)
{
	struct s3_xml_object *v =
		realloc(l->objects, (l->nobjects + 1) * sizeof *v);
	int rc;

	if (!v)
		return -ENOMEM;
	l->objects = v;
	rc = parse_object(c, &v[l->nobjects]);
	if (rc == 0)
		l->nobjects++;
	return rc;
}

static int push_prefix(struct s3_xml_list *l, const xmlNode *c)
{
	xmlNode *p = child(c, "Prefix");
	char **v;

	if (!p)
		return -EIO;
	v = realloc(l->prefixes, (l->nprefixes + 1) * sizeof *v);
	if (!v)
		return -ENOMEM;
	l->prefixes = v;
	v[l->nprefixes] = text(p);
	if (!v[l->nprefixes])
		return -ENOMEM;
	l->nprefixes++;
	return 0;
}

int s3_xml_parse_list(const char *body, size_t len, struct s3_xml_list *out)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	char buf[16];
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!is(root, "ListBucketResult")) {
		xmlFreeDoc(doc);
		return -EIO;
	}
	for (xmlNode *c = root->children; c && rc == 0; c = c->next) {
		if (is(c, "Contents"))
			rc = push_object(out, c);
		else if (is(c, "CommonPrefixes"))
			rc = push_prefix(out, c);
		else if (is(c, "NextContinuationToken") && !out->next_token)
			rc = (out->next_token = text(c)) ? 0 : -ENOMEM;
	}
	if (child_text(root, "IsTruncated", buf, sizeof buf) == 0)
		out->truncated = strcmp(buf, "true") == 0;
	if (child_text(root, "EncodingType", buf, sizeof buf) == 0)
		out->url_encoded = strcmp(buf, "url") == 0;
	xmlFreeDoc(doc);
	if (rc < 0)
		s3_xml_list_free(out);
	return rc;
}

void s3_xml_list_free(struct s3_xml_list *l)
{
	for (size_t i = 0; i < l->nobjects; i++)
		free(l->objects[i].key);
	for (size_t i = 0; i < l->nprefixes; i++)
		free(l->prefixes[i]);
	free(l->objects);
	free(l->prefixes);
	free(l->next_token);
	memset(l, 0, sizeof *l);
}

static int error_of(const xmlNode *root, char *code, size_t codelen,
		    char *msg, size_t msglen)
{
	if (!is(root, "Error"))
		return -ENOENT;
	if (code && child_text(root, "Code", code, codelen) < 0)
		code[0] = '\0';
	if (msg && child_text(root, "Message", msg, msglen) < 0)
		msg[0] = '\0';
	return 0;
}

int s3_xml_parse_error(const char *body, size_t len, char *code,
		       size_t codelen, char *msg, size_t msglen)
{
	xmlDocPtr doc = parse(body, len);
	int rc = error_of(doc ? xmlDocGetRootElement(doc) : NULL, code,
			  codelen, msg, msglen);

	xmlFreeDoc(doc);
	return rc;
}

int s3_xml_parse_upload_id(const char *body, size_t len, char **id)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *u = is(root, "InitiateMultipartUploadResult")
			     ? child(root, "UploadId")
			     : NULL;
	int rc = -EIO;

	*id = NULL;
	if (u) {
		*id = text(u);
		rc = !*id ? -ENOMEM : (*id)[0] ? 0 : -EIO;
		if (rc < 0) {
			free(*id);
			*id = NULL;
		}
	}
	xmlFreeDoc(doc);
	return rc;
}

int s3_xml_parse_result(const char *body, size_t len, const char *root_name,
			char *etag, size_t etaglen, struct timespec *mtime,
			char *code, size_t codelen, char *msg, size_t msglen)
{
	xmlDocPtr doc = parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	char buf[64];
	int rc = -EIO;

	if (code)
		code[0] = '\0';
	if (msg)
		msg[0] = '\0';
	if (error_of(root, code, codelen, msg, msglen) == 0)
		goto out;
	if (!is(root, root_name)) {
		if (code)
			snprintf(code, codelen, "MalformedResponse");
		if (msg)
			snprintf(msg, msglen, "expected a %s document",
				 root_name);
		goto out;
	}
	if (etag && child_text(root, "ETag", etag, etaglen) < 0)
		etag[0] = '\0';
	if (mtime && child_text(root, "LastModified", buf, sizeof buf) == 0)
		s3_parse_iso8601(buf, mtime);
	rc = 0;
out:
	xmlFreeDoc(doc);
	return rc;
}

char *s3_xml_complete_body(const struct s3_xml_part *parts, size_t n,
			   size_t *len)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr root = doc ? xmlNewNode(NULL, BAD_CAST "CompleteMultipartUpload")
			      : NULL;
	xmlChar *mem = NULL;
	char *out = NULL;
	int size = 0;

	if (!root)
		goto out;
	xmlDocSetRootElement(doc, root);
	xmlSetNs(root, xmlNewNs(root,
				BAD_CAST "http://s3.amazonaws.com/doc/2006-03-01/",
				NULL));
	for (size_t i = 0; i < n; i++) {
		char num[16];
		xmlNodePtr p = xmlNewChild(root, NULL, BAD_CAST "Part", NULL);
		snprintf(num, sizeof num, "%u", parts[i].number);
		/* xmlNewTextChild escapes: ETags carry quotes. */
		if (!p ||
		    !xmlNewTextChild(p, NULL, BAD_CAST "PartNumber",
				     BAD_CAST num) ||
		    !xmlNewTextChild(p, NULL, BAD_CAST "ETag",
				     BAD_CAST parts[i].etag))
			goto out;
	}
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (mem && size > 0) {
		out = malloc((size_t)size + 1);
		if (out) {
			memcpy(out, mem, (size_t)size);
			out[size] = '\0';
			*len = (size_t)size;
		}
	}
out:
	xmlFree(mem);
	xmlFreeDoc(doc);
	return out;
}
