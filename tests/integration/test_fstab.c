/*
 * fstab lines of type fuse.scopefs, through the real mount(8): a line per
 * mount path mounts that path, with the config as its source so that
 * mount -a finds it mounted and leaves it; a line for a directory mounts
 * every [mount] below it, and mount -a again leaves them as they are;
 * umount of a path ends the daemon that served it; mount(8)'s and
 * systemd's options (_netdev, nofail, x-systemd.*) never reach FUSE.
 *
 * mount(8) finds helpers in /sbin only: the test links
 * /sbin/mount.fuse.scopefs to the binary under test for its run (as
 * `make install` does to the installed one), and skips on a machine
 * where that name already leads to another binary.  Criterion runs the
 * tests in parallel: each holds a shared lock on LOCK while it needs the
 * link, and the last to leave removes it.
 */
#include <sys/file.h>
#include "mount_fixture.h"

#define HELPER "/sbin/mount.fuse.scopefs"
#define LOCK "/tmp/scopefs-test-fstab-helper.lock"

static int lock_fd = -1;

static const struct fx_mount three[] = {
	{ "cluster_storage", "cluster", NULL },
	{ "user_storage", "user", NULL },
	{ "shared_storage", "cloud", NULL },
};

/* Does PID's command line have ARG? */
static int cmdline_has(pid_t pid, const char *arg)
{
	size_t n;
	char *cmd = fx_slurp(fx_fmt("/proc/%d/cmdline", (int)pid), &n);
	int found = 0;
	for (size_t i = 0; cmd && i < n && !found; i += strlen(cmd + i) + 1)
		found = !strcmp(cmd + i, arg);
	free(cmd);
	return found;
}

/* The processes started for our config (daemons and their workers). */
static int daemons(pid_t *out, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;
	while (d && (e = readdir(d)) && n < max) {
		pid_t pid = (pid_t)atoi(e->d_name);
		char *st;
		if (pid <= 0 || !cmdline_has(pid, fx.conf))
			continue;
		st = fx_slurp(fx_fmt("/proc/%d/stat", (int)pid), NULL);
		char *rp = st ? strrchr(st, ')') : NULL;
		if (rp && rp[1] == ' ' && rp[2] != 'Z')
			out[n++] = pid;
		free(st);
	}
	if (d)
		closedir(d);
	return n;
}

static void setup(void)
{
	char target[PATH_MAX];
	ssize_t n;

	fx_configure(three, 3);
	lock_fd = open(LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	cr_assert(lock_fd >= 0 && flock(lock_fd, LOCK_SH) == 0, "lock %s: %s",
		  LOCK, strerror(errno));
	if ((n = readlink(HELPER, target, sizeof target - 1)) >= 0) {
		target[n] = '\0';
		if (strcmp(target, fx.bin) != 0)
			cr_skip_test("%s leads to %s, not to the binary under "
				     "test (%s): an installed scopefs answers "
				     "fstab lines here", HELPER, target,
				     fx.bin);
	} else if (symlink(fx.bin, HELPER) < 0 && errno != EEXIST) {
		cr_skip_test("cannot link %s -> %s (%s): mount(8) looks for "
			     "helpers in /sbin only", HELPER, fx.bin,
			     strerror(errno));
	}
}

static void teardown(void)
{
	pid_t p[16];
	int n = fx.prepared ? daemons(p, 16) : 0;

	for (int i = 0; i < n; i++)
		kill(p[i], SIGKILL);
	for (int i = 0; i < fx.nmounts; i++)
		if (fx_is_mounted(fx.mnt[i]))
			fx_sh(10, NULL, "umount -l '%s'", fx.mnt[i]);
	/* the last test out (no other shared lock) removes our link */
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) == 0) {
		char target[PATH_MAX];
		ssize_t len = readlink(HELPER, target, sizeof target - 1);
		if (len >= 0 && (target[len] = '\0', !strcmp(target, fx.bin)))
			unlink(HELPER);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	fx_teardown();
}

