/*
 * file.c — layer 6: the engine: what happens to the bytes of one tagged file.
 *
 * A small write is copied into the fill (the inline fast path in file.h and
 * wrap_io.c do that without coming here).  This file handles the rest: the
 * first byte of a fill (start the timer), a full fill (hand it off as the
 * flight; wait only if the previous flight is still being written), writes
 * that go straight through (large, after an error, after shutdown, or when
 * the memory cap is reached: always after the buffered bytes), and landing.
 *
 * Ordering: flights are numbered (handoff_gen) and finish in order because
 * only the thread that moved a flight to WRITING may finish it and nobody
 * starts a new flight before that.  A landing waits until the fill it saw
 * has landed, not until the file is idle, so concurrent writers cannot
 * starve it.
 *
 * Never called with a lock held except where the name says _locked.
 */
#include "file.h"

#include "buffer.h"
#include "fdtab.h"
#include "real.h"
#include "say.h"
#include "state.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

_Atomic unsigned wb_pending_files;

static void update_pending_locked(struct wb_file *f)
{
    bool now = f->fill_len || f->flight_state != WB_FLIGHT_NONE;
    if (now != f->pending) {
        /* read without the lock by the landings that skip idle files */
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
    if (f->fill && f->fill_len && !f->write_through && !f->error && wb_state_active())
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

static void handoff_locked(struct wb_file *f)
{
    f->flight = f->fill;
    f->flight_len = f->fill_len;
    f->bytes += f->fill_len;
    f->flight_since_ms = atomic_load_explicit(&f->job.since_ms, memory_order_relaxed);
    f->flight_state = WB_FLIGHT_QUEUED;
    f->handoff_gen++;
    f->fill = NULL;
    f->fill_len = 0;
    f->fill_cap = 0;
}

static void wait_flight_locked(struct wb_file *f)
{
    unsigned seq = atomic_load_explicit(&f->flight_seq, memory_order_acquire);
    atomic_fetch_add_explicit(&f->flight_waiters, 1, memory_order_acq_rel);
    wb_busy_enter();   /* still inside: a handler's calls wait for us to finish */
    wb_unlock(f);
    wb_futex_wait(&f->flight_seq, seq, NULL);
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
        wb_futex_wake_all(&f->flight_seq);
}

/* A written flight's buffer, when the pool's lock must not be taken: the
   fill or the spare slot takes it.  With both taken (two such landings
   without a write between them) it is dropped: it stays counted against
   the memory cap, so memory stays bounded. */
static void keep_buffer_locked(struct wb_file *f, char *buf)
{
    if (!f->fill) {
        f->fill = buf;
        f->fill_len = 0;
    } else if (!f->spare) {
        f->spare = buf;
    }
}

/* Flushes the queued flight; f locked (released while writing). */
static void flush_flight_locked(struct wb_file *f, bool pool_allowed)
{
    char *buf = f->flight;
    size_t len = f->flight_len;
    int fd = f->fd;
    f->flight_state = WB_FLIGHT_WRITING;
    wb_busy_enter();   /* the flight is ours while unlocked: see lock.h */
    wb_unlock(f);

    /* write() is a cancellation point; a thread cancelled here would leave
       the flight WRITING forever. */
    int oldcancel, saved = errno;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldcancel);
    size_t done = 0;
    _Atomic uint64_t calls = 0;
    int err = wb_write_all(fd, buf, len, &done, &calls);
    if (pool_allowed)
        wb_buf_put(buf);
    pthread_setcancelstate(oldcancel, NULL);
    errno = saved;

    wb_lock(f);
    if (!pool_allowed)
        keep_buffer_locked(f, buf);
    wb_stats_add(&wb_stats.flushes, 1);
    wb_stats_add(&wb_stats.syscalls, calls);
    f->kernel_writes += calls;
    uint64_t waited = wb_now_ms() - f->flight_since_ms;   /* its oldest byte's wait */
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
        f->fill_len = f->fill_cap = 0;
        if (!f->error)
            f->error = err;
        f->lost_bytes += lost;
        f->write_through = true;
        wb_stats_add(&wb_stats.errors, 1);
        wb_unlock(f);   /* the flight stays WRITING: nobody moves meanwhile */
        wb_say_write_error(f->path, fd, err, lost);
        wb_lock(f);
    }
    finish_flight_locked(f, true);
    wb_busy_leave();
}

