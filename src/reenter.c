/*
 * reenter.c — layer 10: a signal handler that calls the library while the thread it
 * interrupted is inside it.
 *
 * write(), close(), dup2(), fsync(), kill(), _exit() are async-signal-safe:
 * a handler may call them at any instant, also while the code it
 * interrupted holds a file's lock or is writing a flight of its own
 * (wb_tls_busy, counted by wb_lock/wb_unlock and the unlocked write
 * windows in file.c).  Waiting there for that lock or flight would wait
 * forever: a program whose SIGALRM handler wrote a line to a pipe hung
 * within seconds.  So a wrapper entered while wb_tls_busy is non-zero never
 * waits:
 *
 *  - write/writev (to any fd), close and dup2/dup3 are recorded in a
 *    per-thread log and replayed, in order, through the same operations
 *    the wrappers use (ops.c) the moment the interrupted section ends
 *    (wb_busy_leave, through wb_replay_hook).  In a plain
 *    run the handler's calls happen after the interrupted write() returns
 *    (signals are delivered on the way out of the kernel), and that is the
 *    order the log gives them.  The handler is told what a plain call
 *    would most likely answer: the byte count, 0.
 *  - anything else that would land bytes first (read, fsync, kill...)
 *    lands what it can without waiting — files whose lock it gets at once,
 *    flights nobody is writing — and goes on.
 *  - _exit and friends replay the log directly before the process ends.
 *
 * When the log is full (a handler writing more than DEFER_BYTES before the
 * interrupted call returns) a call is made directly, after landing what can
 * be landed without waiting: no hang, possibly out of order.
 *
 * Everything here runs in signal handlers: no locks, no allocation.
 */
#include "reenter.h"

#include "ops.h"
#include "real.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>

/* A handler writing every 50 us fills 64 ops while its thread waits 3 ms
   inside the library (a slow flight on a loaded machine): then its calls
   go direct and may overtake bytes written before them.  256 small ops
   (~10 KiB of thread-local log) give it 13 ms. */
#define DEFER_OPS 256
#define DEFER_BYTES 16384

enum { OP_WRITE, OP_CLOSE, OP_DUP2, OP_DUP3, OP_CLOSE_RANGE };
struct deferred_op {
    int kind, fd, fd2, flags;
    size_t off, len;
};
struct defer_log {
    struct deferred_op ops[DEFER_OPS];
    char data[DEFER_BYTES];
    unsigned count, head;   /* ops recorded; ops replayed */
    size_t used;
    bool replaying;
};

static __thread struct defer_log defer_log __attribute__((tls_model("initial-exec")));

static struct deferred_op *record(int kind, int fd, size_t len)
{
    struct defer_log *l = &defer_log;
    if (l->count == DEFER_OPS || len > DEFER_BYTES - l->used)
        return NULL;
    struct deferred_op *op = &l->ops[l->count];
    *op = (struct deferred_op){ kind, fd, -1, 0, l->used, len };
    return op;
}

/* Makes a recorded op visible to the replay, after its data is in place. */
static void publish(size_t len)
{
    struct defer_log *l = &defer_log;
    l->used += len;
    atomic_signal_fence(memory_order_seq_cst);
    l->count++;
    wb_replay_hook = wb_replay_deferred;   /* before the flag that makes it run */
    atomic_signal_fence(memory_order_seq_cst);
    wb_tls_deferred = 1;
}

ssize_t wb_reentered_write(int fd, const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    /* What a plain write would refuse at once is refused now. */
    int fl = REAL(fcntl)(fd, F_GETFL);
    if (fl < 0)
        return -1;
    if ((fl & O_ACCMODE) == O_RDONLY) {
        errno = EBADF;
        return -1;
    }
    /* Exiting from inside a handler: nothing will replay the log. */
    bool ending = wb_state_now() == WB_SHUTDOWN;
    struct deferred_op *op = iovcnt >= 0 && !ending ? record(OP_WRITE, fd, total) : NULL;
    if (!op) {
        wb_land_nowait(NULL);
        return REAL(writev)(fd, iov, iovcnt);
    }
    char *dst = defer_log.data + op->off;
    for (int i = 0; i < iovcnt; i++) {
        memcpy(dst, iov[i].iov_base, iov[i].iov_len);
        dst += iov[i].iov_len;
    }
    publish(total);
    return (ssize_t)total;
}

