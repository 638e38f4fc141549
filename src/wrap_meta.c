/*
 * wrap_meta.c — calls that look at a file without reading it: sizes and
 * times (stat), durability (fsync), mappings, in-kernel copies, truncation,
 * and names (rename/link publish a file to other processes).
 *
 * Each one lands the relevant bytes first and then makes the real call;
 * fsync/fdatasync also report a background write error, as the kernel
 * reports a failed writeback at fsync.
 */
#include "writebehind.h"

#include <errno.h>

#define OBSERVED(call) wb_observe_fd(fd); return REAL(call)
#define PATH_OBSERVED(dirfd, path, flags, call) wb_observe_path(dirfd, path, flags); return REAL(call)

WB_EXPORT int fstat(int fd, struct stat *st) { OBSERVED(fstat)(fd, st); }
WB_EXPORT int fstat64(int fd, struct stat64 *st) { OBSERVED(fstat64)(fd, st); }
WB_EXPORT int __fxstat(int ver, int fd, struct stat *st) { OBSERVED(__fxstat)(ver, fd, st); }
WB_EXPORT int __fxstat64(int ver, int fd, struct stat64 *st) { OBSERVED(__fxstat64)(ver, fd, st); }

WB_EXPORT int stat(const char *p, struct stat *st) { PATH_OBSERVED(AT_FDCWD, p, 0, stat)(p, st); }
WB_EXPORT int stat64(const char *p, struct stat64 *st)
{ PATH_OBSERVED(AT_FDCWD, p, 0, stat64)(p, st); }
WB_EXPORT int lstat(const char *p, struct stat *st)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, lstat)(p, st); }
WB_EXPORT int lstat64(const char *p, struct stat64 *st)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, lstat64)(p, st); }
WB_EXPORT int __xstat(int v, const char *p, struct stat *st)
{ PATH_OBSERVED(AT_FDCWD, p, 0, __xstat)(v, p, st); }
WB_EXPORT int __xstat64(int v, const char *p, struct stat64 *st)
{ PATH_OBSERVED(AT_FDCWD, p, 0, __xstat64)(v, p, st); }
WB_EXPORT int __lxstat(int v, const char *p, struct stat *st)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, __lxstat)(v, p, st); }
WB_EXPORT int __lxstat64(int v, const char *p, struct stat64 *st)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, __lxstat64)(v, p, st); }

/* fstatat with AT_EMPTY_PATH and "" is fstat on dirfd. */
static void observe_at(int dirfd, const char *p, int flags)
{
    if ((flags & AT_EMPTY_PATH) && p && !*p)
        wb_observe_fd(dirfd);
    else
        wb_observe_path(dirfd, p, flags);
}
WB_EXPORT int fstatat(int d, const char *p, struct stat *st, int fl)
{ observe_at(d, p, fl); return REAL(fstatat)(d, p, st, fl); }
WB_EXPORT int fstatat64(int d, const char *p, struct stat64 *st, int fl)
{ observe_at(d, p, fl); return REAL(fstatat64)(d, p, st, fl); }
WB_EXPORT int __fxstatat(int v, int d, const char *p, struct stat *st, int fl)
{ observe_at(d, p, fl); return REAL(__fxstatat)(v, d, p, st, fl); }
WB_EXPORT int __fxstatat64(int v, int d, const char *p, struct stat64 *st, int fl)
{ observe_at(d, p, fl); return REAL(__fxstatat64)(v, d, p, st, fl); }
WB_EXPORT int statx(int d, const char *p, int fl, unsigned mask, struct statx *st)
{ observe_at(d, p, fl); return REAL(statx)(d, p, fl, mask, st); }
WB_EXPORT int access(const char *p, int mode) { PATH_OBSERVED(AT_FDCWD, p, 0, access)(p, mode); }
WB_EXPORT int faccessat(int d, const char *p, int mode, int fl)
{ observe_at(d, p, fl); return REAL(faccessat)(d, p, mode, fl); }

WB_EXPORT int truncate(const char *p, off_t len) { PATH_OBSERVED(AT_FDCWD, p, 0, truncate)(p, len); }
WB_EXPORT int truncate64(const char *p, off64_t len)
{ PATH_OBSERVED(AT_FDCWD, p, 0, truncate64)(p, len); }

