/*
 * object_cases: the end-to-end cases every object-store backend must pass,
 * in suite "objects", shared by test_s3.c and test_azblob.c: request counts
 * on the wire (through tests/helpers/faultproxy), bounded memory on a large
 * write, two daemons on one prefix, the server killed mid-write.  Include
 * after object_test.h and after defining, in the including file:
 *   start_server(x, port, data)   a server of the test's own on PORT
 *   OBJECT_LIST_MARK              what a listing's query carries
 *   OBJECT_SERVER_SETTLE_MS       how long the server needs to keep a
 *                                 write across a SIGKILL (0 for most)
 * and optionally
 *   OBJECT_PUT_NEW_MARK           what the request log shows of a
 *                                 conditional create (default the
 *                                 If-None-Match header faultproxy notes)
 *   OBJECT_SERVER_IGNORES_PUT_NEW 1 when the test server stores a
 *                                 conditional create over an existing
 *                                 object (then only the wire is checked)
 * and TestSuite(objects, .init = use_object_backend, .fini = object_fini).
 */
#ifndef SCOPEFS_TEST_OBJECT_CASES_H
#define SCOPEFS_TEST_OBJECT_CASES_H

#include <dirent.h>
#include <sys/statfs.h>

#ifndef OBJECT_PUT_NEW_MARK
#define OBJECT_PUT_NEW_MARK "[If-None-Match: *]"
#endif
#ifndef OBJECT_SERVER_IGNORES_PUT_NEW
#define OBJECT_SERVER_IGNORES_PUT_NEW 0
#endif

/* ---- request counting --------------------------------------------------- */

/* start_proxy: object_test.h */

struct reqs {
	int list, head, get, put, post, del, other, total;
	char *lines; /* malloc'd, for messages */
};

static long reqlog_mark(void)
{
	struct stat st;
	return stat(reqlog, &st) == 0 ? (long)st.st_size : 0;
}

/* The requests logged since MARK, by kind: LIST is a listing (a GET
 * whose query has OBJECT_LIST_MARK), GET an object read; PUT counts an
 * object written whole or a part of one. */
static struct reqs reqs_since(long mark)
{
	struct reqs r = { 0 };
	size_t len = 0;
	char *all = fx_slurp(reqlog, &len);
	cr_assert(all, "read %s", reqlog);
	char *s = (size_t)mark <= len ? all + mark : all + len;
	r.lines = strdup(s);
	for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
		r.total++;
		if (!strncmp(line, "GET ", 4))
			(*(strstr(line, OBJECT_LIST_MARK) ? &r.list : &r.get))++;
		else if (!strncmp(line, "HEAD ", 5))
			r.head++;
		else if (!strncmp(line, "PUT ", 4))
			r.put++;
		else if (!strncmp(line, "POST ", 5))
			r.post++;
		else if (!strncmp(line, "DELETE ", 7))
			r.del++;
		else
			r.other++;
	}
	free(all);
	return r;
}

/* ---- tests -------------------------------------------------------------- */

