/*
 * object_test: what the end-to-end tests of the object-store plugins
 * (test_s3.c, test_azblob.c) share: extra processes guarded by watchdogs
 * (a second daemon, a counting proxy, a server of the test's own), the
 * request log of the proxy, deterministic data, a second daemon's config.
 * Include after mount_fixture.h, with OBJECT_TEST_BACKEND defined as the
 * fixture backend's name ("s3", "azblob"); the including file declares the
 * suite: TestSuite(NAME, .init = use_object_backend, .fini = object_fini).
 */
#ifndef SCOPEFS_TEST_OBJECT_TEST_H
#define SCOPEFS_TEST_OBJECT_TEST_H

#ifndef OBJECT_TEST_BACKEND
#error "define OBJECT_TEST_BACKEND before including object_test.h"
#endif

/* ---- suite ------------------------------------------------------------- */

/* Processes a test starts besides the fixture's daemon; each is guarded
 * by a watchdog that kills it (and unmounts) if the test process dies. */
struct extra {
	pid_t pid;
	pid_t watchdog;
	int watch_fd;
	char mnt[PATH_MAX]; /* unmounted when the watchdog fires, or "" */
	char log[PATH_MAX];
};

static struct extra proxy, daemon_b, server_k;

static void use_object_backend(void)
{
	setenv("SCOPEFS_TEST_BACKEND", OBJECT_TEST_BACKEND, 1);
	umask(022);
}

static void guard(struct extra *x)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	fflush(NULL);
	pid_t w = fork();
	if (w < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (w > 0) {
		close(p[0]);
		x->watchdog = w;
		x->watch_fd = p[1];
		return;
	}
	setsid();
	for (int fd = 3; fd < 1024; fd++)
		if (fd != p[0])
			close(fd);
	char c;
	ssize_t r;
	do
		r = read(p[0], &c, 1);
	while (r < 0 && errno == EINTR);
	if (r == 1)
		_exit(0);
	kill(x->pid, SIGTERM);
	for (int i = 0; i < 300 && kill(x->pid, 0) == 0; i++)
		fx_sleep_ms(10);
	kill(x->pid, SIGKILL);
	if (x->mnt[0]) {
		pid_t u = fork();
		if (u == 0) {
			int nul = open("/dev/null", O_WRONLY);
			dup2(nul, 2);
			execlp("fusermount3", "fusermount3", "-u", "-z", x->mnt,
			       (char *)NULL);
			_exit(127);
		}
		if (u > 0)
			waitpid(u, NULL, 0);
	}
	_exit(0);
}

static void unguard(struct extra *x)
{
	if (!x->watchdog)
		return;
	(void)!write(x->watch_fd, "x", 1);
	close(x->watch_fd);
	waitpid(x->watchdog, NULL, 0);
	x->watchdog = 0;
}

/* Stop X (SIGTERM, SIGKILL after 10 s); returns its wait status. */
static int stop_extra(struct extra *x, int sig)
{
	int status = 0;
	if (x->pid > 0) {
		kill(x->pid, sig);
		if (!fx_wait_timeout(x->pid, &status, 10000)) {
			kill(x->pid, SIGKILL);
			waitpid(x->pid, &status, 0);
		}
	}
	x->pid = 0;
	unguard(x);
	if (x->mnt[0] && fx_is_mounted(x->mnt))
		fx_sh(10, NULL, "fusermount3 -u -z '%s'", x->mnt);
	return status;
}

static void object_fini(void)
{
	stop_extra(&daemon_b, SIGTERM);
	stop_extra(&proxy, SIGTERM);
	stop_extra(&server_k, SIGKILL);
	fx_teardown();
}


/* ---- the proxy on the wire -------------------------------------------- */

/* Start tests/helpers/faultproxy in front of the test server; returns
 * its port (a static string).  It logs each request to reqlog; FAULTS
 * (or NULL: none) is the file it reads its faults from, FLAVOR the
 * store whose error bodies it injects (s3, azblob, gcs). */
static char reqlog[PATH_MAX];

