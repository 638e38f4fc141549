/*
 * wrap_proc.c — layer 13: other processes: children, new images, the end of this one.
 *
 * Before a child or a new image can look at a file, or another process can
 * be signalled, every pending byte lands (the child would otherwise find
 * the file short, or — after fork — write the parent's bytes a second
 * time).  fork() itself is covered by the pthread_atfork handlers in
 * lifecycle.c; _Fork runs no handlers, so it is wrapped here.
 *
 * vfork: the child borrows the parent's stack, so an ordinary C wrapper
 * cannot return into it.  On x86-64 vfork is a three-instruction stub that
 * lands everything and then jumps to glibc's vfork, leaving no frame of
 * ours behind: the real vfork, its speed and its semantics.  The child
 * shares our memory until it execs or exits, so its _exit must not shut
 * the library down (that is the parent's): _exit tells the two apart by
 * pid.  Elsewhere vfork is served by fork (only the cost differs for a
 * program that uses vfork as POSIX allows).
 *
 * clone(): without CLONE_VM the child runs on a copy of our memory, like a
 * fork child, and gets fork's treatment; with CLONE_VM it shares our
 * memory, and everything lands first.
 *
 * _exit/_Exit/quick_exit: raw write()s were already in the kernel in a
 * plain run, so they land; stdio's unflushed bytes stay unwritten, as
 * without the library (they never reached us).
 */
#include "config.h"
#include "lifecycle.h"
#include "observe.h"
#include "real.h"
#include "stats.h"

#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdlib.h>
#include <ulimit.h>
#include <unistd.h>

WB_EXPORT pid_t _Fork(void)
{
    wb_fork_prepare();
    pid_t pid = REAL(_Fork)();
    int saved = errno;
    if (pid == 0)
        wb_fork_child();
    else
        wb_fork_parent();
    errno = saved;
    return pid;
}

/* Called by the vfork stub with nothing of ours on the stack: lands
   everything, returns where to jump (glibc's vfork). */
__attribute__((used, noinline)) static void *wb_vfork_prepare(void)
{
    int saved = errno;
    if (wb_ready())
        wb_observe_all();
    errno = saved;
    return (void *)REAL(vfork);
}

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl vfork\n"
        ".type vfork, @function\n"
        "vfork:\n"
        "    sub $8, %rsp\n"          /* keep the stack 16-byte aligned for the call */
        "    call wb_vfork_prepare\n"
        "    add $8, %rsp\n"
        "    jmp *%rax\n"             /* glibc's vfork returns to our caller, twice */
        ".size vfork, .-vfork\n"
        ".globl __vfork\n"
        ".set __vfork, vfork\n");
#else
WB_EXPORT pid_t vfork(void)
{
    return REAL(fork)();   /* glibc's fork runs the atfork handlers */
}
WB_EXPORT pid_t __vfork(void) __attribute__((alias("vfork")));
#endif

struct clone_start { int (*fn)(void *); void *arg; };

/* The fork-like child, on its copy of our memory.  When fn returns, glibc
   ends the child's only thread with a bare exit: the process ends with it
   in a plain run, so the library lands and stops its writer first (which
   may have started in the child). */
static int clone_child(void *p)
{
    struct clone_start *start = p;
    wb_fork_child();
    int r = start->fn(start->arg);
    wb_shutdown();
    return r;
}

WB_EXPORT int clone(int (*fn)(void *), void *stack, int flags, void *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    pid_t *ptid = va_arg(ap, pid_t *);
    void *tls = va_arg(ap, void *);
    pid_t *ctid = va_arg(ap, pid_t *);
    va_end(ap);
    wb_ready();
    if (flags & CLONE_VM) {
        wb_observe_all();
        return REAL(clone)(fn, stack, flags, arg, ptid, tls, ctid);
    }
    struct clone_start start = { fn, arg };   /* the child reads its own copy */
    wb_fork_prepare();
    int r = REAL(clone)(clone_child, stack, flags, &start, ptid, tls, ctid);
    int saved = errno;
    wb_fork_parent();
    errno = saved;
    return r;
}

#define ALL_LANDED(call) wb_observe_all(); return REAL(call)

/* WRITEBEHIND_KEEP: the environment the new program gets (config.h).  A
   vfork child's heap is its parent's, and an exec that works would leak
   what it took from it: there, only the stack. */
#define KEPT_ENV(envp)                                                                   \
    struct wb_child_env kept_;                                                           \
    wb_child_env_make(&kept_, (envp), !(wb_cfg.keep && wb_in_vfork_child()))
/* A child: it has its own copy of the environment once the call returns. */
#define SPAWNS(call, envp, ...)                                                          \
    KEPT_ENV(envp);                                                                      \
    wb_observe_all();                                                                    \
    int r_ = REAL(call)(__VA_ARGS__);                                                    \
    wb_child_env_done(&kept_);                                                           \
    return r_