MOUNT_TEST(objects, cold_ls_l_costs_one_list_per_thousand_entries_and_no_head,
	   .timeout = 240)
{
	enum { N = 300, SIZE = 4096 };
	need_object_backend();
	const char *port = start_proxy(fx_server_port(fx.backend));
	setenv(fx.backend->port_env, port, 1);
	const struct fx_mount m[] = {
		{ "cluster_storage", "cluster", "cache_ttl = 30\n" },
	};
	fx_start(NULL, m, 1);

	FX_OK(mkdir(M("many"), 0755));
	char data[SIZE];
	memset(data, 'x', sizeof data);
	for (int i = 0; i < N; i++)
		FX_OK(fx_write_file(M(fx_fmt("many/file-%04d", i)), data,
				    sizeof data, 0644));
	remount();

	/* the directory itself is looked up first: its own HEADs and probe
	 * are not part of listing it */
	struct stat st;
	FX_OK(stat(M("many"), &st));
	long mark = reqlog_mark();
	char *out = NULL;
	int rc = fx_sh(60, &out, "ls -l '%s' | wc -l", M("many"));
	FX_ASSERT(rc == 0 && atoi(out) == N + 1, "ls -l %s: expected %d "
		  "lines, saw rc %d: %s", M("many"), N + 1, rc, out);
	free(out);
	struct reqs r = reqs_since(mark);
	int lists = (N + 999) / 1000;
	fprintf(stderr, OBJECT_TEST_BACKEND ": cold ls -l of %d files of %d bytes: %d requests "
		"(%d LIST, %d HEAD, %d GET)\n", N, SIZE, r.total, r.list,
		r.head, r.get);
	FX_ASSERT(r.list == lists && r.head == 0 && r.total == lists,
		  "cold ls -l of %d files: expected %d LIST and nothing else, "
		  "saw %d LIST, %d HEAD, %d GET, %d other requests:\n%s", N,
		  lists, r.list, r.head, r.get, r.total - r.list - r.head - r.get,
		  r.lines);
	free(r.lines);

	/* a new small file in the directory just listed: one PUT */
	mark = reqlog_mark();
	int fd = FX_OK(open(M("many/new-file"), O_WRONLY | O_CREAT | O_TRUNC,
			    0644));
	FX_ASSERT(write_all(fd, data, sizeof data) == 0, "write: %s",
		  fx_errname(errno));
	FX_OK(close(fd));
	r = reqs_since(mark);
	fprintf(stderr, OBJECT_TEST_BACKEND ": create+write+close of a %d-byte file: %d "
		"requests (%d PUT)\n", SIZE, r.total, r.put + r.post);
	FX_ASSERT(r.put + r.post == 1 && r.total == 1, "create, write %d "
		  "bytes, close in a listed directory: expected exactly one "
		  "PUT, saw %d requests:\n%s", SIZE, r.total, r.lines);
	free(r.lines);

	/* O_EXCL (cp, tar, lock files): the store checks the name at
	 * open with a conditional create, then close stores the bytes */
	mark = reqlog_mark();
	fd = FX_OK(open(M("many/excl-file"), O_WRONLY | O_CREAT | O_EXCL,
			0644));
	r = reqs_since(mark);
	FX_ASSERT(r.put + r.post == 1 && r.total == 1 &&
			  strstr(r.lines, OBJECT_PUT_NEW_MARK),
		  "open(O_CREAT|O_EXCL) of a new name: expected one "
		  "conditional create (" OBJECT_PUT_NEW_MARK "), saw %d "
		  "requests:\n%s", r.total, r.lines);
	free(r.lines);
	FX_ASSERT(write_all(fd, data, sizeof data) == 0, "write: %s",
		  fx_errname(errno));
	FX_OK(close(fd));
	r = reqs_since(mark);
	fprintf(stderr, OBJECT_TEST_BACKEND ": O_EXCL create+write+close: "
		"%d requests\n", r.total);
	FX_ASSERT(r.put + r.post == 2 && r.total == 2, "O_EXCL create, "
		  "write, close: expected the conditional create and one "
		  "PUT of the bytes, saw %d requests:\n%s", r.total, r.lines);
	free(r.lines);
	struct stat est;
	FX_OK(stat(M("many/excl-file"), &est));
	FX_ASSERT(est.st_size == SIZE, "expected the O_EXCL file to hold %d "
		  "bytes, saw %lld", SIZE, (long long)est.st_size);

	/* a lock file: created, closed unwritten: nothing after the create */
	mark = reqlog_mark();
	FX_OK(close(FX_OK(open(M("many/lock"), O_WRONLY | O_CREAT | O_EXCL,
			       0644))));
	r = reqs_since(mark);
	FX_ASSERT(r.total == 1 && strstr(r.lines, OBJECT_PUT_NEW_MARK),
		  "open(O_EXCL)+close: expected only the conditional create, "
		  "saw %d requests:\n%s", r.total, r.lines);
	free(r.lines);
}

MOUNT_TEST(objects, large_sequential_write_keeps_daemon_memory_bounded,
	   .timeout = 600)
{
	need_object_backend();
	if (getenv("ASAN_OPTIONS"))
		FX_SKIP("under AddressSanitizer the daemon's RSS says nothing "
			"about its buffers (shadow memory, quarantine)");
	const char *mib_env = getenv("SCOPEFS_BIG_MIB");
	size_t mib = mib_env && *mib_env ? strtoul(mib_env, NULL, 10) : 2048;
	const size_t chunk = 1 << 20, size = mib << 20;
	/* 64 MiB for the daemon itself, plus the object layer's memory
	 * budget, by default (upload_parallelism + 4) x part_size =
	 * (16 + 4) x 8 MiB (README, the s3 plugin's tunables) */
	const long limit_mib = 64 + (16 + 4) * 8;
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);
	long base = fx_serving_kib("VmHWM");

	uint64_t *b = malloc(chunk);
	cr_assert(b);
	double t0 = now_s();
	int fd = FX_OK(open(M("big"), O_WRONLY | O_CREAT | O_TRUNC, 0644));
	int werr = 0;
	size_t off = 0;
	for (; off < size && !werr; off += chunk) {
		fill_block(b, chunk / 8, 42, off);
		if (write_all(fd, b, chunk) < 0)
			werr = errno;
	}
	int cerr = close(fd) < 0 ? errno : 0;
	double tw = now_s() - t0;
	long hwm_write = fx_serving_kib("VmHWM");
	free(b);

	t0 = now_s();
	const char *bad = werr || cerr ? NULL : check_pattern(M("big"), size, 42);
	double tr = now_s() - t0;
	long hwm_read = fx_serving_kib("VmHWM");
	/* gigabytes stay out of the server's data directory, pass or fail */
	(void)unlink(M("big"));
	FX_ASSERT(!werr, "write at %zu of %zu: %s", off - chunk, size,
		  fx_errname(werr));
	FX_ASSERT(!cerr, "close after writing %zu bytes: %s", size,
		  fx_errname(cerr));
	FX_ASSERT(!bad, "%s", bad);
	fprintf(stderr, OBJECT_TEST_BACKEND ": %zu MiB sequential: write+close %.1f s (%.0f "
		"MiB/s), read back and compared %.1f s (%.0f MiB/s); daemon "
		"VmHWM %ld MiB at start, %ld MiB after the write, %ld MiB "
		"after the read\n", mib, tw, mib / tw, tr, mib / tr,
		base / 1024, hwm_write / 1024, hwm_read / 1024);
	FX_ASSERT(hwm_write > 0 && hwm_write / 1024 < limit_mib,
		  "writing %zu MiB: expected the daemon's peak RSS below %ld "
		  "MiB (64 MiB + the default memory_budget), saw %ld MiB", mib,
		  limit_mib, hwm_write / 1024);
	FX_ASSERT(hwm_read / 1024 < limit_mib, "reading %zu MiB back: "
		  "expected the daemon's peak RSS below %ld MiB, saw %ld MiB",
		  mib, limit_mib, hwm_read / 1024);
}

