/*
 * nfs_pool: the libnfs contexts of a mount, and the attempts of one call.
 *
 * A libnfs context is one TCP connection with its own queue, and is not
 * thread-safe, so a mount keeps `connections` of them, each behind a
 * mutex, and a call takes whichever is free (nfsp_begin) and gives it
 * back (nfsp_end).  Every RPC has the backend's timeout (libnfs drops it
 * from its queue and the call fails), and libnfs's own reconnect is off:
 * when a call fails in transport (the connection broke, the server did
 * not answer in time), the context is destroyed and the next call on that
 * slot connects afresh.  So a server that restarts costs the calls in
 * flight at most `retries` reconnects, and a server that is down makes
 * each call fail with EIO or ETIMEDOUT after at most
 * (retries + 1) x timeout, never hang.  A call that changes a name
 * (create, mkdir, rename, remove, link) is tried again only when it
 * could not have reached the server, since its reply may have been lost
 * after the server acted.
 *
 * Calls go through libnfs's async API with a wait loop of our own
 * (nfsp_run), not through its sync wrappers: those keep the callback's
 * state on the caller's stack, and when the socket fails libnfs may call
 * a callback later, from nfs_destroy_context, into a frame that is gone.
 * Our state is on the heap and freed by whichever comes last.
 */
#include "nfs.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

/* Pause before try N (N >= 1): 100 ms, 200 ms, 400 ms, ... at most 1 s. */
static void backoff(unsigned n)
{
	unsigned ms = 100u << (n > 4 ? 4 : n - 1);

	usleep((ms > 1000 ? 1000 : ms) * 1000);
}

/* libnfs reports a broken or timed-out RPC as -EFAULT (RPC_STATUS_ERROR),
 * -EINTR (timeout or cancel) or -EIO (the socket failed while waiting). */
static int transport_failure(int r)
{
	return r == -EFAULT || r == -EINTR || r == -EIO || r == -EPIPE ||
	       r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT ||
	       r == -ENOTCONN;
}

static int plugin_errno(int r)
{
	if (r == -EINTR || r == -ETIMEDOUT)
		return -ETIMEDOUT;
	if (transport_failure(r))
		return -EIO;
	return r;
}

struct nfsp_wait *nfsp_wait_new(struct nfsp_out out)
{
	struct nfsp_wait *w = calloc(1, sizeof *w);

	if (w)
		w->out = out;
	return w;
}

int nfsp_queue_failed(struct nfsp_wait *w)
{
	free(w);
	return -EIO;
}

/* Called by libnfs once per call: with the answer while nfsp_run waits,
 * or later for an orphan (then with nothing to deliver to). */
void nfsp_cb(int status, struct nfs_context *nfs, void *data, void *priv)
{
	struct nfsp_wait *w = priv;
	struct nfsp_out *o = &w->out;

	if (w->orphan) {
		/* An nfsfh answered this late is leaked: closing it would
		 * mean a call on a context that is being destroyed. */
		if (status >= 0 && o->kind == NFSP_OUT_DIR && data)
			nfs_closedir(nfs, data);
		free(w);
		return;
	}
	w->done = 1;
	w->status = status;
	if (status < 0)
		return;
	switch (o->kind) {
	case NFSP_OUT_COPY:
		memcpy(o->buf, data, o->len);
		break;
	case NFSP_OUT_BYTES:
		if ((size_t)status > o->len)
			w->status = status = (int)o->len;
		memcpy(o->buf, data, (size_t)status);
		break;
	case NFSP_OUT_PTR:
	case NFSP_OUT_DIR:
		*(void **)o->buf = data;
		break;
	case NFSP_OUT_STR:
		if (!(*(char **)o->buf = strdup(data)))
			w->status = -ENOMEM;
		break;
	}
}

/* The status of a raw call, or 1 for an orphan (W freed). */
static int rpc_status(struct nfsp_wait *w, int status, void *data)
{
	if (w->orphan) {
		free(w);
		return 1;
	}
	w->done = 1;
	if (status == RPC_STATUS_TIMEOUT || status == RPC_STATUS_CANCEL)
		w->status = -EINTR;
	else if (status != RPC_STATUS_SUCCESS)
		w->status = -EFAULT;
	else if (*(nfsstat3 *)data != NFS3_OK)
		w->status = nfsstat3_to_errno((int)*(nfsstat3 *)data);
	else
		w->status = 0;
	return 0;
}

void nfsp_rpc_cb(struct rpc_context *rpc, int status, void *data,
		 void *priv)
{
	(void)rpc;
	rpc_status(priv, status, data);
}

void nfsp_write_cb(struct rpc_context *rpc, int status, void *data,
		   void *priv)
{
	struct nfsp_wait *w = priv;
	WRITE3res *res = data;

	(void)rpc;
	if (rpc_status(w, status, data) || w->status < 0)
		return;
	w->status = (int)res->WRITE3res_u.resok.count;
}

void nfsp_lookup_cb(struct rpc_context *rpc, int status, void *data,
		    void *priv)
{
	struct nfsp_wait *w = priv;
	struct nfsp_fh3 *fh = w->out.buf;
	LOOKUP3res *res = data;

	(void)rpc;
	if (rpc_status(w, status, data) || w->status < 0)
		return;
	nfs_fh3 *obj = &res->LOOKUP3res_u.resok.object;

	if (obj->data.data_len > sizeof fh->val) {
		w->status = -EIO;
		return;
	}
	fh->len = obj->data.data_len;
	memcpy(fh->val, obj->data.data_val, fh->len);
}

int nfsp_run(const struct nfsp_backend *be, struct nfs_context *ctx,
	     struct nfsp_wait *w)
{
	struct timespec now;
	long long left;
	int r;

