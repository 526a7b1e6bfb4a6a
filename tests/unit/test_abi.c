/*
 * The plugin ABI's layout, pinned.  Plugins built against an earlier
 * header must keep working, so no field of a struct that crosses the
 * boundary may move: every offset and size below is checked at compile
 * time (a reorder fails the build) and again at run time (with a message
 * naming the field).  The numbers are for x86_64 (LP64).
 *
 * Appending a field changes a size: bump SCOPEFS_ABI_MINOR, pin the new
 * field here and update the size.
 */
#include <criterion/criterion.h>

#include <stddef.h>
#include <scopefs/plugin.h>

#if defined(__x86_64__) && defined(__LP64__)
#define PINNED 1
#else
#define PINNED 0
#endif

#define FIELDS(X)                                                             \
	X(scopefs_plugin, abi_major, 0)                                       \
	X(scopefs_plugin, abi_minor, 4)                                       \
	X(scopefs_plugin, struct_size, 8)                                     \
	X(scopefs_plugin, kind, 12)                                           \
	X(scopefs_plugin, thread_model, 16)                                   \
	X(scopefs_plugin, flags, 20)                                          \
	X(scopefs_plugin, name, 24)                                           \
	X(scopefs_plugin, version, 32)                                        \
	X(scopefs_plugin, description, 40)                                    \
	X(scopefs_plugin, config_help, 48)                                    \
	X(scopefs_plugin, backend_open, 56)                                   \
	X(scopefs_plugin, config, 64)                                         \
	X(scopefs_plugin, config_complete, 72)                                \
	X(scopefs_plugin, mount_open, 80)                                     \
	X(scopefs_plugin, mount_close, 88)                                    \
	X(scopefs_plugin, backend_close, 96)                                  \
	X(scopefs_plugin, fs, 104)                                            \
	X(scopefs_plugin, object, 112)                                        \
                                                                              \
	X(scopefs_host, struct_size, 0)                                       \
	X(scopefs_host, abi_major, 4)                                         \
	X(scopefs_host, abi_minor, 8)                                         \
	X(scopefs_host, reserved, 12)                                         \
	X(scopefs_host, backend_name, 16)                                     \
	X(scopefs_host, log, 24)                                              \
	X(scopefs_host, set_error, 32)                                        \
	X(scopefs_host, config_get, 40)                                       \
	X(scopefs_host, parse_bool, 48)                                       \
	X(scopefs_host, parse_size, 56)                                       \
	X(scopefs_host, config_file, 64)                                      \
	X(scopefs_host, cache_dir, 72)                                        \
	X(scopefs_host, count_request, 80)                                    \
                                                                              \
	X(scopefs_caller, uid, 0)                                             \
	X(scopefs_caller, gid, 4)                                             \
	X(scopefs_caller, pid, 8)                                             \
	X(scopefs_caller, umask, 12)                                          \
                                                                              \
	X(scopefs_fs_ops, struct_size, 0)                                     \
	X(scopefs_fs_ops, reserved, 4)                                        \
	X(scopefs_fs_ops, getattr, 8)                                         \
	X(scopefs_fs_ops, readdir, 16)                                        \
	X(scopefs_fs_ops, open, 24)                                           \
	X(scopefs_fs_ops, create, 32)                                         \
	X(scopefs_fs_ops, read, 40)                                           \
	X(scopefs_fs_ops, write, 48)                                          \
	X(scopefs_fs_ops, release, 56)                                        \
	X(scopefs_fs_ops, flush, 64)                                          \
	X(scopefs_fs_ops, fsync, 72)                                          \
	X(scopefs_fs_ops, fd, 80)                                             \
	X(scopefs_fs_ops, truncate, 88)                                       \
	X(scopefs_fs_ops, mkdir, 96)                                          \
	X(scopefs_fs_ops, mknod, 104)                                         \
	X(scopefs_fs_ops, unlink, 112)                                        \
	X(scopefs_fs_ops, rmdir, 120)                                         \
	X(scopefs_fs_ops, rename, 128)                                        \
	X(scopefs_fs_ops, symlink, 136)                                       \
	X(scopefs_fs_ops, readlink, 144)                                      \
	X(scopefs_fs_ops, link, 152)                                          \
	X(scopefs_fs_ops, chmod, 160)                                         \
	X(scopefs_fs_ops, chown, 168)                                         \
	X(scopefs_fs_ops, utimens, 176)                                       \
	X(scopefs_fs_ops, statfs, 184)                                        \
	X(scopefs_fs_ops, fallocate, 192)                                     \
	X(scopefs_fs_ops, setxattr, 200)                                      \
	X(scopefs_fs_ops, getxattr, 208)                                      \
	X(scopefs_fs_ops, listxattr, 216)                                     \
	X(scopefs_fs_ops, removexattr, 224)                                   \
                                                                              \
	X(scopefs_object_ops, struct_size, 0)                                 \
	X(scopefs_object_ops, flags, 4)                                       \
	X(scopefs_object_ops, min_part_size, 8)                               \
	X(scopefs_object_ops, max_part_size, 16)                              \
	X(scopefs_object_ops, max_parts, 24)                                  \
	X(scopefs_object_ops, list_page, 28)                                  \
	X(scopefs_object_ops, max_put_size, 32)                               \
	X(scopefs_object_ops, head, 40)                                       \
	X(scopefs_object_ops, get, 48)                                        \
	X(scopefs_object_ops, put, 56)                                        \
	X(scopefs_object_ops, list, 64)                                       \
	X(scopefs_object_ops, remove, 72)                                     \
	X(scopefs_object_ops, copy, 80)                                       \
	X(scopefs_object_ops, mpu_create, 88)                                 \
	X(scopefs_object_ops, mpu_part, 96)                                   \
	X(scopefs_object_ops, mpu_complete, 104)                              \
	X(scopefs_object_ops, mpu_abort, 112)                                 \
	X(scopefs_object_ops, put_new, 120)                                   \
	X(scopefs_object_ops, meta_max, 128)                                  \
                                                                              \
	X(scopefs_object_attr, size, 0)                                       \
	X(scopefs_object_attr, mtime, 8)                                      \
	X(scopefs_object_attr, etag, 24)                                      \
                                                                              \
	X(scopefs_object_meta, key, 0)                                        \
	X(scopefs_object_meta, value, 8)

