/* fuzz_azblob_xml: the parsers of Azure's answers: EnumerationResults
 * pages (Blob, BlobPrefix, Metadata, Encoded names) and Error documents. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "azblob_xml.h"
#include "fuzz_host.h"
#include "xml.h"

/* What the core's list callback would be given; nothing to keep. */
static int on_entry(void *ctx, const char *key, int is_prefix,
		    const struct scopefs_object_attr *a,
		    const struct scopefs_object_meta *meta, size_t nmeta)
{
	(void)ctx;
	(void)is_prefix;
	(void)a;
	(void)meta;
	(void)nmeta;
	if (!key[0])
		__builtin_trap(); /* objkey_relative never gives "" */
	return 0;
}

/* As the plugin's list call ends: every entry handed over, relative to
 * a prefix some keys have and to none. */
static void deliver(const struct objlist *l)
{
	char token[SCOPEFS_TOKEN_MAX];

	objlist_finish(&fuzz_host, l, "", "", token, on_entry, NULL);
	objlist_finish(&fuzz_host, l, "a/", "a/", token, on_entry, NULL);
}

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
		deliver(&page);
		objlist_free(&page);
	}
	az_xml_parse_error(body, size, code, sizeof code, msg, sizeof msg);
	return 0;
}