void wb_file_land_locked(struct wb_file *f)
{
    uint64_t target = f->fill_len ? f->handoff_gen + 1
                    : f->flight_state == WB_FLIGHT_QUEUED ? f->handoff_gen
                    : f->landed_gen;
    while (f->landed_gen < target || f->flight_state == WB_FLIGHT_WRITING) {
        if (f->flight_state == WB_FLIGHT_WRITING)
            wait_flight_locked(f);
        else if (f->flight_state == WB_FLIGHT_QUEUED)
            flush_flight_locked(f, true);
        else if (f->fill_len)
            handoff_locked(f);
        else
            break;   /* nothing left that we were waiting for */
    }
}

void wb_file_land_idle_locked(struct wb_file *f)
{
    while (f->fill_len || f->flight_state != WB_FLIGHT_NONE)
        wb_file_land_locked(f);
}

void wb_file_land_nowait_locked(struct wb_file *f)
{
    for (;;) {
        if (f->flight_state == WB_FLIGHT_QUEUED)
            flush_flight_locked(f, false);
        else if (f->flight_state == WB_FLIGHT_NONE && f->fill_len)
            handoff_locked(f);
        else
            return;
    }
}

void wb_file_land(struct wb_file *f)
{
    wb_lock(f);
    wb_file_land_locked(f);
    wb_unlock(f);
}

/* ---- the flusher's ops ---------------------------------------------------- */

#define FILE_OF_JOB(j) ((struct wb_file *)((char *)(j) - offsetof(struct wb_file, job)))

static void job_write_queued(struct wb_job *job)
{
    struct wb_file *f = FILE_OF_JOB(job);
    wb_lock(f);
    if (f->flight_state == WB_FLIGHT_QUEUED)
        flush_flight_locked(f, true);
    wb_unlock(f);
}

static void job_flush_if_aged(struct wb_job *job, uint64_t now_ms)
{
    struct wb_file *f = FILE_OF_JOB(job);
    wb_lock(f);
    /* An old fill behind a busy flight waits for that flight (or writes a
       queued one) rather than going back on the timer list still due:
       that would make the flusher spin until the flight ends. */
    if (f->live && f->fill_len && now_ms - f->job.since_ms >= wb_cfg.flush_ms)
        wb_file_land_locked(f);
    /* The flusher took f off its timer list; a fill begun meanwhile still
       needs its deadline. */
    if (f->live && f->fill_len)
        wb_flusher_dirty(&f->job);
    wb_unlock(f);
}

const struct wb_job_ops wb_file_job_ops = { job_write_queued, job_flush_if_aged };

/* ---- a file's life -------------------------------------------------------- */

void wb_file_reset_locked(struct wb_file *f)
{
    /* Written once: a reused record may still be read by the flusher,
       which reads ops without the file's lock. */
    if (f->job.ops != &wb_file_job_ops)
        f->job.ops = &wb_file_job_ops;
    f->error = 0;
    f->write_through = false;
    f->lost_bytes = 0;
}

void wb_file_discard_locked(struct wb_file *f)
{
    wb_buf_put(f->fill);
    wb_buf_put(f->flight);
    wb_buf_put(f->spare);
    f->fill = f->flight = f->spare = NULL;
    f->fill_len = f->flight_len = 0;
    f->flight_state = WB_FLIGHT_NONE;
    f->landed_gen = f->handoff_gen;
    f->job.queued = f->job.dirty_listed = false;
    f->pending = false;
    f->fill_cap = 0;
    atomic_store(&f->flight_waiters, 0);
}

/* ---- writes the fast path did not take ------------------------------------ */

