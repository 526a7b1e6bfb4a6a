/* sd_notify: tell the service manager how the daemon stands, by the
 * notify socket protocol (sd_notify(3)) written to its spec rather than
 * with libsystemd: one datagram of "KEY=VALUE" lines to the AF_UNIX socket
 * named by $NOTIFY_SOCKET (a path, or "@name" for the abstract
 * namespace).  Without $NOTIFY_SOCKET nothing is sent. */
#ifndef SCOPEFS_SD_NOTIFY_H
#define SCOPEFS_SD_NOTIFY_H

/* Send STATE ("READY=1\nSTATUS=..."); 0, or -errno (already logged). */
int sd_notify_send(const char *state);

#endif
