/* config: the INI file parsed into struct config, every value checked and
 * every error reported as FILE:LINE: [section] key: message.
 *
 * inih splits "key = value" lines and strips comments.  Our reader feeds it
 * one line at a time, which is how we know the line number of each key
 * (Debian's libinih is built without INI_HANDLER_LINENO), and it handles
 * section headers itself so that a section without keys is still seen and
 * "[mount /path]" can be checked where it is written.  The reader also
 * strips leading blanks: inih would otherwise read an indented line as the
 * continuation of the previous value, silently swallowing an indented key. */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <scopefs/plugin.h> /* SCOPEFS_LOG_* */
#include "config.h"
#include "metrics_addr.h"
#include "scope.h"

#define DEFAULT_CACHE_DIR "/var/cache/scopefs"
#define MSG_MAX 512

enum sect_kind {
	SECT_NONE,    /* before the first header */
	SECT_IGNORED, /* a header already reported as wrong: skip its keys */
	SECT_SCOPEFS,
	SECT_IDENTITY,
	SECT_BACKEND,
	SECT_MOUNT,
};

static const char *const section_words[] = { "scopefs", "identity", "backend",
					      "mount", NULL };
enum { SK_PLUGIN_DIR, SK_CACHE_DIR, SK_LOG_LEVEL, SK_METRICS, SK_COUNT };
static const char *const scopefs_keys[] = { "plugin_dir", "cache_dir",
					    "log_level", "metrics", NULL };
enum { IK_CLOUD_ID, IK_USER_ID, IK_WORKLOAD, IK_WORKLOAD_ID, IK_COUNT };
static const char *const identity_keys[] = { "cloud_id", "user_id", "workload",
					     "workload_id", NULL };
enum { MK_BACKEND, MK_SCOPE, MK_READ_ONLY, MK_UID, MK_GID, MK_UMASK, MK_PREFIX,
       MK_CACHE_TTL, MK_WRITEBACK, MK_COUNT };
static const char *const mount_keys[] = { "backend", "scope", "read_only",
					  "uid", "gid", "umask", "prefix",
					  "cache_ttl", "writeback_cache", NULL };
static const char *const scope_words[] = { "cluster", "user", "cloud", NULL };
static const char *const workload_words[] = { "workspace", "job", "job_queue",
					      "service", NULL };
static const char *const level_words[] = { "error", "warn", "info", "debug",
					   NULL };
static const char *const tristate_words[] = { "auto", "yes", "no", NULL };

/* Line on which each key of a section was set (0 = not set), and for a
 * mount, which keys had a value we refused (bit per MK_*): the checks
 * across sections skip those rather than pile a second error on them. */
struct key_lines {
	int line[MK_COUNT];
	unsigned int bad;
};

struct parser {
	const char *file;
	FILE *fp;
	int lineno;
	char *buf; /* getline buffer */
	size_t bufcap;
	int io_errno;
	struct config *c;

	enum sect_kind kind;
	char *sect;  /* current section, canonical ("mount /a"), for messages */
	size_t idx;  /* index of the current backend or mount */
	struct key_lines scopefs_lines, identity_lines;
	struct key_lines *mount_lines; /* parallel to c->mounts */

	char *err;
	size_t errlen, used;
	int nerr;
};

/* Append one error line "FILE:LINE: [SECT] KEY: message" to the report.
 * SECT and KEY may be NULL; LINE 0 leaves out the line number. */
static void perr(struct parser *p, int line, const char *sect, const char *key,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void perr(struct parser *p, int line, const char *sect, const char *key,
		 const char *fmt, ...)
{
	char msg[MSG_MAX], where[MSG_MAX], num[16] = "";
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line)
		snprintf(num, sizeof num, "%d:", line);
	if (sect && key)
		snprintf(where, sizeof where, "[%s] %s: ", sect, key);
	else if (sect)
		snprintf(where, sizeof where, "[%s]: ", sect);
	else if (key)
		snprintf(where, sizeof where, "%s: ", key);
	else
		where[0] = '\0';
	p->nerr++;
	if (p->errlen > p->used + 1) {
		n = snprintf(p->err + p->used, p->errlen - p->used, "%s%s:%s %s%s",
			     p->used ? "\n" : "", p->file, num, where, msg);
		p->used += (size_t)n;
		if (p->used >= p->errlen)
			p->used = p->errlen - 1;
	}
}

