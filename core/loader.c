/*
 * loader: find a plugin file, dlopen it, and accept its description only
 * after checking everything the core will rely on: the ABI major, the size
 * of each struct it hands over, and the callbacks its kind requires.
 *
 * Every refusal names the file, what was expected and what was found, so a
 * user can fix the configuration or a plugin author the plugin without
 * reading this file.  Returns are 0 or a negative errno, as elsewhere.
 */
#include "loader.h"

#include <ctype.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SCOPEFS_PLUGINDIR
#define SCOPEFS_PLUGINDIR "/usr/local/lib/scopefs/plugins"
#endif

/* The part of struct scopefs_plugin every plugin must carry: the head and
 * the lifecycle callbacks.  The ops table pointers after it are checked
 * per kind (a description that stops before them has no table). */
#define PLUGIN_MIN_SIZE offsetof(struct scopefs_plugin, fs)
/* The fs ops a plugin must provide: struct_size up to release. */
#define FS_OPS_MIN_SIZE offsetof(struct scopefs_fs_ops, flush)
/* The object ops a plugin must provide: everything up to mpu_abort (copy,
 * in between, is optional but announced by SCOPEFS_OBJ_CAN_COPY). */
#define OBJ_OPS_MIN_SIZE                                   \
	(offsetof(struct scopefs_object_ops, mpu_abort) +  \
	 sizeof(((struct scopefs_object_ops *)0)->mpu_abort))

#define MIN(a, b) ((a) < (b) ? (a) : (b))

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	SCOPEFS_PRINTF(3, 4);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap); /* always NUL-terminates */
	va_end(ap);
}

const char *loader_plugin_dir(const char *config_dir)
{
	const char *env = getenv("SCOPEFS_PLUGIN_DIR");

	if (env && *env)
		return env;
	if (config_dir && *config_dir)
		return config_dir;
	return SCOPEFS_PLUGINDIR;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

/* Turn the "plugin =" value into a file path (malloc'd in *path). */
static int resolve(const char *name_or_path, const char *dir, char **path,
		   char *err, size_t errlen)
{
	char *flat = NULL, *nested = NULL;
	struct stat st;

	if (name_or_path[0] == '/') {
		*path = strdup(name_or_path);
		return *path ? 0 : -ENOMEM;
	}
	if (strchr(name_or_path, '/')) {
		set_err(err, errlen,
			"%s: use a plugin name or an absolute path (a relative "
			"path would depend on the daemon's working directory)",
			name_or_path);
		return -EINVAL;
	}
	if (!valid_name(name_or_path)) {
		set_err(err, errlen,
			"'%s': not a plugin name (expected letters, digits, "
			"'_' and '-' only, or an absolute path)",
			name_or_path);
		return -EINVAL;
	}
	if (!dir)
		dir = loader_plugin_dir(NULL);
	if (asprintf(&flat, "%s/scopefs-%s.so", dir, name_or_path) < 0)
		return -ENOMEM;
	if (stat(flat, &st) == 0) {
		*path = flat;
		return 0;
	}
	if (asprintf(&nested, "%s/%s/scopefs-%s.so", dir, name_or_path,
		     name_or_path) < 0) {
		free(flat);
		return -ENOMEM;
	}
	if (stat(nested, &st) == 0) {
		free(flat);
		*path = nested;
		return 0;
	}
	set_err(err, errlen,
		"plugin '%s' not found: expected %s or %s (set plugin_dir in "
		"[scopefs] or SCOPEFS_PLUGIN_DIR, or give an absolute path)",
		name_or_path, flat, nested);
	free(flat);
	free(nested);
	return -ENOENT;
}

/* Describe the first bytes of a file that is not an ELF shared object. */
static void describe_bytes(const unsigned char *b, size_t n, char *out,
			   size_t outlen)
{
	size_t i, printable = 0, shown;
	char text[40];

	if (n == 0) {
		snprintf(out, outlen, "an empty file");
		return;
	}
	/* Bytes >= 0x80 count as text: UTF-8 is. */
	for (i = 0; i < n; i++)
		if (isprint(b[i]) || b[i] >= 0x80 || b[i] == '\n' ||
		    b[i] == '\r' || b[i] == '\t')
			printable++;
	if (printable == n) {
		/* Quote the start of the first line. */
		for (shown = 0; shown < n && shown < 24; shown++) {
			if (b[shown] == '\n' || b[shown] == '\r')
				break;
			text[shown] = isprint(b[shown]) ? (char)b[shown] : '?';
		}
		text[shown] = '\0';
		snprintf(out, outlen, "text: \"%s%s\"", text,
			 shown < n && b[shown] != '\n' && b[shown] != '\r'
				 ? "..." : "");
		return;
	}
	snprintf(out, outlen, "binary data starting %02x %02x %02x %02x",
		 b[0], n > 1 ? b[1] : 0, n > 2 ? b[2] : 0, n > 3 ? b[3] : 0);
}

/* Check the file exists and is an ELF shared object before dlopen, whose
 * own messages for "not a shared object" are cryptic ("invalid ELF
 * header", "file too short"). */
static int check_file(const char *path, char *err, size_t errlen)
{
	unsigned char b[64]; /* e_ident, e_type, and text to quote */
	char what[96];
	struct stat st;
	ssize_t n;
	int fd, e_type;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		set_err(err, errlen, "%s: cannot open plugin: %s", path,
			strerror(e));
		return -e;
	}
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		set_err(err, errlen,
			"%s: not a shared object (expected an ELF shared "
			"library, found %s)",
			path, S_ISDIR(st.st_mode) ? "a directory"
						  : "not a regular file");
		return -EINVAL;
	}
	n = pread(fd, b, sizeof(b), 0);
	close(fd);
	if (n < 0) {
		int e = errno;

		set_err(err, errlen, "%s: cannot read plugin: %s", path,
			strerror(e));
		return -e;
	}
	if ((size_t)n < SELFMAG || memcmp(b, ELFMAG, SELFMAG) != 0) {
		describe_bytes(b, (size_t)n, what, sizeof(what));
		set_err(err, errlen,
			"%s: not a shared object (expected an ELF shared "
			"library, found %s)",
			path, what);
		return -EINVAL;
	}
	if ((size_t)n < EI_NIDENT + 2)
		return 0; /* truncated; dlopen will say so */
	e_type = b[EI_DATA] == ELFDATA2MSB ? b[EI_NIDENT] << 8 | b[EI_NIDENT + 1]
					   : b[EI_NIDENT + 1] << 8 | b[EI_NIDENT];
	if (e_type == ET_REL || e_type == ET_EXEC || e_type == ET_CORE) {
		set_err(err, errlen,
			"%s: not a shared object (expected an ELF shared "
			"library, found %s)",
			path,
			e_type == ET_REL ? "an ELF object file: link it with "
					   "cc -shared" :
			e_type == ET_EXEC ? "an ELF executable" :
			"an ELF core dump");
		return -EINVAL;
	}
	return 0;
}

