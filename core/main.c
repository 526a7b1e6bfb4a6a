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
#include "loader.h"
#include "log.h"
#include "mount.h"
#include "supervisor.h"

#ifndef SCOPEFS_VERSION
#define SCOPEFS_VERSION "unknown"
#endif

enum { EXIT_CONFIG = 2 };

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: scopefs mount [-f] [-d] [-o OPTIONS] CONFIG\n"
		"       scopefs check CONFIG\n"
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
		"\n"
		"Options:\n"
		"  -f, --foreground   stay in the foreground, log to stderr\n"
		"  -d, --debug        log_level = debug\n"
		"  -o OPTIONS         FUSE mount options for every mount\n"
		"                     (allow_other, ...), comma-separated\n"
		"  -h, --help         this text\n"
		"  -V, --version      print the version and the plugin ABI\n"
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

static int cmd_mount(const char *file, const char *opts, int foreground,
		     int debug)
{
	char err[8192];
	struct config *c;
	int r = check_backends(file), fd = -1;

	if (r)
		return r;
	if (config_load(file, &c, err, sizeof err) < 0) {
		fprintf(stderr, "scopefs: %s\n", err);
		return EXIT_CONFIG;
	}
	log_set_level(debug ? SCOPEFS_LOG_DEBUG : c->log_level);
	if (c->nmounts == 0) {
		fprintf(stderr, "scopefs: %s: no [mount] section\n", file);
		r = EXIT_CONFIG;
	} else if (preflight(c) < 0) {
		r = 1;
	} else if (!foreground && (fd = daemon_fork()) < 0) {
		fprintf(stderr, "scopefs: cannot daemonize: %s\n",
			strerror(-fd));
		r = 1;
	} else {
		r = supervise(c, opts, fd);
	}
	config_free(c);
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
		{NULL, 0, NULL, 0},
	};
	const char *opts = NULL;
	int foreground = 0, debug = 0, ch;

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
			foreground = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'o':
			opts = optarg;
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
	while ((ch = getopt_long(argc, argv, "+hVfdo:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			foreground = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'o':
			opts = optarg;
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
	if (strcmp(cmd, "mount") == 0)
		return cmd_mount(argv[optind], opts, foreground, debug);
	fprintf(stderr, "scopefs: unknown command '%s' (mount or check)\n", cmd);
	usage(stderr);
	return EXIT_CONFIG;
}
