/*
 * The plugin loader: lookup by name and path, the plugin directory's
 * precedence, and one refusal per way a file can fail to be a plugin of
 * this ABI, each with the message a user would see.
 *
 * Fixture plugins (tests/fixtures/NAME.c) are compiled at run time into a
 * temporary directory.  Run from the repository root.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"

/* The Makefile defines it for the core and the tests alike. */
#ifndef SCOPEFS_PLUGINDIR
#define SCOPEFS_PLUGINDIR "/usr/local/lib/scopefs/plugins"
#endif

/* mkdtemp("/tmp/scopefs-test-loader-XXXXXX"): short, so paths built
 * from it fit PATH_MAX buffers. */
static char tmp[64];

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void setup(void)
{
	strcpy(tmp, "/tmp/scopefs-test-loader-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
	cr_assert_eq(access("tests/fixtures/fixture.h", R_OK), 0,
		     "run the tests from the repository root");
	unsetenv("SCOPEFS_PLUGIN_DIR");
}

static void teardown(void)
{
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(loader, .init = setup, .fini = teardown);

/* Run a shell command; its output goes to tmp/cmd.log, which is printed
 * when it fails.  Returns the exit status. */
static int run(const char *fmt, ...) SCOPEFS_PRINTF(1, 2);
static int run(const char *fmt, ...)
{
	char body[2 * PATH_MAX], cmd[3 * PATH_MAX], line[512];
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "{ %s; } >%s/cmd.log 2>&1", body, tmp);
	st = system(cmd);
	st = st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	snprintf(cmd, sizeof(cmd), "%s/cmd.log", tmp);
	if (st != 0 && (f = fopen(cmd, "r"))) {
		fprintf(stderr, "command failed (%d): %s\n", st, body);
		while (fgets(line, sizeof(line), f))
			fputs(line, stderr);
		fclose(f);
	}
	return st;
}

static const char *cc(void)
{
	const char *c = getenv("CC");
	return c && *c ? c : "cc";
}

/* Compile tests/fixtures/NAME.c into OUT (a path under tmp). */
static void build_fixture(const char *name, const char *out)
{
	cr_assert_eq(run("%s -std=c11 -D_FILE_OFFSET_BITS=64 -shared -fPIC "
			 "-Iinclude -o %s tests/fixtures/%s.c",
			 cc(), out, name),
		     0, "cannot compile fixture %s", name);
}

/* Compile fixture NAME into tmp/scopefs-NAME.so; return that path. */
static const char *fixture(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/scopefs-%s.so", tmp, name);
	build_fixture(name, path);
	return path;
}

#define assert_has(err, want)                                                 \
	cr_assert(strstr((err), (want)) != NULL,                              \
		  "message lacks \"%s\"\n  got: \"%s\"", (want), (err))

/* Load PATH expecting a refusal; return the message. */
static const char *refusal(const char *path)
{
	static char err[1024];
	struct plugin *p = (void *)1;
	int r;

	r = loader_load(path, NULL, &p, err, sizeof(err));
	cr_assert_lt(r, 0, "%s loaded, expected a refusal", path);
	cr_assert_null(p, "out must be NULL after a refusal");
	assert_has(err, path);
	return err;
}

/* The in-tree local plugin once built, else the example.  BUF holds
 * PATH_MAX bytes. */
static const char *good_plugin(char *buf)
{
	const char *o = getenv("O");
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/plugins/local/scopefs-local.so",
		 o && *o ? o : ".");
	if (realpath(rel, buf))
		return buf;
	snprintf(buf, PATH_MAX, "%s/scopefs-hello.so", tmp);
	cr_assert_eq(run("%s -std=c11 -D_FILE_OFFSET_BITS=64 -shared -fPIC "
			 "-Iinclude -o %s examples/hello/hello.c",
			 cc(), buf),
		     0, "cannot compile the example");
	return buf;
}

