/* workloads: the per-workload patterns usage and gc derive from a cluster
 * mount's prefix template, the names they match, and gc's duration and
 * time options. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "gc.h"
#include "workloads.h"

static char err[512];

static const struct cfg_identity ident = {
	.cloud_id = "cld_1",
	.user_id = "usr_7",
	.workload = WORKLOAD_JOB,
	.workload_id = "job_1",
};

static struct cfg_mount cluster_mount(const char *tmpl)
{
	struct cfg_mount m = { .path = "/mnt/cluster_storage",
			       .scope = SCOPE_CLUSTER,
			       .prefix_template = (char *)tmpl,
			       .prefix = "job/job_1/cluster_storage" };
	return m;
}

/* The patterns of TMPL as "parent|lead|trail|tail|type" lines. */
static char *patterns_of(const char *tmpl, int *rc)
{
	struct cfg_mount m = cluster_mount(tmpl);
	struct wl_pattern *p;
	size_t n;
	char *out = calloc(1, 4096);

	*rc = wl_patterns(&m, &ident, &p, &n, err, sizeof err);
	for (size_t i = 0; *rc == 0 && i < n; i++)
		snprintf(out + strlen(out), 4096 - strlen(out), "%s|%s|%s|%s|%s\n",
			 p[i].parent, p[i].lead, p[i].trail, p[i].tail,
			 p[i].workload == WORKLOAD_NONE
				 ? "any" : config_workload_name(p[i].workload));
	if (*rc == 0)
		wl_patterns_free(p, n);
	return out;
}

static void expect_patterns(const char *tmpl, const char *want)
{
	int rc;
	char *got = patterns_of(tmpl, &rc);

	cr_assert_eq(rc, 0, "template %s: expected success, saw %d: %s",
		     tmpl ? tmpl : "(default)", rc, err);
	cr_assert_str_eq(got, want, "template %s: expected\n%s\nsaw\n%s",
			 tmpl ? tmpl : "(default)", want, got);
	free(got);
}

Test(workloads, default_templates_give_all_four_workload_types)
{
	expect_patterns(NULL, "workspaces|||cluster_storage|workspace\n"
			      "job|||cluster_storage|job\n"
			      "job_queue||||job_queue\n"
			      "service||||service\n");
}

Test(workloads, platform_variable_gives_only_its_own_type)
{
	expect_patterns("runs/{JOB_ID}/data", "runs|||data|job\n");
}

Test(workloads, workload_id_alone_is_one_pattern_for_every_type)
{
	expect_patterns("cs/{workload_id}", "cs||||any\n");
}

Test(workloads, workload_variable_gives_one_pattern_per_type)
{
	expect_patterns("{cloud_id}/{workload}/run-{workload_id}.d/x/y",
			"cld_1/workspace|run-|.d|x/y|workspace\n"
			"cld_1/job|run-|.d|x/y|job\n"
			"cld_1/job_queue|run-|.d|x/y|job_queue\n"
			"cld_1/service|run-|.d|x/y|service\n");
}

Test(workloads, id_at_the_root_lists_the_backend_root)
{
	expect_patterns("{workload_id}", "||||any\n");
}

Test(workloads, template_without_an_id_has_no_pattern)
{
	expect_patterns("scratch/{user_id}", "");
}

Test(workloads, id_in_two_places_is_refused)
{
	int rc;
	char *got = patterns_of("job/{JOB_ID}/x/{workload_id}", &rc);

	cr_assert_eq(rc, -EINVAL, "expected -EINVAL, saw %d (%s)", rc, got);
	cr_assert(strstr(err, "more than one place"),
		  "expected the message to say why, saw: %s", err);
	free(got);
}

Test(workloads, match_takes_the_id_between_lead_and_trail)
{
	struct wl_pattern p = { .parent = "runs", .lead = "run-",
				.trail = ".d", .tail = "x" };
	char *wid = NULL, *prefix;

	cr_assert_eq(wl_match(&p, "run-42.d", &wid), 1);
	cr_assert_str_eq(wid, "42");
	free(wid);
	cr_assert_eq(wl_match(&p, "run-.d", NULL), 0, "an empty id");
	cr_assert_eq(wl_match(&p, "walk-42.d", NULL), 0);
	cr_assert_eq(wl_match(&p, "run-42", NULL), 0);
	prefix = wl_prefix(&p, "run-42.d");
	cr_assert_str_eq(prefix, "runs/run-42.d/x");
	free(prefix);
}

Test(workloads, dot_names_are_no_workload)
{
	struct wl_pattern p = { .parent = "job", .lead = "", .trail = "",
				.tail = "cluster_storage" };

	cr_assert_eq(wl_match(&p, ".", NULL), 0);
	cr_assert_eq(wl_match(&p, "..", NULL), 0);
	cr_assert_eq(wl_match(&p, "...", NULL), 1);
}

Test(gc_options, durations_take_a_unit)
{
	long long s;

	cr_assert_eq(gc_parse_duration("30d", &s, err, sizeof err), 0);
	cr_assert_eq(s, 30LL * 86400);
	cr_assert_eq(gc_parse_duration("12h", &s, err, sizeof err), 0);
	cr_assert_eq(s, 12LL * 3600);
	cr_assert_eq(gc_parse_duration("90m", &s, err, sizeof err), 0);
	cr_assert_eq(s, 5400);
	cr_assert_eq(gc_parse_duration("45s", &s, err, sizeof err), 0);
	cr_assert_eq(s, 45);
	cr_assert_eq(gc_parse_duration("2w", &s, err, sizeof err), 0);
	cr_assert_eq(s, 14LL * 86400);
	cr_assert_eq(gc_parse_duration("30", &s, err, sizeof err), -EINVAL,
		     "a number alone is ambiguous");
	cr_assert_eq(gc_parse_duration("0d", &s, err, sizeof err), -EINVAL);
	cr_assert_eq(gc_parse_duration("-3d", &s, err, sizeof err), -EINVAL);
	cr_assert_eq(gc_parse_duration("3y", &s, err, sizeof err), -EINVAL);
	cr_assert_eq(gc_parse_duration("3dd", &s, err, sizeof err), -EINVAL);
	cr_assert_eq(gc_parse_duration("99999999999999999w", &s, err,
				       sizeof err), -EINVAL);
}

Test(gc_options, times_are_utc)
{
	struct timespec t;

	cr_assert_eq(gc_parse_time("@1700000000", &t, err, sizeof err), 0);
	cr_assert_eq(t.tv_sec, 1700000000);
	cr_assert_eq(gc_parse_time("2023-11-14T22:13:20Z", &t, err,
				   sizeof err), 0);
	cr_assert_eq(t.tv_sec, 1700000000);
	cr_assert_eq(gc_parse_time("2023-11-14", &t, err, sizeof err), 0);
	cr_assert_eq(t.tv_sec, 1699920000);
	cr_assert_eq(gc_parse_time("yesterday", &t, err, sizeof err), -EINVAL);
	cr_assert_eq(gc_parse_time("@12x", &t, err, sizeof err), -EINVAL);
	cr_assert_eq(gc_parse_time("2023-11-14T22:13:20", &t, err, sizeof err),
		     -EINVAL, "a time without its zone");
}
