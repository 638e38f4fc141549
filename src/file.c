/*
 * file.c — the engine: what happens to the bytes of one tagged file.
 *
 * A small write is copied into the fill (the inline fast path in
 * writebehind.h does that without coming here).  This file handles the rest:
 * the first byte of a fill (start the timer), a full fill (hand it off as the
 * flight; wait only if the previous flight is still being written), writes
 * that go straight through (large, after an error, after shutdown, or when
 * the memory cap is reached: always after the buffered bytes), and drains.
 *
 * Ordering: flights are numbered (handoff_gen) and finish in order because
 * only the thread that moved a flight to WRITING may finish it and nobody
 * starts a new flight before that.  A drain waits until the fill it saw
 * has landed, not until the file is idle, so concurrent writers cannot
 * starve it.
 *
 * Never called with a lock held except where the name says _locked.
 */
#include "writebehind.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

_Atomic unsigned wb_pending_files;

void wb_lock_slow(struct wb_file *f)
{
    /* Critical sections are a memcpy long; spin briefly, then let the
       holder run (it may have been preempted on our core). */
    for (unsigned spins = 0;; spins++) {
        if (!atomic_load_explicit(&f->lock, memory_order_relaxed) &&
            !atomic_exchange_explicit(&f->lock, 1, memory_order_acquire))
            return;
        if (spins > 100)
            sched_yield();
        else
            __builtin_ia32_pause();
    }
}

static void update_pending_locked(struct wb_file *f)
{
    bool now = f->fill_len || f->flight_state != WB_FLIGHT_NONE;
    if (now != f->pending) {
        /* read without the lock by the drains that skip idle files */
        __atomic_store_n(&f->pending, now, __ATOMIC_RELEASE);
        if (now)
            atomic_fetch_add_explicit(&wb_pending_files, 1, memory_order_acq_rel);
        else
            atomic_fetch_sub_explicit(&wb_pending_files, 1, memory_order_acq_rel);
    }
}

void wb_file_update_room_locked(struct wb_file *f)
{
    /* An empty fill keeps room 0 so that its first byte takes the slow path
       and starts the timer. */
    if (f->fill && f->fill_len && !f->write_through && !f->error &&
        atomic_load_explicit(&wb_state, memory_order_relaxed) == WB_ACTIVE)
        f->fill_cap = wb_cfg.bufsize;
    else
        f->fill_cap = 0;
}

int wb_file_take_error(struct wb_file *f)
{
    int err = f->error;
    f->error = 0;
    return err;
}

void wb_file_handoff_locked(struct wb_file *f)
{
    f->flight = f->fill;
    f->flight_len = f->fill_len;
    f->bytes += f->fill_len;
    f->flight_since_ms = f->fill_since_ms;
    f->flight_state = WB_FLIGHT_QUEUED;
    f->handoff_gen++;
    f->fill = NULL;
    f->fill_len = 0;
    f->fill_cap = 0;
}

