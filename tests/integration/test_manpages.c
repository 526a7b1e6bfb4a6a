/*
 * The manual pages of docs/man: each renders with man -l at 80 columns
 * without a groff warning; scopefs(8) has every command and option that
 * scopefs --help lists; scopefs-plugin(3) names the ABI version of the
 * header; and scopefs.conf(5) documents exactly the keys the code takes,
 * section by section and plugin by plugin.
 *
 * Both directions of the key check run the real code, not a second grep:
 *   - documented -> taken: a config with every key the page lists for a
 *     plugin (or for [scopefs], [identity], [mount PATH]) goes through
 *     `scopefs check`, and none may come back as an unknown key;
 *   - taken -> documented: every identifier in the plugin's .so and in
 *     the scopefs binary (where the core's own keys live), and each with
 *     "_file" appended (the secret forms are built, never spelled out),
 *     is offered as a key to config_load() and backends_open() in this
 *     process, which is what check runs; each the code does not refuse as
 *     unknown must be in the page.
 * Every value is "probe", and every section ends with PROBE_KEY, which
 * must come back as unknown: that proves the keys reached the plugin, and
 * since a section with an error is never completed, nothing reaches a
 * server or the disk.
 *
 * The pages are found in docs/man under the working directory, the
 * repository's root when tests/run.sh runs this.
 */
#include "mount_fixture.h"
#include "backend.h"

TestSuite(manpages, .fini = fx_teardown, .timeout = 60);

#define MAN_DIR "docs/man"
#define CONF_PAGE MAN_DIR "/scopefs.conf.5"
#define PROBE_KEY "manpage_probe_no_such_key"
#define WIDTH 80

/* ---- rendering ---------------------------------------------------------- */

/* Append a line to the list of complaints. */
static void complain(char *list, size_t len, const char *what)
{
	size_t u = strlen(list);
	snprintf(list + u, len - u, "\n  %s", what);
}


/* Display columns of one line of UTF-8: its bytes but continuation ones. */
static size_t columns(const char *s, size_t n)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xc0) != 0x80;
	return c;
}

/* man -l PAGE at MANWIDTH=80 with every groff warning on: exit 0, nothing
 * on stderr, the header line TITLE first, no line wider than 80. */
static void expect_renders(const char *page, const char *title)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", MAN_DIR, page);
	FX_ASSERT(access(path, R_OK) == 0, "%s: %s (the tests run from the "
		  "repository's root)", path, strerror(errno));
	/* --warnings=w is groff's -ww: every warning, not only "mac" */
	char *argv[] = { "env", "-u", "MAN_KEEP_FORMATTING", "-u",
			 "MANROFFOPT", "LC_ALL=C.UTF-8", "MANWIDTH=80", "man",
			 "--warnings=w", "-l", path, NULL };
	char *out, *err;
	int st = fx_run(argv, 30, &out, &err);
	FX_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "man -l %s: expected exit 0, saw %s\nstderr:\n%s", path,
		  st < 0 ? "no exit" : fx_status_str(st), err);
	FX_ASSERT(!err[0], "man --warnings=w -l %s: expected no warning on "
		  "stderr, saw:\n%s", path, err);
	FX_ASSERT(strncmp(out, title, strlen(title)) == 0,
		  "man -l %s: expected the page to start with \"%s\", saw:\n"
		  "%.300s", path, title, out);
	int n = 1;
	for (const char *l = out; *l; n++) {
		const char *e = strchrnul(l, '\n');
		size_t w = columns(l, (size_t)(e - l));
		FX_ASSERT(w <= WIDTH, "man -l %s: expected lines of at most %d "
			  "columns at MANWIDTH=80, saw line %d of %zu:\n%.*s",
			  path, WIDTH, n, w, (int)(e - l), l);
		l = *e ? e + 1 : e;
	}
	FX_ASSERT(n > 20, "man -l %s: expected a page, saw %d lines:\n%s",
		  path, n, out);
	free(out);
	free(err);
}

