/* inode: nodes, their names and their open handles, for the low-level
 * FUSE front end.  One mutex guards the whole table; every operation on
 * it is short. */
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

static size_t bino_slot(const struct inode_table *t, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)ino * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)dev;

	return (size_t)(h ^ (h >> 29)) & (t->nbbuckets - 1);
}

int inode_table_init(struct inode_table *t)
{
	memset(t, 0, sizeof *t);
	t->nbuckets = 1024;
	t->nbbuckets = 1024;
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	t->bbuckets = calloc(t->nbbuckets, sizeof *t->bbuckets);
	if (!t->buckets || !t->bbuckets) {
		free(t->buckets);
		free(t->bbuckets);
		return -ENOMEM;
	}
	t->root.nlookup = 1;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

static void free_node(struct inode_table *t, struct inode *n)
{
	if (n->all_prev)
		n->all_prev->all_next = n->all_next;
	if (n->all_next)
		n->all_next->all_prev = n->all_prev;
	if (t->root.all_next == n)
		t->root.all_next = n->all_next;
	free(n->open);
	free(n);
}

static struct inode *new_node(struct inode_table *t)
{
	struct inode *n = calloc(1, sizeof *n);

	if (n) {
		n->all_prev = &t->root;
		n->all_next = t->root.all_next;
		if (n->all_next)
			n->all_next->all_prev = n;
		t->root.all_next = n;
	}
	return n;
}

void inode_table_destroy(struct inode_table *t)
{
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct dentry *d = t->buckets[i], *next; d; d = next) {
			next = d->hnext;
			free(d->name);
			free(d);
		}
	for (struct inode *n = t->root.all_next, *next; n; n = next) {
		next = n->all_next;
		free(n->open);
		free(n);
	}
	free(t->buckets);
	free(t->bbuckets);
	free(t->root.open);
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

/* ---- the (parent, name) hash ---- */

static struct dentry *d_find(struct inode_table *t, struct inode *parent,
			     const char *name)
{
	uint32_t h = name_hash(parent, name);
	struct dentry *d = t->buckets[h & (t->nbuckets - 1)];

	for (; d; d = d->hnext)
		if (d->hash == h && d->parent == parent &&
		    strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static void d_hash(struct inode_table *t, struct dentry *d)
{
	struct dentry **b;

	d->hash = name_hash(d->parent, d->name);
	b = &t->buckets[d->hash & (t->nbuckets - 1)];
	d->hnext = *b;
	*b = d;
	t->count++;
}

static void d_unhash(struct inode_table *t, struct dentry *d)
{
	struct dentry **pp = &t->buckets[d->hash & (t->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			t->count--;
			return;
		}
}

/* Grow the table when crowded; on allocation failure keep going with
 * longer chains. */
static void maybe_grow(struct inode_table *t)
{
	size_t nb = t->nbuckets * 4;
	struct dentry **b;

	if (t->count < t->nbuckets * 2 || !(b = calloc(nb, sizeof *b)))
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (struct dentry *d = t->buckets[i], *next; d; d = next) {
			next = d->hnext;
			d->hnext = b[d->hash & (nb - 1)];
			b[d->hash & (nb - 1)] = d;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = nb;
}

/* ---- the (dev, ino) hash of nodes that have stable numbers ---- */

static struct inode *b_find(struct inode_table *t, dev_t dev, ino_t ino)
{
	struct inode *n = t->bbuckets[bino_slot(t, dev, ino)];

	for (; n; n = n->bnext)
		if (n->bino == ino && n->bdev == dev)
			return n;
	return NULL;
}

static void b_remove(struct inode_table *t, struct inode *n)
{
	struct inode **pp;

	if (!n->has_bino)
		return;
	for (pp = &t->bbuckets[bino_slot(t, n->bdev, n->bino)]; *pp;
	     pp = &(*pp)->bnext)
		if (*pp == n) {
			*pp = n->bnext;
			break;
		}
	n->has_bino = 0;
}

static void b_insert(struct inode_table *t, struct inode *n, dev_t dev,
		     ino_t ino)
{
	size_t s = bino_slot(t, dev, ino);

	n->bdev = dev;
	n->bino = ino;
	n->has_bino = 1;
	n->bnext = t->bbuckets[s];
	t->bbuckets[s] = n;
}

/* ---- life cycle ---- */

static void maybe_free(struct inode_table *t, struct inode *n);

/* Remove dentry D (its name is gone) and free what it kept alive. */
static void d_drop(struct inode_table *t, struct dentry *d)
{
	struct inode *n = d->node, *parent = d->parent;
	struct dentry **pp;

	d_unhash(t, d);
	for (pp = &n->aliases; *pp; pp = &(*pp)->next_alias)
		if (*pp == d) {
			*pp = d->next_alias;
			break;
		}
	free(d->name);
	free(d);
	parent->children--;
	/* Nameless now: its number is the filesystem's to give to the next
	 * new file, which must get a node (and a kernel inode) of its own. */
	if (!n->aliases)
		b_remove(t, n);
	maybe_free(t, n);
	maybe_free(t, parent);
}

/* Free N when neither the kernel nor a child needs it.  Its remaining
 * names go with it (the kernel forgot it, so it can look them up anew). */
static void maybe_free(struct inode_table *t, struct inode *n)
{
	if (n == &t->root || n->nlookup || n->children || n->nopen)
		return;
	b_remove(t, n);
	n->nopen = 1; /* keeps recursion through d_drop from freeing twice */
	while (n->aliases)
		d_drop(t, n->aliases);
	free_node(t, n);
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
	while (n != &t->root) {
		struct dentry *d = n->aliases;
		size_t l;

		if (!d) {
			ret = -ENOENT; /* removed while the kernel held it */
			goto out;
		}
		l = strlen(d->name);
		if (l + 1 >= pos) {
			ret = -ENAMETOOLONG;
			goto out;
		}
		if (pos < size - 1)
			buf[--pos] = '/';
		pos -= l;
		memcpy(buf + pos, d->name, l);
		n = d->parent;
	}
	if (pos == size - 1)
		buf[--pos] = '.';
	memmove(buf, buf + pos, size - pos);
out:
	pthread_mutex_unlock(&t->lock);
	return ret;
}

static struct dentry *d_new(struct inode_table *t, struct inode *parent,
			    const char *name, struct inode *n)
{
	struct dentry *d = calloc(1, sizeof *d);

	if (!d || !(d->name = strdup(name))) {
		free(d);
		return NULL;
	}
	d->parent = parent;
	d->node = n;
	d->next_alias = n->aliases;
	n->aliases = d;
	parent->children++;
	maybe_grow(t);
	d_hash(t, d);
	return d;
}

struct inode *inode_lookup_ref(struct inode_table *t, struct inode *parent,
			       const char *name, int stable, dev_t dev,
			       ino_t ino)
{
	struct dentry *d;
	struct inode *n = NULL;

	pthread_mutex_lock(&t->lock);
	d = d_find(t, parent, name);
	if (d && stable && d->node->has_bino &&
	    (d->node->bino != ino || d->node->bdev != dev)) {
		/* Another file took this name behind our back. */
		n = d->node;
		n->nlookup++; /* keep it while its name goes */
		d_drop(t, d);
		n->nlookup--;
		maybe_free(t, n);
		d = NULL;
		n = NULL;
	}
	if (d) {
		n = d->node;
	} else {
		if (stable)
			n = b_find(t, dev, ino);
		if (!n) {
			if (!(n = new_node(t)))
				goto out;
			if (stable)
				b_insert(t, n, dev, ino);
		}
		if (!d_new(t, parent, name, n)) {
			if (!n->aliases && !n->nlookup && !n->nopen) {
				b_remove(t, n);
				free_node(t, n);
			}
			n = NULL;
			goto out;
		}
	}
	n->nlookup++;
out:
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

void inode_unlink(struct inode_table *t, struct inode *parent,
		  const char *name)
{
	struct dentry *d;

	pthread_mutex_lock(&t->lock);
	if ((d = d_find(t, parent, name)))
		d_drop(t, d);
	pthread_mutex_unlock(&t->lock);
}

/* Re-key D as (np, name), keeping its node.  Called with the lock held. */
static int d_move(struct inode_table *t, struct dentry *d, struct inode *np,
		  const char *name)
{
	char *nn = strdup(name);
	struct inode *old = d->parent;

	if (!nn)
		return -ENOMEM;
	d_unhash(t, d);
	free(d->name);
	d->name = nn;
	np->children++;
	d->parent = np;
	d_hash(t, d);
	old->children--;
	maybe_free(t, old);
	return 0;
}

int inode_rename(struct inode_table *t, struct inode *parent, const char *name,
		 struct inode *newparent, const char *newname, int exchange)
{
	struct dentry *src, *dst;
	int r = 0;

	pthread_mutex_lock(&t->lock);
	/* Hold both parents: moves may drop their last child. */
	parent->children++;
	newparent->children++;
	src = d_find(t, parent, name);
	dst = d_find(t, newparent, newname);
	if (exchange) {
		if (src)
			d_unhash(t, src), t->count++;
		if (dst && (r = d_move(t, dst, parent, name)) < 0)
			goto out;
		if (src) {
			d_hash(t, src), t->count--;
			r = d_move(t, src, newparent, newname);
		}
		goto out;
	}
	if (dst && dst != src)
		d_drop(t, dst);
	if (src && src != dst)
		r = d_move(t, src, newparent, newname);
out:
	parent->children--;
	newparent->children--;
	maybe_free(t, parent);
	maybe_free(t, newparent);
	pthread_mutex_unlock(&t->lock);
	return r;
}

int inode_open_add(struct inode_table *t, struct inode *n, void *h)
{
	int r = 0;

	pthread_mutex_lock(&t->lock);
	if (n->nopen == n->capopen) {
		size_t cap = n->capopen ? n->capopen * 2 : 2;
		void **o = realloc(n->open, cap * sizeof *o);
		if (!o) {
			r = -ENOMEM;
			goto out;
		}
		n->open = o;
		n->capopen = cap;
	}
	n->open[n->nopen++] = h;
out:
	pthread_mutex_unlock(&t->lock);
	return r;
}

void inode_open_del(struct inode_table *t, struct inode *n, void *h)
{
	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i < n->nopen; i++)
		if (n->open[i] == h) {
			n->open[i] = n->open[--n->nopen];
			break;
		}
	maybe_free(t, n);
	pthread_mutex_unlock(&t->lock);
}

void *inode_open_any(struct inode_table *t, struct inode *n)
{
	void *h;

	pthread_mutex_lock(&t->lock);
	h = n->nopen ? n->open[0] : NULL;
	pthread_mutex_unlock(&t->lock);
	return h;
}

void inode_drain_open(struct inode_table *t, void (*fn)(void *h, void *ctx),
		      void *ctx)
{
	for (struct inode *n = &t->root; n; n = n->all_next) {
		while (n->nopen)
			fn(n->open[--n->nopen], ctx);
	}
}