/* Levenshtein distance, or INT_MAX for words too long to be typos. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (la >= 64 || lb >= 64)
		return INT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int diag = row[0];

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int up = row[j];
			int best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The word of WORDS closest to W within edit distance 2, or NULL. */
static const char *closest(const char *const *words, const char *w)
{
	const char *best = NULL;
	int bestd = 3;

	for (; *words; words++) {
		int d = edit_distance(*words, w);

		if (d < bestd) {
			bestd = d;
			best = *words;
		}
	}
	return best;
}

/* " (did you mean 'X'?)" or "" — into buf, returned. */
static const char *hint(char *buf, size_t len, const char *const *words,
			const char *w)
{
	const char *c = closest(words, w);

	if (c)
		snprintf(buf, len, " (did you mean '%s'?)", c);
	else
		buf[0] = '\0';
	return buf;
}

static int word_index(const char *const *words, const char *w)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(words[i], w) == 0)
			return i;
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on", NULL };
	static const char *const no[] = { "0", "no", "false", "off", NULL };

	for (int i = 0; yes[i]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v = 0, mult = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (ULLONG_MAX - (unsigned)(*p - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned)(*p - '0');
	}
	switch (*p) {
	case 'k': case 'K': mult = 1ULL << 10; p++; break;
	case 'm': case 'M': mult = 1ULL << 20; p++; break;
	case 'g': case 'G': mult = 1ULL << 30; p++; break;
	case 't': case 'T': mult = 1ULL << 40; p++; break;
	default: break;
	}
	/* "16M", "16MB" and "16MiB" all mean 16 * 2^20. */
	if (mult > 1 && (strcmp(p, "B") == 0 || strcmp(p, "iB") == 0))
		p += strlen(p);
	if (*p)
		return -EINVAL;
	if (v > ULLONG_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

const char *config_scope_name(enum cfg_scope s)
{
	switch (s) {
	case SCOPE_CLUSTER: return "cluster";
	case SCOPE_USER: return "user";
	case SCOPE_CLOUD: return "cloud";
	}
	return "?";
}

const char *config_workload_name(enum cfg_workload w)
{
	switch (w) {
	case WORKLOAD_NONE: return "none";
	case WORKLOAD_WORKSPACE: return "workspace";
	case WORKLOAD_JOB: return "job";
	case WORKLOAD_JOB_QUEUE: return "job_queue";
	case WORKLOAD_SERVICE: return "service";
	}
	return "?";
}

/* Normalise an absolute mount point: collapse "//", drop a trailing '/',
 * refuse "." and ".." components, control characters and "/" itself. */
static int normalise_mount_path(const char *in, char **out, char *msg,
				size_t msglen)
{
	char *s, *w;
	const char *p = in;

	if (in[0] != '/') {
		snprintf(msg, msglen, "mount point '%s' is not an absolute path", in);
		return -EINVAL;
	}
	for (const unsigned char *c = (const unsigned char *)in; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			snprintf(msg, msglen,
				 "mount point '%s' contains a control character", in);
			return -EINVAL;
		}
	}
	s = malloc(strlen(in) + 1);
	if (!s) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	w = s;
	while (*p) {
		const char *end;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		n = (size_t)(end - p);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
			snprintf(msg, msglen, "mount point '%s' has a '%.*s' component",
				 in, (int)n, p);
			free(s);
			return -EINVAL;
		}
		*w++ = '/';
		memcpy(w, p, n);
		w += n;
		p = end;
	}
	*w = '\0';
	if (w == s) {
		snprintf(msg, msglen, "cannot mount on '/'");
		free(s);
		return -EINVAL;
	}
	*out = s;
	return 0;
}

static int valid_backend_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-", *s))
			return 0;
	return 1;
}

/* --- section headers ---------------------------------------------------- */