Test(manpages, scopefs_8_renders_at_80_columns_without_a_warning)
{
	expect_renders("scopefs.8", "SCOPEFS(8)");
}

Test(manpages, scopefs_conf_5_renders_at_80_columns_without_a_warning)
{
	expect_renders("scopefs.conf.5", "SCOPEFS.CONF(5)");
}

Test(manpages, scopefs_plugin_3_renders_at_80_columns_without_a_warning)
{
	expect_renders("scopefs-plugin.3", "SCOPEFS-PLUGIN(3)");
}

/* The text of section NAME of a rendered page: from its header line to
 * the next one (malloc'd; NULL if there is none). */
static char *rendered_section(const char *page, const char *name)
{
	size_t n = strlen(name);
	for (const char *l = page; *l;) {
		const char *e = strchrnul(l, '\n');
		if ((size_t)(e - l) == n && strncmp(l, name, n) == 0) {
			/* the section runs until a line that starts with
			 * neither a blank nor the end of the line */
			const char *end = *e ? e + 1 : e;
			while (*end == ' ' || *end == '\n')
				end = *strchrnul(end, '\n')
					      ? strchrnul(end, '\n') + 1
					      : strchrnul(end, '\n');
			return strndup(l, (size_t)(end - l));
		}
		l = *e ? e + 1 : e;
	}
	return NULL;
}

/* Does TEXT hold WORD, bounded by neither a letter nor '-' nor '_'? */
static int has_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = text; (p = strstr(p, word)); p++) {
		char b = p > text ? p[-1] : ' ', a = p[n];
		if (!isalnum((unsigned char)b) && b != '-' && b != '_' &&
		    !isalnum((unsigned char)a) && a != '-' && a != '_')
			return 1;
	}
	return 0;
}

/* What scopefs --help lists, scopefs(8) has: each command as an entry of
 * COMMANDS (or, --help and --version, of OPTIONS), each option in
 * OPTIONS. */
Test(manpages, scopefs_8_has_every_command_and_option_of_help)
{
	fx_prepare_dir();
	char *help_argv[] = { fx.bin, "--help", NULL };
	char *man_argv[] = { "env", "LC_ALL=C.UTF-8", "MANWIDTH=80", "man",
			     "-l", MAN_DIR "/scopefs.8", NULL };
	char *help, *page, *e1, *e2, list[4096] = "";
	int st = fx_run(help_argv, 20, &help, &e1);
	FX_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "scopefs --help: expected exit 0, saw %s\n%s",
		  st < 0 ? "no exit" : fx_status_str(st), e1);
	st = fx_run(man_argv, 30, &page, &e2);
	FX_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "man -l scopefs.8: expected exit 0, saw %s\n%s",
		  st < 0 ? "no exit" : fx_status_str(st), e2);
	char *cmds = rendered_section(page, "COMMANDS");
	char *opts = rendered_section(page, "OPTIONS");
	FX_ASSERT(cmds && opts, "man -l scopefs.8: expected the sections "
		  "COMMANDS and OPTIONS, saw:\n%s", page);
	int block = 0, ncmd = 0, nopt = 0; /* 0: usage, 2: Options: */
	for (char *l = help; *l;) {
		char *e = strchrnul(l, '\n'), tok[64], entry[96];
		size_t ind = strspn(l, " ");
		if (l == e)
			block = block == 2 ? 3 : block ? block : 1;
		else if (!strncmp(l, "Options:", 8))
			block = 2;
		if (block == 0 && !strncmp(l, "Usage: ", 7))
			ind = 7;
		/* a usage line: "scopefs COMMAND ..." */
		if (block == 0 && !strncmp(l + ind, "scopefs ", 8) &&
		    sscanf(l + ind + 8, "%63[a-z]", tok) == 1) {
			ncmd++;
			snprintf(entry, sizeof entry, "\n       %s ", tok);
			if (!strstr(cmds, entry) &&
			    !strstr(cmds, fx_fmt("\n       %s\n", tok)))
				complain(list, sizeof list,
					 fx_fmt("command %s (an entry of "
						"COMMANDS)", tok));
		}
		/* an option line: "  -f, --foreground   text", its options
		 * before the first two blanks */
		if (block == 2 && l[ind] == '-') {
			size_t rest = (size_t)(e - l) - ind;
			char *end = memmem(l + ind, rest, "  ", 2);
			char spec[96];
			snprintf(spec, sizeof spec, "%.*s",
				 (int)((end ? end : e) - l - ind), l + ind);
			for (char *sv, *t = strtok_r(spec, ", ", &sv); t;
			     t = strtok_r(NULL, ", ", &sv)) {
				if (t[0] != '-')
					continue;
				nopt++;
				if (!has_word(opts, t))
					complain(list, sizeof list,
						 fx_fmt("option %s (in "
							"OPTIONS)", t));
			}
		}
		l = *e ? e + 1 : e;
	}
	FX_ASSERT(ncmd >= 2 && nopt >= 6, "scopefs --help: expected its "
		  "commands and options, found %d and %d in:\n%s", ncmd, nopt,
		  help);
	FX_ASSERT(!list[0], "docs/man/scopefs.8: expected everything scopefs "
		  "--help lists, saw missing:%s\n--help said:\n%s", list, help);
	free(cmds);
	free(opts);
	free(help);
	free(page);
	free(e1);
	free(e2);
}

