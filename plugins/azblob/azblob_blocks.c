/* azblob_blocks: streamed uploads as Put Block + Put Block List.
 *
 * Block IDs are base64 of 12 bytes (8 random bytes of the upload, then
 * the part number), so every ID of a blob has the same length, as Azure
 * requires, and two uploads of one name never share an ID.  mpu_create
 * sends nothing: the metadata travels with Put Block List, which commits
 * the blob atomically.  An aborted upload sends nothing either: nothing
 * was committed, and the service drops uncommitted blocks on its own
 * (after a week, or at the next commit of the blob). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/rand.h>

#include "azblob.h"
#include "azblob_xml.h"
#include "crypto.h"
#include "parts.h"

struct az_upload {
	char *name; /* the key as the core named it */
	char *key;  /* full blob name */
	struct scopefs_object_meta *meta; /* copies, for the commit */
	size_t nmeta;
	unsigned char tag[8];
	struct parts parts; /* block IDs sent */
};

static void upload_free(struct az_upload *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nmeta; i++) {
		free((char *)u->meta[i].key);
		free((char *)u->meta[i].value);
	}
	free(u->meta);
	parts_free(&u->parts);
	free(u->name);
	free(u->key);
	free(u);
}

int az_mpu_create(void *mnt, const char *key,
		  const struct scopefs_object_meta *meta, size_t nmeta,
		  void **upload)
{
	struct az_mount *m = mnt;
	struct az_upload *u;
	struct http_pair *check = NULL;
	int rc;

	*upload = NULL;
	if (m->read_only)
		return -EROFS;
	if ((rc = az_key_check(m, "mpu_create", key, 0)) < 0)
		return rc;
	/* Refuse bad metadata now rather than after the last block. */
	if ((rc = az_meta_headers(m, "mpu_create", key, meta, nmeta,
				  &check)) < 0)
		return rc;
	free(check);
	if (!(u = calloc(1, sizeof *u)))
		return -ENOMEM;
	parts_init(&u->parts);
	if (!(u->key = az_key_full(m, "mpu_create", key))) {
		rc = -errno;
		goto fail;
	}
	rc = -ENOMEM;
	if (!(u->name = strdup(key)) ||
	    (nmeta && !(u->meta = calloc(nmeta, sizeof *u->meta))))
		goto fail;
	for (size_t i = 0; i < nmeta; i++, u->nmeta++)
		if (!(u->meta[i].key = strdup(meta[i].key)) ||
		    !(u->meta[i].value = strdup(meta[i].value))) {
			u->nmeta++;
			goto fail;
		}
	if (RAND_bytes(u->tag, sizeof u->tag) != 1) {
		m->host->set_error(m->host, "mpu_create '%s': no random bytes "
				   "for block IDs", key);
		rc = -EIO;
		goto fail;
	}
	*upload = u;
	return 0;
fail:
	upload_free(u);
	return rc;
}

static char *block_id(const struct az_upload *u, uint32_t n)
{
	unsigned char raw[12];

	memcpy(raw, u->tag, 8);
	raw[8] = (unsigned char)(n >> 24);
	raw[9] = (unsigned char)(n >> 16);
	raw[10] = (unsigned char)(n >> 8);
	raw[11] = (unsigned char)n;
	return b64_encode(raw, sizeof raw);
}

int az_mpu_part(void *mnt, void *upload, uint32_t part_number,
		const void *buf, size_t len)
{
	struct az_mount *m = mnt;
	struct az_upload *u = upload;
	struct http_response resp;
	char *id;
	int rc;

	if (part_number < 1 || part_number > AZ_MAX_BLOCKS ||
	    len > AZ_MAX_BLOCK) {
		m->host->set_error(m->host, "mpu_part '%s': block %u of %zu "
				   "bytes is outside Azure's limits", u->name,
				   part_number, len);
		return -EINVAL;
	}
	if (!(id = block_id(u, part_number)))
		return -ENOMEM;
	{
		struct http_pair q[2] = { { "comp", "block" },
					  { "blockid", id } };
		struct az_req r = { .op = "mpu_part", .name = u->name,
				    .method = "PUT", .key = u->key,
				    .query = q, .nquery = 2, .body = buf,
				    .body_len = len };
		rc = az_send(m, &r, &resp);
		if (rc < 0)
			rc = az_fail(m, &r, &resp, rc);
		else
			rc = parts_record(&u->parts, part_number, id, len);
		http_response_free(&resp);
	}
	free(id);
	return rc;
}

static int commit(struct az_mount *m, struct az_upload *u,
		  struct scopefs_object_attr *out)
{
	struct http_response resp = { 0 };
	struct http_pair q = { "comp", "blocklist" }, *mh = NULL, *h = NULL;
	struct az_req r = { .op = "mpu_complete", .name = u->name,
			    .method = "PUT", .key = u->key, .query = &q,
			    .nquery = 1 };
	uint64_t size = parts_sort(&u->parts); /* every part has returned */
	size_t len = 0;
	char *body = NULL;
	int rc;

	if ((rc = az_meta_headers(m, r.op, u->name, u->meta, u->nmeta,
				  &mh)) < 0)
		return rc;
	rc = -ENOMEM;
	if (!(h = calloc(u->nmeta + 1, sizeof *h)) ||
	    !(body = az_xml_block_list(&u->parts, &len)))
		goto out;
	h[r.nheaders++] = (struct http_pair){ "Content-Type",
					      "application/xml" };
	for (size_t i = 0; i < u->nmeta; i++)
		h[r.nheaders++] = mh[i];
	r.headers = h;
	r.body = body;
	r.body_len = len;
	rc = az_send(m, &r, &resp);
	if (rc < 0) {
		rc = az_fail(m, &r, &resp, rc);
	} else if (out) {
		http_attr_from_headers(&resp, out);
		out->size = size;
	}
out:
	http_response_free(&resp);
	free(body);
	free(h);
	free(mh);
	return rc;
}

int az_mpu_complete(void *mnt, void *upload, struct scopefs_object_attr *out)
{
	int rc = commit(mnt, upload, out);

	upload_free(upload);
	return rc;
}

int az_mpu_abort(void *mnt, void *upload)
{
	(void)mnt;
	upload_free(upload); /* nothing committed; see the top */
	return 0;
}
