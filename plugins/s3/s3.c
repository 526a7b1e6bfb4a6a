/*
 * s3: the object-store plugin for Amazon S3 and S3-compatible servers.
 * This file is the description the core loads; the work is done in
 * s3_config.c (keys), s3_mount.c (mounts) and the object primitives
 * (s3_object.c, s3_list.c, s3_copy.c, s3_mpu.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <scopefs/plugin.h>

#include "s3.h"
#include "s3_config.h"
#include "s3_mount.h"

static int backend_open(const struct scopefs_host *host, void **backend)
{
	struct s3_config *c = malloc(sizeof *c);

	if (!c)
		return -ENOMEM;
	s3_config_init(c, host);
	if (!c->prefix) {
		free(c);
		return -ENOMEM;
	}
	*backend = c;
	return 0;
}

static int config(void *backend, const char *key, const char *value)
{
	return s3_config_key(backend, key, value);
}

static int config_complete(void *backend)
{
	return s3_config_complete(backend);
}

static int mount_open(void *backend, const char *prefix, unsigned int flags,
		      void **mnt)
{
	return s3_mount_open(backend, prefix, flags, mnt);
}

static void backend_close(void *backend)
{
	if (backend) {
		s3_config_free(backend);
		free(backend);
	}
}

static const struct scopefs_object_ops object_ops = {
	.struct_size = sizeof(struct scopefs_object_ops),
	.flags = SCOPEFS_OBJ_CAN_COPY,
	.min_part_size = S3_MIN_PART,
	.max_part_size = S3_MAX_PART,
	.max_parts = S3_MAX_PARTS,
	.list_page = S3_LIST_PAGE,
	.max_put_size = S3_MAX_PUT,
	.head = s3_head,
	.get = s3_get,
	.put = s3_put,
	.list = s3_list,
	.remove = s3_remove,
	.copy = s3_copy,
	.mpu_create = s3_mpu_create,
	.mpu_part = s3_mpu_part,
	.mpu_complete = s3_mpu_complete,
	.mpu_abort = s3_mpu_abort,
	.put_new = s3_put_new,
	.meta_max = S3_META_MAX,
};

static const struct scopefs_plugin plugin = {
	SCOPEFS_PLUGIN_HEAD,
	.kind = SCOPEFS_KIND_OBJECT,
	.thread_model = SCOPEFS_THREAD_PARALLEL,
	.flags = 0, /* others may write to the bucket */
	.name = "s3",
	.version = "0.1.0",
	.description = "Amazon S3 and S3-compatible object stores",
	.config_help =
		"bucket=NAME            the bucket (required)\n"
		"region=REGION          signing region (us-east-1)\n"
		"endpoint=URL           http(s)://HOST[:PORT] "
		"(https://s3.REGION.amazonaws.com)\n"
		"path_style=BOOL        http://HOST/BUCKET/KEY (default: yes "
		"except on AWS)\n"
		"prefix=PATH            base prefix above every mount's prefix\n"
		"access_key_id=ID       static keys (the file must be mode "
		"0600)\n"
		"secret_access_key=KEY\n"
		"session_token=TOKEN\n"
		"KEY_file=PATH          any of those three read from a file "
		"(mode 0600 or 0400)\n"
		"profile=NAME           profile of ~/.aws/credentials "
		"($AWS_PROFILE, default)\n"
		"imds_endpoint=URL      EC2 metadata service "
		"(http://169.254.169.254)\n"
		"connect_timeout=SEC    connect timeout (10)\n"
		"timeout=SEC            abort a transfer stalled this long (30)\n"
		"retries=N              retries of a failed request (4)\n"
		"deadline=SEC           a request with its retries ends by "
		"then unless data moves (60; 0: none)\n"
		"unsigned_payload=BOOL  skip hashing bodies (no)\n"
		"part_size=SIZE         multipart part size (object layer)\n"
		"upload_parallelism=N   parts in flight per file (object layer)\n"
		"list_page=N            keys per listing request (1000)\n"
		"copy_threshold=SIZE    larger copies use UploadPartCopy (5G)\n"
		"copy_part_size=SIZE    part size of those copies (512M)\n",
	.backend_open = backend_open,
	.config = config,
	.config_complete = config_complete,
	.mount_open = mount_open,
	.mount_close = s3_mount_close,
	.backend_close = backend_close,
	.object = &object_ops,
};

SCOPEFS_REGISTER_PLUGIN(plugin)
