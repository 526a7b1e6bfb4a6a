/*
 * s3_xml: the S3 XML documents, read and written with libxml2 through
 * plugins/common/xml.c.
 */
#ifndef SCOPEFS_S3_XML_H
#define SCOPEFS_S3_XML_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <scopefs/plugin.h>

#include "objlist.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* A ListObjectsV2 page (ListBucketResult): Contents and
 * CommonPrefixes/Prefix, NextContinuationToken. */
struct s3_xml_list {
	struct objlist page;
	int truncated;      /* IsTruncated */
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

#pragma GCC visibility pop

#endif
