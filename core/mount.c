/* mount: open a plugin mount, create its FUSE session, run and stop it. */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fuse_lowlevel.h>
#include "log.h"
#include "mount.h"
#include "objfs.h"

/* Worker threads per mount: enough to keep parallel plugin calls in flight
 * without letting one slow backend eat the machine. */
enum { MAX_THREADS = 16 };

static pthread_mutex_t *pick_lock(struct mount *m)
{
	switch (m->be->plugin->desc.thread_model) {
	case SCOPEFS_THREAD_SERIALIZE_BACKEND:
		return &m->be->lock;
	case SCOPEFS_THREAD_SERIALIZE_MOUNT:
		return &m->lock;
	default:
		return NULL;
	}
}

/* Is NAME one of the comma-separated FUSE options in OPTS? */
static int has_opt(const char *opts, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = opts; p && *p;) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		if ((p = strchr(p, ',')))
			p++;
	}
	return 0;
}

/* Does OPTS set NAME=VALUE? */
static int has_opt_value(const char *opts, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = opts; p && *p;) {
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return 1;
		if ((p = strchr(p, ',')))
			p++;
	}
	return 0;
}

static int build_session(struct mount *m, const char *opts, char *err,
			 size_t errlen)
{
	char base[512];
	char *argv[6];
	int argc = 0;
	struct fuse_args args;

	/* An fstab line names its own source (fsname=CONFIG): that is what
	 * mount(8) and findmnt match the line against. */
	if (has_opt_value(opts, "fsname"))
		base[0] = '\0';
	else
		snprintf(base, sizeof base, "fsname=scopefs:%s,",
			 m->be->cfg->name);
	snprintf(base + strlen(base), sizeof base - strlen(base),
		 "subtype=scopefs,default_permissions,auto_unmount%s",
		 m->cfg->read_only ? ",ro" : "");
	argv[argc++] = "scopefs";
	argv[argc++] = "-o";
	argv[argc++] = base;
	if (opts && *opts) {
		argv[argc++] = "-o";
		argv[argc++] = (char *)opts;
	}
	argv[argc] = NULL;
	args = (struct fuse_args)FUSE_ARGS_INIT(argc, argv);
	m->se = fuse_session_new(&args, &scopefs_fuse_ops,
				 sizeof scopefs_fuse_ops, m);
	fuse_opt_free_args(&args); /* libfuse may have copied them */
	if (!m->se) {
		snprintf(err, errlen,
			 "[mount %s]: FUSE refused the options '%s%s%s' (see "
			 "the message above)",
			 m->cfg->path, base, opts && *opts ? "," : "",
			 opts ? opts : "");
		return -EINVAL;
	}
	if (fuse_session_mount(m->se, m->cfg->path) != 0) {
		snprintf(err, errlen, "[mount %s]: the kernel refused the FUSE "
			 "mount (see the message above)", m->cfg->path);
		fuse_session_destroy(m->se);
		m->se = NULL;
		return -EIO;
	}
	return 0;
}

/* Object plugins: put the object layer between the front end and the
 * plugin, with this mount's TTL, owner and staging directory. */
static int start_objfs(struct mount *m, const char *opts, char *err,
		       size_t errlen)
{
	const struct cfg_mount *cfg = m->cfg;
	struct objfs_params p = m->be->objparams;
	char dir[PATH_MAX];
	int r;

	snprintf(dir, sizeof dir, "%s/%s%s", m->be->conf->cache_dir,
		 m->be->cfg->name, cfg->path);
	p.cache_dir = dir;
	p.ttl = cfg->cache_ttl;
	p.uid = cfg->has_uid ? cfg->uid : getuid();
	p.gid = cfg->has_gid ? cfg->gid : getgid();
	/* The kernel checks permissions against the modes it is shown: with
	 * other users on the mount, a listing's default mode is no answer
	 * for a file whose real one the listing does not carry. */
	p.multi_user = has_opt(opts, "allow_other") || has_opt(opts, "allow_root");
	p.label = m->label;
	p.metrics = metrics_mount(cfg->path);
	r = objfs_open(&m->be->plugin->obj, m->pmnt, &p, &m->objfs);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot start the object layer "
			 "(staging in '%s'): %s", m->label, dir, strerror(-r));
		return r;
	}
	m->ops = &objfs_fs_ops;
	m->mnt = m->objfs;
	return 0;
}

