/* gcs_compose: streamed uploads as parallel parts composed server-side.
 *
 * Each part is uploaded (media upload, in parallel from the object
 * layer's threads) as a temporary object GCS_PARTS_DIR + RANDOM/NNNNN
 * under the backend's base prefix, outside every mount and left out of
 * listings.  mpu_complete composes them in order into the key, with its
 * metadata, atomically: one objects.compose of up to 32 sources, or a
 * tree of them for more (32 parts into an intermediate object, 32 of
 * those into the next level, ...), then deletes the temporary objects.
 * mpu_abort deletes the parts.  A daemon killed mid-upload leaves its
 * parts behind: a lifecycle rule on the prefix cleans them up (README).
 *
 * Why not a resumable upload: its chunks must be sent in order on one
 * session, one at a time, so a file would stream at one connection's
 * speed and the object layer's parallel parts would have to wait for each
 * other; composing lets any number of parts fly at once.  (The tests'
 * emulator also finalises a resumable upload after its first chunk.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/rand.h>

#include "gcs.h"
#include "parts.h"
#include "strbuf.h"

struct gcs_upload {
	char *name;     /* the key as the core named it */
	char *key;      /* full object name */
	char *dir;      /* parts_prefix + RANDOM + "/" */
	char *resource; /* the object's resource, with its metadata */
	struct parts parts;
	char **temps;   /* every temporary object made, to delete */
	size_t ntemps, captemps;
};

static void upload_free(struct gcs_upload *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->ntemps; i++)
		free(u->temps[i]);
	free(u->temps);
	parts_free(&u->parts);
	free(u->name);
	free(u->key);
	free(u->dir);
	free(u->resource);
	free(u);
}

int gcs_mpu_create(void *mnt, const char *key,
		   const struct scopefs_object_meta *meta, size_t nmeta,
		   void **upload)
{
	struct gcs_mount *m = mnt;
	struct gcs_upload *u;
	unsigned char raw[8];
	struct strbuf b = STRBUF_INIT;
	int rc;

	*upload = NULL;
	if (m->read_only)
		return -EROFS;
	if ((rc = gcs_key_check(m, "mpu_create", key, 0)) < 0)
		return rc;
	if (!(u = calloc(1, sizeof *u)))
		return -ENOMEM;
	parts_init(&u->parts);
	if (!(u->key = gcs_key_full(m, "mpu_create", key))) {
		rc = -errno;
		goto fail;
	}
	/* bad metadata is refused now rather than after the last part */
	if ((rc = gcs_json_resource(m, "mpu_create", key, NULL, meta, nmeta, 0,
				    &u->resource)) < 0)
		goto fail;
	if (RAND_bytes(raw, sizeof raw) != 1) {
		m->host->set_error(m->host, "mpu_create '%s': no random bytes "
				   "for the parts' names", key);
		rc = -EIO;
		goto fail;
	}
	sb_add(&b, m->parts_prefix);
	for (size_t i = 0; i < sizeof raw; i++)
		sb_addf(&b, "%02x", raw[i]);
	sb_addc(&b, '/');
	rc = -ENOMEM;
	if (!(u->dir = sb_done(&b)) || !(u->name = strdup(key)))
		goto fail;
	*upload = u;
	return 0;
fail:
	upload_free(u);
	return rc;
}

/* DIR + "%05u" of N, or of "cLEVEL-N" for an intermediate object. */
static char *temp_name(const struct gcs_upload *u, unsigned level,
		       uint32_t n)
{
	struct strbuf b = STRBUF_INIT;

	if (level)
		sb_addf(&b, "%sc%u-%05u", u->dir, level, n);
	else
		sb_addf(&b, "%s%05u", u->dir, n);
	return sb_done(&b);
}

int gcs_mpu_part(void *mnt, void *upload, uint32_t part_number,
		 const void *buf, size_t len)
{
	struct gcs_mount *m = mnt;
	struct gcs_upload *u = upload;
	struct scopefs_object_attr a;
	char *tmp;
	int rc;

	if (part_number < 1 || part_number > GCS_MAX_PARTS ||
	    len > GCS_MAX_PUT) {
		m->host->set_error(m->host, "mpu_part '%s': part %u of %zu "
				   "bytes is outside the plugin's limits",
				   u->name, part_number, len);
		return -EINVAL;
	}
	if (!(tmp = temp_name(u, 0, part_number)))
		return -ENOMEM;
	rc = gcs_upload(m, "mpu_part", u->name, tmp, buf, len, NULL, NULL, &a);
	if (rc == 0)
		rc = parts_record(&u->parts, part_number, a.etag, len);
	free(tmp);
	return rc;
}

