/* fuzz_gcs_json: the parsers of the GCS JSON API's answers: object
 * resources (with metadata), objects.list pages, errors (the API's and
 * the token URI's), and the OAuth token answers of token.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_deliver.h"
#include "gcs.h"
#include "crypto.h" /* secret_free */
#include "token.h"

static int on_meta(void *ctx, const char *key, const char *value)
{
	(void)ctx;
	(void)key;
	(void)value;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = fuzz_string(data, size), *token = NULL;
	char reason[64], msg[256];
	struct scopefs_object_attr a;
	struct objlist page;
	time_t expires;

	if (!body)
		return 0;
	gcs_json_object(body, &a, on_meta, NULL);
	if (gcs_json_list(body, GCS_PARTS_DIR, &page) == 0) {
		fuzz_deliver(&page);
		objlist_free(&page);
	}
	gcs_json_error(body, reason, sizeof reason, msg, sizeof msg);
	if (token_parse_answer(body, time(NULL), &token, &expires) == 0)
		secret_free(token);
	free(body);
	return 0;
}
