/*
 * Randomized differential test: a seeded sequence of operations applied
 * to a mount and to a plain reference directory must give the same result
 * (return value and errno) at every step and leave the same tree (names,
 * types, modes, owners, sizes, link counts, symlink targets, contents,
 * the mtimes utimens set, and xattrs where the backend keeps them).
 *
 * Runs: one MOUNT_TEST per configuration, each distinct on its backend
 * (the writeback cache is on by default on local and off on object
 * stores, so the run that would repeat the defaults skips).  Each run
 * plays two sequences, each in a directory of its own on both sides: the
 * run's fixed seed (the same ops every time: a regression; every run its
 * own) and a fresh seed from the time and the pid, printed when the run
 * starts.  On an object store part_size is 5M, the smallest the s3 plugin
 * takes, and streams write past it: multipart uploads.
 *
 * Durability: every SCOPEFS_DIFF_REMOUNT_EVERY ops and at the end of each
 * sequence, the descriptors are closed, the daemon is stopped and a fresh
 * one is started on the same store.  The whole tree is then compared with
 * what the mount showed before the stop (modes, owners, sizes, link
 * counts, mtimes to the nanosecond, symlink targets) and again with the
 * reference.  On a cold object mount each entry is looked up by name
 * before its directory is listed: a listing shows the mount's default mode
 * and only a HEAD reads the metadata (README, "Listings"; test_s3 looks up
 * by name for the same reason).
 *
 * Environment:
 *   SCOPEFS_SEED            the fresh sequences' seed (default: from the
 *                           time and the pid); printed at the start
 *   SCOPEFS_DIFF_OPS        operations per sequence (default 2500; on an
 *                           object store, where every op is a round trip,
 *                           the run's own: 400 or 800)
 *   SCOPEFS_DIFF_CHECK_EVERY  compare the sequence's trees every k ops
 *                           (default 5; 20 on an object store with
 *                           cache_ttl = 0, where a comparison is a HEAD
 *                           per entry and a GET per file; results are
 *                           compared every op)
 *   SCOPEFS_DIFF_REMOUNT_EVERY  restart the daemon every k ops of a
 *                           sequence (default: half the run's default op
 *                           count, so that a replay with fewer ops
 *                           restarts at the same steps; 0: only at the
 *                           end of a sequence)
 *   SCOPEFS_DIFF_SKIP       operations to leave out, comma-separated
 *                           names as printed (e.g. "link,chmod"): for
 *                           triage, to look past one known divergence
 * A failure prints the line that replays it.
 *
 * The same for what a filesystem-like backend lacks (fx_lacks: nfs has
 * no xattrs, fallocate or RENAME_EXCHANGE), with the same expectations;
 * where symlinks keep no times (ganesha), utimens does not go to one
 * without following it.
 * On an object store what the object layer refuses by design is
 * modelled, not taken from the reference:
 *   - not generated: link (EPERM) and renameat2 with RENAME_EXCHANGE
 *     (EINVAL; RENAME_NOREPLACE still runs);
 *   - generated, expected refused: the xattr calls (EOPNOTSUPP once the
 *     path resolves; what the kernel answers itself stays the
 *     reference's) and fallocate (EOPNOTSUPP; not applied to the
 *     reference);
 *   - not compared: xattrs in the trees, and the mtimes of directories
 *     (a directory is a marker object, which adding or removing entries
 *     does not rewrite);
 *   - avoided: going back before data that has already streamed (write
 *     mode stream, no writeback cache).  That fails with EIO and leaves
 *     the previous object (README, "Random writes"), which the reference
 *     could only follow by undoing an O_TRUNC; the streaming suite below
 *     tests it.  Going back before the first part has left is generated:
 *     it must stage the file and succeed.
 * Everything else is compared as on any other backend.  Two defects
 * outside the object layer are modelled too, each where it is (DEFECT):
 * xattr calls on the descriptor of an unlinked file, and the mtimes the
 * writeback cache keeps in the kernel.
 *
 * Names come from a small pool so that operations collide: renames over
 * existing entries, rmdir of non-empty directories, O_EXCL on existing
 * files.  Symlink targets are bare names, resolved beside the link, so the
 * kernel resolves them the same way in both trees.
 */
#include <sys/syscall.h>
#include <sys/xattr.h>
#include "mount_fixture.h"

enum {
	NSLOT = 4,             /* descriptors kept open across operations */
	PART = 5 << 20,        /* part_size on object stores: the smallest
				* the s3 plugin accepts (the core's own
				* minimum, 1M, is below S3's) */
	RANDOM_MAX = 4 << 20,  /* random-offset ops grow files up to this */
	MAX_FILE = 3 * PART,   /* files never grow beyond this */
	MAX_IO = 256 << 10,    /* largest single write or read */
	MAX_ENT = 512,         /* entries tracked in a sequence's tree */
	MAX_TREE = 2 * MAX_ENT + 8, /* entries of the whole tree */
	XATTR_MAX = 256,       /* largest xattr value or list read */
	HIST = 40,             /* operations shown when something differs */
	REF = 0, MNT = 1,      /* the two sides */
};

/* Timestamps utimens plants are before this; every other mtime is the
 * time of a change, later than this on any machine running the test. */
#define PLANTED_BEFORE 1500000000LL

static const char *const names[] = { "a", "b", "c", "d", "e",
				     "a-rather-longer-name" };
#define NNAMES (sizeof names / sizeof names[0])

static const char *const xattr_names[] = { "user.a", "user.b",
					   "user.a-rather-longer-name" };
#define NXATTRS (sizeof xattr_names / sizeof xattr_names[0])

enum op_kind {
	OP_WRITE, OP_READ, OP_TRUNCATE, OP_RENAME, OP_RENAME_DIR,
	OP_RENAMEAT2, OP_UNLINK, OP_MKDIR, OP_RMDIR, OP_CREATE_EXCL,
	OP_OPEN_TRUNC, OP_APPEND, OP_SYMLINK, OP_LINK, OP_CHMOD,
	OP_SLOT_OPEN, OP_SLOT_PWRITE, OP_SLOT_READ, OP_SLOT_FTRUNCATE,
	OP_REOPEN, OP_STREAM, OP_UTIMENS, OP_CHOWN, OP_SETXATTR,
	OP_GETXATTR, OP_LISTXATTR, OP_REMOVEXATTR, OP_FSYNC, OP_FALLOCATE,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"write", "read", "truncate", "rename", "rename-dir", "renameat2",
	"unlink", "mkdir", "rmdir", "create-excl", "open-trunc", "append",
	"symlink", "link", "chmod", "slot-open", "slot-pwrite", "slot-read",
	"slot-ftruncate", "reopen", "stream", "utimens", "chown",
	"setxattr", "getxattr", "listxattr", "removexattr", "fsync",
	"fallocate",
};

/* Relative weights of the operations. */
static const int op_weight[OP_COUNT] = {
	[OP_WRITE] = 12, [OP_READ] = 8, [OP_TRUNCATE] = 5, [OP_RENAME] = 6,
	[OP_RENAME_DIR] = 3, [OP_RENAMEAT2] = 3, [OP_UNLINK] = 5,
	[OP_MKDIR] = 6, [OP_RMDIR] = 4, [OP_CREATE_EXCL] = 5,
	[OP_OPEN_TRUNC] = 3, [OP_APPEND] = 5, [OP_SYMLINK] = 3, [OP_LINK] = 3,
	[OP_CHMOD] = 3, [OP_SLOT_OPEN] = 5, [OP_SLOT_PWRITE] = 8,
	[OP_SLOT_READ] = 5, [OP_SLOT_FTRUNCATE] = 2, [OP_REOPEN] = 1,
	[OP_STREAM] = 2, [OP_UTIMENS] = 4, [OP_CHOWN] = 3,
	[OP_SETXATTR] = 3, [OP_GETXATTR] = 2, [OP_LISTXATTR] = 1,
	[OP_REMOVEXATTR] = 2, [OP_FSYNC] = 3, [OP_FALLOCATE] = 3,
};

/* How an op names its file: by path (following a final symlink), by
 * path without following it (the l* calls, AT_SYMLINK_NOFOLLOW), or by a
 * slot's open descriptor (the f* calls). */
