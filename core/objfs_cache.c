/* objfs_cache: attributes, entries and negative entries by path, each
 * valid for the mount's TTL, plus "this directory was listed in full". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "objfs_internal.h"

/* Past this many entries, expired ones are swept before inserting. */
enum { CACHE_SWEEP_AT = 200000 };

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

int cache_init(struct cache *c)
{
	memset(c, 0, sizeof *c);
	c->nb = 4096;
	if (!(c->b = calloc(c->nb, sizeof *c->b)))
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	return 0;
}

static void free_entry(struct centry *e)
{
	free(e->path);
	free(e);
}

void cache_destroy(struct cache *c)
{
	for (size_t i = 0; i < c->nb; i++)
		for (struct centry *e = c->b[i], *n; e; e = n) {
			n = e->next;
			free_entry(e);
		}
	free(c->b);
	pthread_mutex_destroy(&c->lock);
}

static struct centry **find(struct cache *c, const char *path, uint32_t h)
{
	struct centry **pp = &c->b[h & (c->nb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->path, path) == 0)
			break;
	return pp;
}

static void sweep(struct cache *c, double now)
{
	for (size_t i = 0; i < c->nb; i++) {
		struct centry **pp = &c->b[i];

		while (*pp) {
			struct centry *e = *pp;
			if (e->expires <= now && e->listed_until <= now) {
				*pp = e->next;
				free_entry(e);
				c->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static int lookup(struct cache *c, const char *path, struct centry *out,
		  int fresh_only)
{
	int found = 0;
	double now = now_mono();
	struct centry *e;

	pthread_mutex_lock(&c->lock);
	e = *find(c, path, hash_str(path));
	if (e && (e->expires > now || !fresh_only)) {
		*out = *e;
		out->path = NULL;
		out->next = NULL;
		found = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

int cache_get(struct cache *c, const char *path, struct centry *out)
{
	return lookup(c, path, out, 1);
}

int cache_peek(struct cache *c, const char *path, struct centry *out)
{
	return lookup(c, path, out, 0);
}

static struct centry *get_or_add(struct cache *c, const char *path)
{
	uint32_t h = hash_str(path);
	struct centry **pp = find(c, path, h), *e = *pp;

	if (e)
		return e;
	if (c->count >= CACHE_SWEEP_AT)
		sweep(c, now_mono());
	if (!(e = calloc(1, sizeof *e)) || !(e->path = strdup(path))) {
		free(e);
		return NULL;
	}
	e->hash = h;
	pp = &c->b[h & (c->nb - 1)];
	e->next = *pp;
	*pp = e;
	c->count++;
	return e;
}

void cache_put(struct cache *c, const char *path, int exists,
	       const struct stat *st, const char *etag, double ttl,
	       int from_list)
{
	struct centry *e;

	if (ttl <= 0)
		return;
	pthread_mutex_lock(&c->lock);
	if ((e = get_or_add(c, path))) {
		e->exists = exists;
		if (st)
			e->st = *st;
		snprintf(e->etag, sizeof e->etag, "%s", etag ? etag : "");
		e->expires = now_mono() + ttl;
		e->ttl = ttl;
		e->by_head = 0;
		e->from_list = from_list;
		if (!exists)
			e->listed_until = 0;
	}
	pthread_mutex_unlock(&c->lock);
}

void cache_set_listed(struct cache *c, const char *path, double since,
		      double ttl, int small)
{
	struct centry *e;

	if (ttl <= 0)
		return;
	pthread_mutex_lock(&c->lock);
	e = *find(c, path, hash_str(path));
	/* Counted from before the listing began, so the flag never outlives
	 * the children's own entries (which all expire later). */
	if (e && e->exists && S_ISDIR(e->st.st_mode)) {
		e->listed_until = since + ttl;
		e->small = small;
	}
	pthread_mutex_unlock(&c->lock);
}

/* The parent of "a/b/c" is "a/b"; of "c" it is ".". */
static void parent_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, size, ".");
	else
		snprintf(out, size, "%.*s", (int)(slash - path), path);
}

int cache_parent_small(struct cache *c, const char *path, char *parent,
		       size_t size)
{
	struct centry *e;
	int small;

	parent_of(path, parent, size);
	pthread_mutex_lock(&c->lock);
	e = *find(c, parent, hash_str(parent));
	small = e && e->exists && e->small;
	pthread_mutex_unlock(&c->lock);
	return small;
}

double cache_parent_listed(struct cache *c, const char *path)
{
	char parent[PATH_MAX];
	struct centry *e;
	double left = 0, now = now_mono();

	parent_of(path, parent, sizeof parent);
	pthread_mutex_lock(&c->lock);
	e = *find(c, parent, hash_str(parent));
	if (e && e->listed_until > now)
		left = e->listed_until - now;
	pthread_mutex_unlock(&c->lock);
	return left;
}

int cache_take_head(struct cache *c, const char *path, double within,
		    struct centry *out)
{
	struct centry *e;
	int taken = 0;

	pthread_mutex_lock(&c->lock);
	e = *find(c, path, hash_str(path));
	if (e && e->by_head && e->exists &&
	    e->expires - now_mono() > e->ttl - within) {
		*out = *e;
		out->next = NULL;
		out->path = NULL;
		e->by_head = 0;
		taken = 1;
	}
	pthread_mutex_unlock(&c->lock);
	return taken;
}

void cache_mark_head(struct cache *c, const char *path)
{
	struct centry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = *find(c, path, hash_str(path))))
		e->by_head = 1;
	pthread_mutex_unlock(&c->lock);
}

void cache_unlist_parent(struct cache *c, const char *path)
{
	char parent[PATH_MAX];
	struct centry *e;

	parent_of(path, parent, sizeof parent);
	pthread_mutex_lock(&c->lock);
	e = *find(c, parent, hash_str(parent));
	if (e)
		e->listed_until = 0;
	pthread_mutex_unlock(&c->lock);
}

void cache_set_etag(struct cache *c, const char *path, const char *etag)
{
	struct centry *e;

	pthread_mutex_lock(&c->lock);
	if ((e = *find(c, path, hash_str(path))))
		snprintf(e->etag, sizeof e->etag, "%s", etag ? etag : "");
	pthread_mutex_unlock(&c->lock);
}

void cache_drop(struct cache *c, const char *path)
{
	struct centry **pp, *e;

	pthread_mutex_lock(&c->lock);
	pp = find(c, path, hash_str(path));
	if ((e = *pp)) {
		*pp = e->next;
		free_entry(e);
		c->count--;
	}
	pthread_mutex_unlock(&c->lock);
	/* With the entry gone, a listed parent would answer ENOENT. */
	cache_unlist_parent(c, path);
}

void cache_drop_tree(struct cache *c, const char *path)
{
	size_t l = strlen(path);

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nb; i++) {
		struct centry **pp = &c->b[i];

		while (*pp) {
			struct centry *e = *pp;
			if (strcmp(path, ".") == 0 ||
			    (strncmp(e->path, path, l) == 0 &&
			     (e->path[l] == '\0' || e->path[l] == '/'))) {
				*pp = e->next;
				free_entry(e);
				c->count--;
			} else {
				pp = &e->next;
			}
		}
	}
	pthread_mutex_unlock(&c->lock);
}

void cache_move_tree(struct cache *c, const char *from, const char *to)
{
	size_t fl = strlen(from);
	struct centry *moved = NULL;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nb; i++) {
		struct centry **pp = &c->b[i];

		while (*pp) {
			struct centry *e = *pp;
			char *np;

			if (strncmp(e->path, from, fl) != 0 ||
			    e->path[fl] != '/' ||
			    asprintf(&np, "%s%s", to, e->path + fl) < 0) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			free(e->path);
			e->path = np;
			e->hash = hash_str(np);
			e->next = moved;
			moved = e;
		}
	}
	while (moved) {
		struct centry *e = moved, **pp;

		moved = e->next;
		pp = find(c, e->path, e->hash);
		if (*pp) { /* an entry there already: the moved one wins */
			struct centry *old = *pp;
			*pp = old->next;
			free_entry(old);
			c->count--;
		}
		pp = &c->b[e->hash & (c->nb - 1)];
		e->next = *pp;
		*pp = e;
	}
	pthread_mutex_unlock(&c->lock);
}
