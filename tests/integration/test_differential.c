/*
 * Randomized differential test: one seeded sequence of operations applied
 * to a mount and to a plain reference directory must give the same result
 * (return value and errno) at every step and leave the same tree (names,
 * types, modes, sizes, link counts, symlink targets, contents).
 *
 * Environment:
 *   SCOPEFS_SEED            seed (default 20240611); printed on failure
 *   SCOPEFS_DIFF_OPS        operations per run (default 3000; on an object
 *                           store, where every op is a round trip, 1500,
 *                           and 600 with cache_ttl = 0)
 *   SCOPEFS_DIFF_CHECK_EVERY  compare the whole trees every k ops
 *                           (default 5; 20 on an object store with
 *                           cache_ttl = 0, where a comparison is a HEAD
 *                           per entry and a GET per file; results are
 *                           compared every op)
 *   SCOPEFS_DIFF_SKIP       operations to leave out, comma-separated
 *                           names as printed (e.g. "link,chmod"): for
 *                           triage, to look past one known divergence
 *
 * On an object store (SCOPEFS_TEST_BACKEND=s3) what the object layer
 * refuses by design is not generated: link (EPERM) and renameat2 with
 * RENAME_EXCHANGE (EINVAL; RENAME_NOREPLACE still runs).  Everything that
 * is generated is compared as on any other backend.
 *
 * Names come from a small pool so that operations collide: renames over
 * existing entries, rmdir of non-empty directories, O_EXCL on existing
 * files.  Symlink targets are bare names, resolved beside the link, so the
 * kernel resolves them the same way in both trees.
 */
#include <sys/syscall.h>
#include "mount_fixture.h"

enum {
	NSLOT = 4,             /* descriptors kept open across operations */
	MAX_FILE = 4 << 20,    /* files never grow beyond this */
	MAX_IO = 256 << 10,    /* largest single write or read */
	MAX_ENT = 512,         /* entries tracked in the reference tree */
	HIST = 40,             /* operations shown when something differs */
	REF = 0, MNT = 1,      /* the two sides */
};

static const char *const names[] = { "a", "b", "c", "d", "e",
				     "a-rather-longer-name" };
#define NNAMES (sizeof names / sizeof names[0])

enum op_kind {
	OP_WRITE, OP_READ, OP_TRUNCATE, OP_RENAME, OP_RENAME_DIR,
	OP_RENAMEAT2, OP_UNLINK, OP_MKDIR, OP_RMDIR, OP_CREATE_EXCL,
	OP_OPEN_TRUNC, OP_APPEND, OP_SYMLINK, OP_LINK, OP_CHMOD,
	OP_SLOT_OPEN, OP_SLOT_PWRITE, OP_SLOT_READ, OP_SLOT_FTRUNCATE,
	OP_REOPEN, OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"write", "read", "truncate", "rename", "rename-dir", "renameat2",
	"unlink", "mkdir", "rmdir", "create-excl", "open-trunc", "append",
	"symlink", "link", "chmod", "slot-open", "slot-pwrite", "slot-read",
	"slot-ftruncate", "reopen",
};

/* Relative weights of the operations. */
static const int op_weight[OP_COUNT] = {
	[OP_WRITE] = 12, [OP_READ] = 8, [OP_TRUNCATE] = 5, [OP_RENAME] = 6,
	[OP_RENAME_DIR] = 3, [OP_RENAMEAT2] = 3, [OP_UNLINK] = 5,
	[OP_MKDIR] = 6, [OP_RMDIR] = 4, [OP_CREATE_EXCL] = 5,
	[OP_OPEN_TRUNC] = 3, [OP_APPEND] = 5, [OP_SYMLINK] = 3, [OP_LINK] = 3,
	[OP_CHMOD] = 3, [OP_SLOT_OPEN] = 5, [OP_SLOT_PWRITE] = 8,
	[OP_SLOT_READ] = 5, [OP_SLOT_FTRUNCATE] = 2, [OP_REOPEN] = 1,
};

/* One operation, fully decided before it runs on either side. */
struct op {
	enum op_kind kind;
	char p1[256], p2[256]; /* relative paths (p2: target, new name) */
	off_t off;
	size_t len;
	mode_t mode;
	int slot, flags;
	unsigned data_seed;
};

/* What one side answered. */
struct res {
	long ret;
	int err;
	size_t nread; /* bytes in the side's read buffer */
};

struct slot {
	int used;
	int append;
	char path[256];
	int fd[2];
};

