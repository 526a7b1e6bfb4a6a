/* metrics: the shared counters (see metrics.h) and their exposition. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "config.h"
#include "metrics.h"

const double mx_bucket_le[MX_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

const int mx_errno_list[MX_ERRNOS] = {
	ENOENT, ESTALE, EEXIST, EACCES, EIO, EAGAIN, ETIMEDOUT, ENOSPC, EINVAL,
	EFBIG, EBUSY, ERANGE,
};

static const char *const op_names[MX_NOPS] = {
	"head", "get", "put", "list", "remove", "copy", "mpu_create",
	"mpu_part", "mpu_complete", "mpu_abort", "put_new",
};

static const char *const method_names[MX_METHODS] = {
	"GET", "HEAD", "PUT", "POST", "DELETE", "other",
};

static struct mx_region *region;

static void copy_label(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int metrics_create(const struct config *c)
{
	struct timespec now;
	void *p;

	if (region)
		return 0;
	p = mmap(NULL, sizeof *region, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	region = p;
	clock_gettime(CLOCK_REALTIME, &now);
	region->started = (double)now.tv_sec + now.tv_nsec / 1e9;
	for (size_t i = 0; i < c->nmounts && i < MX_MAX_MOUNTS; i++) {
		struct mx_mount *m = &region->mounts[region->nmounts++];
		copy_label(m->path, sizeof m->path, c->mounts[i].path);
		copy_label(m->backend, sizeof m->backend,
			   c->mounts[i].backend);
	}
	for (size_t i = 0; i < c->nbackends && i < MX_MAX_BACKENDS; i++) {
		struct mx_backend *b = &region->backends[region->nbackends++];
		copy_label(b->name, sizeof b->name, c->backends[i].name);
		copy_label(b->plugin, sizeof b->plugin, c->backends[i].plugin);
	}
	return 0;
}

struct mx_region *metrics_shared(void)
{
	return region;
}

void metrics_destroy(void)
{
	if (region)
		munmap(region, sizeof *region);
	region = NULL;
}

struct mx_mount *metrics_mount(const char *path)
{
	for (uint32_t i = 0; region && i < region->nmounts; i++)
		if (strcmp(region->mounts[i].path, path) == 0)
			return &region->mounts[i];
	return NULL;
}

struct mx_backend *metrics_backend(const char *name)
{
	for (uint32_t i = 0; region && i < region->nbackends; i++)
		if (strcmp(region->backends[i].name, name) == 0)
			return &region->backends[i];
	return NULL;
}

uint64_t metrics_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void observe(struct mx_latency *l, uint64_t ns)
{
	double s = ns / 1e9;
	int i = 0;

	while (i < MX_BUCKETS && s > mx_bucket_le[i])
		i++;
	__atomic_fetch_add(&l->bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&l->sum_ns, ns, __ATOMIC_RELAXED);
	__atomic_fetch_add(&l->count, 1, __ATOMIC_RELAXED);
}

void metrics_op(struct mx_mount *m, enum mx_op op, long r, uint64_t bytes,
		uint64_t ns)
{
	struct mx_opstat *s;
	int e = 0;

	if (!m || op >= MX_NOPS)
		return;
	s = &m->op[op];
	observe(&s->lat, ns);
	if (r >= 0) {
		__atomic_fetch_add(&s->bytes, bytes, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	while (e < MX_ERRNOS && mx_errno_list[e] != -r)
		e++;
	__atomic_fetch_add(&m->errno_count[e], 1, __ATOMIC_RELAXED);
}

void metrics_fsop(struct mx_mount *m, int op, long r, uint64_t bytes,
		  uint64_t ns)
{
	struct mx_opstat *s;

	if (!m || op < 0 || op >= MX_FS_NOPS)
		return;
	s = &m->fsop[op];
	observe(&s->lat, ns);
	if (r < 0)
		__atomic_fetch_add(&s->errors, 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&s->bytes, bytes, __ATOMIC_RELAXED);
}

static int method_index(const char *method)
{
	for (int i = 0; i < MX_M_OTHER; i++)
		if (method && strcmp(method, method_names[i]) == 0)
			return i;
	return MX_M_OTHER;
}

void metrics_request(struct mx_backend *b, const char *method, int status,
		     int retry, uint64_t sent, uint64_t received,
		     double seconds)
{
	int m = method_index(method);

	if (!b)
		return;
	if (status < 0 || status >= 600)
		status = 0;
	__atomic_fetch_add(&b->status[m][status], 1, __ATOMIC_RELAXED);
	if (retry)
		__atomic_fetch_add(&b->retries[m], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&b->sent, sent, __ATOMIC_RELAXED);
	__atomic_fetch_add(&b->received, received, __ATOMIC_RELAXED);
	observe(&b->lat[m], seconds > 0 ? (uint64_t)(seconds * 1e9) : 0);
}

/* ---- exposition ------------------------------------------------------ */