TestSuite(fstab, .init = setup, .fini = teardown, .timeout = 90);

static void write_fstab(const char *lines)
{
	FILE *f = fopen(fx_fmt("%s/fstab", fx.dir), "w");
	FX_ASSERT(f, "fopen fstab: %s", strerror(errno));
	fputs(lines, f);
	fclose(f);
}

/* mount(8) with ARGS against our fstab; its exit code, output in *OUT. */
static int run_mount(char **out, const char *args)
{
	return fx_sh(60, out, "mount -T '%s/fstab' %s 2>&1", fx.dir, args);
}

/* The source (first field after " - type") of the mount on PATH. */
static const char *mount_source(const char *path)
{
	static char src[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	src[0] = '\0';
	while (f && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX], type[256];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		fx_unescape(mp);
		if (strcmp(mp, path) == 0 &&
		    sscanf(sep, " - %255s %4095s", type, src) == 2)
			fx_unescape(src);
	}
	free(line);
	if (f)
		fclose(f);
	return src;
}

static int mounts_on(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (f && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1) {
			fx_unescape(mp);
			n += !strcmp(mp, path);
		}
	}
	free(line);
	if (f)
		fclose(f);
	return n;
}

/* Wait (bounded) until no process of our config is left. */
static int wait_no_daemons(long ms)
{
	pid_t p[16];
	for (long t = 0; t < ms; t += 50) {
		if (daemons(p, 16) == 0)
			return 1;
		fx_sleep_ms(50);
	}
	return 0;
}

Test(fstab, a_line_per_mount_path_mounts_it_and_umount_ends_its_daemon)
{
	char *out = NULL;
	write_fstab(fx_fmt(
		"%s %s fuse.scopefs _netdev,nofail,x-systemd.automount,"
		"x-systemd.mount-timeout=30,allow_other,noatime 0 0\n"
		"%s %s fuse.scopefs _netdev,ro 0 0\n"
		"%s %s fuse.scopefs noauto,_netdev 0 0\n",
		fx.conf, fx.mnt[0], fx.conf, fx.mnt[1], fx.conf, fx.mnt[2]));
	int rc = run_mount(&out, "-a -t fuse.scopefs");
	FX_ASSERT(rc == 0, "mount -a: expected exit 0, saw %d:\n%s", rc, out);
	free(out);
	char type[64] = "";
	FX_ASSERT(fx_mounted_type(fx.mnt[0], type, sizeof type) &&
			  !strcmp(type, "fuse.scopefs"),
		  "expected %s mounted as fuse.scopefs, saw '%s'", fx.mnt[0],
		  type);
	FX_ASSERT(fx_is_mounted(fx.mnt[1]), "expected %s mounted", fx.mnt[1]);
	FX_ASSERT(!fx_is_mounted(fx.mnt[2]), "expected %s (noauto) left "
		  "unmounted by mount -a", fx.mnt[2]);
	FX_EQ_STR(mount_source(fx.mnt[0]), fx.conf);

	/* the mounts serve, each its own prefix; ro came through */
	FX_OK(fx_write_file(fx_mpath(0, "f"), "fstab", 5, 0644));
	char buf[16];
	FX_EQ_INT(fx_read_file(fx_fmt("%s/f", fx.backing[0]), buf, sizeof buf),
		  5);
	FX_ERRNO(fx_write_file(fx_mpath(1, "g"), "x", 1, 0644), EROFS);

	/* mount -a again: both found mounted by their source, left alone */
	rc = run_mount(&out, "-a -t fuse.scopefs");
	FX_ASSERT(rc == 0, "second mount -a: expected exit 0, saw %d:\n%s", rc,
		  out);
	free(out);
	FX_EQ_INT(mounts_on(fx.mnt[0]), 1);
	FX_EQ_INT(mounts_on(fx.mnt[1]), 1);

	/* umount of one path: only its daemon ends */
	rc = fx_sh(20, &out, "umount '%s' 2>&1", fx.mnt[0]);
	FX_ASSERT(rc == 0, "umount: %d:\n%s", rc, out);
	free(out);
	FX_ASSERT(!fx_is_mounted(fx.mnt[0]), "expected %s unmounted",
		  fx.mnt[0]);
	FX_ASSERT(fx_is_mounted(fx.mnt[1]), "expected %s still mounted after "
		  "umount of %s", fx.mnt[1], fx.mnt[0]);
	rc = fx_sh(20, &out, "umount '%s' 2>&1", fx.mnt[1]);
	FX_ASSERT(rc == 0, "umount: %d:\n%s", rc, out);
	free(out);
	FX_ASSERT(wait_no_daemons(10000), "expected every scopefs process of "
		  "%s to end within 10 s of the umounts", fx.conf);
}

