/* xml: libxml2 helpers of the object plugins (see xml.h). */
#include "xml.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

/* No entity expansion (billion laughs), no DTD or network fetch, and no
 * messages of libxml2's own on stderr: a bad body is our error to tell. */
#define XML_OPTS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* libxml2 reports some errors outside any parser, where XML_PARSE_NOERROR
 * does not reach: a body in an encoding it cannot convert ("encoding
 * error : input conversion failed") goes to the generic error handler,
 * stderr by default. */
static void no_message(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void init_parser(void)
{
	xmlInitParser();
	/* For the threads that first use libxml2 later, and for this one. */
	xmlThrDefSetGenericErrorFunc(NULL, no_message);
	xmlSetGenericErrorFunc(NULL, no_message);
}

void xml_init(void)
{
	pthread_once(&once, init_parser);
}

xmlDocPtr xml_parse(const char *body, size_t len)
{
	if (!body || len == 0 || len > 0x7fffffff)
		return NULL;
	return xmlReadMemory(body, (int)len, "answer.xml", NULL, XML_OPTS);
}

int xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)n->name, name) == 0;
}

xmlNode *xml_child(const xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (xml_is(c, name))
			return c;
	return NULL;
}

char *xml_text(const xmlNode *n)
{
	xmlChar *t = xmlNodeGetContent(n);
	char *s;

	if (!t)
		return strdup("");
	s = strdup((const char *)t);
	xmlFree(t);
	return s;
}

int xml_child_text(const xmlNode *n, const char *name, char *buf,
		   size_t len)
{
	xmlNode *c = xml_child(n, name);
	xmlChar *t;

	if (!c)
		return -1;
	t = xmlNodeGetContent(c);
	snprintf(buf, len, "%s", t ? (const char *)t : "");
	xmlFree(t);
	return 0;
}

char *xml_dump(xmlDocPtr doc, size_t *len)
{
	xmlChar *mem = NULL;
	char *out = NULL;
	int size = 0;

	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	if (mem && size > 0) {
		out = malloc((size_t)size + 1);
		if (out) {
			memcpy(out, mem, (size_t)size);
			out[size] = '\0';
			*len = (size_t)size;
		}
	}
	xmlFree(mem);
	return out;
}

int xml_parse_iso8601(const char *s, struct timespec *ts)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0;
	long nsec = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
			 &sec, &n) != 6)
		return -1;
	if (s[n] == '.') {
		long scale = 100000000;
		for (const char *p = s + n + 1; *p >= '0' && *p <= '9'; p++) {
			nsec += (*p - '0') * scale;
			scale /= 10;
		}
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	ts->tv_sec = timegm(&tm);
	ts->tv_nsec = nsec;
	return 0;
}
