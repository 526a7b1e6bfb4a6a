/*
 * azblob: the object-store plugin for Azure Blob Storage (block blobs)
 * and its emulator Azurite.  This file is the description the core
 * loads; see azblob.h for where the work is done.
 */
#include <errno.h>
#include <stdlib.h>
#include <scopefs/plugin.h>

#include "azblob.h"

static int backend_open(const struct scopefs_host *host, void **backend)
{
	struct az_config *c = malloc(sizeof *c);

	if (!c)
		return -ENOMEM;
	az_config_init(c, host);
	if (!c->prefix) {
		free(c);
		return -ENOMEM;
	}
	*backend = c;
	return 0;
}

static int config(void *backend, const char *key, const char *value)
{
	return az_config_key(backend, key, value);
}

static int config_complete(void *backend)
{
	return az_config_complete(backend);
}

static int mount_open(void *backend, const char *prefix, unsigned int flags,
		      void **mnt)
{
	return az_mount_open(backend, prefix, flags, mnt);
}

static void backend_close(void *backend)
{
	if (backend) {
		az_config_free(backend);
		free(backend);
	}
}

static const struct scopefs_object_ops object_ops = {
	.struct_size = sizeof(struct scopefs_object_ops),
	.flags = SCOPEFS_OBJ_CAN_COPY | SCOPEFS_OBJ_LIST_HAS_META,
	.min_part_size = 1ull << 20,
	.max_part_size = AZ_MAX_BLOCK,
	.max_parts = AZ_MAX_BLOCKS,
	.list_page = AZ_LIST_PAGE,
	.max_put_size = AZ_MAX_PUT,
	.head = az_head,
	.get = az_get,
	.put = az_put,
	.list = az_list,
	.remove = az_remove,
	.copy = az_copy,
	.mpu_create = az_mpu_create,
	.mpu_part = az_mpu_part,
	.mpu_complete = az_mpu_complete,
	.mpu_abort = az_mpu_abort,
	.put_new = az_put_new,
	.meta_max = AZ_META_MAX,
};

static const struct scopefs_plugin plugin = {
	SCOPEFS_PLUGIN_HEAD,
	.kind = SCOPEFS_KIND_OBJECT,
	.thread_model = SCOPEFS_THREAD_PARALLEL,
	.flags = 0, /* others may write to the container */
	.name = "azblob",
	.version = "0.1.0",
	.description = "Azure Blob Storage (block blobs) and Azurite",
	.config_help =
		"account=NAME           storage account ($AZURE_STORAGE_ACCOUNT)\n"
		"container=NAME         the container (required)\n"
		"endpoint=URL           https://ACCOUNT.blob.core.windows.net; "
		"emulators: http://HOST:PORT/ACCOUNT\n"
		"prefix=PATH            base prefix above every mount's prefix\n"
		"auth=MODE              auto (first configured of key, sas, "
		"msi), key, sas, msi\n"
		"account_key=BASE64     SharedKey ($AZURE_STORAGE_KEY; the "
		"file must be mode 0600)\n"
		"sas_token=TOKEN        account or container SAS "
		"($AZURE_STORAGE_SAS_TOKEN)\n"
		"account_key_file=PATH  either of those two read from a file "
		"(mode 0600 or 0400)\n"
		"sas_token_file=PATH\n"
		"msi_endpoint=URL       managed identity token endpoint "
		"(instance metadata service)\n"
		"msi_client_id=ID       user-assigned identity\n"
		"connect_timeout=SEC    connect timeout (10)\n"
		"timeout=SEC            abort a transfer stalled this long (30)\n"
		"retries=N              retries of a failed request (4)\n"
		"deadline=SEC           a request with its retries ends by "
		"then unless data moves (60; 0: none)\n"
		"list_page=N            blobs per List Blobs request (5000)\n"
		"copy_timeout=SEC       deadline of a pending Copy Blob (600)\n"
		"part_size=SIZE         block size (object layer)\n"
		"upload_parallelism=N   blocks in flight per file (object "
		"layer)\n",
	.backend_open = backend_open,
	.config = config,
	.config_complete = config_complete,
	.mount_open = mount_open,
	.mount_close = az_mount_close,
	.backend_close = backend_close,
	.object = &object_ops,
};

SCOPEFS_REGISTER_PLUGIN(plugin)
