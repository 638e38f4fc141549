/*
 * flusher.c — layer 5: the background thread that writes full buffers and old ones.
 *
 * Like redis's bio.c: jobs (files with a queued flight) are handed over on
 * a queue under one mutex, and the slow write happens outside it.  The same
 * thread keeps the age timer: every file whose fill got its first byte is on
 * the dirty list with a timestamp, and no byte waits longer than
 * WRITEBEHIND_FLUSH_MS.
 *
 * The thread starts lazily, on the first buffer that needs it, because a
 * second thread makes glibc's stdio take locks (putc measured 6.5x slower).
 * Once started it stays, asleep when nothing is buffered, until exit
 * (wb_flusher_stop; a process whose main thread called pthread_exit is
 * ended by the thread count in threads.c), or until a call that needs the
 * process to be single-threaded (wb_flusher_pause: unshare, setns,
 * seccomp...), which waits until the kernel says the thread is gone: a
 * thread that came and went on its own would sooner or later be half torn
 * down at a fork, holding allocator locks the child then waits for forever
 * (AddressSanitizer's are not reset in a fork child; glibc's malloc locks
 * are).  It is detached, not joined: ThreadSanitizer keeps a joinable
 * thread's id in a fork child, where a new writer then gets the same id.  All signals are blocked in it: the
 * SIGPIPE/SIGXFSZ a write raises belong to the program's next call
 * (wb_raise_for_error), not to us.
 *
 * Lock order: a file lock may be held when taking queue_lock (writers
 * enqueue while holding theirs; the first enqueue also starts the thread
 * and waits, under both locks, until it runs — once per process); the
 * flusher never takes a file lock while holding queue_lock.
 */
#include "flusher.h"

#include "real.h"
#include "say.h"
#include "state.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;   /* work or stop */
static pthread_cond_t gone_cond = PTHREAD_COND_INITIALIZER;    /* the thread left */
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;   /* the thread is in */
static struct wb_job *queue_head, *queue_tail;
static struct wb_job *dirty_head;
static bool running, stopping, broken;
static pid_t flusher_tid;   /* the writer's task, to see it gone (pause) */
/* fork waits until a thread being born is fully started: until then it may
   hold the allocator's locks (see above). */
static bool started;
static pthread_t flusher_thread;

static void *flusher_main(void *arg);

/* queue_lock held: the thread that is starting has started. */
static void wait_started(void)
{
    int oldcancel;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldcancel);
    while (running && !started)
        pthread_cond_wait(&start_cond, &queue_lock);
    pthread_setcancelstate(oldcancel, NULL);
}

/* queue_lock held. */
static void ensure_running(void)
{
    if (running || stopping || broken)
        return;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* A small stack, so a tight RLIMIT_AS leaves the program its room; glibc
       carves the program's static TLS out of every thread's stack, so with
       large thread-local data the small size fails (EINVAL) and the default
       one is used instead. */
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 << 10);
    int err = wb_start_own_thread(&flusher_thread, &attr, flusher_main, NULL);
    if (err == EINVAL) {
        pthread_attr_setstacksize(&attr, 8 << 20);
        err = wb_start_own_thread(&flusher_thread, &attr, flusher_main, NULL);
    }
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        broken = true;
        /* Every file lands and writes through from now on (their next
           slow path sees the state; exit lands the rest).  Said without
           landing stderr: a file lock may be held here, possibly the one
           of a tagged stderr. */
        wb_state_give_up();
        /* Only with -d: a plain run prints nothing here either (a tight
           ulimit -u or -v is the program's business, not ours). */
        if (wb_say_debug)
            wb_say_unlanded("cannot start the background writer thread (%s); writing "
                            "unbuffered from now on (check ulimit -u and ulimit -v)",
                            strerror(err));
        return;
    }
    running = true;
    started = false;
    wait_started();
}

void wb_flusher_enqueue(struct wb_job *f)
{
    pthread_mutex_lock(&queue_lock);
    if (!f->queued) {
        f->queued = true;
        f->next_queue = NULL;
        if (queue_tail)
            queue_tail->next_queue = f;
        else
            queue_head = f;
        queue_tail = f;
    }
    ensure_running();
    pthread_cond_signal(&queue_cond);
    pthread_mutex_unlock(&queue_lock);
}

void wb_flusher_dirty(struct wb_job *f)
{
    pthread_mutex_lock(&queue_lock);
    if (!f->dirty_listed) {
        f->dirty_listed = true;
        f->next_dirty = dirty_head;
        bool was_empty = !dirty_head;
        dirty_head = f;
        ensure_running();
        if (was_empty)   /* the flusher may sleep without a deadline */
            pthread_cond_signal(&queue_cond);
    }
    pthread_mutex_unlock(&queue_lock);
}

