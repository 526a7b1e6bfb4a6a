/* loader: find a plugin by name or path, dlopen it, check its ABI. */
#ifndef SCOPEFS_LOADER_H
#define SCOPEFS_LOADER_H

#include <stddef.h>
#include <scopefs/plugin.h>

struct plugin {
	char *path;     /* the file that was loaded */
	void *dl;       /* dlopen handle */
	/* The plugin's description copied into a core-sized, zero-filled
	 * struct: fields the plugin's minor lacks read as 0/NULL. */
	struct scopefs_plugin desc;
	struct scopefs_fs_ops fs;      /* same, for the fs ops table */
	struct scopefs_object_ops obj; /* same, for the object ops table */
	int has_fs, has_obj;
};

/* The directory searched for plugins by name: $SCOPEFS_PLUGIN_DIR if set,
 * else config_dir if non-NULL, else the install default. */
const char *loader_plugin_dir(const char *config_dir);

/* Load NAME_OR_PATH: an absolute path is used as is; a name is looked up as
 * DIR/scopefs-NAME.so, then DIR/NAME/scopefs-NAME.so (the source tree).
 * Refuses a file that is not a shared object, lacks the entry symbol, has
 * another ABI major, a struct too small, or no ops for its kind; err then
 * names the file, what was expected and what was found. */
int loader_load(const char *name_or_path, const char *dir, struct plugin **out,
		char *err, size_t errlen);
void loader_unload(struct plugin *p);

#endif