MOUNT_TEST(objects, two_daemons_on_one_prefix_see_each_others_writes,
	   .timeout = 120)
{
	need_object_backend();
	const struct fx_mount m[] = { { "a", "cluster", NULL } };
	fx_start(NULL, m, 1);
#define A(rel) fx_mpath(0, rel)
#define MB(rel) fx_fmt("%s/%s", daemon_b.mnt, rel)

	/* cache_ttl = 0 on B: A's close is visible at B's next open */
	start_second_daemon("cache_ttl = 0\n");
	FX_OK(fx_write_file(A("f"), "version-1", 9, 0644));
	expect_text(MB("f"), "version-1");
	FX_OK(fx_write_file(A("f"), "version-two, longer", 19, 0644));
	expect_text(MB("f"), "version-two, longer");
	FX_OK(fx_write_file(A("f"), "v3", 2, 0644));
	expect_text(MB("f"), "v3");
	/* and the other way round, a new name included */
	FX_OK(fx_write_file(MB("g"), "from b", 6, 0644));
	fx_sleep_ms(1100); /* A's cache_ttl is 1: a lookup may be cached */
	expect_text(A("g"), "from b");
	stop_daemon_b(&daemon_b);

	/* cache_ttl = 30 on B: an open still asks the store, so the first
	 * open after A's close sees A's content, however long the TTL. */
	start_second_daemon("cache_ttl = 30\n");
	expect_text(MB("f"), "v3");
	FX_OK(fx_write_file(A("f"), "version-4 is here", 17, 0644));
	expect_text(MB("f"), "version-4 is here");
	FX_OK(fx_write_file(A("f"), "5", 1, 0644));
	expect_text(MB("f"), "5");
	/* a lock file made by A after B was told the name is free: B's
	 * O_EXCL must still fail, by the store's conditional create */
	struct stat lst;
	FX_ERRNO(lstat(MB("lock"), &lst), ENOENT); /* B caches: absent */
	int lfd = FX_OK(open(A("lock"), O_WRONLY | O_CREAT | O_EXCL, 0644));
	FX_ASSERT(write_all(lfd, "A", 1) == 0, "write: %s", fx_errname(errno));
	FX_OK(close(lfd));
	lfd = open(MB("lock"), O_WRONLY | O_CREAT | O_EXCL, 0644);
	int lerr = errno;
	if (lfd >= 0)
		close(lfd);
	fprintf(stderr, OBJECT_TEST_BACKEND ": B's O_EXCL of A's lock file: "
		"%s\n", lfd >= 0 ? "created" : fx_errname(lerr));
	if (!OBJECT_SERVER_IGNORES_PUT_NEW) {
		FX_ASSERT(lfd < 0 && lerr == EEXIST, "B open(O_EXCL) of the "
			  "lock file A had made: expected EEXIST from the "
			  "store, saw %s", lfd >= 0 ? "it created" :
			  fx_errname(lerr));
		/* and B's view of the name was corrected at once */
		FX_OK(lstat(MB("lock"), &lst));
		expect_text(MB("lock"), "A");
	}
	stop_daemon_b(&daemon_b);

	/* cache_ttl = 2 on B: names and attributes are at most 2 s older
	 * than what the store said, the kernel's cache and the daemon's
	 * together.  B lists the directory at t0; A then adds a name and
	 * grows f.  A lookup on B before t0 + 2 may be answered from the
	 * listing, but the kernel must not keep that answer past t0 + 2. */
	start_second_daemon("cache_ttl = 2\n");
	const double ttl = 2;
	struct stat st;
	/* over 1 KiB: a listing gives the attributes of such a file (one
	 * smaller could be a symlink, which only a HEAD tells) */
	static char big[3000];
	memset(big, 'x', sizeof big);
	FX_OK(fx_write_file(A("f"), big, 2000, 0644));
	double t0 = now_s();
	list_names(daemon_b.mnt);
	double listed = now_s();
	FX_OK(fx_write_file(A("new"), "new name", 8, 0644));
	FX_OK(fx_write_file(A("f"), big, 3000, 0644));
	sleep_until(t0 + ttl * 0.6);
	int r = lstat(MB("new"), &st);
	int e = errno;
	FX_OK(lstat(MB("f"), &st));
	off_t early_size = st.st_size;
	double asked = now_s();
	if (asked < t0 + ttl) {
		/* still within B's TTL: the listing's answer may stand */
		FX_ASSERT(r < 0 && e == ENOENT, "B looked up a name A made "
			  "after B's listing, %.2f s into B's TTL of 2 s: "
			  "expected the listing's ENOENT, saw %s",
			  asked - t0, r == 0 ? "it" : fx_errname(e));
		FX_ASSERT(early_size == 2000, "expected B's stat of f within "
			  "its TTL to show the listed size 2000, saw %lld",
			  (long long)early_size);
	}
	sleep_until(listed + ttl + 0.05);
	FX_ASSERT(lstat(MB("new"), &st) == 0, "B's listing ended %.2f s "
		  "ago (cache_ttl = 2): expected A's new name to show, saw %s",
		  now_s() - listed, fx_errname(errno));
	FX_OK(lstat(MB("f"), &st));
	FX_ASSERT(st.st_size == 3000, "B's listing ended %.2f s ago "
		  "(cache_ttl = 2): expected f's new size 3000, saw %lld", now_s() - listed,
		  (long long)st.st_size);
	expect_text(MB("new"), "new name");
	stop_daemon_b(&daemon_b);
#undef A
#undef MB
}