struct diff {
	unsigned long long seed;
	uint64_t rng;
	int step, nops, every;
	const char *roots[2];
	struct slot slot[NSLOT];
	unsigned char *wbuf, *rbuf[2], *cbuf[2];
	/* the reference tree's entries, refreshed before each op */
	char ent[MAX_ENT][256];
	unsigned char etype[MAX_ENT]; /* 'f', 'd', 'l' */
	int nent;
	char hist[HIST][600];
	int nhist;
};

/* ---- randomness -------------------------------------------------------- */

static uint64_t rnd(struct diff *d)
{
	/* xorshift64* */
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545F4914F6CDD1Dull;
}

static uint64_t below(struct diff *d, uint64_t n)
{
	return n ? rnd(d) % n : 0;
}

static int chance(struct diff *d, int percent)
{
	return (int)below(d, 100) < percent;
}

static unsigned long long env_ull(const char *name, unsigned long long def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : def;
}

/* ---- the reference tree ------------------------------------------------ */

static void scan(struct diff *d, const char *rel)
{
	const char *abs = fx_fmt("%s%s%s", d->roots[REF], *rel ? "/" : "", rel);
	DIR *dir = opendir(abs);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)) && d->nent < MAX_ENT) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[256];
		if ((size_t)snprintf(p, sizeof p, "%s%s%s", rel, *rel ? "/" : "",
				     e->d_name) >= sizeof p)
			continue;
		struct stat st;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		int i = d->nent++;
		snprintf(d->ent[i], sizeof d->ent[i], "%s", p);
		d->etype[i] = S_ISDIR(st.st_mode) ? 'd'
			      : S_ISLNK(st.st_mode) ? 'l' : 'f';
		if (S_ISDIR(st.st_mode) && strlen(p) < 200)
			scan(d, p);
	}
	closedir(dir);
}

static void refresh(struct diff *d)
{
	d->nent = 0;
	scan(d, "");
}

/* An existing entry of TYPE ('f', 'd', 'l' or 0 for any), or NULL. */
static const char *pick_existing(struct diff *d, int type)
{
	int idx[MAX_ENT], n = 0;
	for (int i = 0; i < d->nent; i++)
		if (!type || d->etype[i] == type)
			idx[n++] = i;
	return n ? d->ent[idx[below(d, (uint64_t)n)]] : NULL;
}

/* A name in an existing directory (or the root); it may exist. */
static void pick_new(struct diff *d, char *out)
{
	const char *dir = chance(d, 40) ? pick_existing(d, 'd') : NULL;
	const char *name = names[below(d, NNAMES)];
	if (dir && strlen(dir) < 200)
		snprintf(out, 256, "%s/%s", dir, name);
	else
		snprintf(out, 256, "%s", name);
}

/* Mostly an existing entry of TYPE, sometimes any name at all. */
static void pick(struct diff *d, int type, char *out)
{
	const char *e = chance(d, 85) ? pick_existing(d, type) : NULL;
	if (e)
		snprintf(out, 256, "%s", e);
	else
		pick_new(d, out);
}

static off_t ref_size(struct diff *d, const char *rel)
{
	struct stat st;
	if (stat(fx_fmt("%s/%s", d->roots[REF], rel), &st) < 0 ||
	    !S_ISREG(st.st_mode))
		return 0;
	return st.st_size;
}

static size_t pick_len(struct diff *d)
{
	if (chance(d, 5))
		return 0;
	return chance(d, 50) ? below(d, 8192) + 1 : below(d, MAX_IO) + 1;
}

/* An offset at, within or beyond the end of a file of SIZE, for LEN. */
static off_t pick_off(struct diff *d, off_t size, size_t len)
{
	off_t off;
	int r = (int)below(d, 100);
	if (r < 55)
		off = (off_t)below(d, (uint64_t)size + 1);
	else if (r < 85)
		off = size + (off_t)below(d, 64 << 10);
	else
		off = size + (off_t)below(d, 2 << 20); /* far beyond EOF */
	if (off + (off_t)len > MAX_FILE)
		off = (off_t)below(d, MAX_FILE - len);
	return off;
}

static const mode_t modes[] = { 0644, 0600, 0640, 0755, 0700, 0444, 0666,
				0000, 0750, 0711 };

/* The weight of op K, 0 when SCOPEFS_DIFF_SKIP names it or the backend
 * cannot do it by design. */
