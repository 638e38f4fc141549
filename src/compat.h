/*
 * compat.h — what older glibc and kernel headers lack, in one place.
 *
 * Supported: glibc 2.31 (Debian 11) and later.  One build runs on the glibc
 * it was built on and on every later one.  So the wrappers of functions
 * newer than the build's glibc (_Fork, close_range, closefrom: 2.34;
 * pidfd_send_signal, <sys/pidfd.h>: 2.36; fstat, stat, fstatat... as real
 * symbols: 2.33) are compiled all the same — programs built on a newer glibc
 * call them — and their real functions are only ever reached through REAL()
 * (dlsym), never linked, so the library never requires them.  Where the
 * running glibc lacks one, REAL() takes the stand-in from real.c (the
 * system call, or the older symbol the function replaced) or, for _Fork,
 * a stub that fails with ENOSYS.
 */
#ifndef WRITEBEHIND_COMPAT_H
#define WRITEBEHIND_COMPAT_H

#include <features.h>
/* At -O2 glibc's headers define some functions as extern inline ones:
   <bits/stdio.h> fputc_unlocked, getc_unlocked, putchar...; before 2.33
   <sys/stat.h> fstat, stat, lstat, fstatat.  The library defines them for
   real (our wrappers), which clang rejects after an inline definition (the
   visibility attribute would be dropped): do without glibc's inline
   functions.  This header comes before any glibc header that has them. */
#undef __USE_EXTERN_INLINES

#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>

#if defined __has_include
#if __has_include(<sys/pidfd.h>)
#include <sys/pidfd.h>
#define WB_HAVE_SYS_PIDFD_H 1
#endif
#endif
#ifndef WB_HAVE_SYS_PIDFD_H
int pidfd_send_signal(int, int, siginfo_t *, unsigned int);   /* glibc 2.36 */
#endif

/* Declared by glibc 2.34 (the first three) and 2.30 (tgkill) on; compatible
   redeclarations where the headers have them. */
pid_t _Fork(void);
int close_range(unsigned int, unsigned int, int);
void closefrom(int);
int tgkill(pid_t, pid_t, int);
/* Declared by glibc 2.34 (execveat) and 2.39 (pidfd_spawn*). */
#include <spawn.h>
int execveat(int, const char *, char *const[], char *const[], int);
int pidfd_spawn(int *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                char *const[], char *const[]);
int pidfd_spawnp(int *, const char *, const posix_spawn_file_actions_t *,
                 const posix_spawnattr_t *, char *const[], char *const[]);

/* Kernel headers before 5.1 / 5.9 (the numbers are the same on every
   architecture but alpha since the system call tables were unified). */
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* close_range flags (glibc 2.34 <unistd.h>, kernel 5.9 and 5.11). */
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* p, hidden from the optimiser: glibc 2.41 declares fclose & co __nonnull,
   and gcc 14 warns about (and drops) a NULL test of such an argument. */
#define WB_OPAQUE(p)                                                                     \
    __extension__({                                                                      \
        __typeof__(p) wb_opaque_ = (p);                                                  \
        __asm__("" : "+r"(wb_opaque_));                                                  \
        wb_opaque_;                                                                      \
    })

/* A stand-in for a function the running glibc does not export, or NULL. */

#endif