/* The page tells what each minor added: it must reach the header's. */
Test(manpages, scopefs_plugin_3_names_the_abi_version_of_the_header)
{
	char want[32];
	snprintf(want, sizeof want, "%d.%d", SCOPEFS_ABI_MAJOR,
		 SCOPEFS_ABI_MINOR);
	char *page = fx_slurp(MAN_DIR "/scopefs-plugin.3", NULL);
	FX_ASSERT(page, "%s: %s (the tests run from the repository's root)",
		  MAN_DIR "/scopefs-plugin.3", strerror(errno));
	FX_ASSERT(strstr(page, want), "%s: expected the ABI version of "
		  "<scopefs/plugin.h>, %s, and what it added, saw no \"%s\"",
		  MAN_DIR "/scopefs-plugin.3", want, want);
	free(page);
}

/* ---- the keys scopefs.conf(5) documents --------------------------------- */

/* A set of strings (sorted and unique after strs_sort). */
struct strs {
	char **v;
	size_t n, cap;
};

static void strs_add(struct strs *s, const char *p, size_t n)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		cr_assert(s->v, "out of memory");
	}
	s->v[s->n] = strndup(p, n);
	cr_assert(s->v[s->n], "out of memory");
	s->n++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strs_sort(struct strs *s)
{
	size_t w = 0;
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_str);
	for (size_t i = 0; i < s->n; i++) {
		if (w && strcmp(s->v[w - 1], s->v[i]) == 0)
			free(s->v[i]);
		else
			s->v[w++] = s->v[i];
	}
	s->n = w;
}

static int strs_has(const struct strs *s, const char *k)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], k) == 0)
			return 1;
	return 0;
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Where the .SS sections of scopefs.conf(5) that hold keys apply: a core
 * section (the header its keys go under in a config), or plugins.  A
 * section titled "plugin = NAME" applies to the plugin NAME. */
static const struct {
	const char *title;
	const char *header;       /* a core section's "[...]" line */
	const char *plugins[6];   /* else: the plugins; "*" for all */
} shared[] = {
	{ "[scopefs]", "[scopefs]", { NULL } },
	{ "[identity]", "[identity]", { NULL } },
	{ "[mount PATH]", "[mount /manpage-probe]", { NULL } },
	{ "[backend NAME]", NULL, { "*", NULL } },
	{ "HTTP keys of s3, azblob and gcs", NULL,
	  { "s3", "azblob", "gcs", NULL } },
	{ "Object layer keys of s3, azblob and gcs", NULL,
	  { "s3", "azblob", "gcs", NULL } },
};
#define NSHARED (sizeof shared / sizeof *shared)

