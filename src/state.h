/*
 * state.h — layer 3: the process-wide state every layer reads: the
 * library's phase (lifecycle.c moves it) and the statistics counters
 * (stats.c reports them).
 */
#ifndef WB_STATE_H
#define WB_STATE_H

#include "sys.h"

#include <stdbool.h>

enum wb_state {
    WB_UNINIT = 0,
    WB_INITIALIZING,   /* first caller is resolving symbols: everybody passes through */
    WB_ACTIVE,
    WB_PASSTHROUGH,    /* disabled, misconfigured, or no writer thread: never buffer */
    WB_SHUTDOWN,       /* exit has begun: land everything, write through from now on */
};
extern _Atomic int wb_state WB_HIDDEN;

/* For the few uninstrumented wrappers a sanitizer runtime calls while it
   initialises (signals.h): a function call there would be instrumented. */
#define WB_NOT_STARTED() (atomic_load_explicit(&wb_state, memory_order_acquire) == WB_UNINIT)

static inline int wb_state_now(void)
{
    return atomic_load_explicit(&wb_state, memory_order_acquire);
}
/* Buffering allowed now?  (Does not start the library: lifecycle.h's
   wb_ready() does, and every wrapper calls it before anything that tags.) */
static inline bool wb_state_active(void)
{
    return wb_state_now() == WB_ACTIVE;
}
/* From ACTIVE to PASSTHROUGH (a resource the library needs is gone). */
void wb_state_give_up(void) WB_HIDDEN;

struct wb_stats {
    _Atomic uint64_t writes;        /* intercepted write calls on tagged fds */
    _Atomic uint64_t bytes;
    _Atomic uint64_t syscalls;      /* write()s the library issued for tagged files */
    _Atomic uint64_t flushes;       /* buffers written */
    _Atomic uint64_t direct;        /* calls passed straight through on tagged fds */
    _Atomic uint64_t max_wait_us;   /* longest a program thread waited for a buffer */
    _Atomic uint64_t errors;
    _Atomic uint64_t files;         /* descriptions tagged */
};
extern struct wb_stats wb_stats WB_HIDDEN;

static inline void wb_stats_add(_Atomic uint64_t *counter, uint64_t n)
{
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}
static inline void wb_stats_note_wait(uint64_t us)
{
    uint64_t old = atomic_load_explicit(&wb_stats.max_wait_us, memory_order_relaxed);
    while (us > old && !atomic_compare_exchange_weak_explicit(&wb_stats.max_wait_us, &old, us,
                                                              memory_order_relaxed,
                                                              memory_order_relaxed))
        ;
}

#endif
