/*
 * nfs plugin internals: the backend and mount handles, the pool of libnfs
 * contexts every operation runs on, and the path rules.  Nothing declared
 * here is exported from the .so; the only public symbol is the plugin
 * entry.  Internal names start with nfsp_ so that none can be mistaken
 * for (or collide with) libnfs's nfs_ functions.
 *
 * The rule that keeps a mount inside its prefix: every context of a
 * mount's pool is mounted (MOUNT protocol) at the prefix directory itself,
 * EXPORT/BASE/PREFIX, not at the export.  libnfs resolves every path from
 * that root, refuses ".." above it, and refuses a symlink whose target
 * lies outside it ("points outside export"), so neither a crafted path
 * nor a symlink planted by another client can reach another scope.  On
 * top of that the daemon never follows a symlink in a path's last
 * component (lstat, lchmod, lchown, lutimes, O_NOFOLLOW).
 */
#ifndef SCOPEFS_NFS_H
#define SCOPEFS_NFS_H

#include <scopefs/plugin.h>

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct nfs_context;
struct rpc_context;
struct nfsfh;
struct nfs_stat_64;

#pragma GCC visibility push(hidden)

/* One [backend] section.  Read-only after config_complete. */
struct nfsp_backend {
	const struct scopefs_host *host;
	char *url;        /* as configured: nfs://HOST[:PORT]/EXPORT[?...] */
	char *server;     /* HOST, from the URL */
	char *export;     /* /EXPORT, from the URL, no trailing '/' */
	char *base;       /* the prefix key: names joined by '/', or "" */
	uid_t uid;        /* AUTH_SYS credentials sent with every call */
	gid_t gid;
	unsigned connections; /* contexts per mount */
	long timeout_ms;  /* per RPC */
	unsigned retries; /* further tries after a transport failure */
	uint64_t low_bytes;  /* low_space_warning as bytes, or 0 */
	unsigned low_pct;    /* low_space_warning as a percentage, or 0 */
};

/* One libnfs context.  libnfs contexts are not thread-safe: whoever holds
 * lock owns ctx.  ctx is NULL until connected and again after a transport
 * failure, so that the next user reconnects. */
struct nfsp_conn {
	pthread_mutex_t lock;
	struct nfs_context *ctx;
	time_t failed_at; /* last failed connect, for the backoff */
};

#define NFSP_OPEN_BUCKETS 256
/* The directory at a mount's root that holds files unlinked while open. */
#define NFSP_HIDDEN ".scopefs-unlinked"

struct nfsp_open;

/* One [mount] served by an nfs backend. */
struct nfsp_mount {
	const struct scopefs_host *host;
	const struct nfsp_backend *be;
	char *root;         /* EXPORT/BASE/PREFIX, what the pool mounts */
	int read_only;      /* SCOPEFS_MOUNT_READ_ONLY: refuse every change */
	int give_to_caller; /* AUTH_SYS uid 0: new nodes get the caller's owner */
	unsigned nconn;
	struct nfsp_conn *conn;
	unsigned next;      /* where the next call starts looking (atomic) */
	uint64_t root_ino;  /* the prefix directory, checked at each connect */
	/* low_space_warning: whether free space was last seen below it, and
	 * when it was last looked at; under warn_lock. */
	pthread_mutex_t warn_lock;
	int low;
	time_t checked_at;
	/* The files open here (nfs_unlinked.c), under open_lock; nopen is
	 * also read without it, as a hint. */
	pthread_mutex_t open_lock;
	struct nfsp_open *open_files[NFSP_OPEN_BUCKETS];
	unsigned nopen;
	int hidden_made;    /* NFSP_HIDDEN exists (under open_lock) */
	unsigned tag;       /* pid ^ random, in hidden names */
	uint64_t writemax;  /* the server's wtmax, from the first connect */
};

/* What open and create hand the core as fh.  The nfsfh is not tied to a
 * context (an NFSv3 handle is valid on any connection to the server), so
 * any context of the pool may serve it. */
