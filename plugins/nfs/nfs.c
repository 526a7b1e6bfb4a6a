/*
 * nfs: serve scoped mounts from an NFSv3 export, in userspace (libnfs).
 *
 *   [backend shared]
 *   plugin = nfs
 *   url    = nfs://filer.example.com/export?version=3
 *   prefix = scopefs
 *
 * A mount with prefix "job/j1/cluster_storage" shows the directory
 * EXPORT/scopefs/job/j1/cluster_storage, created (0755, each level) when
 * the mount opens.  Like local, the plugin is a thin pass-through: each
 * operation is one libnfs call or a few.  See nfs.h for how a mount is
 * kept inside its prefix.  This file holds the description, the
 * configuration and the backend/mount lifecycle; the pool is in
 * nfs_pool.c, the operations in nfs_file.c, nfs_dir.c and nfs_attr.c.
 */
#include "nfs.h"

#include "config_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <nfsc/libnfs.h>

#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS 64
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_RETRIES 2

static int nfsp_backend_open(const struct scopefs_host *host, void **backend)
{
	struct nfsp_backend *b = calloc(1, sizeof *b);

	if (!b)
		return -ENOMEM;
	b->host = host;
	b->uid = geteuid();
	b->gid = getegid();
	b->connections = DEFAULT_CONNECTIONS;
	b->timeout_ms = DEFAULT_TIMEOUT_MS;
	b->retries = DEFAULT_RETRIES;
	*backend = b;
	return 0;
}

/* The query of the URL may only say what libnfs needs to reach the
 * server; uid, gid and the rest have keys of their own. */
static int query_ok(const struct scopefs_host *h, const char *q)
{
	char *copy = strdup(q), *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *kv = strtok_r(copy, "&", &save); kv && !r;
	     kv = strtok_r(NULL, "&", &save)) {
		char *v = strchr(kv, '=');
		unsigned long n;

		if (v)
			*v++ = '\0';
		if (strcmp(kv, "version") == 0) {
			if (!v || strcmp(v, "3") != 0) {
				h->set_error(h, "url: version must be 3, not "
					     "'%s' (libnfs 4.0's NFSv4 cannot "
					     "write)", v ? v : "");
				r = -EINVAL;
			}
		} else if (strcmp(kv, "nfsport") == 0 ||
			   strcmp(kv, "mountport") == 0) {
			r = ck_uint(h, kv, 1, 65535, &n, v ? v : "");
		} else {
			h->set_error(h, "url: unknown parameter '%s' (the nfs "
				     "plugin takes version=3, nfsport=N and "
				     "mountport=N; uid and gid are keys)", kv);
			r = -EINVAL;
		}
	}
	free(copy);
	return r;
}

/* nfs://HOST[:PORT]/EXPORT[?QUERY] into b->server and b->export. */
static int parse_url(struct nfsp_backend *b, const char *url)
{
	const struct scopefs_host *h = b->host;
	const char *host = url + 6, *path, *q;
	char *exp;
	size_t n;

	if (strncmp(url, "nfs://", 6) != 0 ||
	    !(path = strchr(host, '/')) || path == host) {
		h->set_error(h, "url must be nfs://HOST[:PORT]/EXPORT"
			     "[?version=3&nfsport=N&mountport=N], not '%s'",
			     url);
		return -EINVAL;
	}
	q = strchr(path, '?');
	n = q ? (size_t)(q - path) : strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (!(exp = strndup(path, n)))
		return -ENOMEM;
	if (strchr(host, '@') && strchr(host, '@') < path) {
		h->set_error(h, "url: no user part (uid and gid are keys)");
		goto bad;
	}
	if (n < 2 || nfsp_names_ok(exp + 1) < 0) {
		h->set_error(h, "url: the export '%s' must be an absolute path "
			     "without '.' or '..' names", exp);
		goto bad;
	}
	if (q && query_ok(h, q + 1) < 0)
		goto bad;
	free(b->server);
	free(b->export);
	b->server = strndup(host, (size_t)(path - host));
	b->export = exp;
	return b->server ? ck_str(h, &b->url, url) : -ENOMEM;
bad:
	free(exp);
	return -EINVAL;
}

