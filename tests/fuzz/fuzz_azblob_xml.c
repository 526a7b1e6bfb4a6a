/* fuzz_azblob_xml: the parsers of Azure's answers: EnumerationResults
 * pages (Blob, BlobPrefix, Metadata, Encoded names) and Error documents. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azblob_xml.h"
#include "fuzz_deliver.h"
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
	struct objlist page;
	char code[64], msg[256];

	if (az_xml_parse_list(body, size, &page) == 0) {
		fuzz_deliver(&page);
		objlist_free(&page);
	}
	az_xml_parse_error(body, size, code, sizeof code, msg, sizeof msg);
	return 0;
}
