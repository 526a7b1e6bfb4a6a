/* config: a good file parsed into the struct, and each kind of mistake
 * reported as FILE:LINE: [section] key: message, all of them at once. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <scopefs/plugin.h>
#include "config.h"

#define DIR_TEMPLATE "/tmp/scopefs-test-config-XXXXXX"
static char dir[sizeof DIR_TEMPLATE];
static char path[sizeof dir + 32];
static char err[8192];
static struct config *cfg;

static void setup(void)
{
	memcpy(dir, DIR_TEMPLATE, sizeof dir);
	cr_assert_not_null(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof path, "%s/test.conf", dir);
}

static void teardown(void)
{
	config_free(cfg);
	cfg = NULL;
	unlink(path);
	rmdir(dir);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Write TEXT to the test's config file and load it. */
static int load(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "fopen %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
	return config_load(path, &cfg, err, sizeof err);
}

static void expect_ok(const char *text)
{
	int r = load(text);

	cr_assert_eq(r, 0, "expected the config to load, saw %d:\n%s", r, err);
	cr_assert_not_null(cfg);
	cr_assert_str_eq(err, "", "expected no error text, saw:\n%s", err);
}

/* Load TEXT, expect -EINVAL and an error line containing
 * "test.conf:WANT" (WANT starts with the line number). */
static void expect_error(const char *text, const char *want)
{
	char needle[512];
	int r = load(text);

	snprintf(needle, sizeof needle, "test.conf:%s", want);
	cr_assert_eq(r, -EINVAL, "expected -EINVAL, saw %d; errors:\n%s", r, err);
	cr_assert_null(cfg, "no config expected on failure");
	cr_assert(strstr(err, needle), "expected an error containing\n  %s\nseen:\n%s",
		  needle, err);
}

/* Another error of the same load. */
static void expect_also(const char *want)
{
	char needle[512];

	snprintf(needle, sizeof needle, "test.conf:%s", want);
	cr_assert(strstr(err, needle), "expected an error containing\n  %s\nseen:\n%s",
		  needle, err);
}