/* An open file whose object the other daemon replaces by a shorter
 * version: a later read of the old version's range is an error (ESTALE,
 * the store's "not that version"), never a silent end of file, which a
 * reader would take for the whole file.  Some servers answer 416 for
 * the range before they look at If-Match. */
MOUNT_TEST(objects, a_read_after_the_other_daemon_shortened_the_file_fails,
	   .timeout = 120)
{
	need_object_backend();
	const struct fx_mount m[] = { { "a", "cluster", NULL } };
	fx_start(NULL, m, 1);
	start_second_daemon(NULL);

	/* past the first readahead chunk (8 MiB), so the tail is read later */
	const size_t size = 12 << 20;
	put_pattern(fx_mpath(0, "f"), size, 7);
	int fd = FX_OK(open(fx_mpath(0, "f"), O_RDONLY));
	char head[4096], tail[4096];
	FX_ASSERT(read(fd, head, sizeof head) == (ssize_t)sizeof head,
		  "read: %s", fx_errname(errno));
	FX_OK(fx_write_file(fx_fmt("%s/f", daemon_b.mnt), "short", 5, 0644));
	errno = 0;
	ssize_t n = pread(fd, tail, sizeof tail, (off_t)size - (1 << 19));
	int e = errno;
	close(fd);
	FX_ASSERT(n < 0 && e == ESTALE, "a read of the last 512 KiB of a "
		  "12 MiB file the other daemon had cut to 5 bytes: expected "
		  "ESTALE, saw %zd %s", n, n < 0 ? fx_errname(e) : "bytes");
	expect_text(fx_mpath(0, "f"), "short"); /* and the next open sees it */
	stop_daemon_b(&daemon_b);
}

/* A reader's close on the machine where a writer is half-way through a
 * file publishes nothing: the other machine still reads the old version,
 * then the writer's whole one after the writer's close. */
MOUNT_TEST(objects, a_readers_close_does_not_publish_a_writer_half_way,
	   .timeout = 120)
{
	need_object_backend();
	const struct fx_mount m[] = { { "a", "cluster", NULL } };
	fx_start(NULL, m, 1);
	start_second_daemon("cache_ttl = 0\n");
	const char *fa = fx_mpath(0, "f"), *fb = fx_fmt("%s/f", daemon_b.mnt);
	char fbuf[PATH_MAX];
	snprintf(fbuf, sizeof fbuf, "%s", fb);

	FX_OK(fx_write_file(fa, "old version", 11, 0644));
	int w = FX_OK(open(fa, O_WRONLY | O_TRUNC));
	static char half[1 << 20];
	memset(half, 'n', sizeof half);
	FX_ASSERT(write_all(w, half, sizeof half) == 0, "write: %s",
		  fx_errname(errno));
	int r = FX_OK(open(fa, O_RDONLY));
	char b[64];
	FX_ASSERT(read(r, b, sizeof b) >= 0, "read: %s", fx_errname(errno));
	FX_OK(close(r));
	expect_text(fbuf, "old version"); /* not 1 MiB of 'n', not empty */
	FX_OK(close(w));
	struct stat st;
	FX_OK(stat(fbuf, &st));
	FX_ASSERT(st.st_size == (off_t)sizeof half, "after the writer's "
		  "close, B sees %lld bytes, expected %zu",
		  (long long)st.st_size, sizeof half);
	stop_daemon_b(&daemon_b);
}

/* A server of the test's own (server_k), on its own port and data
 * directory, that the test may stop, kill and restart; the mount uses it. */
static void start_own_server(int *port, char data[PATH_MAX])
{
	char port_s[16];
	*port = free_port();
	FX_ASSERT(*port > 0, "no free port: %s", strerror(errno));
	snprintf(data, PATH_MAX, "%s/serverk", fx.dir);
	snprintf(port_s, sizeof port_s, "%d", *port);
	snprintf(server_k.log, sizeof server_k.log, "%s/serverk.log", fx.dir);
	start_server(&server_k, *port, data);
	setenv(fx.backend->port_env, port_s, 1);
}

