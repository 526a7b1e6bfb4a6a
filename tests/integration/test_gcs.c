/*
 * The gcs backend end to end, against the Cloud Storage emulator of
 * firebase-tools run by tests/servers/gcs-emulator.js (servers.sh,
 * start_gcs; GCS_PORT): the shared cases of object_cases.h (request counts
 * on the wire through tests/helpers/faultproxy, memory while streaming a
 * large file, two daemons on one prefix, a server that dies during an
 * upload), and what is GCS's own: the compose tree of a streamed upload,
 * and the two token sources, checked by tests/servers/gcs_token.js (a
 * token URI that verifies the JWT's RS256 signature with the public key,
 * a metadata server, and a proxy that checks every storage request
 * carries a live token), since the emulator takes any token or none.
 *
 * Always runs on the gcs backend, whatever SCOPEFS_TEST_BACKEND says.
 * When the emulator does not answer: fails with SCOPEFS_REQUIRE_SERVERS=1,
 * else skips.
 *
 * Environment (besides mount_fixture.h's):
 *   SCOPEFS_FAULTPROXY  the proxy (default: tests/bin/helpers/faultproxy
 *                       beside the daemon)
 *   SRV_DIR             tests/servers (gcs-emulator.js, gcs_token.js,
 *                       node_modules)
 *   SCOPEFS_BIG_MIB     size of the large sequential write (default 2048)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include "mount_fixture.h"

#define M(rel) fx_mpath(0, rel)

#define OBJECT_TEST_BACKEND "gcs"
#include "object_test.h"

TestSuite(gcs, .init = use_object_backend, .fini = object_fini,
	  .timeout = 300);
/* the cases of object_cases.h */
TestSuite(objects, .init = use_object_backend, .fini = object_fini,
	  .timeout = 300);

/* Start the emulator (as tests/servers/servers.sh does) on PORT with its
 * data in DATA; wait until it says it listens. */
static void start_server(struct extra *x, int port, const char *data)
{
	char js[PATH_MAX], portbuf[16];
	snprintf(js, sizeof js, "%s/gcs-emulator.js", srv_dir());
	struct stat st;
	if (stat(js, &st) < 0 ||
	    stat(fx_fmt("%s/node_modules/firebase-tools", srv_dir()), &st) < 0)
		FX_FAIL("expected the Cloud Storage emulator in %s "
			"(gcs-emulator.js and node_modules: "
			"tests/servers/install.sh), saw %s", srv_dir(),
			strerror(errno));
	fx_mkdirs(data, 0755);
	snprintf(portbuf, sizeof portbuf, "%d", port);
	char *argv[] = { "node", js, portbuf, "127.0.0.1", (char *)data, NULL };
	x->mnt[0] = '\0';
	x->pid = fx_spawn(argv, x->log, x->log);
	FX_ASSERT(x->pid > 0, "cannot run node: %s", strerror(errno));
	guard(x);
	for (long waited = 0;; waited += 50) {
		int status;
		if (waitpid(x->pid, &status, WNOHANG) == x->pid) {
			x->pid = 0;
			fx_print_file("gcs emulator", x->log, 8192);
			FX_FAIL("expected the emulator on port %d, saw it exit: "
				"%s", port, fx_status_str(status));
		}
		if (fx_port_answers(portbuf))
			return;
		FX_ASSERT(waited < 20000, "expected the emulator to answer on "
			  "port %d within 20 s", port);
		fx_sleep_ms(50);
	}
}

/* objects.list is GET .../b/BUCKET/o?...; an object's URL has /o/NAME */
#define OBJECT_LIST_MARK "/o?"
#define OBJECT_SERVER_SETTLE_MS 0
/* the conditional create as the JSON API says it, in the upload's query;
 * gcs-emulator.js checks it (the emulator alone ignores it) */
#define OBJECT_PUT_NEW_MARK "ifGenerationMatch=0"
#include "object_cases.h"


/* ---- GCS's own ----------------------------------------------------------- */

/* A config at PATH: one mount MNT of the fixture's prefix on bucket
 * testbucket at 127.0.0.1:PORT, with BACKEND_KEYS (auth, credentials,
 * ...) in place of the fixture's auth = none. */
