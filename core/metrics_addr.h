/* metrics_addr: parse the metrics listener's address. */
#ifndef SCOPEFS_METRICS_ADDR_H
#define SCOPEFS_METRICS_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

/* ADDR is "HOST:PORT" (an IPv4 address, [IPv6] or localhost) or
 * "unix:/absolute/path".  Fills SA; 0, or -EINVAL with a message. */
int metrics_parse_addr(const char *addr, struct sockaddr_storage *sa,
		       socklen_t *len, char *err, size_t errlen);

#endif
