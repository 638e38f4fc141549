/*
 * wrap_proc.c — other processes: children, new images, the end of this one.
 *
 * Before a child or a new image can look at a file, or another process can
 * be signalled, every pending byte lands (the child would otherwise find
 * the file short, or — after fork — write the parent's bytes a second
 * time).  fork() itself is covered by the pthread_atfork handlers in
 * lifecycle.c; _Fork runs no handlers, so it is wrapped here.
 *
 * vfork: the child borrows the parent's stack, so an ordinary C wrapper
 * cannot return into it.  writebehind serves vfork() with fork(): for every
 * program that uses vfork as POSIX allows (exec or _exit next), only the
 * cost differs.
 *
 * _exit/_Exit/quick_exit: raw write()s were already in the kernel in a
 * plain run, so they land; stdio's unflushed bytes stay unwritten, as
 * without the library (they never reached us).
 */
#include "writebehind.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

void wb_fork_prepare(void) WB_HIDDEN;
void wb_fork_parent(void) WB_HIDDEN;
void wb_fork_child(void) WB_HIDDEN;

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

WB_EXPORT pid_t vfork(void)
{
    return fork();
}

#define ALL_LANDED(call) wb_observe_all(); return REAL(call)
/* A new image: this one's statistics are written before it goes. */
#define IMAGE_ENDS(call) wb_observe_all(); wb_stats_before_exec(); return REAL(call)

WB_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{ ALL_LANDED(posix_spawn)(pid, path, fa, attr, argv, envp); }
WB_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{ ALL_LANDED(posix_spawnp)(pid, file, fa, attr, argv, envp); }
WB_EXPORT int system(const char *cmd) { ALL_LANDED(system)(cmd); }
WB_EXPORT FILE *popen(const char *cmd, const char *mode) { ALL_LANDED(popen)(cmd, mode); }
WB_EXPORT int daemon(int nochdir, int noclose) { ALL_LANDED(daemon)(nochdir, noclose); }

WB_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{ IMAGE_ENDS(execve)(path, argv, envp); }
WB_EXPORT int execv(const char *path, char *const argv[]) { IMAGE_ENDS(execv)(path, argv); }
WB_EXPORT int execvp(const char *file, char *const argv[]) { IMAGE_ENDS(execvp)(file, argv); }
WB_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{ IMAGE_ENDS(execvpe)(file, argv, envp); }
WB_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{ IMAGE_ENDS(fexecve)(fd, argv, envp); }

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
    return execv(path, argv);
}
WB_EXPORT int execlp(const char *file, const char *arg, ...)
{
    COLLECT_ARGS(arg, argv, (void)0);
    return execvp(file, argv);
}
WB_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *const *envp;
    COLLECT_ARGS(arg, argv, envp = va_arg(ap, char *const *));
    return execve(path, argv, envp);
}

WB_EXPORT void _exit(int status)
{
    wb_shutdown();
    REAL(_exit)(status);
    __builtin_unreachable();
}
WB_EXPORT void _Exit(int status)
{
    wb_shutdown();
    REAL(_Exit)(status);
    __builtin_unreachable();
}
WB_EXPORT void quick_exit(int status)
{
    wb_shutdown();
    REAL(quick_exit)(status);
    __builtin_unreachable();
}

/* A signal may tell another process that a file is ready (or end us). */
WB_EXPORT int kill(pid_t pid, int sig) { ALL_LANDED(kill)(pid, sig); }
WB_EXPORT int sigqueue(pid_t pid, int sig, const union sigval val)
{ ALL_LANDED(sigqueue)(pid, sig, val); }
/* glibc's killpg calls its internal kill, which the kill wrapper never sees. */
WB_EXPORT int killpg(pid_t pgrp, int sig) { ALL_LANDED(killpg)(pgrp, sig); }
WB_EXPORT int tgkill(pid_t pid, pid_t tid, int sig) { ALL_LANDED(tgkill)(pid, tid, sig); }
WB_EXPORT int pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned flags)
{ ALL_LANDED(pidfd_send_signal)(pidfd, sig, info, flags); }