Test(loader, loads_a_good_plugin_and_copies_its_tables)
{
	char path[PATH_MAX], err[512];
	struct plugin *p = NULL;

	good_plugin(path);
	cr_assert_eq(loader_load(path, NULL, &p, err, sizeof(err)), 0,
		     "%s: %s", path, err);
	cr_assert_str_eq(p->path, path);
	cr_assert_eq(p->desc.abi_major, SCOPEFS_ABI_MAJOR);
	cr_assert_eq(p->desc.kind, SCOPEFS_KIND_FS);
	cr_assert(p->has_fs && !p->has_obj);
	cr_assert(p->fs.getattr && p->fs.readdir && p->fs.open &&
		  p->fs.create && p->fs.read && p->fs.write && p->fs.release);
	cr_assert(strcmp(p->desc.name, "local") == 0 ||
			  strcmp(p->desc.name, "hello") == 0,
		  "name \"%s\"", p->desc.name);
	loader_unload(p);
}

Test(loader, refuses_a_text_file_named_like_a_plugin)
{
	char path[PATH_MAX + 32];
	const char *err;

	snprintf(path, sizeof(path), "%s/scopefs-bad.so", tmp);
	cr_assert_eq(run("cp tests/fixtures/not-a-plugin.txt %s", path), 0);
	err = refusal(path);
	assert_has(err, "not a shared object (expected an ELF shared library");
	assert_has(err, "found text: \"This is a text file");
}

Test(loader, refuses_an_object_file)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/scopefs-obj.so", tmp);
	cr_assert_eq(run("%s -c -fPIC -Iinclude -o %s tests/fixtures/good.c",
			 cc(), path),
		     0);
	assert_has(refusal(path), "found an ELF object file");
}

Test(loader, refuses_a_missing_file)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/nowhere.so", tmp);
	assert_has(refusal(path), "cannot open plugin: No such file");
}

Test(loader, refuses_another_abi_major)
{
	char want[160];

	snprintf(want, sizeof(want),
		 "plugin ABI %d.0, this scopefs speaks ABI %d.x: rebuild the "
		 "plugin against scopefs-plugin %d.x",
		 SCOPEFS_ABI_MAJOR + 1, SCOPEFS_ABI_MAJOR, SCOPEFS_ABI_MAJOR);
	assert_has(refusal(fixture("wrong_major")), want);
}

Test(loader, refuses_a_library_without_the_entry_symbol)
{
	assert_has(refusal(fixture("no_entry")),
		   "no entry symbol 'scopefs_plugin_entry' (not a scopefs "
		   "plugin, or built without SCOPEFS_REGISTER_PLUGIN)");
}

Test(loader, refuses_an_entry_returning_null)
{
	assert_has(refusal(fixture("null_entry")),
		   "scopefs_plugin_entry() returned NULL");
}

Test(loader, refuses_a_description_smaller_than_abi_1_0)
{
	char want[128];

	snprintf(want, sizeof(want),
		 "plugin description is %zu bytes (struct_size), expected at "
		 "least %zu",
		 offsetof(struct scopefs_plugin, mount_open),
		 offsetof(struct scopefs_plugin, fs));
	assert_has(refusal(fixture("too_small")), want);
}

Test(loader, refuses_an_fs_plugin_without_a_required_op)
{
	assert_has(refusal(fixture("missing_write")), "fs ops have no write");
}

Test(loader, loads_an_object_plugin)
{
	struct plugin *p = NULL;
	char err[512];

	cr_assert_eq(loader_load(fixture("object_good"), NULL, &p, err,
				 sizeof(err)),
		     0, "%s", err);
	cr_assert(p->has_obj && !p->has_fs);
	cr_assert_eq(p->obj.max_parts, 10000);
	cr_assert_not_null(p->obj.mpu_abort);
	cr_assert_null(p->obj.copy);
	loader_unload(p);
}

