/*
 * say.c — layer 2: messages on stderr.
 *
 * One line each, prefixed "writebehind: ", formatted on the stack (no
 * allocation, so a message is safe wherever the library may need one), and
 * written with the kernel's write in one call.
 *
 * The library's voice must never enter a program's data.  A program may
 * close fd 2 and open a file that takes its number (coreutils close stderr
 * at exit; daemons reopen it): a line written to "fd 2" would then land in
 * that file.  So the library speaks only while fd 2 is still the stderr the
 * process started with: its device and inode, taken at start-up (from the
 * fstat start-up makes of fd 2 anyway), are compared before each message,
 * and a process started without fd 2 never speaks.  A process that never
 * speaks pays nothing for this.  A copy of fd 2 kept at a high number would
 * be exact too, but it would hold the description open: a reader waiting
 * for the program to close its stderr (a pipe's EOF, `$(cmd 2>&1)`) would
 * wait for our copy instead, and it costs a descriptor at `ulimit -n 8`.  The
 * identity check errs only when fd 2 was reopened on the very same file
 * (the same terminal, /dev/null, the log stderr was sent to), where a line
 * is where the user sent stderr anyway.
 */
#include "say.h"

#include "real.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool wb_say_debug;
void (*_Atomic wb_say_before)(void);

/* fd 2 as the process started with it (see above).  Taken for free from
   the fstat start-up makes of fd 2 anyway (the stdio set-up classifies it,
   tagging.c), or with one fstat when start-up ends without it; a process
   that will not buffer anything (disabled, misconfigured, --skip) takes
   nothing and stays silent from then on: it has nothing more to say. */
enum {
    ORIGIN_UNTAKEN = 0,
    ORIGIN_OPEN,     /* stderr_dev/stderr_ino */
    ORIGIN_NONE,     /* started without fd 2: never speaks */
    ORIGIN_SILENT    /* not buffering: took nothing, has nothing to say */
};
static int stderr_origin;
static bool settled;
static dev_t stderr_dev;
static ino_t stderr_ino;

/* A program started by a process whose fd 2 was no longer its origin gets
   that origin in WRITEBEHIND_STDERR ("DEV:INO", or "-" for none): the
   child's fd 2 is then the parent's data file, and the rule holds across
   the exec.  Read at the first question, before start-up's own look. */
static void inherit_origin(void)
{
    static bool asked;
    if (__atomic_exchange_n(&asked, true, __ATOMIC_ACQ_REL))
        return;
    const char *v = getenv(WB_STDERR_VAR);
    if (!v)
        return;
    char *end;
    unsigned long long dev = strtoull(v, &end, 10);
    if (*end == ':' && end > v) {
        unsigned long long ino = strtoull(end + 1, &end, 10);
        if (!*end) {
            stderr_dev = (dev_t)dev;
            stderr_ino = (ino_t)ino;
            __atomic_store_n(&stderr_origin, ORIGIN_OPEN, __ATOMIC_RELEASE);
            return;
        }
    }
    __atomic_store_n(&stderr_origin, ORIGIN_NONE, __ATOMIC_RELEASE);   /* "-", or garbled */
}

void wb_stderr_seen(dev_t dev, ino_t ino)
{
    inherit_origin();
    if (__atomic_load_n(&settled, __ATOMIC_ACQUIRE) ||
        __atomic_load_n(&stderr_origin, __ATOMIC_ACQUIRE) != ORIGIN_UNTAKEN)
        return;
    stderr_dev = dev;
    stderr_ino = ino;
    __atomic_store_n(&stderr_origin, ORIGIN_OPEN, __ATOMIC_RELEASE);
}

void wb_stderr_settle(bool will_speak)
{
    inherit_origin();
    if (!will_speak)
        __atomic_store_n(&stderr_origin, ORIGIN_SILENT, __ATOMIC_RELEASE);
    if (__atomic_load_n(&stderr_origin, __ATOMIC_ACQUIRE) == ORIGIN_UNTAKEN) {
        struct stat st;
        int saved = errno;
        if (REAL(fstat)(2, &st) == 0)
            wb_stderr_seen(st.st_dev, st.st_ino);
        else
            __atomic_store_n(&stderr_origin, ORIGIN_NONE, __ATOMIC_RELEASE);
        errno = saved;
    }
    __atomic_store_n(&settled, true, __ATOMIC_RELEASE);
}

/* Until start-up has settled (while the configuration is read, before the
   program's main), fd 2 is the one the process started with: nothing of
   the program has run yet. */
bool wb_stderr_is_original(void)
{
    inherit_origin();
    int origin = __atomic_load_n(&stderr_origin, __ATOMIC_ACQUIRE);
    if (origin != ORIGIN_OPEN)
        return origin == ORIGIN_UNTAKEN && !__atomic_load_n(&settled, __ATOMIC_ACQUIRE);
    struct stat st;
    int saved = errno;
    bool same = REAL(fstat)(2, &st) == 0 && st.st_dev == stderr_dev && st.st_ino == stderr_ino;
    errno = saved;
    return same;
}

bool wb_stderr_for_children(char *entry, size_t size)
{
    int origin = __atomic_load_n(&stderr_origin, __ATOMIC_ACQUIRE);
    if (origin == ORIGIN_NONE) {
        snprintf(entry, size, "%s=-", WB_STDERR_VAR);
        return true;
    }
    if (origin != ORIGIN_OPEN || wb_stderr_is_original())
        return false;
    snprintf(entry, size, "%s=%llu:%llu", WB_STDERR_VAR, (unsigned long long)stderr_dev,
             (unsigned long long)stderr_ino);
    return true;
}

void wb_say_line(const char *line, size_t len)
{
    int saved = errno;
    if (wb_stderr_is_original())
        wb_write_all(2, line, len, NULL, NULL);
    errno = saved;
}

static void say_line(bool land_first, const char *fmt, va_list ap)
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
    void (*before)(void) = atomic_load_explicit(&wb_say_before, memory_order_acquire);
    if (land_first && before)
        before();
    wb_write_all(2, line, len, NULL, NULL);
    errno = saved;
}

void wb_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_line(true, fmt, ap);
    va_end(ap);
}

void wb_debug(const char *fmt, ...)
{
    if (!wb_say_debug)
        return;
    va_list ap;
    va_start(ap, fmt);
    say_line(true, fmt, ap);
    va_end(ap);
}

void wb_say_unlanded(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say_line(false, fmt, ap);
    va_end(ap);
}

void wb_say_write_error(const char *path, int fd, int err, size_t lost)
{
    char link[32], name[512];
    if (!path) {   /* an inherited fd's file is named when it fails */
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, name, sizeof name - 1);
        if (n > 0) {
            name[n] = 0;
            path = name;
        }
    }
    wb_say_unlanded("could not write %zu bytes to %s (fd %d): %s; the program is told at its next "
               "call on that file (free space or fix the error, then rerun)",
               lost, path ? path : "a file", fd, strerror(err));
}