static int weight(int k)
{
	if (k == OP_LINK && fx_object_store())
		return 0; /* hard links: EPERM on object stores */
	const char *skip = getenv("SCOPEFS_DIFF_SKIP");
	size_t n = strlen(op_names[k]);
	for (const char *p = skip; p && *p; p += strcspn(p, ",") + !!p[strcspn(p, ",")])
		if (strcspn(p, ",") == n && !strncmp(p, op_names[k], n))
			return 0;
	return op_weight[k];
}

static void choose(struct diff *d, struct op *o)
{
	memset(o, 0, sizeof *o);
	int total = 0;
	for (int k = 0; k < OP_COUNT; k++)
		total += weight(k);
	int r = (int)below(d, (uint64_t)total);
	int k = 0;
	while (r >= weight(k))
		r -= weight(k++);
	o->kind = (enum op_kind)k;
	o->slot = (int)below(d, NSLOT);
	o->data_seed = (unsigned)rnd(d);
	switch (o->kind) {
	case OP_WRITE:
	case OP_READ:
		pick(d, 'f', o->p1);
		o->len = pick_len(d);
		o->off = o->kind == OP_READ && chance(d, 80)
				 ? (off_t)below(d, (uint64_t)ref_size(d, o->p1) + 1)
				 : pick_off(d, ref_size(d, o->p1), o->len);
		break;
	case OP_TRUNCATE: {
		pick(d, 'f', o->p1);
		off_t size = ref_size(d, o->p1);
		o->off = chance(d, 50) ? (off_t)below(d, (uint64_t)size + 1)
				       : size + (off_t)below(d, 1 << 20);
		if (o->off > MAX_FILE)
			o->off = MAX_FILE;
		break;
	}
	case OP_RENAME:
		pick(d, chance(d, 70) ? 'f' : 0, o->p1);
		if (chance(d, 50))
			pick(d, 'f', o->p2); /* over an existing file */
		else
			pick_new(d, o->p2);
		break;
	case OP_RENAME_DIR:
		pick(d, 'd', o->p1);
		if (chance(d, 50))
			pick(d, 'd', o->p2); /* over a (maybe non-empty) dir */
		else
			pick_new(d, o->p2);
		break;
	case OP_RENAMEAT2:
		pick(d, 0, o->p1);
		pick(d, 0, o->p2);
		o->flags = chance(d, 50) ? RENAME_NOREPLACE : RENAME_EXCHANGE;
		if (fx_object_store())
			o->flags = RENAME_NOREPLACE; /* EXCHANGE: EINVAL */
		break;
	case OP_UNLINK:
		pick(d, chance(d, 80) ? 'f' : 0, o->p1);
		break;
	case OP_MKDIR:
		pick_new(d, o->p1);
		break;
	case OP_RMDIR:
		pick(d, chance(d, 85) ? 'd' : 0, o->p1);
		break;
	case OP_CREATE_EXCL:
		if (chance(d, 30))
			pick(d, 0, o->p1);
		else
			pick_new(d, o->p1);
		o->mode = modes[below(d, 3)];
		break;
	case OP_OPEN_TRUNC:
	case OP_APPEND:
		pick(d, 'f', o->p1);
		o->len = pick_len(d);
		if (o->kind == OP_APPEND &&
		    ref_size(d, o->p1) + (off_t)o->len > MAX_FILE)
			o->len = 0;
		break;
	case OP_SYMLINK:
		pick_new(d, o->p1);
		snprintf(o->p2, sizeof o->p2, "%s", names[below(d, NNAMES)]);
		break;
	case OP_LINK:
		pick(d, chance(d, 85) ? 'f' : 0, o->p1);
		pick_new(d, o->p2);
		break;
	case OP_CHMOD:
		pick(d, 0, o->p1);
		o->mode = modes[below(d, sizeof modes / sizeof modes[0])];
		break;
	case OP_SLOT_OPEN:
		pick(d, 'f', o->p1);
		o->flags = O_RDWR;
		if (chance(d, 25))
			o->flags |= O_APPEND;
		if (chance(d, 30))
			o->flags |= O_CREAT;
		if (chance(d, 10))
			o->flags |= O_TRUNC;
		break;
	case OP_SLOT_PWRITE:
	case OP_SLOT_READ:
		o->len = pick_len(d);
		o->off = pick_off(d, 0, o->len);
		if (d->slot[o->slot].used) {
			struct stat st;
			if (fstat(d->slot[o->slot].fd[REF], &st) < 0)
				st.st_size = 0;
			o->off = o->kind == OP_SLOT_READ && chance(d, 80)
					 ? (off_t)below(d, (uint64_t)st.st_size + 1)
					 : pick_off(d, st.st_size, o->len);
			if (d->slot[o->slot].append &&
			    st.st_size + (off_t)o->len > MAX_FILE)
				o->len = 0; /* appends would pass MAX_FILE */
		}
		break;
	case OP_SLOT_FTRUNCATE:
		o->off = (off_t)below(d, 1 << 20);
		break;
	case OP_REOPEN:
	case OP_COUNT:
		break;
	}
}