static void gcs_config(const char *path, const char *mnt, const char *port,
		       const char *backend_keys)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "fopen %s: %s", path, strerror(errno));
	fchmod(fileno(f), 0600);
	const char *base = strrchr(fx.dir, '/');
	fprintf(f, "[scopefs]\nlog_level = debug\ncache_dir = %s.cache\n\n"
		"[identity]\ncloud_id = cld_1\nuser_id = usr_1\nworkload = job\n"
		"workload_id = job_1\n\n[backend default]\nplugin = gcs\n"
		"endpoint = http://127.0.0.1:%s\nbucket = testbucket\n"
		"prefix = %s\n%s\n[mount %s]\nbackend = default\n"
		"scope = cluster\n", path, port, base ? base + 1 : fx.dir,
		backend_keys, mnt);
	fclose(f);
}

static struct extra token_srv;
static char token_counts[PATH_MAX];

/* A fresh RSA key, DIR/key.pem, and its public half DIR/pub.pem (for the
 * token server, started before the key file can name its URI). */
static void make_key(void)
{
	FX_ASSERT(fx_sh(60, NULL, "cd '%s' && openssl genpkey -algorithm RSA "
			"-pkeyopt rsa_keygen_bits:2048 -out key.pem 2>/dev/null "
			"&& openssl pkey -in key.pem -pubout -out pub.pem",
			fx.dir) == 0, "cannot make an RSA key with openssl");
}

/* The service-account key file DIR/sa.json (mode 0600) of that key,
 * naming TOKEN_URI. */
static void make_key_file(const char *token_uri)
{
	FX_ASSERT(fx_sh(60, NULL, "cd '%s' && python3 -c 'import json,sys; "
			"print(json.dumps({\"type\": \"service_account\", "
			"\"project_id\": \"demo\", \"private_key_id\": \"k1\", "
			"\"private_key\": open(\"key.pem\").read(), "
			"\"client_email\": "
			"\"scopefs-test@demo.iam.gserviceaccount.com\", "
			"\"token_uri\": sys.argv[1]}))' '%s' > sa.json && "
			"chmod 600 sa.json && rm key.pem", fx.dir, token_uri) == 0,
		  "cannot write the key file with python3");
}

/* Start gcs_token.js in front of the emulator with EXTRA arguments
 * ("--deny", "--first-ttl 302"); returns its port (a static string). */
static const char *start_token_server(const char *extra)
{
	static char port[16];
	char out[PATH_MAX];
	snprintf(out, sizeof out, "%s/token.out", fx.dir);
	snprintf(token_counts, sizeof token_counts, "%s/token.counts", fx.dir);
	snprintf(token_srv.log, sizeof token_srv.log, "%s/token.log", fx.dir);
	char *argv[] = { "sh", "-c",
			 (char *)fx_fmt("exec node '%s/gcs_token.js' --public-key "
					"'%s/pub.pem' --upstream %s --count-file "
					"'%s' %s > '%s'", srv_dir(), fx.dir,
					fx_server_port(fx.backend), token_counts,
					extra ? extra : "", out),
			 NULL };
	token_srv.mnt[0] = '\0';
	token_srv.pid = fx_spawn(argv, token_srv.log, token_srv.log);
	FX_ASSERT(token_srv.pid > 0, "cannot run node: %s", strerror(errno));
	guard(&token_srv);
	for (int i = 0; i < 500; i++) {
		char buf[64] = "";
		if (fx_read_file(out, buf, sizeof buf) > 0 && strchr(buf, '\n')) {
			snprintf(port, sizeof port, "%d", atoi(buf));
			if (fx_port_answers(port))
				return port;
		}
		fx_sleep_ms(10);
	}
	fx_print_file("token server", token_srv.log, 4096);
	FX_FAIL("expected gcs_token.js to print its port, saw nothing");
	return NULL;
}

/* The token server's count NAME, from its count file. */
static long token_count(const char *name)
{
	char buf[512] = "", key[64];
	FX_ASSERT(fx_read_file(token_counts, buf, sizeof buf) > 0,
		  "read %s: %s", token_counts, fx_errname(errno));
	snprintf(key, sizeof key, "%s=", name);
	const char *p = strstr(buf, key);
	FX_ASSERT(p, "expected %s in the token server's counts, saw %s", name,
		  buf);
	return strtol(p + strlen(key), NULL, 10);
}

