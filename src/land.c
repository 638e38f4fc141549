/*
 * land.c — layer 7: landing across files.
 *
 * Every walk skips idle files without their lock (the pending flag), so a
 * process with nothing buffered pays one atomic load per observation.
 */
#include "land.h"

#include "sys.h"

#include <errno.h>
#include <time.h>

void wb_land_file(struct wb_file *f)
{
    if (wb_reentered())
        wb_land_nowait(f);
    else
        wb_file_land(f);
}

static void land_if_pending(struct wb_file *f, void *arg)
{
    (void)arg;
    if (wb_file_pending(f))
        wb_land_file(f);
}

void wb_land_all(void)
{
    wb_files_foreach(land_if_pending, NULL);
}

struct inode_key { dev_t dev; ino_t ino; };

static void land_if_inode(struct wb_file *f, void *arg)
{
    struct inode_key *k = arg;
    if (wb_file_pending(f) && WB_PEEK(f->dev) == k->dev && WB_PEEK(f->ino) == k->ino)
        wb_land_file(f);
}

void wb_land_inode(dev_t dev, ino_t ino)
{
    struct inode_key k = { dev, ino };
    wb_files_foreach(land_if_inode, &k);
}

/* A lock held by the code a handler interrupted is never released while
   the handler waits; one held by another thread soon is. */
static bool trylock_bounded(struct wb_file *f, unsigned spins)
{
    for (unsigned i = 0; !wb_trylock(f); i++)
        if (i > spins)
            return false;
    return true;
}

static void land_one_nowait(struct wb_file *f, void *only)
{
    if ((only && f != only) || !wb_file_pending(f) || !trylock_bounded(f, 2000))
        return;
    if (f->live)
        wb_file_land_nowait_locked(f);
    wb_unlock(f);
}

void wb_land_nowait(struct wb_file *only)
{
    if (!wb_anything_pending())
        return;
    if (only)
        land_one_nowait(only, only);
    else
        wb_files_foreach(land_one_nowait, NULL);
}

static void land_one_dying(struct wb_file *f, void *arg)
{
    (void)arg;
    if (!wb_file_pending(f) || !trylock_bounded(f, 1000000))
        return;   /* probably held by the thread the signal interrupted */
    /* A flight another thread is writing: wait for it a little (200 ms at
       most), it is older than what we hold. */
    for (int tries = 0; f->flight_state == WB_FLIGHT_WRITING && tries < 20; tries++) {
        unsigned seq = atomic_load(&f->flight_seq);
        wb_unlock(f);
        struct timespec ts = { 0, 10 * 1000000 };
        wb_futex_wait(&f->flight_seq, seq, &ts);
        if (!trylock_bounded(f, 1000000))
            return;
    }
    if (f->flight_state != WB_FLIGHT_WRITING && f->live)
        wb_file_land_nowait_locked(f);
    wb_unlock(f);
}

void wb_land_dying(void)
{
    if (wb_anything_pending())
        wb_files_foreach(land_one_dying, NULL);
}

/* Files are only ever locked one at a time elsewhere, so taking them all in
   list order cannot deadlock. */
static struct wb_file *fork_locked;   /* the list head when they were locked */

void wb_files_lock_for_fork(void)
{
    if (wb_reentered()) {   /* fork from a signal handler: never wait */
        fork_locked = NULL;
        return;
    }
    fork_locked = wb_files_first();
    for (struct wb_file *f = fork_locked; f; f = f->next_all) {
        wb_lock(f);
        wb_file_land_idle_locked(f);
    }
}

void wb_files_unlock_after_fork(void)
{
    for (struct wb_file *f = fork_locked; f; f = f->next_all)
        wb_unlock(f);
}

static void reset_in_child(struct wb_file *f, void *arg)
{
    (void)arg;
    atomic_store_explicit(&f->lock, 0, memory_order_relaxed);
    wb_file_discard_locked(f);
    wb_file_update_room_locked(f);
}

void wb_files_after_fork_child(bool held)
{
    /* The forking thread held every file lock (and the registry lock)
       through fork(); the child's copies are reset without wb_unlock. */
    if (held)
        pthread_mutex_unlock(&wb_registry_lock);
    else
        pthread_mutex_init(&wb_registry_lock, NULL);
    wb_files_foreach(reset_in_child, NULL);
    atomic_store(&wb_pending_files, 0);
    wb_tls_busy = 0;
}
