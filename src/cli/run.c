/*
 * run.c — the command as a child of the wrapper, indistinguishable to the
 * shell from the command run directly.
 *
 * Used when the wrapper has something to do after the command ends (the
 * --stats summary, the --check verdict); otherwise the wrapper simply
 * execs.  What a plain run would give is kept:
 *  - the child starts with the signal mask and dispositions the wrapper
 *    started with (ignored signals stay ignored, as nohup set them);
 *  - terminal signals (Ctrl-C, Ctrl-\, a hangup) reach the whole foreground
 *    process group by themselves: the kernel sends them to the child too,
 *    so the wrapper does not send them a second time.  A signal another
 *    process sends (kill, a job scheduler's SIGTERM) is passed on.  Stop
 *    signals keep their default: ^Z stops both, and the shell's fg
 *    continues both;
 *  - the exit status is the child's, or the wrapper dies by the child's
 *    signal, so $? (and a shell loop's reaction to SIGINT) is the same.
 *    Only the core file is not repeated: the child's is the one that counts.
 *
 * The wrapper takes its signals synchronously: they are blocked, and one
 * loop waits for them with sigwaitinfo (SIGCHLD included, for the child's
 * changes of state).  No handler runs at an awkward moment, and a signal
 * that comes while the wrapper is busy is not lost.
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

static sigset_t original_mask, waited;
static struct sigaction original_chld;
static bool holding;

void signals_hold(void)
{
    if (holding)
        return;
    sigemptyset(&waited);
    sigaddset(&waited, SIGCHLD);
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) {
        struct sigaction sa;
        /* An ignored signal stays ignored: the child inherits that. */
        if (sigaction(forwarded[i], NULL, &sa) == 0 && sa.sa_handler != SIG_IGN)
            sigaddset(&waited, forwarded[i]);
    }
    /* With SIGCHLD ignored, children are reaped by the kernel and their
       status is lost; the child gets the original disposition back. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, &original_chld);
    sigprocmask(SIG_BLOCK, &waited, &original_mask);
    holding = true;
}

void signals_restore_in_child(void)
{
    sigaction(SIGCHLD, &original_chld, NULL);
    sigprocmask(SIG_SETMASK, &original_mask, NULL);
}

void wait_for_event(pid_t child)
{
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&waited, &si);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            cli_die("cannot wait for signals: %s", strerror(errno));
        }
        if (sig == SIGCHLD)
            return;
        /* si_code > 0 (SI_KERNEL): the terminal sent it to the whole
           process group, the child has it already.  One the child (or we)
           sent goes nowhere.  A kill of the whole process group by another
           process reaches the child twice, which beats not reaching it: a
           script that kills a background wrapper shares its group. */
        if (si.si_code <= 0 && si.si_pid != child && si.si_pid != getpid())
            kill(child, sig);
    }
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
    signals_hold();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        cli_die("cannot start the command: %s", strerror(errno));
    if (pid == 0) {
        close(report[0]);
        signals_restore_in_child();
        execvp(argv[0], argv);
        int err = errno;
        if (write(report[1], &err, sizeof err) < 0)
            _exit(exec_failure_status(err));
        _exit(exec_failure_status(err));
    }
    close(report[1]);

    int err = 0;
    ssize_t n;
    do
        n = read(report[0], &err, sizeof err);
    while (n < 0 && errno == EINTR);
    close(report[0]);

    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            cli_die("cannot wait for the command: %s", strerror(errno));
        if (r == 0)
            wait_for_event(pid);
    }
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
