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
#include <stdarg.h>

#define REPORTING(call) return wb_op_land_fd_reporting(fd, false) ? -1 : REAL(call)

WB_EXPORT int fsync(int fd) { REPORTING(fsync)(fd); }
WB_EXPORT int fdatasync(int fd) { REPORTING(fdatasync)(fd); }

/* A mapping is read with memory loads no wrapper sees, for as long as it
   lives: the file is landed now and never buffered again (tagging.c). */
static void *mapped(void *r, int fd)
{
    struct stat st;
    int saved = errno;
    if (r != MAP_FAILED && wb_ready() && REAL(fstat)(fd, &st) == 0 && S_ISREG(st.st_mode))
        wb_inode_unbuffered(fd, &st);
    errno = saved;
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

/* Every ioctl: FIONREAD counts the bytes, FS_IOC_SETFLAGS may make the
   file immutable; the argument is an int or a pointer, one register. */
WB_EXPORT int ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    wb_observe_fd(fd);
    return REAL(ioctl)(fd, req, arg);
}