struct nfsp_file {
	struct nfsfh *fh;
	int writable;
	int append;           /* O_APPEND: each write goes to the end */
	int sync;             /* O_SYNC, O_DSYNC: FILE_SYNC writes */
	int dirty;            /* written since the last COMMIT (atomic) */
	uint64_t dev, ino;    /* the file's fsid and fileid */
	pthread_mutex_t lock; /* orders appends of this handle */
};

/* ---- nfs_pool.c: running calls on the pool ---- */

/* Where the result of a libnfs call goes (see nfsp_cb). */
enum {
	NFSP_OUT_NONE,  /* only the status */
	NFSP_OUT_COPY,  /* data points to len bytes (a struct): copy them */
	NFSP_OUT_BYTES, /* status bytes at data (a read): copy at most len */
	NFSP_OUT_PTR,   /* data is a pointer the caller now owns (nfsfh) */
	NFSP_OUT_DIR,   /* data is a struct nfsdir * the caller now owns */
	NFSP_OUT_STR,   /* data is a string: strdup it (readlink) */
};

struct nfsp_out {
	int kind;
	void *buf; /* COPY, BYTES: the buffer; PTR, DIR, STR: a void ** */
	size_t len;
};

#define NFSP_NONE ((struct nfsp_out){ NFSP_OUT_NONE, NULL, 0 })
#define NFSP_COPY(x) ((struct nfsp_out){ NFSP_OUT_COPY, &(x), sizeof(x) })
#define NFSP_BYTES(b, n) ((struct nfsp_out){ NFSP_OUT_BYTES, (b), (n) })
#define NFSP_PTR(pp) ((struct nfsp_out){ NFSP_OUT_PTR, (pp), 0 })
#define NFSP_DIR(pp) ((struct nfsp_out){ NFSP_OUT_DIR, (pp), 0 })
#define NFSP_STR(pp) ((struct nfsp_out){ NFSP_OUT_STR, (pp), 0 })

/* One call in flight, on the heap: if the plugin stops waiting (the
 * connection broke before libnfs answered), the callback still comes
 * later, when the context is destroyed, and frees it then. */
struct nfsp_wait {
	int done;
	int orphan;
	int status;
	struct nfsp_out out;
};

/* The state of one call's attempts. */
struct nfsp_try {
	unsigned tries;
};

/* libnfs declares struct nfs_fh (what nfs_get_fh returns) in its public
 * headers but defines it only in its private one; this is that
 * definition, the same from 4.0 through 6.x.  For the raw NFSv3 calls
 * libnfs's path API lacks (nanosecond times, LINK of a symlink). */
struct nfs_fh {
	int len;
	char *val;
};

/* An NFSv3 file handle of our own (a LOOKUP's answer). */
struct nfsp_fh3 {
	unsigned len;
	char val[64]; /* NFS3_FHSIZE */
};

/* The rpc_cb of a raw NFSv3 call whose answer is only its status (all
 * NFSv3 results start with it), delivered as nfsp_cb does: -EINTR for a
 * timeout, -EFAULT for a broken connection, else the NFS error. */
void nfsp_rpc_cb(struct rpc_context *rpc, int status, void *data,
		 void *priv);
/* The rpc_cb of a raw WRITE: the count the server took. */
void nfsp_write_cb(struct rpc_context *rpc, int status, void *data,
		   void *priv);
/* The rpc_cb of a raw LOOKUP: the object's handle into the
 * struct nfsp_fh3 of an NFSP_COPY. */
void nfsp_lookup_cb(struct rpc_context *rpc, int status, void *data,
		    void *priv);

/* The nfs_cb every call passes libnfs, with its nfsp_wait. */
void nfsp_cb(int status, struct nfs_context *nfs, void *data, void *priv);
struct nfsp_wait *nfsp_wait_new(struct nfsp_out out);
/* Serve CTX until W is answered or its deadline passes; the status, or
 * -EIO / -ETIMEDOUT (W is then orphaned: the context must be destroyed). */
