/* fuzz_config: config_load on any file: the INI reader (inih and
 * read_line), every section's keys, ${VAR} expansion, [identity] and the
 * scope templates, the checks across mounts, and config_free. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

/* config_load reads a path: one memfd per process, rewritten per input. */
static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("fuzz.conf", 0);
	if (fd < 0)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	/* Values for ${VAR}: one set, one empty, the rest unset. */
	setenv("JOB_ID", "job_1", 1);
	setenv("EMPTY", "", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	char err[4096];

	if (ftruncate(fd, 0) < 0 ||
	    (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	if (config_load(path, &c, err, sizeof err) == 0)
		config_free(c);
	return 0;
}
