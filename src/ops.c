/*
 * ops.c — layer 9: write, close, dup and friends, whatever door they came by.
 */
#include "ops.h"

#include "real.h"
#include "state.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>

/* The fd's file if it is (or becomes, on first look) tagged. */
static inline struct wb_file *tagged(int fd, uintptr_t *entry)
{
    uintptr_t e = wb_fdtab_get(fd);
    if (unlikely(e == WB_FD_UNKNOWN))
        e = wb_fd_classify(fd, NULL, true);
    *entry = e;
    return wb_is_file(e) ? (struct wb_file *)e : NULL;
}

/* After the first write of a FRESH fd (passed through): the next one looks
   at it. */
static inline void first_write_made(int fd, uintptr_t e)
{
    if (unlikely(e == WB_FD_FRESH))
        wb_fdtab_cas(fd, WB_FD_FRESH, WB_FD_UNKNOWN);
}

static inline void replay_if_deferred(void)
{
    if (unlikely(wb_tls_deferred) && !wb_tls_busy)   /* left by the hot path */
        wb_replay_hook();
}

ssize_t wb_op_write(int fd, const void *buf, size_t n)
{
    replay_if_deferred();
    for (;;) {
        uintptr_t e;
        struct wb_file *f = tagged(fd, &e);
        if (!f) {
            wb_observe_all();   /* a pipe, socket or terminal may tell someone */
            ssize_t r = REAL(write)(fd, buf, n);
            first_write_made(fd, e);
            return r;
        }
        wb_lock(f);
        if (likely(wb_fdtab_get(fd) == e && wb_file_append_fast(f, buf, n))) {
            wb_unlock(f);
            return (ssize_t)n;
        }
        wb_unlock(f);
        struct iovec iov = { (void *)buf, n };
        ssize_t r = wb_file_write_slow(f, fd, &iov, 1, n);
        if (r != WB_RETRY)
            return r;
    }
}

ssize_t wb_op_write_fn(int fd, const void *buf, size_t n)
{
    return wb_op_write(fd, buf, n);
}

static bool iov_total(const struct iovec *iov, int iovcnt, size_t *total)
{
    size_t sum = 0;
    if (iovcnt < 0 || iovcnt > IOV_MAX)
        return false;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len > SSIZE_MAX - sum)
            return false;
        sum += iov[i].iov_len;
    }
    *total = sum;
    return true;
}

ssize_t wb_op_writev(int fd, const struct iovec *iov, int iovcnt)
{
    replay_if_deferred();
    size_t total;
    for (;;) {
        uintptr_t e;
        struct wb_file *f = tagged(fd, &e);
        if (!f || !iov_total(iov, iovcnt, &total)) {
            /* untagged, or arguments the kernel must judge (EINVAL) */
            if (f)
                wb_observe_fd(fd);
            else
                wb_observe_all();
            ssize_t r = REAL(writev)(fd, iov, iovcnt);
            first_write_made(fd, e);
            return r;
        }
        wb_lock(f);
        /* total 0 takes the slow path: the fill may not exist yet. */
        if (likely(wb_fdtab_get(fd) == e && total && f->fill_len + total <= f->fill_cap)) {
            for (int i = 0; i < iovcnt; i++) {
                __builtin_memcpy(f->fill + f->fill_len, iov[i].iov_base, iov[i].iov_len);
                f->fill_len += iov[i].iov_len;
            }
            f->writes++;
            wb_unlock(f);
            return (ssize_t)total;
        }
        wb_unlock(f);
        ssize_t r = wb_file_write_slow(f, fd, iov, iovcnt, total);
        if (r != WB_RETRY)
            return r;
    }
}

/* Closing the last write end of a pipe or a socket is a message (the
   reader sees EOF and may read the file next): everything lands first. */
static void before_closing_untagged(int fd)
{
    struct stat st;
    int saved = errno;
    if (wb_anything_pending() && REAL(fstat)(fd, &st) == 0 && !S_ISREG(st.st_mode))
        wb_land_all();
    errno = saved;
}

