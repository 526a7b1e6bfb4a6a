/* main: the scopefs command line (mount, check, --help, --version). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "backend.h"
#include "config.h"
#include "daemon.h"
#include "fstab.h"
#include "loader.h"
#include "log.h"
#include "metrics_http.h"
#include "mount.h"
#include "status.h"
#include "supervisor.h"
#include "usage_cmd.h"

#ifndef SCOPEFS_VERSION
#define SCOPEFS_VERSION "unknown"
#endif

enum { EXIT_CONFIG = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: scopefs mount [-f] [-d] [-o OPTIONS] [--only DIR] CONFIG\n"
		"       scopefs check CONFIG\n"
		"       scopefs usage CONFIG [--scope SCOPE] [--json]\n"
		"       scopefs gc CONFIG [--scope SCOPE] --older-than DURATION [--yes]\n"
		"       scopefs status CONFIG\n"
		"       mount.scopefs CONFIG DIR [-o OPTIONS]   (mount(8)'s helper)\n"
		"       scopefs --help | --version\n"
		"\n"
		"Serve every [mount] of the INI file CONFIG through FUSE, each\n"
		"backed by a plugin and scoped to a storage prefix.  Each\n"
		"[backend] serves its mounts from a worker process of its own,\n"
		"which is restarted should it crash (docs/isolation.md).\n"
		"\n"
		"Commands:\n"
		"  mount   mount everything, then run in the background (or the\n"
		"          foreground with -f) until SIGINT/SIGTERM, which unmounts\n"
		"  check   validate CONFIG (plugins and their keys included) and\n"
		"          print the mount table without mounting\n"
		"  status  the running daemon's metrics as tables (needs\n"
		"          [scopefs] metrics = ADDR in CONFIG)\n"
		"  usage   objects, bytes, oldest and newest per prefix of each\n"
		"          scope, per workload for cluster (scopefs usage --help)\n"
		"  gc      delete workloads' cluster storage not written for\n"
		"          DURATION; a dry run without --yes (scopefs gc --help)\n"
		"\n"
		"Options:\n"
		"  -f, --foreground   stay in the foreground, log to stderr\n"
		"  -d, --debug        log_level = debug\n"
		"  -o OPTIONS         FUSE mount options for every mount\n"
		"                     (allow_other, ...), comma-separated\n"
		"      --only DIR     only the mounts at DIR or below it\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version and the plugin ABI\n"
		"\n"
		"fstab: CONFIG DIR fuse.scopefs _netdev,allow_other 0 0 mounts\n"
		"the [mount]s of CONFIG at or below DIR (a line per mount path,\n"
		"or one for a directory holding them), through mount.scopefs.\n"
		"\n"
		"Environment: SCOPEFS_PLUGIN_DIR overrides where plugins are\n"
		"found by name (default %s).\n"
		"See the README and docs/ for the configuration reference.\n",
		loader_plugin_dir(NULL));
}

static int load(const char *file, struct config **c, struct backend **b)
{
	char err[8192];
	int r = config_load(file, c, err, sizeof err);

	if (r < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		return EXIT_CONFIG;
	}
	log_set_level((*c)->log_level);
	r = backends_open(*c, NULL, b, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		config_free(*c);
		return EXIT_CONFIG;
	}
	return 0;
}

static int cmd_check(const char *file)
{
	struct config *c;
	struct backend *b;
	int r = load(file, &c, &b);

	if (r)
		return r;
	printf("%s: OK, %zu mount%s\n", file, c->nmounts,
	       c->nmounts == 1 ? "" : "s");
	for (size_t i = 0; i < c->nmounts; i++) {
		const struct cfg_mount *m = &c->mounts[i];
		const struct backend *be = backend_find(b, c->nbackends,
							m->backend);
		printf("%s -> %s (plugin %s %s, %s) -> %s%s [scope %s, ttl %gs%s]\n",
		       m->path, m->backend, be->plugin->desc.name,
		       be->plugin->desc.version ? be->plugin->desc.version : "",
		       be->plugin->path, *m->prefix ? m->prefix : "(root)",
		       "", config_scope_name(m->scope), m->cache_ttl,
		       m->read_only ? ", read-only" : "");
	}
	backends_close(b, c->nbackends);
	config_free(c);
	return 0;
}

static int cmd_status(const char *file)
{
	char err[8192];
	struct config *c;
	char *body;
	int r;

	if (config_load(file, &c, err, sizeof err) < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		return EXIT_CONFIG;
	}
	if (!c->metrics) {
		fprintf(stderr, "scopefs: %s: no metrics listener: add "
			"'metrics = 127.0.0.1:9464' (or unix:/PATH) to "
			"[scopefs], then remount\n", file);
		config_free(c);
		return EXIT_CONFIG;
	}
	r = metrics_fetch(c->metrics, &body, err, sizeof err);
	if (r < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		config_free(c);
		return 1;
	}
	printf("%s: metrics at %s, ", file, c->metrics);
	status_print(body, stdout);
	free(body);
	config_free(c);
	return 0;
}

/* Every mount point must be an existing directory nobody has mounted on;
 * report them all before touching anything. */
