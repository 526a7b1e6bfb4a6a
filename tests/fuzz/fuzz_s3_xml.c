/* fuzz_s3_xml: the parsers of S3's answers: ListObjectsV2 pages, Error
 * documents, InitiateMultipartUpload and the copy/complete results. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "s3_xml.h"
#include "fuzz_deliver.h"
#include "strbuf.h"
#include "xml.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xml_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct s3_xml_list l;
	char code[64], msg[256], etag[SCOPEFS_ETAG_MAX], *id;
	struct timespec mtime = { 0 };

	if (s3_xml_parse_list(body, size, &l) == 0) {
		if (l.url_encoded) { /* as s3_list.c does */
			for (size_t i = 0; i < l.page.nobjects; i++)
				uri_decode(l.page.objects[i].key, 1);
			for (size_t i = 0; i < l.page.nprefixes; i++)
				uri_decode(l.page.prefixes[i], 1);
		}
		fuzz_deliver(&l.page);
		s3_xml_list_free(&l);
	}
	s3_xml_parse_error(body, size, code, sizeof code, msg, sizeof msg);
	if (s3_xml_parse_upload_id(body, size, &id) == 0)
		free(id);
	s3_xml_parse_result(body, size, "CopyObjectResult", etag, sizeof etag,
			    &mtime, code, sizeof code, msg, sizeof msg);
	s3_xml_parse_result(body, size, "CompleteMultipartUploadResult", etag,
			    sizeof etag, NULL, NULL, 0, NULL, 0);
	return 0;
}
