/*
 * nfs_attr: attributes (GETATTR, SETATTR), the ownership of nodes the
 * daemon makes on a caller's behalf, and the export's capacity (FSSTAT)
 * with the low_space_warning.  With a handle the call goes to its NFS
 * handle; by path, to the path without following a symlink in its last
 * component.
 */
#include "nfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>

#include <nfsc/libnfs.h>
#include <nfsc/libnfs-raw.h>
#include <nfsc/libnfs-raw-nfs.h>

/* Free space is looked at no more often than this, except on ENOSPC. */
#define SPACE_CHECK_S 10

int nfsp_lstat(struct nfsp_mount *m, const char *p, struct stat *st)
{
	struct nfs_stat_64 nst;
	int r;

	NFSP_CALL(m, r, NFSP_IDEM, "lstat", p, NFSP_COPY(nst),
		  nfs_lstat64_async(ctx, p, nfsp_cb, w));
	if (r == 0)
		nfsp_stat(&nst, st);
	return r;
}

static int fstat_fh(struct nfsp_mount *m, struct nfsfh *fh, struct stat *st)
{
	struct nfs_stat_64 nst;
	int r;

	NFSP_CALL(m, r, NFSP_IDEM, "fstat", NULL, NFSP_COPY(nst),
		  nfs_fstat64_async(ctx, fh, nfsp_cb, w));
	if (r == 0)
		nfsp_stat(&nst, st);
	return r;
}

int nfsp_getattr(void *mnt, const char *path, void *fh, struct stat *st)
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX];
	int r;

	if (fh) {
		struct nfsp_file *f = fh;

		r = fstat_fh(m, f->fh, st);
		if (r == 0 && st->st_nlink > 0 && nfsp_is_hidden(m, f))
			st->st_nlink--;
		return r;
	}
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	return nfsp_lstat(m, p, st);
}

static int chmod_node(struct nfsp_mount *m, struct nfsfh *fh, const char *p,
		      mode_t mode)
{
	int r;

	mode &= 07777;
	if (fh)
		NFSP_CALL(m, r, NFSP_IDEM, "chmod", NULL, NFSP_NONE,
			  nfs_fchmod_async(ctx, fh, (int)mode, nfsp_cb, w));
	else
		NFSP_CALL(m, r, NFSP_IDEM, "chmod", p, NFSP_NONE,
			  nfs_lchmod_async(ctx, p, (int)mode, nfsp_cb, w));
	return r;
}

static int chown_node(struct nfsp_mount *m, struct nfsfh *fh, const char *p,
		      uid_t uid, gid_t gid)
{
	int r;

	if (fh)
		NFSP_CALL(m, r, NFSP_IDEM, "chown", NULL, NFSP_NONE,
			  nfs_fchown_async(ctx, fh, (int)uid, (int)gid,
					   nfsp_cb, w));
	else
		NFSP_CALL(m, r, NFSP_IDEM, "chown", p, NFSP_NONE,
			  nfs_lchown_async(ctx, p, (int)uid, (int)gid,
					   nfsp_cb, w));
	return r;
}

int nfsp_chmod(void *mnt, const char *path, void *fh, mode_t mode)
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX];
	int r;

	if (m->read_only)
		return -EROFS;
	if (fh)
		return chmod_node(m, ((struct nfsp_file *)fh)->fh, NULL, mode);
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	return chmod_node(m, NULL, p, mode);
}

int nfsp_chown(void *mnt, const char *path, void *fh, uid_t uid, gid_t gid)
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX];
	int r;

	if (m->read_only)
		return -EROFS;
	if (fh)
		return chown_node(m, ((struct nfsp_file *)fh)->fh, NULL, uid,
				  gid);
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	return chown_node(m, NULL, p, uid, gid);
}

static time_how time_arg(const struct timespec *ts, nfstime3 *t)
{
	if (ts->tv_nsec == UTIME_OMIT)
		return DONT_CHANGE;
	if (ts->tv_nsec == UTIME_NOW)
		return SET_TO_SERVER_TIME;
	t->seconds = (u_int)ts->tv_sec;
	t->nseconds = (u_int)ts->tv_nsec;
	return SET_TO_CLIENT_TIME;
}