static uint64_t get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int64_t gauge(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* A label value, escaped as the format asks (\\, \", \n). */
static void label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void head(FILE *f, const char *name, const char *type,
		 const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* NAME{LABELS,le=...} lines of a histogram; LABELS is already written
 * by WHO(f) each time. */
static void histogram(FILE *f, const char *name, const struct mx_latency *l,
		      void (*who)(FILE *, const void *), const void *ctx)
{
	uint64_t cum = 0;

	for (int i = 0; i <= MX_BUCKETS; i++) {
		cum += get(&l->bucket[i]);
		fprintf(f, "%s_bucket{", name);
		who(f, ctx);
		if (i < MX_BUCKETS)
			fprintf(f, ",le=\"%g\"} %llu\n", mx_bucket_le[i],
				(unsigned long long)cum);
		else
			fprintf(f, ",le=\"+Inf\"} %llu\n",
				(unsigned long long)cum);
	}
	fprintf(f, "%s_sum{", name);
	who(f, ctx);
	fprintf(f, "} %.9f\n%s_count{", get(&l->sum_ns) / 1e9, name);
	who(f, ctx);
	fprintf(f, "} %llu\n", (unsigned long long)get(&l->count));
}

struct mount_op {
	const struct mx_mount *m;
	int op;
};

static void who_mount(FILE *f, const void *ctx)
{
	const struct mx_mount *m = ctx;

	fputs("mount=\"", f);
	label(f, m->path);
	fputs("\",backend=\"", f);
	label(f, m->backend);
	fputc('"', f);
}

static void who_mount_op(FILE *f, const void *ctx)
{
	const struct mount_op *mo = ctx;

	who_mount(f, mo->m);
	fprintf(f, ",op=\"%s\"", op_names[mo->op]);
}

struct backend_method {
	const struct mx_backend *b;
	int method;
};

static void who_backend(FILE *f, const void *ctx)
{
	const struct mx_backend *b = ctx;

	fputs("backend=\"", f);
	label(f, b->name);
	fputs("\",plugin=\"", f);
	label(f, b->plugin);
	fputc('"', f);
}

static void who_backend_method(FILE *f, const void *ctx)
{
	const struct backend_method *bm = ctx;

	who_backend(f, bm->b);
	fprintf(f, ",method=\"%s\"", method_names[bm->method]);
}

static void mount_counters(const struct mx_region *r, FILE *f)
{
	head(f, "scopefs_store_requests_total", "counter",
	     "Calls of the object layer to its plugin, by operation.");
	for (uint32_t i = 0; i < r->nmounts; i++)
		for (int op = 0; op < MX_NOPS; op++) {
			struct mount_op mo = { &r->mounts[i], op };
			fputs("scopefs_store_requests_total{", f);
			who_mount_op(f, &mo);
			fprintf(f, "} %llu\n", (unsigned long long)get(
				&r->mounts[i].op[op].lat.count));
		}
	head(f, "scopefs_store_errors_total", "counter",
	     "Store calls that failed, by operation.");
	for (uint32_t i = 0; i < r->nmounts; i++)
		for (int op = 0; op < MX_NOPS; op++) {
			struct mount_op mo = { &r->mounts[i], op };
			fputs("scopefs_store_errors_total{", f);
			who_mount_op(f, &mo);
			fprintf(f, "} %llu\n", (unsigned long long)get(
				&r->mounts[i].op[op].errors));
		}
	head(f, "scopefs_store_errno_total", "counter",
	     "Failed store calls by the errno they gave.");
	for (uint32_t i = 0; i < r->nmounts; i++)
		for (int e = 0; e <= MX_ERRNOS; e++) {
			uint64_t n = get(&r->mounts[i].errno_count[e]);
			if (!n)
				continue;
			fputs("scopefs_store_errno_total{", f);
			who_mount(f, &r->mounts[i]);
			fprintf(f, ",errno=\"%s\"} %llu\n",
				e < MX_ERRNOS ? strerrorname_np(mx_errno_list[e])
					      : "other",
				(unsigned long long)n);
		}
	head(f, "scopefs_store_bytes_total", "counter",
	     "Payload bytes of store calls: read by get, written by put, "
	     "mpu_part and put_new.");
	for (uint32_t i = 0; i < r->nmounts; i++)
		for (int op = 0; op < MX_NOPS; op++) {
			struct mount_op mo = { &r->mounts[i], op };
			if (op != MX_GET && op != MX_PUT && op != MX_MPU_PART &&
			    op != MX_PUT_NEW)
				continue;
			fputs("scopefs_store_bytes_total{", f);
			who_mount_op(f, &mo);
			fprintf(f, "} %llu\n", (unsigned long long)get(
				&r->mounts[i].op[op].bytes));
		}
	head(f, "scopefs_store_latency_seconds", "histogram",
	     "How long store calls took, retries included.");
	for (uint32_t i = 0; i < r->nmounts; i++)
		for (int op = 0; op < MX_NOPS; op++) {
			struct mount_op mo = { &r->mounts[i], op };
			histogram(f, "scopefs_store_latency_seconds",
				  &r->mounts[i].op[op].lat, who_mount_op, &mo);
		}
}

static void who_mount_fsop(FILE *f, const void *ctx)
{
	const struct mount_op *mo = ctx;

	who_mount(f, mo->m);
	fprintf(f, ",op=\"%s\"", mx_fs_op_names[mo->op]);
}

/* What the kernel asked of each mount: only the operations it used. */
static void mount_fs_ops(const struct mx_region *r, FILE *f)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
		{ "scopefs_fs_requests_total",
		  "Operations the kernel asked of the mount.", 0 },
		{ "scopefs_fs_errors_total", "Mount operations that failed.",
		  offsetof(struct mx_opstat, errors) },
		{ "scopefs_fs_bytes_total", "Bytes read and written.",
		  offsetof(struct mx_opstat, bytes) },
	};

	for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
		head(f, c[k].name, "counter", c[k].help);
		for (uint32_t i = 0; i < r->nmounts; i++)
			for (int op = 0; op < MX_FS_NOPS; op++) {
				const struct mx_opstat *s = &r->mounts[i].fsop[op];
				struct mount_op mo = { &r->mounts[i], op };
				const uint64_t *v = k ? (const uint64_t *)(const void *)((const char *)s + c[k].off)
						      : &s->lat.count;
				if (!get(&s->lat.count))
					continue;
				fprintf(f, "%s{", c[k].name);
				who_mount_fsop(f, &mo);
				fprintf(f, "} %llu\n", (unsigned long long)get(v));
			}
	}
	head(f, "scopefs_fs_latency_seconds", "histogram",
	     "How long mount operations took.");
	for (uint32_t i = 0; i < r->nmounts; i++)
		for (int op = 0; op < MX_FS_NOPS; op++) {
			struct mount_op mo = { &r->mounts[i], op };
			if (get(&r->mounts[i].fsop[op].lat.count))
				histogram(f, "scopefs_fs_latency_seconds",
					  &r->mounts[i].fsop[op].lat,
					  who_mount_fsop, &mo);
		}
}

