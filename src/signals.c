/*
 * signals.c — layer 11: dying (or stopping) by a signal without losing what was
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
#include "signals.h"

#include "land.h"
#include "real.h"
#include "state.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

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
/* Our handlers go in when the process first holds bytes (a process that
   never buffers one loses nothing to a signal); until then the program's
   sigaction calls go straight to the kernel.  Set under sig_lock. */
static _Atomic bool installed;

static bool managed(int sig)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (fatal_signals[i] == sig)
            return true;
    return false;
}

/* Dispositions stay managed after exit has begun: a later destructor may
   still ask, and must still be told what it set. */
static bool active_or_ending(void)
{
    int s = wb_state_now();
    return s == WB_ACTIVE || s == WB_SHUTDOWN;
}

static bool stops(int sig)
{
    return sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
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


void (*_Atomic wb_signals_dying_hook)(void);

static void fatal_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved = errno;
    wb_land_dying();
    void (*report)(void) = atomic_load_explicit(&wb_signals_dying_hook, memory_order_acquire);
    if (report)
        report();   /* the wrapper's --stats summary counts this process too */
    set_action_raw(sig, NULL, 0, NULL);
    mode[sig] = MODE_PROGRAM;
    /* Sent again, even for a fault the kernel raised: a trap (int3, a
       seccomp SECCOMP_RET_TRAP) would not happen again on return.  It stays
       pending until we return, then the default action ends the process
       with the status (and core) of a plain run. */
    (void)si;
    wb_signal_self(sig);
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
    wb_land_dying();
    set_action_raw(sig, NULL, 0, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    wb_sigmask_raw(SIG_UNBLOCK, &set, NULL);
    wb_signal_self(sig);   /* the process stops here until SIGCONT */
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

/* sig_lock held: what the kernel holds now is the program's. */
static void install_locked(void)
{
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
    atomic_store(&installed, true);
}

bool wb_signals_install(bool wait)
{
    if (atomic_load(&installed))
        return true;
    int saved = errno;
    /* Not waiting: a signal handler may have interrupted the program's
       own sigaction, which holds the lock. */
    bool locked = wait ? pthread_mutex_lock(&sig_lock) == 0 : pthread_mutex_trylock(&sig_lock) == 0;
    if (locked) {
        if (!atomic_load(&installed))
            install_locked();
        pthread_mutex_unlock(&sig_lock);
    }
    errno = saved;
    return locked;
}

WB_NOT_INSTRUMENTED int wb_sigaction_passthrough(int sig, const struct sigaction *act,
                                                 struct sigaction *old)
{
    return REAL_EARLY(sigaction)(sig, act, old);
}

int wb_sigaction_managed(int sig, const struct sigaction *act, struct sigaction *old)
{
    if (sig <= 0 || sig >= NSIG || !managed(sig) || !active_or_ending())
        return REAL(sigaction)(sig, act, old);
    pthread_mutex_lock(&sig_lock);
    if (!atomic_load(&installed)) {
        int r = REAL(sigaction)(sig, act, old), saved = errno;
        pthread_mutex_unlock(&sig_lock);
        errno = saved;
        return r;
    }
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

bool wb_signal_interrupting(int sig)
{
    return sig > 0 && sig < NSIG && sigismember(&interrupting, sig) == 1;
}

void wb_signal_set_interrupting(int sig, bool interrupt)
{
    pthread_mutex_lock(&sig_lock);
    if (interrupt)
        sigaddset(&interrupting, sig);
    else
        sigdelset(&interrupting, sig);
    pthread_mutex_unlock(&sig_lock);
}

void wb_signals_after_fork_child(void)
{
    pthread_mutex_init(&sig_lock, NULL);
}