/* One documented key: the .SS it is under and its line in the page. */
struct doc {
	char sect[96];
	char key[64];
	int line;
};

static struct doc docs[512];
static int ndocs;

static void add_doc(const char *sect, const char *key, size_t n, int line)
{
	FX_ASSERT(ndocs < (int)(sizeof docs / sizeof *docs), "%s: more than "
		  "%zu keys", CONF_PAGE, sizeof docs / sizeof *docs);
	struct doc *d = &docs[ndocs++];
	snprintf(d->sect, sizeof d->sect, "%s", sect);
	snprintf(d->key, sizeof d->key, "%.*s", (int)n, key);
	d->line = line;
	FX_ASSERT(n && n < sizeof d->key &&
			  strspn(d->key, "abcdefghijklmnopqrstuvwxyz"
					 "0123456789_") == n,
		  "%s:%d: expected a key name in \\fB...\\fR, saw \"%s\"",
		  CONF_PAGE, line, d->key);
}

/* Every key of the page: the tag line of a .TP or .TQ that starts with
 * \fBKEY\fR (several as \fBA\fR, \fBB\fR = ...), under the last .SS. */
static void read_docs(void)
{
	FILE *f = fopen(CONF_PAGE, "r");
	FX_ASSERT(f, "%s: %s (the tests run from the repository's root)",
		  CONF_PAGE, strerror(errno));
	char *l = NULL, sect[96] = "";
	size_t cap = 0;
	int line = 0, tag = 0;
	ndocs = 0;
	while (getline(&l, &cap, f) > 0) {
		line++;
		l[strcspn(l, "\n")] = '\0';
		if (strncmp(l, ".SS ", 4) == 0 || strncmp(l, ".SH ", 4) == 0) {
			const char *t = l + 4;
			size_t n = strlen(t);
			if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
				t++, n -= 2;
			/* keys right under a .SH belong to no known section */
			snprintf(sect, sizeof sect, "%s%.*s",
				 l[2] == 'H' ? ".SH " : "", (int)n, t);
			tag = 0;
		} else if (strcmp(l, ".TP") == 0 || strcmp(l, ".TQ") == 0) {
			tag = 1;
		} else if (tag) {
			tag = 0;
			for (const char *p = l; strncmp(p, "\\fB", 3) == 0;) {
				const char *e = strstr(p + 3, "\\fR");
				if (!e)
					break;
				add_doc(sect, p + 3, (size_t)(e - p - 3), line);
				p = e + 3;
				if (strncmp(p, ", ", 2) != 0)
					break;
				p += 2;
			}
		}
	}
	free(l);
	fclose(f);
	FX_ASSERT(ndocs > 0, "%s: expected keys as .TP \\fBKEY\\fR = ..., saw "
		  "none", CONF_PAGE);
}

/* Does the .SS titled SECT apply to PLUGIN ("" for none)?  To the core
 * section HEADER (NULL for none)? */
static int applies(const char *sect, const char *plugin, const char *header)
{
	if (strncmp(sect, "plugin = ", 9) == 0)
		return !header && strcmp(sect + 9, plugin) == 0;
	for (size_t i = 0; i < NSHARED; i++) {
		if (strcmp(shared[i].title, sect) != 0)
			continue;
		if (header)
			return shared[i].header &&
			       strcmp(shared[i].header, header) == 0;
		for (int j = 0; shared[i].plugins[j]; j++)
			if (!strcmp(shared[i].plugins[j], "*") ||
			    !strcmp(shared[i].plugins[j], plugin))
				return 1;
	}
	return 0;
}