static void gcs_fini(void)
{
	stop_extra(&token_srv, SIGTERM);
	object_fini();
}

/* The mount the daemon_b machinery starts on CONF: MNT ready, log LOG. */
static void start_on(const char *conf)
{
	snprintf(daemon_b.mnt, sizeof daemon_b.mnt, "%s/mnt/sa", fx.dir);
	snprintf(daemon_b.log, sizeof daemon_b.log, "%s/daemon-sa.log", fx.dir);
	mkdir(daemon_b.mnt, 0755);
	start_daemon_b(&daemon_b, conf);
}

#define SA(rel) fx_fmt("%s/%s", daemon_b.mnt, rel)

Test(gcs, service_account_jwt_is_verified_and_its_token_renewed,
     .init = use_object_backend, .fini = gcs_fini, .timeout = 120)
{
	need_object_backend();
	fx_mkdirs(fx_fmt("%s/mnt", fx.dir), 0755);
	/* the first token lives 302 s: inside the 300 s renewal margin, so
	 * the plugin renews it at its first request 5 s after fetching it */
	make_key();
	const char *tport = start_token_server("--first-ttl 302");
	char uri[128], conf[PATH_MAX], keys[PATH_MAX + 64];
	snprintf(uri, sizeof uri, "http://127.0.0.1:%s/token", tport);
	make_key_file(uri);
	snprintf(conf, sizeof conf, "%s/sa.conf", fx.dir);
	snprintf(keys, sizeof keys, "auth = service_account\ncredentials = "
		 "%s/sa.json\n", fx.dir);
	gcs_config(conf, fx_fmt("%s/mnt/sa", fx.dir), tport, keys);
	start_on(conf);
	FX_OK(fx_write_file(SA("f"), "through the proxy", 17, 0644));
	expect_text(SA("f"), "through the proxy");
	FX_EQ_INT(token_count("jwt_ok"), 1);
	fx_sleep_ms(5500);
	FX_OK(fx_write_file(SA("g"), "after the renewal", 17, 0644));
	expect_text(SA("g"), "after the renewal");
	long ok = token_count("jwt_ok"), bad = token_count("jwt_bad");
	long authd = token_count("authorized");
	long unauth = token_count("unauthorized");
	stop_daemon_b(&daemon_b);
	fprintf(stderr, "gcs: service account: %ld JWTs accepted, %ld refused; "
		"%ld storage requests with a live token, %ld without\n", ok,
		bad, authd, unauth);
	FX_ASSERT(ok == 2 && bad == 0, "expected the first JWT and one renewal, "
		  "both verified with the public key, saw %ld accepted and %ld "
		  "refused", ok, bad);
	FX_ASSERT(authd >= 4 && unauth == 0, "expected every storage request "
		  "to carry a live token, saw %ld with and %ld without", authd,
		  unauth);
	/* the tokens and the key never reach the log, even at debug */
	char *log = fx_slurp(daemon_b.log, NULL);
	cr_assert(log);
	FX_ASSERT(!strstr(log, "gcs-token-") && !strstr(log, "PRIVATE KEY"),
		  "expected no token or key in the daemon's log, saw:\n%s", log);
	free(log);
}

Test(gcs, metadata_server_token_is_used, .init = use_object_backend,
     .fini = gcs_fini, .timeout = 60)
{
	need_object_backend();
	fx_mkdirs(fx_fmt("%s/mnt", fx.dir), 0755);
	make_key(); /* not used: the metadata server takes no JWT */
	const char *tport = start_token_server(NULL);
	char conf[PATH_MAX], keys[256];
	snprintf(conf, sizeof conf, "%s/md.conf", fx.dir);
	snprintf(keys, sizeof keys, "auth = metadata\nmetadata_endpoint = "
		 "http://127.0.0.1:%s\n", tport);
	gcs_config(conf, fx_fmt("%s/mnt/sa", fx.dir), tport, keys);
	start_on(conf);
	FX_OK(fx_write_file(SA("f"), "metadata token", 14, 0644));
	expect_text(SA("f"), "metadata token");
	stop_daemon_b(&daemon_b);
	FX_EQ_INT(token_count("metadata"), 1);
	FX_EQ_INT(token_count("unauthorized"), 0);
}

