/* objfs_pool: the worker threads that upload parts and fetch readahead
 * ranges, and the byte budget that bounds their buffers. */
#include <errno.h>
#include <stdlib.h>
#include "objfs_internal.h"

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *j;

		while (!p->head && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (!p->head)
			break; /* stopping and nothing left to do */
		j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		j->fn(j);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int pool_start(struct pool *p, unsigned nthreads, uint64_t budget)
{
	p->head = p->tail = NULL;
	p->stop = 0;
	p->budget = budget;
	p->used = 0;
	p->nthreads = 0;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->budget_cond, NULL);
	if (!(p->threads = calloc(nthreads, sizeof *p->threads)))
		return -ENOMEM;
	for (; p->nthreads < nthreads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p)) {
			pool_stop(p);
			return -EAGAIN;
		}
	return 0;
}

void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->budget_cond);
	pthread_mutex_destroy(&p->lock);
}

void pool_submit(struct pool *p, struct job *j)
{
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int budget_take(struct pool *p, uint64_t n, int wait)
{
	int ok = 0;

	pthread_mutex_lock(&p->lock);
	/* One request bigger than the whole budget still gets through
	 * alone, so a large part size can never deadlock. */
	while (p->used && p->used + n > p->budget && wait)
		pthread_cond_wait(&p->budget_cond, &p->lock);
	if (!p->used || p->used + n <= p->budget) {
		p->used += n;
		ok = 1;
		if (p->used_gauge)
			__atomic_store_n(p->used_gauge, (int64_t)p->used,
					 __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&p->lock);
	return ok;
}

void budget_give(struct pool *p, uint64_t n)
{
	pthread_mutex_lock(&p->lock);
	p->used -= n;
	if (p->used_gauge)
		__atomic_store_n(p->used_gauge, (int64_t)p->used,
				 __ATOMIC_RELAXED);
	pthread_cond_broadcast(&p->budget_cond);
	pthread_mutex_unlock(&p->lock);
}