/* queue_lock held: takes the files whose fill is old enough off the dirty
   list into *due; returns the earliest deadline of the others (0: none).
   They stay dirty_listed until the flusher takes each one off *due, so a
   writer cannot put one back on the dirty list meanwhile: that would
   rewrite its next_dirty and cut the rest of the due list off (those files
   would then wait for their next observation instead of the timer). */
static uint64_t collect_due(uint64_t now, struct wb_job **due)
{
    uint64_t next = 0;
    struct wb_job **link = &dirty_head;
    while (*link) {
        struct wb_job *f = *link;
        uint64_t deadline =
            atomic_load_explicit(&f->since_ms, memory_order_relaxed) + wb_cfg.flush_ms;
        if (deadline <= now) {
            *link = f->next_dirty;
            f->next_dirty = *due;
            *due = f;
        } else {
            if (!next || deadline < next)
                next = deadline;
            link = &f->next_dirty;
        }
    }
    return next;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&queue_lock);
    started = true;
    flusher_tid = (pid_t)REAL(syscall)(SYS_gettid);
    pthread_cond_broadcast(&start_cond);
    while (!stopping) {
        if (queue_head) {
            struct wb_job *f = queue_head;
            queue_head = f->next_queue;
            if (!queue_head)
                queue_tail = NULL;
            f->queued = false;
            pthread_mutex_unlock(&queue_lock);
            f->ops->write_queued(f);
            pthread_mutex_lock(&queue_lock);
            continue;
        }
        uint64_t now = wb_now_ms();
        struct wb_job *due = NULL;
        uint64_t next = collect_due(now, &due);
        if (due) {
            pthread_mutex_unlock(&queue_lock);
            while (due) {
                pthread_mutex_lock(&queue_lock);
                struct wb_job *f = due;
                due = f->next_dirty;
                f->dirty_listed = false;
                pthread_mutex_unlock(&queue_lock);
                f->ops->flush_if_aged(f, now);
            }
            pthread_mutex_lock(&queue_lock);
            continue;
        }
        if (!next) {   /* nothing buffered anywhere: sleep until there is */
            pthread_cond_wait(&queue_cond, &queue_lock);
            continue;
        }
        struct timespec ts = { (time_t)(next / 1000), (long)(next % 1000) * 1000000 };
        /* CLOCK_MONOTONIC_COARSE may lag CLOCK_MONOTONIC by a tick; waking a
           few ms late is within the promise, early is not. */
        ts.tv_nsec += 5 * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_clockwait(&queue_cond, &queue_lock, CLOCK_MONOTONIC, &ts);
    }
    running = false;
    pthread_cond_broadcast(&gone_cond);
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

void wb_flusher_stop(void)
{
    pthread_mutex_lock(&queue_lock);
    stopping = true;
    pthread_cond_broadcast(&queue_cond);
    if (running && !pthread_equal(pthread_self(), flusher_thread))
        while (running)
            pthread_cond_wait(&gone_cond, &queue_lock);
    pthread_mutex_unlock(&queue_lock);
}

void wb_flusher_pause(void)
{
    int saved = errno;
    wb_flusher_stop();
    pthread_mutex_lock(&queue_lock);
    pid_t tid = flusher_tid;
    flusher_tid = 0;
    pthread_mutex_unlock(&queue_lock);
    /* It said goodbye; the kernel task ends a moment later.  unshare and
       setns count tasks, so wait (at most a second) until it is gone. */
    for (int i = 0; tid && i < 1000; i++) {
        if (REAL(syscall)(SYS_tgkill, getpid(), tid, 0) != 0 && errno == ESRCH)
            break;
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    pthread_mutex_lock(&queue_lock);
    stopping = false;   /* the next buffer that needs it starts a new one */
    pthread_mutex_unlock(&queue_lock);
    errno = saved;
}

void wb_flusher_prefork(void)
{
    pthread_mutex_lock(&queue_lock);
    wait_started();
}
void wb_flusher_postfork_parent(void) { pthread_mutex_unlock(&queue_lock); }

void wb_flusher_after_fork_child(bool held)
{
    /* The thread does not exist here; the next buffer starts a new one.
       queue_lock was taken by this very thread in the prepare handler
       (unless the fork came from a signal handler, which never waits). */
    if (held)
        pthread_mutex_unlock(&queue_lock);
    else
        pthread_mutex_init(&queue_lock, NULL);
    pthread_cond_init(&queue_cond, NULL);
    pthread_cond_init(&gone_cond, NULL);
    pthread_cond_init(&start_cond, NULL);
    queue_head = queue_tail = dirty_head = NULL;
    running = started = false;
    flusher_tid = 0;
}