/* Sizes as of the current minor; every pinned field ends inside them. */
#define SIZES(X)                                                              \
	X(scopefs_plugin, 120)                                                \
	X(scopefs_host, 88)                                                   \
	X(scopefs_caller, 16)                                                 \
	X(scopefs_fs_ops, 232)                                                \
	X(scopefs_object_ops, 136)                                            \
	X(scopefs_object_attr, 152)                                           \
	X(scopefs_object_meta, 16)

_Static_assert(SCOPEFS_ABI_MAJOR == 1 && SCOPEFS_ABI_MINOR == 3,
	       "the ABI version changed: review the pins in test_abi.c");

#if PINNED
#define STATIC_FIELD(type, field, off)                                        \
	_Static_assert(offsetof(struct type, field) == (off),                 \
		       "struct " #type "." #field " moved: that breaks every " \
		       "plugin built before");
#define STATIC_SIZE(type, size)                                               \
	_Static_assert(sizeof(struct type) == (size),                         \
		       "struct " #type " changed size: append only, bump "    \
		       "SCOPEFS_ABI_MINOR and pin the new field");
FIELDS(STATIC_FIELD)
SIZES(STATIC_SIZE)
#endif

struct pin {
	const char *type, *field;
	size_t offset, pinned;
};

#define ROW(type, field, off) { #type, #field, offsetof(struct type, field), off },
static const struct pin pins[] = { FIELDS(ROW) };

#define SIZE_ROW(type, size) { #type, "(sizeof)", sizeof(struct type), size },
static const struct pin sizes[] = { SIZES(SIZE_ROW) };

Test(abi, every_field_is_at_its_pinned_offset)
{
	if (!PINNED)
		cr_skip_test("offsets are pinned for x86_64 only");
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
		cr_expect_eq(pins[i].offset, pins[i].pinned,
			     "struct %s.%s is at offset %zu, pinned at %zu",
			     pins[i].type, pins[i].field, pins[i].offset,
			     pins[i].pinned);
}

Test(abi, every_struct_has_its_pinned_size)
{
	if (!PINNED)
		cr_skip_test("sizes are pinned for x86_64 only");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		cr_expect_eq(sizes[i].offset, sizes[i].pinned,
			     "struct %s is %zu bytes, pinned at %zu",
			     sizes[i].type, sizes[i].offset, sizes[i].pinned);
}

