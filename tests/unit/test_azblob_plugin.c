/*
 * The azblob plugin (plugins/azblob/scopefs-azblob.so) against a real
 * Azure Blob service: Azurite of tests/servers, on 127.0.0.1:$AZ_PORT
 * (default 19051), development account devstoreaccount1 with its
 * well-known key, container "testcontainer".  tests/run.sh starts it; by
 * hand:  . tests/servers/servers.sh && start_azure
 *
 * Tests that need it skip when nothing answers there, unless
 * SCOPEFS_REQUIRE_SERVERS=1 (run.sh's default), when they fail.  Retry and
 * managed-identity tests run tiny python3 servers of tests/servers
 * themselves (faulty_s3.py --azure, msi.py): Azurite refuses Bearer tokens
 * over plain http, so the MSI test sends its requests to the fault server.
 * Every test works under its own mount prefix.  Run from the repository
 * root; $O selects the build.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <scopefs/plugin.h>
#include "config.h"

#define PLUGIN_HOST_LABEL "azblob"
#include "plugin_host.h"

static int az_port = 19051;
static char endpoint[96];
static char tmpdir[64];
static pid_t helpers[4];
static int nhelpers;

#define DEV_ACCOUNT "devstoreaccount1"
#define DEV_KEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/" \
		"K1SZFPTOtr/KBHBeksoGMGw=="
/* Valid base64 of 64 bytes, but not the account's key. */
#define WRONG_KEY "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB" \
		  "QUFBQUFBQUFBQUFBQUFBQUFBQQ=="

/* A backend aimed at Azurite's development account, without
 * credentials (the test adds them). */
static void azurite_keyless(struct backend *b)
{
	backend_init(b);
	set(b, "account", DEV_ACCOUNT);
	set(b, "endpoint", endpoint);
	set(b, "container", "testcontainer");
}

static void azurite_backend(struct backend *b)
{
	azurite_keyless(b);
	set(b, "account_key", DEV_KEY);
}

static void need_azurite(void)
{
	if (port_open(az_port))
		return;
	const char *req = getenv("SCOPEFS_REQUIRE_SERVERS");
	if (req && strcmp(req, "1") == 0)
		cr_assert_fail("no Azurite on 127.0.0.1:%d and "
			       "SCOPEFS_REQUIRE_SERVERS=1", az_port);
	cr_skip_test("no Azurite on 127.0.0.1:%d; start one with "
		     "'. tests/servers/servers.sh && start_azure'", az_port);
}

