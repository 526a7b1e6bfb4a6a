/* xml: reading and writing the XML of object-store protocols with
 * libxml2: entities are not expanded, nothing is fetched from the network
 * and libxml2 prints nothing of its own.  Element names are matched
 * without their namespace (servers differ in the ones they declare). */
#ifndef SCOPEFS_XML_H
#define SCOPEFS_XML_H

#include <stddef.h>
#include <time.h>
#include <libxml/tree.h>

#pragma GCC visibility push(hidden)

/* libxml2's one-time initialisation; call before threads parse
 * (mount_open).  Thread-safe. */
void xml_init(void);
/* A document, or NULL for no body or one that is not XML. */
xmlDocPtr xml_parse(const char *body, size_t len);
/* N is an element named NAME. */
int xml_is(const xmlNode *n, const char *name);
/* The first child element NAME of N, or NULL. */
xmlNode *xml_child(const xmlNode *n, const char *name);
/* The element's text, malloc'd ("" for an empty element); NULL when out
 * of memory. */
char *xml_text(const xmlNode *n);
/* Copy the text of N's child NAME into buf; 0, or -1 when absent. */
int xml_child_text(const xmlNode *n, const char *name, char *buf,
		   size_t len);
/* DOC serialised in UTF-8, malloc'd and NUL-terminated; NULL on failure. */
char *xml_dump(xmlDocPtr doc, size_t *len);
/* "2026-11-25T13:04:05.123Z" -> ts; -1 if unreadable. */
int xml_parse_iso8601(const char *s, struct timespec *ts);

#pragma GCC visibility pop

#endif
