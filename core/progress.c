/* progress: the status line of long listings (see the header). */
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#include "progress.h"

enum { FIRST_AFTER = 2, TTY_EVERY = 1, LOG_EVERY = 30 };

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, FILE *f)
{
	p->f = f;
	p->tty = isatty(fileno(f));
	p->shown = 0;
	p->start = now_s();
	p->last = p->start;
}

void progress_note(struct progress *p, const char *fmt, ...)
{
	double t = now_s();
	va_list ap;

	if (t - p->start < FIRST_AFTER ||
	    t - p->last < (p->tty ? TTY_EVERY : LOG_EVERY))
		return;
	p->last = t;
	fputs(p->tty ? "\r" : "scopefs: ", p->f);
	va_start(ap, fmt);
	vfprintf(p->f, fmt, ap);
	va_end(ap);
	/* erase what a longer line before left on the terminal */
	fputs(p->tty ? "\033[K" : "\n", p->f);
	fflush(p->f);
	p->shown = p->tty;
}

void progress_clear(struct progress *p)
{
	if (!p->shown)
		return;
	fputs("\r\033[K", p->f);
	fflush(p->f);
	p->shown = 0;
}
