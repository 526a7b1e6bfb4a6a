/* scope: default templates, template expansion with its safety checks, and
 * ${VAR} expansion from the environment. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "scope.h"

static char err[512];

static struct cfg_identity ident(enum cfg_workload w, const char *wid)
{
	struct cfg_identity id = {
		.cloud_id = "cld_1",
		.user_id = "usr_7",
		.workload = w,
		.workload_id = (char *)wid,
	};
	return id;
}

/* Expand TMPL for ID and check the result is WANT. */
static void expect_prefix(const char *tmpl, struct cfg_identity id,
			  const char *want)
{
	char *out = NULL;
	int r = scope_expand(tmpl, &id, &out, err, sizeof err);

	cr_assert_eq(r, 0, "template '%s': expected success, saw %d: %s", tmpl,
		     r, err);
	cr_assert_str_eq(out, want, "template '%s': expected '%s', saw '%s'",
			 tmpl, want, out);
	free(out);
}

/* Expand TMPL for ID and check it fails with a message holding WANT. */
static void expect_prefix_error(const char *tmpl, struct cfg_identity id,
				const char *want)
{
	char *out = NULL;
	int r = scope_expand(tmpl, &id, &out, err, sizeof err);

	cr_assert_eq(r, -EINVAL, "template '%s': expected -EINVAL, saw %d (result '%s')",
		     tmpl, r, out ? out : "(null)");
	cr_assert_null(out, "template '%s': no result expected on error", tmpl);
	cr_assert(strstr(err, want), "template '%s': expected an error containing\n  %s\nseen:\n  %s",
		  tmpl, want, err);
}

static void expect_env(const char *in, const char *want)
{
	char *out = NULL;
	int r = scope_expand_env(in, &out, err, sizeof err);

	cr_assert_eq(r, 0, "'%s': expected success, saw %d: %s", in, r, err);
	cr_assert_str_eq(out, want, "'%s': expected '%s', saw '%s'", in, want, out);
	free(out);
}

static void expect_env_error(const char *in, const char *want)
{
	char *out = NULL;
	int r = scope_expand_env(in, &out, err, sizeof err);

	cr_assert_eq(r, -EINVAL, "'%s': expected -EINVAL, saw %d (result '%s')",
		     in, r, out ? out : "(null)");
	cr_assert(strstr(err, want), "'%s': expected an error containing\n  %s\nseen:\n  %s",
		  in, want, err);
}

static void expect_default(enum cfg_scope s, enum cfg_workload w,
			   const char *want)
{
	const char *t = scope_default_template(s, w);

	cr_assert_not_null(t, "scope %s, workload %s: expected '%s', saw NULL",
			   config_scope_name(s), config_workload_name(w), want);
	cr_assert_str_eq(t, want, "scope %s, workload %s: expected '%s', saw '%s'",
			 config_scope_name(s), config_workload_name(w), want, t);
}

/* --- default templates --------------------------------------------------- */

Test(scope, default_template_of_cluster_scope_follows_workload_type)
{
	expect_default(SCOPE_CLUSTER, WORKLOAD_WORKSPACE,
		       "workspaces/{workload_id}/cluster_storage");
	expect_default(SCOPE_CLUSTER, WORKLOAD_JOB, "job/{workload_id}/cluster_storage");
	expect_default(SCOPE_CLUSTER, WORKLOAD_JOB_QUEUE, "job_queue/{workload_id}");
	expect_default(SCOPE_CLUSTER, WORKLOAD_SERVICE, "service/{workload_id}");
}

Test(scope, default_template_of_cluster_scope_without_workload_is_null)
{
	const char *t = scope_default_template(SCOPE_CLUSTER, WORKLOAD_NONE);

	cr_assert_null(t, "expected NULL, saw '%s'", t ? t : "");
}

Test(scope, default_template_of_user_and_cloud_scope_ignores_workload)
{
	for (int w = WORKLOAD_NONE; w <= WORKLOAD_SERVICE; w++) {
		expect_default(SCOPE_USER, w, "user_storage/{user_id}");
		expect_default(SCOPE_CLOUD, w, "shared_storage");
	}
}

/* --- expansion of each scope and workload type --------------------------- */

