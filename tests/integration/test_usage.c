/*
 * scopefs usage and scopefs gc on a seeded backend (any of them:
 * SCOPEFS_TEST_BACKEND, and tests/run.sh runs this file on each).
 *
 * A first daemon mounts seven workload-shaped prefixes besides its own
 * and writes a known tree through them: sizes, directories, and times --
 * on local and nfs set with utimensat to 40 days ago, on object stores
 * (whose Last-Modified no client can set) by writing the "old" part,
 * waiting past a cut-off second, then writing the "recent" part.  Then
 * the machine's own daemon (cluster, user and cloud mounts, workload
 * job_1) runs, and usage and gc are asked about the backend:
 *
 *   job/job_1/cluster_storage        this workload: old, never deleted
 *   job/job_old/cluster_storage      old, with subdirectories
 *   workspaces/ws_1/cluster_storage  an old file and a recent one: kept
 *   job_queue/jq_1                   old
 *   service/svc_1                    recent
 *   job/job_x/other                  no cluster_storage: not a workload
 *   user_storage/usr_1, shared_storage  other scopes: gc of cluster
 *                                    scope never looks at them
 */
#include <json-c/json.h>
#include "mount_fixture.h"

TestSuite(usage, .fini = fx_teardown, .timeout = 180);

enum { M_CLUSTER, M_USER, M_CLOUD, M_JOLD, M_WS, M_JQ, M_SVC, M_MISC };

static const struct fx_mount seed_mounts[] = {
	{ "cluster", "cluster", NULL },
	{ "user", "user", NULL },
	{ "cloud", "cloud", NULL },
	{ "jold", "cluster", "prefix = job/job_old/cluster_storage\n" },
	{ "ws", "cluster", "prefix = workspaces/ws_1/cluster_storage\n" },
	{ "jq", "cluster", "prefix = job_queue/jq_1\n" },
	{ "svc", "cluster", "prefix = service/svc_1\n" },
	{ "misc", "cluster", "prefix = job/job_x\n" },
};

/* The machine the commands run on: workload job_1 of user usr_1. */
static const struct fx_mount run_mounts[] = {
	{ "cluster", "cluster", NULL },
	{ "user", "user", NULL },
	{ "cloud", "cloud", NULL },
};

/* What the seeding wrote, in seconds since the epoch. */
static struct {
	time_t old;        /* local/nfs: the "old" base time, 40 days ago */
	time_t start;      /* before the first write */
	time_t old_done;   /* after the last old write */
	time_t cut;        /* object stores: old < cut <= recent */
} when;

static int fs_backend(void)
{
	return !fx_object_store();
}

/* Write SIZE bytes to REL in seeding mount MI, on stable storage (so that
 * nothing reaches the store after the times are set, or after old_done). */
static void put(int mi, const char *rel, size_t size)
{
	char buf[4096];
	const char *p = fx_mpath(mi, rel);
	int fd = (int)FX_OK(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644));

	memset(buf, 'u', sizeof buf);
	cr_assert(size <= sizeof buf);
	FX_EQ_INT(write(fd, buf, size), (long)size);
	FX_OK(fsync(fd));
	FX_OK(close(fd));
}

static void mk(int mi, const char *rel)
{
	FX_OK(mkdir(fx_mpath(mi, rel), 0755));
}

/* local/nfs: REL's mtime (and atime) HOURS before when.old. */
static void age(int mi, const char *rel, int hours)
{
	struct timespec ts[2];

	if (!fs_backend())
		return;
	ts[0].tv_sec = ts[1].tv_sec = when.old - hours * 3600;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	FX_OK(utimensat(AT_FDCWD, fx_mpath(mi, rel), ts, AT_SYMLINK_NOFOLLOW));
}

/* Stop the daemon and require a clean exit (fx_finish's checks). */
static void stop_clean(const char *what)
{
	fx_stop();
	fx.stopped = 0;
	FX_ASSERT(!fx.problem[0], "%s: %s", what, fx.problem);
	FX_ASSERT(WIFEXITED(fx.status) && WEXITSTATUS(fx.status) == 0,
		  "%s: expected the daemon to exit 0 after SIGTERM, saw %s",
		  what, fx_status_str(fx.status));
}

