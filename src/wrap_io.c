/*
 * wrap_io.c — layer 13: the data calls: write and its relatives, read and seek.
 *
 * write()/writev() on a tagged fd are the hot path: table lookup, spinlock,
 * "does the fd still map here?", memcpy, unlock.  Everything else falls to
 * the write operation (ops.c).  On an untagged fd the call passes through — after
 * landing all pending bytes when the fd is a pipe, socket or terminal (the
 * program may be telling another process "the file is ready").
 *
 * Positional writes land the file first and report a pending background
 * error; reads, seeks and sends are the catalogue's plain landings
 * (wrap_catalogue.c).
 */
#include "lifecycle.h"
#include "ops.h"
#include "real.h"
#include "reenter.h"

#include <errno.h>

__attribute__((noinline)) static ssize_t write_slow(int fd, const void *buf, size_t n)
{
    wb_ready();
    return wb_op_write(fd, buf, n);
}

__attribute__((noinline)) static ssize_t write_reentered(int fd, const void *buf, size_t n)
{
    struct iovec iov = { (void *)buf, n };
    return wb_reentered_write(fd, &iov, 1);
}

__attribute__((noinline)) static ssize_t replay_then_return(ssize_t r)
{
    wb_replay_deferred();
    return r;
}

/* The hot path: a leaf that either appends or tail-calls write_slow, so the
   common case saves no registers and calls nothing (callgrind: bench/). */
WB_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    if (wb_reentered())   /* a signal handler interrupted us inside: reenter.c */
        return write_reentered(fd, buf, n);
    _Atomic uintptr_t *slot = wb_fdtab_slot(fd);
    if (likely(slot)) {
        uintptr_t e = atomic_load_explicit(slot, memory_order_acquire);
        if (likely(wb_is_file(e) && n <= WB_INLINE_COPY_MAX)) {
            struct wb_file *f = (struct wb_file *)e;
            if (likely(wb_trylock_leaf(f))) {
                /* Re-checked under the lock: a concurrent close() detaches
                   the fd while holding it. */
                size_t len = f->fill_len, end = len + n;
                if (likely(atomic_load_explicit(slot, memory_order_relaxed) == e &&
                           end <= f->fill_cap)) {
                    f->fill_len = end;
                    f->writes++;
                    wb_copy_small(f->fill + len, buf, n);
                    if (wb_unlock_leaf(f))
                        return replay_then_return((ssize_t)n);
                    return (ssize_t)n;
                }
                wb_unlock_leaf(f);   /* a replay is left to write_slow */
            }
        } else if (e == WB_FD_PLAIN && !wb_anything_pending() && likely(wb_real_write)) {
            /* Classified untagged, and nothing is buffered anywhere that
               this write could overtake: straight to the kernel (a tail
               call, so write() stays a leaf). */
            return wb_real_write(fd, buf, n);
        }
    }
    return write_slow(fd, buf, n);
}

WB_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    if (wb_reentered())
        return wb_reentered_write(fd, iov, iovcnt);
    wb_ready();
    return wb_op_writev(fd, iov, iovcnt);
}

/* Positional writes land after the buffered bytes: drain, then the real call
   (a pending background error is reported here as on any write). */
#define POSITIONAL_WRITE(call) return wb_op_land_fd_reporting(fd, true) ? -1 : REAL(call)

WB_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{ POSITIONAL_WRITE(pwrite)(fd, buf, n, off); }
WB_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{ POSITIONAL_WRITE(pwrite64)(fd, buf, n, off); }
WB_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{ POSITIONAL_WRITE(pwritev)(fd, iov, cnt, off); }
WB_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{ POSITIONAL_WRITE(pwritev64)(fd, iov, cnt, off); }
WB_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{ POSITIONAL_WRITE(pwritev2)(fd, iov, cnt, off, flags); }
WB_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{ POSITIONAL_WRITE(pwritev64v2)(fd, iov, cnt, off, flags); }