static const char *describe(const struct op *o)
{
	static char b[600];
	const char *fl = o->flags == RENAME_NOREPLACE ? "NOREPLACE"
			 : o->flags == RENAME_EXCHANGE ? "EXCHANGE" : "";
	switch (o->kind) {
	case OP_WRITE:
	case OP_READ:
		snprintf(b, sizeof b, "%s %s off=%lld len=%zu", op_names[o->kind],
			 o->p1, (long long)o->off, o->len);
		break;
	case OP_TRUNCATE:
		snprintf(b, sizeof b, "truncate %s to %lld", o->p1,
			 (long long)o->off);
		break;
	case OP_RENAME:
	case OP_RENAME_DIR:
	case OP_LINK:
		snprintf(b, sizeof b, "%s %s -> %s", op_names[o->kind], o->p1,
			 o->p2);
		break;
	case OP_RENAMEAT2:
		snprintf(b, sizeof b, "renameat2 %s -> %s %s", o->p1, o->p2, fl);
		break;
	case OP_SYMLINK:
		snprintf(b, sizeof b, "symlink %s (-> \"%s\")", o->p1, o->p2);
		break;
	case OP_CHMOD:
	case OP_CREATE_EXCL:
		snprintf(b, sizeof b, "%s %s 0%o", op_names[o->kind], o->p1,
			 o->mode);
		break;
	case OP_OPEN_TRUNC:
	case OP_APPEND:
		snprintf(b, sizeof b, "%s %s len=%zu", op_names[o->kind], o->p1,
			 o->len);
		break;
	case OP_SLOT_OPEN:
		snprintf(b, sizeof b, "slot-open #%d %s%s%s%s", o->slot, o->p1,
			 o->flags & O_APPEND ? " O_APPEND" : "",
			 o->flags & O_CREAT ? " O_CREAT" : "",
			 o->flags & O_TRUNC ? " O_TRUNC" : "");
		break;
	case OP_SLOT_PWRITE:
	case OP_SLOT_READ:
		snprintf(b, sizeof b, "%s #%d off=%lld len=%zu",
			 op_names[o->kind], o->slot, (long long)o->off, o->len);
		break;
	case OP_SLOT_FTRUNCATE:
		snprintf(b, sizeof b, "slot-ftruncate #%d to %lld", o->slot,
			 (long long)o->off);
		break;
	default:
		snprintf(b, sizeof b, "%s %s", op_names[o->kind], o->p1);
		break;
	}
	return b;
}

/* ---- applying an operation to one side --------------------------------- */

static void fill(struct diff *d, unsigned seed, size_t len)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d->wbuf[i] = (unsigned char)x;
	}
}

#define CALL(r, expr)                                                        \
	do {                                                                 \
		errno = 0;                                                   \
		(r)->ret = (long)(expr);                                     \
		(r)->err = (r)->ret < 0 ? errno : 0;                         \
	} while (0)

static ssize_t write_all(int fd, const void *buf, size_t len, off_t off,
			 int positional)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = positional
				    ? pwrite(fd, (const char *)buf + done,
					     len - done, off + (off_t)done)
				    : write(fd, (const char *)buf + done,
					    len - done);
		if (n < 0)
			return done ? (ssize_t)done : -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static ssize_t read_all(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  off + (off_t)done);
		if (n < 0)
			return done ? (ssize_t)done : -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* open FLAGS, then write/read; the first failure is the result. */
static void open_and(struct diff *d, int s, const struct op *o, int flags,
		     struct res *r)
{
	const char *p = fx_fmt("%s/%s", d->roots[s], o->p1);
	int fd;
	CALL(r, fd = open(p, flags, o->mode ? o->mode : 0644));
	if (fd < 0)
		return;
	switch (o->kind) {
	case OP_WRITE:
		CALL(r, write_all(fd, d->wbuf, o->len, o->off, 1));
		break;
	case OP_OPEN_TRUNC:
	case OP_APPEND:
		CALL(r, write_all(fd, d->wbuf, o->len, 0, 0));
		break;
	case OP_READ:
		CALL(r, read_all(fd, d->rbuf[s], o->len, o->off));
		r->nread = r->ret > 0 ? (size_t)r->ret : 0;
		break;
	default:
		r->ret = 0;
		break;
	}
	if (close(fd) < 0 && r->ret >= 0) {
		r->ret = -1;
		r->err = errno;
	}
}

