/*
 * The s3 backend end to end, against the test S3 server
 * (tests/servers/servers.sh, start_s3; S3_PORT): what a request costs on
 * the wire (counted by tests/helpers/faultproxy between the daemon and the
 * server), memory while streaming a large file, two daemons on one prefix,
 * a server that dies during an upload, refused credentials and buckets,
 * awkward key names, attributes and symlinks across a remount, and the
 * object layer's caches under repeated listings.
 *
 * Always runs on the s3 backend, whatever SCOPEFS_TEST_BACKEND says.  When
 * the server does not answer: fails with SCOPEFS_REQUIRE_SERVERS=1, else
 * skips.
 *
 * Environment (besides mount_fixture.h's):
 *   SCOPEFS_FAULTPROXY  the proxy (default: tests/bin/helpers/faultproxy
 *                       beside the daemon)
 *   SRV_DIR             tests/servers (s3rver-4.js, node_modules), for the
 *                       test that runs and kills a server of its own
 *   SCOPEFS_BIG_MIB     size of the large sequential write (default 2048)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include "mount_fixture.h"

#define M(rel) fx_mpath(0, rel)

#define OBJECT_TEST_BACKEND "s3"
#include "object_test.h"

TestSuite(s3, .init = use_object_backend, .fini = object_fini,
	  .timeout = 300);
/* the cases of object_cases.h */
TestSuite(objects, .init = use_object_backend, .fini = object_fini,
	  .timeout = 300);

/* Start s3rver (as tests/servers/servers.sh does) on PORT with its data in
 * DATA; wait until it answers. */
static void start_server(struct extra *x, int port, const char *data)
{
	char js[PATH_MAX], portbuf[16];
	snprintf(js, sizeof js, "%s/s3rver-4.js", srv_dir());
	struct stat st;
	if (stat(js, &st) < 0 ||
	    stat(fx_fmt("%s/node_modules/@20minutes/s3rver", srv_dir()),
		 &st) < 0)
		FX_FAIL("expected the S3 server in %s (s3rver-4.js and "
			"node_modules: tests/servers/install.sh), saw %s",
			srv_dir(), strerror(errno));
	fx_mkdirs(data, 0755);
	snprintf(portbuf, sizeof portbuf, "%d", port);
	setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
	char *argv[] = { "node", js, "-d", (char *)data, "-a", "127.0.0.1",
			 "-p", portbuf, "--configure-bucket", "testbucket",
			 NULL };
	x->mnt[0] = '\0';
	x->pid = fx_spawn(argv, x->log, x->log);
	FX_ASSERT(x->pid > 0, "cannot run node: %s", strerror(errno));
	guard(x);
	for (long waited = 0;; waited += 50) {
		int status;
		if (waitpid(x->pid, &status, WNOHANG) == x->pid) {
			x->pid = 0;
			fx_print_file("s3rver", x->log, 8192);
			FX_FAIL("expected s3rver on port %d, saw it exit: %s",
				port, fx_status_str(status));
		}
		if (fx_port_answers(portbuf))
			return;
		FX_ASSERT(waited < 15000, "expected s3rver to answer on port %d "
			  "within 15 s", port);
		fx_sleep_ms(50);
	}
}

#define OBJECT_LIST_MARK "list-type="
#define OBJECT_SERVER_SETTLE_MS 0
/* s3rver 4 stores a PUT with If-None-Match: * over an existing object
 * (AWS answers 412): only the request on the wire is checked there */
#define OBJECT_SERVER_IGNORES_PUT_NEW 1
#include "object_cases.h"


/* secret_access_key_file: `scopefs check` says where the keys come from
 * and shows no secret; the config may then be world-readable, and a
 * second daemon mounts with the secret from the file. */
