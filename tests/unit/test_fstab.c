/*
 * mount(8)'s helper convention (core/fstab.c): how an fstab line's
 * arguments become a config, a mount point and FUSE options.  The options
 * that are mount(8)'s or systemd's must not reach FUSE, which refuses any
 * it does not know; fsname=CONFIG must, so that mount -a finds the line
 * mounted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fstab.h"

static char conf[PATH_MAX];

static void setup(void)
{
	snprintf(conf, sizeof conf, "/tmp/scopefs-fstab-test.%d.conf",
		 (int)getpid());
	FILE *f = fopen(conf, "w");
	cr_assert(f);
	fclose(f);
}

static void teardown(void)
{
	unlink(conf);
}

TestSuite(fstab, .init = setup, .fini = teardown);

#define PARSE(req, ...)                                                       \
	({                                                                   \
		char *argv_[] = { "/sbin/mount.fuse.scopefs", __VA_ARGS__,   \
				  NULL };                                    \
		char err_[256] = "";                                         \
		int r_ = fstab_parse((int)(sizeof argv_ / sizeof *argv_) - 1, \
				     argv_, (req), err_, sizeof err_);       \
		if (r_ < 0)                                                  \
			cr_log_info("fstab_parse: %s", err_);                \
		r_;                                                          \
	})

Test(fstab, mount_and_systemd_options_stay_out_of_fuse)
{
	struct fstab_req q;

	cr_assert_eq(PARSE(&q, conf, "/mnt/user_storage", "-o",
			   "rw,_netdev,nofail,noauto,x-systemd.automount,"
			   "x-systemd.requires=network-online.target,"
			   "allow_other,defaults,comment=x,noatime,user"),
		     0);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof want, "rw,allow_other,noatime,fsname=%s", conf);
	cr_expect_str_eq(q.opts, want);
	cr_expect_str_eq(q.config, conf);
	cr_expect_str_eq(q.target, "/mnt/user_storage");
	cr_expect_eq(q.fake, 0);
	fstab_req_free(&q);
}

Test(fstab, flags_may_be_bundled_and_options_attached_or_repeated)
{
	struct fstab_req q;

	cr_assert_eq(PARSE(&q, "-nfv", conf, "-oallow_other", "/mnt",
			   "-t", "fuse.scopefs", "-o", "ro"),
		     0);
	cr_expect_eq(q.fake, 1);
	cr_expect_eq(q.verbose, 1);
	cr_expect_str_eq(q.target, "/mnt");
	cr_expect(strncmp(q.opts, "allow_other,ro,fsname=", 22) == 0,
		  "opts: %s", q.opts);
	fstab_req_free(&q);
}

Test(fstab, a_source_of_its_own_is_kept)
{
	struct fstab_req q;

	cr_assert_eq(PARSE(&q, conf, "/mnt", "-o", "fsname=mine,_netdev"), 0);
	cr_expect_str_eq(q.opts, "fsname=mine");
	fstab_req_free(&q);
}

Test(fstab, bad_calls_are_refused_with_a_reason)
{
	struct fstab_req q;

	cr_expect_eq(PARSE(&q, conf), -EINVAL);
	cr_expect_eq(PARSE(&q, conf, "/mnt", "/other"), -EINVAL);
	cr_expect_eq(PARSE(&q, conf, "/mnt", "-o"), -EINVAL);
	cr_expect_eq(PARSE(&q, conf, "/mnt", "-x"), -EINVAL);
	cr_expect_eq(PARSE(&q, "/nonexistent/scopefs.conf", "/mnt"), -EINVAL);
}

Test(fstab, helper_calls_are_told_from_commands)
{
	char *helper[] = { "/sbin/mount.scopefs", "c", "/m", NULL };
	char *fuse3[] = { "scopefs", "/etc/scopefs/a.conf", "/mnt", NULL };
	char *mount[] = { "scopefs", "mount", "/etc/scopefs/a.conf", NULL };
	char *check[] = { "scopefs", "check", "/etc/scopefs/a.conf", NULL };
	char *opt[] = { "scopefs", "-f", "mount", "a.conf", NULL };
	char *status[] = { "scopefs", "status", "/etc/scopefs/a.conf", NULL };
	char *usage[] = { "scopefs", "usage", "/etc/a.conf", "--json", NULL };

	cr_expect(fstab_is_helper_call(3, helper));
	cr_expect(fstab_is_helper_call(3, fuse3));
	cr_expect(!fstab_is_helper_call(3, mount));
	cr_expect(!fstab_is_helper_call(3, check));
	cr_expect(!fstab_is_helper_call(4, opt));
	cr_expect(!fstab_is_helper_call(3, status));
	cr_expect(!fstab_is_helper_call(4, usage));
}
