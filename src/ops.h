/*
 * ops.h — layer 9: the operations behind the wrappers, shared by the
 * wrappers, the replay of what signal handlers did (reenter.c) and the
 * stdio cookie streams (streams.c).  None of them checks for re-entry from
 * a signal handler: the exported wrappers do that first.  The library must
 * be started (lifecycle.h's wb_ready) before any of them is called.
 */
#ifndef WB_OPS_H
#define WB_OPS_H

#include "observe.h"
#include "tagging.h"

#include <sys/uio.h>

/* write/writev on any fd: buffered when tagged, else straight through
   (after landing everything when it may tell another process). */
ssize_t wb_op_write(int fd, const void *buf, size_t n) WB_HIDDEN;
ssize_t wb_op_writev(int fd, const struct iovec *iov, int iovcnt) WB_HIDDEN;
/* The same as wb_write_fn, for wb_write_all_with(). */
ssize_t wb_op_write_fn(int fd, const void *buf, size_t n) WB_HIDDEN;

int wb_op_close(int fd) WB_HIDDEN;
int wb_op_dup3(int oldfd, int newfd, int flags, bool is_dup3) WB_HIDDEN;
int wb_op_close_range(unsigned first, unsigned last, int flags) WB_HIDDEN;
void wb_op_closefrom(int lowfd) WB_HIDDEN;

/* Before a call that must come after fd's buffered bytes and reports a
   background error as its own (pwrite, fsync): lands fd; returns 0, or -1
   with errno set (and SIGPIPE/SIGXFSZ raised) for a pending error.  An
   untagged fd lands what else may name its file (all: everything). */
int wb_op_land_fd_reporting(int fd, bool all_if_untagged) WB_HIDDEN;

ssize_t wb_op_read(int fd, void *buf, size_t n) WB_HIDDEN;
off64_t wb_op_lseek64(int fd, off64_t off, int whence) WB_HIDDEN;

#endif