MOUNT_TEST(s3, check_names_the_secret_file_and_the_mount_signs_with_it,
	   .timeout = 120)
{
	need_object_backend();
	const struct fx_mount m[] = { { "a", "cluster", NULL } };
	fx_start(NULL, m, 1);
	char conf[PATH_MAX], secret[PATH_MAX];
	snprintf(conf, sizeof conf, "%s/b.conf", fx.dir);
	snprintf(secret, sizeof secret, "%s/s3-secret", fx.dir);
	FX_OK(fx_write_file(secret, "S3RVER\n", 7, 0600));
	snprintf(daemon_b.mnt, sizeof daemon_b.mnt, "%s/mnt/b", fx.dir);
	snprintf(daemon_b.log, sizeof daemon_b.log, "%s/daemon-b.log", fx.dir);
	mkdir(daemon_b.mnt, 0755);
	write_config(conf, daemon_b.mnt, fx_server_port(fx.backend), NULL);
	char *text = fx_slurp(conf, NULL);
	cr_assert(text);
	char *at = strstr(text, "secret_access_key = S3RVER");
	cr_assert(at, "no secret_access_key in %s", conf);
	FILE *f = fopen(conf, "w");
	cr_assert(f);
	fprintf(f, "%.*ssecret_access_key_file = %s%s", (int)(at - text), text,
		secret, at + strlen("secret_access_key = S3RVER"));
	fclose(f);
	free(text);
	FX_OK(chmod(conf, 0644)); /* it holds no secret now */

	char *out = NULL;
	int rc = fx_sh(30, &out, "'%s' check '%s' 2>&1", fx.bin, conf);
	FX_ASSERT(rc == 0, "scopefs check: exit %d: %s", rc, out ? out : "");
	const char *want = fx_fmt("credentials from section keys, "
				  "secret_access_key_file %s", secret);
	FX_ASSERT(out && strstr(out, want), "expected check to say \"%s\", "
		  "saw: %s", want, out ? out : "");
	/* S3RVER is the key id too, which is no secret, but check shows
	 * neither */
	FX_ASSERT(!strstr(out, "S3RVER"), "check showed a key: %s", out);
	free(out);

	start_daemon_b(&daemon_b, conf);
	FX_OK(fx_write_file(fx_fmt("%s/f", daemon_b.mnt), "signed", 6, 0644));
	expect_text(fx_mpath(0, "f"), "signed");
	stop_daemon_b(&daemon_b);
}

MOUNT_TEST(s3, wrong_credentials_and_missing_bucket_refuse_the_mount,
	   .timeout = 120)
{
	need_object_backend();
	const char *mnt = fx_fmt("%s/mnt/refused", fx.dir);
	char mp[PATH_MAX], conf[PATH_MAX];
	snprintf(mp, sizeof mp, "%s", mnt);
	snprintf(conf, sizeof conf, "%s/refused.conf", fx.dir);
	mkdir(mp, 0755);
	const char *port = fx_server_port(fx.backend);
	static const struct {
		const char *what, *from, *to, *want;
	} cases[] = {
		{ "a wrong secret key", "secret_access_key = S3RVER",
		  "secret_access_key = NOT-THE-SECRET",
		  "SignatureDoesNotMatch" },
		{ "an unknown access key id", "access_key_id = S3RVER",
		  "access_key_id = NOSUCHKEY", "InvalidAccessKeyId" },
		{ "a missing bucket", "bucket = testbucket",
		  "bucket = no-such-bucket-scopefs", "no-such-bucket-scopefs" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_config(conf, mp, port, NULL);
		char *text = fx_slurp(conf, NULL);
		cr_assert(text);
		char *at = strstr(text, cases[i].from);
		cr_assert(at, "%s not in the config", cases[i].from);
		FILE *f = fopen(conf, "w");
		cr_assert(f);
		fchmod(fileno(f), 0600);
		fprintf(f, "%.*s%s%s", (int)(at - text), text, cases[i].to,
			at + strlen(cases[i].from));
		fclose(f);
		free(text);
		expect_refused(conf, cases[i].want, cases[i].what);
	}
	/* keys in a file others can read: refused before any request */
	write_config(conf, mp, port, NULL);
	chmod(conf, 0644);
	expect_refused(conf, "chmod 600", "keys in a mode 0644 config");
	/* the kernel's writeback cache on a store other machines write */
	write_config(conf, mp, port, "writeback_cache = yes\n");
	expect_refused(conf, "writeback_cache = yes: backend default (plugin "
		       "s3) is an object store", "writeback_cache = yes");
}

/* Names that need escaping in URLs, XML or signatures. */
static const char *const awkward[] = {
	"with space", "plus+sign", "per%cent", "pct%20encoded",
	"ünïcødé ✓", "paren(1)",
	"star*", "bang!", "tilde~", "amp&er", "eq=sign", "a..b",
	"quote'single", "semi;colon", "comma,at@dollar$", "hash#frag",
	"question?mark", "brackets[x]{y}", "lt<gt>", "a b+c%d(1)*!~&=.txt",
};
#define NAWK (sizeof awkward / sizeof awkward[0])

MOUNT_TEST(s3, awkward_names_create_list_read_rename_delete, .timeout = 240)
{
	need_object_backend();
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);
	const char *dir = "d ir+%(1)&=~!*", *dir2 = "d2 ü+%20(x)";
	const char *names[NAWK], *renamed[NAWK];
	for (size_t i = 0; i < NAWK; i++) {
		names[i] = awkward[i];
		renamed[i] = strdup(fx_fmt("%s renamed+%%(2)", awkward[i]));
	}
	FX_OK(mkdir(M(dir), 0755));
	for (size_t i = 0; i < NAWK; i++)
		FX_OK(fx_write_file(M(fx_fmt("%s/%s", dir, names[i])),
				    names[i], strlen(names[i]), 0644));
	expect_listing(M(dir), names, NAWK);
	remount();
	const char *top[] = { dir };
	expect_listing(M(""), top, 1);
	expect_listing(M(dir), names, NAWK);
	for (size_t i = 0; i < NAWK; i++)
		expect_text(M(fx_fmt("%s/%s", dir, names[i])), names[i]);

	for (size_t i = 0; i < NAWK; i++)
		FX_OK(rename(M(fx_fmt("%s/%s", dir, names[i])),
			     M(fx_fmt("%s/%s", dir, renamed[i]))));
	FX_OK(rename(M(dir), M(dir2)));
	remount();
	const char *top2[] = { dir2 };
	expect_listing(M(""), top2, 1);
	expect_listing(M(dir2), renamed, NAWK);
	for (size_t i = 0; i < NAWK; i++)
		expect_text(M(fx_fmt("%s/%s", dir2, renamed[i])), names[i]);

	for (size_t i = 0; i < NAWK; i++)
		FX_OK(unlink(M(fx_fmt("%s/%s", dir2, renamed[i]))));
	FX_OK(rmdir(M(dir2)));
	remount();
	expect_listing(M(""), NULL, 0);
	for (size_t i = 0; i < NAWK; i++)
		free((char *)renamed[i]);
}

