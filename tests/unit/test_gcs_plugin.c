/*
 * The gcs plugin (plugins/gcs/scopefs-gcs.so) through the ABI: its keys
 * and refusals, the JWT it signs for a service account (verified here with
 * the openssl command and the public key), and the primitives against the
 * Cloud Storage emulator of tests/servers (gcs-emulator.js) on
 * 127.0.0.1:$GCS_PORT (default 19052), bucket "testbucket".  tests/run.sh
 * starts it; by hand:  . tests/servers/servers.sh && start_gcs
 *
 * Tests that need the emulator skip when nothing answers there, unless
 * SCOPEFS_REQUIRE_SERVERS=1 (run.sh's default), when they fail.  Every
 * test works under its own mount prefix.  Run from the repository root; $O
 * selects the build.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>

#define PLUGIN_HOST_LABEL "gcs"
#include "plugin_host.h"

static int gcs_port = 19052;
static char endpoint[64];
static char tmpdir[64];

static void setup(void)
{
	const char *port = getenv("GCS_PORT");

	if (port && atoi(port) > 0)
		gcs_port = atoi(port);
	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", gcs_port);
	load_plugin("gcs");
	cr_assert_not_null(ops);
	strcpy(tmpdir, "/tmp/scopefs-test-gcs-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* the developer's own Google setup must not leak into the tests */
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

TestSuite(gcs_plugin, .init = setup, .fini = teardown, .timeout = 60);

static void emulator_backend(struct backend *b)
{
	backend_init(b);
	set(b, "endpoint", endpoint);
	set(b, "bucket", "testbucket");
	set(b, "auth", "none");
}

static void need_emulator(void)
{
	if (port_open(gcs_port))
		return;
	const char *req = getenv("SCOPEFS_REQUIRE_SERVERS");
	if (req && strcmp(req, "1") == 0)
		cr_assert_fail("no GCS emulator on 127.0.0.1:%d and "
			       "SCOPEFS_REQUIRE_SERVERS=1", gcs_port);
	cr_skip_test("no GCS emulator on 127.0.0.1:%d; start one with "
		     "'. tests/servers/servers.sh && start_gcs'", gcs_port);
}

/* ---- keys --------------------------------------------------------------- */

static void expect_refused(struct backend *b, int want, const char *says)
{
	int rc = configure(b);

	cr_expect_eq(rc, want, "expected %d, saw %d (%s)", want, rc,
		     last_error);
	cr_expect(strstr(last_error, says), "expected the error to say "
		  "\"%s\", saw \"%s\"", says, last_error);
	close_backend(b);
}

Test(gcs_plugin, keys_are_checked_and_bad_ones_refused)
{
	struct backend b;

	backend_init(&b);
	expect_refused(&b, -EINVAL, "bucket is required");
	backend_init(&b);
	set(&b, "bucket", "Not_A_Bucket!");
	expect_refused(&b, -EINVAL, "is not a bucket name");
	emulator_backend(&b);
	set(&b, "auth", "kerberos");
	expect_refused(&b, -EINVAL, "auth must be");
	emulator_backend(&b);
	set(&b, "endpoint", "ftp://example.com");
	expect_refused(&b, -EINVAL, "endpoint must be");
	emulator_backend(&b);
	set(&b, "region", "europe-west1");
	expect_refused(&b, -EINVAL, "unknown key 'region'");
	emulator_backend(&b);
	set(&b, "prefix", "a/../b");
	expect_refused(&b, -EINVAL, "'.' or '..'");
	emulator_backend(&b);
	set(&b, "auth", "service_account");
	expect_refused(&b, -EINVAL, "needs credentials");
	emulator_backend(&b);
	set(&b, "list_page", "5000");
	expect_refused(&b, -EINVAL, "list_page");
}