/* dlerror() usually starts with the path we already print; drop it. */
static const char *dl_reason(const char *path)
{
	const char *e = dlerror();
	size_t len = strlen(path);

	if (!e)
		return "unknown dlopen error";
	if (strncmp(e, path, len) == 0 && e[len] == ':' && e[len + 1] == ' ')
		return e + len + 2;
	return e;
}

static int check_desc(const char *path, const struct scopefs_plugin *d,
		      char *err, size_t errlen)
{
	if (d->abi_major != SCOPEFS_ABI_MAJOR) {
		set_err(err, errlen,
			"%s: plugin ABI %u.%u, this scopefs speaks ABI %d.x: "
			"rebuild the plugin against scopefs-plugin %d.x%s",
			path, d->abi_major, d->abi_minor, SCOPEFS_ABI_MAJOR,
			SCOPEFS_ABI_MAJOR,
			d->abi_major == 0 && d->struct_size == 0
				? " (the description does not start with "
				  "SCOPEFS_PLUGIN_HEAD)"
				: "");
		return -EPROTO;
	}
	/* A newer minor is fine: we copy only the fields we know.  An older
	 * one too, down to the 1.0 head. */
	if (d->struct_size < PLUGIN_MIN_SIZE) {
		set_err(err, errlen,
			"%s: plugin description is %u bytes (struct_size), "
			"expected at least %zu (struct scopefs_plugin of ABI "
			"%d.0)%s",
			path, d->struct_size, PLUGIN_MIN_SIZE,
			SCOPEFS_ABI_MAJOR,
			d->struct_size == 0 ? ": start it with SCOPEFS_PLUGIN_HEAD"
					    : "");
		return -EPROTO;
	}
	return 0;
}

