/* log: one line per event, to stderr or syslog, filtered by level. */
#ifndef SCOPEFS_LOG_H
#define SCOPEFS_LOG_H

#include <stdarg.h>
#include <scopefs/plugin.h>

void log_set_level(int level);
int log_get_level(void);
/* Send lines to syslog (after daemonizing) instead of stderr. */
void log_use_syslog(int on);
void log_msg(int level, const char *fmt, ...) SCOPEFS_PRINTF(2, 3);
void log_vmsg(int level, const char *who, const char *fmt, va_list ap);

#define log_error(...) log_msg(SCOPEFS_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(SCOPEFS_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(SCOPEFS_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(SCOPEFS_LOG_DEBUG, __VA_ARGS__)

#endif