/* A new image: this one's statistics are written before it goes.  An exec
   that returns has failed. */
#define IMAGE_ENDS(call, envp, ...)                                                      \
    KEPT_ENV(envp);                                                                      \
    wb_observe_all();                                                                    \
    if (!wb_in_vfork_child())   /* a vfork child's memory is ours: its exec is not */   \
        wb_stats_before_exec();                                                          \
    int r_ = REAL(call)(__VA_ARGS__);                                                    \
    wb_child_env_done(&kept_);                                                           \
    return r_

WB_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{ SPAWNS(posix_spawn, envp, pid, path, fa, attr, argv, kept_.envp); }
WB_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{ SPAWNS(posix_spawnp, envp, pid, file, fa, attr, argv, kept_.envp); }
/* glibc starts these programs with environ itself. */
WB_EXPORT int pidfd_spawn(int *pidfd, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{ SPAWNS(pidfd_spawn, envp, pidfd, path, fa, attr, argv, kept_.envp); }
WB_EXPORT int pidfd_spawnp(int *pidfd, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{ SPAWNS(pidfd_spawnp, envp, pidfd, file, fa, attr, argv, kept_.envp); }
WB_EXPORT int system(const char *cmd)
{
    wb_stderr_export();
    ALL_LANDED(system)(cmd);
}
WB_EXPORT FILE *popen(const char *cmd, const char *mode)
{
    wb_stderr_export();
    ALL_LANDED(popen)(cmd, mode);
}
WB_EXPORT int daemon(int nochdir, int noclose) { ALL_LANDED(daemon)(nochdir, noclose); }

/* execv and execvp are glibc's execve and execvpe with environ: an environ
   the program cleared counts as an envp that no longer holds the library. */
WB_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{ IMAGE_ENDS(execve, envp, path, argv, kept_.envp); }
WB_EXPORT int execv(const char *path, char *const argv[])
{ IMAGE_ENDS(execve, environ, path, argv, kept_.envp); }
WB_EXPORT int execvp(const char *file, char *const argv[])
{ IMAGE_ENDS(execvpe, environ, file, argv, kept_.envp); }
WB_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{ IMAGE_ENDS(execvpe, envp, file, argv, kept_.envp); }
WB_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{ IMAGE_ENDS(fexecve, envp, fd, argv, kept_.envp); }
WB_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                       int flags)
{ IMAGE_ENDS(execveat, envp, dirfd, path, argv, kept_.envp, flags); }

/* execl* call glibc's internal execve, so they are rebuilt on execv*. */
#define COLLECT_ARGS(first, argv, envp_out)                                              \
    va_list ap;                                                                          \
    size_t argc = 1;                                                                     \
    va_start(ap, first);                                                                 \
    while (va_arg(ap, char *))                                                           \
        argc++;                                                                          \
    va_end(ap);                                                                          \
    char *argv[argc + 1];                                                                \
    argv[0] = (char *)(first);                                                           \
    va_start(ap, first);                                                                 \
    for (size_t i = 1; i <= argc; i++)                                                   \
        argv[i] = va_arg(ap, char *);                                                    \
    envp_out;                                                                            \
    va_end(ap)

WB_EXPORT int execl(const char *path, const char *arg, ...)
{
    COLLECT_ARGS(arg, argv, (void)0);
    IMAGE_ENDS(execve, environ, path, argv, kept_.envp);
}
WB_EXPORT int execlp(const char *file, const char *arg, ...)
{
    COLLECT_ARGS(arg, argv, (void)0);
    IMAGE_ENDS(execvpe, environ, file, argv, kept_.envp);
}
WB_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *const *envp;
    COLLECT_ARGS(arg, argv, envp = va_arg(ap, char *const *));
    IMAGE_ENDS(execve, envp, path, argv, kept_.envp);
}

/* A vfork child shares the parent's memory: the library is the parent's. */
static void shutdown_unless_vfork_child(void)
{
    if (!wb_in_vfork_child())
        wb_shutdown();
}

WB_EXPORT void _exit(int status)
{
    shutdown_unless_vfork_child();
    REAL(_exit)(status);
    __builtin_unreachable();
}
WB_EXPORT void _Exit(int status)
{
    shutdown_unless_vfork_child();
    REAL(_Exit)(status);
    __builtin_unreachable();
}
WB_EXPORT void quick_exit(int status)
{
    shutdown_unless_vfork_child();
    REAL(quick_exit)(status);
    __builtin_unreachable();
}

/* ---- calls that need a lone thread, or change what the writer counts against ---
 *
 * unshare(CLONE_NEWUSER) and setns into a user or mount namespace fail
 * with EINVAL in a multi-threaded process; unshare(CLONE_FILES) would leave
 * the writer on the old fd table; a seccomp filter may forbid the calls the
 * library makes; the writer is a task RLIMIT_NPROC counts, and its stack is
 * address space RLIMIT_AS counts.  So before each: everything lands and the
 * writer is stopped (lifecycle.c); after a seccomp filter nothing is
 * buffered any more. */
