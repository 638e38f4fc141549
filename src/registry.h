/*
 * registry.h — layer 5: where struct wb_file records live.
 *
 * wb_file structs are never freed: a retired one goes on a free list and
 * may be reused.  So a thread holding a stale pointer still locks valid
 * memory, and every user re-checks "does fd still map to f?" under f's
 * lock.  The list of all records only grows at its head, so it is walked
 * without a lock.
 */
#ifndef WB_REGISTRY_H
#define WB_REGISTRY_H

#include "file.h"

#include <pthread.h>

/* A record for a new description (unlocked, not live), or NULL. */
struct wb_file *wb_file_new(void) WB_HIDDEN;
/* f is idle, no fd maps to it any more: back on the free list. */
void wb_file_retire(struct wb_file *f) WB_HIDDEN;

typedef void (*wb_file_fn)(struct wb_file *f, void *arg);
void wb_files_foreach(wb_file_fn fn, void *arg) WB_HIDDEN;
/* The head of the list (walk with next_all): for walks that must see the
   same files twice (fork locks them all, then unlocks the same ones). */
struct wb_file *wb_files_first(void) WB_HIDDEN;

/* Records in use (tagged descriptions): 0 means no file is buffered, and
   opens need not look for a second door to one. */
extern _Atomic unsigned wb_live_files WB_HIDDEN;

/* Guards the free list (and the tagging layer's lists of inodes).  Held
   only between these two, which count as being inside the library, so a
   signal handler that forks or closes never waits for it (lock.h). */
extern pthread_mutex_t wb_registry_lock WB_HIDDEN;
static inline void wb_registry_enter(void)
{
    wb_busy_enter();
    pthread_mutex_lock(&wb_registry_lock);
}
static inline void wb_registry_leave(void)
{
    pthread_mutex_unlock(&wb_registry_lock);
    wb_busy_leave();
}

/* dev, ino and live are written under the file's lock when a record is
   (re)used, and read without it by walks that skip files cheaply: relaxed
   atomics on both sides, and a look again under the lock where it matters. */
#define WB_PEEK(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define WB_POKE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

#endif
