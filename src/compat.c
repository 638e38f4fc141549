/*
 * compat.c — stand-ins for real functions the running glibc does not export
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
#include "real.h"

#include <string.h>

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

void *wb_compat_stand_in(const char *name)
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
