/*
 * The nfs plugin through the ABI with a minimal host: its configuration
 * (no server needed), then, against the ganesha of tests/servers/servers.sh
 * (start_nfs: NFS_PORT, MNT_PORT and RUN_DIR in the environment, else those
 * cases are skipped), that a mount stays inside its prefix whatever the
 * path or a symlink on the server says, and that I/O larger than the
 * server's rtmax/wtmax comes back whole.
 *
 * The plugin is $SCOPEFS_TEST_PLUGIN_DIR/scopefs-nfs.so (or .../nfs/
 * scopefs-nfs.so), else $O/plugins/nfs/scopefs-nfs.so.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <scopefs/plugin.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define PREFIX "job/j1/cluster_storage"

static void *dl;
static const struct scopefs_plugin *P;
static const struct scopefs_fs_ops *F;
static void *backend;
static void *mnt;
static char last_error[1024];
static char base[64];          /* the test's base in the export */
static char export_dir[PATH_MAX]; /* RUN_DIR/nfs/export: what ganesha serves */

static void t_log(const struct scopefs_host *h, int level, const char *fmt,
		  ...)
{
	va_list ap;
	char line[1024];

	(void)h;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "[nfs plugin, level %d] %s\n", level, line);
}

static void t_set_error(const struct scopefs_host *h, const char *fmt, ...)
{
	va_list ap;

	(void)h;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
}

static const char *t_config_get(const struct scopefs_host *h,
				const char *key)
{
	(void)h;
	(void)key;
	return NULL;
}

static int t_parse_bool(const char *s, int *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "1"))
		return *out = 1, 0;
	if (!strcmp(s, "no") || !strcmp(s, "0"))
		return *out = 0, 0;
	return -EINVAL;
}

static int t_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'M': v <<= 20; end++; break;
	case 'G': v <<= 30; end++; break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

static const struct scopefs_host host = {
	.struct_size = sizeof(struct scopefs_host),
	.abi_major = SCOPEFS_ABI_MAJOR,
	.abi_minor = SCOPEFS_ABI_MINOR,
	.backend_name = "test",
	.log = t_log,
	.set_error = t_set_error,
	.config_get = t_config_get,
	.parse_bool = t_parse_bool,
	.parse_size = t_parse_size,
};

static void load_plugin(void)
{
	const char *dir = getenv("SCOPEFS_TEST_PLUGIN_DIR");
	const char *o = getenv("O");
	char path[PATH_MAX];
	scopefs_plugin_entry_fn entry;

	if (dir) {
		snprintf(path, sizeof path, "%s/scopefs-nfs.so", dir);
		if (access(path, F_OK) != 0)
			snprintf(path, sizeof path, "%s/nfs/scopefs-nfs.so", dir);
	} else {
		snprintf(path, sizeof path, "%s/plugins/nfs/scopefs-nfs.so",
			 o && *o ? o : ".");
	}
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	cr_assert(dl != NULL, "dlopen %s: %s", path, dlerror());
	entry = (scopefs_plugin_entry_fn)(uintptr_t)dlsym(
		dl, SCOPEFS_PLUGIN_ENTRY_NAME);
	cr_assert(entry != NULL);
	P = entry();
	F = P->fs;
	cr_assert(eq(int, P->kind, SCOPEFS_KIND_FS));
	cr_assert(eq(int, P->backend_open(&host, &backend), 0));
}

static void teardown(void)
{
	if (mnt)
		P->mount_close(mnt);
	mnt = NULL;
	if (backend)
		P->backend_close(backend);
	backend = NULL;
	if (dl)
		dlclose(dl);
	dl = NULL;
}

/* KEY = VALUE must be refused with EINVAL and a message containing WANT. */
static void refused(const char *key, const char *value, const char *want)
{
	last_error[0] = '\0';
	cr_assert(eq(int, P->config(backend, key, value), -EINVAL),
		  "%s = %s: expected -EINVAL", key, value);
	cr_assert(strstr(last_error, want) != NULL,
		  "%s = %s: expected an error naming '%s', saw '%s'", key,
		  value, want, last_error);
}

TestSuite(nfs_config, .init = load_plugin, .fini = teardown);

Test(nfs_config, url_is_required)
{
	cr_assert(eq(int, P->config_complete(backend), -EINVAL));
	cr_assert(strstr(last_error, "url") != NULL, "saw '%s'", last_error);
}