Test(fstab, a_line_for_a_directory_mounts_every_mount_below_it_once)
{
	char *out = NULL;
	write_fstab(fx_fmt("%s %s/mnt fuse.scopefs defaults,_netdev 0 0\n",
			   fx.conf, fx.dir));
	int rc = run_mount(&out, fx_fmt("'%s/mnt'", fx.dir));
	FX_ASSERT(rc == 0, "mount DIR: expected exit 0, saw %d:\n%s", rc, out);
	free(out);
	for (int i = 0; i < 3; i++)
		FX_ASSERT(mounts_on(fx.mnt[i]) == 1, "expected %s mounted "
			  "once, saw %d", fx.mnt[i], mounts_on(fx.mnt[i]));
	/* DIR itself is no mount point, so mount -a calls the helper again:
	 * what is up stays up, and nothing is stacked */
	rc = run_mount(&out, "-a -t fuse.scopefs");
	FX_ASSERT(rc == 0, "mount -a over mounted paths: expected exit 0, saw "
		  "%d:\n%s", rc, out);
	free(out);
	for (int i = 0; i < 3; i++)
		FX_EQ_INT(mounts_on(fx.mnt[i]), 1);
	FX_OK(fx_write_file(fx_mpath(2, "h"), "dir", 3, 0644));
	for (int i = 0; i < 3; i++) {
		rc = fx_sh(20, &out, "umount '%s' 2>&1", fx.mnt[i]);
		FX_ASSERT(rc == 0, "umount %s: %d:\n%s", fx.mnt[i], rc, out);
		free(out);
	}
	FX_ASSERT(wait_no_daemons(10000), "expected the daemon to end within "
		  "10 s once its last mount was unmounted");
}

Test(fstab, a_line_that_names_no_mount_fails_naming_the_mounts)
{
	char *out = NULL;
	FX_OK(mkdir(fx_fmt("%s/elsewhere", fx.dir), 0755));
	write_fstab(fx_fmt("%s %s/elsewhere fuse.scopefs _netdev 0 0\n",
			   fx.conf, fx.dir));
	int rc = run_mount(&out, fx_fmt("'%s/elsewhere'", fx.dir));
	FX_ASSERT(rc != 0, "expected mount of a path with no [mount] to fail, "
		  "saw exit 0:\n%s", out);
	FX_ASSERT(strstr(out, "no [mount] at or below") &&
			  strstr(out, fx.mnt[0]),
		  "expected the message to name the config's mounts, saw:\n%s",
		  out);
	free(out);
	/* mount -f (fake): checks everything, mounts nothing */
	write_fstab(fx_fmt("%s %s fuse.scopefs _netdev 0 0\n", fx.conf,
			   fx.mnt[0]));
	rc = run_mount(&out, fx_fmt("-f '%s'", fx.mnt[0]));
	FX_ASSERT(rc == 0, "mount -f: expected exit 0, saw %d:\n%s", rc, out);
	free(out);
	FX_ASSERT(!fx_is_mounted(fx.mnt[0]), "expected mount -f to mount "
		  "nothing");
}
