/*
 * real.h — layer 0: the libc functions writebehind wraps, reached through one table.
 *
 * Every wrapper calls the real function as REAL(name)(args).  The pointers are
 * resolved with dlsym(RTLD_NEXT) on first use (wrappers run before our
 * constructor).  A function this glibc does not have resolves to its
 * stand-in in real.c if there is one, else to a stub that fails with
 * ENOSYS, exactly as a missing system call would.  Keeping
 * every real call behind one table also lets tests find, in one place,
 * every system call the library can make.  REAL_EARLY() is for the few
 * wrappers a sanitizer runtime calls while it initialises, before any
 * instrumented code may run.
 */
#ifndef WRITEBEHIND_REAL_H
#define WRITEBEHIND_REAL_H

#include "compat.h"   /* what glibc before 2.36 lacks; first: see there */

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <err.h>
#include <error.h>
#include <ftw.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <poll.h>
#include <sys/select.h>
#include <syslog.h>
#include <ulimit.h>
#include <sys/sem.h>
#include <sys/ptrace.h>
#include <mqueue.h>
#include <utime.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <wchar.h>

/* Symbols glibc exports but whose prototypes the headers hide or lack. */
int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);
int __openat64_2(int, const char *, int);
int capset(cap_user_header_t, const cap_user_data_t);   /* exported; declared by libcap only */
int __poll(struct pollfd *, nfds_t, int);
int __poll_chk(struct pollfd *, nfds_t, int, size_t);   /* declared only when fortified */
int __ppoll_chk(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t);
int __select(int, fd_set *, fd_set *, fd_set *, struct timeval *);
int __fxstat(int, int, struct stat *);
int __fxstat64(int, int, struct stat64 *);
int __xstat(int, const char *, struct stat *);
int __xstat64(int, const char *, struct stat64 *);
int __lxstat(int, const char *, struct stat *);
int __lxstat64(int, const char *, struct stat64 *);
int __fxstatat(int, int, const char *, struct stat *, int);
int __fxstatat64(int, int, const char *, struct stat64 *, int);
int fcntl64(int, int, ...);
int __overflow(FILE *, int);
int __printf_chk(int, const char *, ...);
int __fprintf_chk(FILE *, int, const char *, ...);
int __vprintf_chk(int, const char *, va_list);
int __vfprintf_chk(FILE *, int, const char *, va_list);
int __dprintf_chk(int, int, const char *, ...);
int __vdprintf_chk(int, int, const char *, va_list);
void __assert_fail(const char *, const char *, unsigned, const char *);

int __vfwprintf_chk(FILE *, int, const wchar_t *, va_list);
wint_t __woverflow(FILE *, wint_t);
int __vwprintf_chk(int, const wchar_t *, va_list);

