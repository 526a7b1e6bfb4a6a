/* objfs_store: the object layer's one way to its plugin.  Every store call
 * goes through here: the plugin's last error is cleared before it (so a
 * message read after a failure is this call's), and the call is counted
 * and timed for the metrics. */
#include "backend.h"
#include "objfs_internal.h"

#define TIMED(fs, op, bytes, call)                                            \
	({                                                                   \
		uint64_t t0_ = metrics_now_ns();                             \
		host_clear_error();                                          \
		__typeof__(call) r_ = (call);                                \
		metrics_op((fs)->p.metrics, (op), (long)r_, (bytes),          \
			   metrics_now_ns() - t0_);                          \
		r_;                                                          \
	})

int objfs_store_head(struct objfs *fs, const char *key,
	       struct scopefs_object_attr *a, scopefs_meta_fn meta, void *ctx)
{
	return TIMED(fs, MX_HEAD, 0, fs->o->head(fs->pm, key, a, meta, ctx));
}

ssize_t objfs_store_get(struct objfs *fs, const char *key, uint64_t off, void *buf,
		  size_t len, const char *if_etag)
{
	uint64_t t0 = metrics_now_ns();
	ssize_t n;

	host_clear_error();
	n = fs->o->get(fs->pm, key, off, buf, len, if_etag);
	metrics_op(fs->p.metrics, MX_GET, (long)n, n > 0 ? (uint64_t)n : 0,
		   metrics_now_ns() - t0);
	return n;
}

int objfs_store_put(struct objfs *fs, const char *key, const void *buf, size_t len,
	      const struct scopefs_object_meta *meta, size_t nmeta,
	      struct scopefs_object_attr *out)
{
	return TIMED(fs, MX_PUT, len,
		     fs->o->put(fs->pm, key, buf, len, meta, nmeta, out));
}

int objfs_store_put_new(struct objfs *fs, const char *key, const void *buf,
		  size_t len, const struct scopefs_object_meta *meta,
		  size_t nmeta, struct scopefs_object_attr *out)
{
	return TIMED(fs, MX_PUT_NEW, len,
		     fs->o->put_new(fs->pm, key, buf, len, meta, nmeta, out));
}

int objfs_store_list(struct objfs *fs, const char *prefix, const char *delimiter,
	       char token[SCOPEFS_TOKEN_MAX], scopefs_list_fn fn, void *ctx)
{
	return TIMED(fs, MX_LIST, 0,
		     fs->o->list(fs->pm, prefix, delimiter, token, fn, ctx));
}

int objfs_store_remove(struct objfs *fs, const char *key)
{
	return TIMED(fs, MX_REMOVE, 0, fs->o->remove(fs->pm, key));
}

int objfs_store_copy(struct objfs *fs, const char *from, const char *to,
	       const struct scopefs_object_meta *meta, size_t nmeta,
	       struct scopefs_object_attr *out)
{
	return TIMED(fs, MX_COPY, 0,
		     fs->o->copy(fs->pm, from, to, meta, nmeta, out));
}

int objfs_store_mpu_create(struct objfs *fs, const char *key,
		     const struct scopefs_object_meta *meta, size_t nmeta,
		     void **upload)
{
	return TIMED(fs, MX_MPU_CREATE, 0,
		     fs->o->mpu_create(fs->pm, key, meta, nmeta, upload));
}

int objfs_store_mpu_part(struct objfs *fs, void *upload, uint32_t number,
		   const void *buf, size_t len)
{
	return TIMED(fs, MX_MPU_PART, len,
		     fs->o->mpu_part(fs->pm, upload, number, buf, len));
}

int objfs_store_mpu_complete(struct objfs *fs, void *upload,
		       struct scopefs_object_attr *out)
{
	return TIMED(fs, MX_MPU_COMPLETE, 0,
		     fs->o->mpu_complete(fs->pm, upload, out));
}

int objfs_store_mpu_abort(struct objfs *fs, void *upload)
{
	return TIMED(fs, MX_MPU_ABORT, 0, fs->o->mpu_abort(fs->pm, upload));
}