static void apply(struct diff *d, int s, const struct op *o, struct res *r)
{
	memset(r, 0, sizeof *r);
	const char *root = d->roots[s];
	char p1[PATH_MAX], p2[PATH_MAX];
	snprintf(p1, sizeof p1, "%s/%s", root, o->p1);
	snprintf(p2, sizeof p2, "%s/%s", root, o->p2);
	struct slot *sl = &d->slot[o->slot];
	switch (o->kind) {
	case OP_WRITE:
		open_and(d, s, o, O_WRONLY | O_CREAT, r);
		break;
	case OP_READ:
		open_and(d, s, o, O_RDONLY, r);
		break;
	case OP_OPEN_TRUNC:
		open_and(d, s, o, O_WRONLY | O_TRUNC, r);
		break;
	case OP_APPEND:
		open_and(d, s, o, O_WRONLY | O_APPEND, r);
		break;
	case OP_CREATE_EXCL:
		open_and(d, s, o, O_WRONLY | O_CREAT | O_EXCL, r);
		break;
	case OP_TRUNCATE:
		CALL(r, truncate(p1, o->off));
		break;
	case OP_RENAME:
	case OP_RENAME_DIR:
		CALL(r, rename(p1, p2));
		break;
	case OP_RENAMEAT2:
		CALL(r, syscall(SYS_renameat2, AT_FDCWD, p1, AT_FDCWD, p2,
				o->flags));
		break;
	case OP_UNLINK:
		CALL(r, unlink(p1));
		break;
	case OP_MKDIR:
		CALL(r, mkdir(p1, 0755));
		break;
	case OP_RMDIR:
		CALL(r, rmdir(p1));
		break;
	case OP_SYMLINK:
		CALL(r, symlink(o->p2, p1));
		break;
	case OP_LINK:
		CALL(r, link(p1, p2));
		break;
	case OP_CHMOD:
		CALL(r, chmod(p1, o->mode));
		break;
	case OP_SLOT_OPEN:
		if (sl->used && sl->fd[s] >= 0)
			close(sl->fd[s]);
		CALL(r, sl->fd[s] = open(p1, o->flags, 0644));
		if (r->ret >= 0)
			r->ret = 0;
		break;
	case OP_SLOT_PWRITE:
		if (!sl->used) {
			r->ret = -2; /* nothing open: a no-op on both sides */
			break;
		}
		CALL(r, write_all(sl->fd[s], d->wbuf, o->len, o->off,
				  !sl->append));
		break;
	case OP_SLOT_READ:
		if (!sl->used) {
			r->ret = -2;
			break;
		}
		CALL(r, read_all(sl->fd[s], d->rbuf[s], o->len, o->off));
		r->nread = r->ret > 0 ? (size_t)r->ret : 0;
		break;
	case OP_SLOT_FTRUNCATE:
		if (!sl->used) {
			r->ret = -2;
			break;
		}
		CALL(r, ftruncate(sl->fd[s], o->off));
		break;
	case OP_REOPEN:
		for (int i = 0; i < NSLOT; i++)
			if (d->slot[i].used && d->slot[i].fd[s] >= 0) {
				CALL(r, close(d->slot[i].fd[s]));
				d->slot[i].fd[s] = -1;
				if (r->ret < 0)
					break;
			}
		break;
	case OP_COUNT:
		break;
	}
}

/* ---- reporting --------------------------------------------------------- */

static void show_history(const struct diff *d)
{
	int first = d->nhist > HIST ? d->nhist - HIST : 0;
	fprintf(stderr, "---- the last operations (seed %llu) ----\n", d->seed);
	for (int i = first; i < d->nhist; i++)
		fprintf(stderr, "%s\n", d->hist[i % HIST]);
	fprintf(stderr, "---- reproduce: SCOPEFS_SEED=%llu SCOPEFS_DIFF_OPS=%d "
		"SCOPEFS_DIFF_CHECK_EVERY=1 ----\n", d->seed, d->step + 1);
}

#define DIVERGED(d, ...)                                                     \
	do {                                                                 \
		show_history(d);                                             \
		FX_FAIL(__VA_ARGS__);                                        \
	} while (0)

