/*
 * parallel_dirops: let the kernel run lookups and readdirs of one
 * directory in parallel, on a libfuse that forgets to ask for it.
 *
 * libfuse before 3.17 (Debian 12 ships 3.14) puts FUSE_CAP_PARALLEL_DIROPS
 * in conn->want but never sends FUSE_PARALLEL_DIROPS in its INIT reply
 * (fixed upstream by "Pass FUSE_PARALLEL_DIROPS to kernel", libfuse
 * #861).  The kernel then holds a directory's inode mutex across every
 * LOOKUP and READDIR in it: callers in one directory, the mount's root
 * included, queue behind each other.  Behind a store that does not
 * answer, N callers wait N deadlines in turn, where each should wait one.
 *
 * libfuse sends the INIT reply with writev(2) right after op_init
 * returns, on the same thread.  op_init arms parallel_dirops_arm(); this
 * executable's writev(), which stands in for libc's for every library the
 * daemon loads, adds the flag to that one reply and to nothing else.
 */
#include <linux/fuse.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "parallel_dirops.h"

/* struct fuse_init_out is 64 bytes today; room for it to grow */
enum { INIT_OUT_MAX = 256 };

static __thread int init_reply_due;

void parallel_dirops_arm(void)
{
	init_reply_due = 1;
}

/* IOV is a successful INIT reply: a header, then a fuse_init_out of
 * protocol 7.x that holds at least its flags. */
static int is_init_reply(const struct iovec *iov, int cnt)
{
	const struct fuse_out_header *h;
	struct fuse_init_out out;

	if (cnt < 2 || iov[0].iov_len != sizeof *h ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, flags) +
				     sizeof out.flags ||
	    iov[1].iov_len > INIT_OUT_MAX)
		return 0;
	h = iov[0].iov_base;
	memcpy(&out, iov[1].iov_base, offsetof(struct fuse_init_out, flags));
	return h->error == 0 && h->len == sizeof *h + iov[1].iov_len &&
	       out.major == FUSE_KERNEL_VERSION;
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (init_reply_due && cnt <= 8 && is_init_reply(iov, cnt)) {
		struct iovec v[8];
		unsigned char out[INIT_OUT_MAX];
		uint32_t flags;
		size_t at = offsetof(struct fuse_init_out, flags);

		init_reply_due = 0;
		memcpy(v, iov, sizeof *v * (size_t)cnt);
		memcpy(out, iov[1].iov_base, iov[1].iov_len);
		memcpy(&flags, out + at, sizeof flags);
		flags |= FUSE_PARALLEL_DIROPS;
		memcpy(out + at, &flags, sizeof flags);
		v[1].iov_base = out;
		return syscall(SYS_writev, fd, v, cnt);
	}
	return syscall(SYS_writev, fd, iov, cnt);
}