/* "10%" or a size ("5G"). */
static int parse_low_space(struct nfsp_backend *b, const char *v)
{
	size_t n = strlen(v);
	unsigned long pct;

	b->low_bytes = 0;
	b->low_pct = 0;
	if (n > 1 && v[n - 1] == '%') {
		char num[16];

		if (n - 1 >= sizeof num)
			goto bad;
		memcpy(num, v, n - 1);
		num[n - 1] = '\0';
		if (ck_uint(b->host, "low_space_warning", 1, 99, &pct, num) < 0)
			return -EINVAL;
		b->low_pct = (unsigned)pct;
		return 0;
	}
	if (b->host->parse_size(v, &b->low_bytes) == 0 && b->low_bytes > 0)
		return 0;
bad:
	b->host->set_error(b->host, "low_space_warning must be a percentage "
			   "of the export (1%%..99%%) or a size such as 5G, "
			   "not '%s'", v);
	return -EINVAL;
}

static int nfsp_config(void *backend, const char *key, const char *value)
{
	struct nfsp_backend *b = backend;
	const struct scopefs_host *h = b->host;
	unsigned long n;
	int r;

	if (strcmp(key, "url") == 0)
		return parse_url(b, value);
	if (strcmp(key, "prefix") == 0) {
		size_t len = strlen(value);

		while (len > 0 && value[len - 1] == '/')
			len--;
		while (len > 0 && value[0] == '/') {
			value++;
			len--;
		}
		char *p = strndup(value, len);

		if (!p)
			return -ENOMEM;
		if (nfsp_names_ok(p) < 0) {
			h->set_error(h, "prefix '%s' must be names joined by "
				     "'/', without '.' or '..'", value);
			free(p);
			return -EINVAL;
		}
		free(b->base);
		b->base = p;
		return 0;
	}
	if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
		if ((r = ck_uint(h, key, 0, 4294967294UL, &n, value)) < 0)
			return r;
		if (key[0] == 'u')
			b->uid = (uid_t)n;
		else
			b->gid = (gid_t)n;
		return 0;
	}
	if (strcmp(key, "connections") == 0) {
		r = ck_uint(h, key, 1, MAX_CONNECTIONS, &n, value);
		b->connections = (unsigned)n;
		return r;
	}
	if (strcmp(key, "timeout") == 0)
		return ck_seconds(h, key, &b->timeout_ms, value);
	if (strcmp(key, "retries") == 0) {
		r = ck_uint(h, key, 0, 10, &n, value);
		b->retries = (unsigned)n;
		return r;
	}
	if (strcmp(key, "low_space_warning") == 0)
		return parse_low_space(b, value);
	h->set_error(h, "unknown key '%s' (the nfs plugin takes: url, prefix, "
		     "uid, gid, connections, timeout, retries, "
		     "low_space_warning)", key);
	return -EINVAL;
}

static int nfsp_config_complete(void *backend)
{
	struct nfsp_backend *b = backend;

	if (!b->url) {
		b->host->set_error(b->host, "missing key 'url' (the export, "
				   "e.g. url = nfs://filer/export?version=3)");
		return -EINVAL;
	}
	if (!b->base && !(b->base = strdup("")))
		return -ENOMEM;
	return 0;
}