static int count_lines(const char *s)
{
	int n = *s ? 1 : 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#define BACKEND "[backend b]\nplugin = local\n"

/* --- good files ------------------------------------------------------------ */

Test(config, full_config_is_parsed_into_the_struct)
{
	expect_ok("; a comment\n"                       /* 1 */
		  "[scopefs]\n"                          /* 2 */
		  "plugin_dir = /opt/scopefs/plugins\n"  /* 3 */
		  "cache_dir = /var/tmp/sc\n"            /* 4 */
		  "log_level = debug\n"                  /* 5 */
		  "\n"                                   /* 6 */
		  "[identity]\n"                         /* 7 */
		  "cloud_id = cld_1\n"                   /* 8 */
		  "user_id = usr_2\n"                    /* 9 */
		  "workload = job\n"                     /* 10 */
		  "workload_id = prodjob_3\n"            /* 11 */
		  "[backend store]\n"                    /* 12 */
		  "region = us-west-2\n"                 /* 13 */
		  "plugin = s3\n"                        /* 14 */
		  "bucket = bkt\n"                       /* 15 */
		  "[mount /mnt/cluster_storage]\n"       /* 16 */
		  "backend = store\n"                    /* 17 */
		  "scope = cluster\n"                    /* 18 */
		  "read_only = yes\n"                    /* 19 */
		  "uid = 1000\n"                         /* 20 */
		  "gid = root\n"                         /* 21 */
		  "umask = 027\n"                        /* 22 */
		  "cache_ttl = 2.5\n"                    /* 23 */
		  "writeback_cache = no\n"               /* 24 */
		  "[mount /mnt/shared]\n"                /* 25 */
		  "backend = store\n"                    /* 26 */
		  "scope = cloud\n"                      /* 27 */
		  "prefix = clouds/{cloud_id}/{JOB_ID}\n"); /* 28 */

	cr_assert_str_eq(cfg->file, path);
	cr_assert_str_eq(cfg->plugin_dir, "/opt/scopefs/plugins");
	cr_assert_str_eq(cfg->cache_dir, "/var/tmp/sc");
	cr_assert_eq(cfg->log_level, SCOPEFS_LOG_DEBUG);
	cr_assert_str_eq(cfg->id.cloud_id, "cld_1");
	cr_assert_str_eq(cfg->id.user_id, "usr_2");
	cr_assert_eq(cfg->id.workload, WORKLOAD_JOB);
	cr_assert_str_eq(cfg->id.workload_id, "prodjob_3");

	cr_assert_eq(cfg->nbackends, 1);
	struct cfg_backend *b = &cfg->backends[0];
	cr_assert_str_eq(b->name, "store");
	cr_assert_str_eq(b->plugin, "s3");
	cr_assert_eq(b->line, 12);
	cr_assert_eq(b->plugin_line, 14);
	cr_assert_eq(b->nkeys, 2, "expected 2 plugin keys, saw %zu", b->nkeys);
	cr_assert_str_eq(b->keys[0].key, "region");
	cr_assert_str_eq(b->keys[0].value, "us-west-2");
	cr_assert_eq(b->keys[0].line, 13);
	cr_assert_str_eq(b->keys[1].key, "bucket");
	cr_assert_str_eq(b->keys[1].value, "bkt");
	cr_assert_eq(b->keys[1].line, 15);

	cr_assert_eq(cfg->nmounts, 2);
	struct cfg_mount *m = &cfg->mounts[0];
	cr_assert_str_eq(m->path, "/mnt/cluster_storage");
	cr_assert_eq(m->line, 16);
	cr_assert_str_eq(m->backend, "store");
	cr_assert_eq(m->be, b, "mount's backend should resolve to [backend store]");
	cr_assert_eq(m->scope, SCOPE_CLUSTER);
	cr_assert_eq(m->read_only, 1);
	cr_assert(m->has_uid && m->uid == 1000, "uid: expected 1000, saw %u (has %d)",
		  (unsigned)m->uid, m->has_uid);
	cr_assert(m->has_gid && m->gid == 0, "gid root: expected 0, saw %u (has %d)",
		  (unsigned)m->gid, m->has_gid);
	cr_assert(m->has_umask && m->umask == 027, "umask: expected 027, saw %o",
		  (unsigned)m->umask);
	cr_assert_float_eq(m->cache_ttl, 2.5, 1e-9);
	cr_assert_eq(m->writeback_cache, CFG_NO);
	cr_assert_null(m->prefix_template);
	cr_assert_str_eq(m->prefix, "job/prodjob_3/cluster_storage");

	m = &cfg->mounts[1];
	cr_assert_str_eq(m->path, "/mnt/shared");
	cr_assert_eq(m->scope, SCOPE_CLOUD);
	cr_assert_str_eq(m->prefix_template, "clouds/{cloud_id}/{JOB_ID}");
	cr_assert_eq(m->prefix_line, 28);
	cr_assert_str_eq(m->prefix, "clouds/cld_1/prodjob_3");
}

Test(config, defaults_apply_to_keys_left_out)
{
	expect_ok(BACKEND "[mount /m]\nbackend = b\nscope = cloud\n");
	cr_assert_null(cfg->plugin_dir);
	cr_assert_str_eq(cfg->cache_dir, "/var/cache/scopefs");
	cr_assert_eq(cfg->log_level, SCOPEFS_LOG_INFO);
	cr_assert_eq(cfg->id.workload, WORKLOAD_NONE);
	struct cfg_mount *m = &cfg->mounts[0];
	cr_assert_eq(m->read_only, 0);
	cr_assert(!m->has_uid && !m->has_gid && !m->has_umask);
	cr_assert_float_eq(m->cache_ttl, 1.0, 1e-9);
	cr_assert_eq(m->writeback_cache, CFG_AUTO);
	cr_assert_str_eq(m->prefix, "shared_storage");
}

Test(config, cloud_scope_mount_needs_no_identity)
{
	expect_ok(BACKEND "[mount /mnt/shared_storage]\nbackend = b\nscope = cloud\n");
	cr_assert_eq(cfg->nmounts, 1);
}

Test(config, user_scope_needs_only_user_id)
{
	expect_ok("[identity]\nuser_id = u5\n" BACKEND
		  "[mount /u]\nbackend = b\nscope = user\n");
	cr_assert_str_eq(cfg->mounts[0].prefix, "user_storage/u5");
}

Test(config, indented_keys_are_keys_not_continuation_lines)
{
	expect_ok(BACKEND "[mount /m]\n    backend = b\n    scope = cloud\n\tread_only = true\n");
	cr_assert_str_eq(cfg->mounts[0].backend, "b");
	cr_assert_eq(cfg->mounts[0].scope, SCOPE_CLOUD);
	cr_assert_eq(cfg->mounts[0].read_only, 1);
}

Test(config, comments_and_inline_comments_are_ignored)
{
	expect_ok("# hash comment\n; semicolon comment\n"
		  "[backend b] ; header comment\nplugin = local ; inline\n"
		  "[mount /m]\nbackend = b\nscope = cloud ; the whole cloud\n");
	cr_assert_str_eq(cfg->backends[0].plugin, "local");
	cr_assert_eq(cfg->mounts[0].scope, SCOPE_CLOUD);
}

Test(config, mount_path_is_normalised)
{
	expect_ok(BACKEND "[mount //mnt//data/]\nbackend = b\nscope = cloud\n");
	cr_assert_str_eq(cfg->mounts[0].path, "/mnt/data");
}

Test(config, plugin_may_be_an_absolute_path)
{
	expect_ok("[backend b]\nplugin = /opt/x/scopefs-x.so\n[mount /m]\nbackend = b\nscope = cloud\n");
	cr_assert_str_eq(cfg->backends[0].plugin, "/opt/x/scopefs-x.so");
}

Test(config, values_and_section_names_expand_environment_variables)
{
	setenv("SCOPEFS_T_MNT", "/mnt/env", 1);
	setenv("SCOPEFS_T_BUCKET", "bkt-from-env", 1);
	setenv("SCOPEFS_T_JOB", "envjob_1", 1);
	unsetenv("SCOPEFS_T_UNSET");
	expect_ok("[identity]\nworkload = ${SCOPEFS_T_UNSET:-job}\nworkload_id = ${SCOPEFS_T_JOB}\n"
		  "[backend ${SCOPEFS_T_UNSET:-b}]\nplugin = local\nbucket = ${SCOPEFS_T_BUCKET}\n"
		  "[mount ${SCOPEFS_T_MNT}/cluster]\nbackend = b\nscope = cluster\n");
	cr_assert_eq(cfg->id.workload, WORKLOAD_JOB);
	cr_assert_str_eq(cfg->backends[0].name, "b");
	cr_assert_str_eq(cfg->backends[0].keys[0].value, "bkt-from-env");
	cr_assert_str_eq(cfg->mounts[0].path, "/mnt/env/cluster");
	cr_assert_str_eq(cfg->mounts[0].prefix, "job/envjob_1/cluster_storage");
}

Test(config, empty_identity_value_counts_as_unset)
{
	unsetenv("SCOPEFS_T_UNSET");
	expect_error("[identity]\nworkload = job\nworkload_id = ${SCOPEFS_T_UNSET:-}\n" BACKEND
		     "[mount /c]\nbackend = b\nscope = cluster\n",
		     "8: [mount /c] prefix: {workload_id} has no value: set workload_id in [identity]");
}

Test(config, uid_and_gid_accept_names)
{
	expect_ok(BACKEND "[mount /m]\nbackend = b\nscope = cloud\nuid = root\ngid = 0\n");
	cr_assert_eq(cfg->mounts[0].uid, 0);
	cr_assert_eq(cfg->mounts[0].gid, 0);
}

Test(config, writeback_cache_accepts_auto_yes_no)
{
	expect_ok(BACKEND "[mount /a]\nbackend = b\nscope = cloud\nwriteback_cache = auto\n"
		  "[mount /b]\nbackend = b\nscope = cloud\nwriteback_cache = yes\n"
		  "[mount /c]\nbackend = b\nscope = cloud\nwriteback_cache = no\n");
	cr_assert_eq(cfg->mounts[0].writeback_cache, CFG_AUTO);
	cr_assert_eq(cfg->mounts[1].writeback_cache, CFG_YES);
	cr_assert_eq(cfg->mounts[2].writeback_cache, CFG_NO);
}

Test(config, sibling_mounts_with_a_common_name_start_are_not_nested)
{
	expect_ok(BACKEND "[mount /mnt/a]\nbackend = b\nscope = cloud\n"
		  "[mount /mnt/ab]\nbackend = b\nscope = cloud\n");
	cr_assert_eq(cfg->nmounts, 2);
}

/* --- I/O errors -------------------------------------------------------------- */

Test(config, missing_file_reports_path_and_strerror)
{
	char missing[sizeof path + 16];
	int r;

	snprintf(missing, sizeof missing, "%s/none.conf", dir);
	r = config_load(missing, &cfg, err, sizeof err);
	cr_assert_eq(r, -ENOENT, "expected -ENOENT, saw %d", r);
	cr_assert_null(cfg);
	cr_assert(strstr(err, "none.conf: No such file or directory"),
		  "expected 'FILE: No such file or directory', saw:\n%s", err);
}

Test(config, directory_instead_of_file_reports_strerror)
{
	int r = config_load(dir, &cfg, err, sizeof err);

	cr_assert_eq(r, -EISDIR, "expected -EISDIR, saw %d: %s", r, err);
	cr_assert(strstr(err, "Is a directory"), "saw:\n%s", err);
}

Test(config, small_error_buffer_is_still_terminated)
{
	char small[24];
	FILE *f = fopen(path, "w");

	memset(small, 'x', sizeof small);
	fputs("[nonsense]\n[more nonsense]\n", f);
	fclose(f);
	cr_assert_eq(config_load(path, &cfg, small, sizeof small), -EINVAL);
	cr_assert(memchr(small, '\0', sizeof small), "err not NUL-terminated");
}

/* --- errors, each with its line --------------------------------------------- */

Test(config, unknown_section_is_reported_with_its_line)
{
	expect_error("[scopefs]\n[storage x]\nkey = v\n",
		     "2: [storage x]: unknown section");
}

Test(config, misspelt_section_suggests_the_right_one)
{
	expect_error(BACKEND "[mont /m]\nbackend = b\n",
		     "3: [mont /m]: unknown section");
	cr_assert(strstr(err, "did you mean 'mount'?"), "saw:\n%s", err);
}

Test(config, unknown_key_suggests_the_closest_known_key)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscop = cloud\n",
		     "5: [mount /m] scop: unknown key 'scop' (did you mean 'scope'?)");
}

