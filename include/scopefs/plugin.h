/*
 * scopefs plugin ABI: the whole contract between the scopefs core and a
 * storage backend plugin.  A plugin author includes this header and nothing
 * else from scopefs.
 *
 * Versioning (read docs/plugin-abi.md for the long form):
 *   - SCOPEFS_ABI_MAJOR changes only when an existing field changes meaning
 *     or moves.  The core refuses plugins built against another major.
 *   - SCOPEFS_ABI_MINOR grows when fields are appended.  Every struct that
 *     crosses the boundary starts with its own size; the core copies
 *     min(plugin size, core size) into a zeroed struct, so a plugin built
 *     against an older minor keeps loading and the newer callbacks read NULL.
 *   - Fields are never removed or reordered; tests pin offsets.
 *
 * Error convention: every callback returns 0 (or a byte count where stated)
 * on success and a negative errno (-ENOENT, -EIO, ...) on failure.  Optional
 * callbacks may be NULL; the core then answers -ENOSYS or -EOPNOTSUPP.
 *
 * Lifecycle, per [backend NAME] section of the configuration:
 *   backend_open -> config (each plugin key, in file order) ->
 *   config_complete -> [daemon forks] -> mount_open (once per [mount] using
 *   the backend) ... mount_close -> backend_close.
 * Start threads and open network connections in mount_open, never before:
 * the daemon forks between config_complete and mount_open.
 */
#ifndef SCOPEFS_PLUGIN_H
#define SCOPEFS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCOPEFS_ABI_MAJOR 1
#define SCOPEFS_ABI_MINOR 3

/* The one symbol the core looks up with dlsym(). */
#define SCOPEFS_PLUGIN_ENTRY scopefs_plugin_entry
#define SCOPEFS_PLUGIN_ENTRY_NAME "scopefs_plugin_entry"

#if defined(__GNUC__)
#define SCOPEFS_EXPORT __attribute__((visibility("default")))
#define SCOPEFS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SCOPEFS_EXPORT
#define SCOPEFS_PRINTF(a, b)
#endif

/* True when a struct received across the ABI is large enough to hold FIELD.
 * A plugin must test host fields added after the minor it was built for. */
