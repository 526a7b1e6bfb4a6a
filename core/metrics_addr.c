/* metrics_addr: the address of [scopefs] metrics, parsed.  Its own file:
 * the config parser checks the key with it and needs nothing else of
 * the listener. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include "metrics_addr.h"

int metrics_parse_addr(const char *addr, struct sockaddr_storage *sa,
		       socklen_t *len, char *err, size_t errlen)
{
	char host[256];
	const char *colon;
	char *end;
	long port;

	memset(sa, 0, sizeof *sa);
	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)sa;
		const char *path = addr + 5;
		if (path[0] != '/' || strlen(path) >= sizeof un->sun_path) {
			snprintf(err, errlen, "'%s': a unix socket needs an "
				 "absolute path shorter than %zu bytes", addr,
				 sizeof un->sun_path);
			return -EINVAL;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		*len = sizeof *un;
		return 0;
	}
	colon = strrchr(addr, ':');
	if (!colon || colon == addr ||
	    (size_t)(colon - addr) >= sizeof host) {
		snprintf(err, errlen, "'%s': expected HOST:PORT (127.0.0.1:9464) "
			 "or unix:/PATH", addr);
		return -EINVAL;
	}
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 1 || port > 65535) {
		snprintf(err, errlen, "'%s': the port must be 1 to 65535", addr);
		return -EINVAL;
	}
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
		host[strlen(host) - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			*len = sizeof *in6;
			return 0;
		}
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)sa;
		if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)port);
			*len = sizeof *in;
			return 0;
		}
	}
	snprintf(err, errlen, "'%s': the host must be an IP address "
		 "(127.0.0.1, [::1]) or localhost", addr);
	return -EINVAL;
}