/* SETATTR of the times on FH, to the nanosecond (libnfs's utimes takes
 * microseconds and cannot leave one time as it is). */
static int times_on_fh(struct nfsp_mount *m, struct nfsfh *fh,
		       const struct timespec ts[2])
{
	static const struct timespec now[2] = { { 0, UTIME_NOW },
						{ 0, UTIME_NOW } };
	const struct nfs_fh *nfh = nfs_get_fh(fh);
	SETATTR3args args;
	int r;

	if (!ts)
		ts = now;
	memset(&args, 0, sizeof args);
	args.object.data.data_len = (u_int)nfh->len;
	args.object.data.data_val = nfh->val;
	args.new_attributes.atime.set_it =
		time_arg(&ts[0], &args.new_attributes.atime.set_atime_u.atime);
	args.new_attributes.mtime.set_it =
		time_arg(&ts[1], &args.new_attributes.mtime.set_mtime_u.mtime);
	NFSP_CALL(m, r, NFSP_IDEM, "utimens", NULL, NFSP_NONE,
		  rpc_nfs3_setattr_async(nfs_get_rpc_context(ctx), nfsp_rpc_cb,
					 &args, w));
	return r;
}

/* A symlink cannot be opened without following it: its times are set
 * through libnfs's lutimes, to the microsecond. */
static int symlink_times(struct nfsp_mount *m, const char *p,
			 const struct timespec ts[2])
{
	struct timeval tv[2];
	struct stat st;
	int r;

	if (ts && (ts[0].tv_nsec == UTIME_OMIT || ts[1].tv_nsec == UTIME_OMIT ||
		   ts[0].tv_nsec == UTIME_NOW || ts[1].tv_nsec == UTIME_NOW)) {
		struct timespec now;

		if ((r = nfsp_lstat(m, p, &st)) < 0)
			return r;
		clock_gettime(CLOCK_REALTIME, &now);
		for (int i = 0; i < 2; i++) {
			struct timespec t = ts[i];

			if (t.tv_nsec == UTIME_NOW)
				t = now;
			else if (t.tv_nsec == UTIME_OMIT)
				t = i == 0 ? st.st_atim : st.st_mtim;
			tv[i].tv_sec = t.tv_sec;
			tv[i].tv_usec = t.tv_nsec / 1000;
		}
	} else if (ts) {
		for (int i = 0; i < 2; i++) {
			tv[i].tv_sec = ts[i].tv_sec;
			tv[i].tv_usec = ts[i].tv_nsec / 1000;
		}
	}
	NFSP_CALL(m, r, NFSP_IDEM, "utimens", p, NFSP_NONE,
		  nfs_lutimes_async(ctx, p, ts ? tv : NULL, nfsp_cb, w));
	return r;
}

int nfsp_utimens(void *mnt, const char *path, void *fh,
		 const struct timespec ts[2])
{
	struct nfsp_mount *m = mnt;
	char p[NFSP_PATH_MAX];
	struct nfsfh *tfh = NULL;
	int r, rc;

	if (m->read_only)
		return -EROFS;
	if (fh)
		return times_on_fh(m, ((struct nfsp_file *)fh)->fh, ts);
	if ((r = nfsp_path(path, p)) < 0)
		return r;
	NFSP_CALL(m, r, NFSP_IDEM, "utimens", p, NFSP_PTR(&tfh),
		  nfs_open_async(ctx, p, O_RDONLY | O_NOFOLLOW, nfsp_cb, w));
	if (r == -ELOOP)
		return symlink_times(m, p, ts);
	if (r < 0)
		return r;
	r = times_on_fh(m, tfh, ts);
	NFSP_CALL(m, rc, NFSP_ONCE, "close", p, NFSP_NONE,
		  nfs_close_async(ctx, tfh, nfsp_cb, w));
	return r < 0 ? r : rc;
}

