/* config_keys: value parsing shared by the HTTP plugins (see
 * config_keys.h). */
#include "config_keys.h"
#include "objkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ck_str(const struct scopefs_host *h, char **slot, const char *value)
{
	char *s = strdup(value);

	if (!s) {
		h->set_error(h, "out of memory");
		return -ENOMEM;
	}
	free(*slot);
	*slot = s;
	return 0;
}

int ck_url(const struct scopefs_host *h, const char *key, char **slot,
	   const char *value, int allow_path)
{
	size_t n = strlen(value), hostlen;
	const char *rest;

	if (strncmp(value, "http://", 7) == 0)
		rest = value + 7;
	else if (strncmp(value, "https://", 8) == 0)
		rest = value + 8;
	else
		rest = NULL;
	while (n > 0 && value[n - 1] == '/')
		n--;
	hostlen = rest ? strcspn(rest, "/?#@ ") : 0;
	if (!rest || rest >= value + n || hostlen == 0 ||
	    (rest + hostlen < value + n &&
	     (!allow_path || rest[hostlen] != '/' ||
	      strcspn(rest + hostlen, "?#@ ") <
		      (size_t)(value + n - rest - hostlen)))) {
		h->set_error(h, "%s must be http://HOST[:PORT]%s or "
			     "https://HOST[:PORT]%s, not '%s'", key,
			     allow_path ? "[/PATH]" : "",
			     allow_path ? "[/PATH]" : "", value);
		return -EINVAL;
	}
	free(*slot);
	*slot = strndup(value, n);
	return *slot ? 0 : -ENOMEM;
}

int ck_prefix(const struct scopefs_host *h, char **slot, const char *value)
{
	char *p;

	if (objkey_prefix_join(value, "", &p) < 0) {
		h->set_error(h, "prefix '%s' has a '.' or '..' component",
			     value);
		return -EINVAL;
	}
	free(*slot);
	*slot = p;
	return 0;
}

int ck_seconds(const struct scopefs_host *h, const char *key, long *ms,
	       const char *value)
{
	char *end;
	double s = strtod(value, &end);

	if (end == value || *end || !(s > 0) || s > 3600) {
		h->set_error(h, "%s must be a number of seconds (0 < n <= "
			     "3600), not '%s'", key, value);
		return -EINVAL;
	}
	*ms = (long)(s * 1000 + 0.5);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

int ck_uint(const struct scopefs_host *h, const char *key, unsigned long lo,
	    unsigned long hi, unsigned long *out, const char *value)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (end == value || *end || errno || value[0] == '-' || v < lo ||
	    v > hi) {
		h->set_error(h, "%s must be a whole number from %lu to %lu, "
			     "not '%s'", key, lo, hi, value);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int ck_size(const struct scopefs_host *h, const char *key, uint64_t lo,
	    uint64_t hi, uint64_t *out, const char *value)
{
	uint64_t v;

	if (h->parse_size(value, &v) < 0 || v < lo || v > hi) {
		h->set_error(h, "%s must be a size from %llu to %llu bytes "
			     "(suffixes k, M, G), not '%s'", key,
			     (unsigned long long)lo, (unsigned long long)hi,
			     value);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int ck_bool(const struct scopefs_host *h, const char *key, int *out,
	    const char *value)
{
	if (h->parse_bool(value, out) < 0) {
		h->set_error(h, "%s must be yes or no, not '%s'", key, value);
		return -EINVAL;
	}
	return 0;
}

int ck_name_ok(const char *s, const char *extra)
{
	if (!s[0])
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      (*s >= 'A' && *s <= 'Z') || strchr(extra, *s)))
			return 0;
	return 1;
}

int ck_http_key(const struct scopefs_host *h, struct http_config *c,
		const char *key, const char *value)
{
	unsigned long u;
	long ms;
	int rc;

	if (strcmp(key, "connect_timeout") == 0)
		return ck_seconds(h, key, &c->connect_timeout_ms, value);
	if (strcmp(key, "timeout") == 0) {
		if ((rc = ck_seconds(h, key, &ms, value)) == 0)
			c->stall_timeout_s = (ms + 999) / 1000;
		return rc;
	}
	if (strcmp(key, "deadline") == 0) {
		if (strcmp(value, "0") == 0) {
			c->deadline_ms = 0; /* no limit */
			return 0;
		}
		return ck_seconds(h, key, &c->deadline_ms, value);
	}
	if (strcmp(key, "retries") == 0) {
		if ((rc = ck_uint(h, key, 0, 10, &u, value)) == 0)
			c->attempts = (int)u + 1;
		return rc;
	}
	return 1;
}

/* Secrets in a file others can read are no secrets: 0, or -EACCES after
 * set_error naming PATH and its MODE. */
static int mode_private(const struct scopefs_host *h, const char *path,
			const char *what, mode_t mode)
{
	if (!(mode & (S_IRGRP | S_IROTH | S_IWGRP | S_IWOTH)))
		return 0;
	h->set_error(h, "%s holds %s but has mode %04o, open to group or "
		     "others; chmod 600 it (in Kubernetes, defaultMode: 0400)",
		     path, what, (unsigned)(mode & 07777));
	return -EACCES;
}

int ck_secret_path(const struct scopefs_host *h, const char *path,
		   const char *what)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		h->set_error(h, "cannot check the permissions of %s, which "
			     "holds %s: %s", path, what, strerror(errno));
		return -EACCES;
	}
	return mode_private(h, path, what, st.st_mode);
}

