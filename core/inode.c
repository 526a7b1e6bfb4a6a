/* inode: dentry-shaped node table for the low-level FUSE front end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "inode.h"

enum { ROOT_ID = 1 }; /* FUSE_ROOT_ID */

static uint32_t name_hash(const struct inode *parent, const char *name)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)parent;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (uint32_t)(h ^ (h >> 32));
}

int inode_table_init(struct inode_table *t)
{
	memset(t, 0, sizeof *t);
	t->nbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	if (!t->buckets)
		return -ENOMEM;
	t->root.nlookup = 1;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

void inode_table_destroy(struct inode_table *t)
{
	/* Free every hashed node; detached nodes still referenced by the
	 * kernel are gone with the session anyway. */
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct inode *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			free(n->name);
			free(n);
		}
	}
	free(t->buckets);
	pthread_mutex_destroy(&t->lock);
}

struct inode *inode_get(struct inode_table *t, uint64_t ino)
{
	return ino == ROOT_ID ? &t->root : (struct inode *)(uintptr_t)ino;
}

uint64_t inode_id(struct inode_table *t, struct inode *n)
{
	return n == &t->root ? ROOT_ID : (uint64_t)(uintptr_t)n;
}

static void hash_remove(struct inode_table *t, struct inode *n)
{
	struct inode **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == n) {
			*pp = n->hnext;
			n->hnext = NULL;
			n->hashed = 0;
			t->count--;
			return;
		}
}

static void hash_insert(struct inode_table *t, struct inode *n)
{
	struct inode **b = &t->buckets[n->hash & (t->nbuckets - 1)];

	n->hnext = *b;
	*b = n;
	n->hashed = 1;
	t->count++;
}

/* Grow the table when it gets crowded; on allocation failure keep going
 * with longer chains. */
static void maybe_grow(struct inode_table *t)
{
	size_t nb = t->nbuckets * 4;
	struct inode **b;

	if (t->count < t->nbuckets * 2 || !(b = calloc(nb, sizeof *b)))
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct inode *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (nb - 1)];
			b[n->hash & (nb - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

static struct inode *hash_find(struct inode_table *t, struct inode *parent,
			       const char *name, uint32_t h)
{
	struct inode *n = t->buckets[h & (t->nbuckets - 1)];

	for (; n; n = n->hnext)
		if (n->hash == h && n->parent == parent &&
		    strcmp(n->name, name) == 0)
			return n;
	return NULL;
}

/* Called with the lock held: free N if nothing refers to it any more, and
 * walk up releasing the parents it kept alive. */
static void maybe_free(struct inode_table *t, struct inode *n)
{
	while (n != &t->root && n->nlookup == 0 && n->refs == 0) {
		struct inode *parent = n->parent;

		if (n->hashed)
			hash_remove(t, n);
		free(n->name);
		free(n);
		if (!parent)
			return;
		parent->refs--;
		n = parent;
	}
}

int inode_path(struct inode_table *t, struct inode *n, const char *name,
	       char *buf, size_t size)
{
	size_t pos = size;
	int ret = 0;

	if (size < 2)
		return -ENAMETOOLONG;
	buf[--pos] = '\0';
	pthread_mutex_lock(&t->lock);
	if (name) {
		size_t l = strlen(name);
		if (l >= pos) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		pos -= l;
		memcpy(buf + pos, name, l);
	}
	for (; n != &t->root; n = n->parent) {
		size_t l;

		if (!n->parent) {
			ret = -ENOENT; /* removed while the kernel held it */
			goto out;
		}
		l = strlen(n->name);
		if (l + 1 >= pos) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		if (pos < size - 1)
			buf[--pos] = '/';
		pos -= l;
		memcpy(buf + pos, n->name, l);
	}
	if (pos == size - 1)
		buf[--pos] = '.';
	memmove(buf, buf + pos, size - pos);
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

struct inode *inode_lookup_ref(struct inode_table *t, struct inode *parent,
			       const char *name)
{
	uint32_t h = name_hash(parent, name);
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = hash_find(t, parent, name, h);
	if (!n) {
		n = calloc(1, sizeof *n);
		if (n && !(n->name = strdup(name))) {
			free(n);
			n = NULL;
		}
		if (n) {
			n->parent = parent;
			n->hash = h;
			parent->refs++;
			maybe_grow(t);
			hash_insert(t, n);
		}
	}
	if (n)
		n->nlookup++;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void inode_forget(struct inode_table *t, struct inode *n, uint64_t nlookup)
{
	pthread_mutex_lock(&t->lock);
	n->nlookup = nlookup > n->nlookup ? 0 : n->nlookup - nlookup;
	maybe_free(t, n);
	pthread_mutex_unlock(&t->lock);
}

/* Called with the lock held: take N out of the namespace.  It keeps its
 * memory while the kernel holds it, but its path is gone. */
static void detach(struct inode_table *t, struct inode *n)
{
	struct inode *parent = n->parent;

	hash_remove(t, n);
	n->parent = NULL;
	parent->refs--;
	maybe_free(t, n);
	maybe_free(t, parent);
}

void inode_unlink(struct inode_table *t, struct inode *parent,
		  const char *name)
{
	struct inode *n;

	pthread_mutex_lock(&t->lock);
	n = hash_find(t, parent, name, name_hash(parent, name));
	if (n)
		detach(t, n);
	pthread_mutex_unlock(&t->lock);
}

/* Called with the lock held: re-key N as (np, name). */
static int move(struct inode_table *t, struct inode *n, struct inode *np,
		const char *name)
{
	char *nn = strdup(name);

	if (!nn)
		return -ENOMEM;
	hash_remove(t, n);
	free(n->name);
	n->name = nn;
	np->refs++;
	n->parent->refs--;
	/* the old parent stays alive: its refs can only reach 0 if it was
	 * otherwise unused, and the caller still holds it (kernel ref). */
	n->parent = np;
	n->hash = name_hash(np, nn);
	hash_insert(t, n);
	return 0;
}

int inode_rename(struct inode_table *t, struct inode *parent, const char *name,
		 struct inode *newparent, const char *newname, int exchange)
{
	struct inode *src, *dst;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	src = hash_find(t, parent, name, name_hash(parent, name));
	dst = hash_find(t, newparent, newname, name_hash(newparent, newname));
	if (exchange) {
		/* Move both; each one keeps its memory, only keys change. */
		if (src)
			hash_remove(t, src);
		if (dst && (r = move(t, dst, parent, name)) < 0)
			goto out;
		if (src) {
			hash_insert(t, src);
			r = move(t, src, newparent, newname);
		}
		goto out;
	}
	if (dst && dst != src)
		detach(t, dst);
	if (src)
		r = move(t, src, newparent, newname);
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}
