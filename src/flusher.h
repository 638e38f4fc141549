/*
 * flusher.h — layer 5: the background writer thread and the age timer.
 *
 * The flusher knows jobs, not files: a job is queued when it has a buffer
 * ready to write, and listed as dirty (with the time its fill got its first
 * byte) so that no byte waits longer than WRITEBEHIND_FLUSH_MS.  What a job
 * does is in its ops (file.c), so this layer never calls the engine by name.
 */
#ifndef WB_FLUSHER_H
#define WB_FLUSHER_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

struct wb_job;
struct wb_job_ops {
    void (*write_queued)(struct wb_job *job);                /* its queued buffer */
    void (*flush_if_aged)(struct wb_job *job, uint64_t now_ms); /* timer is due */
};

struct wb_job {
    const struct wb_job_ops *ops;
    _Atomic uint64_t since_ms;   /* when the fill got its first byte (read unlocked) */
    /* guarded by the flusher's queue lock: */
    struct wb_job *next_queue, *next_dirty;
    bool queued, dirty_listed;
};

void wb_flusher_enqueue(struct wb_job *job) WB_HIDDEN;  /* a buffer is ready */
void wb_flusher_dirty(struct wb_job *job) WB_HIDDEN;    /* its fill got a first byte */
/* Exit: the thread is stopped, and joined, for good. */
void wb_flusher_stop(void) WB_HIDDEN;
/* The process must be single-threaded now (unshare, setns, seccomp...):
   the thread is stopped and joined; the next buffer starts a new one. */
void wb_flusher_pause(void) WB_HIDDEN;
void wb_flusher_prefork(void) WB_HIDDEN;
void wb_flusher_postfork_parent(void) WB_HIDDEN;
void wb_flusher_after_fork_child(bool held) WB_HIDDEN;   /* held: as buffer.h */

#endif