static void futex_wait(_Atomic unsigned *word, unsigned expected)
{
    REAL(syscall)(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic unsigned *word)
{
    REAL(syscall)(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void wb_file_wait_flight_locked(struct wb_file *f)
{
    unsigned seq = atomic_load_explicit(&f->flight_seq, memory_order_acquire);
    atomic_fetch_add_explicit(&f->flight_waiters, 1, memory_order_acq_rel);
    wb_busy_enter();   /* still inside: a handler's calls wait for us to finish */
    wb_unlock(f);
    int saved = errno;
    futex_wait(&f->flight_seq, seq);
    errno = saved;
    atomic_fetch_sub_explicit(&f->flight_waiters, 1, memory_order_acq_rel);
    wb_lock(f);
    wb_busy_leave();
}

/* Ends the flight this thread owns (WRITING); f locked. */
static void finish_flight_locked(struct wb_file *f, bool landed_gen)
{
    f->flight = NULL;
    f->flight_len = 0;
    f->flight_state = WB_FLIGHT_NONE;
    if (landed_gen)
        f->landed_gen = f->handoff_gen;
    atomic_fetch_add_explicit(&f->flight_seq, 1, memory_order_release);
    update_pending_locked(f);
    wb_file_update_room_locked(f);
    if (atomic_load_explicit(&f->flight_waiters, memory_order_acquire))
        futex_wake_all(&f->flight_seq);
}

void wb_file_write_flight_locked(struct wb_file *f)
{
    char *buf = f->flight;
    size_t len = f->flight_len;
    int fd = f->fd;
    f->flight_state = WB_FLIGHT_WRITING;
    wb_busy_enter();   /* the flight is ours while unlocked: see reenter.c */
    wb_unlock(f);

    /* write() is a cancellation point; a thread cancelled here would leave
       the flight WRITING forever. */
    int oldcancel, saved = errno;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldcancel);
    size_t done = 0;
    unsigned calls = 0;
    int err = wb_write_all_counted(fd, buf, len, &done, &calls);
    wb_buf_put(buf);
    pthread_setcancelstate(oldcancel, NULL);
    errno = saved;

    wb_lock(f);
    atomic_fetch_add_explicit(&wb_stats.flushes, 1, memory_order_relaxed);
    f->kernel_writes += calls;
    uint64_t waited = wb_now_ms() - f->flight_since_ms;   /* the oldest byte's wait */
    if (waited > f->max_wait_ms)
        f->max_wait_ms = waited;
    if (err) {
        /* A plain run would have stopped at the write that failed: the
           bytes buffered behind it are dropped too, so the file holds an
           unbroken prefix of the stream (never a hole if space comes back)
           and the program hears of the error once, at its next call.  From
           then on the file is written synchronously, so every later call
           returns what the kernel says. */
        size_t lost = len - done + f->fill_len;
        wb_buf_put(f->fill);
        f->fill = NULL;
        f->fill_len = f->fill_cap = 0;
        if (!f->error)
            f->error = err;
        f->lost_bytes += lost;
        f->write_through = true;
        wb_unlock(f);   /* the flight stays WRITING: nobody moves meanwhile */
        wb_report_error(f->path, fd, err, lost);
        wb_lock(f);
    }
    finish_flight_locked(f, true);
    wb_busy_leave();
}

void wb_file_drain_locked(struct wb_file *f)
{
    uint64_t target = f->fill_len ? f->handoff_gen + 1
                    : f->flight_state == WB_FLIGHT_QUEUED ? f->handoff_gen
                    : f->landed_gen;
    while (f->landed_gen < target || f->flight_state == WB_FLIGHT_WRITING) {
        if (f->flight_state == WB_FLIGHT_WRITING)
            wb_file_wait_flight_locked(f);
        else if (f->flight_state == WB_FLIGHT_QUEUED)
            wb_file_write_flight_locked(f);
        else if (f->fill_len)
            wb_file_handoff_locked(f);
        else
            break;   /* nothing left that we were waiting for */
    }
}

/* From a signal handler (reenter.c): as far as it goes without waiting for
   a flight, which may be one the interrupted code is writing. */
void wb_file_drain_nowait_locked(struct wb_file *f)
{
    for (;;) {
        if (f->flight_state == WB_FLIGHT_QUEUED)
            wb_file_write_flight_locked(f);
        else if (f->flight_state == WB_FLIGHT_NONE && f->fill_len)
            wb_file_handoff_locked(f);
        else
            return;
    }
}

void wb_file_drain(struct wb_file *f)
{
    if (wb_reentered()) {
        wb_land_nowait(f);
        return;
    }
    wb_lock(f);
    wb_file_drain_locked(f);
    wb_unlock(f);
}

void wb_file_flush_if_aged(struct wb_file *f, uint64_t now_ms)
{
    wb_lock(f);
    /* An old fill behind a busy flight waits for that flight (or writes a
       queued one) rather than going back on the timer list still due:
       that would make the flusher spin until the flight ends. */
    if (f->live && f->fill_len && now_ms - f->fill_since_ms >= wb_cfg.flush_ms)
        wb_file_drain_locked(f);
    /* The flusher took f off its timer list; a fill begun meanwhile still
       needs its deadline. */
    if (f->live && f->fill_len)
        wb_flusher_dirty(f);
    wb_unlock(f);
}

void wb_file_discard_locked(struct wb_file *f)
{
    /* In a fork child: these bytes are the parent's to write. */
    wb_buf_put(f->fill);
    if (f->flight)
        wb_buf_put(f->flight);
    f->fill = f->flight = NULL;
    f->fill_len = f->flight_len = 0;
    f->flight_state = WB_FLIGHT_NONE;
    f->landed_gen = f->handoff_gen;
    f->queued = f->dirty_listed = false;
    f->pending = false;
    f->fill_cap = 0;
    atomic_store(&f->flight_waiters, 0);
}

static size_t copy_iov(char *dst, const struct iovec *iov, int iovcnt)
{
    size_t off = 0;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(dst + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return off;
}

/* Makes room for total bytes in the fill: hands the fill off (waiting for
   or writing the previous flight if needed).  Returns false when no buffer
   can be had under the memory cap. */
static bool make_room_locked(struct wb_file *f, size_t total)
{
    while (f->fill && f->fill_len + total > wb_cfg.bufsize) {
        if (f->flight_state == WB_FLIGHT_NONE) {
            wb_file_handoff_locked(f);
            wb_flusher_enqueue(f);
        } else if (f->flight_state == WB_FLIGHT_QUEUED) {
            /* Both buffers full and the flusher has not started: writing
               the flight ourselves beats waiting for it to wake up. */
            wb_file_write_flight_locked(f);
        } else {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            wb_file_wait_flight_locked(f);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            wb_stats_note_wait((uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
                               (uint64_t)(t1.tv_nsec - t0.tv_nsec) / 1000);
        }
    }
    /* While we waited, the flight may have failed: then this write must
       not be buffered behind the hole; the caller reports the error. */
    if (f->error || f->write_through)
        return false;
    if (!f->fill) {
        f->fill = wb_buf_get();
        if (!f->fill)
            return false;
        f->fill_len = 0;
    }
    return true;
}

/* Making room or draining may have let go of f's lock.  If fd was closed
   (or dup2'd over) meanwhile, its bytes were landed by that close: bytes
   buffered now would follow them into a description nobody writes to
   again, or a direct write would jump ahead of the new file's buffered
   bytes.  Nothing of this call is written yet: unlock, and look again. */
static bool still_ours_locked(struct wb_file *f, int fd)
{
    if (wb_fdtab_get(fd) == (uintptr_t)f)
        return true;
    wb_unlock(f);
    return false;
}

ssize_t wb_file_write_slow(struct wb_file *f, int fd, const struct iovec *iov, int iovcnt,
                           size_t total)
{
    /* write() is a cancellation point, and a buffered one makes no system
       call: without this a thread that only writes could never be
       cancelled (pthread_join would wait forever).  Acted on here, before
       any lock is taken and before anything is written, as write() acts on
       it before the system call; a small write that fits the buffer still
       returns at once, so cancellation waits at most for a buffer's worth. */
    pthread_testcancel();
    wb_lock(f);
    if (wb_fdtab_get(fd) != (uintptr_t)f) {
        wb_unlock(f);
        return WB_RETRY;
    }
    int err = wb_file_take_error(f);
    if (err) {
        wb_unlock(f);
        wb_raise_for_error(err);
        errno = err;
        return -1;
    }
    if (total == 0) {   /* like write(fd, buf, 0) on a regular file: nothing happens */
        wb_unlock(f);
        return 0;
    }

    bool buffer_it = total < wb_cfg.bufsize && !f->write_through &&
                     atomic_load_explicit(&wb_state, memory_order_acquire) == WB_ACTIVE;
    bool room = buffer_it && make_room_locked(f, total);
    if (buffer_it && !still_ours_locked(f, fd))
        return WB_RETRY;
    if (room) {
        bool first = f->fill_len == 0;
        f->fill_len += copy_iov(f->fill + f->fill_len, iov, iovcnt);
        f->writes++;
        if (first) {
            f->fill_since_ms = wb_now_ms();
            wb_flusher_dirty(f);
        }
        update_pending_locked(f);
        wb_file_update_room_locked(f);
        wb_unlock(f);
        return (ssize_t)total;
    }

    /* Straight through, after everything buffered before it.  The flight
       marker keeps other threads' drains waiting until it is in. */
    wb_file_drain_locked(f);
    /* The drain ends once what it saw has landed, but while it waited
       another thread may have handed off a newer fill: that flight is
       older than this call, so it goes first, and the marker below must
       never overwrite a queued flight (its bytes would be dropped). */
    while (f->flight_state != WB_FLIGHT_NONE) {
        if (f->flight_state == WB_FLIGHT_QUEUED)
            wb_file_write_flight_locked(f);
        else
            wb_file_wait_flight_locked(f);
    }
    if (!still_ours_locked(f, fd))
        return WB_RETRY;
    err = wb_file_take_error(f);
    if (err) {
        wb_unlock(f);
        wb_raise_for_error(err);
        errno = err;
        return -1;
    }
    f->flight_state = WB_FLIGHT_WRITING;
    wb_busy_enter();
    wb_unlock(f);
    int oldcancel;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldcancel);
    ssize_t r = iovcnt == 1 ? REAL(write)(fd, iov[0].iov_base, iov[0].iov_len)
                            : REAL(writev)(fd, iov, iovcnt);
    int saved = errno;
    pthread_setcancelstate(oldcancel, NULL);
    atomic_fetch_add_explicit(&wb_stats.direct, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&wb_stats.syscalls, 1, memory_order_relaxed);
    wb_lock(f);
    f->direct_writes++;
    f->kernel_writes++;
    if (r > 0)
        f->bytes += (uint64_t)r;
    finish_flight_locked(f, false);
    wb_unlock(f);
    wb_busy_leave();
    errno = saved;
    return r;
}
