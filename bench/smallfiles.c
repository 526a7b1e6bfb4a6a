/* smallfiles: one phase of the small-file benchmark, timed from inside so
 * that no per-file process start is measured.
 *
 *   smallfiles create DIR N [SIZE]   create DIR/fNNNNNN with SIZE bytes (4096)
 *   smallfiles stat   DIR N          stat(2) each
 *   smallfiles read   DIR N [SIZE]   open, read SIZE bytes, close each
 *   smallfiles unlink DIR N          unlink(2) each
 *
 * Prints the elapsed wall time of the phase in seconds on stdout and exits 0;
 * on the first failing call it names the call and file on stderr and exits 1.
 * Files are visited in name order, the same order in every phase.
 *
 * Build: cc -O2 -o smallfiles smallfiles.c */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "smallfiles: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: smallfiles create|stat|read|unlink DIR N [SIZE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *phase, *dir;
	long n, size = 4096;
	char path[4096], *buf;
	double t0;

	if (argc < 4 || argc > 5)
		return usage();
	phase = argv[1];
	dir = argv[2];
	n = strtol(argv[3], NULL, 10);
	if (argc == 5)
		size = strtol(argv[4], NULL, 10);
	if (n <= 0 || size < 0)
		return usage();
	buf = malloc(size ? (size_t)size : 1);
	if (!buf)
		return 1;
	memset(buf, 'x', size ? (size_t)size : 1);

	t0 = now();
	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/f%06ld", dir, i);
		if (strcmp(phase, "create") == 0) {
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

			if (fd < 0)
				return fail("open(O_CREAT)", path);
			if (size && write(fd, buf, (size_t)size) != size)
				return fail("write", path);
			if (close(fd) < 0)
				return fail("close", path);
		} else if (strcmp(phase, "stat") == 0) {
			struct stat st;

			if (stat(path, &st) < 0)
				return fail("stat", path);
		} else if (strcmp(phase, "read") == 0) {
			int fd = open(path, O_RDONLY);
			ssize_t r;

			if (fd < 0)
				return fail("open", path);
			r = read(fd, buf, (size_t)size);
			if (r != size) {
				if (r >= 0)
					errno = EIO;
				return fail("read", path);
			}
			if (close(fd) < 0)
				return fail("close", path);
		} else if (strcmp(phase, "unlink") == 0) {
			if (unlink(path) < 0)
				return fail("unlink", path);
		} else {
			return usage();
		}
	}
	printf("%.6f\n", now() - t0);
	free(buf);
	return 0;
}
