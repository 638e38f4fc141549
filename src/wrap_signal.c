/*
 * wrap_signal.c — dying (or stopping) by a signal without losing what was
 * written, while the program sees exactly the dispositions it set.
 *
 * For each signal whose default action ends the process (or stops it:
 * Ctrl-Z, then another process looks at the file), writebehind installs a
 * handler while the program leaves that default in place.  The handler
 * lands what it safely can, then lets the default action happen with the
 * status of a plain run (same signal, same core dump, same stop signal).
 *
 * The program never sees these handlers.  Every managed signal is in one
 * of three modes:
 *   PROGRAM  the kernel holds the program's own action (a handler, SIG_IGN)
 *   OURS     the program's action is SIG_DFL; the kernel holds our handler;
 *            sigaction reports prog_view, i.e. what the kernel would report
 *            for the program's SIG_DFL (its flags and mask included)
 *   ONESHOT  the program's handler has SA_RESETHAND: the kernel holds it
 *            through a trampoline without SA_RESETHAND that does the reset
 *            itself, to OURS, so the default action that follows still
 *            lands the bytes (the classic crash handler that logs, returns
 *            and faults again; sysv_signal)
 * glibc's signal/sysv_signal/bsd_signal/ssignal/sigset/sigignore/
 * siginterrupt reach the kernel through glibc's internal sigaction, so they
 * are rebuilt here on top of our sigaction.
 *
 * In the handlers nothing may block on a lock the interrupted thread holds:
 * file locks are only tried (with a bounded spin), a flight being written
 * by another thread is waited for with a timeout, buffers are not freed.
 * glibc's own fatal messages (stack smashing, malloc checks) are raw system
 * calls that no wrapper sees; SIGKILL and SIGSTOP cannot be caught: what is
 * unwritten then is at most WRITEBEHIND_FLUSH_MS of output.
 */
#include "writebehind.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

static const int fatal_signals[] = {
    SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ,
    SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS, SIGTRAP, SIGVTALRM, SIGPROF,
    SIGTSTP, SIGTTIN, SIGTTOU,
};

enum { MODE_PROGRAM = 0, MODE_OURS, MODE_ONESHOT };
static _Atomic int mode[NSIG];
static struct sigaction prog_view[NSIG];   /* OURS, ONESHOT: what sigaction reports */
static void (*kernel_restorer)(void);      /* the sa_restorer glibc gives every action, */
static int restorer_flag;                  /* and the SA_RESTORER flag that says so */
static sigset_t interrupting;              /* siginterrupt(sig, 1) was called */
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;

static bool managed(int sig)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (fatal_signals[i] == sig)
            return true;
    return false;
}

/* Dispositions stay managed after exit has begun: a later destructor may
   still ask, and must still be told what it set. */
static bool wb_active_or_ending(void)
{
    wb_active();
    int s = atomic_load_explicit(&wb_state, memory_order_acquire);
    return s == WB_ACTIVE || s == WB_SHUTDOWN;
}

