/* freshness: how long the kernel may cache the answer being built.
 *
 * The kernel caches entries and attributes for a mount's cache_ttl, and
 * the object layer caches what the store told it for as long.  Were the
 * kernel given a full TTL for an answer the object layer took from its
 * cache, the two would stack: a change made on another machine could
 * stay unseen for up to twice cache_ttl.  So a cache in the core that
 * answers from memory notes how long its answer has left, and the FUSE
 * front end never gives the kernel more than that: whatever the kernel
 * shows is at most cache_ttl older than what the store said.
 *
 * Per thread: a FUSE worker builds one reply at a time, and every plugin
 * call a reply rests on runs on that worker. */
#ifndef SCOPEFS_FRESHNESS_H
#define SCOPEFS_FRESHNESS_H

/* Forget what earlier calls noted (the front end, before each call). */
void freshness_reset(void);
/* The answer being built is good for at most SECONDS more. */
void freshness_note(double seconds);
/* What to tell the kernel: TTL, or less if a cache noted less. */
double freshness_ttl(double ttl);

#endif