Test(config, unknown_key_far_from_any_key_gets_no_suggestion)
{
	expect_error("[scopefs]\ncolour = blue\n",
		     "2: [scopefs] colour: unknown key 'colour'");
	cr_assert_null(strstr(err, "did you mean"), "no suggestion expected, saw:\n%s", err);
}

Test(config, unknown_keys_in_scopefs_and_identity_are_reported)
{
	expect_error("[scopefs]\nlog_levl = info\n[identity]\nuser = u\n",
		     "2: [scopefs] log_levl: unknown key 'log_levl' (did you mean 'log_level'?)");
	expect_also("4: [identity] user: unknown key 'user'");
}

Test(config, key_outside_any_section_is_reported)
{
	expect_error("plugin_dir = /x\n[scopefs]\n",
		     "1: plugin_dir: key outside any section");
}

Test(config, line_without_equals_is_a_syntax_error)
{
	expect_error("[scopefs]\njust words\n",
		     "2: [scopefs]: expected 'key = value', found 'just words'");
}

Test(config, header_without_closing_bracket_is_reported)
{
	expect_error("[mount /m\n", "1: section header '[mount /m' has no closing ']'");
}

Test(config, template_variable_without_value_is_reported)
{
	expect_error("[identity]\nworkload = workspace\n" BACKEND
		     "[mount /mnt/cluster_storage]\nbackend = b\nscope = cluster\n",
		     "7: [mount /mnt/cluster_storage] prefix: {workload_id} has no value: set workload_id in [identity]");
}

