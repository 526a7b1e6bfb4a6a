/* usage_report: what `scopefs usage` prints (a table for people, JSON
 * with --json), and the number and time formats `scopefs gc` shares. */
#ifndef SCOPEFS_USAGE_REPORT_H
#define SCOPEFS_USAGE_REPORT_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <json-c/json.h>
#include "usage.h"

/* "0", "512", "1.5K", "20.0M", ... (binary units, as ls -h). */
void report_bytes(uint64_t b, char *buf, size_t len);
/* "2026-01-02 03:04:05" in UTC, or "-" when !set. */
void report_time(const struct timespec *t, int set, char *buf, size_t len);
/* RFC 3339 UTC ("2026-01-02T03:04:05Z") as a JSON string, or null. */
struct json_object *report_json_time(const struct timespec *t, int set);
/* The stats as JSON fields of OBJ: objects, dirs, bytes, oldest, newest
 * (and *_unix seconds), untimed. */
void report_json_stats(struct json_object *obj, const struct usage_stats *st);
/* Print OBJ pretty to F, with a newline; frees it. */
void report_json_put(struct json_object *obj, FILE *f);

/* The scopes in SCOPES (bit 1 << scope) that CONFIG mounts. */
void usage_print_table(const struct usage *u, unsigned scopes, FILE *f);
void usage_print_json(const struct usage *u, unsigned scopes, FILE *f);

#endif
