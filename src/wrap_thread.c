/*
 * wrap_thread.c — knowing when the program's last thread is gone.
 *
 * A process whose main thread called pthread_exit ends when its last thread
 * exits: glibc then calls exit(0).  Our flusher is a thread too, so while
 * it lives the process would not end (for up to WRITEBEHIND_FLUSH_MS, or
 * forever with a long one).  So the library counts the program's threads:
 * main, plus every thread pthread_create starts; a thread-specific key's
 * destructor sees each one leave, however it leaves (return, pthread_exit,
 * cancellation).  When the count reaches zero, everything lands and the
 * flusher stops, and glibc's own exit(0) follows as in a plain run.
 */
#include "writebehind.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t leaving_key;
static _Atomic long program_threads = 1;   /* main */

struct start { void *(*fn)(void *); void *arg; };

static void thread_leaves(void *start)
{
    if (start != (void *)1)   /* main's value is 1, others' their struct start */
        free(start);
    if (atomic_fetch_sub(&program_threads, 1) == 1)
        wb_shutdown();   /* the last one: what remains is exit(0) */
}

static void make_key(void)
{
    if (pthread_key_create(&leaving_key, thread_leaves) == 0)
        pthread_setspecific(leaving_key, (void *)1);   /* the calling (main) thread */
}

void wb_threads_init(void) WB_HIDDEN;
void wb_threads_init(void)
{
    pthread_once(&key_once, make_key);
}

/* The flusher is ours, not the program's: it is started through here.  It
   still goes through the global pthread_create, so that a sanitizer runtime
   preloaded before us sees the thread (ThreadSanitizer crashes in a thread
   it did not start); our own wrapper below lets it pass uncounted. */
static __thread bool starting_ours __attribute__((tls_model("initial-exec")));

int wb_real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                           void *arg) WB_HIDDEN;
int wb_real_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                           void *arg)
{
    starting_ours = true;
    int err = pthread_create(t, attr, fn, arg);
    starting_ours = false;
    return err;
}

static int next_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                               void *arg)
{
    static __typeof__(pthread_create) *real_fn;
    if (!real_fn)
        real_fn = (__typeof__(pthread_create) *)dlsym(RTLD_NEXT, "pthread_create");
    return real_fn(t, attr, fn, arg);
}

/* Under a sanitizer preloaded before us, fn is the sanitizer's own thread
   start, so this runs before the sanitizer knows the thread: it must not be
   instrumented nor call anything the sanitizer intercepts (the struct is
   freed by thread_leaves, when the sanitizer is done with the thread). */
__attribute__((no_sanitize("thread", "address", "undefined"))) static void *
program_thread(void *p)
{
    struct start *s = p;
    pthread_setspecific(leaving_key, s);
    return s->fn(s->arg);
}

WB_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg)
{
    if (starting_ours)
        return next_pthread_create(t, attr, fn, arg);
    wb_threads_init();
    struct start *s = malloc(sizeof *s);
    if (!s)
        return EAGAIN;
    s->fn = fn;
    s->arg = arg;
    /* Counted before it starts, so the creator's own exit cannot look like
       the last one while the new thread is still being born. */
    atomic_fetch_add(&program_threads, 1);
    int err = next_pthread_create(t, attr, program_thread, s);
    if (err) {
        atomic_fetch_sub(&program_threads, 1);
        free(s);
    }
    return err;
}

void wb_threads_after_fork_child(void) WB_HIDDEN;
void wb_threads_after_fork_child(void)
{
    atomic_store(&program_threads, 1);   /* only the forking thread exists here */
}
