/*
 * nfs_path: the paths the plugin hands libnfs, and libnfs's attributes as
 * struct stat.  A path from the core ("a/b", or "." for the root) becomes
 * "/a/b" relative to the mount's root, which libnfs resolves from the
 * prefix directory the pool mounted (nfs.h).
 */
#include "nfs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <nfsc/libnfs.h>

int nfsp_names_ok(const char *s)
{
	const char *p = s;

	if (!s)
		return -EINVAL;
	if (!*s)
		return 0;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		p += n;
		if (*p == '\0')
			return 0;
		p++;
	}
}

int nfsp_path(const char *path, char out[NFSP_PATH_MAX])
{
	size_t n;

	if (!path || !*path)
		return -EINVAL;
	if (strcmp(path, ".") == 0) {
		strcpy(out, "/");
		return 0;
	}
	if (nfsp_names_ok(path) < 0)
		return -EINVAL;
	if ((n = strlen(path)) + 2 > NFSP_PATH_MAX)
		return -ENAMETOOLONG;
	out[0] = '/';
	memcpy(out + 1, path, n + 1);
	return 0;
}

void nfsp_stat(const struct nfs_stat_64 *in, struct stat *out)
{
	memset(out, 0, sizeof *out);
	out->st_dev = (dev_t)in->nfs_dev;
	out->st_ino = (ino_t)in->nfs_ino;
	out->st_mode = (mode_t)in->nfs_mode;
	out->st_nlink = (nlink_t)in->nfs_nlink;
	out->st_uid = (uid_t)in->nfs_uid;
	out->st_gid = (gid_t)in->nfs_gid;
	out->st_rdev = (dev_t)in->nfs_rdev;
	out->st_size = (off_t)in->nfs_size;
	out->st_blksize = (blksize_t)in->nfs_blksize;
	out->st_blocks = (blkcnt_t)in->nfs_blocks;
	out->st_atim.tv_sec = (time_t)in->nfs_atime;
	out->st_atim.tv_nsec = (long)in->nfs_atime_nsec;
	out->st_mtim.tv_sec = (time_t)in->nfs_mtime;
	out->st_mtim.tv_nsec = (long)in->nfs_mtime_nsec;
	out->st_ctim.tv_sec = (time_t)in->nfs_ctime;
	out->st_ctim.tv_nsec = (long)in->nfs_ctime_nsec;
}