/* Bookkeeping once both sides ran O. */
static void after(struct diff *d, const struct op *o, const struct res *r)
{
	struct slot *sl = &d->slot[o->slot];
	if (o->kind == OP_SLOT_OPEN) {
		sl->used = r->ret == 0;
		sl->append = !!(o->flags & O_APPEND);
		snprintf(sl->path, sizeof sl->path, "%s", o->p1);
		if (!sl->used)
			sl->fd[REF] = sl->fd[MNT] = -1;
	}
	if (o->kind == OP_REOPEN) {
		/* reopen what was open, by the name it was opened with */
		for (int i = 0; i < NSLOT; i++) {
			struct slot *t = &d->slot[i];
			if (!t->used)
				continue;
			int flags = O_RDWR | (t->append ? O_APPEND : 0);
			for (int s = 0; s < 2; s++)
				t->fd[s] = open(fx_fmt("%s/%s", d->roots[s],
						       t->path), flags);
			int er = t->fd[REF] < 0, em = t->fd[MNT] < 0;
			if (er != em)
				DIVERGED(d, "seed %llu step %d: reopening %s: "
					 "expected %s (as the reference), saw "
					 "%s on the mount", d->seed, d->step,
					 t->path, er ? "a failure" : "success",
					 em ? "a failure" : "success");
			t->used = !er;
		}
	}
}

static const char *res_str(const struct res *r)
{
	static char b[2][64];
	static int k;
	char *s = b[k++ % 2];
	if (r->ret == -1)
		snprintf(s, 64, "-1 %s", fx_errname(r->err));
	else
		snprintf(s, 64, "%ld", r->ret);
	return s;
}

static void compare_results(struct diff *d, const struct op *o,
			    const struct res *ref, const struct res *mnt)
{
	if (ref->ret != mnt->ret || (ref->ret == -1 && ref->err != mnt->err))
		DIVERGED(d, "seed %llu step %d: %s: expected %s (as the "
			 "reference directory), saw %s on the mount", d->seed,
			 d->step, describe(o), res_str(ref), res_str(mnt));
	if (ref->nread && memcmp(d->rbuf[REF], d->rbuf[MNT], ref->nread)) {
		size_t i = 0;
		while (d->rbuf[REF][i] == d->rbuf[MNT][i])
			i++;
		DIVERGED(d, "seed %llu step %d: %s: the data read differs at "
			 "byte %zu of %zu (offset %lld): expected 0x%02x, saw "
			 "0x%02x", d->seed, d->step, describe(o), i, ref->nread,
			 (long long)(o->off + (off_t)i), d->rbuf[REF][i],
			 d->rbuf[MNT][i]);
	}
}

