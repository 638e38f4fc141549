/*
 * io.c — the one place bytes meet the kernel on the library's behalf,
 * and the one place the library speaks.
 *
 * wb_write_all() is the EINTR/short-write loop, written once (as in redis's
 * bio.c).  Messages are single lines on stderr starting "writebehind:";
 * they never change errno.
 *
 * The library's voice must never enter a program's data.  A program may
 * close fd 2 and open a file that takes its number (coreutils close stderr
 * at exit; daemons reopen it): a line written to "fd 2" then lands in that
 * file.  So the library speaks only while fd 2 is still the stderr the
 * process started with: its device and inode, taken once at start-up (one
 * fstat), are compared before each message, and a process started without
 * fd 2 never speaks.  A copy of fd 2 kept at a high number would be exact
 * too, but it would hold the description open: a reader waiting for the
 * program to close its stderr (a pipe's EOF, `$(cmd 2>&1)`) would wait
 * for our copy instead, and it costs a descriptor at `ulimit -n 8`.  The
 * identity check errs only when fd 2 was reopened on the very same file
 * (the same terminal, /dev/null, the log stderr was sent to), where a
 * line is where the user sent stderr anyway.
 */
#include "writebehind.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

int wb_write_all(int fd, const char *buf, size_t len, size_t *written)
{
    return wb_write_all_counted(fd, buf, len, written, NULL);
}

int wb_write_all_counted(int fd, const char *buf, size_t len, size_t *written, unsigned *calls)
{
    size_t done = 0;
    int err = 0;
    while (done < len) {
        ssize_t n = REAL(write)(fd, buf + done, len - done);
        atomic_fetch_add_explicit(&wb_stats.syscalls, 1, memory_order_relaxed);
        if (calls)
            ++*calls;
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

/* fd 2 as the process started with it (see the header comment). */
enum { ORIGIN_UNTAKEN = 0, ORIGIN_OPEN, ORIGIN_CLOSED };
static int stderr_origin;
static dev_t stderr_dev;
static ino_t stderr_ino;

void wb_stderr_remember(void)
{
    struct stat st;
    int saved = errno;
    if (REAL(fstat)(2, &st) == 0) {
        stderr_dev = st.st_dev;
        stderr_ino = st.st_ino;
        __atomic_store_n(&stderr_origin, ORIGIN_OPEN, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&stderr_origin, ORIGIN_CLOSED, __ATOMIC_RELEASE);
    }
    errno = saved;
}

/* Before start-up has taken fd 2's identity (while the configuration is
   read, before the program's main), fd 2 is the one the process started
   with: nothing of the program has run yet. */
bool wb_stderr_is_original(void)
{
    int origin = __atomic_load_n(&stderr_origin, __ATOMIC_ACQUIRE);
    if (origin != ORIGIN_OPEN)
        return origin == ORIGIN_UNTAKEN;
    struct stat st;
    int saved = errno;
    bool same = REAL(fstat)(2, &st) == 0 && st.st_dev == stderr_dev && st.st_ino == stderr_ino;
    errno = saved;
    return same;
}

/* One line, whole, to fd 2; not counted as a write made for a file. */
static void write_line(const char *line, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = REAL(write)(2, line + done, len - done);
        if (n > 0)
            done += (size_t)n;
        else if (!(n < 0 && errno == EINTR))
            break;
    }
}

void wb_say_line(const char *line, size_t len)
{
    int saved = errno;
    if (wb_stderr_is_original())
        write_line(line, len);
    errno = saved;
}

static void say_to_stderr(const char *fmt, va_list ap)
{
    int saved = errno;
    if (!wb_stderr_is_original()) {
        errno = saved;
        return;
    }
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
    write_line(line, len);
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
        wb_say_line(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
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
