/*
 * hello: the smallest scopefs plugin worth reading.
 *
 * Every mount of a hello backend is read-only and holds one file,
 * hello.txt, whose content is the backend's `greeting` key:
 *
 *   [backend greet]
 *   plugin = /opt/scopefs-hello/scopefs-hello.so
 *   greeting = Hello from scopefs!
 *
 * It shows the whole contract: the description with SCOPEFS_PLUGIN_HEAD,
 * the lifecycle (backend_open, config, config_complete, mount_open, ...),
 * the required fs ops, and the error convention (0 or -errno, with
 * host->set_error saying why).  Build it with the Makefile beside it;
 * docs/plugin-abi.md walks through it.
 */
#define _POSIX_C_SOURCE 200809L
#include <scopefs/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

/* One backend instance.  Nothing changes after config_complete, so every
 * mount shares it and no lock is needed (SCOPEFS_THREAD_PARALLEL). */
struct hello {
	const struct scopefs_host *host;
	char *greeting;
	time_t loaded; /* the files' mtime */
};

static const char FILE_NAME[] = "hello.txt";

static int hello_backend_open(const struct scopefs_host *host, void **backend)
{
	struct hello *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->host = host;
	*backend = h;
	return 0;
}

/* Called once per key of the [backend] section, "plugin" excepted. */
static int hello_config(void *backend, const char *key, const char *value)
{
	struct hello *h = backend;

	if (strcmp(key, "greeting") != 0) {
		h->host->set_error(h->host, "unknown key (hello knows: greeting)");
		return -EINVAL;
	}
	free(h->greeting);
	/* key and value live only for this call: keep a copy. */
	h->greeting = malloc(strlen(value) + 2);
	if (!h->greeting)
		return -ENOMEM;
	strcpy(h->greeting, value);
	strcat(h->greeting, "\n");
	return 0;
}

static int hello_config_complete(void *backend)
{
	struct hello *h = backend;

	if (!h->greeting && !(h->greeting = strdup("Hello, world!\n")))
		return -ENOMEM;
	h->loaded = time(NULL);
	return 0;
}

/* The mount handle is the backend itself: hello ignores the prefix, so
 * every scope sees the same file. */
static int hello_mount_open(void *backend, const char *prefix,
			    unsigned int flags, void **mnt)
{
	struct hello *h = backend;

	(void)flags;
	h->host->log(h->host, SCOPEFS_LOG_DEBUG, "mount of prefix \"%s\"",
		     prefix);
	*mnt = h;
	return 0;
}

static void hello_mount_close(void *mnt)
{
	(void)mnt;
}

static void hello_backend_close(void *backend)
{
	struct hello *h = backend;

	free(h->greeting);
	free(h);
}

/* Paths come as "." (the root) or "hello.txt"; see plugin.h. */
static int hello_getattr(void *mnt, const char *path, void *fh,
			 struct stat *st)
{
	struct hello *h = mnt;

	/* With a handle, path may be NULL (a file renamed away while open);
	 * hello's only openable file is hello.txt. */
	if (fh)
		path = FILE_NAME;
	memset(st, 0, sizeof(*st));
	st->st_mtime = st->st_ctime = st->st_atime = h->loaded;
	if (strcmp(path, ".") == 0) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else if (strcmp(path, FILE_NAME) == 0) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)strlen(h->greeting);
	} else {
		return -ENOENT;
	}
	return 0;
}

static int hello_readdir(void *mnt, const char *path, scopefs_fill_fn fill,
			 void *ctx)
{
	struct stat st;

	if (strcmp(path, ".") != 0)
		return strcmp(path, FILE_NAME) == 0 ? -ENOTDIR : -ENOENT;
	hello_getattr(mnt, FILE_NAME, NULL, &st);
	return fill(ctx, FILE_NAME, &st);
}

static int hello_open(void *mnt, const char *path, int flags, void **fh)
{
	if (strcmp(path, FILE_NAME) != 0)
		return strcmp(path, ".") == 0 ? -EISDIR : -ENOENT;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	/* No per-open state is needed; any non-NULL handle will do. */
	*fh = mnt;
	return 0;
}

static ssize_t hello_read(void *mnt, void *fh, void *buf, size_t size,
			  off_t off)
{
	struct hello *h = mnt;
	size_t len = strlen(h->greeting);

	(void)fh;
	if ((size_t)off >= len)
		return 0;
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	memcpy(buf, h->greeting + off, size);
	return (ssize_t)size;
}

/* create and write are required of every fs plugin; a read-only one
 * refuses them. */
static int hello_create(void *mnt, const char *path, int flags, mode_t mode,
			const struct scopefs_caller *who, void **fh,
			struct stat *st)
{
	(void)mnt, (void)path, (void)flags, (void)mode, (void)who, (void)fh;
	(void)st;
	return -EROFS;
}

static ssize_t hello_write(void *mnt, void *fh, const void *buf, size_t size,
			   off_t off)
{
	(void)mnt, (void)fh, (void)buf, (void)size, (void)off;
	return -EROFS;
}

static int hello_release(void *mnt, void *fh)
{
	(void)mnt, (void)fh;
	return 0;
}

/* Optional ops left out read as NULL: the core answers -ENOSYS for them
 * (or -EROFS on a read-only mount). */
static const struct scopefs_fs_ops hello_fs = {
	.struct_size = sizeof(struct scopefs_fs_ops),
	.getattr = hello_getattr,
	.readdir = hello_readdir,
	.open = hello_open,
	.create = hello_create,
	.read = hello_read,
	.write = hello_write,
	.release = hello_release,
};

static const struct scopefs_plugin hello_plugin = {
	SCOPEFS_PLUGIN_HEAD,
	.kind = SCOPEFS_KIND_FS,
	.thread_model = SCOPEFS_THREAD_PARALLEL,
	/* Nobody else changes hello.txt behind the daemon's back. */
	.flags = SCOPEFS_CAP_EXCLUSIVE,
	.name = "hello",
	.version = "1.0",
	.description = "one read-only file with a configurable greeting",
	.config_help = "greeting=TEXT  content of hello.txt "
		       "(default \"Hello, world!\")",
	.backend_open = hello_backend_open,
	.config = hello_config,
	.config_complete = hello_config_complete,
	.mount_open = hello_mount_open,
	.mount_close = hello_mount_close,
	.backend_close = hello_backend_close,
	.fs = &hello_fs,
};

SCOPEFS_REGISTER_PLUGIN(hello_plugin)