#define WB_REAL_LIST(X)                                                                  \
    /* output */                                                                         \
    X(write) X(writev) X(pwrite) X(pwrite64) X(pwritev) X(pwritev64) X(pwritev2)         \
    X(pwritev64v2) X(send) X(sendto) X(sendmsg)                                          \
    /* input and position */                                                             \
    X(read) X(readv) X(pread) X(pread64) X(preadv) X(preadv64) X(preadv2) X(preadv64v2)  \
    X(lseek) X(lseek64)                                                                  \
    /* descriptors */                                                                    \
    X(open) X(open64) X(openat) X(openat64) X(creat) X(creat64) X(__open_2)              \
    X(__open64_2) X(__openat_2) X(__openat64_2) X(close) X(close_range) X(closefrom)     \
    X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64) X(flock)                                  \
    /* size, metadata, sync, mapping, copies */                                          \
    X(ftruncate) X(ftruncate64) X(truncate) X(truncate64) X(fstat) X(fstat64)            \
    X(__fxstat) X(__fxstat64) X(stat) X(stat64) X(lstat) X(lstat64) X(__xstat)            \
    X(__xstat64) X(__lxstat) X(__lxstat64) X(fstatat) X(fstatat64) X(__fxstatat)         \
    X(__fxstatat64) X(statx) X(access) X(faccessat) X(fsync) X(fdatasync)                \
    X(sync_file_range) X(syncfs) X(sync) X(mmap) X(mmap64) X(sendfile) X(sendfile64)     \
    X(copy_file_range) X(splice) X(posix_fadvise) X(fallocate) X(posix_fallocate)        \
    X(rename) X(renameat) X(renameat2) X(link) X(linkat) X(unlink) X(unlinkat)           \
    X(ioctl)                                                                             \
    /* processes and signals */                                                          \
    X(fork) X(vfork) X(clone) X(_Fork) X(posix_spawn) X(posix_spawnp) X(system) X(popen) X(execve)         \
    X(execv) X(execvp) X(execvpe) X(fexecve) X(daemon) X(_exit) X(_Exit) X(quick_exit)   \
    X(abort) X(kill) X(sigqueue) X(raise) X(sigaction) X(signal) X(pthread_kill)         \
    X(killpg) X(tgkill) X(pidfd_send_signal) X(syscall) X(unshare) X(setns) X(capset) X(setfsuid)  \
    X(setfsgid) X(setrlimit) X(setrlimit64) X(prlimit) X(prlimit64) X(prctl)                                  \
    /* stdio */                                                                          \
    X(fopen) X(fopen64) X(fdopen) X(freopen) X(freopen64) X(fclose) X(fcloseall)         \
    X(tmpfile) X(tmpfile64) X(ftw) X(ftw64) X(nftw) X(nftw64)                            \
    X(vwarn) X(vwarnx) X(verr) X(verrx) X(vsyslog) X(error) X(error_at_line)             \
    X(poll) X(__poll) X(__poll_chk) X(ppoll) X(__ppoll_chk) X(select) X(__select) X(pselect) \
    X(execveat) X(pidfd_spawn) X(pidfd_spawnp) X(ptrace) X(ulimit) X(semctl) X(mq_open) X(sem_open) \
    X(fflush) X(fflush_unlocked) X(fopencookie)                                           \
    /* wide stdio, threads */                                                            \
    X(fwide) X(fputwc) X(putwc) X(fputwc_unlocked) X(putwc_unlocked) X(putwchar)          \
    X(putwchar_unlocked) X(fputws) X(fputws_unlocked) X(vfwprintf) X(vwprintf)            \
    X(__vfwprintf_chk) X(__vwprintf_chk) X(fputc) X(fwrite) X(vprintf) X(vfprintf) X(__vprintf_chk)          \
    X(__vfprintf_chk) X(pthread_create) X(sem_post) X(pthread_cond_signal)                  \
    X(pthread_cond_broadcast) X(pthread_mutex_unlock) X(pthread_rwlock_unlock)  \
    /* what C++ stream buffers call on the FILE they kept (streams.c) */                 \
    X(putc) X(fread) X(getc) X(ungetc) X(fseeko64) X(ftello64) X(fseeko) X(ftello)          \
    /* positions and bulk reads on wrapped streams (streams.c) */                        \
    X(fread_unlocked) X(fseek) X(ftell) X(fgetpos) X(fgetpos64) X(fsetpos) X(fsetpos64)  \
    X(rewind) X(__woverflow)

#define WB_REAL_DECLARE(fn) extern __typeof__(fn) *wb_real_##fn __attribute__((visibility("hidden")));
WB_REAL_LIST(WB_REAL_DECLARE)
#undef WB_REAL_DECLARE

void *wb_real_resolve(void **slot, const char *name) __attribute__((visibility("hidden")));
void wb_real_resolve_all(void) __attribute__((visibility("hidden")));

/* The next definition of name.  glibc before 2.34 keeps the pthread_cond_*
   of the pre-2.3.2 condition variable in libpthread too, and dlsym may
   return that one, which takes our pthread_cond_t for a pointer to one:
   the current version first (x86-64; elsewhere there is one version).  A
   macro, folded at compile time: REAL_EARLY runs before the sanitizers. */
#define WB_NEXT_SYMBOL(name)                                                             \
    (__builtin_strncmp(name, "pthread_cond_", 13) == 0 &&                                \
             dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2")                                        \
         ? dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2")                                          \
         : dlsym(RTLD_NEXT, name))

#define REAL_EARLY(fn)                                                                   \
    ({                                                                                   \
        __typeof__(fn) *early_ = __atomic_load_n(&wb_real_##fn, __ATOMIC_ACQUIRE);        \
        if (!early_) {                                                                   \
            early_ = (__typeof__(fn) *)WB_NEXT_SYMBOL(#fn);                              \
            __atomic_store_n(&wb_real_##fn, early_, __ATOMIC_RELEASE);                   \
        }                                                                                \
        early_;                                                                          \
    })

#define REAL(fn)                                                                         \
    (__builtin_expect(wb_real_##fn != NULL, 1)                                           \
         ? wb_real_##fn                                                                  \
         : (__typeof__(fn) *)wb_real_resolve((void **)&wb_real_##fn, #fn))

#endif