enum via { VIA_PATH, VIA_LPATH, VIA_FD };

/* One operation, fully decided before it runs on either side. */
struct op {
	enum op_kind kind;
	char p1[256], p2[256]; /* relative paths (p2: target, new name) */
	off_t off;
	size_t len;
	mode_t mode;
	int slot, flags;
	enum via via;
	unsigned data_seed;
	/* OP_UTIMENS */
	struct timespec ts[2];
	/* OP_CHOWN */
	uid_t uid;
	gid_t gid;
	/* OP_STREAM: at the first write boundary at or past back_at, a
	 * pwrite of back_len bytes at back_off; at the first boundary at or
	 * past sync_at, an fsync (0: never) */
	size_t back_at, back_len, sync_at;
	off_t back_off;
};

/* What one side answered. */
struct res {
	long ret;
	int err;
	size_t nread; /* bytes in the side's read buffer */
	/* after utimens: the target's mtime, and whether it is a dir */
	int has_mtime, isdir;
	struct timespec mtime;
};

struct slot {
	int used;
	int append;
	char path[256];
	int fd[2];
};

/* Entries of a tree, relative to its root; directories before their
 * children. */
struct tree {
	int n;
	char path[MAX_TREE][256];
	unsigned char type[MAX_TREE]; /* 'f', 'd', 'l' */
};

/* One configuration: one MOUNT_TEST. */
enum wb { WB_AUTO, WB_YES, WB_NO };

struct run {
	const char *test;          /* the MOUNT_TEST, for the replay line */
	const char *mount_keys;    /* "key = value\n" lines, or NULL */
	enum wb writeback;
	int stage;                 /* write_mode = stage (object stores) */
	unsigned long long fixed_seed;
	int obj_ops, obj_every;    /* defaults on an object store */
	int workers;               /* >1: that many sequences at once */
};

struct diff {
	const struct run *run;
	char label[128];           /* the configuration, as printed */
	unsigned long long seed;
	uint64_t rng;
	int step, nops, every, remount_every, restarts;
	/* streaming: going back before a part that has left is refused */
	int back_refused;
	int writeback;             /* the kernel's writeback cache is on */
	char top[2][PATH_MAX];     /* the reference directory, the mount */
	char sub[32];              /* the sequence's directory in both */
	char roots[2][PATH_MAX];   /* top/sub */
	struct slot slot[NSLOT];
	unsigned char *wbuf, *rbuf[2], *cbuf[2];
	struct tree ent;           /* the sequence's reference entries,
				    * refreshed before each op */
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

static char entry_type(mode_t m)
{
	return S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : 'f';
}

/* Add the entries below ROOT/REL to T, up to CAP of them. */
static void scan(struct tree *t, int cap, const char *root, const char *rel)
{
	const char *abs = fx_fmt("%s%s%s", root, *rel ? "/" : "", rel);
	DIR *dir = opendir(abs);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)) && t->n < cap) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[256];
		if ((size_t)snprintf(p, sizeof p, "%s%s%s", rel, *rel ? "/" : "",
				     e->d_name) >= sizeof p)
			continue;
		struct stat st;
		if (fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		int i = t->n++;
		snprintf(t->path[i], sizeof t->path[i], "%s", p);
		t->type[i] = entry_type(st.st_mode);
		if (S_ISDIR(st.st_mode) && strlen(p) < 200)
			scan(t, cap, root, p);
	}
	closedir(dir);
}

static void refresh(struct diff *d)
{
	d->ent.n = 0;
	scan(&d->ent, MAX_ENT, d->roots[REF], "");
}

