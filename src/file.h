/*
 * file.h — layer 6: one buffered ("tagged") open file description and the
 * engine that moves its bytes.
 *
 * Every open file description the library buffers has one struct wb_file;
 * dup'd fds point at the same one, so they share one ordered buffer.  A
 * wb_file has at most two buffers: the one the program fills ("fill") and
 * the one being written to the kernel ("flight").  A full fill becomes the
 * flight and is queued for the flusher, which writes it outside every lock;
 * at most one flight per file exists, so bytes land in order.
 *
 * Words, used the same way everywhere:
 *   land     make bytes reach the kernel (the fill, and the flight before it);
 *            what every observation point does first
 *   hand off the fill becomes the queued flight
 *   flush    write one flight (the flusher, or a program thread that cannot
 *            wait)
 *
 * Locking contract:
 *  - f->lock (a spinlock) guards every field below it.  It is held for a
 *    memcpy on the hot path, and never across a system call that can block
 *    for long: flights are written with the lock released, the flight
 *    marked WRITING.  Held across short calls only: kcmp (tagging.c), the
 *    flusher's queue lock (flusher.c; once per process that includes
 *    starting its thread), the buffer pool's lock.
 *  - A flight is written by exactly one thread (the flusher, or a landing
 *    program thread) with flight_state == WB_FLIGHT_WRITING; others wait on
 *    flight_seq with a futex (with the lock released).
 *  - Files are locked one at a time, except by fork's prepare handler,
 *    which locks them all in registry order (land.c).
 */
#ifndef WB_FILE_H
#define WB_FILE_H

#include "config.h"
#include "flusher.h"
#include "lock.h"
#include "records.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

enum wb_flight_state {
    WB_FLIGHT_NONE = 0,
    WB_FLIGHT_QUEUED,   /* flight holds bytes, nobody writes them yet */
    WB_FLIGHT_WRITING,  /* one thread is in write() with them */
};

struct wb_file {
    _Atomic int lock;              /* spinlock; see the contract above */

    /* The hot path reads these three; keep them together. */
    char *fill;                    /* buffer being filled, NULL until needed */
    size_t fill_len;
    size_t fill_cap;               /* the fast path may grow fill_len up to this;
                                      0 forces the slow path (empty fill, error, shutdown) */

    uint64_t writes;               /* calls that were buffered */
    uint64_t bytes;                /* bytes accepted by those calls and direct ones */
    uint64_t direct_writes;        /* calls written straight through (statistics) */
    uint64_t kernel_writes;        /* write()s made for this file (statistics) */
    uint64_t flight_since_ms;      /* when the flight's first byte was written */
    uint64_t max_wait_ms;          /* longest a byte waited before it landed */

    int fd;                        /* an fd of this description the flusher writes to */
    unsigned fd_refs;              /* how many fds point here */
    dev_t dev;
    ino_t ino;
    int fl_flags;                  /* F_GETFL at tagging time */
    long blksize;                  /* st_blksize at tagging time (stdio's buffer size) */
    bool is_pipe;
    bool pending;                  /* counted in wb_pending_files */

    char *flight;
    size_t flight_len;
    char *spare;                   /* a written flight's buffer kept by a landing that
                                      must not take the pool's lock (signal handlers) */
    uint64_t handoff_gen;          /* fills handed off so far; the flight is number handoff_gen */
    uint64_t landed_gen;           /* the last flight finished (flights finish in order) */
    int flight_state;              /* enum wb_flight_state */
    _Atomic unsigned flight_seq;   /* bumped when a flight ends; futex word */
    _Atomic unsigned flight_waiters;

    struct wb_job job;             /* the flusher's handle on this file */

    int error;                     /* background write error not yet reported (errno) */
    bool write_through;            /* after an error: no more buffering for this file */
    uint64_t lost_bytes;           /* bytes that could not be written */

    char *path;                    /* for messages; may be NULL */

    struct wb_file *next_all;      /* registry (registry.c) */
    struct wb_file *next_free;     /* free list (registry.c), guarded by the registry lock */
    bool live;                     /* in use (false: on the free list) */
};

static inline void wb_lock(struct wb_file *f) { wb_spin_lock(&f->lock); }
static inline bool wb_trylock(struct wb_file *f) { return wb_spin_trylock(&f->lock); }
static inline void wb_unlock(struct wb_file *f) { wb_spin_unlock(&f->lock); }
static inline bool wb_trylock_leaf(struct wb_file *f) { return wb_spin_trylock_leaf(&f->lock); }
static inline bool wb_unlock_leaf(struct wb_file *f) { return wb_spin_unlock_leaf(&f->lock); }

/* Moves f's statistics into its file's record (when statistics were asked
   for) and starts them again from zero; f locked. */
static inline void wb_file_fold_stats_locked(struct wb_file *f)
{
    if (wb_cfg.stats && (f->writes || f->direct_writes || f->lost_bytes)) {
        struct wb_record r = { f->dev, f->ino, f->path, f->writes + f->direct_writes,
                               f->direct_writes, f->bytes, f->kernel_writes, f->lost_bytes,
                               f->max_wait_ms };
        wb_records_add(&r);
    }
    f->writes = f->bytes = f->direct_writes = f->kernel_writes = f->max_wait_ms = 0;
    f->lost_bytes = 0;
}

/* How many files hold bytes not yet in the kernel (fill or flight): the cheap
   "is anything pending?" test.  Changed only when a file's pending flag flips,
   never per write. */