int ck_secret_file(const struct scopefs_host *h, const char *what)
{
	if (!h->config_file)
		return 0; /* keys given without a file (embedding, tests) */
	return ck_secret_path(h, h->config_file, what);
}

enum { SECRET_MAX = 64 * 1024 };

/* The secret WHAT from PATH, as ck_secret_key_file says. */
static int read_secret(const struct scopefs_host *h, const char *what,
		       const char *path, char **out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, rc = 0;

	/* followed: a Kubernetes secret is a symlink into ..data/ */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0 ||
	    fstat(fd, &st) < 0) {
		rc = -errno; /* before set_error, which may change errno */
		h->set_error(h, "cannot read %s from %s: %s", what, path,
			     strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		h->set_error(h, "%s, which should hold %s, is not a regular "
			     "file", path, what);
		rc = -EINVAL;
		goto out;
	}
	if ((rc = mode_private(h, path, what, st.st_mode)) < 0)
		goto out;
	if (st.st_size > SECRET_MAX || !(buf = malloc(SECRET_MAX + 1))) {
		h->set_error(h, st.st_size > SECRET_MAX
				 ? "%s, which should hold %s, is larger than "
				   "64 KiB" : "out of memory", path, what);
		rc = st.st_size > SECRET_MAX ? -EFBIG : -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, SECRET_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			h->set_error(h, "cannot read %s from %s: %s", what,
				     path, strerror(-rc));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SECRET_MAX) {
			h->set_error(h, "%s, which should hold %s, is larger "
				     "than 64 KiB", path, what);
			rc = -EFBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	if (len == 0 || strlen(buf) != len || strchr(buf, '\n')) {
		h->set_error(h, "%s should hold %s on one line, and %s", path,
			     what, len == 0 ? "is empty"
			     : strlen(buf) != len ? "has a NUL byte"
						  : "has several lines");
		rc = -EINVAL;
		goto out;
	}
	*out = buf;
	buf = NULL;
out:
	if (buf) {
		explicit_bzero(buf, SECRET_MAX + 1);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int ck_secret_key_file(const struct scopefs_host *h, const char *key,
		       const char *value, const char *const *secrets,
		       const char **name, char **secret)
{
	size_t n = strlen(key), t = strlen("_file");

	if (n <= t || strcmp(key + n - t, "_file") != 0)
		return 1;
	for (size_t i = 0; secrets[i]; i++)
		if (strlen(secrets[i]) == n - t &&
		    strncmp(key, secrets[i], n - t) == 0) {
			*name = secrets[i];
			return read_secret(h, secrets[i], value, secret);
		}
	return 1;
}
