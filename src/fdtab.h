/*
 * fdtab.h — layer 4: fd number → what the library knows about it.
 *
 * Two levels of atomically published arrays indexed by fd number, grown
 * lazily: never sized by RLIMIT_NOFILE (which can be 2^30).  Readers take
 * no lock.  An entry is UNKNOWN (never looked at, or closed), PLAIN (looked
 * at: not tagged), CLOSING (being closed or replaced: pass through), FRESH
 * (just opened, not looked at: its first write passes through as PLAIN's
 * would, then it is UNKNOWN — a file that gets one write and a close costs
 * nothing), or a pointer to the file's struct wb_file (file.h); this layer
 * never looks behind the pointer.
 */
#ifndef WB_FDTAB_H
#define WB_FDTAB_H

#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#define WB_FD_UNKNOWN ((uintptr_t)0)   /* not classified yet */
#define WB_FD_PLAIN   ((uintptr_t)1)   /* classified: not tagged */
#define WB_FD_CLOSING ((uintptr_t)2)   /* being closed/replaced: pass through */
#define WB_FD_FRESH   ((uintptr_t)3)   /* opened, first write not made yet: pass through */
#define WB_FD_CHUNK   1024

extern _Atomic(_Atomic uintptr_t *) wb_fdtab[WB_FD_LIMIT / WB_FD_CHUNK] WB_HIDDEN;
extern _Atomic uintptr_t wb_fdtab_low[WB_FD_CHUNK] WB_HIDDEN;

static inline uintptr_t wb_fdtab_get(int fd)
{
    if (unlikely((unsigned)fd >= WB_FD_LIMIT))
        return WB_FD_PLAIN;
    _Atomic uintptr_t *chunk =
        atomic_load_explicit(&wb_fdtab[(unsigned)fd / WB_FD_CHUNK], memory_order_acquire);
    if (unlikely(!chunk))
        return WB_FD_UNKNOWN;
    return atomic_load_explicit(&chunk[(unsigned)fd % WB_FD_CHUNK], memory_order_acquire);
}
static inline bool wb_is_file(uintptr_t e) { return e > WB_FD_FRESH; }

/* The table slot of fd, or NULL when its chunk does not exist yet (or fd is
   out of range).  Slots never move once published. */
static inline _Atomic uintptr_t *wb_fdtab_slot(int fd)
{
    if (likely((unsigned)fd < WB_FD_CHUNK))
        return &wb_fdtab_low[fd];
    if (unlikely((unsigned)fd >= WB_FD_LIMIT))
        return NULL;
    _Atomic uintptr_t *chunk =
        atomic_load_explicit(&wb_fdtab[(unsigned)fd / WB_FD_CHUNK], memory_order_acquire);
    return chunk ? &chunk[(unsigned)fd % WB_FD_CHUNK] : NULL;
}

/* Out of memory for a new chunk: the fd stays UNKNOWN (is looked at anew). */
void wb_fdtab_set(int fd, uintptr_t value) WB_HIDDEN;
bool wb_fdtab_cas(int fd, uintptr_t expected, uintptr_t value) WB_HIDDEN;
/* The highest fd number ever stored: bounds walks over the table. */
int wb_fd_max_seen(void) WB_HIDDEN;
/* Another fd than except whose entry is value, or -1. */
int wb_fdtab_find(uintptr_t value, int except) WB_HIDDEN;
/* Every fd whose entry is value becomes UNKNOWN. */
void wb_fdtab_forget(uintptr_t value) WB_HIDDEN;

#endif
