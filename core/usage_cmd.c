/* usage_cmd: parse the options of `scopefs usage` and `scopefs gc`, load
 * the configuration and its backends as `check` does, and run usage.c or
 * gc.c.  Nothing is mounted: each backend is opened at its own root
 * through the plugin, in this process. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "backend.h"
#include "config.h"
#include "gc.h"
#include "log.h"
#include "usage.h"
#include "usage_cmd.h"
#include "usage_report.h"

enum { EXIT_FAILED = 1, EXIT_USAGE = 2 };

static const char usage_help[] =
	"Usage: scopefs usage CONFIG [--scope cluster|user|cloud] [--json]\n"
	"\n"
	"Objects, bytes and the oldest and newest modification under each\n"
	"prefix of CONFIG's scopes (all three unless --scope): for user and\n"
	"cloud scope the prefixes CONFIG's mounts use, for cluster scope\n"
	"every workload's (job/*/cluster_storage, workspaces/*/cluster_storage,\n"
	"job_queue/*, service/*, or what the mounts' prefix templates say).\n"
	"Times are the store's: Last-Modified of objects, mtime on local/nfs.\n";

static const char gc_help[] =
	"Usage: scopefs gc CONFIG [--scope cluster|user|cloud]\n"
	"                  (--older-than DURATION | --before TIME) [--yes] [--json]\n"
	"\n"
	"Without --yes, only report what would be deleted.\n"
	"  cluster (the default): every workload prefix whose newest entry is\n"
	"          older than the cut-off, except CONFIG's own\n"
	"  user, cloud (only when named): the files and objects older than\n"
	"          the cut-off in CONFIG's own prefix of that scope\n"
	"DURATION: 45s, 90m, 12h, 30d, 2w.  TIME (UTC): @SECONDS, YYYY-MM-DD,\n"
	"YYYY-MM-DDTHH:MM:SSZ.\n";

struct cmd_opts {
	const char *file;
	int scope; /* -1: not given */
	int json, yes;
	const char *older_than, *before;
};

static int parse_scope(const char *s)
{
	for (int i = SCOPE_CLUSTER; i <= SCOPE_CLOUD; i++)
		if (strcmp(s, config_scope_name(i)) == 0)
			return i;
	return -1;
}

