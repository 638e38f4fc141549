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
#include "fdtab.h"
#include "lifecycle.h"
#include "observe.h"
#include "ops.h"
#include "real.h"
#include "reenter.h"

#include <errno.h>
#include <poll.h>
#include <sys/select.h>

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

/* ---- waiting for descriptors ---------------------------------------------------
 *
 * With --pipes, a pipe among the fds waited for lands first (either end:
 * the read end of a pipe this process buffers is the same inode), so its
 * readiness is the plain run's: a buffered write end looks emptier than it
 * is, its read end emptier too.  Without --pipes only regular files are
 * tagged, and a regular file is always ready: a tagged fd still lands, an
 * untagged one holds nothing of ours.  Nothing pending: one atomic load. */
static void land_waited(int fd)
{
    if (wb_cfg.pipes || wb_is_file(wb_fdtab_get(fd)))
        wb_observe_fd(fd);
}

static void land_polled(const struct pollfd *fds, nfds_t n)
{
    if (!wb_anything_pending() || !fds)
        return;
    for (nfds_t i = 0; i < n; i++)
        if (fds[i].fd >= 0)
            land_waited(fds[i].fd);
}

static void land_selected(int nfds, const fd_set *r, const fd_set *w, const fd_set *x)
{
    if (!wb_anything_pending())
        return;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
        if ((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) || (x && FD_ISSET(fd, x)))
            land_waited(fd);
}

/* Some glibc releases declare poll's array write-only, so gcc takes our reading of fds[i].fd for a read of uninitialized
   memory: the program filled it, as poll requires. */
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
WB_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    land_polled(fds, n);
    return REAL(poll)(fds, n, timeout);
}
WB_EXPORT int __poll(struct pollfd *fds, nfds_t n, int timeout)
{
    land_polled(fds, n);
    return REAL(__poll)(fds, n, timeout);
}
WB_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    land_polled(fds, n);
    return REAL(__poll_chk)(fds, n, timeout, fdslen);
}
WB_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                    const sigset_t *mask)
{
    land_polled(fds, n);
    return REAL(ppoll)(fds, n, timeout, mask);
}
WB_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                          const sigset_t *mask, size_t fdslen)
{
    land_polled(fds, n);
    return REAL(__ppoll_chk)(fds, n, timeout, mask, fdslen);
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
WB_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *timeout)
{
    land_selected(nfds, r, w, x);
    return REAL(select)(nfds, r, w, x, timeout);
}
WB_EXPORT int __select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *timeout)
{
    land_selected(nfds, r, w, x);
    return REAL(__select)(nfds, r, w, x, timeout);
}
WB_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *timeout,
                      const sigset_t *mask)
{
    land_selected(nfds, r, w, x);
    return REAL(pselect)(nfds, r, w, x, timeout, mask);
}

/* glibc's own names for the same functions, exported too (a program or a
   library linked against them calls these): the same wrappers. */
WB_EXPORT ssize_t __write(int fd, const void *buf, size_t n) __attribute__((alias("write")));
WB_EXPORT ssize_t __pwrite64(int fd, const void *buf, size_t n, off64_t off)
    __attribute__((alias("pwrite64")));