WB_EXPORT int unshare(int flags) { wb_lone_thread(false); return REAL(unshare)(flags); }
WB_EXPORT int setns(int fd, int nstype) { wb_lone_thread(false); return REAL(setns)(fd, nstype); }
WB_EXPORT int capset(cap_user_header_t h, const cap_user_data_t d)
{ wb_lone_thread(false); return REAL(capset)(h, d); }
WB_EXPORT int setfsuid(uid_t uid) { wb_lone_thread(false); return REAL(setfsuid)(uid); }
WB_EXPORT int setfsgid(gid_t gid) { wb_lone_thread(false); return REAL(setfsgid)(gid); }

/* glibc declares setrlimit's limit nonnull; the kernel answers EFAULT. */
static void limit_changing(int r, const struct rlimit *l)
{
    if (l)
        wb_limit_changing(r, l->rlim_cur);
}
static void limit64_changing(int r, const struct rlimit64 *l)
{
    if (l)
        wb_limit_changing(r, l->rlim_cur);
}
/* A sanitizer runtime sets limits while it initialises, before any
   instrumented code may run (signals.h): until the library has started,
   these pass straight through, uninstrumented. */
WB_EXPORT WB_NOT_INSTRUMENTED int setrlimit(__rlimit_resource_t r, const struct rlimit *l)
{
    if (!WB_NOT_STARTED())
        limit_changing((int)r, l);
    return REAL_EARLY(setrlimit)(r, l);
}
WB_EXPORT WB_NOT_INSTRUMENTED int setrlimit64(__rlimit_resource_t r, const struct rlimit64 *l)
{
    if (!WB_NOT_STARTED())
        limit64_changing((int)r, l);
    return REAL_EARLY(setrlimit64)(r, l);
}
WB_EXPORT WB_NOT_INSTRUMENTED int prlimit(pid_t pid, enum __rlimit_resource r,
                                          const struct rlimit *l, struct rlimit *old)
{
    if (!WB_NOT_STARTED() && (pid == 0 || pid == getpid()))
        limit_changing((int)r, l);
    return REAL_EARLY(prlimit)(pid, r, l, old);
}
WB_EXPORT WB_NOT_INSTRUMENTED int prlimit64(pid_t pid, enum __rlimit_resource r,
                                            const struct rlimit64 *l, struct rlimit64 *old)
{
    if (!WB_NOT_STARTED() && (pid == 0 || pid == getpid()))
        limit64_changing((int)r, l);
    return REAL_EARLY(prlimit64)(pid, r, l, old);
}

/* prctl: a seccomp filter (or strict mode) may forbid what the library
   needs; everything else passes.  Every argument is one register. */
WB_EXPORT WB_NOT_INSTRUMENTED int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a = va_arg(ap, unsigned long), b = va_arg(ap, unsigned long);
    unsigned long c = va_arg(ap, unsigned long), d = va_arg(ap, unsigned long);
    va_end(ap);
    if (option == PR_SET_SECCOMP && !WB_NOT_STARTED())
        wb_lone_thread(true);
    return REAL_EARLY(prctl)(option, a, b, c, d);
}

/* A fork that fails for want of a task slot (RLIMIT_NPROC) would have had
   one without our writer: it is stopped, and the fork tried again. */
WB_EXPORT pid_t fork(void)
{
    pid_t pid = REAL(fork)();
    if (pid < 0 && errno == EAGAIN && wb_state_now() != WB_UNINIT) {
        wb_lone_thread(false);
        pid = REAL(fork)();
    }
    return pid;
}

/* glibc's own names for the same functions, exported too: the same
   wrappers. */
WB_EXPORT pid_t __fork(void) __attribute__((nothrow, alias("fork")));
WB_EXPORT int __clone(int (*fn)(void *), void *stack, int flags, void *arg, ...) __THROW
    __attribute__((alias("clone")));

/* ptrace acts on another process (pokes its memory, resumes it): it may
   look at any file.  The arguments are three words. */
WB_EXPORT long ptrace(enum __ptrace_request request, ...)
{
    va_list ap;
    va_start(ap, request);
    pid_t pid = va_arg(ap, pid_t);
    void *addr = va_arg(ap, void *);
    void *data = va_arg(ap, void *);
    va_end(ap);
    wb_observe_all();
    return REAL(ptrace)(request, pid, addr, data);
}

/* ulimit(UL_SETFSIZE) is setrlimit(RLIMIT_FSIZE) in 512-byte blocks. */
WB_EXPORT long ulimit(int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    long value = cmd == UL_SETFSIZE ? va_arg(ap, long) : 0;
    va_end(ap);
    if (cmd == UL_SETFSIZE && value >= 0)
        wb_limit_changing(RLIMIT_FSIZE, (unsigned long long)value * 512);
    return REAL(ulimit)(cmd, value);
}
