/*
 * lock.h — layer 3: the spinlock every file has, and the per-thread count
 * of library sections that lets signal handlers call back in.
 *
 * Signal handlers may call write(), close(), _exit()... at any instant,
 * also while the thread they interrupted holds a file lock or writes a
 * flight of its own: waiting for either would wait forever.  So each thread
 * counts the sections it is inside (a file lock held, or a flight or direct
 * write of its own under way); a wrapper that starts while the count is
 * not zero is such a handler, and never waits (reenter.c).  The signal
 * fences keep the count and the lock in program order as a handler on this
 * thread sees them (they cost no instruction).  What a handler recorded is
 * replayed when the count drops to zero, through wb_replay_hook (set by
 * reenter.c when it records, so this layer never names it).
 */
#ifndef WB_LOCK_H
#define WB_LOCK_H

#include "sys.h"

#include <stdbool.h>

extern __thread unsigned wb_tls_busy __attribute__((tls_model("initial-exec"))) WB_HIDDEN;
extern __thread unsigned wb_tls_deferred __attribute__((tls_model("initial-exec"))) WB_HIDDEN;
extern void (*wb_replay_hook)(void) WB_HIDDEN;

static inline bool wb_reentered(void) { return unlikely(wb_tls_busy != 0); }
static inline void wb_busy_enter(void)
{
    wb_tls_busy++;
    atomic_signal_fence(memory_order_seq_cst);
}
static inline void wb_busy_leave(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    if (--wb_tls_busy == 0 && unlikely(wb_tls_deferred))
        wb_replay_hook();   /* what a handler did meanwhile, in order */
}

/* Critical sections are a memcpy long; the slow path spins briefly, then
   lets the holder run. */
void wb_spin_wait(_Atomic int *lock) WB_HIDDEN;

static inline void wb_spin_lock(_Atomic int *lock)
{
    wb_busy_enter();
    if (likely(!atomic_exchange_explicit(lock, 1, memory_order_acquire)))
        return;
    wb_spin_wait(lock);
}
static inline bool wb_spin_trylock(_Atomic int *lock)
{
    wb_busy_enter();
    if (likely(!atomic_exchange_explicit(lock, 1, memory_order_acquire)))
        return true;
    wb_busy_leave();
    return false;
}
static inline void wb_spin_unlock(_Atomic int *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
    wb_busy_leave();
}
/* For the hot path, which must stay a leaf: these never call out.  The
   unlock says whether what a signal handler did meanwhile must now be
   replayed; a failed trylock leaves that to the slow path the caller goes
   to next. */
static inline bool wb_spin_trylock_leaf(_Atomic int *lock)
{
    wb_busy_enter();
    if (likely(!atomic_exchange_explicit(lock, 1, memory_order_acquire)))
        return true;
    atomic_signal_fence(memory_order_seq_cst);
    wb_tls_busy--;
    return false;
}
static inline bool wb_spin_unlock_leaf(_Atomic int *lock)
{
    atomic_store_explicit(lock, 0, memory_order_release);
    atomic_signal_fence(memory_order_seq_cst);
    return --wb_tls_busy == 0 && unlikely(wb_tls_deferred);
}

#endif
