/* metrics_http: the Prometheus listener (`[scopefs] metrics = ADDR`) and
 * its client for `scopefs status`. */
#ifndef SCOPEFS_METRICS_HTTP_H
#define SCOPEFS_METRICS_HTTP_H

#include <stddef.h>
#include "metrics_addr.h"

/* Listen on ADDR: a non-blocking socket, or -errno with a message. */
int metrics_listen(const char *addr, char *err, size_t errlen);
/* Answer one client waiting on listening socket FD (from a poll loop):
 * GET /metrics gets the shared counters, anything else 404.  A client
 * gets 2 s to send its request; nothing blocks longer. */
void metrics_answer(int fd);

/* GET /metrics from ADDR into a malloc'd *BODY; 0 or -errno with a
 * message. */
int metrics_fetch(const char *addr, char **body, char *err, size_t errlen);

#endif
