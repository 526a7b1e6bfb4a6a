/* daemon: leave the terminal without -f, and tell the waiting parent
 * whether every mount came up. */
#ifndef SCOPEFS_DAEMON_H
#define SCOPEFS_DAEMON_H

/* Fork; the parent waits until the child reports on the returned fd
 * (daemon_report) and exits with the status it reports (1 if the child
 * dies first).  The child, in a session of its own, gets the fd; -errno
 * on failure. */
int daemon_fork(void);
/* Report STATUS (0: serving) on FD (nothing when fd < 0) and close it.
 * On 0, also daemon_detach(). */
void daemon_report(int fd, char status);
/* Point stdin, stdout and stderr at /dev/null and log to syslog. */
void daemon_detach(void);

#endif
