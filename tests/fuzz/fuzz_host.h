/* fuzz_host: the host a plugin's functions get in a fuzz target: errors
 * and log lines go nowhere (only crashes, leaks and UB are findings). */
#ifndef SCOPEFS_FUZZ_HOST_H
#define SCOPEFS_FUZZ_HOST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <scopefs/plugin.h>

static inline void fuzz_log(const struct scopefs_host *h, int level,
		     const char *fmt, ...)
{
	(void)h;
	(void)level;
	(void)fmt;
}

static inline void fuzz_set_error(const struct scopefs_host *h, const char *fmt,
			   ...)
{
	(void)h;
	(void)fmt;
}

static const struct scopefs_host fuzz_host = {
	.struct_size = sizeof(struct scopefs_host),
	.abi_major = SCOPEFS_ABI_MAJOR,
	.abi_minor = SCOPEFS_ABI_MINOR,
	.backend_name = "fuzz",
	.log = fuzz_log,
	.set_error = fuzz_set_error,
};

/* The input as a NUL-terminated string (what the parsers get from
 * http.c), malloc'd; NULL when out of memory. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

#endif
