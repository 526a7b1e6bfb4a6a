/*
 * scopefs in a container, as docs/containers.md runs it, with namespaces
 * instead of a container engine (CI has none, nor a network): a mount and
 * PID namespace (unshare), a new root holding the host's /usr read-only,
 * the installed files (bin/scopefs and the plugins, as `make install`
 * lays them out under /usr/local), a /dev with only null, zero, urandom
 * and fuse, a /proc of its own and the backing directory; pivot_root into
 * it, then `scopefs mount -f` exec'd as the container's PID 1.  That is
 * what `docker run --device /dev/fuse --cap-add SYS_ADMIN` sets up, minus
 * the image.
 *
 * Layout of the test's DIR (mount_fixture.h):
 *   DIR/root        the container's root; its config is etc/scopefs/
 *   DIR/stage       the installed files (usr/local/...), bound on /usr/local
 *   DIR/data        the host directory the container sees as /var/lib/scopefs
 *   DIR/exposed     a shared bind mount on the host, the container's /mnt
 *                   (only the propagation test)
 *   DIR/container.sh  the commands run inside the new namespaces
 *   DIR/daemon.log  everything the container printed (set -x included)
 *
 * A failed assertion prints the config and DIR/daemon.log.  Needs root.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include "mount_fixture.h"

static void ct_teardown(void);

TestSuite(container, .fini = ct_teardown, .timeout = 60);

#define CT_MNT "/mnt/cluster_storage"
#define CT_CONF "/etc/scopefs/scopefs.conf"
#define CT_PLUGINS "/usr/local/lib/scopefs/plugins"
#define CT_PREFIX "job/job_1/cluster_storage"
#define CT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum {
	CT_NO_FUSE = 1u << 0,      /* /dev/fuse left out of the container */
	CT_NO_SYS_ADMIN = 1u << 1, /* CAP_SYS_ADMIN dropped (setpriv) */
	CT_SHARED_MNT = 1u << 2,   /* /mnt is a shared bind of DIR/exposed */
};

static struct {
	unsigned flags;
	/* DIR (at most 1024) and a short name */
	char root[1100], stage[1100], data[1100], exposed[1100], script[1100];
	int exposed_mounted;
	pid_t unshare; /* our child; 0 once reaped */
	pid_t init;    /* the container's PID 1, as this namespace numbers it */
	pid_t holder;  /* a process kept in the container's mount namespace */
	int holder_fd; /* write end of the holder's pipe */
	int status;    /* unshare's wait status, once reaped */
} ct;

/* ---- mount tables ------------------------------------------------------ */

/* One line of a /proc/PID/mountinfo. */
struct ct_mnt {
	char point[PATH_MAX];
	char dev[32]; /* major:minor */
	char type[64];
};

/* Every mount of a mountinfo file, in a malloc'd array; how many. */
static int ct_mounts(const char *mountinfo, struct ct_mnt **out)
{
	FILE *f = fopen(mountinfo, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0, max = 0;
	*out = NULL;
	while (f && getline(&line, &cap, f) > 0) {
		char dev[32], point[PATH_MAX], *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %31s %*s %4095s", dev,
				   point) != 2)
			continue;
		if (n == max) {
			max = max ? 2 * max : 32;
			*out = realloc(*out, max * sizeof **out);
			cr_assert(*out, "out of memory");
		}
		struct ct_mnt *m = &(*out)[n++];
		fx_unescape(point);
		snprintf(m->point, sizeof m->point, "%s", point);
		snprintf(m->dev, sizeof m->dev, "%s", dev);
		if (sscanf(sep, " - %63s", m->type) != 1)
			snprintf(m->type, sizeof m->type, "?");
	}
	free(line);
	if (f)
		fclose(f);
	return n;
}

/* The topmost mount on POINT in MOUNTINFO, into *m; 1 if there is one. */
static int ct_find(const char *mountinfo, const char *point, struct ct_mnt *m)
{
	struct ct_mnt *all;
	int n = ct_mounts(mountinfo, &all), found = 0;
	for (int i = 0; i < n; i++)
		if (strcmp(all[i].point, point) == 0) {
			*m = all[i];
			found = 1;
		}
	free(all);
	return found;
}