extern _Atomic unsigned wb_pending_files WB_HIDDEN;
/* The same for uninstrumented wrappers (see state.h's WB_NOT_STARTED). */
#define WB_ANYTHING_PENDING() (atomic_load_explicit(&wb_pending_files, memory_order_acquire) != 0)
static inline bool wb_anything_pending(void)
{
    return atomic_load_explicit(&wb_pending_files, memory_order_acquire) != 0;
}
static inline bool wb_file_pending(struct wb_file *f)   /* without the lock: a hint */
{
    return __atomic_load_n(&f->pending, __ATOMIC_ACQUIRE);
}

/* Asked before the process buffers its first byte, until it says yes: what
   a process needs only once bytes are held (the fatal-signal handlers, the
   real functions resolved), so one that never buffers pays none of it
   (lifecycle.c).  No: not now, this write goes straight through. */
extern bool (*_Atomic wb_file_engage_hook)(void) WB_HIDDEN;

/* The flusher's ops for every file (tagging.c sets f->job.ops). */
extern const struct wb_job_ops wb_file_job_ops WB_HIDDEN;

/* A fresh (or reused) wb_file for a newly tagged description; f locked. */
void wb_file_reset_locked(struct wb_file *f) WB_HIDDEN;

/* Writes that the fast path did not take.  Returns the write's result, or
   WB_RETRY when fd no longer maps to f (closed or dup2'd over meanwhile:
   look it up again; nothing of this call was written). */
#define WB_RETRY (-2)
ssize_t wb_file_write_slow(struct wb_file *f, int fd, const struct iovec *iov, int iovcnt,
                           size_t total) WB_HIDDEN;

/* Landing, f locked.  _locked: until what was buffered when called has
   landed (concurrent writers cannot starve it).  _idle_locked: until
   nothing is pending at all.  _nowait_locked: as far as it goes without
   waiting for a flight another thread (or the interrupted code) writes,
   and without the pool's lock; safe in a signal handler. */
void wb_file_land_locked(struct wb_file *f) WB_HIDDEN;
void wb_file_land_idle_locked(struct wb_file *f) WB_HIDDEN;
void wb_file_land_nowait_locked(struct wb_file *f) WB_HIDDEN;
/* wb_file_land_locked, with the lock taken here. */
void wb_file_land(struct wb_file *f) WB_HIDDEN;
/* A pending background error (errno) is taken: the caller reports it. */
int wb_file_take_error(struct wb_file *f) WB_HIDDEN;      /* locked; 0 or errno */
/* The fill may grow on the fast path again (after a state change). */
void wb_file_update_room_locked(struct wb_file *f) WB_HIDDEN;
/* In a fork child: the bytes are the parent's to write. */
void wb_file_discard_locked(struct wb_file *f) WB_HIDDEN;

/* Copies a small write without calling memcpy (a call would make the hot
   path save registers): overlapping 8-byte moves cover 1..64 bytes, the
   sizes of a line of output.  Larger writes use memcpy on the slow path. */
#define WB_INLINE_COPY_MAX 64
static inline void wb_copy_small(char *dst, const char *src, size_t n)
{
    uint64_t a, b, c, d;
    if (likely(n <= 16)) {
        if (likely(n >= 8)) {
            __builtin_memcpy(&a, src, 8);
            __builtin_memcpy(&b, src + n - 8, 8);
            __builtin_memcpy(dst, &a, 8);
            __builtin_memcpy(dst + n - 8, &b, 8);
        } else if (n >= 4) {
            uint32_t x, y;
            __builtin_memcpy(&x, src, 4);
            __builtin_memcpy(&y, src + n - 4, 4);
            __builtin_memcpy(dst, &x, 4);
            __builtin_memcpy(dst + n - 4, &y, 4);
        } else if (n) {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
    } else if (n <= 32) {   /* the first and the last 16 bytes */
        __builtin_memcpy(&a, src, 8);
        __builtin_memcpy(&b, src + 8, 8);
        __builtin_memcpy(&c, src + n - 16, 8);
        __builtin_memcpy(&d, src + n - 8, 8);
        __builtin_memcpy(dst, &a, 8);
        __builtin_memcpy(dst + 8, &b, 8);
        __builtin_memcpy(dst + n - 16, &c, 8);
        __builtin_memcpy(dst + n - 8, &d, 8);
    } else {   /* 33..64: the first and the last 32 bytes */
        for (int i = 0; i < 4; i++) {
            __builtin_memcpy(&a, src + 8 * i, 8);
            __builtin_memcpy(&b, src + n - 32 + 8 * i, 8);
            __builtin_memcpy(dst + 8 * i, &a, 8);
            __builtin_memcpy(dst + n - 32 + 8 * i, &b, 8);
        }
    }
}

/* Appends a write to the fill when it fits; f locked.  The bytes are
   counted when the fill is handed off, not here. */
static inline bool wb_file_append_fast(struct wb_file *f, const void *buf, size_t n)
{
    size_t len = f->fill_len, end = len + n;
    if (n > f->fill_cap || end > f->fill_cap)   /* the first test: no overflow for any n */
        return false;
    f->fill_len = end;
    f->writes++;
    if (n <= WB_INLINE_COPY_MAX)
        wb_copy_small(f->fill + len, buf, n);
    else
        __builtin_memcpy(f->fill + len, buf, n);
    return true;
}

#endif
