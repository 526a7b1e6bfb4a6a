/* config: the INI file (inih) parsed into one struct, every value checked,
 * every error located as FILE:LINE: [section] key: message. */
#ifndef SCOPEFS_CONFIG_H
#define SCOPEFS_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

enum cfg_scope { SCOPE_CLUSTER, SCOPE_USER, SCOPE_CLOUD };
enum cfg_workload { WORKLOAD_NONE, WORKLOAD_WORKSPACE, WORKLOAD_JOB,
		    WORKLOAD_JOB_QUEUE, WORKLOAD_SERVICE };
enum cfg_tristate { CFG_AUTO = -1, CFG_NO = 0, CFG_YES = 1 };

/* One plugin-owned key of a [backend] section, handed to the plugin as is
 * (after ${VAR} expansion). */
struct cfg_kv {
	char *key;
	char *value;
	int line;
};

struct cfg_backend {
	char *name;     /* NAME of [backend NAME] */
	char *plugin;   /* value of "plugin": a name or an absolute path */
	int line;       /* line of the section header */
	int plugin_line;
	struct cfg_kv *keys; /* every other key, in file order */
	size_t nkeys;
};

struct cfg_mount {
	char *path;            /* normalised absolute mount point */
	int line;              /* line of the section header */
	char *backend;         /* name of a [backend] section */
	struct cfg_backend *be; /* resolved after parsing */
	enum cfg_scope scope;
	int read_only;
	int has_uid, has_gid, has_umask;
	uid_t uid;
	gid_t gid;
	mode_t umask;
	char *prefix_template; /* NULL = the default for the scope */
	int prefix_line;
	char *prefix;          /* resolved: no leading/trailing '/', "" = root */
	double cache_ttl;      /* seconds of kernel/daemon caching; default 1 */
	enum cfg_tristate writeback_cache; /* default CFG_AUTO */
};

struct cfg_identity {
	char *cloud_id;
	char *user_id;
	enum cfg_workload workload;
	char *workload_id;
};

struct config {
	char *file;       /* path as given */
	char *plugin_dir; /* NULL = environment override or install default */
	char *cache_dir;  /* default /var/cache/scopefs */
	int log_level;    /* SCOPEFS_LOG_*; default INFO */
	char *metrics;    /* listener address, or NULL (off, the default) */
	struct cfg_identity id;
	struct cfg_backend *backends;
	size_t nbackends;
	struct cfg_mount *mounts;
	size_t nmounts;
};

/* Parse and validate FILE.  On success *out owns everything.  On failure
 * returns -errno (-EINVAL for bad content, -ENOENT etc. for I/O) and writes
 * every error found, one per line, into err (always NUL-terminated). */
int config_load(const char *file, struct config **out, char *err,
		size_t errlen);
void config_free(struct config *c);

/* Keep only the mounts whose path is DIR or below it (fstab lines name
 * one mount path, or a directory holding several).  -ENOENT with a
 * message naming the config's mounts if none is. */
int config_keep_mounts_at(struct config *c, const char *dir, char *err,
			  size_t errlen);
/* Forget mount I (0 <= I < nmounts). */
void config_drop_mount(struct config *c, size_t i);

/* Small parsers shared with the host services. */
int config_parse_bool(const char *s, int *out);
int config_parse_size(const char *s, unsigned long long *out);
const char *config_scope_name(enum cfg_scope s);
const char *config_workload_name(enum cfg_workload w);

#endif