static void begin_backend(struct parser *p, const char *name, int line)
{
	struct config *c = p->c;
	struct cfg_backend *nb;

	if (!valid_backend_name(name)) {
		perr(p, line, NULL, NULL,
		     "[backend %s]: bad backend name '%s' (use letters, digits, '_', '.', '-')",
		     name, name);
		return;
	}
	for (size_t i = 0; i < c->nbackends; i++) {
		if (strcmp(c->backends[i].name, name) == 0) {
			perr(p, line, NULL, NULL,
			     "[backend %s]: duplicate backend name (first defined at line %d)",
			     name, c->backends[i].line);
			return;
		}
	}
	nb = realloc(c->backends, (c->nbackends + 1) * sizeof *nb);
	if (!nb)
		goto oom;
	c->backends = nb;
	nb = &c->backends[c->nbackends];
	memset(nb, 0, sizeof *nb);
	nb->name = strdup(name);
	if (!nb->name)
		goto oom;
	nb->line = line;
	p->idx = c->nbackends++;
	if (asprintf(&p->sect, "backend %s", name) < 0) {
		p->sect = NULL;
		goto oom;
	}
	p->kind = SECT_BACKEND;
	return;
oom:
	perr(p, line, NULL, NULL, "out of memory");
}

static void begin_mount(struct parser *p, const char *raw, int line)
{
	struct config *c = p->c;
	struct cfg_mount *nm;
	struct key_lines *kl;
	char msg[MSG_MAX];
	char *path;

	if (normalise_mount_path(raw, &path, msg, sizeof msg)) {
		perr(p, line, NULL, NULL, "[mount %s]: %s", raw, msg);
		return;
	}
	nm = realloc(c->mounts, (c->nmounts + 1) * sizeof *nm);
	if (nm)
		c->mounts = nm;
	kl = realloc(p->mount_lines, (c->nmounts + 1) * sizeof *kl);
	if (kl)
		p->mount_lines = kl;
	if (!nm || !kl || asprintf(&p->sect, "mount %s", path) < 0) {
		p->sect = NULL;
		free(path);
		perr(p, line, NULL, NULL, "out of memory");
		return;
	}
	nm = &c->mounts[c->nmounts];
	memset(nm, 0, sizeof *nm);
	memset(&p->mount_lines[c->nmounts], 0, sizeof *kl);
	nm->path = path;
	nm->line = line;
	nm->scope = SCOPE_CLUSTER;
	nm->cache_ttl = 1;
	nm->writeback_cache = CFG_AUTO;
	p->idx = c->nmounts++;
	p->kind = SECT_MOUNT;
}

/* A "[...]" line (S points at '['): make it the current section. */
static void section_header(struct parser *p, char *s)
{
	char *close = strchr(s, ']');
	char *name, *arg, *after, *expanded = NULL;
	char msg[MSG_MAX], h[64];
	int line = p->lineno;

	free(p->sect);
	p->sect = NULL;
	p->kind = SECT_IGNORED;
	if (!close) {
		perr(p, line, NULL, NULL, "section header '%s' has no closing ']'", s);
		return;
	}
	after = trim(close + 1);
	if (*after && *after != ';' && *after != '#')
		perr(p, line, NULL, NULL, "unexpected text '%s' after section header",
		     after);
	*close = '\0';
	name = trim(s + 1);
	arg = name + strcspn(name, " \t");
	if (*arg)
		*arg++ = '\0';
	arg = trim(arg);

	if (strcmp(name, "scopefs") == 0 || strcmp(name, "identity") == 0) {
		if (*arg) {
			perr(p, line, NULL, NULL, "[%s %s]: [%s] takes no name",
			     name, arg, name);
			return;
		}
		p->kind = name[0] == 's' ? SECT_SCOPEFS : SECT_IDENTITY;
		p->sect = strdup(name);
		return;
	}
	if (strcmp(name, "backend") != 0 && strcmp(name, "mount") != 0) {
		perr(p, line, NULL, NULL,
		     "[%s%s%s]: unknown section (expected [scopefs], [identity], [backend NAME] or [mount /PATH])%s",
		     name, *arg ? " " : "", arg,
		     hint(h, sizeof h, section_words, name));
		return;
	}
	if (!*arg) {
		perr(p, line, NULL, NULL, "[%s]: missing %s", name,
		     name[0] == 'b' ? "the backend name: [backend NAME]"
				    : "the mount point: [mount /PATH]");
		return;
	}
	if (scope_expand_env(arg, &expanded, msg, sizeof msg)) {
		perr(p, line, NULL, NULL, "[%s %s]: %s", name, arg, msg);
		return;
	}
	if (name[0] == 'b')
		begin_backend(p, expanded, line);
	else
		begin_mount(p, expanded, line);
	free(expanded);
}

/* --- the line reader handed to inih -------------------------------------- */

