/* objfs: the object layer's parameters and its life cycle per mount. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "config.h"
#include "log.h"
#include "objfs_internal.h"

static const char *const core_keys[] = {
	"part_size", "upload_parallelism", "readahead_max", "memory_budget",
	"write_mode", "exclusive_create", NULL,
};

int objfs_is_core_key(const char *key)
{
	for (int i = 0; core_keys[i]; i++)
		if (strcmp(key, core_keys[i]) == 0)
			return 1;
	return 0;
}

void objfs_params_default(struct objfs_params *p)
{
	memset(p, 0, sizeof *p);
	p->part_size = 8ULL << 20;
	p->parallelism = 16;
	p->readahead_max = 64ULL << 20;
	p->memory_budget = 0; /* derived: (parallelism + 2) x part size */
	p->ttl = 1;
	p->cache_dir = "/var/cache/scopefs";
	p->label = "objfs";
}

static int size_key(const char *value, uint64_t min, uint64_t max,
		    uint64_t *out, char *err, size_t errlen)
{
	unsigned long long v;

	if (config_parse_size(value, &v) < 0 || v < min || v > max) {
		snprintf(err, errlen, "'%s' is not a size from %llu to %llu "
			 "bytes (suffixes k, M, G)", value,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int objfs_parse_key(struct objfs_params *p, const char *key,
		    const char *value, char *err, size_t errlen)
{
	uint64_t v;

	if (strcmp(key, "part_size") == 0)
		return size_key(value, 1ULL << 20, 5ULL << 30, &p->part_size,
				err, errlen);
	if (strcmp(key, "readahead_max") == 0)
		return size_key(value, 0, 1ULL << 30, &p->readahead_max, err,
				errlen);
	if (strcmp(key, "memory_budget") == 0)
		return size_key(value, 1ULL << 20, 1ULL << 40,
				&p->memory_budget, err, errlen);
	if (strcmp(key, "upload_parallelism") == 0) {
		int r = size_key(value, 1, 64, &v, err, errlen);
		if (!r)
			p->parallelism = (unsigned)v;
		return r;
	}
	if (strcmp(key, "write_mode") == 0) {
		if (strcmp(value, "stream") == 0 || strcmp(value, "stage") == 0) {
			p->stage_all = value[1] == 't' && value[2] == 'a';
			return 0;
		}
		snprintf(err, errlen, "'%s': use stream or stage", value);
		return -EINVAL;
	}
	if (strcmp(key, "exclusive_create") == 0) {
		if (strcmp(value, "store") == 0 || strcmp(value, "local") == 0) {
			p->excl_local = value[0] == 'l';
			return 0;
		}
		snprintf(err, errlen, "'%s': use store or local", value);
		return -EINVAL;
	}
	snprintf(err, errlen, "not an object-layer key");
	return -EINVAL;
}

/* mkdir -p with 0700 for the staging directory (it holds file data). */
static int make_dir(const char *path)
{
	char buf[PATH_MAX];
	size_t l = strlen(path);

	if (l >= sizeof buf)
		return -ENAMETOOLONG;
	memcpy(buf, path, l + 1);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int objfs_open(const struct scopefs_object_ops *o, void *pmnt,
	       const struct objfs_params *p, struct objfs **out)
{
	struct objfs *fs = calloc(1, sizeof *fs);
	uint64_t budget;
	int r;

	if (o->meta_max && o->meta_max < META_MOST) {
		/* Every object carries mode, owner and times: a store that
		 * cannot hold them would answer each write with an error. */
		log_error("%s: the plugin allows %u bytes of metadata per "
			  "object; the object layer needs up to %d",
			  p->label, o->meta_max, META_MOST);
		free(fs);
		return -EINVAL;
	}
	if (!fs)
		return -ENOMEM;
	fs->o = o;
	fs->pm = pmnt;
	fs->p = *p;
	snprintf(fs->cache_dir, sizeof fs->cache_dir, "%s", p->cache_dir);
	snprintf(fs->label, sizeof fs->label, "%s", p->label);
	fs->p.cache_dir = fs->cache_dir;
	fs->p.label = fs->label;
	clock_gettime(CLOCK_REALTIME, &fs->started);
	fs->part_size = p->part_size;
	if (o->min_part_size && fs->part_size < o->min_part_size)
		fs->part_size = o->min_part_size;
	if (o->max_part_size && fs->part_size > o->max_part_size)
		fs->part_size = o->max_part_size;
	/* Parts in flight, the ones being filled, and readahead. */
	budget = p->memory_budget ? p->memory_budget
				  : (p->parallelism + 2ULL) * fs->part_size;
	if ((r = make_dir(p->cache_dir)) < 0) {
		log_error("%s: cache_dir '%s': %s", p->label, p->cache_dir,
			  strerror(-r));
		free(fs);
		return r;
	}
	pthread_mutex_init(&fs->lock, NULL);
	if ((r = cache_init(&fs->cache)) < 0)
		goto fail;
	if ((r = pool_start(&fs->pool, p->parallelism, budget)) < 0) {
		cache_destroy(&fs->cache);
		goto fail;
	}
	if (p->metrics) {
		p->metrics->memory_budget = budget;
		fs->pool.used_gauge = &p->metrics->memory_used;
	}
	*out = fs;
	return 0;
fail:
	pthread_mutex_destroy(&fs->lock);
	free(fs);
	return r;
}

void objfs_close(struct objfs *fs)
{
	if (!fs)
		return;
	/* Handles still open at unmount are released by the kernel first;
	 * anything left here is dropped without upload. */
	pool_stop(&fs->pool); /* runs every queued job: their refs go */
	while (fs->files) {
		struct ofile *of = fs->files;
		of->refs = 1;
		ofile_put(fs, of);
	}
	cache_destroy(&fs->cache);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}
