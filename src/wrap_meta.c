/*
 * wrap_meta.c — layer 13: the calls on a file that need more than a
 * landing (the catalogue's generated wrappers, wrap_catalogue.c, do the
 * plain landings: stat, times, modes, xattrs, renames...).
 *
 * fsync/fdatasync also report a background write error, as the kernel
 * reports a failed writeback at fsync; a mapping makes its file
 * unbuffered for good; ioctl is variadic.
 */
#include "lifecycle.h"
#include "ops.h"
#include "real.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#define REPORTING(call) return wb_op_land_fd_reporting(fd, false) ? -1 : REAL(call)

WB_EXPORT int fsync(int fd) { REPORTING(fsync)(fd); }
WB_EXPORT int fdatasync(int fd) { REPORTING(fdatasync)(fd); }

/* The file behind fd is landed now and never buffered again (tagging.c). */
static void unbuffered_for_good(int fd)
{
    struct stat st;
    int saved = errno;
    if (wb_ready() && REAL(fstat)(fd, &st) == 0 && S_ISREG(st.st_mode))
        wb_inode_unbuffered(fd, &st);
    errno = saved;
}

/* A mapping is read with memory loads no wrapper sees, for as long as it
   lives. */
static void *mapped(void *r, int fd)
{
    if (r != MAP_FAILED)
        unbuffered_for_good(fd);
    return r;
}

WB_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (fd < 0 || (flags & MAP_ANONYMOUS))
        return REAL(mmap)(addr, len, prot, flags, fd, off);
    wb_observe_fd(fd);
    return mapped(REAL(mmap)(addr, len, prot, flags, fd, off), fd);
}
WB_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    if (fd < 0 || (flags & MAP_ANONYMOUS))
        return REAL(mmap64)(addr, len, prot, flags, fd, off);
    wb_observe_fd(fd);
    return mapped(REAL(mmap64)(addr, len, prot, flags, fd, off), fd);
}

/* The requests that only read: the rest may change how the kernel answers
   every later write (FS_IOC_SETFLAGS immutable or append-only, a clone, a
   driver's mode), which only the kernel, write by write, can say. */
static bool ioctl_only_reads(unsigned long req)
{
    switch (req) {
    case FIONREAD: case FS_IOC_GETFLAGS: case FS_IOC_GETVERSION: case FIGETBSZ:
    case FS_IOC_FIEMAP: case FS_IOC_FSGETXATTR: case TCGETS: case TIOCGWINSZ:
    case TIOCGPGRP:
        return true;
    default:
        return false;
    }
}

/* Every ioctl lands the file first (FIONREAD counts its bytes); one that
   may change the file's rules leaves it unbuffered for good.  The argument
   is an int or a pointer, one register. */
WB_EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    wb_observe_fd(fd);
    int r = REAL(ioctl)(fd, req, arg);
    if (r >= 0 && !ioctl_only_reads(req))
        unbuffered_for_good(fd);
    return r;
}

/* Directory walks stat every entry with glibc's internal calls, which no
   wrapper sees: everything lands first, and again each time the program's
   callback returns (it may have written one of the files still to be
   walked).  The callback takes no user pointer: this thread's current one
   is kept, saved and restored around a walk inside a callback. */
#define WALK(name, func_t, st_t, params, args)                                  \
    static __thread func_t name##_callback;                                    \
    static int name##_landing params                                            \
    {                                                                          \
        int r = name##_callback args;                                          \
        int saved = errno;                                                     \
        wb_observe_all();                                                      \
        errno = saved;                                                         \
        return r;                                                              \
    }
WALK(ftw, __ftw_func_t, struct stat, (const char *p, const struct stat *st, int type),
     (p, st, type))
WALK(ftw64, __ftw64_func_t, struct stat64, (const char *p, const struct stat64 *st, int type),
     (p, st, type))
WALK(nftw, __nftw_func_t, struct stat,
     (const char *p, const struct stat *st, int type, struct FTW *at), (p, st, type, at))
WALK(nftw64, __nftw64_func_t, struct stat64,
     (const char *p, const struct stat64 *st, int type, struct FTW *at), (p, st, type, at))

#define WALK_CALL(name, func, ...)                                              \
    do {                                                                       \
        wb_observe_all();                                                      \
        __typeof__(name##_callback) outer = name##_callback;                   \
        name##_callback = func;                                                \
        int r = REAL(name)(__VA_ARGS__);                                       \
        name##_callback = outer;                                               \
        return r;                                                              \
    } while (0)

WB_EXPORT int ftw(const char *dir, __ftw_func_t func, int fds)
{
    WALK_CALL(ftw, func, dir, ftw_landing, fds);
}
WB_EXPORT int ftw64(const char *dir, __ftw64_func_t func, int fds)
{
    WALK_CALL(ftw64, func, dir, ftw64_landing, fds);
}
WB_EXPORT int nftw(const char *dir, __nftw_func_t func, int fds, int flags)
{
    WALK_CALL(nftw, func, dir, nftw_landing, fds, flags);
}
WB_EXPORT int nftw64(const char *dir, __nftw64_func_t func, int fds, int flags)
{
    WALK_CALL(nftw64, func, dir, nftw64_landing, fds, flags);
}