int nfsp_run(const struct nfsp_backend *be, struct nfs_context *ctx,
	     struct nfsp_wait *w);
/* What to return when the async call could not even be queued. */
int nfsp_queue_failed(struct nfsp_wait *w);

/* Connect a fresh context to ROOT (an export path) with the backend's
 * settings.  Returns it, or NULL with *err set (and set_error when
 * report). */
struct nfs_context *nfsp_connect(const struct nfsp_backend *be,
				 const char *root, int report, int *err);
/* Connect C (whose lock the caller holds) to the mount's root and check
 * that the root is still the prefix directory mount_open made.  0 or
 * -errno (with set_error when report). */
int nfsp_conn_open(struct nfsp_mount *m, struct nfsp_conn *c, int report);
/* Take a connected context for one attempt; NULL when no attempt is left,
 * with *r holding why.  The caller must pass the conn to nfsp_end. */
struct nfsp_conn *nfsp_begin(struct nfsp_mount *m, struct nfsp_try *t,
			     int *r);
/* Release C after an attempt whose result is *r.  Maps *r to what the
 * plugin returns and drops a context that failed in transport.  Returns
 * 1 when the call should be tried again (a transport failure, a try
 * left, and IDEM: the call is safe to repeat if the first one did reach
 * the server). */
int nfsp_end(struct nfsp_mount *m, struct nfsp_try *t, struct nfsp_conn *c,
	     int *r, int idem, const char *what, const char *path);

/* One call on context CTX of the backend BE: CALL is a libnfs _async
 * call that passes nfsp_cb and w; the status or -errno. */
#define NFSP_ONE(be, ctx, out, call)                                         \
	({                                                                   \
		struct nfsp_wait *w = nfsp_wait_new(out);                    \
		!w ? -ENOMEM : (call) != 0 ? nfsp_queue_failed(w) :          \
					      nfsp_run((be), (ctx), w);       \
	})

/*
 * Run CALL, a libnfs _async call that may use the names `ctx` (the
 * context it runs on), nfsp_cb and `w`, with retries and reconnects as
 * above; its result goes where OUT says, and R (an int or ssize_t lvalue)
 * gets the status: what the callback was given (0, a byte count), or
 * -errno.
 */
#define NFSP_CALL(m, r, idem, what, path, out, call)                         \
	do {                                                                 \
		struct nfsp_try t_ = { 0 };                                  \
		struct nfsp_conn *c_;                                        \
		int r_ = 0;                                                  \
		while ((c_ = nfsp_begin((m), &t_, &r_))) {                   \
			struct nfs_context *ctx = c_->ctx;                   \
			r_ = NFSP_ONE((m)->be, ctx, out, call);              \
			if (!nfsp_end((m), &t_, c_, &r_, (idem), (what),     \
				      (path)))                               \
				break;                                       \
		}                                                            \
		(r) = r_;                                                    \
	} while (0)

#define NFSP_IDEM 1
#define NFSP_ONCE 0

/* ---- nfs_path.c ---- */

/* Longest path the plugin hands libnfs, NUL included. */
#define NFSP_PATH_MAX 4096

/* "/" + PATH into out (PATH as plugin.h promises; "." is the root).
 * -EINVAL for any other form, -ENAMETOOLONG when it does not fit. */
int nfsp_path(const char *path, char out[NFSP_PATH_MAX]);
/* 0 if S is names joined by '/' (no empty, "." or ".." names, no
 * leading or trailing '/'); "" is allowed. */
int nfsp_names_ok(const char *s);
/* libnfs's stat into struct stat. */
void nfsp_stat(const struct nfs_stat_64 *in, struct stat *out);

/* ---- nfs_unlinked.c: files unlinked while open here ---- */
/* Count F (dev and ino set) as open / closed; the last close removes the
 * file's hidden name, if it has one. */