static bool stops(int sig)
{
    return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

static void write_raw(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = REAL(write)(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static void emergency_drain_file(struct wb_file *f, void *arg)
{
    (void)arg;
    if (!__atomic_load_n(&f->pending, __ATOMIC_ACQUIRE))
        return;
    unsigned spins = 0;
    while (!wb_trylock(f))
        if (++spins > 1000000)
            return;   /* probably held by the thread we interrupted */
    for (int tries = 0; f->flight_state == WB_FLIGHT_WRITING && tries < 20; tries++) {
        unsigned seq = atomic_load(&f->flight_seq);
        wb_unlock(f);
        struct timespec ts = { 0, 10 * 1000000 };
        REAL(syscall)(SYS_futex, &f->flight_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
        spins = 0;
        while (!wb_trylock(f))
            if (++spins > 1000000)
                return;
    }
    if (f->flight_state == WB_FLIGHT_WRITING) {
        wb_unlock(f);
        return;   /* the writer is the interrupted thread: cannot order after it */
    }
    if (f->flight_state == WB_FLIGHT_QUEUED) {
        write_raw(f->fd, f->flight, f->flight_len);
        f->flight_state = WB_FLIGHT_NONE;
        f->flight_len = 0;
    }
    if (f->fill_len) {
        write_raw(f->fd, f->fill, f->fill_len);
        f->fill_len = 0;
        f->fill_cap = 0;
    }
    wb_unlock(f);
}

/* Lands what can be landed without blocking; safe in a signal handler. */
void wb_emergency_drain(void) WB_HIDDEN;
void wb_emergency_drain(void)
{
    if (wb_anything_pending())
        wb_files_foreach(emergency_drain_file, NULL);
}

static void set_action_raw(int sig, void (*handler)(int, siginfo_t *, void *), int flags,
                           const sigset_t *mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    if (handler) {
        sa.sa_sigaction = handler;
        sa.sa_flags = flags | SA_SIGINFO;
    } else {
        sa.sa_handler = SIG_DFL;
    }
    if (mask)
        sa.sa_mask = *mask;
    REAL(sigaction)(sig, &sa, NULL);
}

static void resend(int sig)
{
    REAL(syscall)(SYS_tgkill, getpid(), (pid_t)REAL(syscall)(SYS_gettid), sig);
}

static void fatal_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved = errno;
    wb_emergency_drain();
    wb_stats_report_nowait();   /* the wrapper's --stats summary counts this process too */
    set_action_raw(sig, NULL, 0, NULL);
    mode[sig] = MODE_PROGRAM;
    /* Sent again, even for a fault the kernel raised: a trap (int3, a
       seccomp SECCOMP_RET_TRAP) would not happen again on return.  It stays
       pending until we return, then the default action ends the process
       with the status (and core) of a plain run. */
    (void)si;
    resend(sig);
    errno = saved;
}

static void stop_handler(int sig, siginfo_t *si, void *uc);
static void oneshot_trampoline(int sig, siginfo_t *si, void *uc);

/* The handler that stands for the default action of sig. */
static void install_ours_raw(int sig)
{
    set_action_raw(sig, stops(sig) ? stop_handler : fatal_handler, SA_RESTART | SA_ONSTACK, NULL);
}

/* Another process may look at the file while we are stopped: land the bytes,
   then stop by the very signal (a shell reports the same job state), and be
   ready for the next one once continued. */
static void stop_handler(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    int saved = errno;
    wb_emergency_drain();
    set_action_raw(sig, NULL, 0, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    REAL(syscall)(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, _NSIG / 8);
    resend(sig);   /* the process stops here until SIGCONT */
    if (mode[sig] == MODE_OURS)
        install_ours_raw(sig);
    errno = saved;   /* returning restores the signal mask */
}

static void oneshot_trampoline(int sig, siginfo_t *si, void *uc)
{
    struct sigaction prog = prog_view[sig];
    int saved = errno;
    /* What SA_RESETHAND does in the kernel: the handler stays, SIG_DFL is
       reported (flags and mask kept), the next signal gets the default. */
    prog_view[sig].sa_handler = SIG_DFL;
    mode[sig] = MODE_OURS;
    install_ours_raw(sig);
    errno = saved;
    if (prog.sa_flags & SA_SIGINFO)
        prog.sa_sigaction(sig, si, uc);
    else if (prog.sa_handler != SIG_DFL && prog.sa_handler != SIG_IGN)
        prog.sa_handler(sig);
}

/* The flags the kernel keeps (Linux >= 5.11 drops unknown ones, e.g. glibc's
   historical SA_INTERRUPT); glibc adds SA_RESTORER to every action. */
#define KERNEL_SA_FLAGS                                                                   \
    (SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART | SA_NODEFER |    \
     SA_RESETHAND | 0x800 /* SA_EXPOSE_TAGBITS */)

/* What the kernel would report for act once glibc had installed it. */
static struct sigaction kernel_view(const struct sigaction *act)
{
    struct sigaction v = *act;
    v.sa_flags = (act->sa_flags & KERNEL_SA_FLAGS) | restorer_flag;
    v.sa_restorer = kernel_restorer;
    sigdelset(&v.sa_mask, SIGKILL);
    sigdelset(&v.sa_mask, SIGSTOP);
    return v;
}

/* Like glibc's sigaction: the kernel's sigset is 8 bytes, the rest of the
   caller's sa_mask is left as it was. */
static void report(struct sigaction *old, const struct sigaction *v)
{
    old->sa_handler = v->sa_handler;
    old->sa_flags = v->sa_flags;
    old->sa_restorer = v->sa_restorer;
    memcpy(&old->sa_mask, &v->sa_mask, 8);
}

/* sig_lock held.  Puts the program's action act (not NULL) in place. */
static int set_program_action(int sig, const struct sigaction *act)
{
    bool fn = act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
    if (act->sa_handler == SIG_DFL) {
        if (mode[sig] != MODE_OURS)
            install_ours_raw(sig);
        prog_view[sig] = kernel_view(act);
        mode[sig] = MODE_OURS;
        return 0;
    }
    if (fn && (act->sa_flags & SA_RESETHAND)) {
        prog_view[sig] = kernel_view(act);
        mode[sig] = MODE_ONESHOT;
        set_action_raw(sig, oneshot_trampoline, act->sa_flags & ~SA_RESETHAND, &act->sa_mask);
        return 0;
    }
    int r = REAL(sigaction)(sig, act, NULL);
    if (r == 0)
        mode[sig] = MODE_PROGRAM;
    return r;
}

void wb_signals_install(void) WB_HIDDEN;
void wb_signals_install(void)
{
    int saved = errno;
    pthread_mutex_lock(&sig_lock);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++) {
        int sig = fatal_signals[i];
        struct sigaction old;
        if (REAL(sigaction)(sig, NULL, &old) != 0)
            continue;
        if (old.sa_handler == SIG_DFL) {
            install_ours_raw(sig);
            if (!kernel_restorer) {
                struct sigaction mine;
                if (REAL(sigaction)(sig, NULL, &mine) == 0) {
                    kernel_restorer = mine.sa_restorer;
                    restorer_flag = mine.sa_flags & ~(SA_SIGINFO | SA_RESTART | SA_ONSTACK);
                }
            }
            prog_view[sig] = old;   /* exactly what the kernel said */
            mode[sig] = MODE_OURS;
        } else if (old.sa_handler != SIG_IGN && (old.sa_flags & SA_RESETHAND)) {
            prog_view[sig] = old;
            mode[sig] = MODE_ONESHOT;
            set_action_raw(sig, oneshot_trampoline, old.sa_flags & ~SA_RESETHAND, &old.sa_mask);
        }
    }
    pthread_mutex_unlock(&sig_lock);
    errno = saved;
}

/* Sanitizer runtimes call sigaction while they initialise, before an
   instrumented function may run (ThreadSanitizer crashes in its function-
   entry hook): until writebehind has started, sigaction passes through
   without instrumentation and without touching the rest of the library;
   starting adopts whatever is installed by then (wb_signals_install). */
#define WB_NOT_INSTRUMENTED __attribute__((no_sanitize("thread", "address", "undefined")))

WB_NOT_INSTRUMENTED static int sigaction_passthrough(int sig, const struct sigaction *act,
                                                     struct sigaction *old)
{
    static __typeof__(sigaction) *real_fn;
    if (!real_fn)
        real_fn = (__typeof__(sigaction) *)dlsym(RTLD_NEXT, "sigaction");
    return real_fn(sig, act, old);
}

static int sigaction_managed(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig <= 0 || sig >= NSIG || !managed(sig) || !wb_active_or_ending())
        return REAL(sigaction)(sig, act, old);
    pthread_mutex_lock(&sig_lock);
    int r = 0;
    if (old) {
        if (mode[sig] == MODE_PROGRAM)
            r = REAL(sigaction)(sig, NULL, old);
        else
            report(old, &prog_view[sig]);
    }
    if (r == 0 && act)
        r = set_program_action(sig, act);
    int saved = errno;
    pthread_mutex_unlock(&sig_lock);
    errno = saved;
    return r;
}

WB_EXPORT WB_NOT_INSTRUMENTED int sigaction(int sig, const struct sigaction *act,
                                            struct sigaction *old)
{
    if (atomic_load_explicit(&wb_state, memory_order_acquire) == WB_UNINIT)
        return sigaction_passthrough(sig, act, old);
    return sigaction_managed(sig, act, old);
}

/* ---- the older interfaces, as glibc builds them ---------------------------- */

sighandler_t bsd_signal(int, sighandler_t);   /* exported, declared only for XPG4 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static sighandler_t set_simple(int sig, sighandler_t handler, int flags, bool block_sig)
{
    if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = flags;
    sigemptyset(&act.sa_mask);
    if (block_sig)
        sigaddset(&act.sa_mask, sig);
    if (sigaction(sig, &act, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

/* BSD semantics: restart (unless siginterrupt said otherwise), block the
   signal in its handler. */
static sighandler_t bsd_semantics(int sig, sighandler_t handler)
{
    bool intr = sig > 0 && sig < NSIG && sigismember(&interrupting, sig) == 1;
    return set_simple(sig, handler, intr ? 0 : SA_RESTART, true);
}

WB_EXPORT WB_NOT_INSTRUMENTED sighandler_t signal(int sig, sighandler_t handler)
{
    if (atomic_load_explicit(&wb_state, memory_order_acquire) == WB_UNINIT) {
        static __typeof__(signal) *real_fn;
        if (!real_fn)
            real_fn = (__typeof__(signal) *)dlsym(RTLD_NEXT, "signal");
        return real_fn(sig, handler);
    }
    return bsd_semantics(sig, handler);
}
WB_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) { return bsd_semantics(sig, handler); }
WB_EXPORT sighandler_t ssignal(int sig, sighandler_t handler) { return bsd_semantics(sig, handler); }

/* System V semantics: one-shot, not blocked, not restarted. */
WB_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
    return set_simple(sig, handler, SA_RESETHAND | SA_NODEFER | SA_INTERRUPT, false);
}

