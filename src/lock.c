/*
 * lock.c — layer 3: the spinlock's slow path and the per-thread counters.
 */
#include "lock.h"

#include <sched.h>

__thread unsigned wb_tls_busy __attribute__((tls_model("initial-exec")));
__thread unsigned wb_tls_deferred __attribute__((tls_model("initial-exec")));
void (*wb_replay_hook)(void);

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