/* MOUNTINFO, for a failure message (malloc'd). */
static char *ct_table(const char *mountinfo)
{
	char *t = fx_slurp(mountinfo, NULL);
	return t ? t : strdup("(unreadable)");
}

/* ---- building the container -------------------------------------------- */

/* Where the host sees CT_MNT with CT_SHARED_MNT: DIR/exposed is /mnt. */
static const char *ct_host_mnt(void)
{
	return fx_fmt("%s/%s", ct.exposed, strrchr(CT_MNT, '/') + 1);
}

static void ct_copy(const char *from, const char *to, mode_t mode)
{
	size_t len;
	char *b = fx_slurp(from, &len);
	FX_ASSERT(b, "reading %s: %s", from, strerror(errno));
	FX_OK(fx_write_file(to, b, len, mode));
	free(b);
}

/* nftw has no user pointer: where the plugins go. */
static const char *ct_plugin_dest;

static int ct_copy_plugin(const char *p, const struct stat *st, int type,
			  struct FTW *ftw)
{
	const char *base = p + ftw->base;
	size_t n = strlen(base);
	(void)st;
	if (type == FTW_F && strncmp(base, "scopefs-", 8) == 0 && n > 3 &&
	    strcmp(base + n - 3, ".so") == 0)
		ct_copy(p, fx_fmt("%s/%s", ct_plugin_dest, base), 0755);
	return 0;
}

/* What `make install DESTDIR=DIR/stage PREFIX=/usr/local` puts there
 * that the daemon needs: the binary under test and every plugin of its
 * build (plugins/NAME/scopefs-NAME.so, installed flat). */
static void ct_stage(void)
{
	const char *plugins = getenv("SCOPEFS_PLUGIN_DIR");
	FX_OK(fx_mkdirs(fx_fmt("%s/usr/local/bin", ct.stage), 0755));
	FX_OK(fx_mkdirs(fx_fmt("%s/usr/local/lib/scopefs/plugins", ct.stage),
			0755));
	ct_copy(fx.bin, fx_fmt("%s/usr/local/bin/scopefs", ct.stage), 0755);
	ct_plugin_dest = fx_fmt("%s/usr/local/lib/scopefs/plugins", ct.stage);
	FX_ASSERT(plugins && nftw(plugins, ct_copy_plugin, 16, FTW_PHYS) == 0,
		  "copying the plugins of SCOPEFS_PLUGIN_DIR=%s: %s",
		  plugins ? plugins : "(unset)", strerror(errno));
	FX_ASSERT(access(fx_fmt("%s/scopefs-local.so", ct_plugin_dest), R_OK)
			  == 0,
		  "expected scopefs-local.so under SCOPEFS_PLUGIN_DIR=%s, saw "
		  "none (make build)", plugins);
}

/* The container's config: the local plugin on its /var/lib/scopefs. */
static void ct_write_config(void)
{
	FILE *f = fopen(fx.conf, "w");
	FX_ASSERT(f, "fopen %s: %s", fx.conf, strerror(errno));
	fprintf(f, "[scopefs]\nplugin_dir = " CT_PLUGINS "\nlog_level = info\n\n"
		   "[identity]\ncloud_id = cld_1\nuser_id = usr_1\n"
		   "workload = job\nworkload_id = job_1\n\n"
		   "[backend default]\nplugin = local\nroot = /var/lib/scopefs\n\n"
		   "[mount " CT_MNT "]\nbackend = default\nscope = cluster\n");
	fclose(f);
}

/* The root's directories and, as on the host, its top-level links into
 * /usr (merged /usr: /bin -> usr/bin, ...); a top-level directory that is
 * no link is bound read-only by the script (its mount line in *binds). */
