/*
 * fdtab.c — layer 4: the fd table (see fdtab.h).
 */
#include "fdtab.h"

#include <stdlib.h>

/* The first chunk is static: fds below 1024 (nearly all) need one load. */
_Atomic uintptr_t wb_fdtab_low[WB_FD_CHUNK];
_Atomic(_Atomic uintptr_t *) wb_fdtab[WB_FD_LIMIT / WB_FD_CHUNK] = { wb_fdtab_low };
static _Atomic int fd_max_seen = -1;

static _Atomic uintptr_t *chunk_for(int fd)
{
    _Atomic(_Atomic uintptr_t *) *slot = &wb_fdtab[(unsigned)fd / WB_FD_CHUNK];
    _Atomic uintptr_t *chunk = atomic_load_explicit(slot, memory_order_acquire);
    if (chunk)
        return chunk;
    _Atomic uintptr_t *fresh = calloc(WB_FD_CHUNK, sizeof *fresh);
    if (!fresh)
        return NULL;
    _Atomic uintptr_t *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    free(fresh);
    return expected;
}

static void note_fd(int fd)
{
    int max = atomic_load_explicit(&fd_max_seen, memory_order_relaxed);
    while (fd > max &&
           !atomic_compare_exchange_weak_explicit(&fd_max_seen, &max, fd, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void wb_fdtab_set(int fd, uintptr_t value)
{
    if ((unsigned)fd >= WB_FD_LIMIT)
        return;
    _Atomic uintptr_t *chunk = chunk_for(fd);
    if (!chunk)
        return;
    atomic_store_explicit(&chunk[fd % WB_FD_CHUNK], value, memory_order_release);
    note_fd(fd);
}

bool wb_fdtab_cas(int fd, uintptr_t expected, uintptr_t value)
{
    if ((unsigned)fd >= WB_FD_LIMIT)
        return false;
    _Atomic uintptr_t *chunk = chunk_for(fd);
    if (!chunk)
        return false;
    note_fd(fd);
    return atomic_compare_exchange_strong_explicit(&chunk[fd % WB_FD_CHUNK], &expected, value,
                                                   memory_order_acq_rel, memory_order_acquire);
}

int wb_fd_max_seen(void)
{
    return atomic_load_explicit(&fd_max_seen, memory_order_relaxed);
}

int wb_fdtab_find(uintptr_t value, int except)
{
    int max = wb_fd_max_seen();
    for (int fd = 0; fd <= max; fd++)
        if (fd != except && wb_fdtab_get(fd) == value)
            return fd;
    return -1;
}

void wb_fdtab_forget(uintptr_t value)
{
    int max = wb_fd_max_seen();
    for (int fd = 0; fd <= max; fd++)
        if (wb_fdtab_get(fd) == value)
            wb_fdtab_set(fd, WB_FD_UNKNOWN);
}