/* A store plugin built for ABI 1.1 keeps loading under 1.2: what 1.2
 * appended (put_new, meta_max) reads as absent, whatever lies past the
 * plugin's struct_size. */
Test(loader, object_plugin_of_abi_1_1_loads_without_put_new)
{
	struct plugin *p = NULL;
	char err[512];

	cr_assert_eq(loader_load(fixture("object_abi_1_1"), NULL, &p, err,
				 sizeof(err)),
		     0, "%s", err);
	cr_assert(p->has_obj);
	cr_assert_not_null(p->obj.mpu_abort);
	cr_assert_null(p->obj.put_new,
		       "put_new was copied from beyond struct_size");
	cr_assert_eq(p->obj.meta_max, 0);
	loader_unload(p);
}

Test(loader, object_plugin_of_abi_1_2_passes_put_new_and_meta_max)
{
	struct plugin *p = NULL;
	char err[512];

	cr_assert_eq(loader_load(fixture("object_good"), NULL, &p, err,
				 sizeof(err)),
		     0, "%s", err);
	cr_assert_not_null(p->obj.put_new);
	cr_assert_eq(p->obj.meta_max, 2048);
	loader_unload(p);
}

Test(loader, refuses_an_object_plugin_without_a_required_primitive)
{
	assert_has(refusal(fixture("object_missing_list")),
		   "object ops have no list");
}

Test(loader, refuses_can_copy_without_a_copy_op)
{
	assert_has(refusal(fixture("object_copy_flag")),
		   "sets SCOPEFS_OBJ_CAN_COPY but has no copy");
}

Test(loader, refuses_an_object_table_of_abi_1_0)
{
	assert_has(refusal(fixture("object_abi_1_0")),
		   "object ops table is 8 bytes (struct_size), expected at "
		   "least");
}