/* True when a key line has '=' or ':' before any inline comment, which is
 * what inih needs to call the handler rather than count a syntax error. */
static int has_separator(const char *s)
{
	for (const char *c = s; *c; c++) {
		if (*c == '=' || *c == ':')
			return 1;
		if (*c == ';' && c > s && isspace((unsigned char)c[-1]))
			return 0;
	}
	return 0;
}

static char *read_line(char *out, int num, void *stream)
{
	struct parser *p = stream;
	ssize_t n;
	char *s;

	errno = 0;
	n = getline(&p->buf, &p->bufcap, p->fp);
	if (n < 0) {
		if (ferror(p->fp))
			p->io_errno = errno ? errno : EIO;
		return NULL;
	}
	p->lineno++;
	s = p->buf;
	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (strlen(s) != (size_t)n - (size_t)(s - p->buf)) {
		perr(p, p->lineno, NULL, NULL, "line contains a NUL byte");
		s[0] = '\0';
	}
	s = trim(s);
	out[0] = '\0';
	if (*s == '[') {
		section_header(p, s);
	} else if (*s && *s != ';' && *s != '#') {
		if (!has_separator(s))
			perr(p, p->lineno, p->sect, NULL,
			     "expected 'key = value', found '%s'", s);
		else if (strlen(s) + 2 > (size_t)num)
			perr(p, p->lineno, p->sect, NULL,
			     "line longer than %d characters", num - 2);
		else
			snprintf(out, (size_t)num, "%s\n", s);
	}
	if (!out[0])
		snprintf(out, (size_t)num, "\n");
	return out;
}

/* --- keys ---------------------------------------------------------------- */

/* Check for a duplicate and record the line; nonzero if KEY was set. */
static int seen_before(struct parser *p, int *slot, const char *key)
{
	if (*slot) {
		perr(p, p->lineno, p->sect, key,
		     "duplicate key (first set at line %d)", *slot);
		return 1;
	}
	*slot = p->lineno;
	return 0;
}

static int parse_word(struct parser *p, const char *key, const char *what,
		      const char *const *words, const char *v)
{
	char h[64], list[128] = "";
	int i = word_index(words, v);

	if (i >= 0)
		return i;
	for (int k = 0; words[k]; k++) {
		size_t n = strlen(list);

		snprintf(list + n, sizeof list - n, "%s%s", k == 0 ? "" :
			 words[k + 1] ? ", " : " or ", words[k]);
	}
	perr(p, p->lineno, p->sect, key, "bad %s '%s': expected %s%s", what, v,
	     list, hint(h, sizeof h, words, v));
	return -1;
}

/* Absolute directory or empty (= default); takes V. */
static void set_dir(struct parser *p, const char *key, char **field, char *v)
{
	if (!*v) {
		free(v);
		return;
	}
	if (v[0] != '/') {
		perr(p, p->lineno, p->sect, key,
		     "'%s' is not an absolute path", v);
		free(v);
		return;
	}
	free(*field);
	*field = v;
}

static void set_scopefs(struct parser *p, const char *key, char *v)
{
	char h[64];
	int k = word_index(scopefs_keys, key);

	if (k < 0) {
		perr(p, p->lineno, p->sect, key, "unknown key '%s'%s", key,
		     hint(h, sizeof h, scopefs_keys, key));
		goto out;
	}
	if (seen_before(p, &p->scopefs_lines.line[k], key))
		goto out;
	switch (k) {
	case SK_PLUGIN_DIR:
		set_dir(p, key, &p->c->plugin_dir, v);
		return;
	case SK_CACHE_DIR:
		set_dir(p, key, &p->c->cache_dir, v);
		return;
	case SK_LOG_LEVEL: {
		int l = parse_word(p, key, "log level", level_words, v);

		if (l >= 0)
			p->c->log_level = SCOPEFS_LOG_ERROR + l;
		break;
	}
	case SK_METRICS: {
		struct sockaddr_storage sa;
		socklen_t len;
		char e[512];

		if (strcmp(v, "off") == 0 || !*v)
			break;
		if (metrics_parse_addr(v, &sa, &len, e, sizeof e) < 0) {
			perr(p, p->lineno, p->sect, key, "%s", e);
			break;
		}
		free(p->c->metrics);
		p->c->metrics = v;
		return;
	}
	}
out:
	free(v);
}

