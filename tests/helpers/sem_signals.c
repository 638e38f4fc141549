/*
 * sem_signals — signals, for tests/signals.bats.
 *
 *   sem_signals die SIGNAL HOW   a child writes (buffered under the library),
 *                                then dies by SIGNAL through HOW; the parent
 *                                prints how it died and what the file holds
 *   sem_signals SCENARIO         the other scenarios below
 *
 * HOW: raise, kill, tgkill, external (another process kills it while it
 * sleeps), fault (the kernel raises it: SIGSEGV, SIGBUS, SIGFPE, SIGILL,
 * SIGTRAP), abort, assert, pipe (SIGPIPE from a write to a pipe nobody
 * reads), timer (SIGALRM/SIGVTALRM/SIGPROF from an interval timer).
 */
#include "sem_common.h"

#include <assert.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/time.h>

static volatile int *shared_flag;
sighandler_t bsd_signal(int, sighandler_t);   /* exported by glibc, declared only for XPG4 */

/* A store to an address that is never mapped. */
static void segfault(void)
{
    static volatile uintptr_t bad = 8;
    *(volatile int *)bad = 1;
}

static void write_some(int fd)
{
    for (int i = 0; i < 100; i++) {
        char rec[32];
        int n = snprintf(rec, sizeof rec, "record %03d\n", i);
        if (write(fd, rec, (size_t)n) != n)
            fail("write");
    }
}

static int sig_by_name(const char *name)
{
    for (int s = 1; s < NSIG; s++) {
        const char *abbrev = sigabbrev_np(s);
        if (abbrev && !strcmp(abbrev, name + (strncmp(name, "SIG", 3) ? 0 : 3)))
            return s;
    }
    fprintf(stderr, "unknown signal %s\n", name);
    exit(2);
}

static void die_in_child(int sig, const char *how)
{
    int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
    write_some(fd);
    out("child wrote 100 records, dies by %s via %s", sigabbrev_np(sig), how);
    if (!strcmp(how, "raise")) {
        raise(sig);
    } else if (!strcmp(how, "kill")) {
        kill(getpid(), sig);
    } else if (!strcmp(how, "tgkill")) {
        tgkill(getpid(), gettid(), sig);
    } else if (!strcmp(how, "external")) {
        *shared_flag = 1;   /* shared memory: invisible to the library */
        for (;;)
            pause();
    } else if (!strcmp(how, "abort")) {
        abort();
    } else if (!strcmp(how, "assert")) {
        assert(how == NULL);
    } else if (!strcmp(how, "pipe")) {
        int p[2];
        if (pipe(p))
            fail("pipe");
        close(p[0]);
        (void)!write(p[1], "x", 1);
    } else if (!strcmp(how, "timer")) {
        struct itimerval it = { { 0, 0 }, { 0, 1000 } };
        setitimer(sig == SIGALRM ? ITIMER_REAL : sig == SIGVTALRM ? ITIMER_VIRTUAL : ITIMER_PROF,
                  &it, NULL);
        for (volatile unsigned long i = 0;; i++)
            ;
    } else if (!strcmp(how, "fault")) {
        if (sig == SIGSEGV) {
            segfault();
        } else if (sig == SIGFPE) {
            /* In assembly: UBSan would report a division by zero in C. */
            __asm__ volatile("xorl %%ecx, %%ecx\n\tcltd\n\tidivl %%ecx" ::: "eax", "ecx", "edx");
        } else if (sig == SIGILL) {
            __builtin_trap();
        } else if (sig == SIGTRAP) {
            __asm__ volatile("int3");
        } else if (sig == SIGBUS) {
            int m = xopen("map", O_RDWR | O_CREAT | O_TRUNC);
            volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, m, 0);
            if (p == MAP_FAILED)
                fail("mmap");
            out("%d", p[0]);   /* beyond the end of an empty file */
        }
    }
    out("still alive after %s", how);
    _exit(99);
}

static const char *const hows[] = { "raise", "kill",   "tgkill", "external", "fault",
                                    "abort", "assert", "pipe",   "timer" };