/* The plugins of the build (or install): SCOPEFS_PLUGIN_DIR holds
 * scopefs-NAME.so or NAME/scopefs-NAME.so.  Paths into SO. */
static int plugins_built(char names[][32], char so[][PATH_MAX], int max)
{
	const char *dir = getenv("SCOPEFS_PLUGIN_DIR");
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	FX_ASSERT(d, "SCOPEFS_PLUGIN_DIR %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) && n < max) {
		char flat[PATH_MAX], nested[PATH_MAX], name[32];
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l >= sizeof name)
			continue;
		if (l > 11 && strncmp(e->d_name, "scopefs-", 8) == 0 &&
		    strcmp(e->d_name + l - 3, ".so") == 0)
			snprintf(name, sizeof name, "%.*s", (int)(l - 11),
				 e->d_name + 8);
		else
			snprintf(name, sizeof name, "%.31s", e->d_name);
		snprintf(flat, sizeof flat, "%s/scopefs-%s.so", dir, name);
		snprintf(nested, sizeof nested, "%s/%s/scopefs-%s.so", dir,
			 name, name);
		const char *p = access(flat, R_OK) == 0     ? flat
				: access(nested, R_OK) == 0 ? nested
							    : NULL;
		if (!p)
			continue;
		snprintf(names[n], 32, "%s", name);
		snprintf(so[n], PATH_MAX, "%s", p);
		n++;
	}
	closedir(d);
	FX_ASSERT(n > 0, "SCOPEFS_PLUGIN_DIR %s: expected plugins, saw none "
		  "(make build)", dir);
	return n;
}

/* The config file of the code's own key sweep: not fx.conf, whose
 * thousands of lines a failure would print. */
static char words_conf[PATH_MAX];

/* Is there an error about LINE of CONF in ERR (the "FILE:LINE:
 * [section] key: message" lines), with UNKNOWN: one refusing its key as
 * unknown?  The error into WHY. */
static int error_at(const char *err, const char *conf, int line, int unknown,
		    char *why, size_t len)
{
	char at[PATH_MAX + 16];
	snprintf(at, sizeof at, "%s:%d:", conf, line);
	for (const char *l = err; l && *l;) {
		const char *e = strchrnul(l, '\n');
		const char *a = memmem(l, (size_t)(e - l), at, strlen(at));
		if (a && (!unknown ||
			  memmem(a, (size_t)(e - a), "unknown key", 11) ||
			  memmem(a, (size_t)(e - a), "takes no keys", 13))) {
			snprintf(why, len, "%.*s", (int)(e - l), l);
			return 1;
		}
		l = *e ? e + 1 : NULL;
	}
	return 0;
}

static int unknown_at(const char *err, const char *conf, int line, char *why,
		      size_t len)
{
	return error_at(err, conf, line, 1, why, len);
}

/* Run `scopefs check` on fx.conf: its stderr (malloc'd). */
static char *check_stderr(void)
{
	char *argv[] = { fx.bin, "check", fx.conf, NULL };
	char *out, *err;
	int st = fx_run(argv, 20, &out, &err);
	FX_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 2,
		  "scopefs check %s: expected exit 2 (the probe key is "
		  "unknown), saw %s\nstdout:\n%s\nstderr:\n%s", fx.conf,
		  st < 0 ? "no exit" : fx_status_str(st), out, err);
	free(out);
	return err;
}

/* Write one section of documented keys (HEADER, or [backend b] with
 * plugin = PLUGIN), each on a line of its own recorded in LINES, then the
 * probe key on *PROBE. */