static void set_identity(struct parser *p, const char *key, char *v)
{
	struct cfg_identity *id = &p->c->id;
	char **field = NULL;
	char h[64];
	int k = word_index(identity_keys, key);

	if (k < 0) {
		perr(p, p->lineno, p->sect, key, "unknown key '%s'%s", key,
		     hint(h, sizeof h, identity_keys, key));
		goto out;
	}
	if (seen_before(p, &p->identity_lines.line[k], key))
		goto out;
	switch (k) {
	case IK_CLOUD_ID: field = &id->cloud_id; break;
	case IK_USER_ID: field = &id->user_id; break;
	case IK_WORKLOAD_ID: field = &id->workload_id; break;
	case IK_WORKLOAD:
		/* Empty (e.g. "${WORKLOAD:-}") leaves the workload unset. */
		if (*v) {
			int w = parse_word(p, key, "workload type",
					   workload_words, v);
			if (w >= 0)
				id->workload = WORKLOAD_WORKSPACE + w;
			else
				p->identity_lines.bad |= 1u << IK_WORKLOAD;
		}
		goto out;
	}
	/* An empty identity value counts as unset: a prefix needing it then
	 * says so by name. */
	if (*v) {
		*field = v;
		return;
	}
out:
	free(v);
}

static void set_backend(struct parser *p, const char *key, char *v)
{
	struct cfg_backend *b = &p->c->backends[p->idx];
	struct cfg_kv *kv;

	if (strcmp(key, "plugin") == 0) {
		if (seen_before(p, &b->plugin_line, key))
			goto out;
		if (!*v)
			perr(p, p->lineno, p->sect, key, "no plugin given");
		else if (strchr(v, '/') && v[0] != '/')
			perr(p, p->lineno, p->sect, key,
			     "'%s' is neither a plugin name nor an absolute path",
			     v);
		else {
			b->plugin = v;
			return;
		}
		goto out;
	}
	for (size_t i = 0; i < b->nkeys; i++) {
		if (strcmp(b->keys[i].key, key) == 0) {
			perr(p, p->lineno, p->sect, key,
			     "duplicate key (first set at line %d)",
			     b->keys[i].line);
			goto out;
		}
	}
	kv = realloc(b->keys, (b->nkeys + 1) * sizeof *kv);
	if (!kv)
		goto oom;
	b->keys = kv;
	kv = &b->keys[b->nkeys];
	kv->key = strdup(key);
	if (!kv->key)
		goto oom;
	kv->value = v;
	kv->line = p->lineno;
	b->nkeys++;
	return;
oom:
	perr(p, p->lineno, p->sect, key, "out of memory");
out:
	free(v);
}

/* A uid/gid: a decimal number or a name looked up with getpwnam/getgrnam. */
static int parse_id(struct parser *p, const char *key, const char *v,
		    unsigned int *out)
{
	char *end;
	unsigned long n;

	if (isdigit((unsigned char)v[0])) {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (*end || errno || n >= UINT32_MAX) {
			perr(p, p->lineno, p->sect, key, "bad %s '%s'",
			     key[0] == 'u' ? "user id" : "group id", v);
			return -1;
		}
		*out = (unsigned int)n;
		return 0;
	}
	if (key[0] == 'u') {
		struct passwd *pw = getpwnam(v);

		if (pw) {
			*out = pw->pw_uid;
			return 0;
		}
		perr(p, p->lineno, p->sect, key, "no user named '%s'", v);
	} else {
		struct group *gr = getgrnam(v);

		if (gr) {
			*out = gr->gr_gid;
			return 0;
		}
		perr(p, p->lineno, p->sect, key, "no group named '%s'", v);
	}
	return -1;
}

static void parse_umask(struct parser *p, struct cfg_mount *m, const char *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 8);
	if (!*v || *end || errno || n > 0777 || strspn(v, "01234567") != strlen(v)) {
		perr(p, p->lineno, p->sect, "umask",
		     "bad umask '%s': expected octal digits, e.g. 022", v);
		return;
	}
	m->umask = (mode_t)n;
	m->has_umask = 1;
}

static void parse_ttl(struct parser *p, struct cfg_mount *m, const char *v)
{
	size_t digits = strspn(v, "0123456789");
	const char *rest = v + digits;

	if (*rest == '.') {
		size_t frac = strspn(rest + 1, "0123456789");

		digits += frac;
		rest += 1 + frac;
	}
	if (!digits || *rest) {
		perr(p, p->lineno, p->sect, "cache_ttl",
		     "bad cache_ttl '%s': expected seconds, e.g. 1 or 0.5", v);
		return;
	}
	m->cache_ttl = strtod(v, NULL);
}