/* ---- comparing the trees ----------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_names(const char *dir, char ***out)
{
	DIR *dd = opendir(dir);
	int n = 0, cap = 16;
	char **v = malloc(cap * sizeof *v);
	struct dirent *e;
	while (dd && v && (e = readdir(dd))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof *v);
		if (v)
			v[n++] = strdup(e->d_name);
	}
	if (dd)
		closedir(dd);
	cr_assert(v, "out of memory");
	qsort(v, n, sizeof *v, cmp_name);
	*out = v;
	return dd ? n : -1;
}

static void free_names(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void compare_contents(struct diff *d, const char *rel,
			     const char *a, const char *b, off_t size)
{
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY);
	if (fa < 0 || fb < 0)
		DIVERGED(d, "seed %llu after step %d: %s: cannot open to "
			 "compare: reference %s, mount %s", d->seed, d->step, rel,
			 fa < 0 ? fx_errname(errno) : "ok",
			 fb < 0 ? fx_errname(errno) : "ok");
	for (off_t off = 0; off <= size; off += MAX_FILE) {
		ssize_t na = read_all(fa, d->cbuf[REF], MAX_FILE, off);
		ssize_t nb = read_all(fb, d->cbuf[MNT], MAX_FILE, off);
		if (na != nb)
			DIVERGED(d, "seed %llu after step %d: %s: expected %zd "
				 "bytes at offset %lld, read %zd from the mount",
				 d->seed, d->step, rel, na, (long long)off, nb);
		if (na > 0 && memcmp(d->cbuf[REF], d->cbuf[MNT], (size_t)na)) {
			ssize_t i = 0;
			while (d->cbuf[REF][i] == d->cbuf[MNT][i])
				i++;
			DIVERGED(d, "seed %llu after step %d: %s: contents "
				 "differ at byte %lld: expected 0x%02x, saw "
				 "0x%02x", d->seed, d->step, rel,
				 (long long)(off + i), d->cbuf[REF][i],
				 d->cbuf[MNT][i]);
		}
		if (na < MAX_FILE)
			break;
	}
	close(fa);
	close(fb);
}

static void compare_tree(struct diff *d, const char *rel)
{
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof a, "%s%s%s", d->roots[REF], *rel ? "/" : "", rel);
	snprintf(b, sizeof b, "%s%s%s", d->roots[MNT], *rel ? "/" : "", rel);
	char **na, **nb;
	int ca = list_names(a, &na), cb = list_names(b, &nb);
	for (int i = 0; i < ca || i < cb; i++) {
		const char *x = i < ca ? na[i] : "(end)";
		const char *y = i < cb ? nb[i] : "(end)";
		if (strcmp(x, y))
			DIVERGED(d, "seed %llu after step %d: listing \"%s\": "
				 "sorted entry %d: expected \"%s\", saw \"%s\" "
				 "(%d entries expected, %d seen)", d->seed,
				 d->step, rel, i, x, y, ca, cb);
	}
	for (int i = 0; i < ca; i++) {
		char r[1024];
		snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", na[i]);
		snprintf(a, sizeof a, "%s/%s", d->roots[REF], r);
		snprintf(b, sizeof b, "%s/%s", d->roots[MNT], r);
		struct stat sa, sb;
		if (lstat(a, &sa) < 0 || lstat(b, &sb) < 0)
			DIVERGED(d, "seed %llu after step %d: %s: lstat failed "
				 "(%s)", d->seed, d->step, r, fx_errname(errno));
		if (sa.st_mode != sb.st_mode)
			DIVERGED(d, "seed %llu after step %d: %s: expected mode "
				 "0%o, saw 0%o", d->seed, d->step, r, sa.st_mode,
				 sb.st_mode);
		if (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
			DIVERGED(d, "seed %llu after step %d: %s: expected owner "
				 "%d:%d, saw %d:%d", d->seed, d->step, r,
				 sa.st_uid, sa.st_gid, sb.st_uid, sb.st_gid);
		if (S_ISDIR(sa.st_mode)) {
			compare_tree(d, r);
			continue;
		}
		if (sa.st_size != sb.st_size || sa.st_nlink != sb.st_nlink)
			DIVERGED(d, "seed %llu after step %d: %s: expected size "
				 "%lld and %lu links, saw size %lld and %lu "
				 "links", d->seed, d->step, r,
				 (long long)sa.st_size, (unsigned long)sa.st_nlink,
				 (long long)sb.st_size,
				 (unsigned long)sb.st_nlink);
		if (S_ISLNK(sa.st_mode)) {
			char ta[PATH_MAX] = "", tb[PATH_MAX] = "";
			ssize_t la = readlink(a, ta, sizeof ta - 1);
			ssize_t lb = readlink(b, tb, sizeof tb - 1);
			if (la >= 0)
				ta[la] = '\0';
			if (lb >= 0)
				tb[lb] = '\0';
			if (la != lb || strcmp(ta, tb))
				DIVERGED(d, "seed %llu after step %d: %s: "
					 "expected link to \"%s\", saw \"%s\"",
					 d->seed, d->step, r, ta, tb);
		} else if (S_ISREG(sa.st_mode)) {
			compare_contents(d, r, a, b, sa.st_size);
		}
	}
	free_names(na, ca);
	free_names(nb, cb);
}

/* Open descriptors (perhaps of unlinked files) must agree too. */
static void compare_slots(struct diff *d)
{
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &d->slot[i];
		if (!sl->used)
			continue;
		struct stat sa, sb;
		int ea = fstat(sl->fd[REF], &sa), eb = fstat(sl->fd[MNT], &sb);
		if (ea || eb || sa.st_size != sb.st_size ||
		    sa.st_nlink != sb.st_nlink)
			DIVERGED(d, "seed %llu after step %d: slot #%d (opened "
				 "as %s): expected size %lld and %lu links, saw "
				 "size %lld and %lu links", d->seed, d->step, i,
				 sl->path, (long long)sa.st_size,
				 (unsigned long)sa.st_nlink,
				 (long long)sb.st_size,
				 (unsigned long)sb.st_nlink);
	}
}

/* ---- the run ----------------------------------------------------------- */

/* OBJ_OPS and OBJ_EVERY: the defaults of SCOPEFS_DIFF_OPS and
 * SCOPEFS_DIFF_CHECK_EVERY on an object store. */