static void write_documented(FILE *f, int *lineno, const char *header,
			     const char *plugin, int *lines, int *probe)
{
	if (header) {
		fprintf(f, "%s\n", header);
	} else {
		fprintf(f, "[backend b]\nplugin = %s\n", plugin);
		(*lineno)++;
	}
	(*lineno)++;
	for (int i = 0; i < ndocs; i++) {
		if (!applies(docs[i].sect, plugin, header) ||
		    (!header && strcmp(docs[i].key, "plugin") == 0))
			continue;
		fprintf(f, "%s = probe\n", docs[i].key);
		lines[i] = ++(*lineno);
	}
	fprintf(f, "%s = probe\n", PROBE_KEY);
	*probe = ++(*lineno);
}

/* Every documented key in LINES (0: not written) is taken, and the
 * probe key on PROBE is refused, per the stderr ERR of check. */
static void expect_taken(const char *err, const int *lines, int probe,
			 const char *where)
{
	char list[8192] = "", why[1024];
	for (int i = 0; i < ndocs; i++) {
		if (lines[i] &&
		    unknown_at(err, fx.conf, lines[i], why, sizeof why)) {
			char c[1400];
			snprintf(c, sizeof c, "%s (%s:%d): %s", docs[i].key,
				 CONF_PAGE, docs[i].line, why);
			complain(list, sizeof list, c);
		}
	}
	FX_ASSERT(!list[0], "%s: expected every key %s documents to be "
		  "taken, saw these refused as unknown:%s", where, CONF_PAGE,
		  list);
	FX_ASSERT(unknown_at(err, fx.conf, probe, why, sizeof why),
		  "%s: expected the probe key '%s' on line %d to be refused "
		  "as unknown (so that the keys reached the code), saw:\n%s",
		  where, PROBE_KEY, probe, err);
}

Test(manpages, every_key_documented_for_the_core_sections_is_taken)
{
	fx_prepare_dir();
	read_docs();
	static const char *const headers[] = { "[scopefs]", "[identity]",
					       "[mount /manpage-probe]" };
	int lines[512] = { 0 }, probe[3], lineno = 0;
	FILE *f = fopen(fx.conf, "w");
	cr_assert(f, "%s: %s", fx.conf, strerror(errno));
	for (int h = 0; h < 3; h++) {
		int before = lineno;
		write_documented(f, &lineno, headers[h], "", lines, &probe[h]);
		FX_ASSERT(probe[h] - before > 2, "%s: expected keys for %s, "
			  "saw none", CONF_PAGE, headers[h]);
	}
	fclose(f);
	char *err = check_stderr();
	for (int h = 0; h < 3; h++)
		expect_taken(err, lines, probe[h], headers[h]);
	free(err);
}

Test(manpages, every_key_documented_for_a_plugin_is_taken_by_it)
{
	fx_prepare_dir();
	read_docs();
	char names[16][32], so[16][PATH_MAX];
	int np = plugins_built(names, so, 16);
	for (int p = 0; p < np; p++) {
		int lines[512] = { 0 }, probe, lineno = 0, n = 0;
		FILE *f = fopen(fx.conf, "w");
		cr_assert(f, "%s: %s", fx.conf, strerror(errno));
		write_documented(f, &lineno, NULL, names[p], lines, &probe);
		fclose(f);
		for (int i = 0; i < ndocs; i++)
			n += strncmp(docs[i].sect, "plugin = ", 9) == 0 &&
			     strcmp(docs[i].sect + 9, names[p]) == 0;
		FX_ASSERT(n > 0, "%s: expected a section .SS \"plugin = %s\" "
			  "with its keys (the plugin is in %s), saw none",
			  CONF_PAGE, names[p], so[p]);
		char *err = check_stderr();
		expect_taken(err, lines, probe, names[p]);
		free(err);
	}
}

