/*
 * gcs: the object-store plugin for Google Cloud Storage, through its JSON
 * API, and the Cloud Storage emulator.  This file is the description the
 * core loads; see gcs.h for where the work is done.
 */
#include <errno.h>
#include <stdlib.h>
#include <scopefs/plugin.h>

#include "gcs.h"

static int backend_open(const struct scopefs_host *host, void **backend)
{
	struct gcs_config *c = malloc(sizeof *c);

	if (!c)
		return -ENOMEM;
	gcs_config_init(c, host);
	if (!c->prefix) {
		free(c);
		return -ENOMEM;
	}
	*backend = c;
	return 0;
}

static int config(void *backend, const char *key, const char *value)
{
	return gcs_config_key(backend, key, value);
}

static int config_complete(void *backend)
{
	return gcs_config_complete(backend);
}

static int mount_open(void *backend, const char *prefix, unsigned int flags,
		      void **mnt)
{
	return gcs_mount_open(backend, prefix, flags, mnt);
}

static void backend_close(void *backend)
{
	if (backend) {
		gcs_config_free(backend);
		free(backend);
	}
}

static const struct scopefs_object_ops object_ops = {
	.struct_size = sizeof(struct scopefs_object_ops),
	.flags = SCOPEFS_OBJ_CAN_COPY | SCOPEFS_OBJ_LIST_HAS_META,
	.min_part_size = 1ull << 20,
	.max_part_size = GCS_MAX_PUT,
	.max_parts = GCS_MAX_PARTS,
	.list_page = GCS_LIST_PAGE,
	.max_put_size = GCS_MAX_PUT,
	.head = gcs_head,
	.get = gcs_get,
	.put = gcs_put,
	.list = gcs_list,
	.remove = gcs_remove,
	.copy = gcs_copy,
	.mpu_create = gcs_mpu_create,
	.mpu_part = gcs_mpu_part,
	.mpu_complete = gcs_mpu_complete,
	.mpu_abort = gcs_mpu_abort,
	.put_new = gcs_put_new,
	.meta_max = GCS_META_MAX,
};

static const struct scopefs_plugin plugin = {
	SCOPEFS_PLUGIN_HEAD,
	.kind = SCOPEFS_KIND_OBJECT,
	.thread_model = SCOPEFS_THREAD_PARALLEL,
	.flags = 0, /* others may write to the bucket */
	.name = "gcs",
	.version = "0.1.0",
	.description = "Google Cloud Storage (JSON API) and its emulator",
	.config_help =
		"bucket=NAME            the bucket (required)\n"
		"endpoint=URL           https://storage.googleapis.com; "
		"emulators: http://HOST:PORT\n"
		"prefix=PATH            base prefix above every mount's prefix\n"
		"auth=MODE              auto (service_account if credentials "
		"are set, else metadata), service_account, metadata, none\n"
		"credentials=PATH       service-account JSON key file "
		"($GOOGLE_APPLICATION_CREDENTIALS; mode 0600)\n"
		"token_uri=URL          overrides the key file's token_uri\n"
		"metadata_endpoint=URL  the GCE metadata server "
		"(http://metadata.google.internal)\n"
		"connect_timeout=SEC    connect timeout (10)\n"
		"timeout=SEC            abort a transfer stalled this long (30)\n"
		"retries=N              retries of a failed request (4)\n"
		"deadline=SEC           a request with its retries ends by "
		"then unless data moves (60; 0: none)\n"
		"list_page=N            objects per objects.list request "
		"(1000)\n"
		"part_size=SIZE         part size (object layer)\n"
		"upload_parallelism=N   parts in flight per file (object "
		"layer)\n",
	.backend_open = backend_open,
	.config = config,
	.config_complete = config_complete,
	.mount_open = mount_open,
	.mount_close = gcs_mount_close,
	.backend_close = backend_close,
	.object = &object_ops,
};

SCOPEFS_REGISTER_PLUGIN(plugin)