MOUNT_TEST(objects, server_killed_during_a_large_write_fails_close_with_eio,
	   .timeout = 300)
{
	need_object_backend();
	int kport;
	char kdata[PATH_MAX];
	start_own_server(&kport, kdata);
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);

	const size_t old_size = 3 << 20, total = 200u << 20, chunk = 1 << 20;
	put_pattern(M("big"), old_size, 1);
	/* some servers keep what they stored in memory a while (Azurite) */
	fx_sleep_ms(OBJECT_SERVER_SETTLE_MS);

	uint64_t *b = malloc(chunk);
	cr_assert(b);
	int fd = FX_OK(open(M("big"), O_WRONLY | O_TRUNC));
	size_t off = 0;
	int werr = 0;
	for (; off < total; off += chunk) {
		if (off == total / 2) {
			/* half streamed: parts are up or in flight */
			kill(server_k.pid, SIGKILL);
			waitpid(server_k.pid, NULL, 0);
			server_k.pid = 0;
			unguard(&server_k);
		}
		fill_block(b, chunk / 8, 2, off);
		if (write_all(fd, b, chunk) < 0) {
			werr = errno;
			break;
		}
	}
	free(b);
	FX_ASSERT(!werr || werr == EIO, "write at %zu after the server died: "
		  "expected success or EIO, saw %s", off, fx_errname(werr));
	double t0 = now_s();
	errno = 0;
	int rc = close(fd);
	int cerr = errno;
	double tc = now_s() - t0;
	fprintf(stderr, OBJECT_TEST_BACKEND ": server killed at %zu MiB of %zu: writes %s at "
		"%zu MiB, close() = %d %s after %.1f s\n", total / 2 >> 20,
		total >> 20, werr ? fx_errname(werr) : "succeeded", off >> 20,
		rc, rc ? fx_errname(cerr) : "", tc);
	FX_ASSERT(rc == -1 && cerr == EIO, "close() after the server died "
		  "during the upload: expected -1 EIO, saw %d %s", rc,
		  rc ? fx_errname(cerr) : "(success)");
	FX_ASSERT(tc <= 60, "close() after the server died: expected an "
		  "answer within 60 s, saw %.1f s", tc);

	/* the same server again, on the same data: the old object is there,
	 * whole, and nothing partial is listed */
	start_server(&server_k, kport, kdata);
	fx_sleep_ms(1100); /* past cache_ttl = 1 */
	const char *one[] = { "big" };
	expect_listing(M(""), one, 1);
	expect_pattern(M("big"), old_size, 1);

	/* and the mount works on without a remount */
	FX_OK(fx_write_file(M("after"), "after the restart", 17, 0644));
	expect_text(M("after"), "after the restart");
	put_pattern(M("big"), 20u << 20, 3);
	expect_pattern(M("big"), 20u << 20, 3);
	const char *two[] = { "after", "big" };
	expect_listing(M(""), two, 2);
}

/* stat of a file while its upload is stuck (the server stopped with
 * SIGSTOP: connections open, nothing answers) must not wait for the
 * upload: the object layer shows an open file's attributes without the
 * lock its transfers hold.  cache_ttl = 0, so the kernel asks the daemon
 * each time.  The bound is the server's pause (20 s), far above a stat
 * answered from memory and far below the plugin's request timeout. */
MOUNT_TEST(objects, stat_does_not_wait_for_a_stuck_upload, .timeout = 300)
{
	need_object_backend();
	int kport;
	char kdata[PATH_MAX];
	start_own_server(&kport, kdata);
	fx.backend_keys = "part_size = 5M\n";
	const struct fx_mount m[] = {
		{ "cluster_storage", "cluster", "cache_ttl = 0\n" } };
	fx_start(NULL, m, 1);

	/* 3 MiB: one PUT, sent with the file's lock held; 24 MiB: parts in
	 * flight, then the completion */
	const size_t sizes[] = { 3u << 20, 24u << 20 };
	for (int k = 0; k < 2; k++) {
		const size_t total = sizes[k];
		const size_t chunk = 1 << 20;
		uint64_t *b = malloc(chunk);
		cr_assert(b);
		int fd = FX_OK(open(M("big"), O_WRONLY | O_CREAT | O_TRUNC, 0644));
		for (size_t off = 0; off < total; off += chunk) {
			fill_block(b, chunk / 8, 4, off);
			FX_ASSERT(write_all(fd, b, chunk) == 0, "write at %zu: %s", off,
				  fx_errname(errno));
		}
		free(b);
		/* close in a child (it waits for the store); the parent stats */
		kill(server_k.pid, SIGSTOP);
		pid_t closer = fork();
		if (closer == 0)
			_exit(close(fd) == 0 ? 0 : 1);
		/* the parent keeps its descriptor (a close flushes, and would wait
		 * too) until the server goes on */
		fx_sleep_ms(300); /* let the child's flush reach the daemon */
		/* the stat runs in a child that reports through a pipe: it holds a
		 * copy of fd, whose close at its exit flushes and waits too */
		int pfd[2];
		FX_OK(pipe(pfd));
		pid_t stater = fork();
		if (stater == 0) {
			struct stat st;
			char ok = stat(M("big"), &st) == 0 &&
					  st.st_size == (off_t)total ? 'y' : 'n';
			(void)!write(pfd[1], &ok, 1);
			_exit(0);
		}
		close(pfd[1]);
		struct pollfd pp = { .fd = pfd[0], .events = POLLIN };
		int answered = poll(&pp, 1, 20000) == 1;
		char said = 0;
		if (answered)
			answered = read(pfd[0], &said, 1) == 1;
		kill(server_k.pid, SIGCONT);
		if (!answered)
			(void)!read(pfd[0], &said, 1);
		close(pfd[0]);
		waitpid(stater, NULL, 0);
		int cstatus = -1;
		waitpid(closer, &cstatus, 0);
		FX_OK(close(fd));
		fprintf(stderr, OBJECT_TEST_BACKEND ": stat during a stuck "
			"upload of %zu MiB: %s; the upload's close %s once the server went on\n",
			total >> 20,
			answered ? "answered while the server was stopped"
				 : "waited for the server",
			WIFEXITED(cstatus) && WEXITSTATUS(cstatus) == 0 ? "succeeded"
									: "failed");
		FX_ASSERT(answered, "stat of a file whose upload waits on a stopped "
			  "server: expected an answer from memory, saw it wait 20 s "
			  "for the server");
		FX_ASSERT(said == 'y', "stat during the upload: expected success "
			  "and size %zu", total);
		FX_ASSERT(WIFEXITED(cstatus) && WEXITSTATUS(cstatus) == 0,
			  "close() after the server resumed: expected success");
		expect_pattern(M("big"), total, 4);
	}
}

