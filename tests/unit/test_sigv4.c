/*
 * The S3 plugin's SigV4 signer against AWS's published examples ("Signature
 * Calculations for the Authorization Header", S3 API reference: GET Object,
 * PUT Object, GET Bucket Lifecycle, GET Bucket (List Objects); and one case
 * of the generic SigV4 test suite), plus the encoding rules S3 needs.
 *
 * The signer lives inside plugins/s3/scopefs-s3.so (built first by `make`),
 * which exports these few functions for this test.  Run from the
 * repository root; $O selects the build directory (as for tests/run.sh).
 */
#include <criterion/criterion.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugins/s3/sigv4.h"

static void *so;
static int (*sign)(const struct sigv4_request *, struct sigv4_result *);
static void (*result_free)(struct sigv4_result *);
static void (*sha256_hex)(const void *, size_t, char[65]);
static char *(*uri_encode)(const char *, int);
static char *(*canonical_query)(const struct http_pair *, size_t);

#define AKID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define HOST "examplebucket.s3.amazonaws.com"
#define DATE "20130524T000000Z"

static void *sym(const char *name)
{
	void *p = dlsym(so, name);

	cr_assert_not_null(p, "dlsym %s: %s", name, dlerror());
	return p;
}

static void setup(void)
{
	const char *o = getenv("O");
	char path[4096];

	snprintf(path, sizeof path, "%s/plugins/s3/scopefs-s3.so",
		 o && o[0] ? o : ".");
	so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(so, "dlopen %s: %s (run `make` first, from the "
			   "repository root)", path, dlerror());
	*(void **)&sign = sym("s3_sigv4_sign");
	*(void **)&result_free = sym("s3_sigv4_result_free");
	*(void **)&sha256_hex = sym("s3_sigv4_sha256_hex");
	*(void **)&uri_encode = sym("s3_sigv4_uri_encode");
	*(void **)&canonical_query = sym("s3_sigv4_canonical_query");
}

static void teardown(void)
{
	if (so)
		dlclose(so);
}

TestSuite(sigv4, .init = setup, .fini = teardown);