Test(scope, cluster_prefix_of_each_workload_type)
{
	static const struct {
		enum cfg_workload w;
		const char *want;
	} cases[] = {
		{ WORKLOAD_WORKSPACE, "workspaces/expwrk_1/cluster_storage" },
		{ WORKLOAD_JOB, "job/expwrk_1/cluster_storage" },
		{ WORKLOAD_JOB_QUEUE, "job_queue/expwrk_1" },
		{ WORKLOAD_SERVICE, "service/expwrk_1" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		expect_prefix(scope_default_template(SCOPE_CLUSTER, cases[i].w),
			      ident(cases[i].w, "expwrk_1"), cases[i].want);
}

Test(scope, user_prefix_uses_user_id)
{
	expect_prefix(scope_default_template(SCOPE_USER, WORKLOAD_JOB),
		      ident(WORKLOAD_JOB, "j1"), "user_storage/usr_7");
}

Test(scope, cloud_prefix_needs_no_identity)
{
	struct cfg_identity none = { 0 };

	expect_prefix(scope_default_template(SCOPE_CLOUD, WORKLOAD_NONE), none,
		      "shared_storage");
}

Test(scope, custom_template_substitutes_every_lowercase_variable)
{
	expect_prefix("c/{cloud_id}/u/{user_id}/{workload}/{workload_id}",
		      ident(WORKLOAD_JOB_QUEUE, "q9"), "c/cld_1/u/usr_7/job_queue/q9");
}

Test(scope, platform_names_substitute_on_their_own_workload_type)
{
	expect_prefix("{CLOUD_ID}/{USER_ID}", ident(WORKLOAD_NONE, NULL),
		      "cld_1/usr_7");
	expect_prefix("ws/{WORKSPACE_ID}", ident(WORKLOAD_WORKSPACE, "w1"), "ws/w1");
	expect_prefix("j/{JOB_ID}", ident(WORKLOAD_JOB, "j1"), "j/j1");
	expect_prefix("q/{JOB_QUEUE_ID}", ident(WORKLOAD_JOB_QUEUE, "q1"), "q/q1");
	expect_prefix("s/{SERVICE_ID}", ident(WORKLOAD_SERVICE, "s1"), "s/s1");
}

Test(scope, platform_name_of_another_workload_type_has_no_value)
{
	expect_prefix_error("j/{JOB_ID}", ident(WORKLOAD_SERVICE, "s1"),
			    "{JOB_ID} has no value: workload is service");
	expect_prefix_error("w/{WORKSPACE_ID}", ident(WORKLOAD_JOB, "j1"),
			    "{WORKSPACE_ID} has no value: workload is job");
}

Test(scope, platform_name_without_workload_says_what_to_set)
{
	expect_prefix_error("{SERVICE_ID}", ident(WORKLOAD_NONE, NULL),
			    "{SERVICE_ID} has no value: set workload = service and workload_id in [identity]");
}

Test(scope, missing_identity_value_is_named)
{
	expect_prefix_error("job/{workload_id}/cluster_storage",
			    ident(WORKLOAD_JOB, NULL),
			    "{workload_id} has no value: set workload_id in [identity]");

	struct cfg_identity id = ident(WORKLOAD_JOB, "j");
	id.user_id = NULL;
	expect_prefix_error("user_storage/{user_id}", id,
			    "{user_id} has no value: set user_id in [identity]");
	expect_prefix_error("x/{workload}", ident(WORKLOAD_NONE, NULL),
			    "{workload} has no value: set workload in [identity]");
}

Test(scope, empty_identity_value_counts_as_missing)
{
	expect_prefix_error("job/{workload_id}", ident(WORKLOAD_JOB, ""),
			    "{workload_id} has no value");
}

Test(scope, unknown_template_variable_is_an_error)
{
	expect_prefix_error("x/{cluster_id}", ident(WORKLOAD_JOB, "j"),
			    "unknown template variable {cluster_id}");
}

Test(scope, unbalanced_braces_are_errors)
{
	expect_prefix_error("x/{workload_id", ident(WORKLOAD_JOB, "j"),
			    "unterminated '{'");
	expect_prefix_error("x/workload_id}", ident(WORKLOAD_JOB, "j"),
			    "unbalanced '}'");
}

/* --- escaping attempts ---------------------------------------------------- */

Test(scope, identity_value_with_dotdot_and_slash_is_refused)
{
	expect_prefix_error("job/{workload_id}", ident(WORKLOAD_JOB, "../x"),
			    "{workload_id} may not contain '/': workload_id is '../x'");
}

Test(scope, identity_value_with_slash_is_refused)
{
	expect_prefix_error("job/{JOB_ID}", ident(WORKLOAD_JOB, "a/b"),
			    "{JOB_ID} may not contain '/'");
}

Test(scope, identity_value_dot_or_dotdot_is_refused)
{
	expect_prefix_error("job/{workload_id}", ident(WORKLOAD_JOB, ".."),
			    "{workload_id} may not be '.' or '..'");
	expect_prefix_error("job/{workload_id}", ident(WORKLOAD_JOB, "."),
			    "{workload_id} may not be '.' or '..'");
}

Test(scope, template_with_dotdot_component_is_refused)
{
	expect_prefix_error("a/../b", ident(WORKLOAD_JOB, "j"),
			    "prefix 'a/../b' has a '..' component");
	expect_prefix_error("./a", ident(WORKLOAD_JOB, "j"), "has a '.' component");
	expect_prefix_error("a/..", ident(WORKLOAD_JOB, "j"), "has a '..' component");
}

Test(scope, dots_inside_a_component_are_allowed)
{
	expect_prefix("a/..b/c.d/...", ident(WORKLOAD_JOB, "j"), "a/..b/c.d/...");
	expect_prefix("job/{workload_id}", ident(WORKLOAD_JOB, "v1.2"), "job/v1.2");
}

Test(scope, control_character_in_prefix_is_refused)
{
	expect_prefix_error("a\nb", ident(WORKLOAD_JOB, "j"), "control character");
	expect_prefix_error("job/{workload_id}", ident(WORKLOAD_JOB, "j\x01"),
			    "control character");
}

Test(scope, absolute_template_becomes_relative)
{
	expect_prefix("/abs", ident(WORKLOAD_JOB, "j"), "abs");
}

Test(scope, doubled_and_trailing_slashes_are_normalised)
{
	expect_prefix("a//b/", ident(WORKLOAD_JOB, "j"), "a/b");
	expect_prefix("//a///{workload_id}//", ident(WORKLOAD_JOB, "j"), "a/j");
}

Test(scope, empty_or_slash_template_is_the_backend_root)
{
	expect_prefix("", ident(WORKLOAD_JOB, "j"), "");
	expect_prefix("/", ident(WORKLOAD_JOB, "j"), "");
}

/* --- ${VAR} --------------------------------------------------------------- */

Test(scope_env, variable_is_replaced_by_its_value)
{
	setenv("SCOPEFS_T_A", "alpha", 1);
	expect_env("x-${SCOPEFS_T_A}-y", "x-alpha-y");
}

Test(scope_env, several_variables_in_one_value)
{
	setenv("SCOPEFS_T_A", "a", 1);
	setenv("SCOPEFS_T_B", "b", 1);
	expect_env("${SCOPEFS_T_A}/${SCOPEFS_T_B}${SCOPEFS_T_A}", "a/ba");
}

Test(scope_env, default_is_used_when_unset_or_empty)
{
	unsetenv("SCOPEFS_T_UNSET");
	setenv("SCOPEFS_T_EMPTY", "", 1);
	expect_env("${SCOPEFS_T_UNSET:-def}", "def");
	expect_env("${SCOPEFS_T_EMPTY:-def}", "def");
	expect_env("${SCOPEFS_T_UNSET:-}", "");
}

Test(scope_env, value_wins_over_default)
{
	setenv("SCOPEFS_T_A", "set", 1);
	expect_env("${SCOPEFS_T_A:-def}", "set");
}

Test(scope_env, default_may_hold_another_variable)
{
	unsetenv("SCOPEFS_T_UNSET");
	setenv("SCOPEFS_T_B", "inner", 1);
	expect_env("${SCOPEFS_T_UNSET:-${SCOPEFS_T_B}}/x", "inner/x");
	expect_env("${SCOPEFS_T_UNSET:-${SCOPEFS_T_UNSET:-deep}}", "deep");
}

Test(scope_env, missing_variable_without_default_is_named)
{
	unsetenv("SCOPEFS_T_UNSET");
	expect_env_error("a/${SCOPEFS_T_UNSET}/b", "${SCOPEFS_T_UNSET} has no value");
}

Test(scope_env, empty_variable_without_default_is_an_error)
{
	setenv("SCOPEFS_T_EMPTY", "", 1);
	expect_env_error("${SCOPEFS_T_EMPTY}", "${SCOPEFS_T_EMPTY} has no value");
}

Test(scope_env, missing_variable_inside_default_is_named)
{
	unsetenv("SCOPEFS_T_UNSET");
	unsetenv("SCOPEFS_T_UNSET2");
	expect_env_error("${SCOPEFS_T_UNSET:-${SCOPEFS_T_UNSET2}}",
			 "${SCOPEFS_T_UNSET2} has no value");
}

Test(scope_env, malformed_references_are_errors)
{
	expect_env_error("${SCOPEFS_T_A", "unterminated '${'");
	expect_env_error("${1BAD}", "bad variable name");
	expect_env_error("${}", "bad variable name");
	expect_env_error("${A-b}", "bad variable reference");
}

Test(scope_env, text_without_references_is_unchanged)
{
	expect_env("plain $HOME {x} $", "plain $HOME {x} $");
	expect_env("", "");
}