/* Note NAME (taken) as a temporary object to delete; -ENOMEM. */
static int keep_temp(struct gcs_upload *u, char *name)
{
	if (!name)
		return -ENOMEM;
	if (u->ntemps == u->captemps) {
		size_t cap = u->captemps ? 2 * u->captemps : 64;
		char **v = realloc(u->temps, cap * sizeof *v);
		if (!v) {
			free(name);
			return -ENOMEM;
		}
		u->temps = v;
		u->captemps = cap;
	}
	u->temps[u->ntemps++] = name;
	return 0;
}

/* One objects.compose of SRC[0..n) into DEST with RESOURCE. */
static int compose(struct gcs_mount *m, struct gcs_upload *u,
		   char *const *src, size_t n, const char *dest,
		   const char *resource, struct scopefs_object_attr *out)
{
	struct json_object *o = json_object_new_object(), *list, *d;
	struct http_response resp;
	struct gcs_req r = { .op = "mpu_complete", .name = u->name,
			     .method = "POST",
			     .content_type = "application/json" };
	const char *body;
	char *path = gcs_object_path(m, dest, "/compose");
	int rc = -ENOMEM;

	if (!o || !path || !(list = json_object_new_array()))
		goto out;
	json_object_object_add(o, "sourceObjects", list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_new_object();
		if (!s)
			goto out;
		json_object_object_add(s, "name", json_object_new_string(src[i]));
		json_object_array_add(list, s);
	}
	if (!(d = json_tokener_parse(resource)))
		goto out;
	json_object_object_add(o, "destination", d);
	if (!(body = json_object_to_json_string_ext(
		      o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)))
		goto out;
	r.path = path;
	r.body = body;
	r.body_len = strlen(body);
	rc = gcs_send(m, &r, &resp);
	if (rc < 0)
		rc = gcs_fail(m, &r, &resp, rc);
	else if (out && gcs_json_object(resp.body, out, NULL, NULL) < 0)
		memset(out, 0, sizeof *out);
	http_response_free(&resp);
out:
	if (o)
		json_object_put(o);
	free(path);
	return rc;
}

/* Compose the parts into the key, a level of intermediates at a time. */
static int commit(struct gcs_mount *m, struct gcs_upload *u,
		  struct scopefs_object_attr *out)
{
	uint64_t size = parts_sort(&u->parts); /* every part has returned */
	size_t n = u->parts.n, first = u->ntemps;
	unsigned level = 0;
	int rc = 0;

	if (n == 0)
		return gcs_upload(m, "mpu_complete", u->name, u->key, "", 0,
				  u->resource, NULL, out);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = keep_temp(u, temp_name(u, 0, u->parts.v[i].number));
	while (rc == 0 && n > GCS_COMPOSE_MAX) {
		size_t groups = (n + GCS_COMPOSE_MAX - 1) / GCS_COMPOSE_MAX;
		size_t next = u->ntemps;
		level++;
		for (size_t g = 0; g < groups && rc == 0; g++) {
			size_t k = g + 1 < groups ? GCS_COMPOSE_MAX
						  : n - g * GCS_COMPOSE_MAX;
			char *dest = temp_name(u, level, (uint32_t)g);
			if ((rc = keep_temp(u, dest)) < 0)
				break;
			/* keep_temp may move the array: index it afresh */
			rc = compose(m, u, u->temps + first + g * GCS_COMPOSE_MAX,
				     k, u->temps[u->ntemps - 1],
				     "{\"contentType\":\"application/"
				     "octet-stream\"}", NULL);
		}
		first = next;
		n = groups;
	}
	if (rc == 0)
		rc = compose(m, u, u->temps + first, n, u->key, u->resource,
			     out);
	if (rc == 0 && out)
		out->size = size;
	return rc;
}

/* Delete every temporary object; a failure only costs storage. */
static void delete_temps(struct gcs_mount *m, struct gcs_upload *u)
{
	int failed = 0;

	for (size_t i = 0; i < u->ntemps; i++)
		if (gcs_delete(m, "mpu_cleanup", u->name, u->temps[i]) < 0)
			failed++;
	if (failed)
		m->host->log(m->host, SCOPEFS_LOG_WARN, "upload of '%s': %d "
			     "temporary part objects under %s were not deleted",
			     u->name, failed, u->dir);
}

int gcs_mpu_complete(void *mnt, void *upload, struct scopefs_object_attr *out)
{
	struct gcs_mount *m = mnt;
	struct gcs_upload *u = upload;
	int rc = commit(m, u, out);

	delete_temps(m, u);
	upload_free(u);
	return rc;
}

int gcs_mpu_abort(void *mnt, void *upload)
{
	struct gcs_mount *m = mnt;
	struct gcs_upload *u = upload;
	int rc = 0;

	parts_sort(&u->parts);
	for (size_t i = 0; i < u->parts.n && rc == 0; i++)
		rc = keep_temp(u, temp_name(u, 0, u->parts.v[i].number));
	delete_temps(m, u);
	upload_free(u);
	return rc;
}
