/* metrics: counters the workers keep and the supervisor serves.
 *
 * Workers are processes (docs/isolation.md), so the counters live in one
 * shared anonymous mapping made before the first fork: a worker adds to
 * its mounts' and its backend's slots with atomic operations, and the
 * supervisor reads them all when scraped, whichever worker crashed or
 * restarted meanwhile (a restarted worker goes on counting in the same
 * slots).  Counting is a few relaxed atomic adds, with or without a
 * listener. */
#ifndef SCOPEFS_METRICS_H
#define SCOPEFS_METRICS_H

#include <stdint.h>
#include <stdio.h>

/* Store operations, as the object layer calls them. */
enum mx_op {
	MX_HEAD, MX_GET, MX_PUT, MX_LIST, MX_REMOVE, MX_COPY, MX_MPU_CREATE,
	MX_MPU_PART, MX_MPU_COMPLETE, MX_MPU_ABORT, MX_PUT_NEW, MX_NOPS
};

/* The mount's own operations (core/fs_metered.c), in the order of
 * struct scopefs_fs_ops. */
#define MX_FS_NOPS 28
extern const char *const mx_fs_op_names[MX_FS_NOPS];

/* Latency buckets' upper bounds, seconds (+Inf implied). */
#define MX_BUCKETS 12
extern const double mx_bucket_le[MX_BUCKETS];

struct mx_latency {
	uint64_t count, sum_ns;
	uint64_t bucket[MX_BUCKETS + 1]; /* not cumulative; last is +Inf */
};

struct mx_opstat {
	uint64_t errors;
	uint64_t bytes;          /* payload read (get) or written (put...) */
	struct mx_latency lat;   /* every call, failed ones included */
};

/* Errors by errno, the ones worth a label; the rest count as "other". */
#define MX_ERRNOS 12
extern const int mx_errno_list[MX_ERRNOS];

struct mx_mount {
	char path[256];
	char backend[64];
	struct mx_opstat op[MX_NOPS];     /* calls of the object layer */
	struct mx_opstat fsop[MX_FS_NOPS]; /* what the kernel asked */
	uint64_t errno_count[MX_ERRNOS + 1];
	uint64_t cache_hits, cache_misses;
	int64_t parts_in_flight;   /* multipart parts being uploaded */
	int64_t staged_files;      /* open files staged on local disk */
	int64_t memory_used;       /* of the part/readahead budget */
	uint64_t memory_budget;
};

/* HTTP methods a plugin reports; anything else is "other". */
enum { MX_M_GET, MX_M_HEAD, MX_M_PUT, MX_M_POST, MX_M_DELETE, MX_M_OTHER,
       MX_METHODS };

struct mx_backend {
	char name[64];
	char plugin[64];
	/* requests by method and status (0: no answer came) */
	uint64_t status[MX_METHODS][600];
	uint64_t retries[MX_METHODS];
	uint64_t sent, received;
	struct mx_latency lat[MX_METHODS];
};

#define MX_MAX_MOUNTS 32
#define MX_MAX_BACKENDS 32

struct mx_region {
	uint32_t nmounts, nbackends;
	double started;            /* CLOCK_REALTIME of the supervisor */
	struct mx_mount mounts[MX_MAX_MOUNTS];
	struct mx_backend backends[MX_MAX_BACKENDS];
};

struct config;

/* Make the shared counters for C's mounts and backends (before the
 * workers fork); 0 or -errno.  metrics_shared() is NULL until then. */
int metrics_create(const struct config *c);
struct mx_region *metrics_shared(void);
void metrics_destroy(void);

/* The slot of mount PATH / backend NAME, or NULL (no region, or not
 * found: counting then does nothing). */
struct mx_mount *metrics_mount(const char *path);
struct mx_backend *metrics_backend(const char *name);

/* Count one store call: R its result (< 0 an errno), BYTES its payload,
 * NS how long it took. */
void metrics_op(struct mx_mount *m, enum mx_op op, long r, uint64_t bytes,
		uint64_t ns);
/* Count one operation of the mount (fs_metered). */
void metrics_fsop(struct mx_mount *m, int op, long r, uint64_t bytes,
		  uint64_t ns);
/* One HTTP try of a plugin (host count_request). */
void metrics_request(struct mx_backend *b, const char *method, int status,
		     int retry, uint64_t sent, uint64_t received,
		     double seconds);
static inline void metrics_add(int64_t *g, int64_t d)
{
	__atomic_fetch_add(g, d, __ATOMIC_RELAXED);
}
static inline void metrics_count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}
/* Monotonic nanoseconds, for timing calls. */
uint64_t metrics_now_ns(void);

/* Write R in Prometheus' text exposition format (version 0.0.4). */
void metrics_write(const struct mx_region *r, FILE *f);

#endif