/* Start tests/servers/SCRIPT with ARGS; returns the port it prints. */
static int spawn_helper(const char *script, const char *const *args)
{
	const char *argv[24] = { "python3" };
	char path[256], buf[32] = "";
	int fds[2], n = 1;
	ssize_t got;
	pid_t pid;

	snprintf(path, sizeof path, "tests/servers/%s", script);
	argv[n++] = path;
	for (; *args && n < 22; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp("python3", (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	helpers[nhelpers++] = pid;
	/* The port, on one line. */
	for (size_t len = 0; len < sizeof buf - 1 && !strchr(buf, '\n');
	     len += (size_t)got) {
		got = read(fds[0], buf + len, sizeof buf - 1 - len);
		cr_assert_gt(got, 0, "%s did not start", script);
		buf[len + (size_t)got] = '\0';
	}
	close(fds[0]);
	return atoi(buf);
}

static void setup(void)
{
	const char *port = getenv("AZ_PORT");

	if (port && atoi(port) > 0)
		az_port = atoi(port);
	snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d/%s", az_port,
		 DEV_ACCOUNT);
	load_plugin("azblob");
	cr_assert_not_null(ops);
	strcpy(tmpdir, "/tmp/scopefs-test-az-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* The developer's own Azure setup must not leak into the tests. */
	unsetenv("AZURE_STORAGE_ACCOUNT");
	unsetenv("AZURE_STORAGE_KEY");
	unsetenv("AZURE_STORAGE_SAS_TOKEN");
	loglen = 0;
	logbuf[0] = '\0';
}

static void teardown(void)
{
	char cmd[128];

	for (int i = 0; i < nhelpers; i++) {
		kill(helpers[i], SIGTERM);
		waitpid(helpers[i], NULL, 0);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
}

TestSuite(azblob, .init = setup, .fini = teardown, .timeout = 60);

/* ---- collectors ---- */

struct metas {
	int n;
	char key[16][64];
	char value[16][512];
};

static int collect_meta(void *ctx, const char *key, const char *value)
{
	struct metas *m = ctx;

	if (m->n < 16) {
		snprintf(m->key[m->n], sizeof m->key[0], "%s", key);
		snprintf(m->value[m->n], sizeof m->value[0], "%s", value);
		m->n++;
	}
	return 0;
}

static const char *meta_get(const struct metas *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0)
			return m->value[i];
	return NULL;
}

struct listing {
	int n;
	char name[128][256]; /* prefixes get a trailing " (prefix)" */
	struct scopefs_object_attr attr[128];
	int pages;
};

static int collect_entry(void *ctx, const char *key, int is_prefix,
			 const struct scopefs_object_attr *attr,
			 const struct scopefs_object_meta *meta, size_t nmeta)
{
	struct listing *l = ctx;

	(void)meta, (void)nmeta;
	if (l->n >= 128)
		return -ENOSPC;
	snprintf(l->name[l->n], sizeof l->name[0], "%s%s", key,
		 is_prefix ? " (prefix)" : "");
	if (attr)
		l->attr[l->n] = *attr;
	l->n++;
	return 0;
}

/* Every page of a listing; fails the test on an error. */
static void list_all(void *m, const char *prefix, const char *delim,
		     struct listing *l)
{
	char token[SCOPEFS_TOKEN_MAX] = "";

	memset(l, 0, sizeof *l);
	do {
		int rc = ops->list(m, prefix, delim, token, collect_entry, l);
		cr_assert_eq(rc, 0, "list '%s': %d %s", prefix, rc,
			     last_error);
		l->pages++;
		cr_assert_lt(l->pages, 100, "listing does not end");
	} while (token[0]);
}

static void put_str(void *m, const char *key, const char *data)
{
	struct scopefs_object_attr a;
	int rc = ops->put(m, key, data, strlen(data), NULL, 0, &a);

	cr_assert_eq(rc, 0, "put '%s': %d %s", key, rc, last_error);
}



/* ---- helpers ---- */

static void read_counts(const char *path, int *a, int *b)
{
	FILE *f = fopen(path, "r");

	*a = *b = -1;
	if (f) {
		if (fscanf(f, "%*[^=]=%d %*[^=]=%d", a, b) < 1)
			*a = -1;
		fclose(f);
	}
}

static void read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* An account SAS from tests/servers/azure_tool.py (all permissions). */
static void account_sas(char *out, size_t size)
{
	FILE *p = popen("python3 tests/servers/azure_tool.py sas", "r");

	cr_assert_not_null(p);
	cr_assert_not_null(fgets(out, (int)size, p), "azure_tool.py sas");
	pclose(p);
	out[strcspn(out, "\r\n")] = '\0';
	cr_assert(strstr(out, "sig=") != NULL, "SAS: %s", out);
}

/* The value of sig= in a SAS (URL-encoded, as in the URL). */
static const char *sas_sig(const char *sas)
{
	const char *s = strstr(sas, "sig=");
	return s ? s + 4 : "";
}

/* A 403 with Azure's code for a bad signature: AuthenticationFailed
 * (Azure), AuthorizationFailure (what Azurite 3.35.0 answers). */
static int auth_refusal(const char *msg)
{
	return strstr(msg, "HTTP 403") &&
	       (strstr(msg, "AuthenticationFailed") ||
		strstr(msg, "AuthorizationFailure"));
}

static int in_log(const char *s)
{
	return s[0] && strstr(logbuf, s) != NULL;
}

/* ---- objects ---- */

Test(azblob, put_head_get_list_copy_remove_with_shared_key)
{
	struct scopefs_object_meta meta[] = { { "mode", "100644" },
					      { "uid", "1000" } };
	struct backend b;
	struct scopefs_object_attr a, h, c;
	struct metas mt = { 0 };
	struct listing l;
	char buf[64];
	void *m;

	need_azurite();
	azurite_backend(&b);
	m = mount_or_die(&b, test_prefix("rt"));
	cr_assert_eq(ops->put(m, "d/f", "hello world", 11, meta, 2, &a), 0,
		     "%s", last_error);
	cr_expect_neq(a.etag[0], '\0');
	cr_expect_eq(ops->head(m, "d/f", &h, collect_meta, &mt), 0, "%s",
		     last_error);
	cr_expect_eq(h.size, 11);
	cr_expect_str_eq(h.etag, a.etag);
	cr_expect_str_eq(meta_get(&mt, "mode") ? meta_get(&mt, "mode") : "",
			 "100644");
	cr_expect_eq(ops->get(m, "d/f", 6, buf, 5, a.etag), 5, "%s",
		     last_error);
	cr_expect(memcmp(buf, "world", 5) == 0);
	cr_expect_eq(ops->get(m, "d/f", 6, buf, sizeof buf, NULL), 5);
	list_all(m, "", "/", &l);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.name[0], "d/ (prefix)");
	/* Copy onto itself with new metadata: Azure gives it a new ETag,
	 * which the copy must report (the core reads against it). */
	struct scopefs_object_meta meta2[] = { { "mode", "100600" } };
	cr_expect_eq(ops->copy(m, "d/f", "d/f", meta2, 1, &c), 0, "%s",
		     last_error);
	cr_expect_str_neq(c.etag, a.etag);
	cr_expect_eq(ops->get(m, "d/f", 0, buf, 5, c.etag), 5, "%s",
		     last_error);
	cr_expect_eq(ops->get(m, "d/f", 0, buf, 5, a.etag), -ESTALE);
	cr_expect_eq(ops->copy(m, "d/f", "d/g", NULL, 0, &c), 0, "%s",
		     last_error);
	cr_expect_eq(c.size, 11);
	mt.n = 0;
	cr_expect_eq(ops->head(m, "d/g", &h, collect_meta, &mt), 0);
	cr_expect(meta_get(&mt, "mode") != NULL, "NULL meta keeps the source's");
	/* An empty (non-NULL) set replaces the metadata with none. */
	cr_expect_eq(ops->copy(m, "d/f", "d/h", meta2, 0, &c), 0, "%s",
		     last_error);
	mt.n = 0;
	cr_expect_eq(ops->head(m, "d/h", &h, collect_meta, &mt), 0);
	cr_expect_eq(mt.n, 0, "metadata left after an empty set: %d", mt.n);
	cr_expect_str_eq(h.etag, c.etag);
	cr_expect_eq(ops->remove(m, "d/f"), 0, "%s", last_error);
	cr_expect_eq(ops->head(m, "d/f", &h, NULL, NULL), -ENOENT);
	cr_expect_eq(ops->remove(m, "d/f"), 0, "absent is fine");
	/* Azure would store "a\\b" as "a/b": refused instead. */
	cr_expect_eq(ops->put(m, "a\\b", "x", 1, NULL, 0, &a), -EINVAL);
	cr_expect_eq(ops->head(m, "d/g", &h, NULL, NULL), 0);
	cr_expect(!in_log(DEV_KEY), "the account key was logged");
	plugin->mount_close(m);
	close_backend(&b);
}

Test(azblob, awkward_names_round_trip)
{
	static const char *keys[] = {
		"a b", "plus+sign", "per%cent", "per%41cent",
		"\xc3\xbcn\xc3\xaf/c\xc3\xb8" "d\xc3\xa9.txt", "hash#tag",
		"q?mark", "amp&and", "eq=ual", "semi;colon", "quote'",
		"tilde~", "brackets[]{}", "sp ace/in dir",
	};
	const size_t nkeys = sizeof keys / sizeof *keys;
	struct backend b;
	struct listing l;
	char buf[256];
	void *m;

	need_azurite();
	azurite_backend(&b);
	m = mount_or_die(&b, test_prefix("keys"));
	for (size_t i = 0; i < nkeys; i++) {
		struct scopefs_object_attr a;
		ssize_t n;
		put_str(m, keys[i], keys[i]);
		cr_expect_eq(ops->head(m, keys[i], &a, NULL, NULL), 0,
			     "head '%s': %s", keys[i], last_error);
		n = ops->get(m, keys[i], 0, buf, sizeof buf, NULL);
		cr_expect(n == (ssize_t)strlen(keys[i]) &&
				  memcmp(buf, keys[i], (size_t)n) == 0,
			  "get '%s' gave %zd bytes", keys[i], n);
	}
	list_all(m, "", NULL, &l);
	cr_expect_eq((size_t)l.n, nkeys, "listed %d of %zu keys", l.n, nkeys);
	for (size_t i = 0; i < nkeys; i++) {
		int found = 0;
		for (int j = 0; j < l.n; j++)
			found |= strcmp(l.name[j], keys[i]) == 0;
		cr_expect(found, "'%s' not listed", keys[i]);
	}
	plugin->mount_close(m);
	close_backend(&b);
}

Test(azblob, list_pages_with_marker_and_prefixes)
{
	static const char *keys[] = { "a.txt", "b.txt", "c/x", "d/e/f",
				      "g.txt", "c/y", "a.txt.bak", "a/b" };
	const char *expect[] = { "a.txt", "a.txt.bak", "a/ (prefix)",
				 "b.txt", "c/ (prefix)", "d/ (prefix)",
				 "g.txt" };
	struct backend b;
	struct listing l;
	void *m;

	need_azurite();
	azurite_backend(&b);
	set(&b, "list_page", "2");
	m = mount_or_die(&b, test_prefix("list"));
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		put_str(m, keys[i], keys[i]);
	list_all(m, "", "/", &l);
	cr_expect_geq(l.pages, 4, "7 entries at 2 a page: %d pages", l.pages);
	cr_assert_eq(l.n, 7, "root entries: %d", l.n);
	for (int i = 0; i < 7; i++)
		cr_expect_str_eq(l.name[i], expect[i], "entry %d", i);
	cr_expect_eq(l.attr[0].size, 5);
	cr_expect_neq(l.attr[0].etag[0], '\0');
	list_all(m, "", NULL, &l);
	cr_expect_eq(l.n, 8);
	cr_expect_geq(l.pages, 4);
	list_all(m, "d/", "/", &l);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.name[0], "d/e/ (prefix)");
	plugin->mount_close(m);
	close_backend(&b);
}

/* ---- credentials ---- */

Test(azblob, wrong_key_is_refused_at_mount_with_the_servers_reason)
{
	struct backend b;
	void *m = NULL;

	need_azurite();
	azurite_keyless(&b);
	set(&b, "account_key", WRONG_KEY);
	cr_assert_eq(configure(&b), 0, "%s", last_error);
	cr_expect_lt(plugin->mount_open(b.handle, "x", 0, &m), 0);
	cr_expect_null(m);
	cr_expect(auth_refusal(last_error), "message: %s", last_error);
	cr_expect(strstr(last_error, WRONG_KEY) == NULL && !in_log(WRONG_KEY),
		  "the key leaked");
	close_backend(&b);
}

Test(azblob, sas_is_accepted_and_never_logged)
{
	char sas[1024];
	struct backend b;
	struct listing l;
	char buf[8];
	void *m;

	need_azurite();
	account_sas(sas, sizeof sas);
	azurite_keyless(&b);
	set(&b, "auth", "sas");
	set(&b, "sas_token", sas);
	setenv("SCOPEFS_TEST_VERBOSE", "1", 1); /* every level is kept */
	m = mount_or_die(&b, test_prefix("sas"));
	put_str(m, "f", "data");
	cr_expect_eq(ops->get(m, "f", 0, buf, sizeof buf, NULL), 4, "%s",
		     last_error);
	list_all(m, "", NULL, &l);
	cr_expect_eq(l.n, 1);
	struct scopefs_object_attr a;
	cr_expect_eq(ops->copy(m, "f", "g", NULL, 0, &a), 0, "%s",
		     last_error);
	cr_expect_eq(ops->head(m, "missing", &a, NULL, NULL), -ENOENT);
	cr_expect(strstr(logbuf, "SAS token") != NULL, "log: %s", logbuf);
	cr_expect(!in_log(sas_sig(sas)) && !strstr(last_error, sas_sig(sas)),
		  "the SAS signature was logged");
	plugin->mount_close(m);
	close_backend(&b);
	unsetenv("SCOPEFS_TEST_VERBOSE");
}

Test(azblob, tampered_sas_is_refused_at_mount)
{
	char sas[1024];
	struct backend b;
	void *m = NULL;
	char *sig;

	need_azurite();
	account_sas(sas, sizeof sas);
	sig = strstr(sas, "sig=") + 4;
	/* Another valid base64 character, so only the signature is wrong. */
	sig[0] = sig[0] == 'A' ? 'B' : 'A';
	azurite_keyless(&b);
	set(&b, "sas_token", sas); /* auth = auto: the SAS, no key */
	cr_assert_eq(configure(&b), 0, "%s", last_error);
	cr_expect_lt(plugin->mount_open(b.handle, "x", 0, &m), 0);
	cr_expect_null(m);
	cr_expect(auth_refusal(last_error), "message: %s", last_error);
	cr_expect(strstr(last_error, "SAS token") != NULL, "%s", last_error);
	cr_expect(!strstr(last_error, sig) && !in_log(sig),
		  "the SAS leaked");
	close_backend(&b);
}

Test(azblob, auth_auto_takes_the_key_first_then_the_sas)
{
	char sas[1024];
	struct backend b;
	void *m;

	need_azurite();
	account_sas(sas, sizeof sas);
	azurite_backend(&b);
	set(&b, "sas_token", sas);
	setenv("SCOPEFS_TEST_VERBOSE", "1", 1);
	m = mount_or_die(&b, test_prefix("auto"));
	cr_expect(strstr(logbuf, "(account key)") != NULL, "log: %s", logbuf);
	plugin->mount_close(m);
	close_backend(&b);
	unsetenv("SCOPEFS_TEST_VERBOSE");
}

Test(azblob, credentials_from_the_environment)
{
	struct backend b;
	void *m;

	need_azurite();
	backend_init(&b);
	set(&b, "endpoint", endpoint);
	set(&b, "container", "testcontainer");
	setenv("AZURE_STORAGE_ACCOUNT", DEV_ACCOUNT, 1);
	setenv("AZURE_STORAGE_KEY", DEV_KEY, 1);
	m = mount_or_die(&b, test_prefix("env"));
	put_str(m, "f", "x");
	plugin->mount_close(m);
	close_backend(&b);
	unsetenv("AZURE_STORAGE_ACCOUNT");
	unsetenv("AZURE_STORAGE_KEY");
}

/* account_key_file: the key from a private file; the mode 0644 config
 * holds no secret then, and the key is neither logged nor shown. */
Test(azblob, account_key_from_a_file_signs_requests)
{
	struct backend b;
	char conf[128], key[128];
	void *m;
	FILE *f;

	need_azurite();
	snprintf(conf, sizeof conf, "%s/open.conf", tmpdir);
	snprintf(key, sizeof key, "%s/account-key", tmpdir);
	cr_assert((f = fopen(conf, "w")));
	fputs("[backend az]\nplugin = azblob\n", f);
	fclose(f);
	cr_assert_eq(chmod(conf, 0644), 0);
	cr_assert((f = fopen(key, "w")));
	fprintf(f, "%s\n", DEV_KEY);
	fclose(f);
	cr_assert_eq(chmod(key, 0400), 0);

	azurite_keyless(&b);
	set(&b, "account_key_file", key);
	b.host.config_file = conf;
	m = mount_or_die(&b, test_prefix("key-file"));
	put_str(m, "f", "x");
	plugin->mount_close(m);
	close_backend(&b);
	cr_expect(!in_log(DEV_KEY), "the account key was logged");

	/* a key file others may read is refused, naming it */
	cr_assert_eq(chmod(key, 0644), 0);
	azurite_keyless(&b);
	set(&b, "account_key_file", key);
	cr_expect_eq(configure(&b), -EACCES);
	cr_expect(strstr(last_error, key) && strstr(last_error, "0644"),
		  "message: %s", last_error);
	close_backend(&b);
}

Test(azblob, no_credentials_and_no_metadata_endpoint_is_refused_clearly)
{
	char url[64];
	struct backend b;
	void *m = NULL;

	snprintf(url, sizeof url, "http://127.0.0.1:%d", closed_port());
	azurite_keyless(&b);
	set(&b, "msi_endpoint", url);
	cr_assert_eq(configure(&b), 0, "%s", last_error);
	cr_expect_lt(plugin->mount_open(b.handle, "x", 0, &m), 0);
	cr_expect(strstr(last_error, "no credentials") != NULL, "%s",
		  last_error);
	close_backend(&b);
}

/* ---- managed identity ---- */

/* The first token expires in 308 s: outside the 5-minute renewal window
 * for 8 s, then inside it, so the next request renews it; the renewed
 * one lasts an hour.  Data requests go to the fault server (Azurite
 * refuses Bearer over http), which records the Authorization sent. */
Test(azblob, msi_token_is_fetched_sent_and_renewed_before_expiry)
{
	char count[128], authf[128], auth[256], url[64], data[64];
	const char *margs[] = { "--first-ttl", "308", "--ttl", "3600",
				"--count-file", count, NULL };
	const char *fargs[] = { "--azure", "--fail", "0", "--auth-file",
				authf, NULL };
	struct backend b;
	struct scopefs_object_attr a;
	int tokens, resource_ok;
	void *m = NULL;

	snprintf(count, sizeof count, "%s/msi.count", tmpdir);
	snprintf(authf, sizeof authf, "%s/auth", tmpdir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/metadata/identity/"
		 "oauth2/token", spawn_helper("msi.py", margs));
	snprintf(data, sizeof data, "http://127.0.0.1:%d/%s",
		 spawn_helper("faulty_s3.py", fargs), DEV_ACCOUNT);
	backend_init(&b);
	set(&b, "account", DEV_ACCOUNT);
	set(&b, "container", "testcontainer");
	set(&b, "endpoint", data);
	set(&b, "auth", "msi");
	set(&b, "msi_endpoint", url);
	cr_assert_eq(configure(&b), 0, "%s", last_error);
	double start = wall_s();
	cr_assert_eq(plugin->mount_open(b.handle, "p", 0, &m), 0, "%s",
		     last_error);
	double issued_by = wall_s();
	read_counts(count, &tokens, &resource_ok);
	cr_expect_eq(tokens, 1, "token fetched at mount: %d", tokens);
	cr_expect_eq(resource_ok, 1, "resource=https://storage.azure.com/");
	read_text(authf, auth, sizeof auth);
	cr_expect_str_eq(auth, "Bearer token-1");
	cr_expect_eq(ops->head(m, "k", &a, NULL, NULL), 0, "%s", last_error);
	read_counts(count, &tokens, &resource_ok);
	if (wall_s() < start + 7)
		cr_expect_eq(tokens, 1, "renewed %.1f s after issue, 5 min "
			     "before expiry", wall_s() - start);
	while (wall_s() < issued_by + 8.2)
		usleep(100 * 1000);
	cr_expect_eq(ops->head(m, "k", &a, NULL, NULL), 0, "%s", last_error);
	read_counts(count, &tokens, &resource_ok);
	cr_expect_eq(tokens, 2, "token renewed ahead of expiry: %d", tokens);
	read_text(authf, auth, sizeof auth);
	cr_expect_str_eq(auth, "Bearer token-2");
	cr_expect_eq(ops->head(m, "k", &a, NULL, NULL), 0, "%s", last_error);
	read_counts(count, &tokens, &resource_ok);
	cr_expect_eq(tokens, 2, "no renewal while fresh: %d", tokens);
	cr_expect(!in_log("token-1") && !in_log("token-2"),
		  "a token was logged");
	plugin->mount_close(m);
	close_backend(&b);
}

/* ---- retries ---- */

static void *faulty_mount(struct backend *b, int fail, int status,
			  const char *retries, char count[128])
{
	char nfail[16], nstatus[16];
	const char *args[] = { "--azure", "--fail", nfail, "--status", nstatus,
			       "--count-file", count, NULL };
	static char url[96];

	snprintf(count, 128, "%s/faulty.count", tmpdir);
	snprintf(nfail, sizeof nfail, "%d", fail);
	snprintf(nstatus, sizeof nstatus, "%d", status);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/%s",
		 spawn_helper("faulty_s3.py", args), DEV_ACCOUNT);
	azurite_backend(b);
	set(b, "endpoint", url);
	if (retries)
		set(b, "retries", retries);
	return mount_or_die(b, "p");
}