/* EXPORT/BASE/PREFIX, or NULL (-ENOMEM or -ENAMETOOLONG in *err). */
static char *join_root(const struct nfsp_backend *b, const char *prefix,
		       int *err)
{
	char *root;
	int n = asprintf(&root, "%s%s%s%s%s", b->export, b->base[0] ? "/" : "",
			 b->base, prefix[0] ? "/" : "", prefix);

	if (n < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	if (n >= NFSP_PATH_MAX / 2) {
		free(root);
		*err = -ENAMETOOLONG;
		return NULL;
	}
	return root;
}

static int lstat_on(const struct nfsp_backend *b, struct nfs_context *ctx,
		    const char *p, struct nfs_stat_64 *st)
{
	return NFSP_ONE(b, ctx, NFSP_COPY(*st),
			nfs_lstat64_async(ctx, p, nfsp_cb, w));
}

/* mkdir -p ROOT below the export on ctx (mounted at the export), never
 * through a symlink; the prefix directory's inode into *ino. */
static int make_root(const struct nfsp_backend *b, struct nfs_context *ctx,
		     const char *root, uint64_t *ino)
{
	const struct scopefs_host *h = b->host;
	size_t skip = strlen(b->export);
	char p[NFSP_PATH_MAX];
	struct nfs_stat_64 st;
	int r;

	if (!root[skip]) {
		if ((r = lstat_on(b, ctx, "/", &st)) < 0) {
			h->set_error(h, "cannot stat the export of %s: %s (%s)",
				     b->url, strerror(-r), nfs_get_error(ctx));
			return r;
		}
		*ino = st.nfs_ino;
		return 0;
	}
	snprintf(p, sizeof p, "%s", root + skip);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		r = lstat_on(b, ctx, p, &st);
		if (r == -ENOENT) {
			r = NFSP_ONE(b, ctx, NFSP_NONE,
				     nfs_mkdir2_async(ctx, p, 0755, nfsp_cb, w));
			if (r == 0 || r == -EEXIST)
				r = lstat_on(b, ctx, p, &st);
		}
		if (r == 0 && (st.nfs_mode & S_IFMT) != S_IFDIR)
			r = -ENOTDIR;
		if (r < 0) {
			h->set_error(h, "cannot make '%s' on %s: %s (%s)%s", p,
				     b->url, strerror(-r), nfs_get_error(ctx),
				     r == -ENOTDIR ? "; symlinks are not "
				     "followed" : "");
			return r;
		}
		if (c == '\0')
			break;
		*s = c;
	}
	*ino = st.nfs_ino;
	return 0;
}

static unsigned random_tag(void)
{
	unsigned v = 0;

	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v)
		v = (unsigned)time(NULL);
	return v;
}

static void free_mount(struct nfsp_mount *m)
{
	for (unsigned i = 0; m->conn && i < m->nconn; i++) {
		if (m->conn[i].ctx)
			nfs_destroy_context(m->conn[i].ctx);
		pthread_mutex_destroy(&m->conn[i].lock);
	}
	nfsp_forget_open(m);
	pthread_mutex_destroy(&m->warn_lock);
	pthread_mutex_destroy(&m->open_lock);
	free(m->conn);
	free(m->root);
	free(m);
}