/* One key of a [mount]; V is NULL when its ${VAR} expansion failed (already
 * reported): the key then counts as given but bad. */
static void set_mount(struct parser *p, const char *key, char *v)
{
	struct cfg_mount *m = &p->c->mounts[p->idx];
	struct key_lines *kl = &p->mount_lines[p->idx];
	unsigned int id;
	char h[64];
	int k = word_index(mount_keys, key), i, nerr = p->nerr;

	if (k < 0) {
		perr(p, p->lineno, p->sect, key, "unknown key '%s'%s", key,
		     hint(h, sizeof h, mount_keys, key));
		free(v);
		return;
	}
	if (seen_before(p, &kl->line[k], key)) {
		free(v);
		return;
	}
	if (!v) {
		kl->bad |= 1u << k;
		return;
	}
	if (!*v && k != MK_PREFIX) {
		perr(p, p->lineno, p->sect, key, "no value given");
		goto out;
	}
	switch (k) {
	case MK_BACKEND:
		m->backend = v;
		return;
	case MK_PREFIX:
		m->prefix_template = v;
		m->prefix_line = p->lineno;
		return;
	case MK_SCOPE:
		i = parse_word(p, key, "scope", scope_words, v);
		if (i >= 0)
			m->scope = SCOPE_CLUSTER + i;
		break;
	case MK_READ_ONLY:
		if (config_parse_bool(v, &m->read_only))
			perr(p, p->lineno, p->sect, key,
			     "bad boolean '%s': expected yes/no, true/false, on/off or 1/0",
			     v);
		break;
	case MK_UID:
		if (parse_id(p, key, v, &id) == 0) {
			m->uid = id;
			m->has_uid = 1;
		}
		break;
	case MK_GID:
		if (parse_id(p, key, v, &id) == 0) {
			m->gid = id;
			m->has_gid = 1;
		}
		break;
	case MK_UMASK:
		parse_umask(p, m, v);
		break;
	case MK_CACHE_TTL:
		parse_ttl(p, m, v);
		break;
	case MK_WRITEBACK: {
		int b;

		/* auto, yes, no, and the other boolean spellings. */
		if (strcmp(v, "auto") == 0)
			m->writeback_cache = CFG_AUTO;
		else if (config_parse_bool(v, &b) == 0)
			m->writeback_cache = b ? CFG_YES : CFG_NO;
		else
			parse_word(p, key, "writeback_cache value",
				   tristate_words, v);
		break;
	}
	}
out:
	if (p->nerr != nerr)
		kl->bad |= 1u << k;
	free(v);
}

/* inih's callback: one "key = value" line.  Always returns 1 so that inih
 * keeps going; errors are collected in the parser. */
static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parser *p = user;
	char msg[MSG_MAX];
	char *v;

	(void)section; /* we track sections in read_line */
	if (p->kind == SECT_IGNORED)
		return 1;
	if (!*name) {
		perr(p, p->lineno, p->sect, NULL, "missing key name before '='");
		return 1;
	}
	if (p->kind == SECT_NONE) {
		perr(p, p->lineno, NULL, name,
		     "key outside any section (add [scopefs], [identity], [backend NAME] or [mount /PATH] above it)");
		return 1;
	}
	if (scope_expand_env(value, &v, msg, sizeof msg)) {
		perr(p, p->lineno, p->sect, name, "%s", msg);
		if (p->kind == SECT_MOUNT)
			set_mount(p, name, NULL);
		return 1;
	}
	switch (p->kind) {
	case SECT_SCOPEFS: set_scopefs(p, name, v); break;
	case SECT_IDENTITY: set_identity(p, name, v); break;
	case SECT_BACKEND: set_backend(p, name, v); break;
	case SECT_MOUNT: set_mount(p, name, v); break;
	default: free(v); break;
	}
	return 1;
}

/* --- checks across sections ---------------------------------------------- */

