/*
 * threads.h — layer 11: knowing when the program's last thread is gone.
 */
#ifndef WB_THREADS_H
#define WB_THREADS_H

#include "sys.h"

#include <pthread.h>

/* Once, from start-up (any thread): when the program's last thread leaves,
   on_last runs there (what remains is glibc's exit(0)). */
void wb_threads_init(void (*on_last)(void)) WB_HIDDEN;
/* pthread_create for the program: counted, and seen leaving. */
int wb_threads_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
    WB_HIDDEN;
/* A thread ends with a raw exit system call (its key destructor never runs). */
void wb_threads_left_raw(void) WB_HIDDEN;
void wb_threads_after_fork_child(void) WB_HIDDEN;

#endif