/* Lands fd's bytes and takes a pending background error (0 if none). */
static int drain_and_take_error(int fd)
{
    uintptr_t e = wb_fdtab_get(fd);
    if (!wb_is_file(e)) {
        wb_observe_fd(fd);
        return 0;
    }
    struct wb_file *f = (struct wb_file *)e;
    if (wb_reentered()) {   /* a signal handler: reenter.c */
        wb_land_nowait(f);
        return 0;
    }
    wb_lock(f);
    wb_file_drain_locked(f);
    int err = wb_file_take_error(f);
    wb_unlock(f);
    return err;
}

#define REPORTING(call)                                                                  \
    int err = drain_and_take_error(fd);                                                  \
    if (err) {                                                                           \
        wb_raise_for_error(err);                                                         \
        errno = err;                                                                     \
        return -1;                                                                       \
    }                                                                                    \
    return REAL(call)

WB_EXPORT int ftruncate(int fd, off_t len) { OBSERVED(ftruncate)(fd, len); }
WB_EXPORT int ftruncate64(int fd, off64_t len) { OBSERVED(ftruncate64)(fd, len); }
WB_EXPORT int fsync(int fd) { REPORTING(fsync)(fd); }
WB_EXPORT int fdatasync(int fd) { REPORTING(fdatasync)(fd); }
WB_EXPORT int sync_file_range(int fd, off64_t off, off64_t n, unsigned flags)
{ OBSERVED(sync_file_range)(fd, off, n, flags); }
WB_EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{ OBSERVED(fallocate)(fd, mode, off, len); }
WB_EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{ OBSERVED(posix_fallocate)(fd, off, len); }
WB_EXPORT int syncfs(int fd) { wb_drain_all(); return REAL(syncfs)(fd); }
WB_EXPORT void sync(void) { wb_drain_all(); REAL(sync)(); }

/* A mapping is read with memory loads no wrapper sees, for as long as it
   lives: the file is landed now and never buffered again (fdtab.c). */
static void *mapped(void *r, int fd)
{
    struct stat st;
    int saved = errno;
    if (r != MAP_FAILED && wb_active() && REAL(fstat)(fd, &st) == 0 && S_ISREG(st.st_mode))
        wb_inode_mapped(st.st_dev, st.st_ino);
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

/* In-kernel copies: both ends land first. */
#define BOTH_OBSERVED(a, b) wb_observe_fd(a); wb_observe_fd(b)
WB_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{ BOTH_OBSERVED(out, in); wb_observe_all(); return REAL(sendfile)(out, in, off, n); }
WB_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t n)
{ BOTH_OBSERVED(out, in); wb_observe_all(); return REAL(sendfile64)(out, in, off, n); }
WB_EXPORT ssize_t copy_file_range(int in, off64_t *ioff, int out, off64_t *ooff, size_t n,
                                  unsigned flags)
{ BOTH_OBSERVED(in, out); return REAL(copy_file_range)(in, ioff, out, ooff, n, flags); }
WB_EXPORT ssize_t splice(int in, off64_t *ioff, int out, off64_t *ooff, size_t n, unsigned flags)
{ BOTH_OBSERVED(in, out); wb_observe_all(); return REAL(splice)(in, ioff, out, ooff, n, flags); }

/* Giving a file a name other processes look for publishes it. */
WB_EXPORT int rename(const char *a, const char *b) { wb_observe_all(); return REAL(rename)(a, b); }
WB_EXPORT int renameat(int da, const char *a, int db, const char *b)
{ wb_observe_all(); return REAL(renameat)(da, a, db, b); }
WB_EXPORT int renameat2(int da, const char *a, int db, const char *b, unsigned fl)
{ wb_observe_all(); return REAL(renameat2)(da, a, db, b, fl); }
WB_EXPORT int link(const char *a, const char *b) { wb_observe_all(); return REAL(link)(a, b); }
WB_EXPORT int linkat(int da, const char *a, int db, const char *b, int fl)
{ wb_observe_all(); return REAL(linkat)(da, a, db, b, fl); }