static const char *start_proxy_faults(const char *target_port,
				      const char *faults, const char *flavor)
{
	char bin[PATH_MAX];
	const char *env = getenv("SCOPEFS_FAULTPROXY");
	if (env && *env) {
		snprintf(bin, sizeof bin, "%s", env);
	} else {
		snprintf(bin, sizeof bin, "%s", fx.bin);
		char *slash = strrchr(bin, '/');
		snprintf(slash ? slash + 1 : bin,
			 sizeof bin - (slash ? (size_t)(slash + 1 - bin) : 0),
			 "tests/bin/helpers/faultproxy");
	}
	FX_ASSERT(access(bin, X_OK) == 0, "expected the proxy %s "
		  "(make build-tests, or set SCOPEFS_FAULTPROXY), saw %s", bin,
		  strerror(errno));
	snprintf(reqlog, sizeof reqlog, "%s/requests.log", fx.dir);
	snprintf(proxy.log, sizeof proxy.log, "%s/proxy.out", fx.dir);
	char *argv[] = { bin, (char *)target_port, reqlog, "0",
			 (char *)(faults ? faults : ""),
			 (char *)(flavor ? flavor : "s3"), NULL };
	proxy.mnt[0] = '\0';
	proxy.pid = fx_spawn(argv, proxy.log, proxy.log);
	FX_ASSERT(proxy.pid > 0, "cannot run %s: %s", bin, strerror(errno));
	guard(&proxy);
	static char port[16];
	for (int i = 0; i < 500; i++) {
		char buf[64] = "";
		if (fx_read_file(proxy.log, buf, sizeof buf) > 0 &&
		    strchr(buf, '\n')) {
			snprintf(port, sizeof port, "%d", atoi(buf));
			if (fx_port_answers(port))
				return port;
		}
		fx_sleep_ms(10);
	}
	FX_FAIL("expected the proxy to print its port, saw nothing "
		"in %s", proxy.log);
	return NULL;
}

/* The proxy, only counting. */
static const char *start_proxy(const char *target_port)
{
	return start_proxy_faults(target_port, NULL, NULL);
}

/* ---- helpers ----------------------------------------------------------- */

static void need_object_backend(void)
{
	fx_prepare_dir(); /* skips or fails when the server does not answer */
	cr_assert(fx.backend->object_store, "expected the %s backend",
		  OBJECT_TEST_BACKEND);
}

/* Stop the daemon, require a clean exit, start it again on the same
 * configuration: every cache, the kernel's and the daemon's, is cold. */
static void remount(void)
{
	fx_stop();
	fx.stopped = 0;
	FX_ASSERT(!fx.problem[0], "remount: %s", fx.problem);
	FX_ASSERT(WIFEXITED(fx.status) && WEXITSTATUS(fx.status) == 0,
		  "remount: expected the daemon to exit 0 after SIGTERM, saw %s",
		  fx_status_str(fx.status));
	fx_launch(NULL);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Deterministic data: 8 bytes of a splitmix64 stream per 8 bytes of file,
 * so any block can be regenerated to compare. */
static void fill_block(uint64_t *w, size_t words, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < words; i++) {
		uint64_t z = seed + (off / 8 + i + 1) * 0x9E3779B97F4A7C15ull;
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		w[i] = z ^ (z >> 31);
	}
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Write SIZE bytes of pattern SEED to PATH through the mount. */
static void put_pattern(const char *path, size_t size, uint64_t seed)
{
	const size_t chunk = 1 << 20;
	uint64_t *b = malloc(chunk);
	cr_assert(b);
	int fd = FX_OK(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		fill_block(b, (n + 7) / 8, seed, off);
		FX_ASSERT(write_all(fd, b, n) == 0, "write %s at %zu: %s", path,
			  off, fx_errname(errno));
	}
	FX_OK(close(fd));
	free(b);
}

/* Does PATH hold exactly SIZE bytes of pattern SEED?  NULL if so, else
 * what differs (a static string). */
static const char *check_pattern(const char *path, size_t size,
				 uint64_t seed)
{
	static char why[PATH_MAX + 128];
	const size_t chunk = 1 << 20;
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(why, sizeof why, "stat %s: %s", path,
			 fx_errname(errno));
		return why;
	}
	if ((size_t)st.st_size != size) {
		snprintf(why, sizeof why, "stat %s: expected size %zu, saw "
			 "%lld", path, size, (long long)st.st_size);
		return why;
	}
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		snprintf(why, sizeof why, "open %s: %s", path,
			 fx_errname(errno));
		return why;
	}
	uint64_t *want = malloc(chunk), *got = malloc(chunk + 8);
	cr_assert(want && got);
	why[0] = '\0';
	for (size_t off = 0; !why[0]; off += chunk) {
		ssize_t n = read_full(fd, got, chunk);
		size_t want_n = size - off < chunk ? size - off : chunk;
		if (n < 0) {
			snprintf(why, sizeof why, "read %s at %zu: %s", path,
				 off, fx_errname(errno));
		} else if (off >= size) {
			if (n != 0)
				snprintf(why, sizeof why, "read %s: expected the "
					 "end at %zu, saw %zd more bytes", path,
					 size, n);
			break;
		} else if ((size_t)n != want_n) {
			snprintf(why, sizeof why, "read %s at %zu: expected "
				 "%zu bytes, saw %zd", path, off, want_n, n);
		} else {
			fill_block(want, (want_n + 7) / 8, seed, off);
			if (memcmp(got, want, want_n)) {
				size_t i = 0;
				while (((unsigned char *)got)[i] ==
				       ((unsigned char *)want)[i])
					i++;
				snprintf(why, sizeof why, "read %s: first "
					 "difference at byte %zu of %zu", path,
					 off + i, size);
			}
		}
	}
	close(fd);
	free(want);
	free(got);
	return why[0] ? why : NULL;
}