int mount_start(struct mount *m, const struct cfg_mount *cfg,
		struct backend *be, const char *opts, char *err,
		size_t errlen)
{
	const struct plugin *p = be->plugin;
	unsigned int flags = cfg->read_only ? SCOPEFS_MOUNT_READ_ONLY : 0;
	int exclusive = (p->desc.flags & SCOPEFS_CAP_EXCLUSIVE) != 0;
	int r;

	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->dirs_lock, NULL);
	m->cfg = cfg;
	m->be = be;
	snprintf(m->label, sizeof m->label, "[mount %s]", cfg->path);
	if (!p->has_fs && !p->has_obj) {
		snprintf(err, errlen, "%s: plugin %s has no operations this "
			 "core can serve", m->label, p->desc.name);
		return -ENOTSUP;
	}
	/* The kernel's writeback cache keeps pages, sizes and times in the
	 * kernel: on a store other machines write, close-to-open would be
	 * lost, and the object layer's ETag checks and times went wrong
	 * under it (ESTALE after a directory rename, utimens undone). */
	if (cfg->writeback_cache == CFG_YES && !p->has_fs) {
		snprintf(err, errlen, "%s: writeback_cache = yes: backend %s "
			 "(plugin %s) is an object store, which other machines "
			 "write; the kernel's writeback cache is only for "
			 "filesystem plugins (use auto or no)", m->label,
			 be->cfg->name, p->desc.name);
		return -EINVAL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->call_lock = pick_lock(m);
	m->ttl = cfg->cache_ttl;
	/* Only where nothing else can change the data behind the kernel's
	 * back: never for object stores, which other machines write. */
	m->writeback = cfg->writeback_cache == CFG_AUTO
			       ? exclusive && !cfg->read_only && p->has_fs
			       : cfg->writeback_cache == CFG_YES;
	m->keep_cache = exclusive && p->has_fs;
	m->stable_ino = (p->desc.flags & SCOPEFS_CAP_STABLE_INO) != 0;
	m->posix_acl = (p->desc.flags & SCOPEFS_CAP_POSIX_ACL) && p->has_fs;
	if ((r = inode_table_init(&m->inodes)) < 0) {
		snprintf(err, errlen, "%s: %s", m->label, strerror(-r));
		pthread_mutex_destroy(&m->lock);
		return r;
	}
	host_clear_error();
	r = p->desc.mount_open(be->handle, cfg->prefix, flags, &m->pmnt);
	if (r < 0) {
		const char *why = *host_last_error() ? host_last_error()
						     : strerror(-r);
		snprintf(err, errlen, "%s: backend %s (plugin %s) cannot serve "
			 "prefix '%s': %s", m->label, be->cfg->name,
			 p->desc.name, cfg->prefix, why);
		goto fail;
	}
	if (p->has_fs) {
		m->ops = &p->fs;
		m->mnt = m->pmnt;
	} else if ((r = start_objfs(m, opts, err, errlen)) < 0) {
		p->desc.mount_close(m->pmnt);
		goto fail;
	}
	if (metrics_mount(cfg->path)) {
		fs_metered_init(&m->meter, m->ops, m->mnt,
				metrics_mount(cfg->path));
		m->ops = &m->meter.ops;
		m->mnt = &m->meter;
	}
	if ((r = build_session(m, opts, err, errlen)) < 0) {
		objfs_close(m->objfs);
		p->desc.mount_close(m->pmnt);
		goto fail;
	}
	return 0;
fail:
	inode_table_destroy(&m->inodes);
	pthread_mutex_destroy(&m->lock);
	return r;
}