/* The tree of the header comment, then this machine's daemon. */
static void seed(void)
{
	/* pages of two keys: every listing of usage and gc (and the deletes
	 * between pages) spans several pages */
	fx_prepare_dir();
	if (fx_object_store())
		fx.backend_keys = "list_page = 2\n";
	fx_start(NULL, seed_mounts, 8);
	when.start = time(NULL);
	when.old = when.start - 40 * 86400;

	mk(M_CLUSTER, "d");
	put(M_CLUSTER, "a", 100);
	put(M_CLUSTER, "d/b", 200);
	put(M_JOLD, "x", 1000);
	mk(M_JOLD, "sub");
	put(M_JOLD, "sub/y", 2000);
	mk(M_JOLD, "sub/deeper");
	put(M_JOLD, "sub/deeper/z", 3000);
	put(M_WS, "old", 10);
	put(M_JQ, "q", 7);
	put(M_USER, "u", 11);
	put(M_CLOUD, "c", 13);
	mk(M_MISC, "other");
	put(M_MISC, "other/f", 3);

	/* files first, then directories bottom up (a new entry would make
	 * its directory new again), each mount's root last */
	age(M_CLUSTER, "a", 1);
	age(M_CLUSTER, "d/b", 2);
	age(M_CLUSTER, "d", 0);
	age(M_CLUSTER, "", 0);
	age(M_JOLD, "x", 1);
	age(M_JOLD, "sub/y", 2);
	age(M_JOLD, "sub/deeper/z", 3);
	age(M_JOLD, "sub/deeper", 0);
	age(M_JOLD, "sub", 0);
	age(M_JOLD, "", 0);
	age(M_WS, "old", 5);
	age(M_WS, "", 0);
	age(M_JQ, "q", 4);
	age(M_JQ, "", 0);
	age(M_USER, "u", 6);
	age(M_USER, "", 0);
	age(M_CLOUD, "c", 7);
	age(M_CLOUD, "", 0);
	when.old_done = time(NULL);

	if (!fs_backend()) {
		/* a whole second between the last old write and the cut-off,
		 * another one before the first recent write: stores keep
		 * Last-Modified to the second */
		when.cut = when.old_done + 2;
		while (time(NULL) < when.cut + 1)
			fx_sleep_ms(100);
	}
	put(M_WS, "recent", 20);
	put(M_SVC, "s", 5);
	put(M_USER, "u2", 17);
	stop_clean("after seeding");

	fx_configure(run_mounts, 3);
	fx_launch(NULL);
}

/* gc's cut-off options: 30 days on local/nfs, the second between old
 * and recent writes on object stores. */
static const char *cut_opt(void)
{
	return fs_backend() ? "--older-than" : "--before";
}

static const char *cut_val(void)
{
	return fs_backend() ? "30d" : fx_fmt("@%lld", (long long)when.cut);
}

/* ---- running the commands -------------------------------------------- */

struct ran {
	int status;
	char *out, *err;
};

static struct ran run(const char *const *args)
{
	char *argv[16];
	int n = 0;
	struct ran r;

	argv[n++] = fx.bin;
	for (; *args && n < 15; args++)
		argv[n++] = (char *)*args;
	argv[n] = NULL;
	r.status = fx_run(argv, 120, &r.out, &r.err);
	return r;
}

static int exit_code(const struct ran *r)
{
	return r->status >= 0 && WIFEXITED(r->status) ? WEXITSTATUS(r->status)
						      : -1;
}

#define EXPECT_EXIT(r, code, what)                                           \
	FX_ASSERT(exit_code(&(r)) == (code), "%s: expected exit %d, saw %s\n" \
		  "stdout:\n%s\nstderr:\n%s", what, code,                    \
		  (r).status < 0 ? "no exit (timeout)"                       \
				 : fx_status_str((r).status),                \
		  (r).out, (r).err)