Test(gcs_plugin, key_file_open_to_others_is_refused)
{
	char path[128];
	struct backend b;
	FILE *f;

	snprintf(path, sizeof path, "%s/sa.json", tmpdir);
	f = fopen(path, "w");
	cr_assert(f);
	fputs("{\"type\": \"service_account\"}\n", f);
	fclose(f);
	chmod(path, 0644);
	emulator_backend(&b);
	set(&b, "auth", "service_account");
	set(&b, "credentials", path);
	expect_refused(&b, -EACCES, "chmod 600");
	/* GOOGLE_APPLICATION_CREDENTIALS stands in for credentials */
	setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);
	emulator_backend(&b);
	set(&b, "auth", "auto");
	expect_refused(&b, -EACCES, path);
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	/* mode 0600: accepted at config time (read at mount) */
	chmod(path, 0600);
	emulator_backend(&b);
	set(&b, "credentials", path);
	set(&b, "auth", "service_account");
	cr_expect_eq(configure(&b), 0, "configure: %s", last_error);
	close_backend(&b);
}

/* ---- the JWT ------------------------------------------------------------ */

static size_t b64url_decode(const char *s, size_t n, unsigned char *out)
{
	static const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p = strchr(abc, s[i]);
		cr_assert(p && *p, "byte %zu of the JWT is not base64url", i);
		acc = acc << 6 | (uint32_t)(p - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (unsigned char)(acc >> bits);
		}
	}
	return k;
}

Test(gcs_plugin, service_account_jwt_is_rs256_signed_with_the_key)
{
	char *(*jwt_fn)(const char *, const char *, const char *, const char *,
			long long, char *, size_t);
	char cmd[512], pem[8192] = "", err[256], path[128];
	unsigned char buf[4096];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof cmd, "cd '%s' && openssl genpkey -algorithm RSA "
		 "-pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null && "
		 "openssl pkey -in key.pem -pubout -out pub.pem", tmpdir);
	cr_assert_eq(system(cmd), 0, "openssl genpkey");
	snprintf(path, sizeof path, "%s/key.pem", tmpdir);
	f = fopen(path, "r");
	cr_assert(f);
	n = fread(pem, 1, sizeof pem - 1, f);
	pem[n] = '\0';
	fclose(f);
	*(void **)&jwt_fn = dlsym(so, "gcs_jwt");
	cr_assert_not_null(jwt_fn, "gcs_jwt not exported");

	char *jwt = jwt_fn("me@demo.iam.gserviceaccount.com", "kid-1", pem,
			   "https://oauth2.example/token", 1700000000LL, err,
			   sizeof err);
	cr_assert_not_null(jwt, "gcs_jwt: %s", err);
	char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	cr_assert(dot2 && !strchr(dot2 + 1, '.'), "expected three parts, saw %s",
		  jwt);
	cr_expect(!strpbrk(jwt, "+/="), "expected base64url without padding");

	n = b64url_decode(jwt, (size_t)(dot1 - jwt), buf);
	buf[n] = '\0';
	cr_expect(strstr((char *)buf, "\"alg\":\"RS256\"") &&
			  strstr((char *)buf, "\"typ\":\"JWT\"") &&
			  strstr((char *)buf, "\"kid\":\"kid-1\""),
		  "header: %s", buf);
	n = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf);
	buf[n] = '\0';
	cr_expect(strstr((char *)buf, "\"iss\":\"me@demo.iam.gserviceaccount.com\"") &&
			  strstr((char *)buf, "\"aud\":\"https://oauth2.example/token\"") &&
			  strstr((char *)buf, "\"iat\":1700000000") &&
			  strstr((char *)buf, "\"exp\":1700003600") &&
			  strstr((char *)buf, "devstorage.read_write"),
		  "claims: %s", buf);

	/* the signature over "header.claims", checked with the public key */
	snprintf(path, sizeof path, "%s/signed", tmpdir);
	f = fopen(path, "w");
	cr_assert(f);
	fwrite(jwt, 1, (size_t)(dot2 - jwt), f);
	fclose(f);
	n = b64url_decode(dot2 + 1, strlen(dot2 + 1), buf);
	cr_expect_eq(n, 256, "expected a 2048-bit signature, saw %zu bytes", n);
	snprintf(path, sizeof path, "%s/sig", tmpdir);
	f = fopen(path, "w");
	cr_assert(f);
	fwrite(buf, 1, n, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "cd '%s' && openssl dgst -sha256 -verify "
		 "pub.pem -signature sig signed >/dev/null", tmpdir);
	cr_expect_eq(system(cmd), 0, "openssl dgst -verify refused the JWT's "
		     "signature");
	free(jwt);

	/* not a key: a reason, no JWT */
	jwt = jwt_fn("me@x", NULL, "-----BEGIN PRIVATE KEY-----\nAAAA\n"
		     "-----END PRIVATE KEY-----\n", "https://x/token", 1, err,
		     sizeof err);
	cr_expect_null(jwt);
	cr_expect(strstr(err, "not an RSA private key"), "saw \"%s\"", err);
	free(jwt);
}

