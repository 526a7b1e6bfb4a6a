/* log: one line per event, to stderr or syslog, filtered by level.
 *
 * A line is formatted whole into a local buffer and written with a single
 * call, so lines from concurrent threads never interleave (stdio locks the
 * stream for each call; syslog(3) sends one datagram).  Control characters
 * in a message become spaces: a plugin's text cannot forge extra lines. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "log.h"

#define LINE_MAX_BYTES 2048

static struct {
	atomic_int level;
	atomic_int syslog;
} log_state = { SCOPEFS_LOG_INFO, 0 };

static const char *const level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void log_set_level(int level)
{
	if (level < SCOPEFS_LOG_ERROR)
		level = SCOPEFS_LOG_ERROR;
	if (level > SCOPEFS_LOG_DEBUG)
		level = SCOPEFS_LOG_DEBUG;
	atomic_store(&log_state.level, level);
}

int log_get_level(void) { return atomic_load(&log_state.level); }

void log_use_syslog(int on)
{
	int was = atomic_exchange(&log_state.syslog, on ? 1 : 0);

	if (on && !was)
		openlog("scopefs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && was)
		closelog();
}

static int syslog_priority(int level)
{
	switch (level) {
	case SCOPEFS_LOG_ERROR: return LOG_ERR;
	case SCOPEFS_LOG_WARN: return LOG_WARNING;
	case SCOPEFS_LOG_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

static void flatten(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void log_vmsg(int level, const char *who, const char *fmt, va_list ap)
{
	char msg[LINE_MAX_BYTES], stamp[32];
	int saved = errno; /* callers log and then look at errno */
	struct timeval tv;
	struct tm tm;

	if (level > atomic_load(&log_state.level))
		return;
	if (level < SCOPEFS_LOG_ERROR)
		level = SCOPEFS_LOG_ERROR;
	vsnprintf(msg, sizeof msg, fmt, ap);
	flatten(msg);

	if (atomic_load(&log_state.syslog)) {
		/* syslog adds time, "scopefs[pid]" and the facility. */
		syslog(syslog_priority(level), "%s %s%s%s", level_names[level],
		       who ? who : "", who ? ": " : "", msg);
		errno = saved;
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld scopefs[%ld] %s %s%s%s\n", stamp,
		(long)(tv.tv_usec / 1000), (long)getpid(), level_names[level],
		who ? who : "", who ? ": " : "", msg);
	errno = saved;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, NULL, fmt, ap);
	va_end(ap);
}