#define SCOPEFS_HAS_FIELD(ptr, type, field)                                  \
	((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

enum scopefs_log_level {
	SCOPEFS_LOG_ERROR = 0,
	SCOPEFS_LOG_WARN = 1,
	SCOPEFS_LOG_INFO = 2,
	SCOPEFS_LOG_DEBUG = 3,
};

/* What the plugin stores and therefore which ops table the core uses. */
enum scopefs_plugin_kind {
	/* Path-based POSIX operations (local, nfs): fs ops below. */
	SCOPEFS_KIND_FS = 1,
	/* Whole-object primitives (s3, gcs, azblob): object ops below; the
	 * core's object layer turns them into POSIX. */
	SCOPEFS_KIND_OBJECT = 2,
};

/* How much concurrency the plugin tolerates (nbdkit's thread models). */
enum scopefs_thread_model {
	/* One call at a time across every mount of the backend. */
	SCOPEFS_THREAD_SERIALIZE_BACKEND = 0,
	/* One call at a time per mount; mounts run in parallel. */
	SCOPEFS_THREAD_SERIALIZE_MOUNT = 1,
	/* Any number of concurrent calls. */
	SCOPEFS_THREAD_PARALLEL = 2,
};

/* Plugin capability flags (struct scopefs_plugin.flags). */
enum {
	/* Nothing but this daemon changes the data behind a mount, so the
	 * kernel's writeback cache and long attribute caching are safe. */
	SCOPEFS_CAP_EXCLUSIVE = 1u << 0,
	/* getattr returns st_ino values that are stable and unique per file
	 * (hard links share one), so the core can report them. */
	SCOPEFS_CAP_STABLE_INO = 1u << 1,
	/* (filesystem plugins) setxattr/getxattr of system.posix_acl_access
	 * and system.posix_acl_default store real POSIX ACLs, and the store
	 * keeps the mode in step with them, so the kernel may enforce them.
	 * A core that does not know this bit ignores it. */
	SCOPEFS_CAP_POSIX_ACL = 1u << 2,
};

/* Flags for mount_open. */
enum {
	SCOPEFS_MOUNT_READ_ONLY = 1u << 0,
};

/* Who asked for an operation that creates something.  The plugin gives the
 * new file this owner if it can (the local plugin does when running as root). */
struct scopefs_caller {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	mode_t umask; /* already applied to the mode passed in */
};

/*
 * Services the core offers a plugin.  One host struct per backend instance;
 * the pointer stays valid until backend_close returns.  Grows by appending.
 */
struct scopefs_host {
	uint32_t struct_size;
	uint32_t abi_major;
	uint32_t abi_minor;
	uint32_t reserved;
	/* The [backend NAME] this instance serves, for messages. */
	const char *backend_name;
	/* Log one line; the core prefixes time, level and backend name and
	 * sends it to stderr or syslog.  Never pass secrets. */
	void (*log)(const struct scopefs_host *h, int level, const char *fmt, ...)
		SCOPEFS_PRINTF(3, 4);
	/* Explain why a callback failed; the core adds where (file:line,
	 * section, key, operation).  Keep it to one sentence. */
	void (*set_error)(const struct scopefs_host *h, const char *fmt, ...)
		SCOPEFS_PRINTF(2, 3);
	/* Value of a key of this backend's section, or NULL.  ${VAR} already
	 * expanded.  Valid until backend_close. */
	const char *(*config_get)(const struct scopefs_host *h, const char *key);
	/* Parse "1", "yes", "true", "on" / "0", "no", "false", "off". */
	int (*parse_bool)(const char *s, int *out);
	/* Parse "4096", "8k", "16M", "1G" (binary units) into bytes. */
	int (*parse_size)(const char *s, uint64_t *out);
	/* The configuration file the key came from; for the plugin to check
	 * its permissions before accepting secrets from it. */
	const char *config_file;
	/* The core's cache directory ([scopefs] cache_dir). */
	const char *cache_dir;

	/* ---- ABI 1.3 ---- */

	/* Count one try of a request to the store, for the core's metrics
	 * (retries are tries too: RETRY is 1 for every try after the
	 * first).  STATUS is the protocol's status (HTTP), 0 when no answer
	 * came; SENT and RECEIVED body bytes; SECONDS how long the try took.
	 * Any thread may call it.  A host older than 1.3 lacks it: check
	 * SCOPEFS_HAS_FIELD(h, struct scopefs_host, count_request) first. */
	void (*count_request)(const struct scopefs_host *h, const char *method,
			      int status, int retry, uint64_t sent,
			      uint64_t received, double seconds);
};

/* Called once per directory entry by readdir.  st is NULL when the plugin
 * only knows the name (the core will ask getattr), else a full stat.
 * Returns 0, or a negative errno to stop the listing. */
typedef int (*scopefs_fill_fn)(void *ctx, const char *name,
			       const struct stat *st);

/*
 * Operations of a filesystem-like plugin.  Paths are relative to the mount's
 * root: "." is the root, otherwise components joined by '/', never empty,
 * never "." or "..", never a leading '/'.  The core guarantees that form;
 * the plugin still must not let a path or a symlink leave its root.
 * fh is the handle the plugin returned from open/create (NULL when the
 * call is not about an open file); calls that take both path and fh get a
 * NULL path when the open file no longer has one (it was unlinked).
 * Struct grows by appending.
 */
struct scopefs_fs_ops {
	uint32_t struct_size;
	uint32_t reserved;

	/* Required.  With fh, describe the open file; path is then NULL when
	 * the file has been removed or renamed away while open. */
	int (*getattr)(void *mnt, const char *path, void *fh, struct stat *st);
	int (*readdir)(void *mnt, const char *path, scopefs_fill_fn fill,
		       void *ctx);
	/* flags are open(2) flags; the core has checked permissions. */
	int (*open)(void *mnt, const char *path, int flags, void **fh);
	/* Create and open a regular file; fill st on success. */
	int (*create)(void *mnt, const char *path, int flags, mode_t mode,
		      const struct scopefs_caller *who, void **fh,
		      struct stat *st);
	/* Return bytes read (0 at end of file) or -errno. */
	ssize_t (*read)(void *mnt, void *fh, void *buf, size_t size, off_t off);
	/* Return bytes written or -errno. */
	ssize_t (*write)(void *mnt, void *fh, const void *buf, size_t size,
			 off_t off);
	/* Last close of the handle; the result is close()'s result. */
	int (*release)(void *mnt, void *fh);

	/* Optional. */
	int (*flush)(void *mnt, void *fh);
	int (*fsync)(void *mnt, void *fh, int datasync);
	/* A file descriptor holding the file's bytes, which the core may
	 * pread/pwrite/splice directly instead of calling read/write.  Return
	 * -ENOSYS when there is none for this handle. */
	int (*fd)(void *mnt, void *fh);
	int (*truncate)(void *mnt, const char *path, void *fh, off_t size);
	int (*mkdir)(void *mnt, const char *path, mode_t mode,
		     const struct scopefs_caller *who, struct stat *st);
	int (*mknod)(void *mnt, const char *path, mode_t mode, dev_t rdev,
		     const struct scopefs_caller *who, struct stat *st);
	int (*unlink)(void *mnt, const char *path);
	int (*rmdir)(void *mnt, const char *path);
	/* flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE. */
	int (*rename)(void *mnt, const char *from, const char *to,
		      unsigned int flags);
	int (*symlink)(void *mnt, const char *target, const char *path,
		       const struct scopefs_caller *who, struct stat *st);
	/* Write the NUL-terminated target into buf; -ENAMETOOLONG if it
	 * does not fit. */
	int (*readlink)(void *mnt, const char *path, char *buf, size_t size);
	int (*link)(void *mnt, const char *from, const char *to,
		    struct stat *st);
	int (*chmod)(void *mnt, const char *path, void *fh, mode_t mode);
	/* (uid_t)-1 / (gid_t)-1 mean "leave unchanged". */
	int (*chown)(void *mnt, const char *path, void *fh, uid_t uid,
		     gid_t gid);
	/* ts as utimensat(2): UTIME_NOW and UTIME_OMIT allowed. */
	int (*utimens)(void *mnt, const char *path, void *fh,
		       const struct timespec ts[2]);
	int (*statfs)(void *mnt, const char *path, struct statvfs *st);
	int (*fallocate)(void *mnt, void *fh, int mode, off_t off, off_t len);
	int (*setxattr)(void *mnt, const char *path, const char *name,
			const void *value, size_t size, int flags);
	/* Return the value size, or -ERANGE when size is too small; with
	 * size 0 return the size needed.  Same for listxattr. */
	ssize_t (*getxattr)(void *mnt, const char *path, const char *name,
			    void *value, size_t size);
	ssize_t (*listxattr)(void *mnt, const char *path, char *list,
			     size_t size);
	int (*removexattr)(void *mnt, const char *path, const char *name);
};

/*
 * Object-store plugins (ABI 1.1; 1.2 appended put_new and meta_max).  The core's object layer turns these
 * primitives into POSIX: directories from common prefixes and "dir/"
 * markers, attribute/entry/negative caches, readahead, streaming multipart
 * uploads, staging of random writes, rename as copy + delete, and POSIX
 * attributes kept in user metadata.  A third party adds a store by writing
 * about ten functions.
 *
 * Keys are relative to the mount's root (the plugin adds its base prefix
 * and the mount's prefix), never start with '/', and use '/' as the
 * separator; a key ending in '/' is a directory marker.  The plugin must
 * encode keys for its protocol (any byte but NUL may appear).
 *
 * Errors: -ENOENT (no such object), -EACCES/-EPERM (denied), -ENOSPC,
 * -EAGAIN (throttled, after the plugin's own retries), -ETIMEDOUT,
 * -EIO (anything else); before returning one, call host->set_error with
 * the operation, the key and the server's status so the core can log it.
 * Every call must return within the plugin's configured timeouts.
 */

/* Longest ETag the ABI carries, NUL included. */
#define SCOPEFS_ETAG_MAX 128

/* What a store tells about one object. */
struct scopefs_object_attr {
	uint64_t size;
	struct timespec mtime; /* the store's last-modified time */
	char etag[SCOPEFS_ETAG_MAX]; /* opaque; "" when unknown */
};

/* One user-metadata pair.  The core chooses short lower-case keys
 * ("mode", "uid", "gid", "mtime", "symlink", ...); the plugin maps them to
 * its protocol (x-amz-meta-KEY, x-ms-meta-KEY, ...). */
struct scopefs_object_meta {
	const char *key;
	const char *value;
};

/* Called by head for each user-metadata pair. */
typedef int (*scopefs_meta_fn)(void *ctx, const char *key, const char *value);

/* Called by list for each entry: a key (attr set) or, with a delimiter, a
 * common prefix (is_prefix 1, attr NULL, name ends in '/').  Metadata is
 * passed when the listing carries it (meta may be NULL). */
typedef int (*scopefs_list_fn)(void *ctx, const char *key, int is_prefix,
			       const struct scopefs_object_attr *attr,
			       const struct scopefs_object_meta *meta,
			       size_t nmeta);

/* Object plugin capability flags (scopefs_object_ops.flags). */
enum {
	/* copy is implemented server-side. */
	SCOPEFS_OBJ_CAN_COPY = 1u << 0,
	/* list passes user metadata, so listings give full attributes. */
	SCOPEFS_OBJ_LIST_HAS_META = 1u << 1,
};

/* Longest continuation token of a listing, NUL included. */
#define SCOPEFS_TOKEN_MAX 4096

struct scopefs_object_ops {
	uint32_t struct_size;
	uint32_t flags; /* SCOPEFS_OBJ_* */

	/* Limits the core plans uploads within. */
	uint64_t min_part_size; /* every part but the last is at least this */
	uint64_t max_part_size;
	uint32_t max_parts;
	uint32_t list_page;     /* keys per list request, e.g. 1000 */
	uint64_t max_put_size;  /* largest single put (and single copy) */

	/* Attributes and user metadata of KEY.  -ENOENT if absent. */
	int (*head)(void *mnt, const char *key, struct scopefs_object_attr *a,
		    scopefs_meta_fn meta, void *ctx);
	/* Read up to LEN bytes at OFF into BUF; return the count (short only
	 * at the end of the object).  if_etag, when non-NULL and non-empty,
	 * makes the read fail with -ESTALE if the object changed. */
	ssize_t (*get)(void *mnt, const char *key, uint64_t off, void *buf,
		       size_t len, const char *if_etag);
	/* Store the whole object (replacing any), atomically. */
	int (*put)(void *mnt, const char *key, const void *buf, size_t len,
		   const struct scopefs_object_meta *meta, size_t nmeta,
		   struct scopefs_object_attr *out);
	/* List keys starting with PREFIX.  With a delimiter ("/"), keys
	 * below the next delimiter are rolled up into common prefixes.
	 * token: in, "" for the first page or the last call's value; out,
	 * the next page's token or "" after the last page.  Entries arrive
	 * in the store's order, one page per call. */
	int (*list)(void *mnt, const char *prefix, const char *delimiter,
		    char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn,
		    void *ctx);
	/* Remove KEY; removing an absent key is not an error. */
	int (*remove)(void *mnt, const char *key);
	/* Server-side copy (any size: the plugin uses multipart copy past
	 * its single-copy limit).  meta non-NULL replaces the metadata,
	 * NULL keeps the source's.  Optional (SCOPEFS_OBJ_CAN_COPY). */
	int (*copy)(void *mnt, const char *from, const char *to,
		    const struct scopefs_object_meta *meta, size_t nmeta,
		    struct scopefs_object_attr *out);

	/* Multipart upload: nothing is visible until complete succeeds;
	 * abort leaves no trace.  The plugin owns *upload until complete or
	 * abort returns (both free it, even on failure).  upload_part may
	 * be called from several threads at once for different parts;
	 * part numbers start at 1. */
	int (*mpu_create)(void *mnt, const char *key,
			  const struct scopefs_object_meta *meta, size_t nmeta,
			  void **upload);
	int (*mpu_part)(void *mnt, void *upload, uint32_t part_number,
			const void *buf, size_t len);
	int (*mpu_complete)(void *mnt, void *upload,
			    struct scopefs_object_attr *out);
	int (*mpu_abort)(void *mnt, void *upload);

	/* ---- ABI 1.2 ---- */

	/* Store KEY only if no object has that key, atomically in the store
	 * (S3 and Azure: If-None-Match: *; GCS: ifGenerationMatch=0);
	 * -EEXIST if one does, without calling set_error.  The core uses it
	 * for open(O_CREAT|O_EXCL), so that lock files hold across machines.
	 * Optional: NULL makes O_EXCL exclusive within one daemon only. */
	int (*put_new)(void *mnt, const char *key, const void *buf, size_t len,
		       const struct scopefs_object_meta *meta, size_t nmeta,
		       struct scopefs_object_attr *out);
	/* Most bytes of user metadata one object may carry, counting each
	 * pair as strlen(key) + strlen(value) as the core passes them (the
	 * plugin subtracts its own prefixes: S3 2 KiB less "x-amz-meta-" per
	 * key).  The core refuses what would not fit before it asks.  0: no
	 * stated limit. */
	uint32_t meta_max;
};

/* The description a plugin hands the core.  Grows by appending. */
struct scopefs_plugin {
	uint32_t abi_major;   /* SCOPEFS_ABI_MAJOR the plugin was built with */
	uint32_t abi_minor;   /* SCOPEFS_ABI_MINOR the plugin was built with */
	uint32_t struct_size; /* sizeof(struct scopefs_plugin) at build time */
	uint32_t kind;        /* enum scopefs_plugin_kind */
	uint32_t thread_model; /* enum scopefs_thread_model */
	uint32_t flags;       /* SCOPEFS_CAP_* */

	const char *name;        /* short name, as in "plugin = NAME" */
	const char *version;     /* the plugin's own version string */
	const char *description; /* one line, for scopefs --help */
	/* Text listing the plugin's configuration keys, for help output. */
	const char *config_help;

	/* Make a backend instance.  host stays valid until backend_close. */
	int (*backend_open)(const struct scopefs_host *host, void **backend);
	/* One key of the [backend] section (never "plugin").  Unknown key:
	 * set_error + -EINVAL.  Bad value: set_error + -EINVAL. */
	int (*config)(void *backend, const char *key, const char *value);
	/* All keys seen: check required keys and combinations.  No network. */
	int (*config_complete)(void *backend);
	/* Serve one mount rooted at prefix ("" = the backend's own root).
	 * Called after the daemon forks; may reach the network and fail with
	 * set_error to refuse the mount. */
	int (*mount_open)(void *backend, const char *prefix, unsigned int flags,
			  void **mnt);
	void (*mount_close)(void *mnt);
	void (*backend_close)(void *backend);

	/* The ops table for the plugin's kind; the other stays NULL. */
	const struct scopefs_fs_ops *fs;
	const struct scopefs_object_ops *object;
};

/* The entry point: return the plugin's static description.  Called once,
 * right after dlopen. */
typedef const struct scopefs_plugin *(*scopefs_plugin_entry_fn)(void);

/* Define the entry point for a plugin whose description is the static
 * struct VAR. */
#define SCOPEFS_REGISTER_PLUGIN(var)                                          \
	SCOPEFS_EXPORT const struct scopefs_plugin *SCOPEFS_PLUGIN_ENTRY(void); \
	const struct scopefs_plugin *SCOPEFS_PLUGIN_ENTRY(void)                 \
	{                                                                       \
		return &(var);                                                  \
	}

/* Initialiser for the fixed head of struct scopefs_plugin. */
#define SCOPEFS_PLUGIN_HEAD                                                   \
	.abi_major = SCOPEFS_ABI_MAJOR, .abi_minor = SCOPEFS_ABI_MINOR,       \
	.struct_size = sizeof(struct scopefs_plugin)

#ifdef __cplusplus
}
#endif
#endif /* SCOPEFS_PLUGIN_H */