WB_EXPORT int sigignore(int sig)
{
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = SIG_IGN;
    return sigaction(sig, &act, NULL);
}

WB_EXPORT int siginterrupt(int sig, int interrupt)
{
    struct sigaction act;
    if (sigaction(sig, NULL, &act) < 0)
        return -1;
    pthread_mutex_lock(&sig_lock);
    if (interrupt) {
        sigaddset(&interrupting, sig);
        act.sa_flags &= ~SA_RESTART;
    } else {
        sigdelset(&interrupting, sig);
        act.sa_flags |= SA_RESTART;
    }
    pthread_mutex_unlock(&sig_lock);
    return sigaction(sig, &act, NULL);
}

WB_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
    sigset_t set, oset;
    struct sigaction act, oact;
    if (sig < 1 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigemptyset(&set);
    sigaddset(&set, sig);
    if (disp == SIG_HOLD) {
        if (pthread_sigmask(SIG_BLOCK, &set, &oset))
            return SIG_ERR;
        if (sigismember(&oset, sig))
            return SIG_HOLD;
        if (sigaction(sig, NULL, &oact) < 0)
            return SIG_ERR;
        return oact.sa_handler;
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = disp;
    sigemptyset(&act.sa_mask);
    if (sigaction(sig, &act, &oact) < 0)
        return SIG_ERR;
    if (pthread_sigmask(SIG_UNBLOCK, &set, &oset))
        return SIG_ERR;
    return sigismember(&oset, sig) ? SIG_HOLD : oact.sa_handler;
}
#pragma GCC diagnostic pop

WB_EXPORT void abort(void)
{
    wb_emergency_drain();
    REAL(abort)();
    __builtin_unreachable();
}

void wb_signals_after_fork_child(void) WB_HIDDEN;
void wb_signals_after_fork_child(void)
{
    pthread_mutex_init(&sig_lock, NULL);
}