MOUNT_TEST(s3, attributes_and_symlinks_survive_a_remount, .timeout = 120)
{
	need_object_backend();
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);
	char data[5000];
	memset(data, 'a', sizeof data);
	FX_OK(fx_write_file(M("f"), data, sizeof data, 0644));
	FX_OK(fx_write_file(M("small"), "tiny", 4, 0644));
	FX_OK(chmod(M("f"), 0640));
	FX_OK(chown(M("f"), 1234, 5678));
	struct timespec ts[2] = { { 1000000000, 111 },
				  { 1234567890, 987654321 } };
	FX_OK(utimensat(AT_FDCWD, M("f"), ts, 0));
	FX_OK(chmod(M("small"), 0604));
	FX_OK(mkdir(M("d"), 0700));
	FX_OK(chown(M("d"), 42, 43));
	FX_OK(symlink("some/where else", M("l")));
	FX_OK(lchown(M("l"), 7, 8));
	remount();

	/* looked up by name first: the attributes come from the metadata */
	struct stat st;
	FX_OK(stat(M("f"), &st));
	FX_EQ_MODE(st.st_mode, S_IFREG | 0640);
	FX_EQ_INT(st.st_uid, 1234);
	FX_EQ_INT(st.st_gid, 5678);
	FX_EQ_INT(st.st_size, sizeof data);
	FX_EQ_INT(st.st_mtim.tv_sec, ts[1].tv_sec);
	FX_EQ_INT(st.st_mtim.tv_nsec, ts[1].tv_nsec);
	FX_OK(stat(M("small"), &st));
	FX_EQ_MODE(st.st_mode, S_IFREG | 0604);
	FX_OK(stat(M("d"), &st));
	FX_EQ_MODE(st.st_mode, S_IFDIR | 0700);
	FX_EQ_INT(st.st_uid, 42);
	FX_EQ_INT(st.st_gid, 43);
	FX_OK(lstat(M("l"), &st));
	FX_ASSERT(S_ISLNK(st.st_mode), "lstat l after a remount: expected a "
		  "symlink, saw mode 0%o", st.st_mode);
	FX_EQ_INT(st.st_uid, 7);
	FX_EQ_INT(st.st_gid, 8);
	char buf[PATH_MAX];
	ssize_t n = FX_OK(readlink(M("l"), buf, sizeof buf - 1));
	buf[n] = '\0';
	FX_EQ_STR(buf, "some/where else");

	/* a cold listing shows the link as a link */
	remount();
	DIR *dd = opendir(M(""));
	FX_ASSERT(dd, "opendir: %s", fx_errname(errno));
	struct dirent *e;
	int seen = 0;
	while ((e = readdir(dd))) {
		if (strcmp(e->d_name, "l"))
			continue;
		seen = 1;
		FX_ASSERT(e->d_type == DT_LNK || e->d_type == DT_UNKNOWN,
			  "readdir after a remount: expected l as DT_LNK, saw "
			  "d_type %d", e->d_type);
	}
	closedir(dd);
	FX_ASSERT(seen, "readdir after a remount: expected l, saw no l");
	FX_OK(lstat(M("l"), &st));
	FX_ASSERT(S_ISLNK(st.st_mode), "lstat l after a cold listing: expected "
		  "a symlink, saw mode 0%o", st.st_mode);
	n = FX_OK(readlink(M("l"), buf, sizeof buf - 1));
	buf[n] = '\0';
	FX_EQ_STR(buf, "some/where else");
}

