/*
 * io.c — the one place bytes meet the kernel on the library's behalf,
 * and the one place the library speaks.
 *
 * wb_write_all() is the EINTR/short-write loop, written once (as in redis's
 * bio.c).  Messages are single lines on stderr starting "writebehind:";
 * they never change errno.
 */
#include "writebehind.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

int wb_write_all(int fd, const char *buf, size_t len, size_t *written)
{
    size_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t n = REAL(write)(fd, buf + done, len - done);
        atomic_fetch_add_explicit(&wb_stats.syscalls, 1, memory_order_relaxed);
        if (n > 0) {
            done += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            /* write() returning 0 for a non-zero count means no progress is possible. */
            err = n < 0 ? errno : EIO;
            break;
        }
    }
    if (written)
        *written = done;
    return err;
}

static void say_to_stderr(const char *fmt, va_list ap)
{
    int saved = errno;
    char line[1024];
    size_t len = (size_t)snprintf(line, sizeof line, "writebehind: ");
    int n = vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
    if (n < 0)
        n = 0;
    len += (size_t)n;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';

    /* stderr may itself be a tagged file: land what the program wrote to it
       first, so our line appears where it happened. */
    uintptr_t e = wb_fdtab_get(2);
    if (wb_is_file(e))
        wb_file_drain((struct wb_file *)e);
    wb_write_all(2, line, len, NULL);
    errno = saved;
}

void wb_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_to_stderr(fmt, ap);
    va_end(ap);
}

void wb_debug(const char *fmt, ...)
{
    if (!wb_cfg.debug)
        return;
    va_list ap;
    va_start(ap, fmt);
    say_to_stderr(fmt, ap);
    va_end(ap);
}

/* Called by the thread whose write failed, holding no lock and possibly
   owning the flight of fd 2's file: so this line is written directly,
   without draining stderr first. */
void wb_report_error(const char *path, int fd, int err, size_t lost)
{
    int saved = errno;
    char line[1024];
    int n = snprintf(line, sizeof line,
                     "writebehind: could not write %zu bytes to %s (fd %d): %s; the program "
                     "is told at its next call on that file (free space or fix the error, "
                     "then rerun)\n",
                     lost, path ? path : "a file", fd, strerror(err));
    atomic_fetch_add_explicit(&wb_stats.errors, 1, memory_order_relaxed);
    if (n > 0)
        wb_write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, NULL);
    errno = saved;
}

void wb_raise_for_error(int err)
{
    /* The kernel sends these to the thread that wrote; the background
       write had them blocked, so the program's thread gets them now. */
    int sig = err == EPIPE ? SIGPIPE : err == EFBIG ? SIGXFSZ : 0;
    if (sig)
        REAL(syscall)(SYS_tgkill, getpid(), (pid_t)REAL(syscall)(SYS_gettid), sig);
}
