/*
 * lock.c — layer 3: the spinlock's slow path, the per-thread counters, and
 * leaving the sections a non-local jump abandons.
 */
#include "lock.h"

#include <errno.h>
#include <sched.h>

__thread unsigned wb_tls_busy __attribute__((tls_model("initial-exec")));
__thread unsigned wb_tls_deferred __attribute__((tls_model("initial-exec")));
void (*wb_replay_hook)(void);
__thread struct wb_unwind *wb_tls_unwind __attribute__((tls_model("initial-exec")));

void wb_leave_abandoned_slow(void)
{
    int saved = errno;
    struct wb_unwind *u;
    while ((u = wb_tls_unwind) && u->busy == wb_tls_busy) {
        wb_tls_unwind = u->prev;
        atomic_signal_fence(memory_order_seq_cst);
        u->leave(u);
    }
    if (wb_tls_busy == 0 && wb_tls_deferred)
        wb_replay_hook();   /* the handler's writes, after what it interrupted */
    errno = saved;
}

void wb_spin_wait(_Atomic int *lock)
{
    /* The holder may have been preempted on our core: after a short spin,
       let it run. */
    for (unsigned spins = 0;; spins++) {
        if (!atomic_load_explicit(lock, memory_order_relaxed) &&
            !atomic_exchange_explicit(lock, 1, memory_order_acquire))
            return;
        if (spins > 100)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
}
