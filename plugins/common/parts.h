/* parts: the parts of a multipart upload an object plugin has sent (S3's
 * part ETags, Azure's block IDs), recorded from several threads at once,
 * sorted by number for the commit. */
#ifndef SCOPEFS_PARTS_H
#define SCOPEFS_PARTS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <scopefs/plugin.h>

#pragma GCC visibility push(hidden)

struct part {
	uint32_t number;
	uint64_t size;
	char id[SCOPEFS_ETAG_MAX]; /* what the commit names the part by */
};

struct parts {
	pthread_mutex_t lock; /* guards v, n, cap */
	struct part *v;
	size_t n, cap;
};

void parts_init(struct parts *p);
void parts_free(struct parts *p);
/* Record part N (replacing an earlier try of N); 0 or -ENOMEM. */
int parts_record(struct parts *p, uint32_t n, const char *id, uint64_t size);
/* Sort by number once every part has returned; the total size. */
uint64_t parts_sort(struct parts *p);

#pragma GCC visibility pop

#endif
