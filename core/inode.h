/* inode: the core's table of the files the kernel knows, so that
 * path-based plugins can be served through the low-level FUSE API.
 *
 * A node is one file as the kernel sees it (its FUSE id is its address;
 * the root is id 1).  A node has one or more names (dentries): hard links
 * of a plugin with stable inode numbers share one node, so the kernel keeps
 * one page cache for them.  A node also remembers its open handles, so the
 * attributes of an open file stay reachable after its last name is gone. */
#ifndef SCOPEFS_INODE_H
#define SCOPEFS_INODE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct inode;

struct dentry {
	struct dentry *hnext;      /* hash chain of (parent, name) */
	struct dentry *next_alias; /* the node's other names */
	struct inode *parent;
	struct inode *node;
	char *name;
	uint32_t hash;
};

struct inode {
	struct dentry *aliases; /* NULL once every name is gone */
	uint64_t nlookup;       /* kernel references */
	uint64_t children;      /* dentries that have this node as parent */
	/* The plugin's (st_dev, st_ino), for plugins with stable numbers. */
	dev_t bdev;
	ino_t bino;
	int has_bino;
	struct inode *bnext;    /* hash chain of (bdev, bino) */
	void **open;            /* open handles (opaque to the table) */
	size_t nopen, capopen;
	struct inode *all_prev, *all_next; /* every node, for teardown */
	/* Size and mtime last told to the kernel, to notice when the file
	 * changed behind its cache (written unlocked: a hint). */
	off_t told_size;
	struct timespec told_mtime;
};

struct inode_table {
	pthread_mutex_t lock;
	struct inode root;
	struct dentry **buckets; /* by (parent, name) */
	size_t nbuckets, count;
	struct inode **bbuckets; /* by (bdev, bino) */
	size_t nbbuckets;
};

int inode_table_init(struct inode_table *t);
void inode_table_destroy(struct inode_table *t);

/* The node for a FUSE id; 1 is the root. */
struct inode *inode_get(struct inode_table *t, uint64_t ino);
uint64_t inode_id(struct inode_table *t, struct inode *n);

/* Write the plugin path of N (and of its child NAME if not NULL) into buf:
 * "." for the root, else "a/b/c".  -ENOENT if N has no name left,
 * -ENAMETOOLONG if it does not fit. */
int inode_path(struct inode_table *t, struct inode *n, const char *name,
	       char *buf, size_t size);

/* Find or create the node for (parent, name) and add one kernel
 * reference.  With a stable (dev, ino) that a live node already has (a
 * hard link), the name joins that node.  NULL only when out of memory. */
struct inode *inode_lookup_ref(struct inode_table *t, struct inode *parent,
			       const char *name, int stable, dev_t dev,
			       ino_t ino);
/* Drop nlookup kernel references (FUSE forget); frees unused nodes. */
void inode_forget(struct inode_table *t, struct inode *n, uint64_t nlookup);
/* (parent, name) no longer exists. */
void inode_unlink(struct inode_table *t, struct inode *parent,
		  const char *name);
/* Move (parent, name) to (newparent, newname), dropping any name that was
 * there.  With exchange, swap the two.  -ENOMEM on failure. */
int inode_rename(struct inode_table *t, struct inode *parent, const char *name,
		 struct inode *newparent, const char *newname, int exchange);

/* Remember / forget an open handle of N; any one of them answers for the
 * file when it has no name. */
int inode_open_add(struct inode_table *t, struct inode *n, void *h);
void inode_open_del(struct inode_table *t, struct inode *n, void *h);
/* At teardown: hand every remembered open handle to fn and forget them
 * (the session is over, no release will come for them). */
void inode_drain_open(struct inode_table *t, void (*fn)(void *h, void *ctx),
		      void *ctx);
/* Some open handle of N, or NULL. */
void *inode_open_any(struct inode_table *t, struct inode *n);

#endif
