/*
 * say.c — layer 2: messages on stderr.
 *
 * One line each, prefixed "writebehind: ", formatted on the stack (no
 * allocation, so a message is safe wherever the library may need one), and
 * written with the kernel's write in one call.
 */
#include "say.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool wb_say_debug;
void (*_Atomic wb_say_before)(void);

static void say_line(bool land_first, const char *fmt, va_list ap)
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
    wb_say_unlanded("could not write %zu bytes to %s (fd %d): %s; the program is told at its next "
               "call on that file (free space or fix the error, then rerun)",
               lost, path ? path : "a file", fd, strerror(err));
}
