/*
 * local_path: from a path relative to the mount to something the *at
 * system calls can act on, without ever leaving the mount's directory.
 *
 * A path of one component (most of them, and the cheapest case) needs no
 * resolution at all: the mount's root fd is its parent.  A nested path has
 * its parent opened with one openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * call, which fails with EXDEV instead of leaving the root, even through a
 * symlink or a concurrent rename.  Kernels without openat2 (before 5.6, or
 * under a seccomp filter that hides it) get a component-by-component walk
 * that refuses every symlink on the way.
 */
#include "local.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#define RESOLVE_MOUNT (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
/* openat2 answers EAGAIN when a rename raced with resolving ".." inside a
 * symlink's target; such a race is retried this many times. */
#define OPENAT2_TRIES 8

int local_path_check(const char *path)
{
	const char *p = path;

	if (!path)
		return -EINVAL;
	if (strcmp(path, ".") == 0)
		return 0;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		p += n;
		if (*p == '\0')
			break;
		p++;
	}
	return p - path < PATH_MAX ? 0 : -ENAMETOOLONG;
}

static int openat2_beneath(int dirfd, const char *path, int flags,
			   mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned int)flags,
		.mode = (flags & O_CREAT) ? (mode & 07777) : 0,
		.resolve = RESOLVE_MOUNT,
	};
	int fd;

	for (int i = 0; i < OPENAT2_TRIES; i++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EINTR)
			break;
	}
	return -errno;
}

int local_open_subdir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name,
			O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The walk for kernels without openat2: DIR (modified in place) is
 * opened one component at a time, none of them followed if a symlink. */
static int walk_beneath(int root, char *dir)
{
	int fd = root;
	char *save = NULL;

	for (char *c = strtok_r(dir, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		int next = local_open_subdir(fd, c);

		if (fd != root)
			close(fd);
		if (next < 0)
			return next;
		fd = next;
	}
	return fd;
}

/* Open the directory PATH[0..len) beneath the mount as an O_PATH fd. */
static int open_parent(struct local_mount *m, const char *path, size_t len)
{
	char dir[PATH_MAX];

	memcpy(dir, path, len);
	dir[len] = '\0';
	if (m->has_openat2)
		return openat2_beneath(m->root, dir,
				       O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
	return walk_beneath(m->root, dir);
}

int local_at_open(struct local_mount *m, const char *path,
		  struct local_at *at)
{
	const char *slash;
	int r = local_path_check(path);

	if (r < 0)
		return r;
	slash = strrchr(path, '/');
	if (!slash) {
		/* "." or one name: both mean what they say relative to the
		 * root fd, and neither can leave it. */
		at->dirfd = m->root;
		at->name = path;
		return 0;
	}
	r = open_parent(m, path, (size_t)(slash - path));
	if (r < 0)
		return r;
	at->dirfd = r;
	at->name = slash + 1;
	return 0;
}

void local_at_close(struct local_mount *m, struct local_at *at)
{
	if (at->dirfd != m->root)
		close(at->dirfd);
	at->dirfd = -1;
}

int local_open(struct local_mount *m, const char *path, int flags,
	       mode_t mode)
{
	struct local_at at;
	int fd, r;

	flags |= O_NOFOLLOW | O_CLOEXEC;
	/* A nested path in one system call: openat2 honours O_NOFOLLOW for
	 * the last component and RESOLVE_BENEATH for the rest. */
	if (m->has_openat2 && path && strchr(path, '/')) {
		if ((r = local_path_check(path)) < 0)
			return r;
		return openat2_beneath(m->root, path, flags, mode);
	}
	r = local_at_open(m, path, &at);
	if (r < 0)
		return r;
	fd = openat(at.dirfd, at.name, flags, mode);
	r = fd < 0 ? -errno : fd;
	local_at_close(m, &at);
	return r;
}
