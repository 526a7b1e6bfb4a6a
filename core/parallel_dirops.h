/* parallel_dirops: ask the kernel for parallel lookups and readdirs where
 * libfuse (< 3.17) forgets to (parallel_dirops.c says how). */
#ifndef SCOPEFS_PARALLEL_DIROPS_H
#define SCOPEFS_PARALLEL_DIROPS_H

/* Called from op_init when the kernel offers FUSE_CAP_PARALLEL_DIROPS:
 * the INIT reply this thread sends next asks for it. */
void parallel_dirops_arm(void);

#endif