/* ---- the primitives against the emulator -------------------------------- */

struct seen {
	char names[16][256];
	int prefix[16];
	int n;
	char mode[32];
};

static int on_entry(void *ctx, const char *key, int is_prefix,
		    const struct scopefs_object_attr *a,
		    const struct scopefs_object_meta *meta, size_t nmeta)
{
	struct seen *s = ctx;

	(void)a;
	if (s->n < 16) {
		snprintf(s->names[s->n], sizeof s->names[0], "%s", key);
		s->prefix[s->n++] = is_prefix;
	}
	for (size_t i = 0; i < nmeta; i++)
		if (!strcmp(meta[i].key, "mode"))
			snprintf(s->mode, sizeof s->mode, "%s", meta[i].value);
	return 0;
}

static int on_meta(void *ctx, const char *key, const char *value)
{
	struct seen *s = ctx;

	if (!strcmp(key, "mode"))
		snprintf(s->mode, sizeof s->mode, "%s", value);
	if (!strcmp(key, "symlink") && s->n < 16)
		snprintf(s->names[s->n++], sizeof s->names[0], "%s", value);
	return 0;
}

static void *emulator_mount(struct backend *b, const char *name)
{
	char prefix[128];

	need_emulator();
	emulator_backend(b);
	snprintf(prefix, sizeof prefix, "%s", test_prefix(name));
	return mount_or_die(b, prefix);
}

Test(gcs_plugin, objects_put_head_get_list_copy_remove)
{
	struct backend b;
	void *m = emulator_mount(&b, "objects");
	struct scopefs_object_attr a;
	const struct scopefs_object_meta meta[] = { { "mode", "33188" },
						    { "symlink", "ünï cødé" } };
	char buf[64] = "", token[SCOPEFS_TOKEN_MAX] = "";
	struct seen s = { 0 };

	cr_assert_eq(ops->put(m, "dir/a b+c%.txt", "hello world", 11, meta, 2,
			      &a), 0, "put: %s", last_error);
	cr_expect_eq(a.size, 11);
	cr_expect(a.etag[0], "expected the generation as the ETag");
	cr_assert_eq(ops->head(m, "dir/a b+c%.txt", &a, on_meta, &s), 0,
		     "head: %s", last_error);
	cr_expect_eq(a.size, 11);
	cr_expect_str_eq(s.mode, "33188");
	cr_expect_str_eq(s.names[0], "ünï cødé", "a non-ASCII value comes "
			 "back as it went");
	cr_expect_eq(ops->get(m, "dir/a b+c%.txt", 6, buf, 5, a.etag), 5);
	cr_expect(!memcmp(buf, "world", 5), "range 6-10: saw %.5s", buf);
	cr_expect_eq(ops->get(m, "dir/a b+c%.txt", 11, buf, 5, NULL), 0,
		     "a range past the end reads nothing");
	cr_expect_eq(ops->head(m, "nope", &a, NULL, NULL), -ENOENT);

	/* conditional create: the name is taken */
	cr_expect_eq(ops->put_new(m, "dir/a b+c%.txt", "x", 1, NULL, 0, NULL),
		     -EEXIST);
	cr_expect_eq(ops->put_new(m, "dir/new", "x", 1, NULL, 0, NULL), 0,
		     "put_new of a free name: %s", last_error);
	cr_assert_eq(ops->put(m, "dir/sub/deep", "d", 1, NULL, 0, NULL), 0);

	memset(&s, 0, sizeof s);
	cr_assert_eq(ops->list(m, "dir/", "/", token, on_entry, &s), 0,
		     "list: %s", last_error);
	cr_expect_str_eq(token, "");
	cr_assert_eq(s.n, 3, "expected 3 entries, saw %d", s.n);
	cr_expect_str_eq(s.names[0], "dir/a b+c%.txt");
	cr_expect_str_eq(s.names[1], "dir/new");
	cr_expect_str_eq(s.names[2], "dir/sub/");
	cr_expect(s.prefix[2] && !s.prefix[0]);
	cr_expect_str_eq(s.mode, "33188", "the listing carries metadata");

	/* rewrite keeps the metadata without META, replaces it with one */
	cr_assert_eq(ops->copy(m, "dir/a b+c%.txt", "dir/kept", NULL, 0, &a), 0,
		     "copy: %s", last_error);
	cr_expect_eq(a.size, 11);
	memset(&s, 0, sizeof s);
	cr_assert_eq(ops->head(m, "dir/kept", &a, on_meta, &s), 0);
	cr_expect_str_eq(s.mode, "33188");
	const struct scopefs_object_meta other[] = { { "mode", "33216" } };
	cr_assert_eq(ops->copy(m, "dir/kept", "dir/replaced", other, 1, NULL), 0);
	memset(&s, 0, sizeof s);
	cr_assert_eq(ops->head(m, "dir/replaced", &a, on_meta, &s), 0);
	cr_expect_str_eq(s.mode, "33216");
	cr_expect_eq(s.n, 0, "expected the symlink pair gone, saw %s",
		     s.names[0]);
	cr_expect_eq(ops->copy(m, "dir/absent", "dir/x", NULL, 0, NULL),
		     -ENOENT);

	cr_expect_eq(ops->remove(m, "dir/replaced"), 0);
	cr_expect_eq(ops->remove(m, "dir/replaced"), 0, "absent is fine");
	cr_expect_eq(ops->head(m, "dir/replaced", &a, NULL, NULL), -ENOENT);
	cr_expect_eq(ops->put(m, "bad\nname", "x", 1, NULL, 0, NULL), -EINVAL);
	plugin->mount_close(m);
	close_backend(&b);
}