	/* libnfs times out each RPC; this deadline only catches what it
	 * would not (a call of several RPCs, a wait on a dead socket). */
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 +
			     2 * be->timeout_ms + 1000;

	while (!w->done) {
		struct pollfd pfd = { .fd = nfs_get_fd(ctx),
				      .events = (short)nfs_which_events(ctx) };

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = deadline - (now.tv_sec * 1000LL + now.tv_nsec / 1000000);
		if (left <= 0) {
			w->orphan = 1;
			return -ETIMEDOUT;
		}
		r = poll(&pfd, 1, left < 100 ? (int)left : 100);
		if (nfs_service(ctx, r < 0 ? -1 : pfd.revents) < 0 &&
		    !w->done) {
			w->orphan = 1;
			return -EIO;
		}
	}
	r = w->status;
	free(w);
	return r;
}

struct nfs_context *nfsp_connect(const struct nfsp_backend *be,
				 const char *root, int report, int *err)
{
	const struct scopefs_host *h = be->host;
	struct nfs_context *ctx = nfs_init_context();
	struct nfs_url *url;
	int r;

	if (!ctx) {
		*err = -ENOMEM;
		return NULL;
	}
	nfs_set_timeout(ctx, (int)be->timeout_ms);
	nfs_set_autoreconnect(ctx, 0);
	nfs_set_dircache(ctx, 0); /* other clients change directories */
	/* Applies the URL's version, nfsport and mountport to ctx. */
	if (!(url = nfs_parse_url_dir(ctx, be->url))) {
		if (report)
			h->set_error(h, "url %s: %s", be->url,
				     nfs_get_error(ctx));
		nfs_destroy_context(ctx);
		*err = -EINVAL;
		return NULL;
	}
	nfs_set_version(ctx, 3); /* NFS_V3 of libnfs-raw-nfs.h */
	nfs_set_uid(ctx, (int)be->uid);
	nfs_set_gid(ctx, (int)be->gid);
	r = NFSP_ONE(be, ctx, NFSP_NONE,
		     nfs_mount_async(ctx, be->server, root, nfsp_cb, w));
	nfs_destroy_url(url);
	if (r < 0) {
		if (report)
			h->set_error(h, "cannot mount %s:%s: %s", be->server,
				     root, nfs_get_error(ctx));
		nfs_destroy_context(ctx);
		*err = plugin_errno(r == -1 ? -EIO : r);
		return NULL;
	}
	/* The core has applied the caller's umask already. */
	nfs_umask(ctx, 0);
	return ctx;
}

int nfsp_conn_open(struct nfsp_mount *m, struct nfsp_conn *c, int report)
{
	struct nfs_stat_64 st;
	int r;

	if (!(c->ctx = nfsp_connect(m->be, m->root, report, &r))) {
		c->failed_at = time(NULL);
		return r;
	}
	/* MOUNT resolves the path on the server, which may follow a
	 * symlink: the root must still be the directory mount_open made. */
	if (!__atomic_load_n(&m->writemax, __ATOMIC_RELAXED))
		__atomic_store_n(&m->writemax, nfs_get_writemax(c->ctx),
				 __ATOMIC_RELAXED);
	r = NFSP_ONE(m->be, c->ctx, NFSP_COPY(st),
		     nfs_lstat64_async(c->ctx, "/", nfsp_cb, w));
	if (r == 0 && st.nfs_ino != m->root_ino)
		r = -ESTALE;
	if (r < 0) {
		m->host->log(m->host, SCOPEFS_LOG_ERROR,
			     "%s:%s: %s", m->be->server, m->root,
			     r == -ESTALE ? "is no longer the directory this "
			     "mount opened (replaced or a symlink): refusing it"
			     : nfs_get_error(c->ctx));
		if (report)
			m->host->set_error(m->host, "%s:%s is not the prefix "
					   "directory", m->be->server, m->root);
		nfs_destroy_context(c->ctx);
		c->ctx = NULL;
		return plugin_errno(r);
	}
	return 0;
}

/* A free context if there is one, else wait for the next in turn. */
static struct nfsp_conn *take(struct nfsp_mount *m)
{
	unsigned start = __atomic_fetch_add(&m->next, 1, __ATOMIC_RELAXED);

	for (unsigned i = 0; i < m->nconn; i++) {
		struct nfsp_conn *c = &m->conn[(start + i) % m->nconn];

		if (pthread_mutex_trylock(&c->lock) == 0)
			return c;
	}
	struct nfsp_conn *c = &m->conn[start % m->nconn];

	pthread_mutex_lock(&c->lock);
	return c;
}

struct nfsp_conn *nfsp_begin(struct nfsp_mount *m, struct nfsp_try *t,
			     int *r)
{
	for (;;) {
		struct nfsp_conn *c;

		if (t->tries > m->be->retries)
			return NULL; /* *r holds the last failure */
		if (t->tries > 0)
			backoff(t->tries);
		t->tries++;
		c = take(m);
		if (c->ctx)
			return c;
		*r = nfsp_conn_open(m, c, 0);
		if (*r == 0)
			return c;
		pthread_mutex_unlock(&c->lock);
		if (*r == -ESTALE)
			return NULL;
	}
}

int nfsp_end(struct nfsp_mount *m, struct nfsp_try *t, struct nfsp_conn *c,
	     int *r, int idem, const char *what, const char *path)
{
	int lost = *r < 0 && transport_failure(*r);

	if (lost) {
		m->host->log(m->host, SCOPEFS_LOG_WARN,
			     "%s %s on %s:%s: %s; reconnecting", what,
			     path ? path : "", m->be->server, m->root,
			     nfs_get_error(c->ctx));
		nfs_destroy_context(c->ctx);
		c->ctx = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	*r = plugin_errno(*r);
	return lost && idem && t->tries <= m->be->retries;
}
