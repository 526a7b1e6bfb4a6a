/* s3_xml: S3's XML documents with libxml2 (see s3_xml.h). */
#include "s3_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

static int push_object(struct objlist *l, const xmlNode *c)
{
	char buf[64];
	xmlNode *k = xml_child(c, "Key");
	struct objlist_object *o;

	if (!k)
		return -EIO;
	if (!(o = objlist_add_object(l)) || !(o->key = xml_text(k)))
		return -ENOMEM;
	if (xml_child_text(c, "Size", buf, sizeof buf) == 0)
		o->size = strtoull(buf, NULL, 10);
	if (xml_child_text(c, "LastModified", buf, sizeof buf) == 0)
		xml_parse_iso8601(buf, &o->mtime);
	xml_child_text(c, "ETag", o->etag, sizeof o->etag);
	return 0;
}

static int push_prefix(struct objlist *l, const xmlNode *c)
{
	xmlNode *p = xml_child(c, "Prefix");

	return p ? objlist_add_prefix(l, xml_text(p)) : -EIO;
}

int s3_xml_parse_list(const char *body, size_t len, struct s3_xml_list *out)
{
	xmlDocPtr doc = xml_parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	char buf[16];
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!xml_is(root, "ListBucketResult")) {
		xmlFreeDoc(doc);
		return -EIO;
	}
	for (xmlNode *c = root->children; c && rc == 0; c = c->next) {
		if (xml_is(c, "Contents"))
			rc = push_object(&out->page, c);
		else if (xml_is(c, "CommonPrefixes"))
			rc = push_prefix(&out->page, c);
		else if (xml_is(c, "NextContinuationToken") &&
			 !out->page.next_token)
			rc = (out->page.next_token = xml_text(c)) ? 0 : -ENOMEM;
	}
	if (xml_child_text(root, "IsTruncated", buf, sizeof buf) == 0)
		out->truncated = strcmp(buf, "true") == 0;
	if (xml_child_text(root, "EncodingType", buf, sizeof buf) == 0)
		out->url_encoded = strcmp(buf, "url") == 0;
	xmlFreeDoc(doc);
	if (rc < 0)
		s3_xml_list_free(out);
	return rc;
}

void s3_xml_list_free(struct s3_xml_list *l)
{
	objlist_free(&l->page);
	memset(l, 0, sizeof *l);
}

static int error_of(const xmlNode *root, char *code, size_t codelen,
		    char *msg, size_t msglen)
{
	if (!xml_is(root, "Error"))
		return -ENOENT;
	if (code && xml_child_text(root, "Code", code, codelen) < 0)
		code[0] = '\0';
	if (msg && xml_child_text(root, "Message", msg, msglen) < 0)
		msg[0] = '\0';
	return 0;
}

int s3_xml_parse_error(const char *body, size_t len, char *code,
		       size_t codelen, char *msg, size_t msglen)
{
	xmlDocPtr doc = xml_parse(body, len);
	int rc = error_of(doc ? xmlDocGetRootElement(doc) : NULL, code,
			  codelen, msg, msglen);

	xmlFreeDoc(doc);
	return rc;
}

int s3_xml_parse_upload_id(const char *body, size_t len, char **id)
{
	xmlDocPtr doc = xml_parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNode *u = xml_is(root, "InitiateMultipartUploadResult")
			     ? xml_child(root, "UploadId")
			     : NULL;
	int rc = -EIO;

	*id = NULL;
	if (u) {
		*id = xml_text(u);
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
	xmlDocPtr doc = xml_parse(body, len);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	char buf[64];
	int rc = -EIO;

	if (code)
		code[0] = '\0';
	if (msg)
		msg[0] = '\0';
	if (error_of(root, code, codelen, msg, msglen) == 0)
		goto out;
	if (!xml_is(root, root_name)) {
		if (code)
			snprintf(code, codelen, "MalformedResponse");
		if (msg)
			snprintf(msg, msglen, "expected a %s document",
				 root_name);
		goto out;
	}
	if (etag && xml_child_text(root, "ETag", etag, etaglen) < 0)
		etag[0] = '\0';
	if (mtime && xml_child_text(root, "LastModified", buf, sizeof buf) == 0)
		xml_parse_iso8601(buf, mtime);
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
	char *out = NULL;

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
	out = xml_dump(doc, len);
out:
	xmlFreeDoc(doc);
	return out;
}
