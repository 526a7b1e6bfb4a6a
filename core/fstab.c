/* fstab: the mount(8) helper convention.  mount(8) runs
 * /sbin/mount.TYPE SOURCE TARGET [-sfnvN] [-o OPTIONS] [-t TYPE] for a
 * line of type TYPE; for fuse.scopefs it looks for mount.fuse.scopefs,
 * and mount.fuse3 (when that is missing) runs scopefs SOURCE TARGET -o
 * OPTIONS.  All three forms end in `scopefs mount --only TARGET SOURCE`. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fstab.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

int fstab_is_helper_call(int argc, char **argv)
{
	const char *me = argc > 0 ? base_name(argv[0]) : "";

	if (strncmp(me, "mount.", 6) == 0)
		return 1;
	/* mount.fuse3's form: a config file's path, then an absolute mount
	 * point (no command name has a '/'). */
	return argc >= 3 && argv[1][0] != '-' && strchr(argv[1], '/') &&
	       argv[2][0] == '/';
}

/* mount(8)'s and systemd's own options: meaningless to FUSE, which
 * refuses what it does not know. */
static int not_for_fuse(const char *o, size_t n)
{
	static const char *const words[] = {
		"defaults", "auto", "noauto", "user", "nouser", "users",
		"owner", "group", "_netdev", "nofail", "loop", NULL,
	};
	static const char *const prefixes[] = {
		"x-", "comment=", "user=", "helper=", "uhelper=", NULL,
	};

	for (int i = 0; words[i]; i++)
		if (strlen(words[i]) == n && strncmp(o, words[i], n) == 0)
			return 1;
	for (int i = 0; prefixes[i]; i++)
		if (strncmp(o, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

/* Append the FUSE options of the comma-separated list S to *OUT. */
static int add_opts(char **out, const char *s, int *has_fsname)
{
	while (*s) {
		size_t n = strcspn(s, ",");
		if (n && !not_for_fuse(s, n)) {
			size_t l = strlen(*out);
			char *p = realloc(*out, l + n + 2);
			if (!p)
				return -ENOMEM;
			*out = p;
			if (l)
				p[l++] = ',';
			memcpy(p + l, s, n);
			p[l + n] = '\0';
			if (strncmp(s, "fsname=", 7) == 0)
				*has_fsname = 1;
		}
		s += n;
		if (*s == ',')
			s++;
	}
	return 0;
}

int fstab_parse(int argc, char **argv, struct fstab_req *req, char *err,
		size_t errlen)
{
	const char *pos[2] = { NULL, NULL };
	int npos = 0, has_fsname = 0, r = 0;
	char real[PATH_MAX];

	memset(req, 0, sizeof *req);
	if (!(req->opts = calloc(1, 1)))
		return -ENOMEM;
	for (int i = 1; i < argc && r == 0; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] == '\0') {
			if (npos == 2) {
				snprintf(err, errlen, "unexpected argument "
					 "'%s' (SOURCE TARGET [-o OPTIONS])", a);
				r = -EINVAL;
			} else {
				pos[npos++] = a;
			}
			continue;
		}
		/* -o and -t take a value, attached or next; the others are
		 * flags, which mount(8) may also bundle (-nv). */
		for (const char *f = a + 1; *f && r == 0; f++) {
			if (*f == 'o' || *f == 't') {
				const char *v = f[1] ? f + 1 : argv[++i];
				if (i >= argc || !v) {
					snprintf(err, errlen, "-%c needs a "
						 "value", *f);
					r = -EINVAL;
				} else if (*f == 'o') {
					r = add_opts(&req->opts, v,
						     &has_fsname);
				}
				break;
			}
			if (*f == 'f')
				req->fake = 1;
			else if (*f == 'v')
				req->verbose = 1;
			else if (*f != 's' && *f != 'n' && *f != 'N') {
				snprintf(err, errlen, "unknown option -%c",
					 *f);
				r = -EINVAL;
			}
		}
	}
	if (r == 0 && npos != 2) {
		snprintf(err, errlen, "needs SOURCE (a scopefs config file) "
			 "and TARGET (a mount point)");
		r = -EINVAL;
	}
	if (r == 0 && !realpath(pos[0], real)) {
		snprintf(err, errlen, "%s: %s", pos[0], strerror(errno));
		r = -EINVAL;
	}
	if (r == 0 && !has_fsname) {
		/* fsname is one mount option: a comma would split it. */
		char *o = NULL;
		if (strchr(real, ',')) {
			snprintf(err, errlen, "%s: a config path with a comma "
				 "cannot be a mount source", real);
			r = -EINVAL;
		} else if (asprintf(&o, "%s%sfsname=%s", req->opts,
				    *req->opts ? "," : "", real) < 0) {
			r = -ENOMEM;
		} else {
			free(req->opts);
			req->opts = o;
		}
	}
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		fstab_req_free(req);
		return r == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	req->config = pos[0];
	req->target = pos[1];
	return 0;
}

void fstab_req_free(struct fstab_req *req)
{
	free(req->opts);
	req->opts = NULL;
}