static int preflight(const struct config *c)
{
	int bad = 0;

	for (size_t i = 0; i < c->nmounts; i++) {
		const char *p = c->mounts[i].path;
		struct stat st;

		if (stat(p, &st) < 0) {
			if (errno == ENOTCONN)
				fprintf(stderr, "scopefs: %s:%d: [mount %s]: a "
					"dead FUSE mount is still there; run "
					"'fusermount3 -u %s' first\n",
					c->file, c->mounts[i].line, p, p);
			else
				fprintf(stderr, "scopefs: %s:%d: [mount %s]: "
					"mount point: %s\n", c->file,
					c->mounts[i].line, p, strerror(errno));
			bad = 1;
		} else if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "scopefs: %s:%d: [mount %s]: mount "
				"point is not a directory\n", c->file,
				c->mounts[i].line, p);
			bad = 1;
		} else if (mount_point_busy(p)) {
			fprintf(stderr, "scopefs: %s:%d: [mount %s]: already "
				"mounted (unmount it first)\n", c->file,
				c->mounts[i].line, p);
			bad = 1;
		}
	}
	return bad ? -EBUSY : 0;
}

/* What `check` does, in a child: every backend is opened, configured and
 * closed again, so that a bad key fails the mount at once with every
 * message (as before), while this process, the supervisor, never loads a
 * plugin.  Returns 0 or EXIT_CONFIG. */
static int check_backends(const char *file)
{
	int st;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "scopefs: cannot fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		struct config *c;
		struct backend *b;
		int r = load(file, &c, &b);

		if (!r) {
			backends_close(b, c->nbackends);
			config_free(c);
		}
		exit(r);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "scopefs: %s: a plugin crashed while its "
			"backend was checked: %s\n", file,
			strsignal(WTERMSIG(st)));
		return EXIT_CONFIG;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

/* mount -a runs the helper again for a line whose target is not itself
 * a mount point (a directory holding several): what is mounted already
 * is left as it is. */
static void drop_mounted(struct config *c)
{
	for (size_t i = c->nmounts; i-- > 0;) {
		char type[64];
		if (mount_point_fstype(c->mounts[i].path, type, sizeof type) &&
		    strcmp(type, "fuse.scopefs") == 0) {
			log_info("[mount %s]: already mounted",
				 c->mounts[i].path);
			config_drop_mount(c, i);
		}
	}
}

struct mount_req {
	const char *file;
	const char *opts;
	const char *only;  /* NULL, or the fstab/--only directory */
	int foreground, debug;
	int fstab, fake;
};