/* What df, a shell's prompt and `cd` do on a mount must not wait on the
 * store: with the server stopped (SIGSTOP), open(2) of the root as a
 * directory (df opens its argument), fstatfs and stat of the root answer
 * from memory; the listing waits for the first readdir.  Default
 * timeouts (a 30 s stall), so a wait would show against the 20 s bound;
 * the mount's own readdir after SIGCONT still lists the file. */
MOUNT_TEST(objects, df_and_opendir_do_not_wait_for_a_stopped_server,
	   .timeout = 300)
{
	need_object_backend();
	int kport;
	char kdata[PATH_MAX];
	start_own_server(&kport, kdata);
	const struct fx_mount m[] = {
		{ "cluster_storage", "cluster", "cache_ttl = 0\n" } };
	fx_start(NULL, m, 1);
	FX_OK(fx_write_file(M("f"), "x", 1, 0644));

	kill(server_k.pid, SIGSTOP);
	int pfd[2];
	FX_OK(pipe(pfd));
	pid_t child = fork();
	if (child == 0) {
		struct statfs sf;
		struct stat st;
		int fd = open(M(""), O_RDONLY | O_DIRECTORY);
		char ok = fd >= 0 && fstatfs(fd, &sf) == 0 &&
				  statfs(M(""), &sf) == 0 &&
				  stat(M(""), &st) == 0 && S_ISDIR(st.st_mode)
			  ? 'y' : 'n';
		(void)!write(pfd[1], &ok, 1);
		if (fd >= 0)
			close(fd);
		_exit(0);
	}
	close(pfd[1]);
	struct pollfd pp = { .fd = pfd[0], .events = POLLIN };
	int answered = poll(&pp, 1, 20000) == 1;
	char said = 0;
	if (answered)
		answered = read(pfd[0], &said, 1) == 1;
	kill(server_k.pid, SIGCONT);
	if (!answered)
		(void)!read(pfd[0], &said, 1);
	close(pfd[0]);
	waitpid(child, NULL, 0);
	FX_ASSERT(answered, "open(O_DIRECTORY)/statfs/stat of the root with the "
		  "server stopped: expected answers from memory, saw a wait of "
		  "20 s");
	FX_ASSERT(said == 'y', "open/statfs/stat of the root: expected success");
	DIR *d = opendir(M(""));
	int files = 0;
	FX_ASSERT(d, "opendir of the root after SIGCONT: %s", fx_errname(errno));
	for (struct dirent *e; (e = readdir(d));)
		files += strcmp(e->d_name, "f") == 0;
	closedir(d);
	FX_ASSERT(files == 1, "the root after SIGCONT: expected f listed once, "
		  "saw it %d times", files);
}

/* ---- special files ------------------------------------------------------ */

MOUNT_TEST(objects, fifos_sockets_and_device_nodes_are_kept_with_their_type)
{
	need_object_backend();
	const struct fx_mount m[] = { { "cluster_storage", "cluster", NULL } };
	fx_start(NULL, m, 1);
	struct stat st;

	FX_OK(mkfifo(M("fifo"), 0640));
	FX_OK(mknod(M("null"), S_IFCHR | 0600, makedev(1, 3)));
	FX_OK(mknod(M("blk"), S_IFBLK | 0600, makedev(7, 0)));
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	FX_ASSERT(strlen(M("sock")) < sizeof un.sun_path, "path too long");
	memcpy(un.sun_path, M("sock"), strlen(M("sock")) + 1);
	FX_OK(bind(s, (struct sockaddr *)&un, sizeof un));
	FX_ERRNO(mkfifo(M("fifo"), 0600), EEXIST);

	/* the kernel serves the fifo: a pipe, through the mount's node */
	int fd = FX_OK(open(M("fifo"), O_RDWR | O_NONBLOCK));
	FX_EQ_INT(write(fd, "pipe", 4), 4);
	char buf[8] = "";
	FX_EQ_INT(read(fd, buf, sizeof buf), 4);
	FX_EQ_MEM(buf, "pipe", 4);
	close(fd);
	/* and the socket listens and answers where it was bound */
	FX_OK(listen(s, 1));
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	FX_OK(connect(c, (struct sockaddr *)&un, sizeof un));
	close(c);
	close(s);

	FX_OK(chmod(M("fifo"), 0600));
	FX_OK(rename(M("null"), M("null2")));
	/* every attribute comes back from the store after a remount */
	remount();
	FX_OK(lstat(M("fifo"), &st));
	FX_ASSERT(S_ISFIFO(st.st_mode), "fifo: mode 0%o", st.st_mode);
	FX_EQ_MODE(st.st_mode & 07777, 0600);
	FX_OK(lstat(M("null2"), &st));
	FX_ASSERT(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
		  "null2: mode 0%o rdev %u:%u", st.st_mode, major(st.st_rdev),
		  minor(st.st_rdev));
	FX_ERRNO(lstat(M("null"), &st), ENOENT);
	FX_OK(lstat(M("blk"), &st));
	FX_ASSERT(S_ISBLK(st.st_mode) && st.st_rdev == makedev(7, 0),
		  "blk: mode 0%o", st.st_mode);
	FX_OK(lstat(M("sock"), &st));
	FX_ASSERT(S_ISSOCK(st.st_mode), "sock: mode 0%o", st.st_mode);
	/* a listing says the types too (find -type p reads d_type) */
	char *out = NULL;
	FX_EQ_INT(fx_sh(30, &out, "cd '%s' && find . -type p; find . -type c; "
			"find . -type b; find . -type s", fx.mnt[0]), 0);
	FX_EQ_STR(out, "./fifo\n./null2\n./blk\n./sock\n");
	free(out);
	for (const char *const *n = (const char *const[]){ "fifo", "null2",
			"blk", "sock", NULL }; *n; n++)
		FX_OK(unlink(M(*n)));
	FX_ERRNO(lstat(M("fifo"), &st), ENOENT);
}

