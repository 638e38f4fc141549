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

/* Before a call that needs the process single-threaded, sandboxes it, or
   changes the limits the writer thread counts against (unshare, setns,
   seccomp, setrlimit...): everything lands and the writer thread is
   stopped and joined (the next buffer starts a new one).  forever: from
   now on nothing is buffered (a sandbox may forbid what the library needs). */
void wb_lone_thread(bool forever) WB_HIDDEN;
/* A resource limit the program sets: a finite RLIMIT_FSIZE makes the kernel
   cut writes short (then EFBIG), which only unbuffered writes reproduce. */
void wb_limit_changing(int resource, unsigned long long soft) WB_HIDDEN;

/* In a vfork child (which shares the parent's memory until exec or exit)?
   Costs a getpid: for the exit paths only. */
bool wb_in_vfork_child(void) WB_HIDDEN;

/* The pthread_atfork handlers, also run around _Fork and fork-like clones. */
void wb_fork_prepare(void) WB_HIDDEN;
void wb_fork_parent(void) WB_HIDDEN;
void wb_fork_child(void) WB_HIDDEN;

#endif
