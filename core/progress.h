/* progress: one status line on stderr while a long listing runs, so that
 * `scopefs usage` on a bucket of millions of objects is visibly alive.
 * On a terminal the line is redrawn in place (\r) at most once a second,
 * from the second second on, and erased at the end; otherwise (a log, a
 * pipe) a plain line every 30 s, so that logs stay short. */
#ifndef SCOPEFS_PROGRESS_H
#define SCOPEFS_PROGRESS_H

#include <stdio.h>

struct progress {
	FILE *f;
	int tty;
	int shown;     /* a \r line is on the terminal */
	double start, last;
};

void progress_init(struct progress *p, FILE *f);
/* Show the line (printf-style) if it is time; cheap when it is not. */
void progress_note(struct progress *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Erase the line before other output goes to the terminal. */
void progress_clear(struct progress *p);

#endif