Test(manpages, every_key_of_the_page_is_under_a_known_section)
{
	fx_prepare_dir();
	read_docs();
	char names[16][32], so[16][PATH_MAX], list[8192] = "";
	int np = plugins_built(names, so, 16);
	for (int i = 0; i < ndocs; i++) {
		int known = 0;
		for (size_t s = 0; s < NSHARED && !known; s++)
			known = shared[s].header &&
				applies(docs[i].sect, "", shared[s].header);
		for (int p = 0; p < np && !known; p++)
			known = applies(docs[i].sect, names[p], NULL);
		if (!known) {
			char c[256];
			snprintf(c, sizeof c, "%.63s (line %d, under "
				 "\"%.95s\")", docs[i].key, docs[i].line,
				 docs[i].sect);
			complain(list, sizeof list, c);
		}
	}
	FX_ASSERT(!list[0], "%s: expected every key under a section this "
		  "test knows (a core section, \"plugin = NAME\" of a built "
		  "plugin, or one of shared[] here), saw:%s", CONF_PAGE, list);
}

/* ---- the keys the code takes -------------------------------------------- */

static int word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Every lower-case identifier in the file PATH, and each with "_file"
 * appended, into S: a superset of the keys its code compares with. */
static void add_words(struct strs *s, const char *path)
{
	size_t len;
	char *b = fx_slurp(path, &len);
	FX_ASSERT(b, "%s: %s", path, strerror(errno));
	for (size_t i = 0; i < len;) {
		size_t j = i, k;
		while (j < len && word_char(b[j]))
			j++;
		for (k = i; k < j && !(b[k] >= 'a' && b[k] <= 'z'); k++)
			;
		if (j - k >= 2 && j - k < 48) {
			char w[64];
			int n = snprintf(w, sizeof w, "%.*s_file", (int)(j - k),
					 b + k);
			strs_add(s, w, j - k);
			strs_add(s, w, (size_t)n);
		}
		i = j > i ? j : i + 1;
	}
	free(b);
}

/* Write the words V[FROM..TO) but those of SKIP as keys of one section
 * (HEADER, or a [backend] of PLUGIN) into words_conf, then the probe key;
 * the line of each word into LINE (0: skipped).  Returns the probe's. */
static int write_batch(const struct strs *v, size_t from, size_t to,
		       const struct strs *skip, const char *header,
		       const char *plugin, int *line)
{
	FILE *f = fopen(words_conf, "w");
	int n = 1;
	cr_assert(f, "%s: %s", words_conf, strerror(errno));
	if (header) {
		fprintf(f, "%s\n", header);
	} else {
		fprintf(f, "[backend b]\nplugin = %s\n", plugin);
		n++;
	}
	for (size_t i = from; i < to; i++) {
		line[i - from] = 0;
		if (strs_has(skip, v->v[i]))
			continue;
		fprintf(f, "%s = probe\n", v->v[i]);
		line[i - from] = ++n;
	}
	fprintf(f, "%s = probe\n", PROBE_KEY);
	fclose(f);
	return n + 1;
}

/* Offer each word of WORDS as a key of one section (HEADER, or a
 * [backend] of PLUGIN), in batches, to the code in this process:
 * config_load(), then backends_open() for a plugin.  The words it does
 * not refuse as unknown go into TAKEN.  In a [backend], config_load()
 * reads "plugin" itself and refuses a second one as a duplicate: a word
 * it refuses so is taken, and the batch goes again without it, on to the
 * plugin. */
