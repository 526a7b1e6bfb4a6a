/* fuzz_scope: scope_expand and scope_expand_env.  The input is
 * "cloud_id\nuser_id\nworkload_id\nTEMPLATE" after one byte that picks
 * the workload type; absent fields stay NULL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scope.h"

/* The next '\n'-terminated field of *p (NUL-terminated in place), or
 * NULL when no '\n' is left. */
static char *field(char **p)
{
	char *s = *p, *nl = strchr(s, '\n');

	if (!nl)
		return NULL;
	*nl = '\0';
	*p = nl + 1;
	return s;
}

/* What scope.h promises of a prefix: no leading, trailing or doubled
 * '/', no "." or ".." component, no control character. */
static void check_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n && (s[0] == '/' || s[n - 1] == '/'))
		__builtin_trap();
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			__builtin_trap();
	while (*s) {
		size_t k = strcspn(s, "/");
		if (k == 0 || (k == 1 && s[0] == '.') ||
		    (k == 2 && s[0] == '.' && s[1] == '.'))
			__builtin_trap();
		s += k;
		if (*s == '/')
			s++;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("JOB_ID", "job_1", 1);
	setenv("EMPTY", "", 1);
	setenv("SLASH", "a/b", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_identity id = { 0 };
	char *buf, *p, *out = NULL, err[512];

	if (size < 1)
		return 0;
	if (!(buf = malloc(size)))
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	id.workload = (enum cfg_workload)(data[0] % 5);
	p = buf;
	id.cloud_id = field(&p);
	id.user_id = field(&p);
	id.workload_id = field(&p);
	if (scope_expand(p, &id, &out, err, sizeof err) == 0) {
		check_prefix(out);
		free(out);
	}
	out = NULL;
	if (scope_expand_env(p, &out, err, sizeof err) == 0)
		free(out);
	for (int s = SCOPE_CLUSTER; s <= SCOPE_CLOUD; s++) {
		const char *t = scope_default_template(s, id.workload);
		out = NULL;
		if (t && scope_expand(t, &id, &out, err, sizeof err) == 0) {
			check_prefix(out);
			free(out);
		}
	}
	free(buf);
	return 0;
}
