/* store_walk: a backend's storage seen from outside any mount, through the
 * plugin ABI only: list what lies under a prefix (object stores: the
 * plugin's list, recursive, page by page; local and nfs: readdir and
 * getattr, never following a symlink), the names one level below a
 * prefix, and removing one entry.  What `scopefs usage` and `scopefs gc`
 * stand on; nothing here goes through FUSE or the object layer. */
#ifndef SCOPEFS_STORE_WALK_H
#define SCOPEFS_STORE_WALK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "backend.h"

/* One backend opened at its own root (the plugin's base: the local root,
 * the s3 prefix, ...), so that every prefix of every scope is reachable. */
struct store {
	struct backend *be;
	void *pmnt;     /* the plugin's mount of "" */
	int object;     /* object ops (else fs ops) */
	int writable;   /* opened without SCOPEFS_MOUNT_READ_ONLY */
};

/* What the walk visits.  name is the object's key (a marker keeps its
 * trailing '/') or, for local/nfs, the path from the backend's root
 * ("." for the root itself).  Valid during the callback only. */
struct store_entry {
	const char *name;
	int is_dir;   /* a directory, or a marker (key ending in '/') */
	int is_root;  /* the walked prefix itself (its directory or marker) */
	uint64_t size; /* bytes; 0 for directories */
	struct timespec mtime; /* {0, 0}: the store told none */
};

/* Return 0 to go on, a negative errno to stop the walk with it. */
typedef int (*store_visit_fn)(void *ctx, const struct store_entry *e);
/* Called with each name one level below a prefix (no '/' in it). */
typedef int (*store_child_fn)(void *ctx, const char *name);

/* mount_open(backend, "") read-only unless WRITABLE.  On failure err
 * names the backend and the plugin's reason. */
int store_open(struct store *s, struct backend *be, int writable, char *err,
	       size_t errlen);
void store_close(struct store *s);

/* Visit everything under PREFIX ("" = the whole backend; no leading or
 * trailing '/').  Object stores: every key starting with "PREFIX/", in
 * the store's order, a page at a time, each page visited after the
 * plugin's list call returned (so the callback may remove what it is
 * given).  local/nfs: depth first, a directory after everything in it
 * (so removing as one goes empties each directory before its turn).
 * An absent prefix visits nothing and is not an error.  A backend error
 * returns -errno with err naming the backend, the operation and the key. */
int store_walk(struct store *s, const char *prefix, store_visit_fn fn,
	       void *ctx, char *err, size_t errlen);

/* The names of the directories (object stores: common prefixes) right
 * below PREFIX ("" = the root).  Files there are left out.  Absent PREFIX:
 * none, not an error. */
int store_children(struct store *s, const char *prefix, store_child_fn fn,
		   void *ctx, char *err, size_t errlen);

/* Remove one entry a walk gave: the key, or unlink/rmdir the path.
 * Quietly (err untouched): -ENOTEMPTY for a directory something is still
 * in, -ENOENT for an entry already gone (local/nfs; object stores do not
 * tell). */
int store_remove(struct store *s, const struct store_entry *e, char *err,
		 size_t errlen);

/* Remove the directory PATH if it is empty (local/nfs only; object
 * stores have no directory but markers): 0 when removed, else -errno. */
int store_rmdir(struct store *s, const char *path);

#endif
