/* skew: the store's clock, for the time a signature carries.
 *
 * A signed request states when it was made (S3's x-amz-date, Azure's
 * x-ms-date), and a store refuses one too far from its own clock (S3 and
 * Azure: 15 minutes; S3 says RequestTimeTooSkewed).  A VM whose clock
 * drifted would then fail every request until someone fixed it.  Instead,
 * when the store refuses a request for its time, the plugin learns the
 * store's clock from the answer's Date header, signs with it from then
 * on, and sends the request once more. */
#ifndef SCOPEFS_SKEW_H
#define SCOPEFS_SKEW_H

#include <time.h>
#include <scopefs/plugin.h>

#include "http.h"

#pragma GCC visibility push(hidden)

struct skew {
	_Atomic long long offset_s; /* store's clock - ours; 0 to begin */
};

/* The store's time as far as we know: time(NULL) + the offset. */
time_t skew_now(const struct skew *s);

/* From the answer to a refused request: if its Date header is at least
 * MIN_S seconds from skew_now(), adopt the store's clock (logged, naming
 * LABEL) and return 1, worth signing again; else 0 (no Date, or close
 * enough: the refusal was not about time). */
int skew_learn(struct skew *s, const struct scopefs_host *h,
	       const char *label, const struct http_response *resp,
	       long min_s);

#pragma GCC visibility pop

#endif