/* Run a command that must exit 0 and print JSON; the parsed answer. */
static struct json_object *run_json(const char *what, const char *const *args)
{
	struct ran r = run(args);
	struct json_object *j;

	EXPECT_EXIT(r, 0, what);
	j = json_tokener_parse(r.out);
	FX_ASSERT(j, "%s: expected JSON on stdout, saw:\n%s", what, r.out);
	free(r.out);
	free(r.err);
	return j;
}

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static long long jint(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	FX_ASSERT(v && json_object_is_type(v, json_type_int),
		  "expected integer \"%s\" in %s", key,
		  json_object_to_json_string(o));
	return json_object_get_int64(v);
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

/* The object of ARRAY whose KEY is VALUE, or NULL. */
static struct json_object *find(struct json_object *array, const char *key,
				const char *value)
{
	for (size_t i = 0; array && i < json_object_array_length(array); i++) {
		struct json_object *o = json_object_array_get_idx(array, i);
		const char *s = jstr(o, key);

		if (s && strcmp(s, value) == 0)
			return o;
	}
	return NULL;
}

static struct json_object *scope_of(struct json_object *top, const char *name)
{
	struct json_object *s = find(jget(top, "scopes"), "scope", name);

	FX_ASSERT(s, "expected scope %s in %s", name,
		  json_object_to_json_string(top));
	return s;
}

/* The prefixes of a usage scope or a gc answer, sorted, one per line. */
static const char *prefixes(struct json_object *o, const char *action)
{
	static char buf[4096];
	struct json_object *rows = jget(o, "prefixes");

	buf[0] = '\0';
	for (size_t i = 0; rows && i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		if (action && strcmp(jstr(r, "action"), action) != 0)
			continue;
		snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s\n",
			 jstr(r, "prefix"));
	}
	return buf;
}

/* ---- what the seeding left ------------------------------------------- */

enum { RECENT = -1 };

struct want {
	const char *prefix;
	int current;
	const char *workload, *workload_id;
	long long objects, dirs, bytes;
	/* hours before when.old of the oldest and newest entry, or RECENT */
	int oldest_h, newest_h;
};

static const struct want cluster_rows[] = {
	{ "job/job_1/cluster_storage", 1, "job", "job_1", 2, 1, 300, 2, 0 },
	{ "job/job_old/cluster_storage", 0, "job", "job_old", 3, 2, 6000, 3,
	  0 },
	{ "job_queue/jq_1", 0, "job_queue", "jq_1", 1, 0, 7, 4, 0 },
	{ "service/svc_1", 0, "service", "svc_1", 1, 0, 5, RECENT, RECENT },
	{ "workspaces/ws_1/cluster_storage", 0, "workspace", "ws_1", 2, 0, 30,
	  5, RECENT },
};

/* A time usage reported against the seeding's: exact on local and nfs
 * (utimensat); on object stores the store's clock, so within the window
 * of the writes. */
static void expect_time(struct json_object *row, const char *key, int hours)
{
	long long t = jint(row, key);
	const char *p = jstr(row, "prefix");

	if (hours == RECENT) {
		FX_ASSERT(t >= (fs_backend() ? when.start : when.cut),
			  "%s %s: expected a recent time (>= %lld), saw %lld",
			  p, key, (long long)(fs_backend() ? when.start
							   : when.cut), t);
	} else if (fs_backend()) {
		FX_EQ_INT(t, when.old - hours * 3600);
	} else {
		FX_ASSERT(t >= when.start - 1 && t < when.cut,
			  "%s %s: expected a time of the old writes, in "
			  "[%lld, %lld), saw %lld", p, key,
			  (long long)when.start - 1, (long long)when.cut, t);
	}
}