static void mount_gauges(const struct mx_region *r, FILE *f)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
		int is_gauge;
	} g[] = {
		{ "scopefs_cache_hits_total", "counter",
		  "Lookups answered from the attribute cache.",
		  offsetof(struct mx_mount, cache_hits), 0 },
		{ "scopefs_cache_misses_total", "counter",
		  "Lookups that had to ask the store.",
		  offsetof(struct mx_mount, cache_misses), 0 },
		{ "scopefs_parts_in_flight", "gauge",
		  "Multipart parts being uploaded now.",
		  offsetof(struct mx_mount, parts_in_flight), 1 },
		{ "scopefs_staged_files", "gauge",
		  "Open files staged in cache_dir now.",
		  offsetof(struct mx_mount, staged_files), 1 },
		{ "scopefs_memory_used_bytes", "gauge",
		  "Part and readahead buffers in use.",
		  offsetof(struct mx_mount, memory_used), 1 },
		{ "scopefs_memory_budget_bytes", "gauge",
		  "The mount's memory_budget.",
		  offsetof(struct mx_mount, memory_budget), 0 },
	};

	for (size_t k = 0; k < sizeof g / sizeof *g; k++) {
		head(f, g[k].name, g[k].type, g[k].help);
		for (uint32_t i = 0; i < r->nmounts; i++) {
			const char *base = (const char *)&r->mounts[i];
			long long v = g[k].is_gauge
				? (long long)gauge((const int64_t *)(const void *)(base + g[k].off))
				: (long long)get((const uint64_t *)(const void *)(base + g[k].off));
			fprintf(f, "%s{", g[k].name);
			who_mount(f, &r->mounts[i]);
			fprintf(f, "} %lld\n", v);
		}
	}
}