static void check_backend(struct parser *p, struct cfg_backend *b)
{
	static const char *const plugin_word[] = { "plugin", NULL };
	char sect[MSG_MAX];

	if (b->plugin || b->plugin_line)
		return;
	snprintf(sect, sizeof sect, "backend %s", b->name);
	for (size_t i = 0; i < b->nkeys; i++) {
		if (closest(plugin_word, b->keys[i].key)) {
			perr(p, b->line, sect, NULL,
			     "missing key 'plugin' (did you mean 'plugin' instead of '%s' at line %d?)",
			     b->keys[i].key, b->keys[i].line);
			return;
		}
	}
	perr(p, b->line, sect, NULL,
	     "missing key 'plugin' (a plugin name such as 'local', or an absolute path to a .so)");
}

static void resolve_backend(struct parser *p, struct cfg_mount *m,
			    const struct key_lines *kl, const char *sect)
{
	struct config *c = p->c;
	const char *near = NULL;
	char h[MSG_MAX] = "";
	int neard = 3;

	for (size_t i = 0; i < c->nbackends; i++) {
		int d = edit_distance(c->backends[i].name, m->backend);

		if (d == 0) {
			m->be = &c->backends[i];
			return;
		}
		if (d < neard) {
			neard = d;
			near = c->backends[i].name;
		}
	}
	if (near)
		snprintf(h, sizeof h, " (did you mean '%s'?)", near);
	perr(p, kl->line[MK_BACKEND], sect, "backend",
	     "backend '%s' is not defined (no [backend %s] section)%s",
	     m->backend, m->backend, h);
}

static void resolve_prefix(struct parser *p, struct cfg_mount *m,
			   const struct key_lines *kl, const char *sect)
{
	const struct cfg_identity *id = &p->c->id;
	const char *tmpl = m->prefix_template;
	char msg[MSG_MAX];

	/* A refused workload type was reported; what follows from it would
	 * only repeat that. */
	if (p->identity_lines.bad & (1u << IK_WORKLOAD))
		return;

	if (!tmpl) {
		tmpl = scope_default_template(m->scope, id->workload);
		if (!tmpl) {
			perr(p, kl->line[MK_SCOPE], sect, "scope",
			     "cluster scope needs workload (workspace, job, job_queue or service) in [identity] to choose the prefix, or set prefix");
			return;
		}
	}
	if (scope_expand(tmpl, id, &m->prefix, msg, sizeof msg) == 0)
		return;
	if (m->prefix_template)
		perr(p, m->prefix_line, sect, "prefix", "%s", msg);
	else
		perr(p, kl->line[MK_SCOPE], sect, "prefix",
		     "%s (default prefix '%s' of scope %s)", msg, tmpl,
		     config_scope_name(m->scope));
}

/* One mount point may not equal or contain another. */
static void check_overlap(struct parser *p, const struct cfg_mount *a,
			  const struct cfg_mount *b)
{
	size_t la = strlen(a->path), lb = strlen(b->path);
	char sect[MSG_MAX];

	snprintf(sect, sizeof sect, "mount %s", b->path);
	if (la == lb && strcmp(a->path, b->path) == 0)
		perr(p, b->line, sect, NULL,
		     "two mounts on %s: this one and [mount %s] at line %d",
		     b->path, a->path, a->line);
	else if (la < lb && strncmp(a->path, b->path, la) == 0 && b->path[la] == '/')
		perr(p, b->line, sect, NULL,
		     "mount point is nested inside [mount %s] at line %d",
		     a->path, a->line);
	else if (lb < la && strncmp(a->path, b->path, lb) == 0 && a->path[lb] == '/')
		perr(p, b->line, sect, NULL,
		     "mount point contains [mount %s] at line %d",
		     a->path, a->line);
}

static void check_all(struct parser *p)
{
	struct config *c = p->c;

	for (size_t i = 0; i < c->nbackends; i++)
		check_backend(p, &c->backends[i]);
	for (size_t i = 0; i < c->nmounts; i++) {
		struct cfg_mount *m = &c->mounts[i];
		const struct key_lines *kl = &p->mount_lines[i];
		char sect[MSG_MAX];

		snprintf(sect, sizeof sect, "mount %s", m->path);
		for (size_t j = 0; j < i; j++)
			check_overlap(p, &c->mounts[j], m);
		if (!kl->line[MK_BACKEND])
			perr(p, m->line, sect, NULL,
			     "missing key 'backend' (the name of a [backend NAME] section)");
		else if (m->backend)
			resolve_backend(p, m, kl, sect);
		if (!kl->line[MK_SCOPE])
			perr(p, m->line, sect, NULL,
			     "missing key 'scope' (cluster, user or cloud)");
		else if (!(kl->bad & (1u << MK_SCOPE | 1u << MK_PREFIX)))
			resolve_prefix(p, m, kl, sect);
	}
}