static void expect_row(struct json_object *scope, const struct want *w)
{
	struct json_object *r = find(jget(scope, "prefixes"), "prefix",
				     w->prefix);

	FX_ASSERT(r, "expected a row for %s, saw rows:\n%s", w->prefix,
		  prefixes(scope, NULL));
	FX_EQ_INT(jint(r, "objects"), w->objects);
	FX_EQ_INT(jint(r, "dirs"), w->dirs);
	FX_EQ_INT(jint(r, "bytes"), w->bytes);
	FX_EQ_INT(jint(r, "untimed"), 0);
	FX_EQ_INT(json_object_get_boolean(jget(r, "current")), w->current);
	if (w->workload) {
		FX_EQ_STR(jstr(r, "workload"), w->workload);
		FX_EQ_STR(jstr(r, "workload_id"), w->workload_id);
	}
	FX_ASSERT(!jget(r, "error"), "%s: expected no error, saw %s",
		  w->prefix, jstr(r, "error"));
	expect_time(r, "oldest_unix", w->oldest_h);
	expect_time(r, "newest_unix", w->newest_h);
}

static struct json_object *usage_json(void)
{
	const char *args[] = { "usage", fx.conf, "--json", NULL };

	return run_json("scopefs usage --json", args);
}

/* ---- tests -------------------------------------------------------------- */

MOUNT_TEST(usage, counts_every_workload_prefix_exactly)
{
	seed();
	struct json_object *top = usage_json();
	struct json_object *cl = scope_of(top, "cluster");

	FX_EQ_STR(prefixes(cl, NULL),
		  "job/job_1/cluster_storage\njob/job_old/cluster_storage\n"
		  "job_queue/jq_1\nservice/svc_1\n"
		  "workspaces/ws_1/cluster_storage\n");
	for (size_t i = 0; i < sizeof cluster_rows / sizeof *cluster_rows; i++)
		expect_row(cl, &cluster_rows[i]);
	FX_EQ_INT(jint(cl, "objects"), 9);
	FX_EQ_INT(jint(cl, "dirs"), 3);
	FX_EQ_INT(jint(cl, "bytes"), 6342);

	struct json_object *us = scope_of(top, "user");
	struct want u = { "user_storage/usr_1", 1, NULL, NULL, 2, 0, 28, 6,
			  RECENT };
	FX_EQ_STR(prefixes(us, NULL), "user_storage/usr_1\n");
	expect_row(us, &u);

	struct json_object *cs = scope_of(top, "cloud");
	struct want c = { "shared_storage", 1, NULL, NULL, 1, 0, 13, 7, 0 };
	FX_EQ_STR(prefixes(cs, NULL), "shared_storage\n");
	expect_row(cs, &c);
	FX_EQ_INT(jint(top, "errors"), 0);
	json_object_put(top);

	/* --scope gives that scope alone; the table marks our own prefix */
	const char *one[] = { "usage", "--scope", "user", fx.conf, "--json",
			      NULL };
	top = run_json("scopefs usage --scope user --json", one);
	FX_EQ_INT(json_object_array_length(jget(top, "scopes")), 1);
	FX_EQ_STR(jstr(json_object_array_get_idx(jget(top, "scopes"), 0),
		       "scope"), "user");
	json_object_put(top);

	const char *table[] = { "usage", fx.conf, "--scope", "cluster", NULL };
	struct ran r = run(table);
	EXPECT_EXIT(r, 0, "scopefs usage (table)");
	FX_ASSERT(strstr(r.out, "job/job_1/cluster_storage *") &&
			  strstr(r.out, "5 prefixes") &&
			  strstr(r.out, "6.2K") && !strstr(r.out, "job_x") &&
			  !strstr(r.out, "user_storage"),
		  "expected the cluster table (own prefix starred, 5 "
		  "prefixes, 6.2K in all), saw:\n%s", r.out);
	free(r.out);
	free(r.err);
}