Test(config, custom_prefix_error_points_at_the_prefix_line)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = cloud\nprefix = x/{nope}\n",
		     "6: [mount /m] prefix: unknown template variable {nope}");
}

Test(config, platform_name_of_other_workload_is_reported)
{
	expect_error("[identity]\nworkload = service\nworkload_id = s1\n" BACKEND
		     "[mount /m]\nbackend = b\nscope = cluster\nprefix = j/{JOB_ID}\n",
		     "9: [mount /m] prefix: {JOB_ID} has no value: workload is service");
}

Test(config, cluster_scope_without_workload_is_reported)
{
	expect_error(BACKEND "[mount /c]\nbackend = b\nscope = cluster\n",
		     "5: [mount /c] scope: cluster scope needs workload");
}

Test(config, identity_value_escaping_the_prefix_is_refused)
{
	setenv("SCOPEFS_T_WID", "../x", 1);
	expect_error("[identity]\nworkload = job\nworkload_id = ${SCOPEFS_T_WID}\n" BACKEND
		     "[mount /c]\nbackend = b\nscope = cluster\n",
		     "8: [mount /c] prefix: {workload_id} may not contain '/'");
}

Test(config, prefix_with_dotdot_is_refused)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = cloud\nprefix = a/../b\n",
		     "6: [mount /m] prefix: prefix 'a/../b' has a '..' component");
}

