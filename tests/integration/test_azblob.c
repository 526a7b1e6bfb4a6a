/*
 * The azblob backend end to end, against Azurite (tests/servers/servers.sh,
 * start_azure; AZ_PORT): what a request costs on the wire (counted by
 * tests/helpers/faultproxy between the daemon and Azurite), memory while
 * streaming a large file, two daemons on one prefix, and a server that
 * dies during an upload.  The same cases as test_s3.c, on Azure's
 * primitives (List Blobs, Put Blob, Put Block + Put Block List).
 *
 * Always runs on the azblob backend, whatever SCOPEFS_TEST_BACKEND says.
 * When Azurite does not answer: fails with SCOPEFS_REQUIRE_SERVERS=1, else
 * skips.
 *
 * Environment (besides mount_fixture.h's):
 *   SCOPEFS_FAULTPROXY  the proxy (default: tests/bin/helpers/faultproxy
 *                       beside the daemon)
 *   SRV_DIR             tests/servers (node_modules/azurite, azure_tool.py),
 *                       for the test that runs and kills an Azurite of its own
 *   SCOPEFS_BIG_MIB     size of the large sequential write (default 2048)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include "mount_fixture.h"

#define M(rel) fx_mpath(0, rel)

#define OBJECT_TEST_BACKEND "azblob"
#include "object_test.h"

TestSuite(azblob, .init = use_object_backend, .fini = object_fini,
	  .timeout = 300);
/* the cases of object_cases.h */
TestSuite(objects, .init = use_object_backend, .fini = object_fini,
	  .timeout = 300);

/* Start Azurite's blob service (as tests/servers/servers.sh does) on
 * PORT with its data in DATA; wait until it answers and has the tests'
 * container. */
static void start_server(struct extra *x, int port, const char *data)
{
	char js[PATH_MAX], portbuf[16];
	snprintf(js, sizeof js, "%s/node_modules/azurite/dist/src/blob/main.js",
		 srv_dir());
	struct stat st;
	if (stat(js, &st) < 0)
		FX_FAIL("expected Azurite in %s (node_modules: "
			"tests/servers/install.sh), saw %s", srv_dir(),
			strerror(errno));
	fx_mkdirs(data, 0755);
	snprintf(portbuf, sizeof portbuf, "%d", port);
	char *argv[] = { "node", js, "--blobHost", "127.0.0.1", "--blobPort",
			 portbuf, "--location", (char *)data,
			 "--disableTelemetry", "--silent", NULL };
	x->mnt[0] = '\0';
	x->pid = fx_spawn(argv, x->log, x->log);
	FX_ASSERT(x->pid > 0, "cannot run node: %s", strerror(errno));
	guard(x);
	for (long waited = 0;; waited += 50) {
		int status;
		if (waitpid(x->pid, &status, WNOHANG) == x->pid) {
			x->pid = 0;
			fx_print_file("azurite", x->log, 8192);
			FX_FAIL("expected Azurite on port %d, saw it exit: %s",
				port, fx_status_str(status));
		}
		if (fx_port_answers(portbuf))
			break;
		FX_ASSERT(waited < 20000, "expected Azurite to answer on port "
			  "%d within 20 s", port);
		fx_sleep_ms(50);
	}
	FX_ASSERT(fx_sh(20, NULL, "python3 '%s/azure_tool.py' container %d "
			"testcontainer", srv_dir(), port) == 0,
		  "cannot create the container on Azurite at port %d", port);
}

#define OBJECT_LIST_MARK "comp=list"
/* Azurite saves its metadata every 5 s (LokiJS autosave) */
#define OBJECT_SERVER_SETTLE_MS 6000
#include "object_cases.h"
