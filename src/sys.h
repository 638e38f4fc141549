/*
 * sys.h — layer 1: the few system-level primitives the library itself uses.
 *
 * Everything here talks to the kernel through REAL() (never through our
 * own wrappers) and knows nothing about files, buffers or configuration.
 */
#ifndef WB_SYS_H
#define WB_SYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WB_HIDDEN __attribute__((visibility("hidden")))
#define WB_EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* For code that runs before a sanitizer runtime is ready, or in a thread it
   does not know yet. */
#define WB_NOT_INSTRUMENTED __attribute__((no_sanitize("thread", "address", "undefined")))

/* The EINTR/short-write loop, written once: writes all of buf with wr
   (REAL(write), or the library's own write operation), returns 0 or errno;
   *written (may be NULL) says how much went in; *calls (may be NULL) counts
   the write calls made.  A write returning 0 for a non-zero count is EIO. */
typedef ssize_t (*wb_write_fn)(int fd, const void *buf, size_t len);
int wb_write_all_with(wb_write_fn wr, int fd, const void *buf, size_t len, size_t *written,
                      _Atomic uint64_t *calls) WB_HIDDEN;
/* The same with the kernel's write. */
int wb_write_all(int fd, const void *buf, size_t len, size_t *written,
                 _Atomic uint64_t *calls) WB_HIDDEN;

/* futex on a private word: wait while *word == expected (timeout NULL:
   forever; EINTR and spurious wake-ups return early), wake every waiter. */
void wb_futex_wait(_Atomic unsigned *word, unsigned expected, const struct timespec *timeout)
    WB_HIDDEN;
void wb_futex_wake_all(_Atomic unsigned *word) WB_HIDDEN;

/* Sends sig to the calling thread (what the kernel does to a writer that
   meets EPIPE or RLIMIT_FSIZE). */
void wb_signal_self(int sig) WB_HIDDEN;
/* The signal a plain write() would have raised for err (SIGPIPE for EPIPE,
   SIGXFSZ for EFBIG), sent to the calling thread; nothing for other errors. */
void wb_raise_for_error(int err) WB_HIDDEN;
/* Blocks (how == SIG_BLOCK) or sets the calling thread's signal mask with a
   raw system call: safe in a signal handler. */
void wb_sigmask_raw(int how, const void *set, void *old) WB_HIDDEN;

/* Milliseconds on a monotonic clock (coarse: the age timer's resolution). */
uint64_t wb_now_ms(void) WB_HIDDEN;
/* Microseconds on a monotonic clock (for waits the statistics measure). */
uint64_t wb_now_us(void) WB_HIDDEN;

/* Starts a thread of the library's own through the global pthread_create
   (a sanitizer runtime preloaded before us must see every thread; our own
   pthread_create wrapper lets it pass uncounted: wb_starting_own_thread). */
int wb_start_own_thread(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
    WB_HIDDEN;
extern __thread bool wb_starting_own_thread __attribute__((tls_model("initial-exec"))) WB_HIDDEN;

#endif