/* An existing entry of TYPE ('f', 'd', 'l' or 0 for any), or NULL. */
static const char *pick_existing(struct diff *d, int type)
{
	int idx[MAX_ENT], n = 0;
	for (int i = 0; i < d->ent.n; i++)
		if (!type || d->ent.type[i] == type)
			idx[n++] = i;
	return n ? d->ent.path[idx[below(d, (uint64_t)n)]] : NULL;
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

static int ref_is_symlink(struct diff *d, const char *rel)
{
	struct stat st;
	return lstat(fx_fmt("%s/%s", d->roots[REF], rel), &st) == 0 &&
	       S_ISLNK(st.st_mode);
}

static size_t pick_len(struct diff *d)
{
	if (chance(d, 5))
		return 0;
	return chance(d, 50) ? below(d, 8192) + 1 : below(d, MAX_IO) + 1;
}

/* Random-offset ops keep a file under RANDOM_MAX, or under its own size
 * once a stream made it larger, so that only streams make big files. */
static off_t random_cap(off_t size)
{
	return size > RANDOM_MAX ? size : RANDOM_MAX;
}

/* An offset at, within or beyond the end of a file of SIZE, for LEN. */
static off_t pick_off(struct diff *d, off_t size, size_t len)
{
	off_t off, cap = random_cap(size);
	int r = (int)below(d, 100);
	if (r < 55)
		off = (off_t)below(d, (uint64_t)size + 1);
	else if (r < 85)
		off = size + (off_t)below(d, 64 << 10);
	else
		off = size + (off_t)below(d, 2 << 20); /* far beyond EOF */
	if (off + (off_t)len > cap)
		off = (off_t)below(d, (uint64_t)(cap - (off_t)len));
	return off;
}

/* Set-ID and sticky bits too: chown must clear set-ID bits as the
 * reference does, and a set-group-ID directory passes its group on. */
static const mode_t modes[] = { 0644, 0600, 0640, 0755, 0700, 0444, 0666,
				0000, 0750, 0711, 04755, 02775, 01777 };
#define NMODES (sizeof modes / sizeof modes[0])

static const uid_t uids[] = { (uid_t)-1, 0, 1, 1000, 65534 };
static const gid_t gids[] = { (gid_t)-1, 0, 1, 100, 65534 };

/* fallocate modes the kernel's FUSE module forwards (COLLAPSE_RANGE and
 * INSERT_RANGE it refuses itself, with EOPNOTSUPP, before any daemon). */
static const int falloc_modes[] = {
	0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
	FALLOC_FL_ZERO_RANGE, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
};
#define NFALLOC (sizeof falloc_modes / sizeof falloc_modes[0])

/* The kernel's writeback cache is on in this run (run_differential). */
static int writeback_on;

/* The weight of op K, 0 when SCOPEFS_DIFF_SKIP names it or the backend
 * cannot do it by design. */
static int weight(int k)
{
	if (k == OP_LINK && fx_object_store())
		return 0; /* hard links: EPERM on object stores */
	/* With the writeback cache the kernel writes the range's dirty
	 * pages back before it asks for fallocate; a backend that then
	 * refuses has seen a write all the same (a new mtime, after a
	 * utimens the reference keeps): not a refusal to model. */
	if (k == OP_FALLOCATE && writeback_on && fx_lacks(FX_NO_FALLOCATE))
		return 0;
	const char *skip = getenv("SCOPEFS_DIFF_SKIP");
	size_t n = strlen(op_names[k]);
	for (const char *p = skip; p && *p; p += strcspn(p, ",") + !!p[strcspn(p, ",")])
		if (strcspn(p, ",") == n && !strncmp(p, op_names[k], n))
			return 0;
	return op_weight[k];
}

/* A timestamp for utimens: mostly planted (before PLANTED_BEFORE, to the
 * nanosecond, the epoch itself now and then), else now or left alone. */
static struct timespec pick_time(struct diff *d)
{
	int r = (int)below(d, 100);
	if (r < 10)
		return (struct timespec){ 0, UTIME_NOW };
	if (r < 20)
		return (struct timespec){ 0, UTIME_OMIT };
	if (r < 25)
		return (struct timespec){ 0, 0 };
	return (struct timespec){ (time_t)below(d, PLANTED_BEFORE),
				  (long)below(d, 1000000000) };
}

/* The stream's write boundaries: chunks of 4 KiB to MAX_IO, drawn from
 * the op's own seed so that both sides (and choose) see the same ones. */
static size_t next_chunk(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return 4096 + (size_t)(*x % (MAX_IO - 4096 + 1));
}

/* The first write boundary of stream O at or past AT. */
static size_t boundary_at(const struct op *o, size_t at)
{
	uint64_t x = o->data_seed | 1;
	size_t pos = 0;
	while (pos < at && pos < o->len)
		pos += next_chunk(&x);
	return pos;
}

static void choose_stream(struct diff *d, struct op *o)
{
	if (chance(d, 70))
		pick(d, 'f', o->p1);
	else
		pick_new(d, o->p1);
	/* past one part now and then: the multipart upload itself */
	o->len = chance(d, 35) ? PART + below(d, 3 * PART / 2)
			       : below(d, 1 << 20) + 1;
	int r = (int)below(d, 100);
	if (r < 25) {
		/* Where streaming refuses it (see the top), only before the
		 * first part can have left: the boundary is < back_at +
		 * MAX_IO. */
		size_t limit = d->back_refused ? PART - MAX_IO : o->len;
		if (limit > o->len)
			limit = o->len;
		o->back_at = 1 + below(d, limit);
		size_t at = boundary_at(o, o->back_at);
		if (at >= o->len)
			o->back_at = 0; /* no write after it: no rewrite */
		else {
			o->back_off = (off_t)below(d, at);
			o->back_len = 1 + below(d, 64 << 10);
		}
	} else if (r < 40) {
		o->sync_at = 1 + below(d, o->len);
		if (boundary_at(o, o->sync_at) >= o->len)
			o->sync_at = 0; /* no write after it */
	}
}

/* UNLINKED: the op's slot holds a file whose last name is gone. */
static void choose_xattr(struct diff *d, struct op *o, int unlinked)
{
	o->via = (enum via)below(d, 3);
	/* Not generated: the xattr calls of an unlinked file's descriptor.
	 * DEFECT (core/fuse_ops.c, left to its owner): op_setxattr,
	 * reply_sized (get, list) and op_removexattr reach the file by its
	 * path only (the plugin ABI's xattr calls take no handle), with no
	 * fallback to an open handle as getattr and setattr have, so
	 * f*xattr on such a descriptor fails with ENOENT where Linux works
	 * (and where an object store should say EOPNOTSUPP). */
	if (o->via == VIA_FD && unlinked)
		o->via = VIA_PATH;
	if (o->via != VIA_FD)
		pick(d, 0, o->p1);
	snprintf(o->p2, sizeof o->p2, "%s", xattr_names[below(d, NXATTRS)]);
	switch (o->kind) {
	case OP_SETXATTR:
		o->len = chance(d, 10) ? 0 : below(d, XATTR_MAX) + 1;
		o->flags = (int[]){ 0, 0, XATTR_CREATE, XATTR_REPLACE }
			[below(d, 4)];
		break;
	case OP_GETXATTR:
	case OP_LISTXATTR: {
		/* a size probe, a buffer too small (ERANGE), or room */
		int r = (int)below(d, 100);
		o->len = r < 20 ? 0 : r < 35 ? below(d, 16) + 1 : XATTR_MAX;
		break;
	}
	default:
		break;
	}
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
	struct slot *sl = &d->slot[o->slot];
	struct stat sst = { 0 };
	if (sl->used && fstat(sl->fd[REF], &sst) < 0)
		sst.st_size = 0;
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
		if (o->off > random_cap(size))
			o->off = random_cap(size);
		/* Not to the size it has: whether that moves the mtime is the
		 * filesystem's choice (POSIX: only a change of size must;
		 * ext4 does, tmpfs and the FUSE writeback cache do not) */
		if (o->off == size)
			o->off = size < random_cap(size) ? size + 1 : size - 1;
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
		if (fx_lacks(FX_NO_EXCHANGE))
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
		o->mode = modes[below(d, NMODES)];
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
		o->off = o->kind == OP_SLOT_READ && chance(d, 80)
				 ? (off_t)below(d, (uint64_t)sst.st_size + 1)
				 : pick_off(d, sst.st_size, o->len);
		if (sl->used && sl->append &&
		    sst.st_size + (off_t)o->len > MAX_FILE)
			o->len = 0; /* appends would pass MAX_FILE */
		break;
	case OP_SLOT_FTRUNCATE:
		/* to its own size now and then: ftruncate moves the mtime
		 * all the same on Linux (the VFS asks for it) */
		o->off = chance(d, 15) ? sst.st_size : (off_t)below(d, 1 << 20);
		break;
	case OP_STREAM:
		choose_stream(d, o);
		break;
	case OP_UTIMENS:
		o->via = (enum via)below(d, 3);
		if (o->via != VIA_FD)
			pick(d, 0, o->p1);
		if (o->via == VIA_LPATH && fx_lacks(FX_NO_SYMLINK_TIMES) &&
		    ref_is_symlink(d, o->p1))
			o->via = VIA_PATH; /* the store keeps no symlink times */
		o->ts[0] = pick_time(d);
		o->ts[1] = pick_time(d);
		break;
	case OP_CHOWN:
		o->via = (enum via)below(d, 3);
		if (o->via != VIA_FD)
			pick(d, 0, o->p1);
		o->uid = uids[below(d, sizeof uids / sizeof uids[0])];
		o->gid = gids[below(d, sizeof gids / sizeof gids[0])];
		break;
	case OP_SETXATTR:
	case OP_GETXATTR:
	case OP_LISTXATTR:
	case OP_REMOVEXATTR:
		choose_xattr(d, o, sl->used && sst.st_nlink == 0);
		break;
	case OP_FSYNC:
		/* a slot's descriptor, or a path opened read-only (which a
		 * directory can be) */
		o->via = chance(d, 50) ? VIA_FD : VIA_PATH;
		if (o->via == VIA_PATH)
			pick(d, 0, o->p1);
		o->flags = chance(d, 30); /* fdatasync */
		break;
	case OP_FALLOCATE:
		o->flags = falloc_modes[below(d, NFALLOC)];
		o->len = 1 + below(d, MAX_IO);
		o->off = pick_off(d, sst.st_size, o->len);
		break;
	case OP_REOPEN:
	case OP_COUNT:
		break;
	}
}

static const char *via_str(enum via v)
{
	return v == VIA_LPATH ? " (nofollow)" : v == VIA_FD ? " (fd)" : "";
}

static const char *ts_str(struct timespec t)
{
	if (t.tv_nsec == UTIME_NOW)
		return "now";
	if (t.tv_nsec == UTIME_OMIT)
		return "omit";
	return fx_fmt("%lld.%09ld", (long long)t.tv_sec, t.tv_nsec);
}

/* The file an op names: its path, or its slot. */
static const char *target_str(const struct op *o)
{
	return o->via == VIA_FD ? fx_fmt("#%d", o->slot) : o->p1;
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
	case OP_STREAM:
		snprintf(b, sizeof b, "stream %s len=%zu", o->p1, o->len);
		if (o->back_at)
			snprintf(b + strlen(b), sizeof b - strlen(b),
				 ", after %zu bytes a rewrite at %lld len=%zu",
				 boundary_at(o, o->back_at),
				 (long long)o->back_off, o->back_len);
		if (o->sync_at)
			snprintf(b + strlen(b), sizeof b - strlen(b),
				 ", fsync after %zu bytes",
				 boundary_at(o, o->sync_at));
		break;
	case OP_UTIMENS:
		snprintf(b, sizeof b, "utimens %s%s atime=%s mtime=%s",
			 target_str(o), via_str(o->via), ts_str(o->ts[0]),
			 ts_str(o->ts[1]));
		break;
	case OP_CHOWN:
		snprintf(b, sizeof b, "chown %s%s %d:%d", target_str(o),
			 via_str(o->via), (int)o->uid, (int)o->gid);
		break;
	case OP_SETXATTR:
		snprintf(b, sizeof b, "setxattr %s%s %s len=%zu%s",
			 target_str(o), via_str(o->via), o->p2, o->len,
			 o->flags == XATTR_CREATE    ? " XATTR_CREATE"
			 : o->flags == XATTR_REPLACE ? " XATTR_REPLACE" : "");
		break;
	case OP_GETXATTR:
	case OP_REMOVEXATTR:
		snprintf(b, sizeof b, "%s %s%s %s size=%zu", op_names[o->kind],
			 target_str(o), via_str(o->via), o->p2, o->len);
		break;
	case OP_LISTXATTR:
		snprintf(b, sizeof b, "listxattr %s%s size=%zu", target_str(o),
			 via_str(o->via), o->len);
		break;
	case OP_FSYNC:
		snprintf(b, sizeof b, "%s %s", o->flags ? "fdatasync" : "fsync",
			 target_str(o));
		break;
	case OP_FALLOCATE:
		snprintf(b, sizeof b, "fallocate #%d mode=0x%x off=%lld len=%zu",
			 o->slot, o->flags, (long long)o->off, o->len);
		break;
	default:
		snprintf(b, sizeof b, "%s %s", op_names[o->kind], o->p1);
		break;
	}
	return b;
}

