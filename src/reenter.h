/*
 * reenter.h — layer 10: the calls a signal handler makes while its thread
 * is inside the library.  Writes, closes and dup2s are recorded and
 * replayed in order when the interrupted section ends; the rest land what
 * they can without waiting (land.h's wb_land_nowait).
 */
#ifndef WB_REENTER_H
#define WB_REENTER_H

#include "sys.h"

#include <stdbool.h>
#include <sys/uio.h>

ssize_t wb_reentered_write(int fd, const struct iovec *iov, int iovcnt) WB_HIDDEN;
int wb_reentered_close(int fd) WB_HIDDEN;
int wb_reentered_dup3(int oldfd, int newfd, int flags, bool is_dup3) WB_HIDDEN;
int wb_reentered_close_range(unsigned first, unsigned last, int flags) WB_HIDDEN;
/* What handlers recorded, now (the interrupted section has ended). */
void wb_replay_deferred(void) WB_HIDDEN;
/* The process ends inside a handler: what the handler did goes out now,
   straight to the kernel. */
void wb_replay_deferred_direct(void) WB_HIDDEN;

#endif
