/*
 * run.c — the command as a child of the wrapper, indistinguishable to the
 * shell from the command run directly.
 *
 * Used when the wrapper has something to do after the command ends (the
 * --stats summary, the --check verdict); otherwise the wrapper simply
 * execs.  What a plain run would give is kept:
 *  - the child starts with the dispositions and signal mask the wrapper
 *    started with (handlers are installed only over defaults, and an exec
 *    resets them; ignored signals stay ignored, as nohup set them);
 *  - terminal signals (Ctrl-C, Ctrl-\, a hangup) reach the whole foreground
 *    process group by themselves: the kernel sends them to the child too,
 *    so the wrapper does not send them a second time.  A signal another
 *    process sends (kill, a job scheduler's SIGTERM) is passed on.  Stop signals keep their default: ^Z stops
 *    both, and the shell's fg continues both;
 *  - the exit status is the child's, or the wrapper dies by the child's
 *    signal, so $? (and a shell loop's reaction to SIGINT) is the same.
 *    Only the core file is not repeated: the child's is the one that counts.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2,
                                 SIGALRM, SIGWINCH, SIGCONT };
#define N_FORWARDED (sizeof forwarded / sizeof *forwarded)
static volatile sig_atomic_t child;
static struct sigaction original[N_FORWARDED];
static bool installed[N_FORWARDED];

static void forward(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    /* SI_KERNEL: the terminal sent it to the whole process group, the
       child has it already.  One the child (or we) sent goes nowhere.  A
       kill of the whole process group by another process reaches the
       child twice, which beats not reaching it: a script that kills a
       background wrapper shares its process group. */
    if (si && (si->si_code > 0 || si->si_pid == child || si->si_pid == getpid()))
        return;
    int saved = errno;
    if (child > 0)
        kill(child, sig);
    errno = saved;
}

void forward_signals_to(pid_t pid)
{
    child = pid;
    for (size_t i = 0; i < N_FORWARDED; i++) {
        struct sigaction sa;
        if (installed[i] || sigaction(forwarded[i], NULL, &original[i]) != 0 ||
            original[i].sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = forward;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        installed[i] = sigaction(forwarded[i], &sa, NULL) == 0;
    }
}

void forward_signals_stop(void)
{
    for (size_t i = 0; i < N_FORWARDED; i++)
        if (installed[i]) {
            sigaction(forwarded[i], &original[i], NULL);
            installed[i] = false;
        }
    child = 0;
}

int exec_failure_status(int err)
{
    return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}

int run_command(char **argv, int *exec_err)
{
    /* The child learns of its exec failing, the wrapper through this pipe
       (closed by a successful exec), so a command that exits 127 on its
       own is not mistaken for one that was not found. */
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        cli_die("cannot create a pipe: %s", strerror(errno));
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);   /* no handler runs before child is known */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        cli_die("cannot start the command: %s", strerror(errno));
    if (pid == 0) {
        close(report[0]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        execvp(argv[0], argv);
        int err = errno;
        if (write(report[1], &err, sizeof err) < 0)
            _exit(exec_failure_status(err));
        _exit(exec_failure_status(err));
    }
    close(report[1]);
    forward_signals_to(pid);
    sigprocmask(SIG_SETMASK, &old, NULL);

    int err = 0;
    ssize_t n;
    do
        n = read(report[0], &err, sizeof err);
    while (n < 0 && errno == EINTR);
    close(report[0]);

    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            cli_die("cannot wait for the command: %s", strerror(errno));
    forward_signals_stop();
    if (n == (ssize_t)sizeof err) {
        *exec_err = err;
        return -1;
    }
    return status;
}

_Noreturn void exit_like(int status)
{
    fflush(NULL);
    if (WIFEXITED(status))
        exit(WEXITSTATUS(status));
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* A signal whose default action does not end a process (none that
       ends a child); the shell's convention then. */
    exit(128 + sig);
}
