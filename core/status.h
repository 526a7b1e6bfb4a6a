/* status: `scopefs status CONFIG`, the daemon's metrics as tables. */
#ifndef SCOPEFS_STATUS_H
#define SCOPEFS_STATUS_H

#include <stdio.h>

/* Print the Prometheus text TEXT (from the daemon's /metrics) to F as
 * tables for a person: per mount and store operation, the mounts'
 * caches and budgets, per backend the HTTP statuses and retries. */
void status_print(const char *text, FILE *f);

#endif