static void backend_counters(const struct mx_region *r, FILE *f)
{
	head(f, "scopefs_http_requests_total", "counter",
	     "HTTP tries a plugin made, retries included, by method and "
	     "status (0: no answer came).");
	for (uint32_t i = 0; i < r->nbackends; i++)
		for (int m = 0; m < MX_METHODS; m++)
			for (int s = 0; s < 600; s++) {
				struct backend_method bm = { &r->backends[i], m };
				uint64_t n = get(&r->backends[i].status[m][s]);
				if (!n)
					continue;
				fputs("scopefs_http_requests_total{", f);
				who_backend_method(f, &bm);
				fprintf(f, ",status=\"%d\"} %llu\n", s,
					(unsigned long long)n);
			}
	head(f, "scopefs_http_retries_total", "counter",
	     "HTTP tries after the first of a request.");
	for (uint32_t i = 0; i < r->nbackends; i++)
		for (int m = 0; m < MX_METHODS; m++) {
			struct backend_method bm = { &r->backends[i], m };
			fputs("scopefs_http_retries_total{", f);
			who_backend_method(f, &bm);
			fprintf(f, "} %llu\n", (unsigned long long)get(
				&r->backends[i].retries[m]));
		}
	head(f, "scopefs_http_sent_bytes_total", "counter",
	     "Request body bytes sent.");
	for (uint32_t i = 0; i < r->nbackends; i++) {
		fputs("scopefs_http_sent_bytes_total{", f);
		who_backend(f, &r->backends[i]);
		fprintf(f, "} %llu\n",
			(unsigned long long)get(&r->backends[i].sent));
	}
	head(f, "scopefs_http_received_bytes_total", "counter",
	     "Response body bytes received.");
	for (uint32_t i = 0; i < r->nbackends; i++) {
		fputs("scopefs_http_received_bytes_total{", f);
		who_backend(f, &r->backends[i]);
		fprintf(f, "} %llu\n",
			(unsigned long long)get(&r->backends[i].received));
	}
	head(f, "scopefs_http_latency_seconds", "histogram",
	     "How long each HTTP try took.");
	for (uint32_t i = 0; i < r->nbackends; i++)
		for (int m = 0; m < MX_METHODS; m++) {
			struct backend_method bm = { &r->backends[i], m };
			if (!get(&r->backends[i].lat[m].count))
				continue;
			histogram(f, "scopefs_http_latency_seconds",
				  &r->backends[i].lat[m], who_backend_method,
				  &bm);
		}
}

void metrics_write(const struct mx_region *r, FILE *f)
{
	if (!r)
		return;
	head(f, "scopefs_start_time_seconds", "gauge",
	     "When the daemon started, seconds since the epoch.");
	fprintf(f, "scopefs_start_time_seconds %.3f\n", r->started);
	mount_fs_ops(r, f);
	mount_counters(r, f);
	mount_gauges(r, f);
	backend_counters(r, f);
}