/* Every struct that grows starts with its size (the plugin description
 * with the version, then the size), so the other side can tell how much of
 * it exists whatever the minor. */
Test(abi, struct_size_leads_every_growing_struct)
{
	cr_assert_eq(offsetof(struct scopefs_plugin, abi_major), 0);
	cr_assert_eq(offsetof(struct scopefs_plugin, struct_size), 8);
	cr_assert_eq(offsetof(struct scopefs_host, struct_size), 0);
	cr_assert_eq(offsetof(struct scopefs_fs_ops, struct_size), 0);
	cr_assert_eq(offsetof(struct scopefs_object_ops, struct_size), 0);
}

Test(abi, constants_keep_their_values)
{
	cr_assert_eq(SCOPEFS_KIND_FS, 1);
	cr_assert_eq(SCOPEFS_KIND_OBJECT, 2);
	cr_assert_eq(SCOPEFS_THREAD_SERIALIZE_BACKEND, 0);
	cr_assert_eq(SCOPEFS_THREAD_SERIALIZE_MOUNT, 1);
	cr_assert_eq(SCOPEFS_THREAD_PARALLEL, 2);
	cr_assert_eq(SCOPEFS_CAP_EXCLUSIVE, 1);
	cr_assert_eq(SCOPEFS_CAP_STABLE_INO, 2);
	cr_assert_eq(SCOPEFS_CAP_POSIX_ACL, 4);
	cr_assert_eq(SCOPEFS_MOUNT_READ_ONLY, 1);
	cr_assert_eq(SCOPEFS_OBJ_CAN_COPY, 1);
	cr_assert_eq(SCOPEFS_OBJ_LIST_HAS_META, 2);
	cr_assert_eq(SCOPEFS_LOG_ERROR, 0);
	cr_assert_eq(SCOPEFS_LOG_DEBUG, 3);
	cr_assert_eq(SCOPEFS_ETAG_MAX, 128);
	cr_assert_eq(SCOPEFS_TOKEN_MAX, 4096);
	cr_assert_str_eq(SCOPEFS_PLUGIN_ENTRY_NAME, "scopefs_plugin_entry");
}

Test(abi, has_field_is_true_only_for_fields_inside_struct_size)
{
	struct scopefs_host h = { .struct_size = sizeof(h) };

	cr_assert(SCOPEFS_HAS_FIELD(&h, struct scopefs_host, cache_dir));

	/* A host of a core that ended before config_file. */
	h.struct_size = offsetof(struct scopefs_host, config_file);
	cr_assert(SCOPEFS_HAS_FIELD(&h, struct scopefs_host, parse_size));
	cr_assert(!SCOPEFS_HAS_FIELD(&h, struct scopefs_host, config_file));
	cr_assert(!SCOPEFS_HAS_FIELD(&h, struct scopefs_host, cache_dir));

	/* A field only partly inside does not count. */
	h.struct_size = offsetof(struct scopefs_host, cache_dir) + 4;
	cr_assert(SCOPEFS_HAS_FIELD(&h, struct scopefs_host, config_file));
	cr_assert(!SCOPEFS_HAS_FIELD(&h, struct scopefs_host, cache_dir));
}

Test(abi, has_field_works_on_ops_tables)
{
	struct scopefs_fs_ops fs = {
		.struct_size = offsetof(struct scopefs_fs_ops, flush),
	};
	struct scopefs_object_ops obj = { .struct_size = 8 };

	cr_assert(SCOPEFS_HAS_FIELD(&fs, struct scopefs_fs_ops, release));
	cr_assert(!SCOPEFS_HAS_FIELD(&fs, struct scopefs_fs_ops, flush));
	cr_assert(SCOPEFS_HAS_FIELD(&obj, struct scopefs_object_ops, flags));
	cr_assert(!SCOPEFS_HAS_FIELD(&obj, struct scopefs_object_ops, head));
}

Test(abi, plugin_head_macro_fills_version_and_size)
{
	static const struct scopefs_plugin p = { SCOPEFS_PLUGIN_HEAD };

	cr_assert_eq(p.abi_major, SCOPEFS_ABI_MAJOR);
	cr_assert_eq(p.abi_minor, SCOPEFS_ABI_MINOR);
	cr_assert_eq(p.struct_size, sizeof(struct scopefs_plugin));
}