static bool known_how(const char *how)
{
    for (size_t i = 0; i < sizeof hows / sizeof *hows; i++)
        if (!strcmp(hows[i], how))
            return true;
    return false;
}

static int die(int argc, char **argv)
{
    if (argc != 4 || !known_how(argv[3])) {
        fprintf(stderr, "usage: sem_signals die SIGNAL HOW; HOW:");
        for (size_t i = 0; i < sizeof hows / sizeof *hows; i++)
            fprintf(stderr, " %s", hows[i]);
        fprintf(stderr, "\n");
        return 2;
    }
    int sig = sig_by_name(argv[2]);
    shared_flag = mmap(NULL, sizeof *shared_flag, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid = fork();
    if (pid == 0)
        die_in_child(sig, argv[3]);
    if (!strcmp(argv[3], "external")) {
        for (int i = 0; i < 100000 && !*shared_flag; i++)
            usleep(100);
        kill(pid, sig);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st))
        out("died by %s%s", sigabbrev_np(WTERMSIG(st)), WCOREDUMP(st) ? " (core)" : "");
    else
        out("exited %d", WEXITSTATUS(st));
    out("file has %lld bytes", peek_size("f"));
    return 0;
}

/* ---- what sigaction and friends report ------------------------------------- */

static void h_plain(int sig) { out("handler ran for %s", sigabbrev_np(sig)); }
static void h_info(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    out("siginfo handler ran for %s, si_signo %d", sigabbrev_np(sig), si->si_signo);
}

static const char *kind(const struct sigaction *sa)
{
    if (sa->sa_flags & SA_SIGINFO)
        return sa->sa_sigaction == h_info ? "h_info" : "other siginfo handler";
    return sa->sa_handler == SIG_DFL ? "SIG_DFL" : sa->sa_handler == SIG_IGN ? "SIG_IGN"
         : sa->sa_handler == h_plain ? "h_plain" : "other handler";
}

static void show(const char *label, int sig)
{
    struct sigaction sa;
    memset(&sa, 0x55, sizeof sa);
    if (sigaction(sig, NULL, &sa)) {
        out("%s: sigaction %s", label, res(-1));
        return;
    }
    unsigned long mask = 0;
    for (int s = 1; s < 64; s++)
        if (sigismember(&sa.sa_mask, s))
            mask |= 1UL << s;
    out("%s %s: %s flags=%#x mask=%#lx", label, sigabbrev_np(sig), kind(&sa), (unsigned)sa.sa_flags,
        mask);
}

static const char *handler_name(sighandler_t h)
{
    return h == SIG_DFL ? "SIG_DFL" : h == SIG_IGN ? "SIG_IGN" : h == SIG_ERR ? "SIG_ERR"
         : h == h_plain ? "h_plain" : "other handler";
}

static const int fatal[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1,
                             SIGUSR2, SIGXCPU, SIGXFSZ, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
                             SIGSYS, SIGTRAP, SIGVTALRM, SIGPROF, SIGTSTP, SIGCHLD, SIGWINCH };

