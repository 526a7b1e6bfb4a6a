/*
 * The gcs backend end to end, against the Cloud Storage emulator of
 * firebase-tools run by tests/servers/gcs-emulator.js (servers.sh,
 * start_gcs; GCS_PORT): the shared cases of object_cases.h (request counts
 * on the wire through tests/helpers/countproxy, memory while streaming a
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
 *   SCOPEFS_COUNTPROXY  the proxy (default: tests/bin/helpers/countproxy
 *                       beside the daemon)
 *   SRV_DIR             tests/servers (gcs-emulator.js, gcs_token.js,
 *                       node_modules)
 *   SCOPEFS_BIG_MIB     size of the large sequential write (default 2048)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
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