Test(nfs_config, bad_urls_are_refused_with_the_reason)
{
	refused("url", "http://host/export", "nfs://HOST");
	refused("url", "nfs://host", "nfs://HOST");
	refused("url", "nfs:///export", "nfs://HOST");
	refused("url", "nfs://host/", "export");
	refused("url", "nfs://host/export/../etc", "'..'");
	refused("url", "nfs://host/export/./x", "'..'");
	refused("url", "nfs://host/export?version=4", "version must be 3");
	refused("url", "nfs://host/export?uid=0", "unknown parameter 'uid'");
	refused("url", "nfs://host/export?nfsport=0", "nfsport");
	refused("url", "nfs://host/export?mountport=70000", "mountport");
	refused("url", "nfs://user@host/export", "user");
}

Test(nfs_config, good_urls_are_taken)
{
	cr_assert(eq(int, P->config(backend, "url", "nfs://h/export"), 0));
	cr_assert(eq(int, P->config(backend, "url",
				    "nfs://h:2049/a/b/?version=3&nfsport=1"
				    "&mountport=2"), 0));
	cr_assert(eq(int, P->config_complete(backend), 0));
}

Test(nfs_config, other_keys_are_checked)
{
	refused("prefix", "a/../b", "'..'");
	refused("prefix", "a//b", "'..'");
	refused("connections", "0", "connections");
	refused("connections", "65", "connections");
	refused("timeout", "0", "timeout");
	refused("timeout", "soon", "timeout");
	refused("retries", "11", "retries");
	refused("uid", "-1", "uid");
	refused("gid", "root", "gid");
	refused("low_space_warning", "0%", "low_space_warning");
	refused("low_space_warning", "100%", "low_space_warning");
	refused("low_space_warning", "lots", "low_space_warning");
	refused("root", "/srv", "unknown key 'root'");
	cr_assert(eq(int, P->config(backend, "prefix", "/a/b/"), 0));
	cr_assert(eq(int, P->config(backend, "connections", "8"), 0));
	cr_assert(eq(int, P->config(backend, "timeout", "2.5"), 0));
	cr_assert(eq(int, P->config(backend, "retries", "0"), 0));
	cr_assert(eq(int, P->config(backend, "uid", "1000"), 0));
	cr_assert(eq(int, P->config(backend, "low_space_warning", "10%"), 0));
	cr_assert(eq(int, P->config(backend, "low_space_warning", "5G"), 0));
}

/* ---- against the server ------------------------------------------------ */

/* Mount PREFIX under a base of this test's own, or skip without a server. */
static void mount_on_server(void)
{
	const char *np = getenv("NFS_PORT"), *mp = getenv("MNT_PORT");
	const char *run = getenv("RUN_DIR");
	char url[256];

	load_plugin();
	if (!np || !mp || !run)
		cr_skip_test("no NFS_PORT, MNT_PORT and RUN_DIR (start_nfs of "
			     "tests/servers/servers.sh)");
	snprintf(export_dir, sizeof export_dir, "%s/nfs/export", run);
	snprintf(base, sizeof base, "unit-%d", (int)getpid());
	snprintf(url, sizeof url, "nfs://127.0.0.1/export?version=3&nfsport=%s"
		 "&mountport=%s", np, mp);
	cr_assert(eq(int, P->config(backend, "url", url), 0));
	cr_assert(eq(int, P->config(backend, "prefix", base), 0));
	cr_assert(eq(int, P->config(backend, "timeout", "5"), 0));
	cr_assert(eq(int, P->config_complete(backend), 0));
	int r = P->mount_open(backend, PREFIX, 0, &mnt);
	if (r < 0 && getenv("SCOPEFS_REQUIRE_SERVERS") == NULL)
		cr_skip_test("no ganesha answers: %s", last_error);
	cr_assert(eq(int, r, 0), "mount_open: %s", last_error);
}

static const char *on_server(const char *rel)
{
	static char p[PATH_MAX + 128];

	snprintf(p, sizeof p, "%s/%s/%s", export_dir, base, rel);
	return p;
}

static void server_teardown(void)
{
	char cmd[PATH_MAX + 128];

	teardown();
	if (base[0] && export_dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s/%s'", export_dir, base);
		(void)!system(cmd);
	}
}

TestSuite(nfs_server, .init = mount_on_server, .fini = server_teardown);