static void sc_report(void)
{
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        show("initially", fatal[i]);

    struct sigaction sa = { 0 };
    sa.sa_sigaction = h_info;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaddset(&sa.sa_mask, SIGUSR2);
    struct sigaction old;
    out("install h_info on TERM %s", res(sigaction(SIGTERM, &sa, &old)));
    out("old was %s", kind(&old));
    show("after install", SIGTERM);
    raise(SIGTERM);

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigaddset(&sa.sa_mask, SIGUSR1);
    out("SIG_DFL with flags and mask on TERM %s", res(sigaction(SIGTERM, &sa, &old)));
    out("old was %s", kind(&old));
    show("after SIG_DFL", SIGTERM);

    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    out("SIG_IGN on TERM %s", res(sigaction(SIGTERM, &sa, NULL)));
    show("after SIG_IGN", SIGTERM);
    raise(SIGTERM);
    out("survived an ignored TERM");

    out("signal(INT, h_plain) returned %s", handler_name(signal(SIGINT, h_plain)));
    show("after signal", SIGINT);
    raise(SIGINT);
    out("signal(INT, SIG_DFL) returned %s", handler_name(signal(SIGINT, SIG_DFL)));
    show("after signal SIG_DFL", SIGINT);

    out("sysv_signal(HUP, h_plain) returned %s", handler_name(sysv_signal(SIGHUP, h_plain)));
    show("after sysv_signal", SIGHUP);
    out("sysv_signal(HUP, SIG_DFL) returned %s", handler_name(sysv_signal(SIGHUP, SIG_DFL)));
    out("bsd_signal(QUIT, h_plain) returned %s", handler_name(bsd_signal(SIGQUIT, h_plain)));
    out("bsd_signal(QUIT, SIG_DFL) returned %s", handler_name(bsd_signal(SIGQUIT, SIG_DFL)));
    out("ssignal(USR1, h_plain) returned %s", handler_name(ssignal(SIGUSR1, h_plain)));
    out("ssignal(USR1, SIG_DFL) returned %s", handler_name(ssignal(SIGUSR1, SIG_DFL)));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    out("sigset(USR2, h_plain) returned %s", handler_name(sigset(SIGUSR2, h_plain)));
    out("sigset(USR2, SIG_DFL) returned %s", handler_name(sigset(SIGUSR2, SIG_DFL)));
#pragma GCC diagnostic pop

    out("sigaction(0) %s", res(sigaction(0, NULL, &old)));
    out("sigaction(KILL, h) %s", res(sigaction(SIGKILL, &sa, NULL)));
    out("sigaction(65) %s", res(sigaction(65, NULL, &old)));
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        show("finally", fatal[i]);
}

/* The program's handler runs, and dying by the signal afterwards (handler
   resets to SIG_DFL and re-raises: the classic crash-handler pattern) still
   lands everything. */
static void h_reraise(int sig)
{
    static const char msg[] = "crash handler ran\n";
    int fd = open("f", O_WRONLY | O_APPEND);
    (void)!write(fd, msg, sizeof msg - 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void sc_handler_reraise(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, h_reraise);
        int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
        write_some(fd);
        segfault();
        _exit(99);
    }
    reap("crash handler child", pid);
    peek("end", "f");
}

/* SA_RESETHAND: the kernel puts SIG_DFL back when the handler runs; the
   second signal then kills with the default action. */
static void sc_resethand(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction sa = { 0 };
        sa.sa_handler = h_plain;
        sa.sa_flags = SA_RESETHAND;
        sigaction(SIGTERM, &sa, NULL);
        show("before", SIGTERM);
        int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
        put(fd, "before the first TERM\n");
        raise(SIGTERM);
        show("after the first", SIGTERM);
        put(fd, "between\n");
        raise(SIGTERM);
        put(fd, "after the second TERM (never)\n");
        _exit(99);
    }
    reap("SA_RESETHAND child", pid);
    peek("end", "f");
}

/* sysv_signal is one-shot too (SA_RESETHAND|SA_NODEFER). */
static void sc_sysv_oneshot(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        sysv_signal(SIGINT, h_plain);
        int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
        put(fd, "before the first INT\n");
        raise(SIGINT);
        put(fd, "between\n");
        raise(SIGINT);
        _exit(99);
    }
    reap("sysv_signal child", pid);
    peek("end", "f");
}

/* Ctrl-Z: while the process is stopped, another process looks at the file. */
static void sc_stop(void)
{
    prefill("f", "");
    pid_t pid = fork();
    if (pid == 0) {
        int fd = xopen("f", O_WRONLY);
        put(fd, "written before the stop\n");
        raise(SIGTSTP);
        put(fd, "written after SIGCONT\n");
        _exit(0);
    }
    int st;
    waitpid(pid, &st, WUNTRACED);
    if (WIFSTOPPED(st))
        out("child stopped by %s", sigabbrev_np(WSTOPSIG(st)));
    else
        say_status("child did not stop", st);
    peek("while stopped", "f");
    kill(pid, SIGCONT);
    reap("continued child", pid);
    peek("end", "f");
}

static const struct scenario scenarios[] = { S(report), S(handler_reraise), S(resethand),
                                              S(sysv_oneshot), S(stop) };

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "die"))
        return die(argc, argv);
    return run_scenario(scenarios, sizeof scenarios / sizeof *scenarios, argc, argv);
}
