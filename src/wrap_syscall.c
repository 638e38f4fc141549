/*
 * wrap_syscall.c — layer 13: syscall(2), the door some runtimes use instead of the
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
#include "lifecycle.h"
#include "ops.h"
#include "real.h"
#include "reenter.h"
#include "threads.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static long next_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
    return REAL(syscall)(nr, a, b, c, d, e, f);
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

/* A raw clone that returns in this very function, like fork: without
   CLONE_VM and without a new stack the child runs on a copy of our memory,
   so it gets fork's treatment (everything landed and locked before, the
   child's copies reset, its bytes the parent's).  Anything else shares our
   memory (a thread, or vfork-like): everything lands first, nothing more. */
static long clone_like_fork(long nr, long a, long b, long c, long d, long e, long f,
                            unsigned long flags, bool own_stack)
{
    if ((flags & CLONE_VM) || own_stack) {
        wb_observe_all();
        return next_syscall(nr, a, b, c, d, e, f);
    }
    wb_fork_prepare();
    long r = next_syscall(nr, a, b, c, d, e, f);
    int saved = errno;
    if (r == 0)
        wb_fork_child();
    else
        wb_fork_parent();
    errno = saved;
    return r;
}

/* struct clone_args (linux/sched.h, 5.3+): flags first, stack at 40. */
static long clone3_like_fork(long nr, long a, long b, long c, long d, long e, long f)
{
    const uint64_t *args = (const uint64_t *)a;
    if (!args || (size_t)b < 48)
        return next_syscall(nr, a, b, c, d, e, f);   /* the kernel says EINVAL */
    return clone_like_fork(nr, a, b, c, d, e, f, args[0], args[5] != 0);
}

/* Reads six arguments whatever the call takes, as glibc's syscall() does
   (the sixth is on the caller's stack): AddressSanitizer would call that an
   underflow of the caller's frame.
   Default-deny: a number not listed here lands everything first (one atomic
   load when nothing is buffered); the listed ones do exactly what the libc
   wrapper of the same call does.  One switch, long because it is the list. */
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
        if ((unsigned)c & CLOSE_RANGE_UNSHARE)
            wb_lone_thread(false);   /* the writer must not stay on the old table */
        if (!((unsigned)c & CLOSE_RANGE_CLOEXEC)) {
            /* The same operation as the wrapper: it detaches every fd in
               the range. */
            if (wb_reentered())
                return wb_reentered_close_range((unsigned)a, (unsigned)b, (int)c);
            return wb_op_close_range((unsigned)a, (unsigned)b, (int)c);
        }
        break;
    case SYS_clone:   /* x86-64: flags, newsp, parent_tid, child_tid, tls */
        return clone_like_fork(nr, a, b, c, d, e, f, (unsigned long)a, b != 0);
#ifdef SYS_clone3
    case SYS_clone3:
        return clone3_like_fork(nr, a, b, c, d, e, f);
#endif
    case SYS_fork:
    case SYS_vfork:   /* through syscall() both return here: fork's treatment */
        return clone_like_fork(nr, a, b, c, d, e, f, 0, false);
    case SYS_exit:
        /* One thread ends without glibc seeing it: if it was the program's
           last, the process ends with it, and the library first. */
        wb_threads_left_raw();
        break;
    case SYS_exit_group:
        wb_shutdown();
        break;
    /* the process must be single-threaded, or is sandboxed (wrap_proc.c) */
    case SYS_unshare: case SYS_setns: case SYS_capset: case SYS_setfsuid: case SYS_setfsgid:
        wb_lone_thread(false);
        break;
    case SYS_seccomp:
        wb_lone_thread(true);
        break;
    case SYS_prctl:
        if (a == PR_SET_SECCOMP)
            wb_lone_thread(true);
        break;
    case SYS_setrlimit:
        if (b)
            wb_limit_changing((int)a, ((const struct rlimit *)b)->rlim_cur);
        break;
    case SYS_prlimit64:
        if (d && (a == 0 || a == getpid()))
            wb_limit_changing((int)b, ((const struct rlimit64 *)d)->rlim_cur);
        break;
    /* fd calls: the fd's file lands (and what else names it) */
    case SYS_write: case SYS_writev: case SYS_pwrite64: case SYS_pwritev: case SYS_pwritev2:
    case SYS_read: case SYS_readv: case SYS_pread64: case SYS_preadv: case SYS_preadv2:
    case SYS_lseek: case SYS_fsync: case SYS_fdatasync: case SYS_ftruncate: case SYS_fstat:
    case SYS_sync_file_range: case SYS_fallocate: case SYS_flock: case SYS_fadvise64:
    case SYS_readahead: case SYS_fchmod: case SYS_fchown: case SYS_fgetxattr:
    case SYS_fsetxattr: case SYS_flistxattr: case SYS_fremovexattr: case SYS_ioctl:
    case SYS_fcntl: case SYS_fstatfs: case SYS_getdents64: case SYS_fchdir:
        wb_observe_fd((int)a);
        break;
    case SYS_mmap:
        if ((int)e >= 0 && !((int)d & MAP_ANONYMOUS))
            wb_observe_fd((int)e);
        break;
    /* the harmless: no fd, no path, nobody told, or only private state */
    case SYS_getpid: case SYS_gettid: case SYS_getppid: case SYS_getuid: case SYS_geteuid:
    case SYS_getgid: case SYS_getegid: case SYS_clock_gettime: case SYS_clock_getres:
    case SYS_gettimeofday: case SYS_time: case SYS_getrandom: case SYS_sched_yield:
    case SYS_sched_getaffinity: case SYS_rt_sigprocmask: case SYS_sigaltstack:
    case SYS_munmap: case SYS_mprotect: case SYS_madvise: case SYS_brk: case SYS_mremap:
    case SYS_membarrier: case SYS_set_robust_list: case SYS_get_robust_list:
    case SYS_set_tid_address: case SYS_nanosleep: case SYS_clock_nanosleep:
    case SYS_getcpu: case SYS_getrusage: case SYS_times: case SYS_uname:
    case SYS_memfd_create: case SYS_eventfd2: case SYS_epoll_create1: case SYS_pipe2:
    case SYS_epoll_wait: case SYS_epoll_pwait: case SYS_poll: case SYS_ppoll:
    case SYS_select: case SYS_pselect6: case SYS_getcwd:
#ifdef SYS_rseq
    case SYS_rseq:
#endif
        break;
    case SYS_futex:
        /* Private futexes are this process's own locks (Rust's and Go's
           mutexes, every pthread lock): no one else is told. */
        if (!((int)b & FUTEX_PRIVATE_FLAG))
            wb_observe_all();
        break;
    default:
        wb_observe_all();
        break;
    }
    return next_syscall(nr, a, b, c, d, e, f);
}