/* PATH must hold exactly SIZE bytes of pattern SEED. */
static void expect_pattern(const char *path, size_t size, uint64_t seed)
{
	const char *why = check_pattern(path, size, seed);
	FX_ASSERT(!why, "%s", why);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR must list exactly WANT (any order), "." and ".." aside. */
static void expect_listing(const char *dir, const char *const *want, int n)
{
	DIR *d = opendir(dir);
	FX_ASSERT(d, "opendir %s: %s", dir, fx_errname(errno));
	char *got[256];
	int k = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		FX_ASSERT(k < 256, "listing %s: more than 256 entries", dir);
		got[k++] = strdup(e->d_name);
	}
	closedir(d);
	const char **w = malloc((n + 1) * sizeof *w);
	cr_assert(w);
	if (n)
		memcpy(w, want, n * sizeof *w);
	if (k) /* qsort(NULL, 0) is undefined */
		qsort(got, k, sizeof *got, cmp_str);
	if (n)
		qsort(w, n, sizeof *w, cmp_str);
	for (int i = 0; i < k || i < n; i++) {
		const char *g = i < k ? got[i] : "(end)";
		const char *x = i < n ? w[i] : "(end)";
		FX_ASSERT(!strcmp(g, x), "listing %s, sorted entry %d: expected "
			  "\"%s\", saw \"%s\" (%d entries expected, %d seen)",
			  dir, i, x, g, n, k);
	}
	for (int i = 0; i < k; i++)
		free(got[i]);
	free(w);
}

/* Sleep until the monotonic clock reads T (now_s()). */
static void sleep_until(double t)
{
	double d;
	while ((d = t - now_s()) > 0)
		fx_sleep_ms((long)(d * 1000) + 1);
}

/* Read directory DIR in full (what ls does); the names are not kept. */
static void list_names(const char *dir)
{
	DIR *d = opendir(dir);
	FX_ASSERT(d, "opendir %s: %s", dir, fx_errname(errno));
	while (readdir(d))
		;
	closedir(d);
}

static void expect_text(const char *path, const char *want)
{
	char buf[4096];
	ssize_t n = fx_read_file(path, buf, sizeof buf);
	FX_ASSERT(n >= 0, "read %s: expected \"%s\", saw error %s", path, want,
		  fx_errname(errno));
	FX_EQ_STR(buf, want);
}

/* ---- a second daemon and a server of our own ---------------------------- */

/* A config at PATH with one mount MNT on the fixture's backend section
 * (the same bucket or container prefix as the fixture's mounts), PORT the server's, a
 * cache_dir of its own. */
static void write_config(const char *path, const char *mnt, const char *port,
			 const char *mount_keys)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "fopen %s: %s", path, strerror(errno));
	fchmod(fileno(f), 0600);
	const char *lvl = getenv("SCOPEFS_TEST_LOG_LEVEL");
	fprintf(f, "[scopefs]\nlog_level = %s\ncache_dir = %s.cache\n\n",
		lvl && *lvl ? lvl : "info", path);
	fprintf(f, "[identity]\ncloud_id = cld_1\nuser_id = usr_1\n"
		   "workload = job\nworkload_id = job_1\n\n");
	const char *base = strrchr(fx.dir, '/');
	fprintf(f, fx.backend->section, fx.dir, port, base ? base + 1 : fx.dir,
		fx_server_port2(fx.backend));
	fprintf(f, "\n[mount %s]\nbackend = default\nscope = cluster\n%s", mnt,
		mount_keys ? mount_keys : "");
	fclose(f);
}