Test(nfs_server, mount_open_makes_the_prefix_and_files_land_in_it)
{
	struct stat st;
	void *fh = NULL;
	struct scopefs_caller who = { 0, 0, 1, 022 };

	cr_assert(eq(int, stat(on_server(PREFIX), &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & S_IFMT), S_IFDIR));
	cr_assert(eq(int, F->create(mnt, "f", O_WRONLY | O_EXCL, 0640, &who,
				    &fh, &st), 0));
	cr_assert(eq(sz, (size_t)F->write(mnt, fh, "hello", 5, 0), 5));
	cr_assert(eq(int, F->release(mnt, fh), 0));
	cr_assert(eq(int, stat(on_server(PREFIX "/f"), &st), 0));
	cr_assert(eq(sz, (size_t)st.st_size, 5));
	cr_assert(eq(int, (int)(st.st_mode & 07777), 0640));
}

Test(nfs_server, paths_of_another_form_are_refused)
{
	struct stat st;
	const char *bad[] = { "../x", "a/../b", "", "/etc", "a//b", "./a",
			      "a/.", ".." };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert(eq(int, F->getattr(mnt, bad[i], NULL, &st), -EINVAL),
			  "getattr '%s'", bad[i]);
	cr_assert(eq(int, F->mkdir(mnt, "../up", 0755, NULL, &st), -EINVAL));
	cr_assert(eq(int, F->rename(mnt, "a", "../b", 0), -EINVAL));
}

Test(nfs_server, a_symlink_out_of_the_prefix_is_never_followed)
{
	char outside[PATH_MAX + 256], target[PATH_MAX + 256];
	struct stat st;
	void *fh = NULL;

	/* another client plants BASE/outside/secret and two symlinks to it
	 * in the mount, one relative, one absolute (export path) */
	snprintf(outside, sizeof outside, "%s", on_server("outside"));
	cr_assert(eq(int, mkdir(outside, 0755), 0));
	strcat(outside, "/secret");
	FILE *f = fopen(outside, "w");
	cr_assert(f != NULL);
	fputs("secret\n", f);
	fclose(f);
	cr_assert(eq(int, symlink("../../../outside", on_server(PREFIX "/rel")),
		     0));
	snprintf(target, sizeof target, "/export/%s/outside", base);
	cr_assert(eq(int, symlink(target, on_server(PREFIX "/abs")), 0));

	cr_assert(eq(int, F->getattr(mnt, "rel", NULL, &st), 0));
	cr_assert(eq(int, (int)(st.st_mode & S_IFMT), S_IFLNK), "rel is shown as the symlink itself");
	const char *through[] = { "rel/secret", "abs/secret" };
	for (int i = 0; i < 2; i++) {
		cr_assert(F->getattr(mnt, through[i], NULL, &st) < 0,
			  "getattr %s reached outside the prefix", through[i]);
		cr_assert(F->open(mnt, through[i], O_RDONLY, &fh) < 0,
			  "open %s reached outside the prefix", through[i]);
		cr_assert(F->unlink(mnt, through[i]) < 0);
		cr_assert(F->chmod(mnt, through[i], NULL, 0777) < 0);
	}
	cr_assert(F->open(mnt, "rel", O_RDONLY, &fh) < 0,
		  "open follows no final symlink");
	cr_assert(eq(int, stat(outside, &st), 0), "the secret is still there");
	cr_assert(eq(int, (int)(st.st_mode & 0777), 0644));
}

Test(nfs_server, io_larger_than_the_server_maximum_comes_back_whole)
{
	const size_t n = 5u << 20; /* ganesha's rtmax and wtmax are 1 MiB */
	char *out = malloc(n), *in = malloc(n);
	struct scopefs_caller who = { 0, 0, 1, 022 };
	struct stat st;
	void *fh = NULL;

	cr_assert(out && in);
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(i * 7 + i / 4096);
	cr_assert(eq(int, F->create(mnt, "big", O_RDWR, 0644, &who, &fh, &st),
		     0));
	cr_assert(eq(sz, (size_t)F->write(mnt, fh, out, n, 3), n));
	cr_assert(eq(int, F->fsync(mnt, fh, 0), 0));
	cr_assert(eq(sz, (size_t)F->read(mnt, fh, in, n, 3), n));
	cr_assert(memcmp(in, out, n) == 0, "the data read back differs");
	cr_assert(eq(int, F->release(mnt, fh), 0));
	free(in);
	free(out);
}

Test(nfs_server, statfs_gives_the_exports_capacity)
{
	struct statvfs sv, local;

	cr_assert(eq(int, F->statfs(mnt, ".", &sv), 0));
	cr_assert(eq(int, statvfs(export_dir, &local), 0));
	cr_assert(eq(u64, (uint64_t)sv.f_blocks * sv.f_frsize,
		     (uint64_t)local.f_blocks * local.f_frsize));
}
