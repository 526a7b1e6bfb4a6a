/*
 * s3_xml: the S3 XML documents, read and written with libxml2 (entities
 * are not expanded and nothing is fetched from the network).  Element
 * names are matched without their namespace: AWS and S3-compatibles
 * differ in the namespaces they declare.
 */
#ifndef SCOPEFS_S3_XML_H
#define SCOPEFS_S3_XML_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <scopefs/plugin.h>

#pragma GCC visibility push(hidden) /* see plugin.mk */

struct s3_xml_object {
	char *key;
	uint64_t size;
	struct timespec mtime;
	char etag[SCOPEFS_ETAG_MAX];
};

/* A ListObjectsV2 page (ListBucketResult). */
struct s3_xml_list {
	struct s3_xml_object *objects;
	size_t nobjects;
	char **prefixes; /* CommonPrefixes/Prefix */
	size_t nprefixes;
	int truncated;      /* IsTruncated */
	char *next_token;   /* NextContinuationToken or NULL */
	int url_encoded;    /* EncodingType was "url": keys are encoded */
};

/* 0, -EIO for a body that is not a ListBucketResult, -ENOMEM. */
int s3_xml_parse_list(const char *body, size_t len, struct s3_xml_list *out);
void s3_xml_list_free(struct s3_xml_list *l);

/* <Error><Code/><Message/></Error>: 0 and both copied (maybe truncated)
 * when BODY is one, else -ENOENT. */
int s3_xml_parse_error(const char *body, size_t len, char *code,
		       size_t codelen, char *msg, size_t msglen);

/* InitiateMultipartUploadResult/UploadId, malloc'd into *id. */
int s3_xml_parse_upload_id(const char *body, size_t len, char **id);

/* The ETag (and LastModified, when present; mtime untouched otherwise)
 * of a result whose root element is ROOT: CopyObjectResult,
 * CopyPartResult, CompleteMultipartUploadResult.  A 200 answer of S3
 * may still carry an <Error> document for copy and complete: then
 * -EIO with code and msg filled (when given). */
int s3_xml_parse_result(const char *body, size_t len, const char *root,
			char *etag, size_t etaglen, struct timespec *mtime,
			char *code, size_t codelen, char *msg, size_t msglen);

struct s3_xml_part {
	uint32_t number;
	const char *etag;
};

/* <CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>...; parts
 * in the order given (the caller sorts).  malloc'd, NULL on failure. */
char *s3_xml_complete_body(const struct s3_xml_part *parts, size_t n,
			   size_t *len);

/* "2026-11-25T13:04:05.123Z" -> ts; -1 if unreadable. */
int s3_parse_iso8601(const char *s, struct timespec *ts);

#pragma GCC visibility pop

#endif