int nfsp_opened(struct nfsp_mount *m, struct nfsp_file *f);
void nfsp_closed(struct nfsp_mount *m, struct nfsp_file *f);
/* If P (a libnfs path) is a file open here with no other name, rename it
 * to a hidden name: 1 if so, 0 if P may be removed as usual, or -errno. */
int nfsp_hide_if_open(struct nfsp_mount *m, const char *p);
/* F lives on under a hidden name only (its st_nlink shows one less). */
int nfsp_is_hidden(struct nfsp_mount *m, const struct nfsp_file *f);
/* NAME in DIR (a libnfs path) is one readdir leaves out. */
int nfsp_hidden_name(const char *dir, const char *name);
void nfsp_forget_open(struct nfsp_mount *m);

/* ---- nfs_file.c: open files and their data ---- */
int nfsp_open(void *mnt, const char *path, int flags, void **fh);
int nfsp_create(void *mnt, const char *path, int flags, mode_t mode,
		const struct scopefs_caller *who, void **fh, struct stat *st);
ssize_t nfsp_read(void *mnt, void *fh, void *buf, size_t size, off_t off);
ssize_t nfsp_write(void *mnt, void *fh, const void *buf, size_t size,
		   off_t off);
int nfsp_release(void *mnt, void *fh);
int nfsp_flush(void *mnt, void *fh);
int nfsp_fsync(void *mnt, void *fh, int datasync);
int nfsp_truncate(void *mnt, const char *path, void *fh, off_t size);

/* ---- nfs_dir.c: names ---- */
int nfsp_readdir(void *mnt, const char *path, scopefs_fill_fn fill,
		 void *ctx);
int nfsp_mkdir(void *mnt, const char *path, mode_t mode,
	       const struct scopefs_caller *who, struct stat *st);
int nfsp_mknod(void *mnt, const char *path, mode_t mode, dev_t rdev,
	       const struct scopefs_caller *who, struct stat *st);
int nfsp_symlink(void *mnt, const char *target, const char *path,
		 const struct scopefs_caller *who, struct stat *st);
int nfsp_link(void *mnt, const char *from, const char *to, struct stat *st);
int nfsp_unlink(void *mnt, const char *path);
int nfsp_rmdir(void *mnt, const char *path);
int nfsp_rename(void *mnt, const char *from, const char *to,
		unsigned int flags);
int nfsp_readlink(void *mnt, const char *path, char *buf, size_t size);

/* ---- nfs_attr.c: attributes, ownership, capacity ---- */
int nfsp_getattr(void *mnt, const char *path, void *fh, struct stat *st);
int nfsp_chmod(void *mnt, const char *path, void *fh, mode_t mode);
int nfsp_chown(void *mnt, const char *path, void *fh, uid_t uid, gid_t gid);
int nfsp_utimens(void *mnt, const char *path, void *fh,
		 const struct timespec ts[2]);
int nfsp_statfs(void *mnt, const char *path, struct statvfs *st);
/* lstat of P (a libnfs path) into st. */
int nfsp_lstat(struct nfsp_mount *m, const char *p, struct stat *st);
/* Give the node P (or fh when non-NULL) this daemon just made to the
 * caller, as the local plugin does when it runs as root: the caller's uid
 * and gid, then the set-ID bits SETID that were held back at creation.
 * st is refreshed.  Does nothing unless the AUTH_SYS uid is 0. */
int nfsp_give(struct nfsp_mount *m, const struct scopefs_caller *who,
	      struct nfsfh *fh, const char *p, mode_t setid, struct stat *st);
/* Look at free space if the last look is older than a few seconds (or
 * FORCE), and log once each time it crosses low_space_warning. */
void nfsp_check_space(struct nfsp_mount *m, int force);
/* Log a crossing seen in a statfs result. */
void nfsp_note_space(struct nfsp_mount *m, const struct statvfs *sv);

#pragma GCC visibility pop

#endif
