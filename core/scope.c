/* scope: from (identity, scope, template) to the storage prefix of a mount,
 * and ${VAR} expansion of configuration values.
 *
 * The prefix decides which part of a shared bucket a mount can reach, so
 * everything that flows into it is checked: identity values may not carry
 * a '/' or be "." or "..", and the result may not contain "." / ".."
 * components or control characters. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "scope.h"

/* A growing string; on allocation failure ok drops to 0 and the caller
 * answers -ENOMEM. */
struct sbuf {
	char *s;
	size_t len, cap;
	int ok;
};

static void sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (!b->ok)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *s;

		while (b->len + n + 1 > cap)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			b->ok = 0;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_adds(struct sbuf *b, const char *p) { sb_add(b, p, strlen(p)); }

/* Hand the string to the caller ("" when nothing was added). */
static int sb_finish(struct sbuf *b, char **out)
{
	if (b->ok && !b->s)
		sb_add(b, "", 0);
	if (!b->ok) {
		free(b->s);
		return -ENOMEM;
	}
	*out = b->s;
	return 0;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *scope_default_template(enum cfg_scope s, enum cfg_workload w)
{
	switch (s) {
	case SCOPE_USER:
		return "user_storage/{user_id}";
	case SCOPE_CLOUD:
		return "shared_storage";
	case SCOPE_CLUSTER:
		break;
	}
	switch (w) {
	case WORKLOAD_WORKSPACE:
		return "workspaces/{workload_id}/cluster_storage";
	case WORKLOAD_JOB:
		return "job/{workload_id}/cluster_storage";
	case WORKLOAD_JOB_QUEUE:
		return "job_queue/{workload_id}";
	case WORKLOAD_SERVICE:
		return "service/{workload_id}";
	case WORKLOAD_NONE:
		break;
	}
	return NULL;
}

/* The platform's per-workload names and the workload type each belongs to. */
static const struct {
	const char *name;
	enum cfg_workload w;
} workload_vars[] = {
	{ "WORKSPACE_ID", WORKLOAD_WORKSPACE },
	{ "JOB_ID", WORKLOAD_JOB },
	{ "JOB_QUEUE_ID", WORKLOAD_JOB_QUEUE },
	{ "SERVICE_ID", WORKLOAD_SERVICE },
};

/* Check one identity value before it goes into a path. */
static int check_identity_value(const char *var, const char *key,
				const char *v, char *err, size_t errlen)
{
	if (strchr(v, '/'))
		return fail(err, errlen,
			    "{%s} may not contain '/': %s is '%s'", var, key, v);
	if (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
		return fail(err, errlen, "{%s} may not be '.' or '..': %s is '%s'",
			    var, key, v);
	return 0;
}

/* The value of template variable VAR (NUL-terminated name without braces),
 * checked; or -EINVAL with the reason. */
static int template_var(const char *var, const struct cfg_identity *id,
			const char **val, char *err, size_t errlen)
{
	const char *key = NULL, *v = NULL;

	if (strcmp(var, "cloud_id") == 0 || strcmp(var, "CLOUD_ID") == 0) {
		key = "cloud_id";
		v = id->cloud_id;
	} else if (strcmp(var, "user_id") == 0 || strcmp(var, "USER_ID") == 0) {
		key = "user_id";
		v = id->user_id;
	} else if (strcmp(var, "workload_id") == 0) {
		key = "workload_id";
		v = id->workload_id;
	} else if (strcmp(var, "workload") == 0) {
		if (id->workload == WORKLOAD_NONE)
			return fail(err, errlen,
				    "{workload} has no value: set workload in [identity]");
		*val = config_workload_name(id->workload);
		return 0;
	} else {
		for (size_t i = 0; i < sizeof workload_vars / sizeof *workload_vars; i++) {
			if (strcmp(var, workload_vars[i].name) != 0)
				continue;
			if (id->workload == WORKLOAD_NONE)
				return fail(err, errlen,
					    "{%s} has no value: set workload = %s and workload_id in [identity]",
					    var, config_workload_name(workload_vars[i].w));
			if (id->workload != workload_vars[i].w)
				return fail(err, errlen,
					    "{%s} has no value: workload is %s",
					    var, config_workload_name(id->workload));
			key = "workload_id";
			v = id->workload_id;
			break;
		}
		if (!key)
			return fail(err, errlen,
				    "unknown template variable {%s} (known: {cloud_id} {user_id} {workload} {workload_id} {CLOUD_ID} {USER_ID} {WORKSPACE_ID} {JOB_ID} {JOB_QUEUE_ID} {SERVICE_ID})",
				    var);
	}
	if (!v || !*v)
		return fail(err, errlen, "{%s} has no value: set %s in [identity]",
			    var, key);
	if (check_identity_value(var, key, v, err, errlen))
		return -EINVAL;
	*val = v;
	return 0;
}

/* Rewrite S in place without empty components; reject "." and ".."
 * components and control characters. */
static int normalise_prefix(char *s, char *err, size_t errlen)
{
	char *w = s;
	const char *p = s;

	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return fail(err, errlen,
				    "prefix '%s' contains a control character", s);
	while (*p) {
		const char *end;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return fail(err, errlen,
				    "prefix '%s' has a '%.*s' component", s, (int)n, p);
		if (w != s)
			*w++ = '/';
		memmove(w, p, n);
		w += n;
		p = end;
	}
	*w = '\0';
	return 0;
}

int scope_expand(const char *tmpl, const struct cfg_identity *id, char **out,
		 char *err, size_t errlen)
{
	struct sbuf b = { .ok = 1 };
	const char *p = tmpl;
	char *res;
	int r;

	while (*p) {
		const char *open = strpbrk(p, "{}");
		const char *close, *val = NULL;
		char var[64];

		if (!open) {
			sb_adds(&b, p);
			break;
		}
		if (*open == '}') {
			r = fail(err, errlen, "unbalanced '}' in prefix '%s'", tmpl);
			goto bad;
		}
		sb_add(&b, p, (size_t)(open - p));
		close = strchr(open, '}');
		if (!close) {
			r = fail(err, errlen, "unterminated '{' in prefix '%s'", tmpl);
			goto bad;
		}
		if ((size_t)(close - open - 1) >= sizeof var) {
			r = fail(err, errlen, "unknown template variable %.*s",
				 (int)(close - open + 1), open);
			goto bad;
		}
		memcpy(var, open + 1, (size_t)(close - open - 1));
		var[close - open - 1] = '\0';
		r = template_var(var, id, &val, err, errlen);
		if (r)
			goto bad;
		sb_adds(&b, val);
		p = close + 1;
	}
	r = sb_finish(&b, &res);
	if (r) {
		fail(err, errlen, "out of memory");
		return r;
	}
	r = normalise_prefix(res, err, errlen);
	if (r) {
		free(res);
		return r;
	}
	*out = res;
	return 0;
bad:
	free(b.s);
	return r;
}

static int is_name_start(int c) { return c == '_' || isalpha(c); }
static int is_name_char(int c) { return c == '_' || isalnum(c); }

/* The '}' closing the "${" at S (S points at '$'), counting nested "${". */
static const char *env_close(const char *s)
{
	int depth = 0;

	for (const char *p = s; *p; p++) {
		if (p[0] == '$' && p[1] == '{') {
			depth++;
			p++;
		} else if (*p == '}' && --depth == 0) {
			return p;
		}
	}
	return NULL;
}

/* Expand one "${...}" spanning [s, close]; append to b. */
static int env_one(const char *s, const char *close, struct sbuf *b, char *err,
		   size_t errlen)
{
	const char *name = s + 2, *p = name;
	const char *v;
	char var[128];
	size_t n;

	if (!is_name_start((unsigned char)*p))
		return fail(err, errlen, "bad variable name in '%.*s'",
			    (int)(close - s + 1), s);
	while (is_name_char((unsigned char)*p))
		p++;
	n = (size_t)(p - name);
	if (n >= sizeof var)
		return fail(err, errlen, "variable name too long in '%.*s'",
			    (int)(close - s + 1), s);
	memcpy(var, name, n);
	var[n] = '\0';
	if (p != close && strncmp(p, ":-", 2) != 0)
		return fail(err, errlen,
			    "bad variable reference '%.*s' (use ${NAME} or ${NAME:-default})",
			    (int)(close - s + 1), s);

	v = getenv(var);
	if (v && *v) {
		sb_adds(b, v);
		return 0;
	}
	if (p == close)
		return fail(err, errlen,
			    "${%s} has no value: set %s in the environment or write ${%s:-default}",
			    var, var, var);
	/* The default may itself hold ${...}: expand it the same way. */
	{
		char *def = strndup(p + 2, (size_t)(close - p - 2));
		char *exp = NULL;
		int r;

		if (!def) {
			fail(err, errlen, "out of memory");
			return -ENOMEM;
		}
		r = scope_expand_env(def, &exp, err, errlen);
		free(def);
		if (r)
			return r;
		sb_adds(b, exp);
		free(exp);
	}
	return 0;
}

int scope_expand_env(const char *s, char **out, char *err, size_t errlen)
{
	struct sbuf b = { .ok = 1 };
	const char *p = s;
	int r;

	while (*p) {
		const char *dollar = strstr(p, "${");
		const char *close;

		if (!dollar) {
			sb_adds(&b, p);
			break;
		}
		sb_add(&b, p, (size_t)(dollar - p));
		close = env_close(dollar);
		if (!close) {
			r = fail(err, errlen, "unterminated '${' in '%s'", s);
			goto bad;
		}
		r = env_one(dollar, close, &b, err, errlen);
		if (r)
			goto bad;
		p = close + 1;
	}
	r = sb_finish(&b, out);
	if (r)
		fail(err, errlen, "out of memory");
	return r;
bad:
	free(b.s);
	return r;
}
