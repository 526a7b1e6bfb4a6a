/* freshness: see freshness.h. */
#include "freshness.h"

/* < 0: nothing noted since the last reset. */
static _Thread_local double left = -1;

void freshness_reset(void)
{
	left = -1;
}

void freshness_note(double seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (left < 0 || seconds < left)
		left = seconds;
}

double freshness_ttl(double ttl)
{
	return left >= 0 && left < ttl ? left : ttl;
}
