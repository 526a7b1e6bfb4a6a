/* strbuf: a growing NUL-terminated string for building URLs, headers and
 * signing input.  Allocation failure is sticky: every later append is a
 * no-op and sb_done() reports it once, so callers check in one place. */
#ifndef SCOPEFS_STRBUF_H
#define SCOPEFS_STRBUF_H

#include <stddef.h>

/* Plugin-internal: never exported from a plugin, whatever its flags
 * (the daemon is linked -rdynamic; a clash would bind to the core). */
#pragma GCC visibility push(hidden)

#if defined(__GNUC__)
#define SB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SB_PRINTF(a, b)
#endif

struct strbuf {
	char *s;     /* NULL until the first append */
	size_t len;
	size_t cap;
	int oom;     /* an allocation failed */
};

#define STRBUF_INIT { NULL, 0, 0, 0 }

void sb_addn(struct strbuf *b, const char *s, size_t n);
void sb_add(struct strbuf *b, const char *s);
void sb_addc(struct strbuf *b, char c);
void sb_addf(struct strbuf *b, const char *fmt, ...) SB_PRINTF(2, 3);
/* Append S with every byte but A-Z a-z 0-9 - . _ ~ as %XX (uppercase hex),
 * keeping '/' when keep_slash: the RFC 3986 form AWS SigV4 requires. */
void sb_add_uri_encoded(struct strbuf *b, const char *s, int keep_slash);
/* In place: "%XX" -> the byte, and '+' -> ' ' when plus_is_space (S3's
 * encoding-type=url); anything else, a malformed '%' too, stays. */
void uri_decode(char *s, int plus_is_space);
/* Hand the string to the caller (malloc'd, "" rather than NULL), or NULL
 * after an allocation failure; the buffer is reset either way. */
char *sb_done(struct strbuf *b);
void sb_free(struct strbuf *b);

#pragma GCC visibility pop

#endif
