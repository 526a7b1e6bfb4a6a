/* fstab: scopefs as mount(8)'s helper for fstab lines of type
 * fuse.scopefs (or scopefs). */
#ifndef SCOPEFS_FSTAB_H
#define SCOPEFS_FSTAB_H

#include <stddef.h>

struct fstab_req {
	const char *config; /* the line's source: a config file */
	const char *target; /* the line's mount point */
	char *opts;         /* what FUSE gets (malloc'd; "" for none) */
	int fake;           /* mount -f: do everything but mount */
	int verbose;        /* mount -v */
};

/* Is ARGV a mount(8) helper call?  Either the program is called
 * mount.scopefs / mount.fuse.scopefs, or it is called as mount.fuse3
 * calls a FUSE filesystem's program: scopefs SOURCE TARGET [-o OPTS],
 * SOURCE a path (with a '/', which no command name has). */
int fstab_is_helper_call(int argc, char **argv);

/* Parse HELPER SOURCE TARGET [-sfnvN] [-o OPTIONS] [-t TYPE], the
 * options in any order.  The fstab options that are mount(8)'s or
 * systemd's (_netdev, nofail, noauto, x-systemd.*, ...) are dropped; the
 * rest go to FUSE, with fsname=CONFIG (absolute) so that mount(8),
 * findmnt and systemd match the mount to its line.  Returns 0, or -EINVAL
 * with a message in ERR. */
int fstab_parse(int argc, char **argv, struct fstab_req *req, char *err,
		size_t errlen);
void fstab_req_free(struct fstab_req *req);

#endif
