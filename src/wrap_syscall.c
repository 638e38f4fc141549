/*
 * wrap_syscall.c — syscall(2), the door some runtimes use instead of the
 * libc wrappers.
 *
 * libuv (node) closes files with syscall(SYS_close, fd): unseen, the fd's
 * buffered bytes would stay behind while its number is reused — lost, or
 * written into the next file.  So the calls that end or replace an fd go
 * through the same detach as close()/dup2(), and the ones that read,
 * write, position or sync an fd land its bytes first; every other number
 * passes straight through.  The raw call itself is still made: its result
 * and errno are the kernel's.
 */
#include "writebehind.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/syscall.h>

static long next_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
    static long (*real_fn)(long, ...);
    if (!real_fn)
        real_fn = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
    return real_fn(nr, a, b, c, d, e, f);
}

/* The fd is replaced or closed by the raw call. */
static long detached(int fd, long nr, long a, long b, long c, long d, long e, long f)
{
    if (wb_reentered()) {   /* from a signal handler: replayed later (reenter.c) */
        if (nr == SYS_close)
            return wb_reentered_close(fd);
        return wb_reentered_dup3((int)a, fd, nr == SYS_dup3 ? (int)c : 0, nr == SYS_dup3);
    }
    struct wb_file *file = wb_fd_detach_begin(fd);
    long r = next_syscall(nr, a, b, c, d, e, f);
    int saved = errno;
    wb_fd_detach_end(fd, file);
    errno = saved;
    return r;
}

/* Reads six arguments whatever the call takes, as glibc's syscall() does
   (the sixth is on the caller's stack): AddressSanitizer would call that an
   underflow of the caller's frame. */
WB_EXPORT __attribute__((no_sanitize("address"))) long syscall(long nr, ...)
{
    va_list ap;
    va_start(ap, nr);
    long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
    long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
    va_end(ap);

    switch (nr) {
    case SYS_close:
        return detached((int)a, nr, a, b, c, d, e, f);
    case SYS_dup2:
    case SYS_dup3:
        if (a == b)
            break;
        {
            long r = detached((int)b, nr, a, b, c, d, e, f);
            if (r >= 0)
                wb_fd_dup((int)a, (int)b);
            return r;
        }
    case SYS_close_range:
        if (!((unsigned)c & CLOSE_RANGE_CLOEXEC)) {
            /* Through the wrapper: it detaches every fd in the range. */
            return close_range((unsigned)a, (unsigned)b, (int)c);
        }
        break;
    case SYS_write: case SYS_writev: case SYS_pwrite64: case SYS_pwritev: case SYS_pwritev2:
    case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv: case SYS_preadv2:
    case SYS_lseek: case SYS_fsync: case SYS_fdatasync: case SYS_ftruncate: case SYS_fstat:
    case SYS_sync_file_range: case SYS_fallocate: case SYS_flock: case SYS_mmap:
        if (nr != SYS_mmap)
            wb_observe_fd((int)a);
        else if ((int)e >= 0)
            wb_observe_fd((int)e);
        break;
    case SYS_exit_group:
        wb_shutdown();
        break;
    case SYS_kill: case SYS_tgkill: case SYS_tkill: case SYS_rt_sigqueueinfo:
    case SYS_pidfd_send_signal:   /* glibc before 2.36, and Python, call it this way */
    case SYS_rename: case SYS_renameat: case SYS_renameat2: case SYS_link: case SYS_linkat:
    case SYS_sendto: case SYS_sendmsg: case SYS_execve: case SYS_execveat:
        wb_observe_all();
        break;
    default:
        break;
    }
    return next_syscall(nr, a, b, c, d, e, f);
}