static void ct_make_root(char *binds, size_t len)
{
	static const char *const dirs[] = { "usr", "dev", "proc", "tmp",
					    "etc/scopefs", "var/lib/scopefs",
					    ".oldroot" };
	static const char *const tops[] = { "bin", "sbin", "lib", "lib32",
					    "lib64", "libx32" };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		FX_OK(fx_mkdirs(fx_fmt("%s/%s", ct.root, dirs[i]), 0755));
	/* the mount point: in the root, or in DIR/exposed, the shared /mnt */
	FX_OK(fx_mkdirs(fx_fmt("%s/mnt", ct.root), 0755));
	FX_OK(fx_mkdirs(ct.flags & CT_SHARED_MNT ? ct_host_mnt()
						  : fx_fmt("%s" CT_MNT, ct.root),
			0755));
	binds[0] = '\0';
	for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
		char to[PATH_MAX], from[PATH_MAX], target[PATH_MAX];
		ssize_t n;
		struct stat st;
		snprintf(from, sizeof from, "/%s", tops[i]);
		snprintf(to, sizeof to, "%s/%s", ct.root, tops[i]);
		if (lstat(from, &st) < 0)
			continue;
		if (S_ISLNK(st.st_mode) &&
		    (n = readlink(from, target, sizeof target - 1)) > 0) {
			target[n] = '\0';
			FX_OK(symlink(target, to));
		} else if (S_ISDIR(st.st_mode)) {
			FX_OK(mkdir(to, 0755));
			snprintf(binds + strlen(binds), len - strlen(binds),
				 "mount -o bind,ro /%s '%s'\n", tops[i], to);
		}
	}
}

/* The commands run in the new namespaces: assemble the root, pivot into
 * it, detach the host's tree, exec the daemon as PID 1. */
static void ct_write_script(const char *binds)
{
	FILE *f = fopen(ct.script, "w");
	FX_ASSERT(f, "fopen %s: %s", ct.script, strerror(errno));
	fprintf(f, "set -eux\n");
	/* Shared: the namespace kept the host's propagation (a shared bind
	 * must stay a peer of the host's), so make the mount holding the
	 * root private first; nothing below then reaches the host. */
	if (ct.flags & CT_SHARED_MNT)
		fprintf(f, "mount --make-private \"$(findmnt -n -o TARGET -T "
			   "'%s')\"\n", ct.root);
	/* pivot_root wants the new root a mount point of its own */
	fprintf(f, "mount --bind '%1$s' '%1$s'\n"
		   "mount -o bind,ro /usr '%1$s/usr'\n"
		   "mount -o bind,ro '%2$s/usr/local' '%1$s/usr/local'\n%3$s"
		   "mount -t tmpfs -o mode=755,nosuid,size=64k tmpfs '%1$s/dev'\n"
		   "for n in null zero urandom%4$s; do\n"
		   "\ttouch '%1$s'/dev/$n\n"
		   "\tmount --bind /dev/$n '%1$s'/dev/$n\n"
		   "done\n"
		   "mount -t proc -o nosuid,nodev,noexec proc '%1$s/proc'\n"
		   "mount --bind '%5$s' '%1$s/var/lib/scopefs'\n",
		ct.root, ct.stage, binds,
		ct.flags & CT_NO_FUSE ? "" : " fuse", ct.data);
	if (ct.flags & CT_SHARED_MNT)
		fprintf(f, "mount --bind '%s' '%s/mnt'\n", ct.exposed, ct.root);
	/* rslave before the detach: unmounts under the old root must not
	 * travel back to the host's peers */
	fprintf(f, "cd '%s'\n"
		   "pivot_root . .oldroot\n"
		   "mount --make-rslave /.oldroot\n"
		   "umount -l /.oldroot\n"
		   "rmdir /.oldroot\n"
		   "cd /\n"
		   "exec %s/usr/local/bin/scopefs mount -f " CT_CONF "\n",
		ct.root, ct.flags & CT_NO_SYS_ADMIN ?
			"setpriv --bounding-set -sys_admin " : "");
	fclose(f);
}

/* The host side of CT_SHARED_MNT: DIR/exposed a shared mount of its own,
 * as `docker -v DIR/exposed:/mnt:rshared` wants its source. */