Test(sigv4, aws_example_get_object_with_range)
{
	struct http_pair h[] = {
		{ "Host", HOST },
		{ "Range", "bytes=0-9" },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
		{ "x-amz-date", DATE },
	};
	struct sigv4_request r = {
		.method = "GET", .canonical_uri = "/test.txt",
		.canonical_query = "", .headers = h, .nheaders = 4,
		.payload_hash = SIGV4_EMPTY_SHA256, .amz_date = DATE,
		.region = "us-east-1", .service = "s3",
		.access_key_id = AKID, .secret_key = SECRET,
	};
	struct sigv4_result out;

	cr_assert_eq(sign(&r, &out), 0);
	cr_expect_str_eq(out.canonical_request,
			 "GET\n/test.txt\n\n"
			 "host:examplebucket.s3.amazonaws.com\n"
			 "range:bytes=0-9\n"
			 "x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\n"
			 "x-amz-date:20130524T000000Z\n\n"
			 "host;range;x-amz-content-sha256;x-amz-date\n"
			 SIGV4_EMPTY_SHA256);
	cr_expect_str_eq(out.string_to_sign,
			 "AWS4-HMAC-SHA256\n20130524T000000Z\n"
			 "20130524/us-east-1/s3/aws4_request\n"
			 "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
	cr_expect_str_eq(out.signature,
			 "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	cr_expect_str_eq(out.authorization,
			 "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"
			 "20130524/us-east-1/s3/aws4_request,SignedHeaders="
			 "host;range;x-amz-content-sha256;x-amz-date,Signature="
			 "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	result_free(&out);
}

Test(sigv4, aws_example_put_object_encodes_dollar_and_hashes_body)
{
	const char *body = "Welcome to Amazon S3.";
	char hash[65];
	char *uri = uri_encode("/test$file.text", 1);
	struct http_pair h[] = {
		{ "Date", "Fri, 24 May 2013 00:00:00 GMT" },
		{ "Host", HOST },
		{ "x-amz-date", DATE },
		{ "x-amz-storage-class", "REDUCED_REDUNDANCY" },
		{ "x-amz-content-sha256", hash },
	};
	struct sigv4_request r = {
		.method = "PUT", .canonical_uri = uri, .canonical_query = "",
		.headers = h, .nheaders = 5, .payload_hash = hash,
		.amz_date = DATE, .region = "us-east-1", .service = "s3",
		.access_key_id = AKID, .secret_key = SECRET,
	};
	struct sigv4_result out;

	sha256_hex(body, strlen(body), hash);
	cr_expect_str_eq(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
	cr_expect_str_eq(uri, "/test%24file.text");
	cr_assert_eq(sign(&r, &out), 0);
	cr_expect_str_eq(out.signature,
			 "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
	cr_expect(strstr(out.authorization, "SignedHeaders=date;host;"
			 "x-amz-content-sha256;x-amz-date;x-amz-storage-class,"),
		  "signed headers sorted: %s", out.authorization);
	result_free(&out);
	free(uri);
}

static void sign_bucket_get(const struct http_pair *q, size_t nq,
			    const char *want_query, const char *want_sig)
{
	struct http_pair h[] = {
		{ "host", HOST },
		{ "x-amz-content-sha256", SIGV4_EMPTY_SHA256 },
		{ "x-amz-date", DATE },
	};
	char *query = canonical_query(q, nq);
	struct sigv4_request r = {
		.method = "GET", .canonical_uri = "/", .canonical_query = query,
		.headers = h, .nheaders = 3,
		.payload_hash = SIGV4_EMPTY_SHA256, .amz_date = DATE,
		.region = "us-east-1", .service = "s3",
		.access_key_id = AKID, .secret_key = SECRET,
	};
	struct sigv4_result out;

	cr_assert_not_null(query);
	cr_expect_str_eq(query, want_query);
	cr_assert_eq(sign(&r, &out), 0);
	cr_expect_str_eq(out.signature, want_sig);
	result_free(&out);
	free(query);
}

Test(sigv4, aws_example_get_lifecycle_keeps_equals_for_empty_value)
{
	struct http_pair q[] = { { "lifecycle", "" } };

	sign_bucket_get(q, 1, "lifecycle=",
			"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

Test(sigv4, aws_example_list_objects_sorts_query)
{
	struct http_pair q[] = { { "prefix", "J" }, { "max-keys", "2" } };

	sign_bucket_get(q, 2, "max-keys=2&prefix=J",
			"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

/* From the generic SigV4 test suite (service "service"): parameters in
 * reverse order, no x-amz-content-sha256 header. */
Test(sigv4, aws_suite_get_vanilla_query_order_key_case)
{
	struct http_pair q[] = { { "Param2", "value2" },
				  { "Param1", "value1" } };
	struct http_pair h[] = { { "Host", "example.amazonaws.com" },
				  { "X-Amz-Date", "20150830T123600Z" } };
	char *query = canonical_query(q, 2);
	struct sigv4_request r = {
		.method = "GET", .canonical_uri = "/", .canonical_query = query,
		.headers = h, .nheaders = 2,
		.payload_hash = SIGV4_EMPTY_SHA256,
		.amz_date = "20150830T123600Z", .region = "us-east-1",
		.service = "service", .access_key_id = "AKIDEXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};
	struct sigv4_result out;

	cr_expect_str_eq(query, "Param1=value1&Param2=value2");
	cr_assert_eq(sign(&r, &out), 0);
	cr_expect_str_eq(out.signature,
			 "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
	result_free(&out);
	free(query);
}

Test(sigv4, uri_encoding_keeps_only_unreserved_and_slash)
{
	char *a = uri_encode("dir/a b+c%d(1)*!'~&=\xc3\xbc.txt", 1);
	char *b = uri_encode("a/b", 0);

	cr_expect_str_eq(a, "dir/a%20b%2Bc%25d%281%29%2A%21%27~%26%3D%C3%BC.txt");
	cr_expect_str_eq(b, "a%2Fb");
	free(a);
	free(b);
}

Test(sigv4, canonical_query_encodes_values_and_sorts_by_name)
{
	struct http_pair q[] = {
		{ "uploadId", "a/b+c" },
		{ "partNumber", "1" },
		{ "prefix", "p(1)*!'" },
		{ "uploads", NULL },
	};
	char *s = canonical_query(q, 4);

	cr_expect_str_eq(s, "partNumber=1&prefix=p%281%29%2A%21%27&"
			    "uploadId=a%2Fb%2Bc&uploads=");
	free(s);
}

Test(sigv4, header_values_are_trimmed_and_squeezed)
{
	struct http_pair h[] = { { "Host", "h" },
				  { "X-Amz-Meta-A", "  one   two  " } };
	struct sigv4_request r = {
		.method = "GET", .canonical_uri = "/", .canonical_query = "",
		.headers = h, .nheaders = 2, .payload_hash = SIGV4_UNSIGNED,
		.amz_date = DATE, .region = "us-east-1", .service = "s3",
		.access_key_id = AKID, .secret_key = SECRET,
	};
	struct sigv4_result out;

	cr_assert_eq(sign(&r, &out), 0);
	cr_expect(strstr(out.canonical_request, "\nx-amz-meta-a:one two\n"),
		  "got:\n%s", out.canonical_request);
	cr_expect(strstr(out.canonical_request, "\nUNSIGNED-PAYLOAD") != NULL);
	result_free(&out);
}

Test(sigv4, missing_fields_are_refused)
{
	struct sigv4_request r = { .method = "GET" };
	struct sigv4_result out;

	cr_expect_lt(sign(&r, &out), 0);
}