/* Start a daemon on CONF whose one mount is X->mnt; wait for the mount. */
static void start_daemon_b(struct extra *x, const char *conf)
{
	char *argv[] = { fx.bin, "mount", "-f", (char *)conf, NULL };
	x->pid = fx_spawn(argv, x->log, x->log);
	FX_ASSERT(x->pid > 0, "cannot run %s: %s", fx.bin, strerror(errno));
	guard(x);
	for (long waited = 0;; waited += 20) {
		int status;
		if (waitpid(x->pid, &status, WNOHANG) == x->pid) {
			x->pid = 0;
			fx_print_file("second daemon", x->log, 16384);
			FX_FAIL("expected the second daemon to mount %s, saw it "
				"exit: %s", x->mnt, fx_status_str(status));
		}
		if (fx_is_mounted(x->mnt))
			return;
		if (waited > FX_MOUNT_TIMEOUT_MS) {
			fx_print_file("second daemon", x->log, 16384);
			FX_FAIL("expected %s mounted by the second daemon within "
				"%d ms", x->mnt, FX_MOUNT_TIMEOUT_MS);
		}
		fx_sleep_ms(20);
	}
}

/* The fixture's second daemon (daemon_b) on the same prefix, its one
 * mount at DIR/mnt/b with the [mount] lines MOUNT_KEYS (or NULL): started,
 * mounted.  Again after stop_daemon_b, with other keys if need be. */
static void start_second_daemon(const char *mount_keys)
{
	char conf[PATH_MAX];

	snprintf(daemon_b.mnt, sizeof daemon_b.mnt, "%s/mnt/b", fx.dir);
	snprintf(daemon_b.log, sizeof daemon_b.log, "%s/daemon-b.log", fx.dir);
	mkdir(daemon_b.mnt, 0755);
	snprintf(conf, sizeof conf, "%s/b.conf", fx.dir);
	write_config(conf, daemon_b.mnt, fx_server_port(fx.backend),
		     mount_keys);
	start_daemon_b(&daemon_b, conf);
}

static void stop_daemon_b(struct extra *x)
{
	int status = stop_extra(x, SIGTERM);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fx_print_file("second daemon", x->log, 16384);
	FX_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "expected the second daemon to exit 0 after SIGTERM, saw %s",
		  fx_status_str(status));
}

/* A free TCP port on 127.0.0.1 (bound and released). */
static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_storage ss;
	struct addrinfo hints = { .ai_family = AF_INET,
				  .ai_socktype = SOCK_STREAM }, *ai = NULL;
	if (s < 0 || getaddrinfo("127.0.0.1", "0", &hints, &ai) || !ai ||
	    bind(s, ai->ai_addr, ai->ai_addrlen) < 0)
		return -1;
	socklen_t l = sizeof ss;
	getsockname(s, (struct sockaddr *)&ss, &l);
	int port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	freeaddrinfo(ai);
	close(s);
	return port;
}

/* `scopefs mount -f CONF` must exit non-zero within a few seconds, with
 * a message that contains WANT (the mount point: DIR/mnt/refused). */
static __attribute__((unused)) void
expect_refused(const char *conf, const char *want, const char *what)
{
	char *argv[] = { fx.bin, "mount", "-f", (char *)conf, NULL };
	char *out = NULL, *err = NULL;
	double t0 = now_s();
	int status = fx_run(argv, 30, &out, &err);
	double t = now_s() - t0;
	const char *mnt = fx_fmt("%s/mnt/refused", fx.dir);
	int mounted = fx_is_mounted(mnt);
	if (mounted)
		fx_sh(10, NULL, "fusermount3 -u -z '%s'", mnt);
	FX_ASSERT(!mounted, "%s: expected no mount, saw %s mounted", what, mnt);
	FX_ASSERT(status >= 0 && WIFEXITED(status) &&
			  WEXITSTATUS(status) != 0,
		  "%s: expected scopefs mount -f to exit non-zero, saw %s%s",
		  what, status < 0 ? "it still running after 30 s" : "",
		  status < 0 ? "" : fx_status_str(status));
	FX_ASSERT(t < 10, "%s: expected the refusal within 10 s, saw %.1f s",
		  what, t);
	FX_ASSERT(strstr(err, want) || strstr(out, want), "%s: expected the "
		  "message to name \"%s\", saw: %s%s", what, want, out, err);
	fprintf(stderr, OBJECT_TEST_BACKEND ": %s refused in %.2f s (exit "
		"%d)\n", what, t,
		WEXITSTATUS(status));
	free(out);
	free(err);
}

static const char *srv_dir(void)
{
	const char *d = getenv("SRV_DIR");
	return d && *d ? d : "tests/servers";
}

#endif
