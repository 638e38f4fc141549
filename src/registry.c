/*
 * registry.c — layer 5: allocation, reuse and the list of wb_file records.
 */
#include "registry.h"

#include "buffer.h"
#include "state.h"

#include <stdlib.h>

pthread_mutex_t wb_registry_lock = PTHREAD_MUTEX_INITIALIZER;
_Atomic unsigned wb_live_files;
static struct wb_file *_Atomic all_files;   /* grows at the head, never shrinks */
static struct wb_file *free_files;          /* retired, guarded by wb_registry_lock */

struct wb_file *wb_file_new(void)
{
    wb_registry_enter();
    struct wb_file *f = free_files;
    if (f)
        free_files = f->next_free;
    wb_registry_leave();
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f)
            return NULL;
        f->next_all = atomic_load_explicit(&all_files, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&all_files, &f->next_all, f,
                                                      memory_order_release, memory_order_relaxed))
            ;
    }
    return f;
}

void wb_file_retire(struct wb_file *f)
{
    wb_lock(f);
    wb_stats_add(&wb_stats.writes, f->writes);
    wb_stats_add(&wb_stats.bytes, f->bytes);
    wb_file_fold_stats_locked(f);
    wb_buf_put(f->fill);
    wb_buf_put(f->spare);
    f->fill = f->spare = NULL;
    f->fill_len = f->fill_cap = 0;
    free(f->path);
    f->path = NULL;
    WB_POKE(f->live, false);
    wb_unlock(f);
    atomic_fetch_sub(&wb_live_files, 1);
    wb_registry_enter();
    f->next_free = free_files;
    free_files = f;
    wb_registry_leave();
}

struct wb_file *wb_files_first(void)
{
    return atomic_load_explicit(&all_files, memory_order_acquire);
}

void wb_files_foreach(wb_file_fn fn, void *arg)
{
    for (struct wb_file *f = wb_files_first(); f; f = f->next_all)
        fn(f, arg);
}