/* ---- metrics ------------------------------------------------------------ */

/* GET /metrics from the daemon's unix socket SOCK; malloc'd body. */
static char *scrape(const char *sock)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	FX_ASSERT(strlen(sock) < sizeof un.sun_path, "socket path too long");
	memcpy(un.sun_path, sock, strlen(sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FX_ASSERT(fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof un) == 0,
		  "connect %s: %s", sock, strerror(errno));
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	FX_ASSERT(write_all(fd, req, sizeof req - 1) == 0, "send: %s",
		  strerror(errno));
	size_t cap = 1 << 20, got = 0;
	char *buf = malloc(cap);
	cr_assert(buf);
	ssize_t n;
	while (got < cap - 1 && (n = read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	FX_ASSERT(!strncmp(buf, "HTTP/1.0 200", 12), "expected 200 from %s, "
		  "saw:\n%.300s", sock, buf);
	return buf;
}

/* The sum of the samples of NAME whose labels include every one of the
 * "k=\"v\"" strings of WITH (NULL-terminated). */
static double sample_sum(const char *text, const char *name,
			 const char *const *with)
{
	double sum = 0;
	size_t nl = strlen(name);
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, name, nl) || (l[nl] != '{' && l[nl] != ' '))
			continue;
		const char *eol = strchr(l, '\n');
		int all = 1;
		for (int i = 0; with && with[i] && all; i++) {
			const char *hit = strstr(l, with[i]);
			all = hit && (!eol || hit < eol);
		}
		const char *sp = eol ? eol : l + strlen(l);
		while (sp > l && sp[-1] != ' ')
			sp--;
		if (all)
			sum += strtod(sp, NULL);
	}
	return sum;
}

#define WITH(...) ((const char *const[]){ __VA_ARGS__, NULL })

