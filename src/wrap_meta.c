/*
 * wrap_meta.c — layer 13: calls that look at a file without reading it: sizes and
 * times (stat), durability (fsync), mappings, in-kernel copies, truncation,
 * and names (rename/link publish a file to other processes).
 *
 * Each one lands the relevant bytes first and then makes the real call;
 * fsync/fdatasync also report a background write error, as the kernel
 * reports a failed writeback at fsync.
 */
#include "lifecycle.h"
#include "ops.h"
#include "real.h"

#include <errno.h>
#include <stdarg.h>

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

#define REPORTING(call) return wb_op_land_fd_reporting(fd, false) ? -1 : REAL(call)

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
WB_EXPORT int syncfs(int fd) { wb_land_all(); return REAL(syncfs)(fd); }
WB_EXPORT void sync(void) { wb_land_all(); REAL(sync)(); }

/* A mapping is read with memory loads no wrapper sees, for as long as it
   lives: the file is landed now and never buffered again (fdtab.c). */
static void *mapped(void *r, int fd)
{
    struct stat st;
    int saved = errno;
    if (r != MAP_FAILED && wb_ready() && REAL(fstat)(fd, &st) == 0 && S_ISREG(st.st_mode))
        wb_inode_unbuffered(st.st_dev, st.st_ino);
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

/* ---- metadata the program sets or reads after writing ----------------------
 *
 * A time, mode, owner or attribute set through the file must come after
 * the bytes written before it: tar, gzip, xz and cp -p set the times with
 * futimens and then close; a byte landing after that would stamp "now".
 * The kernel strips setuid/setgid bits at each write, so a chmod lands the
 * writes before it and the bits fall exactly where a plain run's fall. */
WB_EXPORT int futimens(int fd, const struct timespec t[2]) { OBSERVED(futimens)(fd, t); }
WB_EXPORT int futimes(int fd, const struct timeval t[2]) { OBSERVED(futimes)(fd, t); }
WB_EXPORT int fchmod(int fd, mode_t mode) { OBSERVED(fchmod)(fd, mode); }
WB_EXPORT int fchown(int fd, uid_t u, gid_t g) { OBSERVED(fchown)(fd, u, g); }
WB_EXPORT int fsetxattr(int fd, const char *n, const void *v, size_t len, int fl)
{ OBSERVED(fsetxattr)(fd, n, v, len, fl); }
WB_EXPORT ssize_t fgetxattr(int fd, const char *n, void *v, size_t len)
{ OBSERVED(fgetxattr)(fd, n, v, len); }
WB_EXPORT ssize_t flistxattr(int fd, char *list, size_t len) { OBSERVED(flistxattr)(fd, list, len); }
WB_EXPORT int fremovexattr(int fd, const char *n) { OBSERVED(fremovexattr)(fd, n); }
WB_EXPORT int posix_fadvise(int fd, off_t off, off_t len, int advice)
{ OBSERVED(posix_fadvise)(fd, off, len, advice); }
WB_EXPORT int posix_fadvise64(int fd, off64_t off, off64_t len, int advice)
{ OBSERVED(posix_fadvise64)(fd, off, len, advice); }
WB_EXPORT ssize_t readahead(int fd, off64_t off, size_t len) { OBSERVED(readahead)(fd, off, len); }
WB_EXPORT int fstatfs(int fd, struct statfs *b) { OBSERVED(fstatfs)(fd, b); }
WB_EXPORT int fstatfs64(int fd, struct statfs64 *b) { OBSERVED(fstatfs64)(fd, b); }
WB_EXPORT int fstatvfs(int fd, struct statvfs *b) { OBSERVED(fstatvfs)(fd, b); }
WB_EXPORT int fstatvfs64(int fd, struct statvfs64 *b) { OBSERVED(fstatvfs64)(fd, b); }

/* lockf is glibc's fcntl through an internal alias: a lock tells other
   processes they may look, and a SEEK_CUR range needs the kernel's offset. */
WB_EXPORT int lockf(int fd, int cmd, off_t len) { wb_observe_all(); OBSERVED(lockf)(fd, cmd, len); }
WB_EXPORT int lockf64(int fd, int cmd, off64_t len)
{ wb_observe_all(); OBSERVED(lockf64)(fd, cmd, len); }

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

/* utimensat(fd, NULL, ...) sets fd's own times (glibc declares the path
   nonnull; the kernel accepts NULL, and so must we). */
static void observe_at_or_fd(int d, const char *p, int fl)
{
    if (p)
        observe_at(d, p, fl);
    else
        wb_observe_fd(d);
}
WB_EXPORT int utimensat(int d, const char *p, const struct timespec t[2], int fl)
{ observe_at_or_fd(d, p, fl); return REAL(utimensat)(d, p, t, fl); }
WB_EXPORT int futimesat(int d, const char *p, const struct timeval t[2])
{ observe_at_or_fd(d, p, 0); return REAL(futimesat)(d, p, t); }
WB_EXPORT int utimes(const char *p, const struct timeval t[2])
{ PATH_OBSERVED(AT_FDCWD, p, 0, utimes)(p, t); }
WB_EXPORT int lutimes(const char *p, const struct timeval t[2])
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, lutimes)(p, t); }
WB_EXPORT int utime(const char *p, const struct utimbuf *t) { PATH_OBSERVED(AT_FDCWD, p, 0, utime)(p, t); }
WB_EXPORT int chmod(const char *p, mode_t m) { PATH_OBSERVED(AT_FDCWD, p, 0, chmod)(p, m); }
WB_EXPORT int fchmodat(int d, const char *p, mode_t m, int fl)
{ observe_at(d, p, fl); return REAL(fchmodat)(d, p, m, fl); }
WB_EXPORT int chown(const char *p, uid_t u, gid_t g) { PATH_OBSERVED(AT_FDCWD, p, 0, chown)(p, u, g); }
WB_EXPORT int lchown(const char *p, uid_t u, gid_t g)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, lchown)(p, u, g); }
WB_EXPORT int fchownat(int d, const char *p, uid_t u, gid_t g, int fl)
{ observe_at(d, p, fl); return REAL(fchownat)(d, p, u, g, fl); }
WB_EXPORT int setxattr(const char *p, const char *n, const void *v, size_t len, int fl)
{ PATH_OBSERVED(AT_FDCWD, p, 0, setxattr)(p, n, v, len, fl); }
WB_EXPORT int lsetxattr(const char *p, const char *n, const void *v, size_t len, int fl)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, lsetxattr)(p, n, v, len, fl); }
WB_EXPORT ssize_t getxattr(const char *p, const char *n, void *v, size_t len)
{ PATH_OBSERVED(AT_FDCWD, p, 0, getxattr)(p, n, v, len); }
WB_EXPORT ssize_t lgetxattr(const char *p, const char *n, void *v, size_t len)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, lgetxattr)(p, n, v, len); }
WB_EXPORT ssize_t listxattr(const char *p, char *list, size_t len)
{ PATH_OBSERVED(AT_FDCWD, p, 0, listxattr)(p, list, len); }
WB_EXPORT ssize_t llistxattr(const char *p, char *list, size_t len)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, llistxattr)(p, list, len); }
WB_EXPORT int removexattr(const char *p, const char *n)
{ PATH_OBSERVED(AT_FDCWD, p, 0, removexattr)(p, n); }
WB_EXPORT int lremovexattr(const char *p, const char *n)
{ PATH_OBSERVED(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW, lremovexattr)(p, n); }
WB_EXPORT int statfs(const char *p, struct statfs *b) { PATH_OBSERVED(AT_FDCWD, p, 0, statfs)(p, b); }
WB_EXPORT int statvfs(const char *p, struct statvfs *b) { PATH_OBSERVED(AT_FDCWD, p, 0, statvfs)(p, b); }