MOUNT_TEST(usage, gc_deletes_exactly_the_old_workloads_and_never_our_own)
{
	seed();
	struct json_object *before = usage_json();
	const char *dry[] = { "gc", fx.conf, cut_opt(), cut_val(), "--json",
			      NULL };
	struct json_object *g = run_json("scopefs gc (dry run)", dry);

	FX_ASSERT(json_object_get_boolean(jget(g, "dry_run")),
		  "expected a dry run without --yes");
	FX_EQ_STR(prefixes(g, "delete"),
		  "job/job_old/cluster_storage\njob_queue/jq_1\n");
	FX_EQ_STR(prefixes(g, "keep"),
		  "job/job_1/cluster_storage\nservice/svc_1\n"
		  "workspaces/ws_1/cluster_storage\n");
	struct json_object *own = find(jget(g, "prefixes"), "prefix",
				       "job/job_1/cluster_storage");
	FX_EQ_STR(jstr(own, "reason"), "this configuration's own prefix");
	struct json_object *would = jget(g, "would_free");
	FX_EQ_INT(jint(would, "prefixes"), 2);
	FX_EQ_INT(jint(would, "objects"), 4);
	FX_EQ_INT(jint(would, "dirs"), 2);
	FX_EQ_INT(jint(would, "bytes"), 6007);
	json_object_put(g);

	/* a dry run deletes nothing */
	struct json_object *after_dry = usage_json();
	FX_EQ_STR(json_object_to_json_string(jget(after_dry, "scopes")),
		  json_object_to_json_string(jget(before, "scopes")));
	json_object_put(after_dry);
	json_object_put(before);

	const char *yes[] = { "gc", fx.conf, cut_opt(), cut_val(), "--yes",
			      "--json", NULL };
	g = run_json("scopefs gc --yes", yes);
	FX_EQ_STR(prefixes(g, "deleted"),
		  "job/job_old/cluster_storage\njob_queue/jq_1\n");
	struct json_object *freed = jget(g, "freed");
	FX_EQ_INT(jint(freed, "objects"), 4);
	FX_EQ_INT(jint(freed, "dirs"), 2);
	FX_EQ_INT(jint(freed, "bytes"), 6007);
	FX_EQ_INT(json_object_array_length(jget(g, "failures")), 0);
	json_object_put(g);

	/* what is left: the kept workloads whole, user and cloud untouched */
	struct json_object *top = usage_json();
	struct json_object *cl = scope_of(top, "cluster");
	FX_EQ_STR(prefixes(cl, NULL),
		  "job/job_1/cluster_storage\nservice/svc_1\n"
		  "workspaces/ws_1/cluster_storage\n");
	expect_row(cl, &cluster_rows[0]);
	expect_row(cl, &cluster_rows[3]);
	expect_row(cl, &cluster_rows[4]);
	FX_EQ_INT(jint(scope_of(top, "user"), "objects"), 2);
	FX_EQ_INT(jint(scope_of(top, "cloud"), "objects"), 1);
	json_object_put(top);
	if (fx.backend->has_backing_dir) {
		/* job/job_old/ went with its only prefix; job_queue/ stays */
		struct stat st;
		FX_ERRNO(lstat(fx_fmt("%s/data/job/job_old", fx.dir), &st),
			 ENOENT);
		FX_OK(lstat(fx_fmt("%s/data/job_queue", fx.dir), &st));
		FX_OK(lstat(fx_fmt("%s/data/job/job_x/other/f", fx.dir), &st));
	}

	/* the running workload still works in its own prefix */
	FX_OK(access(fx_mpath(0, "d/b"), F_OK));
}