static void ct_expose(void)
{
	FX_OK(mount(ct.exposed, ct.exposed, NULL, MS_BIND, NULL));
	ct.exposed_mounted = 1;
	FX_OK(mount(NULL, ct.exposed, NULL, MS_PRIVATE, NULL));
	FX_OK(mount(NULL, ct.exposed, NULL, MS_SHARED, NULL));
}

static void ct_prepare(unsigned flags)
{
	if (geteuid() != 0)
		cr_skip_test("needs root: mount and PID namespaces, pivot_root");
	fx_prepare_dir();
	ct.flags = flags;
	ct.holder_fd = -1;
	for (const char *c = fx.dir; *c; c++)
		FX_ASSERT(*c != '\'', "DIR %s: expected no ' in it (the "
			  "script quotes paths with it)", fx.dir);
	snprintf(ct.root, sizeof ct.root, "%s/root", fx.dir);
	snprintf(ct.stage, sizeof ct.stage, "%s/stage", fx.dir);
	snprintf(ct.data, sizeof ct.data, "%s/data", fx.dir);
	snprintf(ct.exposed, sizeof ct.exposed, "%s/exposed", fx.dir);
	snprintf(ct.script, sizeof ct.script, "%s/container.sh", fx.dir);
	snprintf(fx.conf, sizeof fx.conf, "%s" CT_CONF, ct.root);

	char binds[1024];
	ct_make_root(binds, sizeof binds);
	ct_stage();
	ct_write_config();
	ct_write_script(binds);
	if (flags & CT_SHARED_MNT)
		ct_expose();
}

/* ---- running it -------------------------------------------------------- */

/* unshare, with the clean environment of a container, output to the log.
 * Should this test process die, unshare is killed (PDEATHSIG) and sends
 * the container's PID 1 SIGTERM (--kill-child): a clean stop. */
static void ct_spawn(void)
{
	pid_t parent = getpid();
	char *argv[] = { "unshare", "--mount", "--pid", "--fork",
			 "--kill-child=SIGTERM", "--propagation",
			 ct.flags & CT_SHARED_MNT ? "unchanged" : "private",
			 "/bin/sh", ct.script, NULL };
	char *envp[] = { CT_PATH, NULL };

	fflush(NULL);
	ct.unshare = fork();
	FX_ASSERT(ct.unshare >= 0, "fork: %s", strerror(errno));
	if (ct.unshare > 0)
		return;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int in = open("/dev/null", O_RDONLY);
	int out = open(fx.log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(out, 2) < 0)
		_exit(127);
	execve("/usr/bin/unshare", argv, envp);
	dprintf(2, "exec /usr/bin/unshare: %s\n", strerror(errno));
	_exit(127);
}

/* unshare has exited (reaped into ct.status)? */
static int ct_ended(void)
{
	if (!ct.unshare)
		return 1;
	if (waitpid(ct.unshare, &ct.status, WNOHANG) != ct.unshare)
		return 0;
	ct.unshare = 0;
	return 1;
}

/* PID runs the container's scopefs (argv[0]), not yet the script. */
static int ct_is_daemon(pid_t pid)
{
	char *cmd = fx_slurp(fx_fmt("/proc/%d/cmdline", (int)pid), NULL);
	int yes = cmd && strcmp(cmd, "/usr/local/bin/scopefs") == 0;
	free(cmd);
	return yes;
}

/* Start the container and wait until its daemon serves CT_MNT. */
static void ct_start(unsigned flags)
{
	ct_prepare(flags);
	ct_spawn();
	for (long waited = 0;; waited += 20) {
		struct ct_mnt m;
		FX_ASSERT(!ct_ended(), "expected the container to keep running, "
			  "saw it end before %s was mounted: %s", CT_MNT,
			  fx_status_str(ct.status));
		if (!ct.init)
			fx_children(ct.unshare, 0, &ct.init, 1);
		/* the daemon exec'd (so the root is the container's) and
		 * its mount up */
		if (ct.init && ct_is_daemon(ct.init) &&
		    ct_find(fx_fmt("/proc/%d/mountinfo", (int)ct.init), CT_MNT,
			    &m) &&
		    strcmp(m.type, "fuse.scopefs") == 0)
			return;
		FX_ASSERT(waited < FX_MOUNT_TIMEOUT_MS, "expected %s mounted in "
			  "the container within %d ms, saw it not in its mount "
			  "table", CT_MNT, FX_MOUNT_TIMEOUT_MS);
		fx_sleep_ms(20);
	}
}

