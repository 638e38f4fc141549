/*
 * threads.c — layer 11: knowing when the program's last thread is gone.
 *
 * A process whose main thread called pthread_exit ends when its last thread
 * exits: glibc then calls exit(0).  Our flusher is a thread too, so while
 * it lives the process would not end (for up to WRITEBEHIND_FLUSH_MS, or
 * forever with a long one).  So the library counts the program's threads:
 * main, plus every thread pthread_create starts; a thread-specific key's
 * destructor sees each one leave, however it leaves (return, pthread_exit,
 * cancellation).  When the count reaches zero, everything lands and the
 * flusher stops (on_last, from lifecycle.c), and glibc's own exit(0)
 * follows as in a plain run.
 */
#include "threads.h"

#include "real.h"

#include <errno.h>
#include <stdlib.h>

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t leaving_key;
static _Atomic long program_threads = 1;   /* main */
static void (*_Atomic last_thread_gone)(void);

struct start { void *(*fn)(void *); void *arg; };

static void thread_leaves(void *start)
{
    if (start != (void *)1)   /* main's value is 1, others' their struct start */
        free(start);
    void (*on_last)(void) = atomic_load(&last_thread_gone);
    if (atomic_fetch_sub(&program_threads, 1) == 1 && on_last)
        on_last();
}

static void make_key(void)
{
    if (pthread_key_create(&leaving_key, thread_leaves) == 0)
        pthread_setspecific(leaving_key, (void *)1);   /* the calling (main) thread */
}

void wb_threads_init(void (*on_last)(void))
{
    atomic_store(&last_thread_gone, on_last);
    pthread_once(&key_once, make_key);
}

/* Under a sanitizer preloaded before us, fn is the sanitizer's own thread
   start, so this runs before the sanitizer knows the thread: it must not be
   instrumented nor call anything the sanitizer intercepts (the struct is
   freed by thread_leaves, when the sanitizer is done with the thread). */
WB_NOT_INSTRUMENTED static void *program_thread(void *p)
{
    struct start *s = p;
    pthread_setspecific(leaving_key, s);
    return s->fn(s->arg);
}

int wb_threads_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    pthread_once(&key_once, make_key);
    struct start *s = malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    /* Counted before it starts, so the creator's own exit cannot look like
       the last one while the new thread is still being born. */
    atomic_fetch_add(&program_threads, 1);
    int err = REAL(pthread_create)(t, attr, program_thread, s);
    if (err) {
        atomic_fetch_sub(&program_threads, 1);
        free(s);
    }
    return err;
}

void wb_threads_left_raw(void)
{
    void (*on_last)(void) = atomic_load(&last_thread_gone);
    if (atomic_fetch_sub(&program_threads, 1) == 1 && on_last)
        on_last();
}

void wb_threads_after_fork_child(void)
{
    atomic_store(&program_threads, 1);   /* only the forking thread exists here */
}