Test(gcs_plugin, multipart_upload_composes_parts_in_order)
{
	struct backend b;
	void *m = emulator_mount(&b, "mpu");
	const struct scopefs_object_meta meta[] = { { "mode", "33184" } };
	static char part[3][1 << 20];
	struct scopefs_object_attr a;
	struct seen s = { 0 };
	char token[SCOPEFS_TOKEN_MAX] = "", buf[8];
	void *u;

	for (int i = 0; i < 3; i++)
		memset(part[i], 'a' + i, sizeof part[i]);
	cr_assert_eq(ops->mpu_create(m, "big", meta, 1, &u), 0);
	/* out of order, as parallel parts finish */
	cr_assert_eq(ops->mpu_part(m, u, 3, part[2], 1000), 0, "%s", last_error);
	cr_assert_eq(ops->mpu_part(m, u, 1, part[0], sizeof part[0]), 0);
	cr_assert_eq(ops->mpu_part(m, u, 2, part[1], sizeof part[1]), 0);
	cr_assert_eq(ops->mpu_complete(m, u, &a), 0, "complete: %s",
		     last_error);
	cr_expect_eq(a.size, 2 * sizeof part[0] + 1000);
	cr_assert_eq(ops->head(m, "big", &a, on_meta, &s), 0);
	cr_expect_eq(a.size, 2 * sizeof part[0] + 1000);
	cr_expect_str_eq(s.mode, "33184");
	cr_expect_eq(ops->get(m, "big", (1 << 20) - 2, buf, 4, NULL), 4);
	cr_expect(!memcmp(buf, "aabb", 4), "saw %.4s", buf);
	cr_expect_eq(ops->get(m, "big", (2 << 20) + 998, buf, 8, NULL), 2);
	/* the parts are gone, and never listed */
	memset(&s, 0, sizeof s);
	cr_assert_eq(ops->list(m, "", NULL, token, on_entry, &s), 0);
	cr_expect_eq(s.n, 1, "expected only big, saw %d entries (%s)", s.n,
		     s.names[1]);
	/* an aborted upload leaves nothing */
	cr_assert_eq(ops->mpu_create(m, "gone", NULL, 0, &u), 0);
	cr_assert_eq(ops->mpu_part(m, u, 1, part[0], 100), 0);
	cr_expect_eq(ops->mpu_abort(m, u), 0);
	cr_expect_eq(ops->head(m, "gone", &a, NULL, NULL), -ENOENT);
	plugin->mount_close(m);
	close_backend(&b);
}
