/*
 * real.c — layer 0: resolves the real libc functions, and nothing else.
 *
 * dlsym(RTLD_NEXT) finds the next definition after ours (glibc's).  It may
 * allocate, which is why writebehind never wraps malloc.  Resolution is
 * idempotent, so two threads racing on the first call store the same value.
 *
 * Because every real call goes through this table, the test build
 * (libwritebehind-faults.so, -DWB_FAULT_INJECTION) can make the kernel's
 * answers fail on purpose here, without root and without a second shim
 * library: see the end of this file.
 */
#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#define WB_REAL_DEFINE(fn) __typeof__(fn) *wb_real_##fn;
WB_REAL_LIST(WB_REAL_DEFINE)
#undef WB_REAL_DEFINE

/*
 * Stand-ins for real functions the running glibc does not export
 * (see compat.h).  REAL() falls back on them; they call the real
 * functions or the kernel, never our wrappers.
 *
 * close_range (glibc 2.34) is also what syscall(SYS_close_range) reaches
 * through wrap_syscall.c, so on an older glibc it must still do what the
 * system call does: it *is* the system call (ENOSYS on kernels before 5.9,
 * as plainly).  _Fork keeps the ENOSYS stub: a fork behind glibc's back
 * would leave its process state wrong, and fork may fail.
 *
 * glibc before 2.33 has no fstat, stat, lstat, fstatat symbols (nor their
 * 64 forms): its headers inline them into __fxstat & co, which take the
 * version number those headers define as _STAT_VER.  A build on such a
 * glibc reaches them through those; a build on a later one never runs on
 * an older glibc, and its headers no longer define _STAT_VER.
 */
static int compat_close_range(unsigned int first, unsigned int last, int flags)
{
    return (int)REAL(syscall)(SYS_close_range, first, last, flags);
}

/* No program built on such a glibc calls these two, but one that looks
   them up with dlsym finds our wrappers: make them do the job. */
static void compat_closefrom(int lowfd)
{
    REAL(syscall)(SYS_close_range, lowfd < 0 ? 0U : (unsigned int)lowfd, ~0U, 0);
}