/* Wait (bounded) for a container that is meant to end by itself. */
static void ct_wait_end(void)
{
	for (long waited = 0; !ct_ended(); waited += 20) {
		FX_ASSERT(waited < FX_MOUNT_TIMEOUT_MS, "expected the container "
			  "to end by itself within %d ms, saw it still running",
			  FX_MOUNT_TIMEOUT_MS);
		fx_sleep_ms(20);
	}
}

/* SIGTERM the container's PID 1 and wait for the container to end;
 * ct.status is unshare's, which is PID 1's exit status. */
static void ct_stop(void)
{
	kill(ct.init, SIGTERM);
	int ended = fx_wait_timeout(ct.unshare, &ct.status, FX_STOP_TIMEOUT_MS);
	if (!ended) {
		kill(ct.init, SIGKILL); /* ends its whole PID namespace */
		waitpid(ct.unshare, &ct.status, 0);
	}
	ct.unshare = 0;
	FX_ASSERT(ended, "expected the container to end within %d ms of "
		  "SIGTERM to its PID 1, saw it still running (killed it)",
		  FX_STOP_TIMEOUT_MS);
}

static void ct_expect_exit(int code, const char *after)
{
	FX_ASSERT(WIFEXITED(ct.status) && WEXITSTATUS(ct.status) == code,
		  "expected the container to exit %d %s, saw %s", code, after,
		  fx_status_str(ct.status));
}

/* Fork a process into the container's mount and PID namespaces, with its
 * root (nsenter -m -p -r), and run FN there; FN's exit code. */
