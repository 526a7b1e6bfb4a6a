/* pair: a name and a value, both borrowed: a header, a query parameter. */
#ifndef SCOPEFS_PAIR_H
#define SCOPEFS_PAIR_H

struct http_pair {
	const char *name;
	const char *value;
};

#endif