static int check_lifecycle(const char *path, const struct scopefs_plugin *d,
			   char *err, size_t errlen)
{
	const char *missing = !d->backend_open ? "backend_open" :
			      !d->config_complete ? "config_complete" :
			      !d->mount_open ? "mount_open" :
			      !d->mount_close ? "mount_close" :
			      !d->backend_close ? "backend_close" :
			      NULL;

	if (!d->name) {
		set_err(err, errlen,
			"%s: plugin name is NULL (expected a short name such "
			"as \"local\")",
			path);
		return -EINVAL;
	}
	if (!valid_name(d->name)) {
		set_err(err, errlen,
			"%s: plugin name \"%.64s\" is not a name (expected "
			"letters, digits, '_' and '-' only)",
			path, d->name);
		return -EINVAL;
	}
	if (d->kind != SCOPEFS_KIND_FS && d->kind != SCOPEFS_KIND_OBJECT) {
		set_err(err, errlen,
			"%s: plugin '%s' has kind %u (expected "
			"SCOPEFS_KIND_FS (%d) or SCOPEFS_KIND_OBJECT (%d))",
			path, d->name, d->kind, SCOPEFS_KIND_FS,
			SCOPEFS_KIND_OBJECT);
		return -EINVAL;
	}
	if (d->thread_model > SCOPEFS_THREAD_PARALLEL) {
		set_err(err, errlen,
			"%s: plugin '%s' has thread model %u (expected %d to "
			"%d, SCOPEFS_THREAD_*)",
			path, d->name, d->thread_model,
			SCOPEFS_THREAD_SERIALIZE_BACKEND,
			SCOPEFS_THREAD_PARALLEL);
		return -EINVAL;
	}
	if (missing) {
		set_err(err, errlen,
			"%s: plugin '%s' has no %s callback (required; only "
			"config may be NULL)",
			path, d->name, missing);
		return -EINVAL;
	}
	return 0;
}

static int load_fs_ops(struct plugin *p, char *err, size_t errlen)
{
	const struct scopefs_fs_ops *fs = p->desc.fs;
	const struct scopefs_fs_ops *c = &p->fs;
	const char *missing;

	if (!fs) {
		set_err(err, errlen,
			"%s: plugin '%s' is of kind SCOPEFS_KIND_FS but has no "
			"fs ops table (expected .fs = &its struct "
			"scopefs_fs_ops)",
			p->path, p->desc.name);
		return -EINVAL;
	}
	if (fs->struct_size < FS_OPS_MIN_SIZE) {
		set_err(err, errlen,
			"%s: plugin '%s' fs ops table is %u bytes "
			"(struct_size), expected at least %zu (getattr to "
			"release)%s",
			p->path, p->desc.name, fs->struct_size,
			FS_OPS_MIN_SIZE,
			fs->struct_size == 0
				? ": set .struct_size = sizeof(struct "
				  "scopefs_fs_ops)"
				: "");
		return -EPROTO;
	}
	memcpy(&p->fs, fs, MIN(fs->struct_size, sizeof(p->fs)));
	missing = !c->getattr ? "getattr" :
		  !c->readdir ? "readdir" :
		  !c->open ? "open" :
		  !c->create ? "create" :
		  !c->read ? "read" :
		  !c->write ? "write" :
		  !c->release ? "release" :
		  NULL;
	if (missing) {
		set_err(err, errlen,
			"%s: plugin '%s' fs ops have no %s (required: getattr, "
			"readdir, open, create, read, write, release; a "
			"read-only plugin returns -EROFS)",
			p->path, p->desc.name, missing);
		return -EINVAL;
	}
	p->has_fs = 1;
	return 0;
}

