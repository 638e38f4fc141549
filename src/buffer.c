/*
 * buffer.c — layer 4: the coalescing buffers: one size, one pool, one cap.
 *
 * Every buffer is wb_cfg.bufsize bytes.  The sum of all buffers in use or
 * kept spare never exceeds WRITEBEHIND_MAX_MEMORY: when the cap is reached
 * wb_buf_get() says no and the caller writes through instead, so memory
 * stays bounded however many files are open.  Spare buffers are kept for
 * reuse because a fresh 64 KiB malloc is an mmap plus page faults.
 * Called only on slow paths (a fill becoming full or first used).
 */
#include "buffer.h"

#include <pthread.h>
#include <stdlib.h>

#define WB_SPARE_MAX 8

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static char *spare[WB_SPARE_MAX];
static _Atomic unsigned spare_count;
static _Atomic size_t allocated;  /* bytes of all buffers, in use or spare */
_Atomic size_t wb_buf_peak;

char *wb_buf_get(void)
{
    /* At the cap with nothing spare, say no without the lock: with many
       files every write then goes through, and the lock was most of it. */
    if (!atomic_load_explicit(&spare_count, memory_order_relaxed) &&
        atomic_load_explicit(&allocated, memory_order_relaxed) + wb_cfg.bufsize > wb_cfg.max_memory)
        return NULL;
    char *buf = NULL;
    pthread_mutex_lock(&pool_lock);
    if (spare_count) {
        buf = spare[--spare_count];
    } else if (allocated + wb_cfg.bufsize <= wb_cfg.max_memory) {
        buf = malloc(wb_cfg.bufsize);
        if (buf) {
            allocated += wb_cfg.bufsize;
            if (allocated > atomic_load_explicit(&wb_buf_peak, memory_order_relaxed))
                atomic_store_explicit(&wb_buf_peak, allocated, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&pool_lock);
    return buf;
}

void wb_buf_put(char *buf)
{
    if (!buf)
        return;
    pthread_mutex_lock(&pool_lock);
    if (spare_count < WB_SPARE_MAX) {
        spare[spare_count++] = buf;
        buf = NULL;
    } else {
        allocated -= wb_cfg.bufsize;
    }
    pthread_mutex_unlock(&pool_lock);
    free(buf);
}

/* fork: the prepare handler holds the lock so the child's copy of the
   counters is consistent.  The forking thread is the child's only thread
   and the owner of the lock, so it unlocks it (re-initialising a locked
   mutex is what ThreadSanitizer calls a double lock). */
void wb_buf_prefork(void) { pthread_mutex_lock(&pool_lock); }
void wb_buf_postfork_parent(void) { pthread_mutex_unlock(&pool_lock); }
void wb_buf_after_fork_child(bool held)
{
    if (held)
        pthread_mutex_unlock(&pool_lock);
    else   /* forked from a signal handler: the lock was not taken, maybe held */
        pthread_mutex_init(&pool_lock, NULL);
}
