/*
 * wrap_fd.c — layer 13: where fds are born, copied and die (the tagging
 * decision itself is in tagging.c).
 *
 * open & co. classify the new fd at once (they know the path, for
 * WRITEBEHIND_PATHS); fds born elsewhere (inherited, socket, pipe, mkstemp)
 * are classified on their first write.  Opening a path first lands any
 * tagged file there (O_TRUNC must not come before bytes written earlier).
 * Before an fd stops naming its description — close, dup2/dup3 onto it,
 * close_range — its bytes land, so a reused fd number can never receive
 * the old file's bytes.  dup'd fds share the wb_file (one ordered buffer).
 */
#include "lifecycle.h"
#include "ops.h"
#include "real.h"
#include "reenter.h"

#include <errno.h>
#include <stdarg.h>

static int opened(int fd, const char *path, int flags)
{
    wb_fd_opened(fd, path, flags, true);
    return fd;
}

/* Opening a path lands a tagged file there first (O_TRUNC must not come
   before bytes written earlier). */
static void before_open(int dirfd, const char *path)
{
    wb_ready();
    wb_observe_path(dirfd, path, 0);
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
    before_open(AT_FDCWD, path);
    return opened(REAL(open)(path, flags, mode), path, flags);
}
WB_EXPORT int open64(const char *path, int flags, ...)
{
    MODE_ARG(flags);
    before_open(AT_FDCWD, path);
    return opened(REAL(open64)(path, flags, mode), path, flags);
}
WB_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags);
    before_open(dirfd, path);
    return opened(REAL(openat)(dirfd, path, flags, mode), path, flags);
}
WB_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    MODE_ARG(flags);
    before_open(dirfd, path);
    return opened(REAL(openat64)(dirfd, path, flags, mode), path, flags);
}
WB_EXPORT int creat(const char *path, mode_t mode)
{
    before_open(AT_FDCWD, path);
    return opened(REAL(creat)(path, mode), path, O_WRONLY);
}
WB_EXPORT int creat64(const char *path, mode_t mode)
{
    before_open(AT_FDCWD, path);
    return opened(REAL(creat64)(path, mode), path, O_WRONLY);
}
/* _FORTIFY_SOURCE builds call these when open() has no mode argument. */
WB_EXPORT int __open_2(const char *path, int flags)
{
    before_open(AT_FDCWD, path);
    return opened(REAL(__open_2)(path, flags), path, flags);
}
WB_EXPORT int __open64_2(const char *path, int flags)
{
    before_open(AT_FDCWD, path);
    return opened(REAL(__open64_2)(path, flags), path, flags);
}
WB_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    before_open(dirfd, path);
    return opened(REAL(__openat_2)(dirfd, path, flags), path, flags);
}
WB_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    before_open(dirfd, path);
    return opened(REAL(__openat64_2)(dirfd, path, flags), path, flags);
}

WB_EXPORT int close(int fd)
{
    if (wb_reentered())   /* a signal handler interrupted us inside: reenter.c */
        return wb_reentered_close(fd);
    return wb_op_close(fd);
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
    return wb_op_dup3(oldfd, newfd, flags, is_dup3);
}

WB_EXPORT int dup2(int oldfd, int newfd) { return dup_onto(oldfd, newfd, 0, false); }
WB_EXPORT int dup3(int oldfd, int newfd, int flags) { return dup_onto(oldfd, newfd, flags, true); }

static int fcntl_common(int fd, int cmd, void *arg, bool is64)
{
    int r;
    wb_ready();
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


WB_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    if (flags & CLOSE_RANGE_UNSHARE)
        wb_lone_thread(false);   /* the writer must not stay on the old fd table */
    if (wb_reentered() && !(flags & CLOSE_RANGE_CLOEXEC))
        return wb_reentered_close_range(first, last, flags);
    return wb_op_close_range(first, last, flags);
}

WB_EXPORT void closefrom(int lowfd)
{
    if (wb_reentered() && lowfd >= 0) {
        wb_reentered_close_range((unsigned)lowfd, ~0U, 0);
        return;
    }
    wb_op_closefrom(lowfd);
}

/* glibc's own names for the same functions, exported too: the same
   wrappers. */
WB_EXPORT int __open(const char *path, int flags, ...) __nonnull((1)) __attribute__((alias("open")));
WB_EXPORT int __open64(const char *path, int flags, ...) __nonnull((1)) __attribute__((alias("open64")));
WB_EXPORT int __close(int fd) __attribute__((alias("close")));
WB_EXPORT int __dup2(int oldfd, int newfd) __THROW __attribute__((alias("dup2")));
WB_EXPORT int __fcntl(int fd, int cmd, ...) __attribute__((alias("fcntl")));