static void offer(const struct strs *words, const char *header,
		  const char *plugin, struct strs *taken)
{
	enum { BATCH = 500 };
	size_t errlen = 4 << 20;
	char *err = malloc(errlen), why[1024];
	int line[BATCH];
	cr_assert(err, "out of memory");
	snprintf(words_conf, sizeof words_conf, "%s/words.conf", fx.dir);
	for (size_t from = 0; from < words->n; from += BATCH) {
		size_t to = from + BATCH < words->n ? from + BATCH : words->n;
		struct strs core = { 0 };
		int probe;
		for (int again = 0;; again++) {
			struct config *c = NULL;
			struct backend *b = NULL;
			probe = write_batch(words, from, to, &core, header,
					    plugin, line);
			err[0] = '\0';
			if (config_load(words_conf, &c, err, errlen) == 0) {
				FX_ASSERT(plugin, "%s: expected config_load "
					  "to refuse %s, saw it taken", header,
					  PROBE_KEY);
				if (backends_open(c, NULL, &b, err,
						  errlen) == 0)
					backends_close(b, c->nbackends);
				config_free(c);
				break;
			}
			if (header)
				break;
			FX_ASSERT(!again, "[backend] of plugin %s: expected "
				  "config_load to take the batch without the "
				  "keys it refused before, saw:\n%.4000s",
				  plugin, err);
			for (size_t i = from; i < to; i++)
				if (error_at(err, words_conf, line[i - from],
					     0, why, sizeof why))
					strs_add(&core, words->v[i],
						 strlen(words->v[i]));
			FX_ASSERT(core.n, "[backend] of plugin %s: expected "
				  "config_load to name the keys it refused, "
				  "saw:\n%.4000s", plugin, err);
		}
		FX_ASSERT(unknown_at(err, words_conf, probe, why, sizeof why),
			  "%s: expected the probe key '%s' on line %d refused "
			  "as unknown (so that every key before it reached the "
			  "code), saw:\n%.4000s", header ? header : plugin,
			  PROBE_KEY, probe, err);
		for (size_t i = from; i < to; i++)
			if (!line[i - from] ||
			    !unknown_at(err, words_conf, line[i - from], why,
					sizeof why))
				strs_add(taken, words->v[i],
					 strlen(words->v[i]));
		strs_free(&core);
	}
	free(err);
}

/* Every word of TAKEN is documented for HEADER or PLUGIN. */
static void expect_documented(const struct strs *taken, const char *header,
			      const char *plugin)
{
	char list[8192] = "";
	for (size_t i = 0; i < taken->n; i++) {
		int found = 0;
		for (int d = 0; d < ndocs && !found; d++)
			found = !strcmp(docs[d].key, taken->v[i]) &&
				applies(docs[d].sect, plugin, header);
		if (!found)
			complain(list, sizeof list, taken->v[i]);
	}
	FX_ASSERT(!list[0], "%s: expected every key the code takes in %s%s "
		  "to be documented there, saw these missing:%s", CONF_PAGE,
		  header ? header : "a [backend] with plugin = ",
		  header ? "" : plugin, list);
}

Test(manpages, every_key_the_core_sections_take_is_documented)
{
	fx_prepare_dir();
	read_docs();
	struct strs words = { 0 };
	add_words(&words, fx.bin);
	strs_sort(&words);
	static const char *const headers[] = { "[scopefs]", "[identity]",
					       "[mount /manpage-probe]" };
	for (int h = 0; h < 3; h++) {
		struct strs taken = { 0 };
		offer(&words, headers[h], NULL, &taken);
		FX_ASSERT(taken.n > 0, "%s: expected some of %zu words of %s "
			  "taken as keys, saw none", headers[h], words.n,
			  fx.bin);
		expect_documented(&taken, headers[h], NULL);
		strs_free(&taken);
	}
	strs_free(&words);
}

Test(manpages, every_key_a_plugin_takes_is_documented)
{
	fx_prepare_dir();
	read_docs();
	char names[16][32], so[16][PATH_MAX];
	int np = plugins_built(names, so, 16);
	for (int p = 0; p < np; p++) {
		struct strs words = { 0 }, taken = { 0 };
		/* the core's words too: it reads the object layer's keys */
		add_words(&words, so[p]);
		add_words(&words, fx.bin);
		strs_sort(&words);
		offer(&words, NULL, names[p], &taken);
		FX_ASSERT(strs_has(&taken, "plugin"), "plugin %s: expected "
			  "'plugin' among the keys taken (a second one is a "
			  "duplicate, not unknown), saw %zu others", names[p],
			  taken.n);
		expect_documented(&taken, NULL, names[p]);
		strs_free(&taken);
		strs_free(&words);
	}
}
