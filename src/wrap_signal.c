/*
 * wrap_signal.c — dying by a signal without losing what was written.
 *
 * For each fatal signal whose action the program left at the default,
 * writebehind installs a handler that lands what it safely can, restores
 * the default action and re-raises, so the process dies by the same signal
 * (same exit status, same core dump).  The program never sees the handler:
 * sigaction()/signal() report SIG_DFL, a handler the program installs
 * replaces ours, and setting SIG_DFL again brings ours back.
 *
 * In the handler nothing may block on a lock the interrupted thread holds:
 * file locks are only tried (with a bounded spin), a flight being written
 * by another thread is waited for with a timeout, buffers are not freed.
 * glibc's own fatal messages (stack smashing, malloc checks) are raw system
 * calls that no wrapper sees; SIGKILL cannot be caught: what is lost then
 * is at most WRITEBEHIND_FLUSH_MS of output.
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
};
static _Atomic bool ours[NSIG];
static pthread_mutex_t sig_lock = PTHREAD_MUTEX_INITIALIZER;

static bool managed(int sig)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
        if (fatal_signals[i] == sig)
            return true;
    return false;
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
        syscall(SYS_futex, &f->flight_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
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
        f->fill_room = 0;
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

static void fatal_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int saved = errno;
    wb_emergency_drain();
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    REAL(sigaction)(sig, &dfl, NULL);
    ours[sig] = false;
    /* A fault raised by the kernel (si_code > 0) happens again when we
       return; anything else is sent again.  Either way the default
       action ends the process, with the status of a plain run. */
    if (si->si_code <= 0 ||
        !(sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGTRAP ||
          sig == SIGSYS))
        syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
    errno = saved;
}

static void install_ours(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fatal_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
    if (REAL(sigaction)(sig, &sa, NULL) == 0)
        ours[sig] = true;
}

void wb_signals_install(void) WB_HIDDEN;
void wb_signals_install(void)
{
    int saved = errno;
    pthread_mutex_lock(&sig_lock);
    for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++) {
        int sig = fatal_signals[i];
        struct sigaction old;
        if (REAL(sigaction)(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
            install_ours(sig);
    }
    pthread_mutex_unlock(&sig_lock);
    errno = saved;
}

static void report_default(struct sigaction *old)
{
    memset(old, 0, sizeof *old);
    old->sa_handler = SIG_DFL;
}

/* Sanitizer runtimes call sigaction while they initialise, before an
   instrumented function may run (ThreadSanitizer crashes in its function-
   entry hook): until writebehind is active, sigaction passes through
   without instrumentation and without touching the rest of the library. */
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
    if (sig <= 0 || sig >= NSIG || !managed(sig))
        return REAL(sigaction)(sig, act, old);
    pthread_mutex_lock(&sig_lock);
    int r = 0;
    bool wants_default = act && act->sa_handler == SIG_DFL;
    if (ours[sig]) {
        if (act && !wants_default) {
            r = REAL(sigaction)(sig, act, NULL);
            if (r == 0)
                ours[sig] = false;
        }
        if (r == 0 && old)
            report_default(old);
    } else {
        r = REAL(sigaction)(sig, wants_default ? NULL : act, old);
        if (r == 0 && wants_default)
            install_ours(sig);
    }
    int saved = errno;
    pthread_mutex_unlock(&sig_lock);
    errno = saved;
    return r;
}

WB_EXPORT WB_NOT_INSTRUMENTED int sigaction(int sig, const struct sigaction *act,
                                            struct sigaction *old)
{
    if (atomic_load_explicit(&wb_state, memory_order_acquire) != WB_ACTIVE)
        return sigaction_passthrough(sig, act, old);
    return sigaction_managed(sig, act, old);
}

static sighandler_t signal_managed(int sig, sighandler_t handler)
{
    /* glibc's signal() has BSD semantics: restart, block the signal in
       its handler. */
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    if (sig > 0 && sig < NSIG)
        sigaddset(&act.sa_mask, sig);
    if (sigaction_managed(sig, &act, &old) < 0)
        return SIG_ERR;
    return old.sa_handler;
}

WB_EXPORT WB_NOT_INSTRUMENTED sighandler_t signal(int sig, sighandler_t handler)
{
    if (atomic_load_explicit(&wb_state, memory_order_acquire) != WB_ACTIVE) {
        static __typeof__(signal) *real_fn;
        if (!real_fn)
            real_fn = (__typeof__(signal) *)dlsym(RTLD_NEXT, "signal");
        return real_fn(sig, handler);
    }
    return signal_managed(sig, handler);
}

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
