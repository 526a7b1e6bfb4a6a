/* objfs_meta: POSIX attributes kept in object user metadata, with the
 * keys s3fs uses (mode, uid, gid, mtime, ctime) so both tools read each
 * other's files. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "backend.h"
#include "log.h"
#include "objfs_internal.h"

size_t meta_from_stat(const struct stat *st,
		      struct scopefs_object_meta meta[META_N], char bufs[META_N][32])
{
	snprintf(bufs[0], 32, "%u", (unsigned)st->st_mode);
	snprintf(bufs[1], 32, "%u", (unsigned)st->st_uid);
	snprintf(bufs[2], 32, "%u", (unsigned)st->st_gid);
	snprintf(bufs[3], 32, "%lld.%09ld", (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec);
	snprintf(bufs[4], 32, "%lld.%09ld", (long long)st->st_ctim.tv_sec,
		 st->st_ctim.tv_nsec);
	meta[0] = (struct scopefs_object_meta){"mode", bufs[0]};
	meta[1] = (struct scopefs_object_meta){"uid", bufs[1]};
	meta[2] = (struct scopefs_object_meta){"gid", bufs[2]};
	meta[3] = (struct scopefs_object_meta){"mtime", bufs[3]};
	meta[4] = (struct scopefs_object_meta){"ctime", bufs[4]};
	if (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode))
		return 5;
	/* s3fs's key for a device node's number */
	snprintf(bufs[5], 32, "%llu", (unsigned long long)st->st_rdev);
	meta[5] = (struct scopefs_object_meta){"rdev", bufs[5]};
	return 6;
}

void stat_from_object(struct objfs *fs, struct stat *st,
		      const struct scopefs_object_attr *a, int dir)
{
	memset(st, 0, sizeof *st);
	st->st_mode = dir ? DEF_DIR_MODE : DEF_FILE_MODE;
	st->st_nlink = dir ? 2 : 1;
	st->st_uid = fs->p.uid;
	st->st_gid = fs->p.gid;
	st->st_blksize = 4096;
	st->st_mtim = fs->started;
	if (a) {
		st->st_size = dir ? 0 : (off_t)a->size;
		if (a->mtime.tv_sec || a->mtime.tv_nsec)
			st->st_mtim = a->mtime;
	}
	st->st_atim = st->st_ctim = st->st_mtim;
	st->st_blocks = (st->st_size + 511) / 512;
}

/* Apply one metadata pair to the struct stat at ctx; values that do not
 * parse are ignored (another tool may use the same key differently).
 * "mtime" and "ctime" set only their own field, in whatever order they
 * come: callers fill st_ctim from st_mtim when no ctime was stored. */
int meta_apply(void *ctx, const char *key, const char *value)
{
	struct stat *st = ctx;
	char *end;

	if (strcmp(key, "mode") == 0) {
		unsigned long m = strtoul(value, &end, 10);
		if (!*end && end != value && (m & S_IFMT)) {
			/* the type is ours to know: keep dir vs file */
			if (S_ISDIR(st->st_mode) == S_ISDIR((mode_t)m))
				st->st_mode = (mode_t)m;
		}
	} else if (strcmp(key, "rdev") == 0) {
		unsigned long long v = strtoull(value, &end, 10);
		if (!*end && end != value)
			st->st_rdev = (dev_t)v;
	} else if (strcmp(key, "uid") == 0) {
		unsigned long v = strtoul(value, &end, 10);
		if (!*end && end != value)
			st->st_uid = (uid_t)v;
	} else if (strcmp(key, "gid") == 0) {
		unsigned long v = strtoul(value, &end, 10);
		if (!*end && end != value)
			st->st_gid = (gid_t)v;
	} else if (strcmp(key, "mtime") == 0 || strcmp(key, "ctime") == 0) {
		struct timespec *t = key[0] == 'm' ? &st->st_mtim : &st->st_ctim;
		long long s = strtoll(value, &end, 10);
		long ns = 0;
		if (end == value)
			return 0;
		if (*end == '.') {
			char digits[10] = "000000000";
			size_t n = strspn(end + 1, "0123456789");
			memcpy(digits, end + 1, n > 9 ? 9 : n);
			ns = strtol(digits, NULL, 10);
		}
		t->tv_sec = s;
		t->tv_nsec = ns;
	}
	return 0;
}

int head_stat(struct objfs *fs, const char *key, struct stat *st,
	      char etag[SCOPEFS_ETAG_MAX], int dir)
{
	struct scopefs_object_attr a;
	int r;

	memset(&a, 0, sizeof a);
	stat_from_object(fs, st, NULL, dir);
	/* Not a time: left so when the metadata has none (any time, the
	 * epoch included, can be one). */
	st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = -1;
	host_clear_error();
	r = objfs_store_head(fs, key, &a, meta_apply, st);
	if (r < 0)
		return r;
	{
		/* defaults from the object, then metadata on top */
		struct stat meta = *st;
		stat_from_object(fs, st, &a, dir);
		st->st_mode = meta.st_mode;
		st->st_uid = meta.st_uid;
		st->st_gid = meta.st_gid;
		st->st_rdev = meta.st_rdev;
		if (meta.st_mtim.tv_nsec != -1)
			st->st_mtim = st->st_ctim = st->st_atim = meta.st_mtim;
		/* no stored change time (an older scopefs, another tool):
		 * the modification time, as a listing shows it */
		if (meta.st_ctim.tv_nsec != -1)
			st->st_ctim = meta.st_ctim;
	}
	if (etag)
		snprintf(etag, SCOPEFS_ETAG_MAX, "%s", a.etag);
	return 0;
}

int objfs_fail(struct objfs *fs, const char *op, const char *key, int r)
{
	const char *why = host_last_error();

	log_error("%s: %s '%s': %s", fs->p.label, op, key,
		  *why ? why : strerror(-r));
	host_clear_error();
	return r;
}