int wb_op_close(int fd)
{
    struct wb_file *f = wb_fd_detach_begin(fd);
    if (!f)
        before_closing_untagged(fd);
    int err = 0;
    if (f) {
        wb_lock(f);
        err = wb_file_take_error(f);
        wb_unlock(f);
    }
    int r = REAL(close)(fd);
    int saved = errno;
    wb_fd_detach_end(fd, f);
    if (err && r == 0) {
        /* Linux releases the fd even when close reports an error; the
           error of a background write is reported here, as NFS does. */
        errno = err;
        return -1;
    }
    errno = saved;
    return r;
}

int wb_op_dup3(int oldfd, int newfd, int flags, bool is_dup3)
{
    if (oldfd == newfd || oldfd < 0 || newfd < 0)   /* no fd changes: let the kernel answer */
        return is_dup3 ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
    struct wb_file *f = wb_fd_detach_begin(newfd);
    int r = is_dup3 ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
    int saved = errno;
    wb_fd_detach_end(newfd, f);
    if (r >= 0)
        wb_fd_dup(oldfd, newfd);
    errno = saved;
    return r;
}

/* close_range/closefrom: every fd in the range that the table knows is
   detached (its bytes land) before the real call; the walk is bounded by the
   highest fd the library has seen, not by the range given. */
struct detached { int fd; struct wb_file *f; };

static struct detached *detach_range(unsigned first, unsigned last, size_t *count)
{
    int max = wb_fd_max_seen();
    *count = 0;
    if (max < 0 || first > (unsigned)max)
        return NULL;
    if (last > (unsigned)max)
        last = (unsigned)max;
    struct detached *list = calloc(last - first + 1, sizeof *list);
    for (unsigned fd = first; list && fd <= last; fd++) {
        if (wb_fdtab_get((int)fd) == WB_FD_UNKNOWN)
            continue;
        list[*count].fd = (int)fd;
        list[*count].f = wb_fd_detach_begin((int)fd);
        (*count)++;
    }
    return list;
}

static void detach_range_end(struct detached *list, size_t count)
{
    int saved = errno;
    for (size_t i = 0; i < count; i++)
        wb_fd_detach_end(list[i].fd, list[i].f);
    free(list);
    errno = saved;
}

int wb_op_close_range(unsigned first, unsigned last, int flags)
{
    if (flags & CLOSE_RANGE_CLOEXEC)   /* nothing closes now; exec lands */
        return REAL(close_range)(first, last, flags);
    size_t n;
    struct detached *list = detach_range(first, last, &n);
    int r = REAL(close_range)(first, last, flags);
    detach_range_end(list, n);
    return r;
}

void wb_op_closefrom(int lowfd)
{
    size_t n = 0;
    struct detached *list = lowfd >= 0 ? detach_range((unsigned)lowfd, ~0U, &n) : NULL;
    REAL(closefrom)(lowfd);
    detach_range_end(list, n);
}

int wb_op_land_fd_reporting(int fd, bool all_if_untagged)
{
    uintptr_t e = wb_fdtab_get(fd);
    if (!wb_is_file(e)) {
        if (all_if_untagged)
            wb_observe_all();
        else
            wb_observe_fd(fd);
        return 0;
    }
    struct wb_file *f = (struct wb_file *)e;
    if (wb_reentered()) {   /* a signal handler: never wait */
        wb_land_nowait(f);
        return 0;
    }
    wb_lock(f);
    wb_file_land_locked(f);
    int err = wb_file_take_error(f);
    wb_unlock(f);
    if (err) {
        wb_raise_for_error(err);
        errno = err;
        return -1;
    }
    return 0;
}

ssize_t wb_op_read(int fd, void *buf, size_t n)
{
    wb_observe_fd(fd);
    return REAL(read)(fd, buf, n);
}

off64_t wb_op_lseek64(int fd, off64_t off, int whence)
{
    wb_observe_fd(fd);
    return REAL(lseek64)(fd, off, whence);
}