static int compat_pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags)
{
    return (int)REAL(syscall)(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}

#ifdef _STAT_VER
static int compat_fstat(int fd, struct stat *st) { return REAL(__fxstat)(_STAT_VER, fd, st); }
static int compat_fstat64(int fd, struct stat64 *st) { return REAL(__fxstat64)(_STAT_VER, fd, st); }
static int compat_stat(const char *p, struct stat *st) { return REAL(__xstat)(_STAT_VER, p, st); }
static int compat_stat64(const char *p, struct stat64 *st) { return REAL(__xstat64)(_STAT_VER, p, st); }
static int compat_lstat(const char *p, struct stat *st) { return REAL(__lxstat)(_STAT_VER, p, st); }
static int compat_lstat64(const char *p, struct stat64 *st) { return REAL(__lxstat64)(_STAT_VER, p, st); }
static int compat_fstatat(int d, const char *p, struct stat *st, int fl)
{ return REAL(__fxstatat)(_STAT_VER, d, p, st, fl); }
static int compat_fstatat64(int d, const char *p, struct stat64 *st, int fl)
{ return REAL(__fxstatat64)(_STAT_VER, d, p, st, fl); }
#endif

static void *compat_stand_in(const char *name)
{
    static const struct {
        const char *name;
        void *fn;
    } stand_ins[] = {
        { "close_range", (void *)compat_close_range },
        { "closefrom", (void *)compat_closefrom },
        { "pidfd_send_signal", (void *)compat_pidfd_send_signal },
#ifdef _STAT_VER
        { "fstat", (void *)compat_fstat },       { "fstat64", (void *)compat_fstat64 },
        { "stat", (void *)compat_stat },         { "stat64", (void *)compat_stat64 },
        { "lstat", (void *)compat_lstat },       { "lstat64", (void *)compat_lstat64 },
        { "fstatat", (void *)compat_fstatat },   { "fstatat64", (void *)compat_fstatat64 },
#endif
    };
    for (size_t i = 0; i < sizeof stand_ins / sizeof stand_ins[0]; i++)
        if (strcmp(stand_ins[i].name, name) == 0)
            return stand_ins[i].fn;
    return NULL;
}

/* Stand-in for a function this libc lacks: behave like a missing syscall. */
static long wb_real_missing(void)
{
    errno = ENOSYS;
    return -1;
}

#ifdef WB_FAULT_INJECTION
static void *faulty(const char *name, void *real);
#endif

void *wb_real_resolve(void **slot, const char *name)
{
    int saved = errno;
    void *p = WB_NEXT_SYMBOL(name);
    if (!p)
        p = compat_stand_in(name);   /* newer than this glibc: above */
    if (!p)
        p = (void *)wb_real_missing;
#ifdef WB_FAULT_INJECTION
    p = faulty(name, p);
#endif
    __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    errno = saved;
    return p;
}

void wb_real_resolve_all(void)
{
#define WB_REAL_RESOLVE(fn)                                                              \
    if (!wb_real_##fn)                                                                   \
        wb_real_resolve((void **)&wb_real_##fn, #fn);
    WB_REAL_LIST(WB_REAL_RESOLVE)
#undef WB_REAL_RESOLVE
}

#ifdef WB_FAULT_INJECTION
/* WRITEBEHIND_TEST_FAULTS="N:WHAT,N:WHAT..." — the Nth write or writev
   reaching the kernel through this table (counted from 1, over fds 3 and
   up, so stdout and stderr do not shift the count) does WHAT instead:
   an errno name (EINTR, EAGAIN, ENOSPC, EIO, EFBIG, EPIPE: returns -1 with
   it) or "short" (writes half of it, at least one byte). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

static __typeof__(write) *next_write;
static __typeof__(writev) *next_writev;
static _Atomic unsigned long fault_calls;

static const struct { const char *name; int err; } fault_errors[] = {
    { "EINTR", EINTR }, { "EAGAIN", EAGAIN }, { "ENOSPC", ENOSPC },
    { "EIO", EIO },     { "EFBIG", EFBIG },   { "EPIPE", EPIPE },
};

/* The plan, parsed at the first write: up to 64 steps.  A plan this build
   cannot read ends the process (exit 125) instead of testing nothing. */
#define FAULT_STEPS 64
static struct { unsigned long at; int what; } plan[FAULT_STEPS];
static size_t plan_len;
static pthread_once_t plan_once = PTHREAD_ONCE_INIT;

static void plan_refused(const char *text)
{
    static const char msg[] = "writebehind: WRITEBEHIND_TEST_FAULTS is not N:WHAT,... "
                              "(WHAT: short, EINTR, EAGAIN, ENOSPC, EIO, EFBIG, EPIPE): ";
    next_write(2, msg, sizeof msg - 1);
    next_write(2, text, strlen(text));
    next_write(2, "\n", 1);
    _exit(125);
}

static void plan_parse(void)
{
    const char *text = getenv("WRITEBEHIND_TEST_FAULTS");
    for (const char *p = text; p && *p;) {
        char *end;
        unsigned long at = strtoul(p, &end, 10);
        if (end == p || *end != ':' || plan_len == FAULT_STEPS)
            plan_refused(text);
        const char *what = end + 1;
        size_t len = strcspn(what, ",");
        int code = 0;
        if (len == 5 && !strncmp(what, "short", 5))
            code = -1;
        for (size_t i = 0; i < sizeof fault_errors / sizeof *fault_errors; i++)
            if (strlen(fault_errors[i].name) == len && !strncmp(what, fault_errors[i].name, len))
                code = fault_errors[i].err;
        if (!code)
            plan_refused(text);
        plan[plan_len].at = at;
        plan[plan_len++].what = code;
        p = what[len] ? what + len + 1 : what + len;
    }
}

/* What call number n must do: 0 nothing, -1 short, else an errno. */
static int fault_for(unsigned long n)
{
    pthread_once(&plan_once, plan_parse);
    for (size_t i = 0; i < plan_len; i++)
        if (plan[i].at == n)
            return plan[i].what;
    return 0;
}

static ssize_t faulty_write(int fd, const void *buf, size_t n)
{
    int f = fd >= 3 ? fault_for(atomic_fetch_add(&fault_calls, 1) + 1) : 0;
    if (f > 0) {
        errno = f;
        return -1;
    }
    return next_write(fd, buf, f < 0 && n > 1 ? n / 2 : n);
}

static ssize_t faulty_writev(int fd, const struct iovec *iov, int cnt)
{
    int f = fd >= 3 ? fault_for(atomic_fetch_add(&fault_calls, 1) + 1) : 0;
    if (f > 0) {
        errno = f;
        return -1;
    }
    if (f < 0 && cnt > 0)   /* short: the first buffer, or half of it */
        return next_write(fd, iov[0].iov_base, iov[0].iov_len > 1 ? iov[0].iov_len / 2 : iov[0].iov_len);
    return next_writev(fd, iov, cnt);
}

static void *faulty(const char *name, void *real)
{
    if (!strcmp(name, "write")) {
        next_write = real;
        return (void *)faulty_write;
    }
    if (!strcmp(name, "writev")) {
        next_writev = real;
        return (void *)faulty_writev;
    }
    return real;
}
#endif
