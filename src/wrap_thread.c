/*
 * wrap_thread.c — layer 13: pthread_create, counted (threads.c); the
 * library's own flusher passes uncounted (sys.c starts it through here).
 */
#include "lifecycle.h"
#include "real.h"
#include "threads.h"

WB_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg)
{
    if (wb_starting_own_thread)
        return REAL(pthread_create)(t, attr, fn, arg);
    wb_ready();
    return wb_threads_create(t, attr, fn, arg);
}
