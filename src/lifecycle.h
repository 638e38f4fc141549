/*
 * lifecycle.h — layer 12: start, fork and exit: the moments the whole
 * library changes state.
 */
#ifndef WB_LIFECYCLE_H
#define WB_LIFECYCLE_H

#include "state.h"

/* Starts the library on first use (any thread; cheap after that) and says
   whether it buffers.  Every wrapper that may tag or buffer calls it first. */
void wb_init_slow(void) WB_HIDDEN;
static inline bool wb_ready(void)
{
    if (unlikely(wb_state_now() == WB_UNINIT))
        wb_init_slow();
    return wb_state_active();
}

/* Exit has begun (_exit, the destructor, the last thread): everything lands,
   and every later write goes straight through, in order. */
void wb_shutdown(void) WB_HIDDEN;

/* In a vfork child (which shares the parent's memory until exec or exit)?
   Costs a getpid: for the exit paths only. */
bool wb_in_vfork_child(void) WB_HIDDEN;

/* The pthread_atfork handlers, also run around _Fork and fork-like clones. */
void wb_fork_prepare(void) WB_HIDDEN;
void wb_fork_parent(void) WB_HIDDEN;
void wb_fork_child(void) WB_HIDDEN;

#endif