/* Azure refuses a request whose x-ms-date is 15 minutes off its clock
 * (403 AuthenticationFailed, as for a bad key): the plugin tells the two
 * apart by the answer's Date, adopts the store's clock and signs again.
 * Here our clock is an hour ahead of the store's. */
Test(azblob, a_store_clock_an_hour_off_is_learnt_from_one_refusal)
{
	char count[128], buf[8];
	const char *args[] = { "--azure", "--fail", "0", "--skew", "-3600",
			       "--count-file", count, NULL };
	static char url[96];
	struct backend b;
	struct scopefs_object_attr a;
	int n = -1, skewed = -1;
	void *m;

	snprintf(count, sizeof count, "%s/skew.count", tmpdir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/%s",
		 spawn_helper("faulty_s3.py", args), DEV_ACCOUNT);
	azurite_backend(&b);
	set(&b, "endpoint", url);
	m = mount_or_die(&b, "p");
	cr_expect_eq(ops->head(m, "k", &a, NULL, NULL), 0, "%s", last_error);
	cr_expect_eq(ops->get(m, "k", 0, buf, sizeof buf, NULL), 5, "%s",
		     last_error);
	read_counts(count, &n, &skewed);
	cr_expect_eq(skewed, 1, "refused as skewed: %d (1: the mount check)",
		     skewed);
	cr_expect_eq(n, 2, "HEAD and GET served: %d", n);
	plugin->mount_close(m);
	close_backend(&b);
}

