/* daemon: fork away from the terminal, report start-up to the parent. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "daemon.h"
#include "log.h"

int daemon_fork(void)
{
	int fds[2];
	pid_t pid;
	char status = 1;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(fds[1]);
		if (read(fds[0], &status, 1) != 1)
			status = 1;
		_exit(status);
	}
	close(fds[0]);
	setsid();
	if (chdir("/") < 0)
		return -errno;
	return fds[1];
}

void daemon_detach(void)
{
	int null = open("/dev/null", O_RDWR);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	log_use_syslog(1);
}

void daemon_report(int fd, char status)
{
	if (fd < 0)
		return;
	if (status == 0)
		daemon_detach();
	if (write(fd, &status, 1) != 1)
		log_warn("could not report start-up to the parent");
	close(fd);
}
