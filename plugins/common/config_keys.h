/* config_keys: checked parsing of the values of a plugin's [backend]
 * keys, shared by the HTTP plugins so that the same key means the same
 * thing everywhere.  Each setter returns 0, or -EINVAL (-ENOMEM) after
 * host->set_error with the key, the value and what was expected. */
#ifndef SCOPEFS_CONFIG_KEYS_H
#define SCOPEFS_CONFIG_KEYS_H

#include <stdint.h>
#include <scopefs/plugin.h>

#include "http.h"

#pragma GCC visibility push(hidden)

/* *slot = strdup(value), freeing the old one. */
int ck_str(const struct scopefs_host *h, char **slot, const char *value);
/* http(s)://host[:port] without user, query or fragment; a path (such
 * as an emulator's "/ACCOUNT") only when allow_path.  Trailing '/'s are
 * dropped. */
int ck_url(const struct scopefs_host *h, const char *key, char **slot,
	   const char *value, int allow_path);
/* Seconds, 0 < n <= 3600, into milliseconds. */
int ck_seconds(const struct scopefs_host *h, const char *key, long *ms,
	       const char *value);
int ck_uint(const struct scopefs_host *h, const char *key, unsigned long lo,
	    unsigned long hi, unsigned long *out, const char *value);
int ck_size(const struct scopefs_host *h, const char *key, uint64_t lo,
	    uint64_t hi, uint64_t *out, const char *value);
int ck_bool(const struct scopefs_host *h, const char *key, int *out,
	    const char *value);
/* The base prefix key: normalised ("a//b" -> "a/b/", "" stays ""), no
 * "." or ".." component. */
int ck_prefix(const struct scopefs_host *h, char **slot, const char *value);
/* Letters, digits and the bytes of EXTRA; not empty. */
int ck_name_ok(const char *s, const char *extra);

/* The keys every HTTP plugin has, with the same names and meaning:
 * connect_timeout, timeout (a stall), retries, deadline.  1 when KEY is not one of
 * them, else as the setters. */
int ck_http_key(const struct scopefs_host *h, struct http_config *c,
		const char *key, const char *value);

/* The configuration file holds the secret WHAT: refuse it (-EACCES after
 * set_error) when group or others may read or write it. */
int ck_secret_file(const struct scopefs_host *h, const char *what);
/* The same for any file PATH that holds the secret WHAT (a key file). */
int ck_secret_path(const struct scopefs_host *h, const char *path,
		   const char *what);

/* KEY is "NAME_file" for a NAME of SECRETS (NULL-terminated): the secret
 * NAME is read from the file VALUE (how secret managers and Kubernetes
 * deliver them) into *secret, to be freed with secret_free, and *name
 * points at NAME.  The file must be a regular file that only its owner
 * may read or write (a Kubernetes secret volume: defaultMode 0400); one
 * trailing newline is dropped.  1 when KEY is no such key, else 0, or
 * -errno after set_error. */
int ck_secret_key_file(const struct scopefs_host *h, const char *key,
		       const char *value, const char *const *secrets,
		       const char **name, char **secret);

#pragma GCC visibility pop

#endif
