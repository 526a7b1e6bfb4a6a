/* sd_notify: the notify socket protocol (see sd_notify.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "log.h"
#include "sd_notify.h"

int sd_notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n, len;
	int fd, r = 0;

	if (!path || !path[0])
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path) {
		log_warn("NOTIFY_SOCKET '%s' is not a socket path; the service "
			 "manager is not told that scopefs is ready", path);
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract: not NUL-terminated */
	len = offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/');
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    sendto(fd, state, strlen(state), MSG_NOSIGNAL,
		   (struct sockaddr *)&sa, (socklen_t)len) < 0) {
		r = -errno;
		log_warn("cannot notify the service manager at %s: %s", path,
			 strerror(-r));
	}
	if (fd >= 0)
		close(fd);
	return r;
}