Test(config, undefined_backend_is_reported)
{
	expect_error(BACKEND "[mount /m]\nbackend = nope\nscope = cloud\n",
		     "4: [mount /m] backend: backend 'nope' is not defined");
}

Test(config, misspelt_backend_suggests_a_defined_one)
{
	expect_error("[backend store]\nplugin = local\n[mount /m]\nbackend = stor\nscope = cloud\n",
		     "4: [mount /m] backend: backend 'stor' is not defined");
	cr_assert(strstr(err, "did you mean 'store'?"), "saw:\n%s", err);
}

Test(config, backend_defined_after_its_mount_is_found)
{
	expect_ok("[mount /m]\nbackend = late\nscope = cloud\n[backend late]\nplugin = local\n");
	cr_assert_eq(cfg->mounts[0].be, &cfg->backends[0]);
}

Test(config, duplicate_backend_name_names_the_first)
{
	expect_error(BACKEND "[backend b]\nplugin = s3\n",
		     "3: [backend b]: duplicate backend name (first defined at line 1)");
}

Test(config, bad_backend_name_is_reported)
{
	expect_error("[backend a/b]\nplugin = local\n", "1: [backend a/b]: bad backend name");
}

Test(config, two_mounts_on_one_path_are_reported)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = cloud\n"
		     "[mount /m/]\nbackend = b\nscope = cloud\n",
		     "6: [mount /m]: two mounts on /m: this one and [mount /m] at line 3");
}

Test(config, nested_mounts_name_both_lines)
{
	expect_error(BACKEND "[mount /mnt/a]\nbackend = b\nscope = cloud\n"
		     "[mount /mnt/a/b]\nbackend = b\nscope = cloud\n",
		     "6: [mount /mnt/a/b]: mount point is nested inside [mount /mnt/a] at line 3");
}

Test(config, outer_mount_after_inner_is_reported)
{
	expect_error(BACKEND "[mount /mnt/a/b]\nbackend = b\nscope = cloud\n"
		     "[mount /mnt/a]\nbackend = b\nscope = cloud\n",
		     "6: [mount /mnt/a]: mount point contains [mount /mnt/a/b] at line 3");
}

Test(config, bad_scope_is_reported)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = clustr\n",
		     "5: [mount /m] scope: bad scope 'clustr': expected cluster, user or cloud (did you mean 'cluster'?)");
	cr_assert_eq(count_lines(err), 1, "only the scope error expected, saw:\n%s", err);
}

Test(config, bad_workload_type_is_reported)
{
	expect_error("[identity]\nworkload = jobs\n",
		     "2: [identity] workload: bad workload type 'jobs': expected workspace, job, job_queue or service (did you mean 'job'?)");
}

Test(config, bad_workload_type_is_not_reported_again_by_each_mount)
{
	expect_error("[identity]\nworkload = servise\nworkload_id = s\n" BACKEND
		     "[mount /c]\nbackend = b\nscope = cluster\n",
		     "2: [identity] workload: bad workload type 'servise'");
	cr_assert_eq(count_lines(err), 1, "only the workload error expected, saw:\n%s", err);
}

Test(config, bad_log_level_is_reported)
{
	expect_error("[scopefs]\nlog_level = verbose\n",
		     "2: [scopefs] log_level: bad log level 'verbose'");
}