Test(azblob, server_busy_twice_then_success_succeeds)
{
	char count[128];
	struct backend b;
	struct scopefs_object_attr a;
	int n, unused;
	void *m = faulty_mount(&b, 2, 503, NULL, count);

	cr_expect_eq(ops->head(m, "k", &a, NULL, NULL), 0, "%s", last_error);
	cr_expect_eq(a.size, 5);
	read_counts(count, &n, &unused);
	cr_expect_eq(n, 3, "two 503s then a 200: %d requests", n);
	plugin->mount_close(m);
	close_backend(&b);
}

Test(azblob, server_errors_fail_with_eio_after_bounded_retries)
{
	char count[128], buf[8];
	struct backend b;
	struct timespec t0, t1;
	int n, unused;
	void *m = faulty_mount(&b, -1, 500, "3", count);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_expect_eq(ops->get(m, "k", 0, buf, sizeof buf, NULL), -EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	read_counts(count, &n, &unused);
	cr_expect_eq(n, 4, "retries = 3 means 4 tries, saw %d", n);
	cr_expect_lt(t1.tv_sec - t0.tv_sec, 4);
	cr_expect(strstr(last_error, "500") &&
			  strstr(last_error, "InternalError"),
		  "status and x-ms-error-code in: %s", last_error);
	plugin->mount_close(m);
	close_backend(&b);
}

Test(azblob, server_busy_that_persists_is_eagain)
{
	char count[128];
	struct backend b;
	struct scopefs_object_attr a;
	void *m = faulty_mount(&b, -1, 503, "1", count);

	cr_expect_eq(ops->put(m, "k", "x", 1, NULL, 0, &a), -EAGAIN, "%s",
		     last_error);
	cr_expect(strstr(last_error, "ServerBusy") != NULL, "%s", last_error);
	plugin->mount_close(m);
	close_backend(&b);
}

Test(azblob, auth_errors_are_not_retried)
{
	char count[128];
	struct backend b;
	struct scopefs_object_attr a;
	int n, unused;
	void *m = faulty_mount(&b, -1, 403, NULL, count);

	cr_expect_eq(ops->head(m, "k", &a, NULL, NULL), -EACCES);
	read_counts(count, &n, &unused);
	cr_expect_eq(n, 1, "a 403 is final: %d requests", n);
	plugin->mount_close(m);
	close_backend(&b);
}

/* Azure percent-encodes names XML cannot carry and says so with
 * Encoded="true" (Azurite never does: the fault server stands in). */
Test(azblob, encoded_names_in_listings_are_decoded)
{
	const char *args[] = { "--azure", "--fail", "0", "--encoded-name",
			       "p/ctl%01x%2Bplus%20sp", NULL };
	char data[96];
	struct backend b;
	struct listing l;
	void *m;

	snprintf(data, sizeof data, "http://127.0.0.1:%d/%s",
		 spawn_helper("faulty_s3.py", args), DEV_ACCOUNT);
	azurite_backend(&b);
	set(&b, "endpoint", data);
	m = mount_or_die(&b, "p");
	list_all(m, "", NULL, &l);
	cr_assert_eq(l.n, 1);
	cr_expect_str_eq(l.name[0], "ctl\x01x+plus sp");
	cr_expect_eq(l.attr[0].size, 5);
	plugin->mount_close(m);
	close_backend(&b);
}
