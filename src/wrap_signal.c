/*
 * wrap_signal.c — layer 13: sigaction and the older interfaces glibc builds
 * on it, and abort.
 *
 * glibc's signal/sysv_signal/bsd_signal/ssignal/sigset/sigignore/
 * siginterrupt reach the kernel through glibc's internal sigaction, so they
 * are rebuilt here on top of our sigaction (signals.c keeps what the
 * program set and what the kernel holds).
 */
#include "land.h"
#include "lifecycle.h"
#include "real.h"
#include "signals.h"

#include <errno.h>
#include <string.h>

WB_EXPORT WB_NOT_INSTRUMENTED int sigaction(int sig, const struct sigaction *act,
                                            struct sigaction *old)
{
    if (WB_NOT_STARTED())
        return wb_sigaction_passthrough(sig, act, old);
    wb_ready();
    return wb_sigaction_managed(sig, act, old);
}

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
    bool intr = wb_signal_interrupting(sig);
    return set_simple(sig, handler, intr ? 0 : SA_RESTART, true);
}

WB_EXPORT WB_NOT_INSTRUMENTED sighandler_t signal(int sig, sighandler_t handler)
{
    if (WB_NOT_STARTED())   /* see wb_sigaction_passthrough */
        return REAL_EARLY(signal)(sig, handler);
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
    wb_signal_set_interrupting(sig, interrupt);
    if (interrupt)
        act.sa_flags &= ~SA_RESTART;
    else
        act.sa_flags |= SA_RESTART;
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
    wb_land_dying();
    REAL(abort)();
    __builtin_unreachable();
}
