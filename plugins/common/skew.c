/* skew: see skew.h. */
#include "skew.h"

#include <stdlib.h>

time_t skew_now(const struct skew *s)
{
	return time(NULL) + (time_t)s->offset_s;
}

int skew_learn(struct skew *s, const struct scopefs_host *h,
	       const char *label, const struct http_response *resp,
	       long min_s)
{
	time_t theirs = http_parse_date(http_header(resp, "date"));
	time_t ours = time(NULL);
	long long off, diff;

	if (theirs == (time_t)-1)
		return 0;
	off = (long long)theirs - (long long)ours;
	diff = off - s->offset_s;
	if (llabs(diff) < min_s)
		return 0;
	s->offset_s = off;
	h->log(h, SCOPEFS_LOG_WARN,
	       "%s: the store refused a request for its time: its clock is "
	       "%+lld s from this machine's; signing with the store's time "
	       "from now on (this machine's clock wants NTP)",
	       label, off);
	return 1;
}