static int nfsp_mount_open(void *backend, const char *prefix,
			   unsigned int flags, void **mnt)
{
	struct nfsp_backend *b = backend;
	struct nfs_context *ctx;
	struct nfsp_mount *m;
	int r = 0;

	if (!prefix)
		prefix = "";
	if (nfsp_names_ok(prefix) < 0) {
		b->host->set_error(b->host, "bad prefix '%s' (expected names "
				   "joined by '/', no '.' or '..')", prefix);
		return -EINVAL;
	}
	if (!(m = calloc(1, sizeof *m)))
		return -ENOMEM;
	pthread_mutex_init(&m->warn_lock, NULL);
	pthread_mutex_init(&m->open_lock, NULL);
	m->host = b->host;
	m->be = b;
	m->read_only = (flags & SCOPEFS_MOUNT_READ_ONLY) != 0;
	m->give_to_caller = b->uid == 0;
	m->tag = (unsigned)getpid() ^ (unsigned)random_tag();
	m->nconn = b->connections;
	if (!(m->root = join_root(b, prefix, &r)) ||
	    !(m->conn = calloc(m->nconn, sizeof *m->conn))) {
		free_mount(m);
		return r ? r : -ENOMEM;
	}
	for (unsigned i = 0; i < m->nconn; i++)
		pthread_mutex_init(&m->conn[i].lock, NULL);
	/* The prefix is made through the export, then the pool mounts it.
	 * A server that has just started may drop the first connection:
	 * transport failures get the backend's retries. */
	for (unsigned i = 0; !(ctx = nfsp_connect(b, b->export, 1, &r)); i++) {
		if ((r != -EIO && r != -ETIMEDOUT) || i >= b->retries) {
			free_mount(m);
			return r;
		}
		usleep(200000);
	}
	r = make_root(b, ctx, m->root, &m->root_ino);
	nfs_destroy_context(ctx);
	/* The first context now, so that a mount that cannot work is
	 * refused; the others connect on first use. */
	if (r == 0)
		r = nfsp_conn_open(m, &m->conn[0], 1);
	if (r < 0) {
		free_mount(m);
		return r;
	}
	nfsp_check_space(m, 1);
	*mnt = m;
	return 0;
}

static void nfsp_mount_close(void *mnt)
{
	free_mount(mnt);
}

static void nfsp_backend_close(void *backend)
{
	struct nfsp_backend *b = backend;

	free(b->url);
	free(b->server);
	free(b->export);
	free(b->base);
	free(b);
}

static const struct scopefs_fs_ops nfsp_ops = {
	.struct_size = sizeof(struct scopefs_fs_ops),
	.getattr = nfsp_getattr,
	.readdir = nfsp_readdir,
	.open = nfsp_open,
	.create = nfsp_create,
	.read = nfsp_read,
	.write = nfsp_write,
	.release = nfsp_release,
	.flush = nfsp_flush,
	.fsync = nfsp_fsync,
	.truncate = nfsp_truncate,
	.mkdir = nfsp_mkdir,
	.mknod = nfsp_mknod,
	.unlink = nfsp_unlink,
	.rmdir = nfsp_rmdir,
	.rename = nfsp_rename,
	.symlink = nfsp_symlink,
	.readlink = nfsp_readlink,
	.link = nfsp_link,
	.chmod = nfsp_chmod,
	.chown = nfsp_chown,
	.utimens = nfsp_utimens,
	.statfs = nfsp_statfs,
};

/* Parallel: each call takes a context of the pool for itself (nfs.h). */
static const struct scopefs_plugin nfsp_plugin = {
	SCOPEFS_PLUGIN_HEAD,
	.kind = SCOPEFS_KIND_FS,
	.thread_model = SCOPEFS_THREAD_PARALLEL,
	.flags = SCOPEFS_CAP_STABLE_INO,
	.name = "nfs",
	.version = "1.0",
	.description = "an NFSv3 export, through libnfs in userspace",
	.config_help =
		"url=nfs://HOST[:PORT]/EXPORT[?version=3&nfsport=N&mountport=N]"
		"  (required)\n"
		"prefix=PATH          the base in the export the scoped "
		"prefixes go under\n"
		"uid=N gid=N          AUTH_SYS credentials (default: the "
		"daemon's)\n"
		"connections=N        libnfs contexts per mount (default 4)\n"
		"timeout=SECONDS      per request (default 10)\n"
		"retries=N            after a lost connection (default 2)\n"
		"low_space_warning=N% or SIZE   log when free space falls "
		"below\n",
	.backend_open = nfsp_backend_open,
	.config = nfsp_config,
	.config_complete = nfsp_config_complete,
	.mount_open = nfsp_mount_open,
	.mount_close = nfsp_mount_close,
	.backend_close = nfsp_backend_close,
	.fs = &nfsp_ops,
};

SCOPEFS_REGISTER_PLUGIN(nfsp_plugin)