Test(loader, older_minor_reads_fields_past_its_struct_size_as_null)
{
	struct plugin *p = NULL;
	char err[512];

	cr_assert_eq(loader_load(fixture("old_minor"), NULL, &p, err,
				 sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(p->desc.struct_size,
		     offsetof(struct scopefs_plugin, object));
	cr_assert_not_null(p->desc.fs);
	cr_assert_null(p->desc.object,
		       "object was copied from beyond struct_size");
	cr_assert(p->has_fs);
	loader_unload(p);
}

Test(loader, newer_minor_loads_and_only_known_fields_are_copied)
{
	struct plugin *p = NULL;
	char err[512];

	cr_assert_eq(loader_load(fixture("newer_minor"), NULL, &p, err,
				 sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(p->desc.abi_minor, SCOPEFS_ABI_MINOR + 1);
	cr_assert_gt(p->desc.struct_size, sizeof(struct scopefs_plugin));
	cr_assert(p->has_fs);
	loader_unload(p);
}

Test(loader, finds_a_name_as_dir_scopefs_name_so)
{
	struct plugin *p = NULL;
	char err[512];

	fixture("good");
	cr_assert_eq(loader_load("good", tmp, &p, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert(strstr(p->path, "/scopefs-good.so") &&
			  !strstr(p->path, "/good/"),
		  "loaded %s", p->path);
	loader_unload(p);
}

Test(loader, finds_a_name_in_the_source_tree_layout)
{
	char so[PATH_MAX + 64], err[512];
	struct plugin *p = NULL;

	snprintf(so, sizeof(so), "%s/good", tmp);
	cr_assert_eq(mkdir(so, 0755), 0);
	strcat(so, "/scopefs-good.so");
	build_fixture("good", so);
	cr_assert_eq(loader_load("good", tmp, &p, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_str_eq(p->path, so);
	loader_unload(p);
}

Test(loader, prefers_the_flat_layout_when_both_exist)
{
	char nested[PATH_MAX + 64], err[512];
	struct plugin *p = NULL;

	snprintf(nested, sizeof(nested), "%s/good", tmp);
	cr_assert_eq(mkdir(nested, 0755), 0);
	strcat(nested, "/scopefs-good.so");
	build_fixture("good", nested);
	fixture("good");
	cr_assert_eq(loader_load("good", tmp, &p, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_str_neq(p->path, nested);
	loader_unload(p);
}

Test(loader, names_both_candidates_when_a_name_is_not_found)
{
	char want[PATH_MAX + 64], err[1024];
	struct plugin *p = NULL;

	cr_assert_eq(loader_load("absent", tmp, &p, err, sizeof(err)),
		     -ENOENT);
	snprintf(want, sizeof(want), "%s/scopefs-absent.so", tmp);
	assert_has(err, want);
	snprintf(want, sizeof(want), "%s/absent/scopefs-absent.so", tmp);
	assert_has(err, want);
}

Test(loader, refuses_a_relative_path)
{
	const char *paths[] = { "./scopefs-local.so",
				"plugins/local/scopefs-local.so" };
	struct plugin *p = NULL;
	char err[512];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		cr_assert_eq(loader_load(paths[i], tmp, &p, err, sizeof(err)),
			     -EINVAL, "%s", paths[i]);
		assert_has(err, paths[i]);
		assert_has(err, "use a plugin name or an absolute path");
	}
}

Test(loader, refuses_a_name_with_other_characters)
{
	struct plugin *p = NULL;
	char err[512];

	cr_assert_eq(loader_load("scopefs-local.so", tmp, &p, err,
				 sizeof(err)),
		     -EINVAL);
	assert_has(err, "'scopefs-local.so': not a plugin name");
}

Test(loader, plugin_dir_is_env_then_config_then_default)
{
	setenv("SCOPEFS_PLUGIN_DIR", "/from/env", 1);
	cr_assert_str_eq(loader_plugin_dir("/from/config"), "/from/env");
	setenv("SCOPEFS_PLUGIN_DIR", "", 1);
	cr_assert_str_eq(loader_plugin_dir("/from/config"), "/from/config");
	unsetenv("SCOPEFS_PLUGIN_DIR");
	cr_assert_str_eq(loader_plugin_dir("/from/config"), "/from/config");
	cr_assert_str_eq(loader_plugin_dir(NULL), SCOPEFS_PLUGINDIR);
}

Test(loader, env_plugin_dir_wins_when_loading_by_name)
{
	char env_dir[PATH_MAX + 8], cfg_dir[PATH_MAX + 8];
	char so[PATH_MAX + 64], err[512];
	struct plugin *p = NULL;

	snprintf(env_dir, sizeof(env_dir), "%s/env", tmp);
	snprintf(cfg_dir, sizeof(cfg_dir), "%s/cfg", tmp);
	cr_assert_eq(mkdir(env_dir, 0755), 0);
	cr_assert_eq(mkdir(cfg_dir, 0755), 0);
	snprintf(so, sizeof(so), "%s/scopefs-good.so", cfg_dir);
	build_fixture("good", so);
	snprintf(so, sizeof(so), "%s/scopefs-good.so", env_dir);
	build_fixture("good", so);

	setenv("SCOPEFS_PLUGIN_DIR", env_dir, 1);
	cr_assert_eq(loader_load("good", loader_plugin_dir(cfg_dir), &p, err,
				 sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(p->path, so);
	loader_unload(p);
}

Test(loader, err_is_terminated_when_too_short)
{
	struct plugin *p = NULL;
	char err[16];

	memset(err, 'x', sizeof(err));
	cr_assert_lt(loader_load("a/b", tmp, &p, err, sizeof(err)), 0);
	cr_assert_eq(strlen(err), sizeof(err) - 1, "err \"%.16s\"", err);
	cr_assert_lt(loader_load("a/b", tmp, &p, NULL, 0), 0);
}

/* The out-of-tree path a third party takes: install the header and the
 * .pc file, build examples/hello with its own Makefile through
 * pkg-config, load it by absolute path and run its lifecycle. */

static char host_error[256];

static void host_log(const struct scopefs_host *h, int level,
		     const char *fmt, ...)
{
	(void)h, (void)level, (void)fmt;
}

static void host_set_error(const struct scopefs_host *h, const char *fmt, ...)
{
	va_list ap;

	(void)h;
	va_start(ap, fmt);
	vsnprintf(host_error, sizeof(host_error), fmt, ap);
	va_end(ap);
}

static int fill_one(void *ctx, const char *name, const struct stat *st)
{
	(void)st;
	snprintf(ctx, 64, "%s", name);
	return 0;
}

Test(loader, out_of_tree_example_builds_with_pkg_config_and_runs,
     .timeout = 300)
{
	struct scopefs_host host = {
		.struct_size = sizeof(host),
		.abi_major = SCOPEFS_ABI_MAJOR,
		.abi_minor = SCOPEFS_ABI_MINOR,
		.backend_name = "greet",
		.log = host_log,
		.set_error = host_set_error,
	};
	char so[PATH_MAX + 64], err[512], buf[64], entry[64];
	const struct scopefs_plugin *d;
	struct plugin *p = NULL;
	void *be, *mnt, *fh;
	struct stat st;

	if (run("command -v pkg-config && command -v make") != 0)
		cr_skip_test("pkg-config or make is not installed");
	/* A clean environment: `make test` runs us with its MAKEFLAGS and
	 * `make asan` with O=build-asan; the install builds in tmp. */
	cr_assert_eq(run("env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j4 "
			 "install PREFIX=%s/prefix O=%s/build",
			 tmp, tmp),
		     0, "make install PREFIX=%s/prefix failed", tmp);
	cr_assert_eq(run("cp -r examples/hello %s/hello && "
			 "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "
			 "PKG_CONFIG_PATH=%s/prefix/lib/pkgconfig "
			 "make -C %s/hello CFLAGS='-O2 -Wall -Wextra -Werror'",
			 tmp, tmp, tmp),
		     0, "the example does not build out of tree");

	snprintf(so, sizeof(so), "%s/hello/scopefs-hello.so", tmp);
	cr_assert_eq(loader_load(so, NULL, &p, err, sizeof(err)), 0, "%s",
		     err);
	d = &p->desc;
	cr_assert_str_eq(d->name, "hello");

	cr_assert_eq(d->backend_open(&host, &be), 0);
	cr_assert_eq(d->config(be, "colour", "blue"), -EINVAL);
	assert_has(host_error, "unknown key");
	cr_assert_eq(d->config(be, "greeting", "Hi there"), 0);
	cr_assert_eq(d->config_complete(be), 0);
	cr_assert_eq(d->mount_open(be, "users/alice", SCOPEFS_MOUNT_READ_ONLY,
				   &mnt),
		     0);

	cr_assert_eq(p->fs.readdir(mnt, ".", fill_one, entry), 0);
	cr_assert_str_eq(entry, "hello.txt");
	cr_assert_eq(p->fs.getattr(mnt, "hello.txt", NULL, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 9);
	cr_assert_eq(p->fs.getattr(mnt, "nope", NULL, &st), -ENOENT);
	cr_assert_eq(p->fs.open(mnt, "hello.txt", O_WRONLY, &fh), -EROFS);
	cr_assert_eq(p->fs.open(mnt, "hello.txt", O_RDONLY, &fh), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(p->fs.read(mnt, fh, buf, sizeof(buf), 0), 9);
	cr_assert_str_eq(buf, "Hi there\n");
	cr_assert_eq(p->fs.read(mnt, fh, buf, sizeof(buf), 9), 0);
	cr_assert_eq(p->fs.release(mnt, fh), 0);

	d->mount_close(mnt);
	d->backend_close(be);
	loader_unload(p);
}
