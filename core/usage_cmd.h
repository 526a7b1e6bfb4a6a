/* usage_cmd: the command lines of `scopefs usage` and `scopefs gc`. */
#ifndef SCOPEFS_USAGE_CMD_H
#define SCOPEFS_USAGE_CMD_H

/* argv[0] is the command's name ("usage", "gc"); the options and CONFIG
 * follow in any order.  Return the exit code: 0, 1 when a backend failed
 * (the report names it), 2 for a bad command line or configuration. */
int usage_main(int argc, char **argv);
int gc_main(int argc, char **argv);

#endif