MOUNT_TEST(objects, metrics_count_what_went_on_the_wire, .timeout = 240)
{
	enum { BIG = 20 << 20, SMALL = 20 };
	need_object_backend();
	/* two PUTs answered 503 by the proxy: retried, and counted so */
	char faults[PATH_MAX];
	snprintf(faults, sizeof faults, "%s/faults", fx.dir);
	/* (GCS uploads with POST) */
	const char *up = strcmp(OBJECT_TEST_BACKEND, "gcs") ? "PUT" : "POST";
	const char *sched = fx_fmt("status 503 method=%s after=3 count=2\n", up);
	FX_OK(fx_write_file(faults, sched, strlen(sched), 0644));
	const char *port = start_proxy_faults(fx_server_port(fx.backend),
					      faults, OBJECT_TEST_BACKEND);
	setenv(fx.backend->port_env, port, 1);
	static char keys[PATH_MAX + 32], sock[PATH_MAX];
	snprintf(sock, sizeof sock, "%s/metrics.sock", fx.dir);
	snprintf(keys, sizeof keys, "metrics = unix:%s\n", sock);
	fx.scopefs_keys = keys;
	const struct fx_mount m[] = {
		{ "cluster_storage", "cluster", "cache_ttl = 0\n" },
	};
	fx_start(NULL, m, 1);
	char *text = scrape(sock);
	FX_ASSERT(strstr(text, fx.mnt[0]), "expected the mount %s in the "
		  "metrics, saw:\n%.2000s", fx.mnt[0], text);
	free(text);

	/* the workload: a multipart file, small files, reads, a listing,
	 * deletes, a missing name */
	put_pattern(M("big"), BIG, 5);
	for (int i = 0; i < SMALL; i++)
		FX_OK(fx_write_file(M(fx_fmt("s%02d", i)), "0123456789", 10,
				    0644));
	text = scrape(sock); /* during: the daemon answers between calls */
	free(text);
	char buf[16];
	for (int i = 0; i < SMALL; i++)
		FX_EQ_INT(fx_read_file(M(fx_fmt("s%02d", i)), buf, sizeof buf),
			  10);
	expect_pattern(M("big"), BIG, 5);
	char *out = NULL;
	FX_EQ_INT(fx_sh(30, &out, "ls -l '%s' >/dev/null", fx.mnt[0]), 0);
	free(out);
	for (int i = 0; i < 5; i++)
		FX_OK(unlink(M(fx_fmt("s%02d", i))));
	struct stat st;
	FX_ERRNO(stat(M("missing"), &st), ENOENT);

	/* every try on the wire is counted once, by method; the proxy saw
	 * the same (a release may still be on its way: wait for it) */
	struct reqs r = { 0 };
	double get = 0, head = 0, put = 0, post = 0, del = 0;
	for (int t = 0; t < 100; t++) {
		free(r.lines);
		r = reqs_since(0);
		text = scrape(sock);
		get = sample_sum(text, "scopefs_http_requests_total",
				 WITH("method=\"GET\""));
		head = sample_sum(text, "scopefs_http_requests_total",
				  WITH("method=\"HEAD\""));
		put = sample_sum(text, "scopefs_http_requests_total",
				 WITH("method=\"PUT\""));
		post = sample_sum(text, "scopefs_http_requests_total",
				  WITH("method=\"POST\""));
		del = sample_sum(text, "scopefs_http_requests_total",
				 WITH("method=\"DELETE\""));
		/* and the readahead of the last close given back.  The
		 * wire may show one more request than the tries counted:
		 * curl sends a request again by itself when a kept-alive
		 * connection turns out closed (the proxy closes after the
		 * 503s), which no caller of curl sees.  Never fewer. */
		double wire = r.get + r.list + r.head + r.put + r.post + r.del;
		double seen = get + head + put + post + del;
		if (get <= r.get + r.list && head <= r.head && put <= r.put &&
		    post <= r.post && del <= r.del && wire - seen <= 2 &&
		    sample_sum(text, "scopefs_memory_used_bytes", NULL) == 0)
			break;
		free(text);
		text = NULL;
		fx_sleep_ms(50);
	}
	FX_ASSERT(text, "expected the metrics to agree with the wire within "
		  "5 s, and no buffer in use at rest: GET %g vs %d, HEAD %g vs "
		  "%d, PUT %g vs %d, POST %g vs %d, DELETE %g vs %d; requests:"
		  "\n%s", get, r.get + r.list, head, r.head, put, r.put, post,
		  r.post, del, r.del, r.lines);
	free(r.lines);

	/* the two 503s, by status, and their retries */
	char mlabel[32];
	snprintf(mlabel, sizeof mlabel, "method=\"%s\"", up);
	FX_ASSERT(sample_sum(text, "scopefs_http_requests_total",
			     WITH(mlabel, "status=\"503\"")) == 2,
		  "expected 2 %ss counted with status 503, saw:\n%s", up, text);
	FX_ASSERT(sample_sum(text, "scopefs_http_retries_total",
			     WITH(mlabel)) >= 2,
		  "expected the 2 %ss after 503 counted as retries", up);
	/* store calls: bytes both ways, errors by errno, latency for each */
	double rd = sample_sum(text, "scopefs_store_bytes_total",
			       WITH("op=\"get\""));
	double wr = sample_sum(text, "scopefs_store_bytes_total",
			       WITH("op=\"put\"")) +
		    sample_sum(text, "scopefs_store_bytes_total",
			       WITH("op=\"mpu_part\""));
	FX_ASSERT(rd >= BIG + SMALL * 10 && rd <= 2.0 * BIG,
		  "expected bytes read from the store between %d and %d, saw %g",
		  BIG + SMALL * 10, 2 * BIG, rd);
	FX_ASSERT(wr >= BIG + SMALL * 10,
		  "expected at least %d bytes written to the store, saw %g",
		  BIG + SMALL * 10, wr);
	FX_ASSERT(sample_sum(text, "scopefs_store_errno_total",
			     WITH("errno=\"ENOENT\"")) >= 1,
		  "expected the lookup of a missing name counted as ENOENT");
	double calls = sample_sum(text, "scopefs_store_requests_total", NULL);
	double timed = sample_sum(text, "scopefs_store_latency_seconds_count",
				  NULL);
	FX_ASSERT(calls > 0 && calls == timed, "expected every store call "
		  "timed once: %g calls, %g in the histograms", calls, timed);
	FX_ASSERT(calls <= get + head + put + post + del,
		  "expected no more store calls (%g) than HTTP tries (%g)",
		  calls, get + head + put + post + del);
	FX_ASSERT(sample_sum(text, "scopefs_cache_misses_total", NULL) >= 1,
		  "expected cache misses with cache_ttl = 0");
	FX_ASSERT(sample_sum(text, "scopefs_memory_budget_bytes", NULL) > 0 &&
			  sample_sum(text, "scopefs_memory_used_bytes", NULL) == 0 &&
			  sample_sum(text, "scopefs_parts_in_flight", NULL) == 0,
		  "expected a budget, and nothing in use at rest:\n%s", text);
	free(text);

	/* the same for a person */
	int rc = fx_sh(30, &out, "'%s' status '%s' 2>&1", fx.bin, fx.conf);
	FX_ASSERT(rc == 0, "scopefs status: expected exit 0, saw %d:\n%s", rc,
		  out);
	FX_ASSERT(strstr(out, fx.mnt[0]) && strstr(out, "mpu_part") &&
			  strstr(out, "503"),
		  "expected scopefs status to show the mount, its parts and the "
		  "503s, saw:\n%s", out);
	free(out);
}

#endif