static size_t copy_iov(char *dst, const struct iovec *iov, int iovcnt)
{
    size_t off = 0;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(dst + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    return off;
}

bool (*_Atomic wb_file_engage_hook)(void);
static _Atomic bool engaged;

static bool engage(void)
{
    if (likely(atomic_load_explicit(&engaged, memory_order_acquire)))
        return true;
    bool (*hook)(void) = atomic_load_explicit(&wb_file_engage_hook, memory_order_acquire);
    if (hook && !hook())
        return false;
    atomic_store_explicit(&engaged, true, memory_order_release);
    return true;
}

/* Makes room for total bytes in the fill: hands the fill off (waiting for
   or writing the previous flight if needed).  Returns false when no buffer
   can be had under the memory cap, or when a flight failed meanwhile (then
   this write must not be buffered behind the hole). */
static bool make_room_locked(struct wb_file *f, size_t total)
{
    while (f->fill && f->fill_len + total > wb_cfg.bufsize) {
        if (f->flight_state == WB_FLIGHT_NONE) {
            handoff_locked(f);
            wb_flusher_enqueue(&f->job);
        } else if (f->flight_state == WB_FLIGHT_QUEUED) {
            /* Both buffers full and the flusher has not started: writing
               the flight ourselves beats waiting for it to wake up. */
            flush_flight_locked(f, true);
        } else {
            uint64_t t0 = wb_now_us();
            wait_flight_locked(f);
            wb_stats_note_wait(wb_now_us() - t0);
        }
    }
    if (f->error || f->write_through)
        return false;
    if (!f->fill) {
        if (!engage())
            return false;
        f->fill = f->spare ? f->spare : wb_buf_get();
        f->spare = NULL;
        if (!f->fill)
            return false;
        f->fill_len = 0;
    }
    return true;
}

/* Making room or landing may have let go of f's lock.  If fd was closed
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

/* A pending background error is this call's answer (f is unlocked). */
static ssize_t fail_with_error(struct wb_file *f, int err)
{
    wb_unlock(f);
    wb_raise_for_error(err);
    errno = err;
    return -1;
}

static ssize_t buffer_locked(struct wb_file *f, const struct iovec *iov, int iovcnt,
                             size_t total)
{
    bool first = f->fill_len == 0;
    f->fill_len += copy_iov(f->fill + f->fill_len, iov, iovcnt);
    f->writes++;
    if (first) {
        atomic_store_explicit(&f->job.since_ms, wb_now_ms(), memory_order_relaxed);
        wb_flusher_dirty(&f->job);
    }
    update_pending_locked(f);
    wb_file_update_room_locked(f);
    wb_unlock(f);
    return (ssize_t)total;
}

/* Straight through, after everything buffered before it.  The flight
   marker keeps other threads' landings waiting until it is in. */
static ssize_t write_direct_locked(struct wb_file *f, int fd, const struct iovec *iov,
                                   int iovcnt)
{
    wb_file_land_locked(f);
    /* The landing ends once what it saw has landed, but while it waited
       another thread may have handed off a newer fill: that flight is
       older than this call, so it goes first, and the marker below must
       never overwrite a queued flight (its bytes would be dropped). */
    while (f->flight_state != WB_FLIGHT_NONE) {
        if (f->flight_state == WB_FLIGHT_QUEUED)
            flush_flight_locked(f, true);
        else
            wait_flight_locked(f);
    }
    if (!still_ours_locked(f, fd))
        return WB_RETRY;
    int err = wb_file_take_error(f);
    if (err)
        return fail_with_error(f, err);
    f->flight_state = WB_FLIGHT_WRITING;
    wb_busy_enter();
    wb_unlock(f);
    int oldcancel;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldcancel);
    ssize_t r = iovcnt == 1 ? REAL(write)(fd, iov[0].iov_base, iov[0].iov_len)
                            : REAL(writev)(fd, iov, iovcnt);
    int saved = errno;
    pthread_setcancelstate(oldcancel, NULL);
    wb_stats_add(&wb_stats.direct, 1);
    wb_stats_add(&wb_stats.syscalls, 1);
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
    if (err)
        return fail_with_error(f, err);
    if (total == 0) {   /* like write(fd, buf, 0) on a regular file: nothing happens */
        wb_unlock(f);
        return 0;
    }
    bool buffer_it = total < wb_cfg.bufsize && !f->write_through && wb_state_active();
    bool room = buffer_it && make_room_locked(f, total);
    if (buffer_it && !still_ours_locked(f, fd))
        return WB_RETRY;
    if (room)
        return buffer_locked(f, iov, iovcnt, total);
    return write_direct_locked(f, fd, iov, iovcnt);
}
