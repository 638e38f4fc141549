/*
 * sys.c — layer 1: write-all, futex, signals to self, clocks, own threads.
 *
 * The one EINTR/short-write loop lives here (as in redis's bio.c); every
 * other place that must write a whole buffer calls it with the write
 * function it needs.  Nothing here takes a lock or allocates.
 */
#include "sys.h"

#include "real.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

int wb_write_all_with(wb_write_fn wr, int fd, const void *buf, size_t len, size_t *written,
                      _Atomic uint64_t *calls)
{
    const char *p = buf;
    size_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t n = wr(fd, p + done, len - done);
        if (calls)
            atomic_fetch_add_explicit(calls, 1, memory_order_relaxed);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            err = n < 0 ? errno : EIO;
            break;
        }
    }
    if (written)
        *written = done;
    return err;
}

static ssize_t kernel_write(int fd, const void *buf, size_t len)
{
    return REAL(write)(fd, buf, len);
}

int wb_write_all(int fd, const void *buf, size_t len, size_t *written, _Atomic uint64_t *calls)
{
    return wb_write_all_with(kernel_write, fd, buf, len, written, calls);
}

void wb_futex_wait(_Atomic unsigned *word, unsigned expected, const struct timespec *timeout)
{
    int saved = errno;
    REAL(syscall)(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, timeout, NULL, 0);
    errno = saved;
}

void wb_futex_wake_all(_Atomic unsigned *word)
{
    REAL(syscall)(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void wb_signal_self(int sig)
{
    REAL(syscall)(SYS_tgkill, getpid(), (pid_t)REAL(syscall)(SYS_gettid), sig);
}

void wb_raise_for_error(int err)
{
    /* The kernel sends these to the thread that wrote; the background
       write had them blocked, so the program's thread gets them now. */
    int sig = err == EPIPE ? SIGPIPE : err == EFBIG ? SIGXFSZ : 0;
    if (sig)
        wb_signal_self(sig);
}

void wb_sigmask_raw(int how, const void *set, void *old)
{
    REAL(syscall)(SYS_rt_sigprocmask, how, set, old, _NSIG / 8);
}

uint64_t wb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t wb_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

__thread bool wb_starting_own_thread __attribute__((tls_model("initial-exec")));

int wb_start_own_thread(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    /* RTLD_DEFAULT: the first pthread_create in the process (a sanitizer's,
       else ours), not the next one after us. */
    static __typeof__(pthread_create) *global_create;
    if (!global_create)
        global_create = (__typeof__(pthread_create) *)dlsym(RTLD_DEFAULT, "pthread_create");
    if (!global_create)
        return EAGAIN;
    wb_starting_own_thread = true;
    int err = global_create(t, attr, fn, arg);
    wb_starting_own_thread = false;
    return err;
}