static int fsstat(struct nfsp_mount *m, struct statvfs *st)
{
	struct nfs_statvfs_64 sv;
	int r;

	NFSP_CALL(m, r, NFSP_IDEM, "statfs", NULL, NFSP_COPY(sv),
		  nfs_statvfs64_async(ctx, "/", nfsp_cb, w));
	if (r < 0)
		return r;
	memset(st, 0, sizeof *st);
	st->f_bsize = sv.f_bsize;
	st->f_frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
	st->f_blocks = sv.f_blocks;
	st->f_bfree = sv.f_bfree;
	st->f_bavail = sv.f_bavail;
	st->f_files = sv.f_files;
	st->f_ffree = sv.f_ffree;
	st->f_favail = sv.f_favail;
	st->f_fsid = sv.f_fsid;
	st->f_flag = m->read_only ? ST_RDONLY : 0;
	st->f_namemax = sv.f_namemax ? sv.f_namemax : 255;
	return 0;
}

/* The export's capacity (FSSTAT of the mount's root), as df shows it. */
int nfsp_statfs(void *mnt, const char *path, struct statvfs *st)
{
	struct nfsp_mount *m = mnt;
	int r;

	(void)path;
	if ((r = fsstat(m, st)) == 0)
		nfsp_note_space(m, st);
	return r;
}

void nfsp_note_space(struct nfsp_mount *m, const struct statvfs *sv)
{
	const struct nfsp_backend *be = m->be;
	uint64_t total = (uint64_t)sv->f_blocks * sv->f_frsize;
	uint64_t avail = (uint64_t)sv->f_bavail * sv->f_frsize;
	uint64_t limit = be->low_pct ? total / 100 * be->low_pct : be->low_bytes;
	int low = avail < limit;

	pthread_mutex_lock(&m->warn_lock);
	m->checked_at = time(NULL);
	if (limit && low != m->low) {
		m->low = low;
		m->host->log(m->host, low ? SCOPEFS_LOG_WARN : SCOPEFS_LOG_INFO,
			     "%s:%s: %" PRIu64 " MiB free of %" PRIu64
			     " MiB, %s low_space_warning (%" PRIu64 " MiB)",
			     be->server, m->root, avail >> 20, total >> 20,
			     low ? "below" : "back above", limit >> 20);
	}
	pthread_mutex_unlock(&m->warn_lock);
}

void nfsp_check_space(struct nfsp_mount *m, int force)
{
	struct statvfs sv;
	time_t last;

	if (!m->be->low_pct && !m->be->low_bytes)
		return;
	pthread_mutex_lock(&m->warn_lock);
	last = m->checked_at;
	pthread_mutex_unlock(&m->warn_lock);
	if (!force && time(NULL) - last < SPACE_CHECK_S)
		return;
	if (fsstat(m, &sv) == 0)
		nfsp_note_space(m, &sv);
}

int nfsp_give(struct nfsp_mount *m, const struct scopefs_caller *who,
	      struct nfsfh *fh, const char *p, mode_t setid, struct stat *st)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (!m->give_to_caller || !who)
		return 0;
	uid = st->st_uid == who->uid ? (uid_t)-1 : who->uid;
	/* A new node has the AUTH_SYS gid unless its directory is
	 * set-group-ID; then it has the directory's, and keeps it. */
	gid = st->st_gid != m->be->gid || st->st_gid == who->gid ? (gid_t)-1 :
								   who->gid;
	/* chmod by root keeps S_ISGID whatever the group; the caller may
	 * have it only on a file of its own group. */
	if (who->uid != 0 && (gid == (gid_t)-1 ? st->st_gid : gid) != who->gid)
		setid &= (mode_t)~S_ISGID;
	if (uid == (uid_t)-1 && gid == (gid_t)-1 && !setid)
		return 0;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    (r = chown_node(m, fh, p, uid, gid)) < 0)
		return r;
	if (setid &&
	    (r = chmod_node(m, fh, p, (st->st_mode & 07777) | setid)) < 0)
		return r;
	return fh ? fstat_fh(m, fh, st) : nfsp_lstat(m, p, st);
}
