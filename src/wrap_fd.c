/*
 * wrap_fd.c — where fds are born, copied and die: the tagging decision.
 *
 * open & co. classify the new fd at once (they know the path, for
 * WRITEBEHIND_PATHS); fds born elsewhere (inherited, socket, pipe, mkstemp)
 * are classified on their first write.  Opening a path first lands any
 * tagged file there (O_TRUNC must not come before bytes written earlier).
 * Before an fd stops naming its description — close, dup2/dup3 onto it,
 * close_range — its bytes land, so a reused fd number can never receive
 * the old file's bytes.  dup'd fds share the wb_file (one ordered buffer).
 */
#include "writebehind.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

static int opened(int fd, const char *path, int flags)
{
    if (fd < 0 || !wb_active())
        return fd;
    if ((flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH)) {
        /* Cannot be tagged; still replaces whatever a close we did not
           see may have left in the table. */
        uintptr_t old = wb_fdtab_get(fd);
        if (wb_is_file(old))
            wb_fd_classify(fd, path, false);
        else
            wb_fdtab_set(fd, WB_FD_PLAIN);
        if (unlikely(wb_cfg.debug))
            wb_debug("fd %d (%s) not tagged: not open for writing", fd, path ? path : "?");
        return fd;
    }
    wb_fd_classify(fd, path, false);
    return fd;
}

#define MODE_ARG(flags)                                                                  \
    mode_t mode = 0;                                                                     \
    if ((flags) & (O_CREAT | __O_TMPFILE)) {                                             \
        va_list ap;                                                                      \
        va_start(ap, flags);                                                             \
        mode = va_arg(ap, mode_t);                                                       \
        va_end(ap);                                                                      \
    }

WB_EXPORT int open(const char *path, int flags, ...)
{
    MODE_ARG(flags);
    wb_observe_path(AT_FDCWD, path, 0);
    return opened(REAL(open)(path, flags, mode), path, flags);
}
WB_EXPORT int open64(const char *path, int flags, ...)
{
    MODE_ARG(flags);
    wb_observe_path(AT_FDCWD, path, 0);
    return opened(REAL(open64)(path, flags, mode), path, flags);
}
WB_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags);
    wb_observe_path(dirfd, path, 0);
    return opened(REAL(openat)(dirfd, path, flags, mode), path, flags);
}
WB_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags);
    wb_observe_path(dirfd, path, 0);
    return opened(REAL(openat64)(dirfd, path, flags, mode), path, flags);
}
WB_EXPORT int creat(const char *path, mode_t mode)
{
    wb_observe_path(AT_FDCWD, path, 0);
    return opened(REAL(creat)(path, mode), path, O_WRONLY);
}
WB_EXPORT int creat64(const char *path, mode_t mode)
{
    wb_observe_path(AT_FDCWD, path, 0);
    return opened(REAL(creat64)(path, mode), path, O_WRONLY);
}
/* _FORTIFY_SOURCE builds call these when open() has no mode argument. */
WB_EXPORT int __open_2(const char *path, int flags)
{
    wb_observe_path(AT_FDCWD, path, 0);
    return opened(REAL(__open_2)(path, flags), path, flags);
}
WB_EXPORT int __open64_2(const char *path, int flags)
{
    wb_observe_path(AT_FDCWD, path, 0);
    return opened(REAL(__open64_2)(path, flags), path, flags);
}
WB_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    wb_observe_path(dirfd, path, 0);
    return opened(REAL(__openat_2)(dirfd, path, flags), path, flags);
}
WB_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    wb_observe_path(dirfd, path, 0);
    return opened(REAL(__openat64_2)(dirfd, path, flags), path, flags);
}

WB_EXPORT int close(int fd)
{
    if (wb_reentered())   /* a signal handler interrupted us inside: reenter.c */
        return wb_reentered_close(fd);
    struct wb_file *f = wb_fd_detach_begin(fd);
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

WB_EXPORT int dup(int oldfd)
{
    int r = REAL(dup)(oldfd);
    if (r >= 0)
        wb_fd_dup(oldfd, r);
    return r;
}

static int dup_onto(int oldfd, int newfd, int flags, bool is_dup3)
{
    if (wb_reentered() && oldfd != newfd && oldfd >= 0 && newfd >= 0)
        return wb_reentered_dup3(oldfd, newfd, flags, is_dup3);
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

WB_EXPORT int dup2(int oldfd, int newfd) { return dup_onto(oldfd, newfd, 0, false); }
WB_EXPORT int dup3(int oldfd, int newfd, int flags) { return dup_onto(oldfd, newfd, flags, true); }

static int fcntl_common(int fd, int cmd, void *arg, bool is64)
{
    int r;
    switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        r = is64 ? REAL(fcntl64)(fd, cmd, arg) : REAL(fcntl)(fd, cmd, arg);
        if (r >= 0) {
            int saved = errno;
            wb_fd_dup(fd, r);
            errno = saved;
        }
        return r;
    case F_SETFL: {
        /* O_APPEND or O_DIRECT may change: land the bytes under the old
           flags, then let the fd be classified again at its next write. */
        struct wb_file *f = wb_file_for_fd(fd);
        wb_observe_fd(fd);
        r = is64 ? REAL(fcntl64)(fd, cmd, arg) : REAL(fcntl)(fd, cmd, arg);
        if (f) {
            int saved = errno;
            wb_file_forget_all_fds(f);
            errno = saved;
        }
        return r;
    }
    case F_SETLK: case F_SETLKW: case F_GETLK:
    case F_OFD_SETLK: case F_OFD_SETLKW: case F_OFD_GETLK:
#if defined(F_SETLK64) && F_SETLK64 != F_SETLK
    case F_SETLK64: case F_SETLKW64: case F_GETLK64:
#endif
        /* Another process may read the file once it holds the lock. */
        wb_observe_fd(fd);
        wb_observe_all();
        break;
    default:
        break;
    }
    return is64 ? REAL(fcntl64)(fd, cmd, arg) : REAL(fcntl)(fd, cmd, arg);
}

/* Every fcntl argument is an int or a pointer; both travel in one register. */
WB_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg, false);
}
WB_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg, true);
}

WB_EXPORT int flock(int fd, int op)
{
    wb_observe_fd(fd);
    wb_observe_all();
    return REAL(flock)(fd, op);
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
    for (size_t i = 0; i < count; i++)
        wb_fd_detach_end(list[i].fd, list[i].f);
    free(list);
}

WB_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    if (flags & CLOSE_RANGE_CLOEXEC)   /* nothing closes now; exec drains */
        return REAL(close_range)(first, last, flags);
    if (wb_reentered())
        return wb_reentered_close_range(first, last, flags);
    size_t n;
    struct detached *list = detach_range(first, last, &n);
    int r = REAL(close_range)(first, last, flags);
    int saved = errno;
    detach_range_end(list, n);
    errno = saved;
    return r;
}

WB_EXPORT void closefrom(int lowfd)
{
    if (wb_reentered() && lowfd >= 0) {
        wb_reentered_close_range((unsigned)lowfd, ~0U, 0);
        return;
    }
    size_t n;
    struct detached *list = lowfd >= 0 ? detach_range((unsigned)lowfd, ~0U, &n) : NULL;
    REAL(closefrom)(lowfd);
    if (list)
        detach_range_end(list, n);
}