Test(config, bad_bool_is_reported)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = cloud\nread_only = maybe\n",
		     "6: [mount /m] read_only: bad boolean 'maybe'");
}

Test(config, bad_numbers_are_reported)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = cloud\n"
		     "uid = 12x\n"           /* 6 */
		     "gid = no_such_group_zz\n" /* 7 */
		     "umask = 0999\n"        /* 8 */
		     "cache_ttl = -1\n"      /* 9 */
		     "writeback_cache = sometimes\n", /* 10 */
		     "6: [mount /m] uid: bad user id '12x'");
	expect_also("7: [mount /m] gid: no group named 'no_such_group_zz'");
	expect_also("8: [mount /m] umask: bad umask '0999'");
	expect_also("9: [mount /m] cache_ttl: bad cache_ttl '-1'");
	expect_also("10: [mount /m] writeback_cache: bad writeback_cache value 'sometimes'");
}

Test(config, unknown_user_name_is_reported)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = cloud\nuid = no_such_user_zz\n",
		     "6: [mount /m] uid: no user named 'no_such_user_zz'");
}

Test(config, umask_larger_than_0777_is_reported)
{
	expect_error(BACKEND "[mount /m]\nbackend = b\nscope = cloud\numask = 01000\n",
		     "6: [mount /m] umask: bad umask '01000'");
}

Test(config, relative_mount_path_is_reported)
{
	expect_error(BACKEND "[mount mnt/x]\nbackend = b\nscope = cloud\n",
		     "3: [mount mnt/x]: mount point 'mnt/x' is not an absolute path");
}

Test(config, mount_path_with_dotdot_is_reported)
{
	expect_error(BACKEND "[mount /mnt/../etc]\nbackend = b\nscope = cloud\n",
		     "3: [mount /mnt/../etc]: mount point '/mnt/../etc' has a '..' component");
}

Test(config, mount_missing_backend_and_scope_reports_both)
{
	expect_error("[mount /m]\nread_only = no\n",
		     "1: [mount /m]: missing key 'backend'");
	expect_also("1: [mount /m]: missing key 'scope'");
}

Test(config, backend_missing_plugin_is_reported)
{
	expect_error("[backend b]\nbucket = x\n", "1: [backend b]: missing key 'plugin'");
}

Test(config, backend_with_misspelt_plugin_key_gets_a_hint)
{
	expect_error("[backend b]\nplugn = local\n",
		     "1: [backend b]: missing key 'plugin' (did you mean 'plugin' instead of 'plugn' at line 2?)");
}

Test(config, relative_plugin_path_is_refused)
{
	expect_error("[backend b]\nplugin = plugins/x.so\n",
		     "2: [backend b] plugin: 'plugins/x.so' is neither a plugin name nor an absolute path");
}

Test(config, duplicate_key_names_the_first_line)
{
	expect_error(BACKEND "bucket = a\nbucket = b\n"      /* 3, 4 */
		     "[mount /m]\nbackend = b\nscope = cloud\nscope = user\n" /* 5-8 */
		     "[identity]\nuser_id = a\nuser_id = b\n",  /* 9-11 */
		     "4: [backend b] bucket: duplicate key (first set at line 3)");
	expect_also("8: [mount /m] scope: duplicate key (first set at line 7)");
	expect_also("11: [identity] user_id: duplicate key (first set at line 10)");
}

Test(config, missing_environment_variable_in_value_is_named)
{
	unsetenv("SCOPEFS_T_UNSET");
	expect_error("[backend b]\nplugin = local\nbucket = ${SCOPEFS_T_UNSET}\n",
		     "3: [backend b] bucket: ${SCOPEFS_T_UNSET} has no value");
}

Test(config, missing_environment_variable_in_section_name_is_named)
{
	unsetenv("SCOPEFS_T_UNSET");
	expect_error("[mount ${SCOPEFS_T_UNSET}/x]\nbackend = b\n",
		     "1: [mount ${SCOPEFS_T_UNSET}/x]: ${SCOPEFS_T_UNSET} has no value");
}

Test(config, over_long_line_is_reported)
{
	char text[1024];

	snprintf(text, sizeof text, "[backend b]\nplugin = local\ntoken = %0400d\n", 7);
	expect_error(text, "3: [backend b]: line longer than");
}

