/* parts: a multipart upload's parts (see parts.h). */
#include "parts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void parts_init(struct parts *p)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
}

void parts_free(struct parts *p)
{
	pthread_mutex_destroy(&p->lock);
	free(p->v);
	memset(p, 0, sizeof *p);
}

int parts_record(struct parts *p, uint32_t n, const char *id, uint64_t size)
{
	struct part *q = NULL;
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n && !q; i++)
		if (p->v[i].number == n)
			q = &p->v[i]; /* a retried part replaces */
	if (!q && p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct part *v = realloc(p->v, cap * sizeof *v);
		if (!v)
			rc = -ENOMEM;
		else {
			p->v = v;
			p->cap = cap;
		}
	}
	if (rc == 0) {
		if (!q)
			q = &p->v[p->n++];
		q->number = n;
		q->size = size;
		snprintf(q->id, sizeof q->id, "%s", id);
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static int cmp_part(const void *a, const void *b)
{
	const struct part *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

uint64_t parts_sort(struct parts *p)
{
	uint64_t size = 0;

	if (p->n)
		qsort(p->v, p->n, sizeof *p->v, cmp_part);
	for (size_t i = 0; i < p->n; i++)
		size += p->v[i].size;
	return size;
}