/* ---- applying an operation to one side --------------------------------- */

static void fill_seed(unsigned char *buf, unsigned seed, size_t len)
{
	uint64_t x = seed | 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
}

static void fill(struct diff *d, unsigned seed, size_t len)
{
	fill_seed(d->wbuf, seed, len);
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

/* Stream O into FD: sequential writes at the op's boundaries, with its
 * rewrite or fsync on the way.  The first failure is the result, else the
 * bytes written. */
static void stream_into(struct diff *d, int fd, const struct op *o,
			struct res *r)
{
	size_t back = o->back_at ? boundary_at(o, o->back_at) : 0;
	size_t sync = o->sync_at ? boundary_at(o, o->sync_at) : 0;
	uint64_t x = o->data_seed | 1;
	size_t pos = 0;
	for (int i = 0; pos < o->len; i++) {
		if (o->back_at && pos == back) {
			fill(d, o->data_seed ^ 0x5bd1e995u, o->back_len);
			CALL(r, write_all(fd, d->wbuf, o->back_len,
					  o->back_off, 1));
			if (r->ret < 0)
				return;
		}
		if (o->sync_at && pos == sync) {
			CALL(r, fsync(fd));
			if (r->ret < 0)
				return;
		}
		size_t n = next_chunk(&x);
		if (n > o->len - pos)
			n = o->len - pos;
		fill(d, o->data_seed + (unsigned)i, n);
		CALL(r, write_all(fd, d->wbuf, n, 0, 0));
		if (r->ret < 0)
			return;
		pos += n;
	}
	r->ret = (long)pos;
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
	case OP_STREAM:
		stream_into(d, fd, o, r);
		break;
	case OP_FSYNC:
		CALL(r, o->flags ? fdatasync(fd) : fsync(fd));
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

/* The slot's descriptor on side S, or -1 (and the no-op result -2) when
 * the slot holds nothing. */
static int slot_fd(struct diff *d, int s, const struct op *o, struct res *r)
{
	struct slot *sl = &d->slot[o->slot];
	if (!sl->used) {
		r->ret = -2; /* nothing open: a no-op on both sides */
		return -1;
	}
	return sl->fd[s];
}

static void apply_utimens(struct diff *d, int s, const struct op *o,
			  struct res *r, const char *p1)
{
	struct stat st;
	int fd = -1, e;
	if (o->via == VIA_FD) {
		if ((fd = slot_fd(d, s, o, r)) < 0)
			return;
		CALL(r, futimens(fd, o->ts));
		e = r->ret == 0 ? fstat(fd, &st) : -1;
	} else {
		int fl = o->via == VIA_LPATH ? AT_SYMLINK_NOFOLLOW : 0;
		CALL(r, utimensat(AT_FDCWD, p1, o->ts, fl));
		e = r->ret == 0 ? fstatat(AT_FDCWD, p1, &st, fl) : -1;
	}
	if (e == 0) {
		r->has_mtime = 1;
		r->isdir = S_ISDIR(st.st_mode);
		r->mtime = st.st_mtim;
	}
}

static void apply_chown(struct diff *d, int s, const struct op *o,
			struct res *r, const char *p1)
{
	int fd;
	if (o->via == VIA_FD) {
		if ((fd = slot_fd(d, s, o, r)) >= 0)
			CALL(r, fchown(fd, o->uid, o->gid));
	} else if (o->via == VIA_LPATH) {
		CALL(r, lchown(p1, o->uid, o->gid));
	} else {
		CALL(r, chown(p1, o->uid, o->gid));
	}
}

/* The NUL-separated names of a listxattr answer, sorted: the order is
 * the filesystem's own. */
static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_xattr_list(unsigned char *buf, size_t len)
{
	char *v[XATTR_MAX], copy[4096];
	int n = 0;
	if (len > sizeof copy)
		return;
	memcpy(copy, buf, len);
	for (size_t i = 0; i < len && n < XATTR_MAX; i += strlen(copy + i) + 1)
		v[n++] = copy + i;
	qsort(v, (size_t)n, sizeof *v, cmp_cstr);
	size_t at = 0;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;
		memcpy(buf + at, v[i], l);
		at += l;
	}
}

static void apply_xattr(struct diff *d, int s, const struct op *o,
			struct res *r, const char *p1)
{
	int fd = -1, l = o->via == VIA_LPATH;
	void *buf = o->len ? d->rbuf[s] : NULL;
	if (o->via == VIA_FD && (fd = slot_fd(d, s, o, r)) < 0)
		return;
	switch (o->kind) {
	case OP_SETXATTR:
		CALL(r, fd >= 0 ? fsetxattr(fd, o->p2, d->wbuf, o->len, o->flags)
			: l ? lsetxattr(p1, o->p2, d->wbuf, o->len, o->flags)
			    : setxattr(p1, o->p2, d->wbuf, o->len, o->flags));
		break;
	case OP_GETXATTR:
		CALL(r, fd >= 0 ? fgetxattr(fd, o->p2, buf, o->len)
			: l ? lgetxattr(p1, o->p2, buf, o->len)
			    : getxattr(p1, o->p2, buf, o->len));
		r->nread = buf && r->ret > 0 ? (size_t)r->ret : 0;
		break;
	case OP_LISTXATTR:
		CALL(r, fd >= 0 ? flistxattr(fd, buf, o->len)
			: l ? llistxattr(p1, buf, o->len)
			    : listxattr(p1, buf, o->len));
		r->nread = buf && r->ret > 0 ? (size_t)r->ret : 0;
		if (r->nread)
			sort_xattr_list(d->rbuf[s], r->nread);
		break;
	case OP_REMOVEXATTR:
		CALL(r, fd >= 0 ? fremovexattr(fd, o->p2)
			: l ? lremovexattr(p1, o->p2) : removexattr(p1, o->p2));
		break;
	default:
		break;
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
	int fd;
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
	case OP_STREAM:
		open_and(d, s, o, O_WRONLY | O_CREAT | O_TRUNC, r);
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
		if ((fd = slot_fd(d, s, o, r)) >= 0)
			CALL(r, write_all(fd, d->wbuf, o->len, o->off,
					  !sl->append));
		break;
	case OP_SLOT_READ:
		if ((fd = slot_fd(d, s, o, r)) >= 0) {
			CALL(r, read_all(fd, d->rbuf[s], o->len, o->off));
			r->nread = r->ret > 0 ? (size_t)r->ret : 0;
		}
		break;
	case OP_SLOT_FTRUNCATE:
		if ((fd = slot_fd(d, s, o, r)) >= 0)
			CALL(r, ftruncate(fd, o->off));
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
	case OP_UTIMENS:
		apply_utimens(d, s, o, r, p1);
		break;
	case OP_CHOWN:
		apply_chown(d, s, o, r, p1);
		break;
	case OP_SETXATTR:
	case OP_GETXATTR:
	case OP_LISTXATTR:
	case OP_REMOVEXATTR:
		apply_xattr(d, s, o, r, p1);
		break;
	case OP_FSYNC:
		if (o->via == VIA_PATH)
			open_and(d, s, o, O_RDONLY, r);
		else if ((fd = slot_fd(d, s, o, r)) >= 0)
			CALL(r, o->flags ? fdatasync(fd) : fsync(fd));
		break;
	case OP_FALLOCATE:
		if ((fd = slot_fd(d, s, o, r)) >= 0)
			CALL(r, fallocate(fd, o->flags, o->off, (off_t)o->len));
		break;
	case OP_COUNT:
		break;
	}
}

/* ---- what an object store refuses by design ---------------------------- */

static int is_xattr_op(enum op_kind k)
{
	return k == OP_SETXATTR || k == OP_GETXATTR || k == OP_LISTXATTR ||
	       k == OP_REMOVEXATTR;
}

/* An errno that says the path did not resolve: the kernel answers it
 * before any filesystem is asked. */
static int path_error(int e)
{
	return e == ENOENT || e == ENOTDIR || e == ELOOP || e == ENAMETOOLONG;
}

/* The object layer keeps no xattrs (EOPNOTSUPP, as test_posix checks).
 * What the reference answered stays the expectation where the kernel
 * decides without the filesystem: a path that does not resolve, and a
 * user.* name on what is neither a file nor a directory (EPERM to set or
 * remove, ENODATA to get).  REF becomes what the mount must answer. */
static void expect_no_xattrs(struct diff *d, const struct op *o,
			     struct res *ref)
{
	if (ref->ret == -2 || (ref->ret == -1 && path_error(ref->err)))
		return;
	if (o->kind != OP_LISTXATTR && o->via != VIA_FD) {
		struct stat st;
		const char *p = fx_fmt("%s/%s", d->roots[REF], o->p1);
		int e = o->via == VIA_LPATH ? lstat(p, &st) : stat(p, &st);
		if (e == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
			return;
	}
	ref->ret = -1;
	ref->err = EOPNOTSUPP;
	ref->nread = 0;
}

/* Run O on both sides into R, with the object store's refusals as the
 * expectation (see the top). */
static void play(struct diff *d, const struct op *o, struct res r[2])
{
	if (fx_lacks(FX_NO_FALLOCATE) && o->kind == OP_FALLOCATE) {
		/* not applied to the reference: no fallocate (EOPNOTSUPP) */
		memset(&r[REF], 0, sizeof r[REF]);
		r[REF].ret = d->slot[o->slot].used ? -1 : -2;
		r[REF].err = d->slot[o->slot].used ? EOPNOTSUPP : 0;
	} else {
		apply(d, REF, o, &r[REF]);
	}
	if (fx_lacks(FX_NO_XATTR) && is_xattr_op(o->kind))
		expect_no_xattrs(d, o, &r[REF]);
	apply(d, MNT, o, &r[MNT]);
}

/* ---- reporting --------------------------------------------------------- */

static void show_history(const struct diff *d)
{
	int first = d->nhist > HIST ? d->nhist - HIST : 0;
	fprintf(stderr, "---- the last operations (seed %llu) ----\n", d->seed);
	for (int i = first; i < d->nhist; i++)
		fprintf(stderr, "%s\n", d->hist[i % HIST]);
	/* run.sh runs test_differential@BACKEND too for "test_differential".
	 * Checking after every step finds the first wrong one, but on an
	 * object store it also spaces the steps out past the caches' TTL,
	 * which can hide what went wrong: keep the run's interval there. */
	fprintf(stderr, "---- replay%s: SCOPEFS_SEED=%llu SCOPEFS_DIFF_OPS=%d "
		"SCOPEFS_DIFF_CHECK_EVERY=%d SCOPEFS_DIFF_REMOUNT_EVERY=%d %s"
		"tests/run.sh test_differential%s%s -- --filter "
		"'differential/%s' ----\n", d->run->workers > 1
		? " (of this sequence alone: the others' interleaving is not "
		  "replayed)" : "", d->seed, d->step + 1,
		fx_object_store() ? d->every : 1,
		d->remount_every, fx_object_store() ? "" : "BACKEND_RUNS= ",
		fx_object_store() ? "@" : "", fx_object_store()
		? fx.backend->name : "", d->run->workers > 1
		? "random_ops_match_a_native_directory" : d->run->test);
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

static int planted(struct timespec t)
{
	return t.tv_sec < PLANTED_BEFORE;
}

/* Do two mtimes agree?  Only one that utimens planted says what it must
 * be (the time of a change differs between the sides); a directory's on
 * an object store follows no change of its entries (see the top). */
static int mtimes_agree(struct timespec a, struct timespec b, int isdir)
{
	if (isdir && fx_object_store())
		return 1;
	if (!planted(a) && !planted(b))
		return 1;
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static void compare_results(struct diff *d, const struct op *o,
			    const struct res *ref, const struct res *mnt)
{
	if (ref->ret != mnt->ret || (ref->ret == -1 && ref->err != mnt->err))
		DIVERGED(d, "seed %llu step %d: %s: expected %s (%s), saw %s "
			 "on the mount", d->seed, d->step, describe(o),
			 res_str(ref), (fx_lacks(FX_NO_FALLOCATE) &&
					o->kind == OP_FALLOCATE) ||
			 (fx_lacks(FX_NO_XATTR) && is_xattr_op(o->kind))
				 ? "the backend's refusal"
				 : "as the reference directory",
			 res_str(mnt));
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
	/* A directory's mtime on an object store is what utimens just
	 * wrote, when it wrote one. */
	int set = o->ts[1].tv_nsec != UTIME_NOW &&
		  o->ts[1].tv_nsec != UTIME_OMIT;
	if (ref->has_mtime != mnt->has_mtime ||
	    (ref->has_mtime &&
	     !mtimes_agree(ref->mtime, mnt->mtime, ref->isdir && !set)))
		DIVERGED(d, "seed %llu step %d: %s: expected mtime %s after "
			 "it, saw %s", d->seed, d->step, describe(o),
			 ref->has_mtime ? ts_str(ref->mtime) : "(no stat)",
			 mnt->has_mtime ? ts_str(mnt->mtime) : "(no stat)");
}

/* ---- comparing the trees ----------------------------------------------- */

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
	qsort(v, n, sizeof *v, cmp_cstr);
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

/* The xattrs of A and B (no symlink followed) must be the same. */
static void compare_xattrs(struct diff *d, const char *rel, const char *a,
			   const char *b)
{
	char la[4096], lb[4096], va[XATTR_MAX], vb[XATTR_MAX];
	ssize_t na = llistxattr(a, la, sizeof la);
	ssize_t nb = llistxattr(b, lb, sizeof lb);
	if (na > 0)
		sort_xattr_list((unsigned char *)la, (size_t)na);
	if (nb > 0)
		sort_xattr_list((unsigned char *)lb, (size_t)nb);
	if (na != nb || (na > 0 && memcmp(la, lb, (size_t)na)))
		DIVERGED(d, "seed %llu after step %d: %s: expected %zd bytes "
			 "of xattr names, saw %zd or other names", d->seed,
			 d->step, rel, na, nb);
	for (ssize_t i = 0; i < na; i += (ssize_t)strlen(la + i) + 1) {
		ssize_t xa = lgetxattr(a, la + i, va, sizeof va);
		ssize_t xb = lgetxattr(b, la + i, vb, sizeof vb);
		if (xa != xb || (xa > 0 && memcmp(va, vb, (size_t)xa)))
			DIVERGED(d, "seed %llu after step %d: %s: xattr %s: "
				 "expected %zd bytes, saw %zd or other bytes",
				 d->seed, d->step, rel, la + i, xa, xb);
	}
}

static void compare_entry(struct diff *d, const char *r, const char *a,
			  const char *b);

/* Compare the trees below REL (relative to the tops: "" for the whole
 * tree, a sequence's directory for its own). */
static void compare_tree(struct diff *d, const char *rel)
{
	char a[PATH_MAX], b[PATH_MAX];
	snprintf(a, sizeof a, "%s", fx_fmt("%s%s%s", d->top[REF],
					  *rel ? "/" : "", rel));
	snprintf(b, sizeof b, "%s", fx_fmt("%s%s%s", d->top[MNT],
					  *rel ? "/" : "", rel));
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
		char r[PATH_MAX];
		snprintf(r, sizeof r, "%s", fx_fmt("%s%s%s", rel,
						  *rel ? "/" : "", na[i]));
		snprintf(a, sizeof a, "%s", fx_fmt("%s/%s", d->top[REF], r));
		snprintf(b, sizeof b, "%s", fx_fmt("%s/%s", d->top[MNT], r));
		compare_entry(d, r, a, b);
	}
	free_names(na, ca);
	free_names(nb, cb);
}

static void compare_entry(struct diff *d, const char *r, const char *a,
			  const char *b)
{
	struct stat sa, sb;
	if (lstat(a, &sa) < 0 || lstat(b, &sb) < 0)
		DIVERGED(d, "seed %llu after step %d: %s: lstat failed (%s)",
			 d->seed, d->step, r, fx_errname(errno));
	if (sa.st_mode != sb.st_mode)
		DIVERGED(d, "seed %llu after step %d: %s: expected mode 0%o, "
			 "saw 0%o", d->seed, d->step, r, sa.st_mode, sb.st_mode);
	if (sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
		DIVERGED(d, "seed %llu after step %d: %s: expected owner %d:%d, "
			 "saw %d:%d", d->seed, d->step, r, sa.st_uid, sa.st_gid,
			 sb.st_uid, sb.st_gid);
	if (!mtimes_agree(sa.st_mtim, sb.st_mtim, S_ISDIR(sa.st_mode)))
		DIVERGED(d, "seed %llu after step %d: %s: expected mtime %s, "
			 "saw %s", d->seed, d->step, r, ts_str(sa.st_mtim),
			 ts_str(sb.st_mtim));
	if (!fx_lacks(FX_NO_XATTR))
		compare_xattrs(d, r, a, b);
	if (S_ISDIR(sa.st_mode)) {
		compare_tree(d, r);
		return;
	}
	if (sa.st_size != sb.st_size || sa.st_nlink != sb.st_nlink)
		DIVERGED(d, "seed %llu after step %d: %s: expected size %lld "
			 "and %lu links, saw size %lld and %lu links", d->seed,
			 d->step, r, (long long)sa.st_size,
			 (unsigned long)sa.st_nlink, (long long)sb.st_size,
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
			DIVERGED(d, "seed %llu after step %d: %s: expected "
				 "link to \"%s\", saw \"%s\"", d->seed, d->step,
				 r, ta, tb);
	} else if (S_ISREG(sa.st_mode)) {
		compare_contents(d, r, a, b, sa.st_size);
	}
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

/* ---- stopping and starting the daemon ---------------------------------- */

/* What the mount showed of one entry before the daemon stopped. */
struct shown {
	struct stat st;
	char target[256];
};

/* Close every slot on both sides: close must agree too (it is where an
 * object store uploads). */
static void close_slots(struct diff *d)
{
	for (int i = 0; i < NSLOT; i++) {
		struct slot *sl = &d->slot[i];
		if (!sl->used)
			continue;
		struct res r[2] = { { 0 }, { 0 } };
		for (int s = 0; s < 2; s++)
			CALL(&r[s], close(sl->fd[s]));
		if (r[REF].ret != r[MNT].ret)
			DIVERGED(d, "seed %llu after step %d: closing slot #%d "
				 "(opened as %s) before a restart: expected %s, "
				 "saw %s", d->seed, d->step, i, sl->path,
				 res_str(&r[REF]), res_str(&r[MNT]));
		sl->used = 0;
		sl->fd[REF] = sl->fd[MNT] = -1;
	}
}

static void look(const char *path, struct shown *s)
{
	memset(s, 0, sizeof *s);
	if (lstat(path, &s->st) < 0)
		s->st.st_mode = 0; /* compared as "missing" */
	ssize_t n = S_ISLNK(s->st.st_mode)
			    ? readlink(path, s->target, sizeof s->target - 1)
			    : -1;
	s->target[n > 0 ? n : 0] = '\0';
}

/* Entry I of T as the mount shows it now must be what it showed before
 * the restart: the fresh daemon knows only what the store kept. */
static void compare_shown(struct diff *d, const struct tree *t, int i,
			  const struct shown *was)
{
	struct shown now;
	look(fx_fmt("%s/%s", d->top[MNT], t->path[i]), &now);
	const struct stat *a = &was->st, *b = &now.st;
	/* Not compared: with the writeback cache, a regular file's mtime
	 * as the kernel kept it.  DEFECT (the writeback cache, on by
	 * default for local in core/mount.c; the daemon's side of it is
	 * core/fuse_ops.c and plugins/local, left to their owner): the
	 * kernel stamps the mtime at write(2) and never sends it (no
	 * SETATTR follows), the store gets the time the page writeback
	 * reached the daemon, milliseconds to seconds later, and that is
	 * what a restart shows.  Planted mtimes (utimens, sent at once)
	 * are still compared. */
	int kernel_kept = d->writeback && S_ISREG(a->st_mode) &&
			  !planted(a->st_mtim);
	int same_mtime = a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
			 a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
	if (a->st_mode != b->st_mode || a->st_uid != b->st_uid ||
	    a->st_gid != b->st_gid || a->st_nlink != b->st_nlink ||
	    a->st_size != b->st_size || (!same_mtime && !kernel_kept) ||
	    strcmp(was->target, now.target))
		DIVERGED(d, "seed %llu after step %d: %s after restart %d: "
			 "expected what the mount showed before it: mode 0%o, "
			 "owner %d:%d, %lu links, size %lld, mtime %s%s%s, saw "
			 "mode 0%o, owner %d:%d, %lu links, size %lld, mtime "
			 "%s%s%s", d->seed, d->step, t->path[i], d->restarts,
			 a->st_mode, a->st_uid, a->st_gid,
			 (unsigned long)a->st_nlink, (long long)a->st_size,
			 ts_str(a->st_mtim), *was->target ? ", link to " : "",
			 was->target, b->st_mode, b->st_uid, b->st_gid,
			 (unsigned long)b->st_nlink, (long long)b->st_size,
			 ts_str(b->st_mtim), *now.target ? ", link to " : "",
			 now.target);
}

/* Stop the daemon, start a fresh one on the same store, and compare the
 * whole tree again: with what the mount showed before (looked up by
 * name, before any listing: see the top) and with the reference. */
static void restart_and_compare(struct diff *d)
{
	static struct tree t;
	static struct shown was[MAX_TREE];
	close_slots(d);
	compare_tree(d, "");
	t.n = 0;
	scan(&t, MAX_TREE, d->top[REF], "");
	for (int i = 0; i < t.n; i++)
		look(fx_fmt("%s/%s", d->top[MNT], t.path[i]), &was[i]);

	fx_stop();
	fx.stopped = 0;
	FX_ASSERT(!fx.problem[0], "restart %d: %s", d->restarts + 1,
		  fx.problem);
	FX_ASSERT(WIFEXITED(fx.status) && WEXITSTATUS(fx.status) == 0,
		  "restart %d: expected the daemon to exit 0 after SIGTERM, "
		  "saw %s", d->restarts + 1, fx_status_str(fx.status));
	/* keep the stopped daemon's log beside the new one's */
	rename(fx.log, fx_fmt("%s.%d", fx.log, ++d->restarts));
	fx_launch(NULL);

	for (int i = 0; i < t.n; i++)
		compare_shown(d, &t, i, &was[i]);
	compare_tree(d, "");
}

/* ---- the run ----------------------------------------------------------- */

/* Play NOPS ops of SEED in the directory SUB of both sides. */
static void play_sequence(struct diff *d, const char *sub,
			  unsigned long long seed)
{
	d->seed = seed;
	d->rng = seed * 0x9E3779B97F4A7C15ull + 1;
	d->nhist = 0;
	snprintf(d->sub, sizeof d->sub, "%s", sub);
	for (int s = 0; s < 2; s++) {
		snprintf(d->roots[s], sizeof d->roots[s], "%s",
			 fx_fmt("%s/%s", d->top[s], sub));
		FX_OK(mkdir(d->roots[s], 0755));
	}
	for (int i = 0; i < NSLOT; i++) {
		d->slot[i].used = 0;
		d->slot[i].fd[REF] = d->slot[i].fd[MNT] = -1;
	}
	int succeeded = 0, errors = 0, multipart = 0;
	for (d->step = 0; d->step < d->nops; d->step++) {
		refresh(d);
		struct op o;
		choose(d, &o);
		snprintf(d->hist[d->nhist++ % HIST], sizeof d->hist[0], "%5d %s",
			 d->step, describe(&o));
		if (o.len && o.kind != OP_STREAM)
			fill(d, o.data_seed, o.len); /* streams fill their own */
		struct res r[2];
		play(d, &o, r);
		compare_results(d, &o, &r[REF], &r[MNT]);
		if (r[REF].ret >= 0)
			succeeded++;
		else if (r[REF].ret == -1)
			errors++;
		multipart += o.kind == OP_STREAM && r[REF].ret > PART;
		after(d, &o, &r[REF]);
		int last = d->step + 1 == d->nops;
		if ((d->step + 1) % d->every == 0 || last) {
			compare_tree(d, sub);
			compare_slots(d);
		}
		if (d->run->workers < 2 &&
		    (last || (d->remount_every &&
			      (d->step + 1) % d->remount_every == 0)))
			restart_and_compare(d);
	}
	refresh(d);
	fprintf(stderr, "differential (%s, %s): seed %llu: %d ops agreed: %d "
		"succeeded (%d streams past a part), %d failed alike, the rest "
		"were no-ops; %d entries at the end; %d restarts so far\n",
		fx.backend->name, d->label, seed, d->nops, succeeded, multipart,
		errors, d->ent.n, d->restarts);
}

/* A fresh seed per run, unless SCOPEFS_SEED gives one. */
static unsigned long long fresh_seed(void)
{
	const char *v = getenv("SCOPEFS_SEED");
	if (v && *v)
		return strtoull(v, NULL, 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t x = (uint64_t)ts.tv_sec * 1000000007ull ^
		     (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
	return x % 1000000000000ull; /* short enough to type */
}

/* RUN's workers at once, each its own sequence in a directory of its
 * own (the even ones of fixed seeds, the odd ones of fresh ones), in a
 * process of its own: the ops of one never touch the names of another,
 * so each must still agree with its reference while the daemon serves
 * them all together.  Then the whole tree across a restart. */
static void play_at_once(struct diff *d, unsigned long long fresh)
{
	pid_t pid[16];
	int n = d->run->workers < 16 ? d->run->workers : 16, failed = 0;
	fflush(NULL);
	for (int w = 0; w < n; w++) {
		pid[w] = fork();
		FX_ASSERT(pid[w] >= 0, "fork: %s", strerror(errno));
		if (pid[w] == 0) {
			char sub[16]; /* not fx_fmt's: it is reused */
			snprintf(sub, sizeof sub, "w%d", w);
			fx.in_worker = 1;
			play_sequence(d, sub,
				      (w % 2 ? fresh : d->run->fixed_seed) +
					      (unsigned long long)w);
			close_slots(d);
			fflush(NULL);
			_exit(0);
		}
	}
	for (int w = 0; w < n; w++) {
		int status;
		if (!fx_wait_timeout(pid[w], &status, 600000)) {
			kill(pid[w], SIGKILL);
			waitpid(pid[w], &status, 0);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "differential (%s, %s): sequence w%d "
				"(seed %llu) ended %s\n", fx.backend->name,
				d->label, w, (w % 2 ? fresh : d->run->fixed_seed) +
						     (unsigned long long)w,
				fx_status_str(status));
			failed++;
		}
	}
	FX_ASSERT(!failed, "%d of %d sequences played at once disagreed "
		  "with their reference or did not end (above, and the "
		  "daemon's log)", failed, n);
	restart_and_compare(d);
}

static void run_differential(const struct run *run)
{
	const struct fx_backend *be = fx_pick_backend();
	int obj = be && be->object_store;
	/* README: auto is on only for exclusive filesystem plugins */
	int wb_auto = !obj && !(be && (be->lacks & FX_NO_WRITEBACK_DEFAULT));
	int wb = run->writeback == WB_AUTO ? wb_auto : run->writeback == WB_YES;
	if (obj && wb)
		cr_skip_test("writeback_cache = yes is refused on object stores "
			     "(README; test_s3 checks the refusal)");
	if (run->writeback != WB_AUTO && wb == wb_auto)
		cr_skip_test("writeback_cache = %s is the default on backend "
			     "%s: the defaults run covers it",
			     wb ? "yes" : "no", be ? be->name : "?");
	writeback_on = wb;
	if (run->stage && !obj)
		cr_skip_test("write_mode is a key of object-store backends; "
			     "backend %s is none", be ? be->name : "?");
	if (obj)
		fx.backend_keys = run->stage ? "part_size = 5M\n"
					       "write_mode = stage\n"
					     : "part_size = 5M\n";
	char keys[256];
	snprintf(keys, sizeof keys, "%s%s", run->mount_keys ? run->mount_keys
							    : "",
		 run->writeback == WB_YES  ? "writeback_cache = yes\n"
		 : run->writeback == WB_NO ? "writeback_cache = no\n" : "");
	const struct fx_mount m[] = { { "diff", "cluster", keys } };
	umask(022);
	fx_start(NULL, m, 1);

	static struct diff d;
	memset(&d, 0, sizeof d);
	d.run = run;
	snprintf(d.label, sizeof d.label, "%.*s%swriteback %s%s",
		 run->mount_keys ? (int)strcspn(run->mount_keys, "\n") : 0,
		 run->mount_keys ? run->mount_keys : "",
		 run->mount_keys ? ", " : "", wb ? "on" : "off",
		 obj ? run->stage ? ", write_mode = stage, part_size = 5M"
				  : ", part_size = 5M" : "");
	d.back_refused = obj && !run->stage && !wb;
	d.writeback = wb;
	int def_ops = obj ? run->obj_ops : 2500;
	d.nops = (int)env_ull("SCOPEFS_DIFF_OPS", def_ops);
	d.every = (int)env_ull("SCOPEFS_DIFF_CHECK_EVERY",
			       obj ? run->obj_every : 5);
	if (d.every < 1)
		d.every = 1;
	/* from the default op count, so that a replay with fewer ops
	 * restarts at the same steps */
	d.remount_every = (int)env_ull("SCOPEFS_DIFF_REMOUNT_EVERY",
				       def_ops / 2);
	snprintf(d.top[REF], sizeof d.top[REF], "%s/reference", fx.dir);
	FX_OK(mkdir(d.top[REF], 0755));
	snprintf(d.top[MNT], sizeof d.top[MNT], "%s", fx.mnt[0]);
	d.wbuf = malloc(MAX_IO);
	for (int s = 0; s < 2; s++) {
		d.rbuf[s] = malloc(MAX_IO);
		d.cbuf[s] = malloc(MAX_FILE);
		cr_assert(d.rbuf[s] && d.cbuf[s]);
	}
	cr_assert(d.wbuf);

	unsigned long long fresh = fresh_seed();
	if (run->workers > 1) {
		fprintf(stderr, "differential (%s, %s): %d sequences at once, "
			"of seeds %llu + even w and %llu + odd w (replay: "
			"SCOPEFS_SEED=%llu); %d ops each, trees compared every "
			"%d, the daemon restarted at the end\n",
			fx.backend->name, d.label, run->workers, run->fixed_seed,
			fresh, fresh, d.nops, d.every);
		play_at_once(&d, fresh);
	} else {
		fprintf(stderr, "differential (%s, %s): fixed seed %llu, then "
			"fresh seed %llu (replay: SCOPEFS_SEED=%llu); %d ops "
			"each, trees compared every %d, the daemon restarted "
			"every %d and after each%s%s%s\n", fx.backend->name,
			d.label, run->fixed_seed, fresh, fresh, d.nops, d.every,
			d.remount_every,
			getenv("SCOPEFS_DIFF_SKIP") ? "; skipping " : "",
			getenv("SCOPEFS_DIFF_SKIP") ? getenv("SCOPEFS_DIFF_SKIP")
						    : "",
			obj ? "; object store: refusals modelled (see the top "
			      "of test_differential.c)" : "");
		play_sequence(&d, "fixed", run->fixed_seed);
		play_sequence(&d, "fresh", fresh);
	}

	free(d.wbuf);
	for (int s = 0; s < 2; s++) {
		free(d.rbuf[s]);
		free(d.cbuf[s]);
	}
}

TestSuite(differential, .fini = fx_teardown, .timeout = 900);

#define DIFFERENTIAL(name, ...)                                              \
	MOUNT_TEST(differential, name)                                       \
	{                                                                    \
		static const struct run r = { #name, __VA_ARGS__ };          \
		run_differential(&r);                                        \
	}

/* Fields after the name: mount keys, writeback_cache, write_mode stage,
 * the fixed seed (each run its own), on an object store the default op
 * count and check interval, and the sequences played at once. */
DIFFERENTIAL(random_ops_match_a_native_directory,
	     NULL, WB_AUTO, 0, 20240611, 800, 5, 1)
/* Local: the writeback cache is on by default, so this is the run
 * without it; object stores and nfs skip it (the defaults run is that). */
DIFFERENTIAL(random_ops_match_without_writeback_cache,
	     NULL, WB_NO, 0, 20240612, 800, 5, 1)
/* Object stores and nfs: the writeback cache is off by default (local
 * skips; object stores refuse it). */
DIFFERENTIAL(random_ops_match_with_writeback_cache,
	     NULL, WB_YES, 0, 20240613, 800, 5, 1)
DIFFERENTIAL(random_ops_match_with_cache_ttl_0,
	     "cache_ttl = 0\n", WB_AUTO, 0, 20240614, 400, 20, 1)
/* Object stores: every file staged in cache_dir instead of streamed. */
DIFFERENTIAL(random_ops_match_with_write_mode_stage,
	     NULL, WB_AUTO, 1, 20240615, 800, 5, 1)
/* Four sequences at once, each in its own directory: the daemon's
 * locks, caches and pool under concurrent callers. */
DIFFERENTIAL(random_ops_in_four_directories_at_once_match,
	     NULL, WB_AUTO, 0, 20240616, 800, 5, 4)

/* ---- going back into streamed data (object stores) --------------------- */

static void need_object_store(void)
{
	const struct fx_backend *be = fx_pick_backend();
	if (!be || !be->object_store)
		cr_skip_test("streaming is the object layer's; backend %s is "
			     "no object store", be ? be->name : "?");
}

static void restart(void)
{
	fx_stop();
	fx.stopped = 0;
	FX_ASSERT(!fx.problem[0], "restart: %s", fx.problem);
	FX_ASSERT(WIFEXITED(fx.status) && WEXITSTATUS(fx.status) == 0,
		  "restart: expected the daemon to exit 0 after SIGTERM, saw "
		  "%s", fx_status_str(fx.status));
	fx_launch(NULL);
}

/* Write LEN bytes of BUF to FD in sequential 256 KiB writes; every one
 * must succeed. */
static void write_chunks(int fd, const unsigned char *buf, size_t len)
{
	for (size_t at = 0; at < len; at += MAX_IO) {
		size_t n = len - at < MAX_IO ? len - at : MAX_IO;
		FX_EQ_INT(write(fd, buf + at, n), n);
	}
}

/* The same with LEN bytes of pattern SEED, left in BUF. */
static void write_pattern(int fd, unsigned char *buf, size_t len,
			  unsigned seed)
{
	fill_seed(buf, seed, len);
	write_chunks(fd, buf, len);
}

/* PATH must hold exactly LEN bytes of EXPECTED. */
static void expect_file(const char *path, const unsigned char *expected,
			size_t len)
{
	size_t got = 0;
	char *data = fx_slurp(path, &got);
	FX_ASSERT(data, "reading %s: expected %zu bytes, saw %s", path, len,
		  fx_errname(errno));
	FX_EQ_INT(got, len);
	FX_EQ_MEM(data, expected, len);
	free(data);
}

enum { STREAMED = 3 * PART + (1 << 20) }; /* three parts and some */

TestSuite(streaming, .fini = fx_teardown, .timeout = 300);

/* A mount of the object store with BACKEND_KEYS (small parts), and a
 * buffer of STREAMED bytes for the file a streaming test writes. */
static unsigned char *start_streaming(const char *backend_keys)
{
	need_object_store();
	fx.backend_keys = backend_keys;
	const struct fx_mount m[] = { { "s", "cluster", NULL } };
	fx_start(NULL, m, 1);
	unsigned char *buf = malloc(STREAMED);
	cr_assert(buf);
	return buf;
}

/* README: "Going back before data that has already streamed fails with
 * EIO"; close() then fails with EIO too and the previous object stays. */
MOUNT_TEST(streaming, going_back_before_streamed_data_fails_and_keeps_the_old_object)
{
	unsigned char *buf = start_streaming("part_size = 5M\n");
	const char *old = "the previous version";
	FX_OK(fx_write_file(fx_mpath(0, "f"), old, strlen(old), 0644));

	/* over an existing object, and as a new file */
	for (int existing = 1; existing >= 0; existing--) {
		const char *p = fx_mpath(0, existing ? "f" : "g");
		int fd = FX_OK(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644));
		write_pattern(fd, buf, STREAMED, 1);
		FX_ERRNO(pwrite(fd, "header", 6, 0), EIO);
		/* the upload failed with it: nothing more goes */
		FX_ERRNO(write(fd, "tail", 4), EIO);
		FX_ERRNO(close(fd), EIO);
	}
	for (int round = 0; round < 2; round++) {
		expect_file(fx_mpath(0, "f"), (const unsigned char *)old,
			    strlen(old));
		struct stat st;
		FX_ERRNO(lstat(fx_mpath(0, "g"), &st), ENOENT);
		if (round == 0)
			restart(); /* the store itself, not a cache */
	}
	free(buf);
}

/* Going back before the first part has left is still possible: the file
 * is staged from there on and uploads at close. */
MOUNT_TEST(streaming, going_back_before_the_first_part_left_stages_the_file)
{
	unsigned char *buf = start_streaming("part_size = 5M\n");
	const char *p = fx_mpath(0, "f");
	int fd = FX_OK(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	write_pattern(fd, buf, 1 << 20, 2);
	FX_EQ_INT(pwrite(fd, "header", 6, 0), 6);
	memcpy(buf, "header", 6);
	fill_seed(buf + (1 << 20), 3, STREAMED - (1 << 20));
	write_chunks(fd, buf + (1 << 20), STREAMED - (1 << 20));
	FX_OK(close(fd));
	expect_file(p, buf, STREAMED);
	restart();
	expect_file(p, buf, STREAMED);
	free(buf);
}

/* README: "For files written that way, set write_mode = stage". */
MOUNT_TEST(streaming, going_back_works_with_write_mode_stage)
{
	unsigned char *buf = start_streaming("part_size = 5M\nwrite_mode = stage\n");
	const char *p = fx_mpath(0, "f");
	int fd = FX_OK(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644));
	write_pattern(fd, buf, STREAMED, 4);
	FX_EQ_INT(pwrite(fd, "header", 6, 0), 6);
	memcpy(buf, "header", 6);
	FX_OK(close(fd));
	expect_file(p, buf, STREAMED);
	restart();
	expect_file(p, buf, STREAMED);
	free(buf);
}

/* A multipart upload's metadata is fixed when it begins (its first
 * part): what the writing descriptor sets later (cp -p: fchmod, fchown,
 * futimens before close) must reach the store all the same, and what the
 * mount shows after close must be what the store keeps. */
MOUNT_TEST(streaming, attributes_set_while_streaming_are_kept)
{
	unsigned char *buf = start_streaming("part_size = 5M\n");
	const struct timespec ts[2] = { { 1000000000, 1 },
					{ 1234567890, 123456789 } };
	struct stat before, st;
	/* set after the first part left, and none at all */
	for (int set = 1; set >= 0; set--) {
		const char *p = fx_mpath(0, set ? "set" : "plain");
		int fd = FX_OK(open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644));
		write_pattern(fd, buf, STREAMED, 5);
		if (set) {
			FX_OK(fchmod(fd, 0640));
			FX_OK(fchown(fd, 1234, 5678));
			FX_OK(futimens(fd, ts));
		}
		FX_OK(close(fd));
		FX_OK(stat(p, &before));
		if (set) {
			FX_EQ_MODE(before.st_mode, S_IFREG | 0640);
			FX_EQ_INT(before.st_uid, 1234);
			FX_EQ_INT(before.st_gid, 5678);
			FX_EQ_INT(before.st_mtim.tv_sec, ts[1].tv_sec);
			FX_EQ_INT(before.st_mtim.tv_nsec, ts[1].tv_nsec);
		}
		restart();
		FX_OK(stat(p, &st));
		FX_EQ_MODE(st.st_mode, before.st_mode);
		FX_EQ_INT(st.st_uid, before.st_uid);
		FX_EQ_INT(st.st_gid, before.st_gid);
		FX_EQ_INT(st.st_mtim.tv_sec, before.st_mtim.tv_sec);
		FX_EQ_INT(st.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
		expect_file(p, buf, STREAMED);
	}
	free(buf);
}