Test(config, all_errors_are_collected_not_just_the_first)
{
	expect_error("[identity]\n"           /* 1 */
		     "workload = jobz\n"      /* 2 bad workload */
		     "[backend b]\n"          /* 3 */
		     "plugin = local\n"       /* 4 */
		     "[backend b]\n"          /* 5 duplicate backend */
		     "[mount rel]\n"          /* 6 relative path */
		     "[mount /m]\n"           /* 7 */
		     "backend = b\n"          /* 8 */
		     "scop = cloud\n"         /* 9 unknown key; missing scope at 7 */
		     "read_only = perhaps\n"  /* 10 bad bool */
		     "[wat]\n",               /* 11 unknown section */
		     "2: [identity] workload: bad workload type 'jobz'");
	expect_also("5: [backend b]: duplicate backend name");
	expect_also("6: [mount rel]: mount point 'rel' is not an absolute path");
	expect_also("9: [mount /m] scop: unknown key 'scop' (did you mean 'scope'?)");
	expect_also("10: [mount /m] read_only: bad boolean 'perhaps'");
	expect_also("11: [wat]: unknown section");
	expect_also("7: [mount /m]: missing key 'scope'");
	cr_assert_eq(count_lines(err), 7, "expected 7 error lines, saw %d:\n%s",
		     count_lines(err), err);
}

/* --- small parsers --------------------------------------------------------- */

Test(config_parsers, bool_accepts_the_usual_spellings)
{
	static const char *const yes[] = { "1", "yes", "true", "on", "YES", "True" };
	static const char *const no[] = { "0", "no", "false", "off", "No", "OFF" };
	int v;

	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		cr_assert_eq(config_parse_bool(yes[i], &v), 0, "'%s' refused", yes[i]);
		cr_assert_eq(v, 1, "'%s': expected 1, saw %d", yes[i], v);
		cr_assert_eq(config_parse_bool(no[i], &v), 0, "'%s' refused", no[i]);
		cr_assert_eq(v, 0, "'%s': expected 0, saw %d", no[i], v);
	}
	cr_assert_eq(config_parse_bool("2", &v), -EINVAL);
	cr_assert_eq(config_parse_bool("", &v), -EINVAL);
}

Test(config_parsers, size_accepts_binary_units)
{
	static const struct {
		const char *s;
		unsigned long long v;
	} ok[] = {
		{ "4096", 4096 }, { "8k", 8192 }, { "16M", 16ULL << 20 },
		{ "1G", 1ULL << 30 }, { "2T", 2ULL << 40 }, { "16MiB", 16ULL << 20 },
		{ "3KB", 3072 },
	};
	unsigned long long v;

	for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
		cr_assert_eq(config_parse_size(ok[i].s, &v), 0, "'%s' refused", ok[i].s);
		cr_assert_eq(v, ok[i].v, "'%s': expected %llu, saw %llu", ok[i].s,
			     ok[i].v, v);
	}
	cr_assert_eq(config_parse_size("", &v), -EINVAL);
	cr_assert_eq(config_parse_size("-1", &v), -EINVAL);
	cr_assert_eq(config_parse_size("12x", &v), -EINVAL);
	cr_assert_eq(config_parse_size("B", &v), -EINVAL);
	cr_assert_eq(config_parse_size("99999999999999999999", &v), -ERANGE);
	cr_assert_eq(config_parse_size("17179869184G", &v), -ERANGE);
}

Test(config_parsers, names_of_scopes_and_workloads)
{
	cr_assert_str_eq(config_scope_name(SCOPE_CLUSTER), "cluster");
	cr_assert_str_eq(config_scope_name(SCOPE_USER), "user");
	cr_assert_str_eq(config_scope_name(SCOPE_CLOUD), "cloud");
	cr_assert_str_eq(config_workload_name(WORKLOAD_WORKSPACE), "workspace");
	cr_assert_str_eq(config_workload_name(WORKLOAD_JOB), "job");
	cr_assert_str_eq(config_workload_name(WORKLOAD_JOB_QUEUE), "job_queue");
	cr_assert_str_eq(config_workload_name(WORKLOAD_SERVICE), "service");
}