MOUNT_TEST(s3, attributes_the_mount_set_survive_its_own_listings,
	   .timeout = 60)
{
	need_object_backend();
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);
	/* larger than 1 KiB: listed without a HEAD */
	char data[5000];
	memset(data, 'a', sizeof data);
	FX_OK(mkdir(M("d"), 0755));
	FX_OK(fx_write_file(M("d/created-0600"), data, sizeof data, 0600));
	FX_OK(fx_write_file(M("d/chmod-0640"), data, sizeof data, 0644));
	FX_OK(chmod(M("d/chmod-0640"), 0640));
	FX_OK(fx_write_file(M("d/chown"), data, sizeof data, 0644));
	FX_OK(chown(M("d/chown"), 1234, 5678));
	FX_OK(fx_write_file(M("d/renamed-0600"), data, sizeof data, 0600));
	FX_OK(rename(M("d/renamed-0600"), M("d/renamed")));
	/* this mount knows every attribute; listing the directory, at once
	 * and after the cache_ttl, must not replace them with defaults */
	for (int round = 0; round < 3; round++) {
		char *out = NULL;
		fx_sh(30, &out, "ls -l '%s' >/dev/null", M("d"));
		free(out);
		struct stat st;
		FX_OK(stat(M("d/created-0600"), &st));
		FX_ASSERT((st.st_mode & 07777) == 0600, "round %d: created "
			  "0600, listed, stat: expected 0600, saw 0%o", round,
			  st.st_mode & 07777);
		FX_OK(stat(M("d/chmod-0640"), &st));
		FX_ASSERT((st.st_mode & 07777) == 0640, "round %d: chmod 0640, "
			  "listed, stat: expected 0640, saw 0%o", round,
			  st.st_mode & 07777);
		FX_OK(stat(M("d/chown"), &st));
		FX_ASSERT(st.st_uid == 1234 && st.st_gid == 5678, "round %d: "
			  "chown 1234:5678, listed, stat: expected 1234:5678, "
			  "saw %d:%d", round, st.st_uid, st.st_gid);
		FX_OK(stat(M("d/renamed"), &st));
		FX_ASSERT((st.st_mode & 07777) == 0600, "round %d: created "
			  "0600, renamed, listed, stat: expected 0600, saw 0%o",
			  round, st.st_mode & 07777);
		fx_sleep_ms(1200); /* past cache_ttl = 1 */
	}
}

MOUNT_TEST(s3, repeated_listings_keep_directories_visible, .timeout = 60)
{
	need_object_backend();
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);
	FX_OK(mkdir(M("p"), 0755));
	FX_OK(mkdir(M("p/c"), 0755));
	FX_OK(mkdir(M("p/c/sub"), 0755));
	FX_OK(fx_write_file(M("p/file"), "x", 1, 0644));
	/* the parent listed again and again, more often than cache_ttl = 1,
	 * for longer than it; the daemon is asked about p/c in between
	 * (rmdir goes to the daemon whatever the kernel has cached) */
	double t0 = now_s();
	for (int i = 0; i < 12; i++) {
		const char *want[] = { "c", "file" };
		expect_listing(M("p"), want, 2);
		for (int k = 0; k < 10; k++) {
			fx_sleep_ms(30);
			errno = 0;
			int r = rmdir(M("p/c"));
			FX_ASSERT(r == -1 && errno == ENOTEMPTY, "listing p every "
				  "300 ms, %.2f s in: rmdir p/c: expected -1 "
				  "ENOTEMPTY, saw %d %s", now_s() - t0, r,
				  r ? fx_errname(errno) : "");
		}
	}
	struct stat st;
	FX_OK(stat(M("p/c"), &st));
	FX_ASSERT(S_ISDIR(st.st_mode), "expected p/c a directory, saw mode 0%o",
		  st.st_mode);
	FX_ERRNO(rmdir(M("p/c")), ENOTEMPTY);
	FX_ERRNO(open(M("p/c"), O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST);
	const char *want[] = { "c", "file" };
	expect_listing(M("p"), want, 2);
}