MOUNT_TEST(usage, gc_of_user_scope_only_when_named_and_file_by_file)
{
	seed();
	const char *dry[] = { "gc", fx.conf, "--scope", "user", cut_opt(),
			      cut_val(), "--json", NULL };
	struct json_object *g = run_json("scopefs gc --scope user", dry);
	struct json_object *row = find(jget(g, "prefixes"), "prefix",
				       "user_storage/usr_1");

	FX_ASSERT(row, "expected user_storage/usr_1, saw %s",
		  json_object_to_json_string(g));
	FX_EQ_STR(jstr(row, "action"), "delete");
	FX_EQ_INT(jint(row, "objects"), 1);
	FX_EQ_INT(jint(row, "bytes"), 11);
	FX_EQ_INT(jint(row, "kept"), 1);
	json_object_put(g);

	const char *yes[] = { "gc", fx.conf, "--scope", "user", cut_opt(),
			      cut_val(), "--yes", "--json", NULL };
	g = run_json("scopefs gc --scope user --yes", yes);
	FX_EQ_INT(jint(jget(g, "freed"), "objects"), 1);
	FX_EQ_INT(jint(jget(g, "freed"), "bytes"), 11);
	json_object_put(g);

	struct json_object *top = usage_json();
	struct json_object *us = find(jget(scope_of(top, "user"), "prefixes"),
				      "prefix", "user_storage/usr_1");
	FX_EQ_INT(jint(us, "objects"), 1);
	FX_EQ_INT(jint(us, "bytes"), 17);
	/* nothing else moved: no cluster prefix, not the cloud's file */
	FX_EQ_INT(jint(scope_of(top, "cluster"), "objects"), 9);
	FX_EQ_INT(jint(scope_of(top, "cloud"), "objects"), 1);
	json_object_put(top);
	FX_OK(access(fx_mpath(1, "u2"), F_OK));
}

MOUNT_TEST(usage, bad_options_exit_2_before_touching_anything)
{
	static const struct fx_mount only_cluster[] = {
		{ "cluster", "cluster", NULL },
	};
	fx_configure(only_cluster, 1);
	const char *const cases[][8] = {
		{ "gc", fx.conf, NULL },
		{ "gc", fx.conf, "--older-than", "30", NULL },
		{ "gc", fx.conf, "--older-than", "0d", NULL },
		{ "gc", fx.conf, "--older-than", "1d", "--before", "@1", NULL },
		{ "gc", fx.conf, "--before", "yesterday", NULL },
		{ "gc", fx.conf, "--scope", "everything", "--older-than", "1d",
		  NULL },
		{ "gc", fx.conf, "--scope", "user", "--older-than", "1d",
		  NULL },
		{ "usage", fx.conf, "--yes", NULL },
		{ "usage", NULL },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct ran r = run(cases[i]);
		EXPECT_EXIT(r, 2, fx_fmt("case %zu (%s %s %s)", i,
					 cases[i][0], cases[i][2]
						 ? cases[i][2] : "",
					 cases[i][2] && cases[i][3]
						 ? cases[i][3] : ""));
		FX_ASSERT(!*r.out, "case %zu: expected no report, saw:\n%s",
			  i, r.out);
		free(r.out);
		free(r.err);
	}
}

MOUNT_TEST(usage, a_store_that_does_not_answer_is_named_and_exits_1)
{
	fx_prepare_dir();
	const char *conf = fx_fmt("%s/offline.conf", fx.dir);
	FILE *f = fopen(conf, "w");
	FX_ASSERT(f, "fopen %s: %s", conf, strerror(errno));
	fchmod(fileno(f), 0600);
	/* port 9 (discard): nothing listens there on the test machines */
	fprintf(f, "[identity]\nuser_id = usr_1\nworkload = job\n"
		   "workload_id = job_1\n\n"
		   "[backend offline]\nplugin = s3\n"
		   "endpoint = http://127.0.0.1:9\nbucket = testbucket\n"
		   "access_key_id = S3RVER\nsecret_access_key = S3RVER\n"
		   "retries = 0\ntimeout = 2\n\n"
		   "[mount %s/mnt/c]\nbackend = offline\nscope = cluster\n",
		   fx.dir);
	fclose(f);
	const char *args[] = { "usage", conf, NULL };
	struct ran r = run(args);
	EXPECT_EXIT(r, 1, "scopefs usage on a store that does not answer");
	FX_ASSERT(strstr(r.out, "backend offline: open") &&
			  strstr(r.out, "job/job_1/cluster_storage"),
		  "expected the report to name backend offline and what "
		  "failed, saw:\nstdout:\n%s\nstderr:\n%s", r.out, r.err);
	free(r.out);
	free(r.err);
}