static void run_differential(const char *mount_keys, int obj_ops,
			     int obj_every)
{
	const struct fx_mount m[] = { { "diff", "cluster", mount_keys } };
	umask(022);
	fx_start(NULL, m, 1);

	static struct diff d;
	memset(&d, 0, sizeof d);
	d.seed = env_ull("SCOPEFS_SEED", 20240611);
	d.rng = d.seed * 0x9E3779B97F4A7C15ull + 1;
	d.nops = (int)env_ull("SCOPEFS_DIFF_OPS",
			      fx_object_store() ? obj_ops : 3000);
	d.every = (int)env_ull("SCOPEFS_DIFF_CHECK_EVERY",
			       fx_object_store() ? obj_every : 5);
	if (d.every < 1)
		d.every = 1;
	char ref[PATH_MAX];
	snprintf(ref, sizeof ref, "%s/reference", fx.dir);
	FX_OK(mkdir(ref, 0755));
	d.roots[REF] = ref;
	d.roots[MNT] = fx.mnt[0];
	d.wbuf = malloc(MAX_IO);
	for (int s = 0; s < 2; s++) {
		d.rbuf[s] = malloc(MAX_IO);
		d.cbuf[s] = malloc(MAX_FILE);
		cr_assert(d.rbuf[s] && d.cbuf[s]);
	}
	cr_assert(d.wbuf);
	for (int i = 0; i < NSLOT; i++)
		d.slot[i].fd[REF] = d.slot[i].fd[MNT] = -1;
	const char *opts = mount_keys ? mount_keys
				      : fx.backend_keys ? fx.backend_keys
							: "defaults";
	fprintf(stderr, "differential (%s, %.*s): seed %llu, %d ops, trees "
		"compared every %d%s%s%s\n", fx.backend->name,
		(int)strcspn(opts, "\n"), opts, d.seed, d.nops, d.every,
		getenv("SCOPEFS_DIFF_SKIP") ? ", skipping " : "",
		getenv("SCOPEFS_DIFF_SKIP") ? getenv("SCOPEFS_DIFF_SKIP") : "",
		fx_object_store() ? "; object store: no link, no renameat2 "
				    "RENAME_EXCHANGE (refused by design)" : "");

	int succeeded = 0, errors = 0;
	for (d.step = 0; d.step < d.nops; d.step++) {
		refresh(&d);
		struct op o;
		choose(&d, &o);
		snprintf(d.hist[d.nhist++ % HIST], sizeof d.hist[0], "%5d %s",
			 d.step, describe(&o));
		if (o.len)
			fill(&d, o.data_seed, o.len);
		struct res r[2];
		apply(&d, REF, &o, &r[REF]);
		apply(&d, MNT, &o, &r[MNT]);
		compare_results(&d, &o, &r[REF], &r[MNT]);
		if (r[REF].ret >= 0)
			succeeded++;
		else if (r[REF].ret == -1)
			errors++;
		after(&d, &o, &r[REF]);
		if ((d.step + 1) % d.every == 0 || d.step + 1 == d.nops) {
			compare_tree(&d, "");
			compare_slots(&d);
		}
	}
	refresh(&d);
	fprintf(stderr, "differential (%s, %.*s): %d ops agreed: %d succeeded, "
		"%d failed alike, the rest were no-ops; %d entries at the end\n",
		fx.backend->name, (int)strcspn(opts, "\n"), opts, d.nops,
		succeeded, errors, d.nent);
	for (int i = 0; i < NSLOT; i++)
		for (int s = 0; s < 2; s++)
			if (d.slot[i].used && d.slot[i].fd[s] >= 0)
				close(d.slot[i].fd[s]);
	free(d.wbuf);
	for (int s = 0; s < 2; s++) {
		free(d.rbuf[s]);
		free(d.cbuf[s]);
	}
}

TestSuite(differential, .fini = fx_teardown, .timeout = 900);

MOUNT_TEST(differential, random_ops_match_a_native_directory)
{
	run_differential(NULL, 1500, 5);
}

MOUNT_TEST(differential, random_ops_match_with_writeback_cache)
{
	run_differential("writeback_cache = yes\n", 1500, 5);
}

MOUNT_TEST(differential, random_ops_match_with_cache_ttl_0)
{
	run_differential("cache_ttl = 0\n", 600, 20);
}

/* Object stores: every file staged in cache_dir instead of streamed. */
MOUNT_TEST(differential, random_ops_match_with_write_mode_stage)
{
	const struct fx_backend *be = fx_pick_backend();
	if (!be || !be->object_store)
		cr_skip_test("write_mode is a key of object-store backends; "
			     "backend %s is none", be ? be->name : "?");
	fx.backend_keys = "write_mode = stage\n";
	run_differential(NULL, 1500, 5);
}
