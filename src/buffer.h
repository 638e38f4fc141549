/*
 * buffer.h — layer 4: the coalescing buffers: one size, one pool, one cap.
 */
#ifndef WB_BUFFER_H
#define WB_BUFFER_H

#include "config.h"

char *wb_buf_get(void) WB_HIDDEN;        /* NULL when the memory cap is reached */
void wb_buf_put(char *buf) WB_HIDDEN;    /* NULL is fine */
extern _Atomic size_t wb_buf_peak WB_HIDDEN;

/* fork: the prepare handler holds the pool's lock so the child's copy of
   the counters is consistent; both sides then let it go. */
void wb_buf_prefork(void) WB_HIDDEN;
void wb_buf_postfork_parent(void) WB_HIDDEN;
/* held: the prepare handler took the lock (false: a fork from a signal
   handler, which must not wait for it). */
void wb_buf_after_fork_child(bool held) WB_HIDDEN;

#endif
