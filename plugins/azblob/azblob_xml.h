/* azblob_xml: Azure Blob's XML documents (List Blobs, Put Block List,
 * errors) through plugins/common/xml.c. */
#ifndef SCOPEFS_AZBLOB_XML_H
#define SCOPEFS_AZBLOB_XML_H

#include <stddef.h>

#include "objlist.h"
#include "parts.h"

#pragma GCC visibility push(hidden) /* see plugin.mk */

/* An EnumerationResults page: Blobs/Blob (Name, Properties, Metadata)
 * and Blobs/BlobPrefix (Name), NextMarker into page.next_token ("" or
 * absent: the last page).  0, -EIO (not a listing), -ENOMEM. */
int az_xml_parse_list(const char *body, size_t len, struct objlist *page);

/* <Error><Code/><Message/></Error>: 0 and both copied, else -ENOENT. */
int az_xml_parse_error(const char *body, size_t len, char *code,
		       size_t codelen, char *msg, size_t msglen);

/* <BlockList><Latest>ID</Latest>...</BlockList> for the sorted PARTS
 * (ids in part.id), malloc'd; NULL when out of memory. */
char *az_xml_block_list(const struct parts *p, size_t *len);

#pragma GCC visibility pop

#endif
