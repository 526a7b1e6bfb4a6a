/*
 * nfs_unlinked: files removed while this daemon has them open.
 *
 * NFSv3 servers keep no open state: a file whose last name is removed is
 * gone, and the handles of the processes that still hold it open answer
 * ESTALE.  Like the kernel's NFS client (its .nfsXXXX files), the plugin
 * instead renames such a file into a hidden directory at the mount's
 * root (".scopefs-unlinked/INO-TAG-N"; the directory is left out of the
 * root's listing) and removes that name at the file's last close here.
 * Not in the file's own directory, as the kernel does, so that the
 * directory stays empty for rmdir and rename.  The same happens to an open file that a
 * rename replaces.  Only this daemon's opens count: another machine's
 * open of the file still sees ESTALE, and a daemon that dies leaves the
 * hidden name behind, as the kernel client does.
 *
 * The table maps (fsid, fileid) of every open file to its count of
 * handles and its hidden name; open_lock guards it and is held across
 * the hiding rename, so that a last close cannot slip between.
 */
#include "nfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nfsc/libnfs.h>

struct nfsp_open {
	struct nfsp_open *next;
	uint64_t dev, ino;
	unsigned count;
	char *hidden; /* libnfs path of the hidden name, or NULL */
};

static struct nfsp_open **bucket(struct nfsp_mount *m, uint64_t dev,
				 uint64_t ino)
{
	return &m->open_files[(ino ^ dev) % NFSP_OPEN_BUCKETS];
}

static struct nfsp_open *find(struct nfsp_mount *m, uint64_t dev,
			      uint64_t ino)
{
	for (struct nfsp_open *o = *bucket(m, dev, ino); o; o = o->next)
		if (o->ino == ino && o->dev == dev)
			return o;
	return NULL;
}

int nfsp_hidden_name(const char *dir, const char *name)
{
	return strcmp(dir, "/") == 0 && strcmp(name, NFSP_HIDDEN) == 0;
}

int nfsp_opened(struct nfsp_mount *m, struct nfsp_file *f)
{
	struct nfsp_open *o;
	int r = 0;

	pthread_mutex_lock(&m->open_lock);
	if ((o = find(m, f->dev, f->ino))) {
		o->count++;
	} else if ((o = calloc(1, sizeof *o))) {
		o->dev = f->dev;
		o->ino = f->ino;
		o->count = 1;
		o->next = *bucket(m, f->dev, f->ino);
		*bucket(m, f->dev, f->ino) = o;
		m->nopen++;
	} else {
		r = -ENOMEM;
	}
	pthread_mutex_unlock(&m->open_lock);
	return r;
}

void nfsp_closed(struct nfsp_mount *m, struct nfsp_file *f)
{
	struct nfsp_open **pp, *o;
	char *hidden = NULL;
	int r;

	pthread_mutex_lock(&m->open_lock);
	for (pp = bucket(m, f->dev, f->ino); (o = *pp); pp = &o->next)
		if (o->ino == f->ino && o->dev == f->dev)
			break;
	if (o && --o->count == 0) {
		*pp = o->next;
		hidden = o->hidden;
		free(o);
		m->nopen--;
	}
	pthread_mutex_unlock(&m->open_lock);
	if (!hidden)
		return;
	NFSP_CALL(m, r, NFSP_ONCE, "unlink", hidden, NFSP_NONE,
		  nfs_unlink_async(ctx, hidden, nfsp_cb, w));
	if (r < 0 && r != -ENOENT)
		m->host->log(m->host, SCOPEFS_LOG_WARN,
			     "%s:%s%s: cannot remove this file unlinked while "
			     "open: %s", m->be->server, m->root, hidden,
			     strerror(-r));
	free(hidden);
}

/* A hidden name for node INO.  The tag (pid and a random number of
 * this mount) keeps names of daemons on other machines apart. */
static char *hidden_path(struct nfsp_mount *m, uint64_t ino, unsigned n)
{
	char *h;

	if (asprintf(&h, "/" NFSP_HIDDEN "/%llx-%x-%u",
		     (unsigned long long)ino, m->tag, n) < 0)
		return NULL;
	return h;
}

/* The hidden directory, made once per mount (EEXIST is fine: another
 * daemon's or an earlier one's). */
static int hidden_dir(struct nfsp_mount *m)
{
	int r;

	if (m->hidden_made)
		return 0;
	NFSP_CALL(m, r, NFSP_ONCE, "mkdir", "/" NFSP_HIDDEN, NFSP_NONE,
		  nfs_mkdir2_async(ctx, "/" NFSP_HIDDEN, 0700, nfsp_cb, w));
	if (r == 0 || r == -EEXIST)
		m->hidden_made = 1;
	return r == -EEXIST ? 0 : r;
}

int nfsp_hide_if_open(struct nfsp_mount *m, const char *p)
{
	static unsigned counter;
	struct nfsp_open *o;
	struct stat st;
	char *h;
	int r;

	if (!__atomic_load_n(&m->nopen, __ATOMIC_RELAXED))
		return 0;
	if ((r = nfsp_lstat(m, p, &st)) < 0)
		return r == -ENOENT ? 0 : r;
	if (!S_ISREG(st.st_mode) || st.st_nlink > 1)
		return 0; /* another name keeps the file */
	pthread_mutex_lock(&m->open_lock);
	o = find(m, (uint64_t)st.st_dev, (uint64_t)st.st_ino);
	if (!o || o->hidden) {
		/* not open here, or open under another name already hidden
		 * (a hard link): the name goes as usual */
		pthread_mutex_unlock(&m->open_lock);
		return 0;
	}
	if ((r = hidden_dir(m)) < 0) {
		pthread_mutex_unlock(&m->open_lock);
		return r;
	}
	h = hidden_path(m, st.st_ino,
			__atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
	if (!h) {
		pthread_mutex_unlock(&m->open_lock);
		return -ENOMEM;
	}
	NFSP_CALL(m, r, NFSP_ONCE, "rename", p, NFSP_NONE,
		  nfs_rename_async(ctx, p, h, nfsp_cb, w));
	if (r == 0)
		o->hidden = h;
	else
		free(h);
	pthread_mutex_unlock(&m->open_lock);
	return r < 0 ? r : 1;
}

int nfsp_is_hidden(struct nfsp_mount *m, const struct nfsp_file *f)
{
	struct nfsp_open *o;
	int hidden;

	if (!f->ino)
		return 0;
	pthread_mutex_lock(&m->open_lock);
	hidden = (o = find(m, f->dev, f->ino)) && o->hidden;
	pthread_mutex_unlock(&m->open_lock);
	return hidden;
}

void nfsp_forget_open(struct nfsp_mount *m)
{
	for (unsigned i = 0; i < NFSP_OPEN_BUCKETS; i++) {
		struct nfsp_open *o = m->open_files[i], *next;

		for (; o; o = next) {
			next = o->next;
			free(o->hidden);
			free(o);
		}
		m->open_files[i] = NULL;
	}
}