int wb_reentered_close(int fd)
{
    if (REAL(fcntl)(fd, F_GETFD) < 0)   /* EBADF now, as a plain close would say */
        return -1;
    struct deferred_op *op = record(OP_CLOSE, fd, 0);
    if (!op) {
        wb_land_nowait(NULL);
        return REAL(close)(fd);
    }
    publish(0);
    return 0;
}

int wb_reentered_dup3(int oldfd, int newfd, int flags, bool is_dup3)
{
    if (REAL(fcntl)(oldfd, F_GETFD) < 0 || (is_dup3 && (oldfd == newfd || flags & ~O_CLOEXEC))) {
        if (REAL(fcntl)(oldfd, F_GETFD) >= 0)
            errno = EINVAL;
        return -1;
    }
    struct deferred_op *op = record(is_dup3 ? OP_DUP3 : OP_DUP2, oldfd, 0);
    if (!op) {
        wb_land_nowait(NULL);
        return is_dup3 ? REAL(dup3)(oldfd, newfd, flags) : REAL(dup2)(oldfd, newfd);
    }
    op->fd2 = newfd;
    op->flags = flags;
    publish(0);
    return newfd;
}

int wb_reentered_close_range(unsigned first, unsigned last, int flags)
{
    if (first > last || (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))) {
        errno = EINVAL;
        return -1;
    }
    struct deferred_op *op = record(OP_CLOSE_RANGE, (int)first, 0);
    if (!op) {
        wb_land_nowait(NULL);
        return REAL(close_range)(first, last, flags);
    }
    op->fd2 = (int)last;
    op->flags = flags;
    publish(0);
    return 0;
}

/* Runs op; direct: straight to the kernel (the process is ending). */
static void run_op(const struct deferred_op *op, const char *data, bool direct)
{
    switch (op->kind) {
    case OP_WRITE:
        if (direct)
            wb_write_all(op->fd, data, op->len, NULL, NULL);
        else
            wb_write_all_with(wb_op_write_fn, op->fd, data, op->len, NULL, NULL);
        break;
    case OP_CLOSE:
        direct ? REAL(close)(op->fd) : wb_op_close(op->fd);
        break;
    case OP_DUP2:
    case OP_DUP3:
        if (direct)
            op->kind == OP_DUP3 ? REAL(dup3)(op->fd, op->fd2, op->flags)
                                : REAL(dup2)(op->fd, op->fd2);
        else
            wb_op_dup3(op->fd, op->fd2, op->flags, op->kind == OP_DUP3);
        break;
    case OP_CLOSE_RANGE:
        direct ? REAL(close_range)((unsigned)op->fd, (unsigned)op->fd2, op->flags)
               : wb_op_close_range((unsigned)op->fd, (unsigned)op->fd2, op->flags);
        break;
    }
}

static void replay(bool direct)
{
    struct defer_log *l = &defer_log;
    if (l->replaying)
        return;
    int saved = errno;
    l->replaying = true;
    for (;;) {
        while (l->head < l->count) {
            /* Handlers running during the replay append behind us. */
            struct deferred_op op = l->ops[l->head];
            atomic_signal_fence(memory_order_seq_cst);
            run_op(&op, l->data + op.off, direct);
            l->head++;
        }
        /* Emptying the log must not race a handler appending to it. */
        sigset_t all, old;
        sigfillset(&all);
        wb_sigmask_raw(SIG_BLOCK, &all, &old);
        bool done = l->head == l->count;
        if (done) {
            l->count = l->head = 0;
            l->used = 0;
            wb_tls_deferred = 0;
        }
        wb_sigmask_raw(SIG_SETMASK, &old, NULL);
        if (done)
            break;
    }
    l->replaying = false;
    errno = saved;
}

void wb_replay_deferred(void)
{
    replay(false);
}

void wb_replay_deferred_direct(void)
{
    if (wb_tls_deferred)
        replay(true);
}