struct run_args {
	struct mount *m;
	void (*on_exit)(struct mount *);
};

static void *mount_thread(void *arg)
{
	struct run_args ra = *(struct run_args *)arg;
	struct mount *m = ra.m;
	struct fuse_loop_config *lc = fuse_loop_cfg_create();

	free(arg);
	if (lc) {
		fuse_loop_cfg_set_clone_fd(lc, 1);
		fuse_loop_cfg_set_max_threads(lc, MAX_THREADS);
		m->loop_status = fuse_session_loop_mt(m->se, lc);
		fuse_loop_cfg_destroy(lc);
	} else {
		m->loop_status = -ENOMEM;
	}
	fuse_session_unmount(m->se);
	log_info("[mount %s]: unmounted", m->cfg->path);
	__atomic_store_n(&m->running, 0, __ATOMIC_RELEASE);
	if (ra.on_exit)
		ra.on_exit(m);
	return NULL;
}

int mount_run(struct mount *m, void (*on_exit)(struct mount *))
{
	struct run_args *ra = malloc(sizeof *ra);
	int r;

	if (!ra)
		return -ENOMEM;
	ra->m = m;
	ra->on_exit = on_exit;
	m->running = 1;
	r = pthread_create(&m->thread, NULL, mount_thread, ra);
	if (r) {
		m->running = 0;
		free(ra);
		return -r;
	}
	return 0;
}

void mount_stop(struct mount *m)
{
	if (m->se)
		fuse_session_exit(m->se);
}

void mount_finish(struct mount *m)
{
	if (m->thread) {
		/* The loop notices the exit flag only when woken: poke its
		 * thread with SIGUSR1 (a no-op handler) until it ends. */
		while (__atomic_load_n(&m->running, __ATOMIC_ACQUIRE)) {
			struct timespec ts = {0, 50 * 1000 * 1000};

			pthread_kill(m->thread, SIGUSR1);
			nanosleep(&ts, NULL);
		}
		pthread_join(m->thread, NULL);
		m->thread = 0;
	} else if (m->se) {
		fuse_session_unmount(m->se); /* mounted, never served */
	}
	if (m->se) {
		fuse_session_destroy(m->se);
		m->se = NULL;
	}
	fuse_ops_teardown(m);
	objfs_close(m->objfs);
	m->objfs = NULL;
	if (m->pmnt)
		m->be->plugin->desc.mount_close(m->pmnt);
	m->pmnt = m->mnt = NULL;
	inode_table_destroy(&m->inodes);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->dirs_lock);
}

/* Undo the octal escapes (\040 for space) of /proc/self/mountinfo. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* The line of /proc/self/mountinfo that mounts on REAL (the last one:
 * it is what a path lookup reaches); its filesystem type into FSTYPE
 * (may be NULL).  Returns 1 if there is one. */
static int mount_table_find(const char *real, char *fstype, size_t len)
{
	char line[4096 + 512];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char *save = NULL, *tok = strtok_r(line, " ", &save);

		for (int i = 0; tok && i < 4; i++)
			tok = strtok_r(NULL, " ", &save);
		if (!tok)
			continue;
		unescape(tok);
		if (strcmp(tok, real) != 0)
			continue;
		found = 1;
		/* optional fields, then "-", then the type */
		while ((tok = strtok_r(NULL, " ", &save)) && strcmp(tok, "-"))
			;
		if (fstype && len)
			snprintf(fstype, len, "%s",
				 tok && (tok = strtok_r(NULL, " ", &save)) ? tok
									 : "");
	}
	fclose(f);
	return found;
}

int mount_table_has(const char *real)
{
	return mount_table_find(real, NULL, 0);
}

int mount_point_fstype(const char *path, char *fstype, size_t len)
{
	char real[PATH_MAX];

	return realpath(path, real) && mount_table_find(real, fstype, len);
}

int mount_point_busy(const char *path)
{
	char real[PATH_MAX];

	return realpath(path, real) && mount_table_has(real);
}
