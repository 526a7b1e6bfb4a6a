/* inode: the core's table of the names the kernel knows (one node per
 * looked-up dentry), so that path-based plugins can be served through the
 * low-level FUSE API.  A node's FUSE id is its address; the root is id 1. */
#ifndef SCOPEFS_INODE_H
#define SCOPEFS_INODE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct inode {
	struct inode *parent; /* NULL for the root and for detached nodes */
	char *name;           /* component name; NULL for the root */
	uint64_t nlookup;     /* kernel references (lookup/create/readdirplus) */
	uint64_t refs;        /* children holding this node as parent */
	struct inode *hnext;  /* hash chain of (parent, name) */
	uint32_t hash;
	int hashed;           /* reachable by (parent, name) */
};

struct inode_table {
	pthread_mutex_t lock;
	struct inode root;
	struct inode **buckets;
	size_t nbuckets;
	size_t count;
};

int inode_table_init(struct inode_table *t);
void inode_table_destroy(struct inode_table *t);

/* The node for a FUSE id; 1 is the root. */
struct inode *inode_get(struct inode_table *t, uint64_t ino);
uint64_t inode_id(struct inode_table *t, struct inode *n);

/* Write the plugin path of N (and of its child NAME if not NULL) into buf:
 * "." for the root, else "a/b/c".  -ENOENT if N was removed,
 * -ENAMETOOLONG if it does not fit. */
int inode_path(struct inode_table *t, struct inode *n, const char *name,
	       char *buf, size_t size);

/* Find or create the node for (parent, name) and add one kernel
 * reference.  Returns NULL only when out of memory. */
struct inode *inode_lookup_ref(struct inode_table *t, struct inode *parent,
			       const char *name);
/* Drop nlookup kernel references (FUSE forget); frees unused nodes. */
void inode_forget(struct inode_table *t, struct inode *n, uint64_t nlookup);
/* (parent, name) no longer exists: later lookups make a new node. */
void inode_unlink(struct inode_table *t, struct inode *parent,
		  const char *name);
/* Move (parent, name) to (newparent, newname), detaching any node that
 * was there.  With exchange, swap the two.  -ENOMEM on failure. */
int inode_rename(struct inode_table *t, struct inode *parent, const char *name,
		 struct inode *newparent, const char *newname, int exchange);

#endif