static int load_object_ops(struct plugin *p, char *err, size_t errlen)
{
	const struct scopefs_object_ops *obj = p->desc.object;
	const struct scopefs_object_ops *c = &p->obj;
	const char *missing;

	if (!obj) {
		set_err(err, errlen,
			"%s: plugin '%s' is of kind SCOPEFS_KIND_OBJECT but has "
			"no object ops table (expected .object = &its struct "
			"scopefs_object_ops)",
			p->path, p->desc.name);
		return -EINVAL;
	}
	if (obj->struct_size < OBJ_OPS_MIN_SIZE) {
		set_err(err, errlen,
			"%s: plugin '%s' object ops table is %u bytes "
			"(struct_size), expected at least %zu (head to "
			"mpu_abort)%s",
			p->path, p->desc.name, obj->struct_size,
			OBJ_OPS_MIN_SIZE,
			obj->struct_size == 0
				? ": set .struct_size = sizeof(struct "
				  "scopefs_object_ops)"
				: ": rebuild it against scopefs-plugin 1.1 or "
				  "later");
		return -EPROTO;
	}
	memcpy(&p->obj, obj, MIN(obj->struct_size, sizeof(p->obj)));
	missing = !c->head ? "head" :
		  !c->get ? "get" :
		  !c->put ? "put" :
		  !c->list ? "list" :
		  !c->remove ? "remove" :
		  !c->mpu_create ? "mpu_create" :
		  !c->mpu_part ? "mpu_part" :
		  !c->mpu_complete ? "mpu_complete" :
		  !c->mpu_abort ? "mpu_abort" :
		  NULL;
	if (missing) {
		set_err(err, errlen,
			"%s: plugin '%s' object ops have no %s (required: "
			"head, get, put, list, remove, mpu_create, mpu_part, "
			"mpu_complete, mpu_abort)",
			p->path, p->desc.name, missing);
		return -EINVAL;
	}
	if ((c->flags & SCOPEFS_OBJ_CAN_COPY) && !c->copy) {
		set_err(err, errlen,
			"%s: plugin '%s' sets SCOPEFS_OBJ_CAN_COPY but has no "
			"copy (expected both or neither)",
			p->path, p->desc.name);
		return -EINVAL;
	}
	p->has_obj = 1;
	return 0;
}

int loader_load(const char *name_or_path, const char *dir, struct plugin **out,
		char *err, size_t errlen)
{
	const struct scopefs_plugin *d;
	scopefs_plugin_entry_fn entry;
	struct plugin *p;
	void *sym;
	int r;

	if (err && errlen)
		err[0] = '\0';
	*out = NULL;
	if (!name_or_path || !*name_or_path) {
		set_err(err, errlen, "plugin: empty name (expected a plugin "
				     "name or an absolute path)");
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		set_err(err, errlen, "%s: out of memory", name_or_path);
		return -ENOMEM;
	}
	r = resolve(name_or_path, dir, &p->path, err, errlen);
	if (r == -ENOMEM)
		set_err(err, errlen, "%s: out of memory", name_or_path);
	if (r < 0)
		goto fail;
	r = check_file(p->path, err, errlen);
	if (r < 0)
		goto fail;

	p->dl = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
	if (!p->dl) {
		set_err(err, errlen, "%s: cannot load plugin: %s", p->path,
			dl_reason(p->path));
		r = -EINVAL;
		goto fail;
	}
	dlerror();
	sym = dlsym(p->dl, SCOPEFS_PLUGIN_ENTRY_NAME);
	if (!sym) {
		set_err(err, errlen,
			"%s: no entry symbol '" SCOPEFS_PLUGIN_ENTRY_NAME
			"' (not a scopefs plugin, or built without "
			"SCOPEFS_REGISTER_PLUGIN)",
			p->path);
		r = -EINVAL;
		goto fail;
	}
	entry = (scopefs_plugin_entry_fn)sym;
	d = entry();
	if (!d) {
		set_err(err, errlen,
			"%s: " SCOPEFS_PLUGIN_ENTRY_NAME "() returned NULL "
			"(expected the plugin's struct scopefs_plugin)",
			p->path);
		r = -EINVAL;
		goto fail;
	}
	r = check_desc(p->path, d, err, errlen);
	if (r < 0)
		goto fail;
	/* nbdkit's way: fields the plugin's minor lacks stay zero. */
	memcpy(&p->desc, d, MIN(d->struct_size, sizeof(p->desc)));
	r = check_lifecycle(p->path, &p->desc, err, errlen);
	if (r < 0)
		goto fail;
	r = p->desc.kind == SCOPEFS_KIND_FS ? load_fs_ops(p, err, errlen)
					    : load_object_ops(p, err, errlen);
	if (r < 0)
		goto fail;
	*out = p;
	return 0;

fail:
	loader_unload(p);
	return r;
}

void loader_unload(struct plugin *p)
{
	if (!p)
		return;
	if (p->dl)
		dlclose(p->dl);
	free(p->path);
	free(p);
}