Test(gcs, bad_credentials_refuse_the_mount, .init = use_object_backend,
     .fini = gcs_fini, .timeout = 120)
{
	need_object_backend();
	fx_mkdirs(fx_fmt("%s/mnt/refused", fx.dir), 0755);
	make_key();
	const char *tport = start_token_server("--deny");
	char uri[128], conf[PATH_MAX], keys[PATH_MAX + 64];
	snprintf(uri, sizeof uri, "http://127.0.0.1:%s/token", tport);
	make_key_file(uri);
	snprintf(conf, sizeof conf, "%s/refused.conf", fx.dir);
	snprintf(keys, sizeof keys, "auth = service_account\ncredentials = "
		 "%s/sa.json\n", fx.dir);
	gcs_config(conf, fx_fmt("%s/mnt/refused", fx.dir), tport, keys);
	/* the token URI says no (the signature was fine: --deny) */
	expect_refused(conf, "HTTP 400", "a service account the token URI "
		       "refuses");
	FX_EQ_INT(token_count("jwt_bad"), 1);
	/* a key file others can read: refused before any request */
	FX_OK(chmod(fx_fmt("%s/sa.json", fx.dir), 0644));
	expect_refused(conf, "chmod 600", "a key file of mode 0644");
	FX_EQ_INT(token_count("jwt_bad"), 1);
	/* no token at all: the proxy (a store that checks) says 401 */
	gcs_config(conf, fx_fmt("%s/mnt/refused", fx.dir), tport,
		   "auth = none\n");
	expect_refused(conf, "access denied", "no credentials on a store "
		       "that wants them");
	/* a metadata server that is not there */
	gcs_config(conf, fx_fmt("%s/mnt/refused", fx.dir), tport,
		   "auth = metadata\nmetadata_endpoint = http://127.0.0.1:9\n");
	expect_refused(conf, "metadata", "no metadata server");
}

MOUNT_TEST(gcs, many_parts_compose_as_a_tree_and_leave_no_part_behind,
	   .timeout = 240)
{
	need_object_backend();
	const char *port = start_proxy(fx_server_port(fx.backend));
	setenv(fx.backend->port_env, port, 1);
	fx.backend_keys = "part_size = 1M\n";
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);
	/* 70 parts: 3 composes of <= 32 into intermediates, then one of
	 * those 3 into the file */
	const size_t size = (70u << 20) - 12345;
	long mark = reqlog_mark();
	put_pattern(M("big"), size, 7);
	struct reqs r = reqs_since(mark);
	int composes = 0, deletes = 0, leftovers;
	for (const char *p = r.lines; (p = strstr(p, "/compose")); p++)
		composes++;
	for (const char *p = r.lines; (p = strstr(p, "DELETE ")); p++)
		deletes++;
	fprintf(stderr, "gcs: %zu bytes in 1 MiB parts: %d requests, %d "
		"composes, %d deletes\n", size, r.total, composes, deletes);
	FX_ASSERT(composes == 4, "expected 4 composes (3 intermediates and "
		  "the file), saw %d:\n%s", composes, r.lines);
	FX_ASSERT(deletes == 73, "expected the 70 parts and 3 intermediates "
		  "deleted, saw %d DELETEs", deletes);
	free(r.lines);
	expect_pattern(M("big"), size, 7);
	const char *one[] = { "big" };
	expect_listing(M(""), one, 1);
	/* nothing left under the parts' directory of the base prefix */
	char *out = NULL;
	const char *base = strrchr(fx.dir, '/');
	fx_sh(20, &out, "curl -s 'http://127.0.0.1:%s/storage/v1/b/testbucket/"
	      "o?prefix=%s/.scopefs-parts/' | python3 -c 'import json,sys; "
	      "print(len(json.load(sys.stdin).get(\"items\", [])))'", port,
	      base ? base + 1 : fx.dir);
	leftovers = out ? atoi(out) : -1;
	free(out);
	FX_ASSERT(leftovers == 0, "expected no part objects left, saw %d",
		  leftovers);
}
