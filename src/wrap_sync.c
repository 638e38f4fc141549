/*
 * wrap_sync.c — layer 13: waking another process through shared memory.
 *
 * A semaphore, condition variable, mutex or rwlock placed in shared memory
 * and made process-shared is a message: the process it wakes may read the
 * file next.  These calls are hot for private objects, so each one tells
 * shared from private with one load of the object's own flag (glibc's ABI,
 * stable since 2.25) and lands only for shared ones.  A spinlock or a
 * barrier carries no such flag; they stay unwrapped (README limitations).
 * A sanitizer runtime may unlock its own mutexes before it is ready, so
 * these are not instrumented and resolve glibc's function on their own
 * (REAL_EARLY); anything pending means the library has started.
 */
#include "observe.h"
#include "real.h"

#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <sys/sem.h>

/* glibc's struct new_sem: "private" is 0 for a private semaphore and
   FUTEX_PRIVATE_FLAG (LLL_SHARED) for a shared one (the futex op is
   XORed with it). */
struct wb_glibc_sem { uint64_t data; int private_flag; int pad; };
#define WB_COND_SHARED_MASK 1u     /* __wrefs bit 0: process-shared */
#define WB_MUTEX_PSHARED_BIT 128   /* __kind */

WB_EXPORT WB_NOT_INSTRUMENTED int sem_post(sem_t *sem)
{
    if (unlikely(WB_ANYTHING_PENDING()) && ((const struct wb_glibc_sem *)sem)->private_flag != 0)
        wb_land_all();
    return REAL_EARLY(sem_post)(sem);
}

WB_EXPORT WB_NOT_INSTRUMENTED int pthread_cond_signal(pthread_cond_t *c)
{
    if (unlikely(WB_ANYTHING_PENDING()) && (c->__data.__wrefs & WB_COND_SHARED_MASK))
        wb_land_all();
    return REAL_EARLY(pthread_cond_signal)(c);
}

WB_EXPORT WB_NOT_INSTRUMENTED int pthread_cond_broadcast(pthread_cond_t *c)
{
    if (unlikely(WB_ANYTHING_PENDING()) && (c->__data.__wrefs & WB_COND_SHARED_MASK))
        wb_land_all();
    return REAL_EARLY(pthread_cond_broadcast)(c);
}

WB_EXPORT WB_NOT_INSTRUMENTED int pthread_mutex_unlock(pthread_mutex_t *m)
{
    if (unlikely(WB_ANYTHING_PENDING()) && (m->__data.__kind & WB_MUTEX_PSHARED_BIT))
        wb_land_all();
    return REAL_EARLY(pthread_mutex_unlock)(m);
}

WB_EXPORT WB_NOT_INSTRUMENTED int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    if (unlikely(WB_ANYTHING_PENDING()) && l->__data.__shared)
        wb_land_all();
    return REAL_EARLY(pthread_rwlock_unlock)(l);
}

/* ---- System V and POSIX IPC objects --------------------------------------------
 *
 * semctl SETVAL/SETALL/IPC_RMID wake the processes waiting on the set; an
 * mq_open or sem_open that creates a name makes an object other processes
 * may be waiting to find: land everything first (not hot calls). */
WB_EXPORT int semctl(int id, int num, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    union { int val; void *buf; } arg = { .buf = va_arg(ap, void *) };   /* union semun: one word */
    va_end(ap);
    if (cmd == SETVAL || cmd == SETALL || cmd == IPC_RMID)
        wb_observe_all();
    return REAL(semctl)(id, num, cmd, arg.buf);
}

WB_EXPORT mqd_t mq_open(const char *name, int oflag, ...)
{
    va_list ap;
    va_start(ap, oflag);
    mode_t mode = 0;
    struct mq_attr *attr = NULL;
    if (oflag & O_CREAT) {
        mode = va_arg(ap, mode_t);
        attr = va_arg(ap, struct mq_attr *);
        wb_observe_all();
    }
    va_end(ap);
    return REAL(mq_open)(name, oflag, mode, attr);
}

WB_EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
    va_list ap;
    va_start(ap, oflag);
    mode_t mode = 0;
    unsigned value = 0;
    if (oflag & O_CREAT) {
        mode = va_arg(ap, mode_t);
        value = va_arg(ap, unsigned);
        wb_observe_all();
    }
    va_end(ap);
    return REAL(sem_open)(name, oflag, mode, value);
}