/* 0, or an exit code (help printed: 0 is returned through *done). */
static int parse(int argc, char **argv, int gc, struct cmd_opts *o, int *done)
{
	static const struct option longopts[] = {
		{ "scope", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "before", required_argument, NULL, 'b' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const char *help = gc ? gc_help : usage_help;
	int ch;

	memset(o, 0, sizeof *o);
	o->scope = -1;
	*done = 0;
	optind = 0; /* glibc: start afresh on this argv */
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if ((o->scope = parse_scope(optarg)) < 0) {
				fprintf(stderr, "scopefs %s: --scope '%s': "
					"expected cluster, user or cloud\n",
					argv[0], optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			fputs(help, stdout);
			*done = 1;
			return 0;
		case 'o':
		case 'b':
		case 'y':
			if (!gc) {
				fprintf(stderr, "scopefs usage: %s is an option "
					"of gc\n", argv[optind - 1]);
				return EXIT_USAGE;
			}
			if (ch == 'o')
				o->older_than = optarg;
			else if (ch == 'b')
				o->before = optarg;
			else
				o->yes = 1;
			break;
		default:
			fputs(help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "scopefs %s: needs exactly one CONFIG file\n%s",
			argv[0], help);
		return EXIT_USAGE;
	}
	o->file = argv[optind];
	return 0;
}

/* Load CONFIG and open (configure) every backend, as check does. */
static int load(const char *file, struct config **c, struct backend **b)
{
	char err[8192];

	if (config_load(file, c, err, sizeof err) < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		return EXIT_USAGE;
	}
	/* a report on stdout: the plugins' "connected to ..." lines would
	 * only be noise on stderr; warnings and errors still show */
	log_set_level((*c)->log_level < SCOPEFS_LOG_WARN ? (*c)->log_level
							  : SCOPEFS_LOG_WARN);
	if (backends_open(*c, NULL, b, err, sizeof err) < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		config_free(*c);
		return EXIT_USAGE;
	}
	return 0;
}

static void unload(struct config *c, struct backend *b)
{
	backends_close(b, c->nbackends);
	config_free(c);
}

static int no_scope(const struct config *c, int scope)
{
	fprintf(stderr, "scopefs: %s: no [mount] has scope %s\n", c->file,
		config_scope_name(scope));
	return EXIT_USAGE;
}

int usage_main(int argc, char **argv)
{
	struct cmd_opts o;
	struct config *c;
	struct backend *b;
	struct usage u;
	unsigned scopes = 0;
	int done, r = parse(argc, argv, 0, &o, &done);

	if (r || done)
		return r;
	if ((r = load(o.file, &c, &b)))
		return r;
	if (o.scope >= 0 && !usage_has_scope(c, o.scope)) {
		r = no_scope(c, o.scope);
		unload(c, b);
		return r;
	}
	if (usage_init(&u, c, b, 0) < 0) {
		unload(c, b);
		return EXIT_FAILED;
	}
	for (int s = SCOPE_CLUSTER; s <= SCOPE_CLOUD && r == 0; s++) {
		if ((o.scope >= 0 && s != o.scope) || !usage_has_scope(c, s))
			continue;
		scopes |= 1u << s;
		r = usage_collect(&u, s, 1);
	}
	if (r < 0) {
		fprintf(stderr, "scopefs usage: %s\n", strerror(-r));
		r = EXIT_FAILED;
	} else {
		if (o.json)
			usage_print_json(&u, scopes, stdout);
		else
			usage_print_table(&u, scopes, stdout);
		r = u.errors ? EXIT_FAILED : 0;
	}
	usage_free(&u);
	unload(c, b);
	return r;
}

/* The cut-off from --older-than or --before, exactly one of them. */
static int cutoff(const struct cmd_opts *o, struct timespec *t)
{
	char err[256];
	long long secs;

	if (!o->older_than == !o->before) {
		fprintf(stderr, "scopefs gc: give one of --older-than DURATION "
			"and --before TIME\n");
		return EXIT_USAGE;
	}
	if (o->before) {
		if (gc_parse_time(o->before, t, err, sizeof err) == 0)
			return 0;
	} else if (gc_parse_duration(o->older_than, &secs, err,
				     sizeof err) == 0) {
		clock_gettime(CLOCK_REALTIME, t);
		t->tv_sec -= (time_t)secs;
		return 0;
	}
	fprintf(stderr, "scopefs gc: %s\n", err);
	return EXIT_USAGE;
}

int gc_main(int argc, char **argv)
{
	struct gc_opts g = { 0 };
	struct cmd_opts o;
	struct config *c;
	struct backend *b;
	struct usage u;
	int done, r = parse(argc, argv, 1, &o, &done);

	if (r || done)
		return r;
	if ((r = cutoff(&o, &g.cutoff)))
		return r;
	g.scope = o.scope >= 0 ? (enum cfg_scope)o.scope : SCOPE_CLUSTER;
	g.older_than = o.older_than;
	g.yes = o.yes;
	g.json = o.json;
	if ((r = load(o.file, &c, &b)))
		return r;
	if (!usage_has_scope(c, g.scope)) {
		r = no_scope(c, g.scope);
		unload(c, b);
		return r;
	}
	if (usage_init(&u, c, b, g.yes) < 0) {
		unload(c, b);
		return EXIT_FAILED;
	}
	r = gc_run(&u, &g, stdout);
	if (r < 0) {
		fprintf(stderr, "scopefs gc: %s\n", strerror(-r));
		r = EXIT_FAILED;
	}
	usage_free(&u);
	unload(c, b);
	return r;
}