static int cmd_mount(const struct mount_req *q)
{
	char err[8192];
	struct config *c;
	int r = check_backends(q->file), fd = -1;

	if (r)
		return r;
	if (config_load(q->file, &c, err, sizeof err) < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		return EXIT_CONFIG;
	}
	log_set_level(q->debug ? SCOPEFS_LOG_DEBUG : c->log_level);
	if (q->only && config_keep_mounts_at(c, q->only, err, sizeof err) < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		config_free(c);
		return EXIT_CONFIG;
	}
	if (q->fstab)
		drop_mounted(c);
	if (c->nmounts == 0 && q->fstab) {
		r = 0; /* everything was up already */
	} else if (c->nmounts == 0) {
		fprintf(stderr, "scopefs: %s: no [mount] section\n", q->file);
		r = EXIT_CONFIG;
	} else if (preflight(c) < 0) {
		r = 1;
	} else if (q->fake) {
		r = 0;
	} else if (!q->foreground && (fd = daemon_fork()) < 0) {
		fprintf(stderr, "scopefs: cannot daemonize: %s\n",
			strerror(-fd));
		r = 1;
	} else {
		r = supervise(c, q->opts, fd);
	}
	config_free(c);
	return r;
}

/* Called by mount(8) for an fstab line: see core/fstab.c. */
static int fstab_main(int argc, char **argv)
{
	struct fstab_req f;
	char err[1024];
	int r = fstab_parse(argc, argv, &f, err, sizeof err);

	if (r < 0) {
		fprintf(stderr, "mount.scopefs: %s\n", err);
		return EXIT_CONFIG;
	}
	r = cmd_mount(&(struct mount_req){ .file = f.config, .opts = f.opts,
					   .only = f.target, .fstab = 1,
					   .fake = f.fake,
					   .debug = 0 });
	fstab_req_free(&f);
	return r;
}

int main(int argc, char **argv)
{
	/* Part and readahead buffers are megabytes each: keep them mmap'd so
	 * that freeing one gives it back (glibc would otherwise raise its
	 * threshold and let the heap arenas of 20 threads keep them). */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"foreground", no_argument, NULL, 'f'},
		{"debug", no_argument, NULL, 'd'},
		{"only", required_argument, NULL, 'O'},
		{NULL, 0, NULL, 0},
	};
	struct mount_req q = { 0 };
	int ch;

	if (fstab_is_helper_call(argc, argv))
		return fstab_main(argc, argv);

	while ((ch = getopt_long(argc, argv, "+hVfdo:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("scopefs %s (plugin ABI %d.%d)\n", SCOPEFS_VERSION,
			       SCOPEFS_ABI_MAJOR, SCOPEFS_ABI_MINOR);
			return 0;
		case 'f':
			q.foreground = 1;
			break;
		case 'd':
			q.debug = 1;
			break;
		case 'o':
			q.opts = optarg;
			break;
		case 'O':
			q.only = optarg;
			break;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	/* Options may also follow the command: scopefs mount -f -o x CONF. */
	if (optind >= argc) {
		usage(stderr);
		return EXIT_CONFIG;
	}
	const char *cmd = argv[optind++];
	/* usage and gc parse options of their own (core/usage_cmd.c) */
	if (strcmp(cmd, "usage") == 0)
		return usage_main(argc - optind + 1, argv + optind - 1);
	if (strcmp(cmd, "gc") == 0)
		return gc_main(argc - optind + 1, argv + optind - 1);
	while ((ch = getopt_long(argc, argv, "+hVfdo:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			q.foreground = 1;
			break;
		case 'd':
			q.debug = 1;
			break;
		case 'o':
			q.opts = optarg;
			break;
		case 'O':
			q.only = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "scopefs: %s needs exactly one CONFIG file\n",
			cmd);
		return EXIT_CONFIG;
	}
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argv[optind]);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(argv[optind]);
	if (strcmp(cmd, "mount") == 0) {
		q.file = argv[optind];
		return cmd_mount(&q);
	}
	fprintf(stderr, "scopefs: unknown command '%s' (mount or check)\n", cmd);
	usage(stderr);
	return EXIT_CONFIG;
}