static int ct_run_inside(int (*fn)(const void *), const void *arg)
{
	fflush(NULL);
	pid_t p = fork();
	FX_ASSERT(p >= 0, "fork: %s", strerror(errno));
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int root = open(fx_fmt("/proc/%d/root", (int)ct.init),
				O_PATH | O_DIRECTORY);
		int mnt = open(fx_fmt("/proc/%d/ns/mnt", (int)ct.init), O_RDONLY);
		int pid = open(fx_fmt("/proc/%d/ns/pid", (int)ct.init), O_RDONLY);
		if (root < 0 || mnt < 0 || pid < 0 || setns(mnt, CLONE_NEWNS) ||
		    setns(pid, CLONE_NEWPID) || fchdir(root) || chroot(".")) {
			dprintf(2, "entering the container of pid %d: %s\n",
				(int)ct.init, strerror(errno));
			_exit(126);
		}
		/* only children enter the PID namespace */
		pid_t c = fork();
		int st = 0;
		if (c == 0)
			_exit(fn(arg));
		_exit(c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st)
			      ? WEXITSTATUS(st) : 125);
	}
	int st;
	if (!fx_wait_timeout(p, &st, 20000)) {
		kill(p, SIGKILL);
		waitpid(p, &st, 0);
		return -1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Keep a process in the container's mount namespace, chrooted to its
 * root, so that its mount table can still be read once PID 1 is gone. */
static void ct_hold(void)
{
	int p[2], ready[2];
	FX_OK(pipe2(p, O_CLOEXEC));
	FX_OK(pipe(ready));
	fflush(NULL);
	ct.holder = fork();
	FX_ASSERT(ct.holder >= 0, "fork: %s", strerror(errno));
	if (ct.holder == 0) {
		char c = 'x';
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		close(ready[0]);
		int root = open(fx_fmt("/proc/%d/root", (int)ct.init),
				O_PATH | O_DIRECTORY);
		int mnt = open(fx_fmt("/proc/%d/ns/mnt", (int)ct.init), O_RDONLY);
		if (root < 0 || mnt < 0 || setns(mnt, CLONE_NEWNS) ||
		    fchdir(root) || chroot("."))
			_exit(1);
		close(root);
		(void)!write(ready[1], &c, 1);
		(void)!read(p[0], &c, 1); /* until the test closes its end */
		_exit(0);
	}
	char c;
	close(p[0]);
	close(ready[1]);
	ct.holder_fd = p[1];
	ssize_t r = read(ready[0], &c, 1);
	close(ready[0]);
	FX_ASSERT(r == 1, "expected a process to enter the container's mount "
		  "namespace, saw it fail (pid %d)", (int)ct.init);
}

static void ct_release_holder(void)
{
	if (!ct.holder)
		return;
	close(ct.holder_fd);
	ct.holder_fd = -1;
	waitpid(ct.holder, NULL, 0);
	ct.holder = 0;
}

/* The identity of PID's PID namespace ("pid:[N]"), into buf. */
static const char *ct_pidns(pid_t pid, char *buf, size_t len)
{
	ssize_t n = readlink(fx_fmt("/proc/%d/ns/pid", (int)pid), buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* How many processes are in the PID namespace NS. */
static int ct_procs_in(const char *ns)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	char buf[64];
	while (d && (e = readdir(d)))
		if (atoi(e->d_name) > 0 &&
		    strcmp(ct_pidns(atoi(e->d_name), buf, sizeof buf), ns) == 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

/* The suite's .fini: no container, holder or host mount left behind. */
static void ct_teardown(void)
{
	if (ct.unshare) {
		if (ct.init)
			kill(ct.init, SIGKILL);
		kill(ct.unshare, SIGKILL);
		waitpid(ct.unshare, NULL, 0);
		ct.unshare = 0;
	}
	ct_release_holder();
	if (ct.exposed_mounted) {
		umount2(ct_host_mnt(), MNT_DETACH);
		umount2(ct.exposed, MNT_DETACH);
		ct.exposed_mounted = 0;
	}
	fx_teardown();
}

/* ---- what runs inside -------------------------------------------------- */

#define CT_FILE_LEN (256 * 1024)

static void ct_pattern(unsigned char *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 131 + seed) ^ (i >> 9));
}

/* In the container: write from-container.bin through the mount, and read
 * back what the host put in its directory. */
static int write_and_read_through_the_mount(const void *host_text)
{
	static unsigned char b[CT_FILE_LEN];
	char seen[256];
	ct_pattern(b, sizeof b, 7);
	if (fx_write_file(CT_MNT "/from-container.bin", b, sizeof b, 0644)) {
		fprintf(stderr, "in the container: writing %s/from-container.bin: "
			"%s\n", CT_MNT, strerror(errno));
		return 1;
	}
	if (fx_read_file(CT_MNT "/from-host.txt", seen, sizeof seen) < 0 ||
	    strcmp(seen, host_text) != 0) {
		fprintf(stderr, "in the container: expected %s/from-host.txt to "
			"read \"%s\", saw \"%s\" (%s)\n", CT_MNT,
			(const char *)host_text, seen, strerror(errno));
		return 1;
	}
	return 0;
}

/* ---- the tests --------------------------------------------------------- */

/* The container's mount table holds what the recipe put there and
 * nothing of the host's (pivot_root detached it), and the FUSE mount is
 * in no other table: the host's shows neither it nor anything under the
 * container's root. */
Test(container, scopefs_runs_as_pid_1_and_its_mount_stays_in_the_container)
{
	static const char *const recipe[] = {
		"/", "/usr", "/usr/local", "/dev", "/dev/null", "/dev/zero",
		"/dev/urandom", "/dev/fuse", "/proc", "/var/lib/scopefs", CT_MNT
	};
	ct_start(0);
	const char *inside = fx_fmt("/proc/%d/mountinfo", (int)ct.init);

	char *st = fx_slurp(fx_fmt("/proc/%d/status", (int)ct.init), NULL);
	char *nspid = st ? strstr(st, "NSpid:") : NULL;
	char *eol = nspid ? strchr(nspid, '\n') : NULL;
	if (eol)
		*eol = '\0';
	FX_ASSERT(nspid && eol && eol - nspid > 2 && !strcmp(eol - 2, "\t1"),
		  "expected the daemon to be PID 1 of the container (NSpid "
		  "ending in 1), saw \"%s\"", nspid ? nspid : "(no NSpid)");
	free(st);

	struct ct_mnt fuse, *all;
	FX_ASSERT(ct_find(inside, CT_MNT, &fuse), "expected %s in the "
		  "container's mount table", CT_MNT);
	int n = ct_mounts(inside, &all);
	for (int i = 0; i < n; i++) {
		size_t k = 0;
		while (k < sizeof recipe / sizeof recipe[0] &&
		       strcmp(recipe[k], all[i].point))
			k++;
		if (k == sizeof recipe / sizeof recipe[0])
			FX_FAIL("expected only the recipe's mounts in the "
				"container, saw %s (%s):\n%s", all[i].point,
				all[i].type, ct_table(inside));
	}
	free(all);

	n = ct_mounts("/proc/self/mountinfo", &all);
	size_t rl = strlen(ct.root);
	for (int i = 0; i < n; i++) {
		int under = !strncmp(all[i].point, ct.root, rl) &&
			    (all[i].point[rl] == '/' || !all[i].point[rl]);
		FX_ASSERT(strcmp(all[i].dev, fuse.dev) && !under,
			  "expected the container's mounts out of the host's "
			  "mount table, saw %s (%s, device %s; the container's "
			  "FUSE mount is device %s)", all[i].point, all[i].type,
			  all[i].dev, fuse.dev);
	}
	free(all);
	ct_stop();
	ct_expect_exit(0, "after SIGTERM");
}

/* Bytes written by a process of the container through its mount are the
 * host directory's, and the reverse. */
Test(container, a_file_written_in_the_container_lands_in_the_host_directory)
{
	static const char host_text[] = "written on the host\n";
	static unsigned char want[CT_FILE_LEN];
	ct_start(0);
	const char *backing = fx_fmt("%s/" CT_PREFIX, ct.data);
	FX_OK(fx_write_file(fx_fmt("%s/from-host.txt", backing), host_text,
			    strlen(host_text), 0644));

	int rc = ct_run_inside(write_and_read_through_the_mount, host_text);
	FX_ASSERT(rc == 0, "expected the process in the container to write and "
		  "read through %s (exit 0), saw exit %d (its message is "
		  "above)", CT_MNT, rc);

	size_t len = 0;
	char *seen = fx_slurp(fx_fmt("%s/from-container.bin", backing), &len);
	FX_ASSERT(seen, "expected %s/from-container.bin on the host, saw: %s",
		  backing, strerror(errno));
	FX_EQ_INT(len, CT_FILE_LEN);
	ct_pattern(want, sizeof want, 7);
	FX_EQ_MEM(seen, want, CT_FILE_LEN);
	free(seen);
	ct_stop();
	ct_expect_exit(0, "after SIGTERM");
}

/* SIGTERM to PID 1 (what `docker stop` and the kubelet send): the daemon
 * unmounts by itself (the mount is gone from the namespace, which a
 * holder keeps alive: not torn down with it), exits 0, and no process of
 * the container is left. */
Test(container, sigterm_to_pid_1_unmounts_and_ends_the_container_with_exit_0)
{
	char ns[64];
	struct ct_mnt m;
	ct_start(0);
	ct_hold();
	ct_pidns(ct.init, ns, sizeof ns);
	const char *held = fx_fmt("/proc/%d/mountinfo", (int)ct.holder);
	FX_ASSERT(ct_find(held, CT_MNT, &m), "expected the holder to see %s "
		  "mounted before the stop", CT_MNT);

	ct_stop();
	ct_expect_exit(0, "after SIGTERM to its PID 1");
	held = fx_fmt("/proc/%d/mountinfo", (int)ct.holder);
	char *t = ct_table(held);
	FX_ASSERT(!ct_find(held, CT_MNT, &m), "expected %s unmounted by the "
		  "daemon, saw it still in the container's mount table (%s):\n%s",
		  CT_MNT, m.type, t);
	free(t);
	int left = ct_procs_in(ns);
	FX_ASSERT(left == 0, "expected no process left in the container's PID "
		  "namespace (%s), saw %d", ns, left);
	char *log = fx_slurp(fx.log, NULL);
	FX_ASSERT(log && strstr(log, "[mount " CT_MNT "]: unmounted"),
		  "expected the daemon to log \"[mount %s]: unmounted\"", CT_MNT);
	free(log);
	ct_release_holder();
}

/* A container started without --device /dev/fuse: the daemon exits 1,
 * and the log says the FUSE device is missing.  (The words are
 * fusermount3's; scopefs adds the mount it could not make.) */
Test(container, without_dev_fuse_the_mount_fails_saying_the_device_is_missing)
{
	ct_prepare(CT_NO_FUSE);
	ct_spawn();
	ct_wait_end();
	ct_expect_exit(1, "without /dev/fuse");
	char *log = fx_slurp(fx.log, NULL);
	FX_ASSERT(log && strstr(log, "fuse device not found") &&
			  strstr(log, "[mount " CT_MNT "]: the kernel refused "
				      "the FUSE mount"),
		  "expected \"fuse device not found\" and \"[mount %s]: the "
		  "kernel refused the FUSE mount\" in the log", CT_MNT);
	free(log);
}

/* Without --cap-add SYS_ADMIN (the capability dropped from the bounding
 * set, as a container engine does): mount(2) is refused, exit 1. */
Test(container, without_cap_sys_admin_the_mount_is_refused)
{
	ct_prepare(CT_NO_SYS_ADMIN);
	ct_spawn();
	ct_wait_end();
	ct_expect_exit(1, "without CAP_SYS_ADMIN");
	char *log = fx_slurp(fx.log, NULL);
	FX_ASSERT(log && strstr(log, "mount failed: Operation not permitted"),
		  "expected fusermount3's \"mount failed: Operation not "
		  "permitted\" in the log");
	free(log);
}

/* /mnt a shared bind of a shared host directory (docker's
 * `-v DIR:/mnt:rshared`, Kubernetes' mountPropagation: Bidirectional):
 * the FUSE mount reaches the host, which reads the container's file
 * through it, served by the container's daemon; SIGTERM takes it off the
 * host too. */
Test(container, with_a_shared_bind_the_mount_reaches_the_host_until_sigterm)
{
	static const char host_text[] = "written on the host\n";
	static unsigned char want[CT_FILE_LEN];
	struct ct_mnt in, out;
	ct_start(CT_SHARED_MNT);
	const char *host_mnt = ct_host_mnt();
	char *t = ct_table("/proc/self/mountinfo");
	FX_ASSERT(ct_find(fx_fmt("/proc/%d/mountinfo", (int)ct.init), CT_MNT,
			  &in) &&
			  ct_find("/proc/self/mountinfo", host_mnt, &out) &&
			  !strcmp(in.dev, out.dev),
		  "expected the container's %s on the host at %s, saw:\n%s",
		  CT_MNT, host_mnt, t);
	free(t);
	FX_OK(fx_write_file(fx_fmt("%s/" CT_PREFIX "/from-host.txt", ct.data),
			    host_text, strlen(host_text), 0644));
	FX_EQ_INT(ct_run_inside(write_and_read_through_the_mount, host_text), 0);
	size_t len = 0;
	char *seen = fx_slurp(fx_fmt("%s/from-container.bin", host_mnt), &len);
	FX_ASSERT(seen, "expected to read %s/from-container.bin on the host, "
		  "saw: %s", host_mnt, strerror(errno));
	FX_EQ_INT(len, CT_FILE_LEN);
	ct_pattern(want, sizeof want, 7);
	FX_EQ_MEM(seen, want, CT_FILE_LEN);
	free(seen);

	ct_stop();
	ct_expect_exit(0, "after SIGTERM");
	t = ct_table("/proc/self/mountinfo");
	FX_ASSERT(!ct_find("/proc/self/mountinfo", host_mnt, &out),
		  "expected %s off the host once the container stopped, saw it "
		  "still mounted (%s):\n%s", host_mnt, out.type, t);
	free(t);
}
