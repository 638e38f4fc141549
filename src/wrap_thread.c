/*
 * wrap_thread.c — layer 13: pthread_create, counted (threads.c); the
 * library's own flusher passes uncounted (sys.c starts it through here).
 */
#include "lifecycle.h"
#include "real.h"
#include "threads.h"

#include <errno.h>

WB_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg)
{
    if (wb_starting_own_thread)
        return REAL(pthread_create)(t, attr, fn, arg);
    wb_ready();
    int err = wb_threads_create(t, attr, fn, arg);
    if (err == EAGAIN && wb_state_now() != WB_UNINIT) {
        /* No task slot (RLIMIT_NPROC) or address space (RLIMIT_AS) left:
           without our writer there would have been; stop it, try again. */
        wb_lone_thread(false);
        err = wb_threads_create(t, attr, fn, arg);
    }
    return err;
}