/* --- entry points -------------------------------------------------------- */

static struct config *config_new(const char *file)
{
	struct config *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->file = strdup(file);
	c->cache_dir = strdup(DEFAULT_CACHE_DIR);
	c->log_level = SCOPEFS_LOG_INFO;
	if (!c->file || !c->cache_dir) {
		config_free(c);
		return NULL;
	}
	return c;
}

int config_load(const char *file, struct config **out, char *err,
		size_t errlen)
{
	struct parser p = { .file = file, .err = err, .errlen = errlen };
	int r;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	p.fp = fopen(file, "re");
	if (!p.fp) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(-r));
		return r;
	}
	p.c = config_new(file);
	if (!p.c) {
		fclose(p.fp);
		snprintf(err, errlen, "%s: %s", file, strerror(ENOMEM));
		return -ENOMEM;
	}
	r = ini_parse_stream(read_line, &p, on_key, &p);
	fclose(p.fp);
	free(p.buf);
	free(p.sect);
	if (p.io_errno) {
		snprintf(err, errlen, "%s: %s", file, strerror(p.io_errno));
		r = -p.io_errno;
		goto fail;
	}
	if (r > 0 && !p.nerr)
		perr(&p, r, NULL, NULL, "syntax error");
	else if (r < 0 && !p.nerr)
		perr(&p, 0, NULL, NULL, "out of memory while parsing");
	/* Even after errors: report the cross-section ones in the same run. */
	check_all(&p);
	if (p.nerr) {
		r = -EINVAL;
		goto fail;
	}
	free(p.mount_lines);
	*out = p.c;
	return 0;
fail:
	free(p.mount_lines);
	config_free(p.c);
	return r;
}

static void free_mount(struct cfg_mount *m)
{
	free(m->path);
	free(m->backend);
	free(m->prefix_template);
	free(m->prefix);
}

/* Is PATH the directory DIR or below it?  DIR "/" holds everything. */
static int at_or_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		return 1;
	return strncmp(path, dir, n) == 0 &&
	       (path[n] == '\0' || path[n] == '/');
}

int config_keep_mounts_at(struct config *c, const char *dir, char *err,
			  size_t errlen)
{
	size_t kept = 0, used = 0;
	char names[2048] = "";

	for (size_t i = 0; i < c->nmounts; i++)
		if (at_or_below(c->mounts[i].path, dir))
			kept++;
	if (!kept) {
		for (size_t i = 0; i < c->nmounts && used < sizeof names; i++)
			used += (size_t)snprintf(names + used,
						 sizeof names - used, "%s%s",
						 i ? ", " : "",
						 c->mounts[i].path);
		snprintf(err, errlen, "%s: no [mount] at or below %s (its "
			 "mounts: %s)", c->file, dir,
			 c->nmounts ? names : "none");
		return -ENOENT;
	}
	kept = 0;
	for (size_t i = 0; i < c->nmounts; i++) {
		if (at_or_below(c->mounts[i].path, dir))
			c->mounts[kept++] = c->mounts[i];
		else
			free_mount(&c->mounts[i]);
	}
	c->nmounts = kept;
	return 0;
}

void config_drop_mount(struct config *c, size_t i)
{
	free_mount(&c->mounts[i]);
	memmove(&c->mounts[i], &c->mounts[i + 1],
		(c->nmounts - i - 1) * sizeof *c->mounts);
	c->nmounts--;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbackends; i++) {
		struct cfg_backend *b = &c->backends[i];

		for (size_t k = 0; k < b->nkeys; k++) {
			free(b->keys[k].key);
			free(b->keys[k].value);
		}
		free(b->keys);
		free(b->name);
		free(b->plugin);
	}
	free(c->backends);
	for (size_t i = 0; i < c->nmounts; i++)
		free_mount(&c->mounts[i]);
	free(c->mounts);
	free(c->id.cloud_id);
	free(c->id.user_id);
	free(c->id.workload_id);
	free(c->file);
	free(c->plugin_dir);
	free(c->cache_dir);
	free(c->metrics);
	free(c);
}
