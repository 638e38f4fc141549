/*
 * wrap_message.c — layer 13: error and log messages with variadic formats.
 *
 * err(), warn(), error() and syslog() print through glibc's internal
 * __fxprintf/__vfxprintf or send to syslogd, where no wrapper sees the
 * write: a message on a terminal or a log may tell someone that a file is
 * ready, so what their va_list twins' generated wrappers do (the
 * catalogue: land the stream unless it is ours, or everything) is done
 * here first, then the real va_list twin prints.  error() has no exported
 * twin: the message is formatted here and handed to the real error() as
 * "%s", which prints it byte for byte as it would have.
 */
#include "lifecycle.h"
#include "observe.h"
#include "real.h"
#include "streams.h"

#include <err.h>
#include <errno.h>
#include <error.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#define AS_V(fmt, landing, call)                                                         \
    do {                                                                                 \
        va_list ap;                                                                      \
        va_start(ap, fmt);                                                               \
        landing;                                                                         \
        call;                                                                            \
        va_end(ap);                                                                      \
    } while (0)

WB_EXPORT void warn(const char *fmt, ...)
{ AS_V(fmt, wb_observe_stream(stderr), REAL(vwarn)(fmt, ap)); }
WB_EXPORT void warnx(const char *fmt, ...)
{ AS_V(fmt, wb_observe_stream(stderr), REAL(vwarnx)(fmt, ap)); }
WB_EXPORT void err(int status, const char *fmt, ...)
{
    AS_V(fmt, wb_observe_stream(stderr), REAL(verr)(status, fmt, ap));
    __builtin_unreachable();
}
WB_EXPORT void errx(int status, const char *fmt, ...)
{
    AS_V(fmt, wb_observe_stream(stderr), REAL(verrx)(status, fmt, ap));
    __builtin_unreachable();
}

WB_EXPORT void syslog(int pri, const char *fmt, ...)
{ AS_V(fmt, wb_observe_all(), REAL(vsyslog)(pri, fmt, ap)); }

/* The message error() would format, or NULL (out of memory: then the
   format goes as it is, without its arguments' values — never silently
   dropped).  errno is kept for the caller's %m and for error() itself. */
static char *formatted(const char *fmt, va_list ap)
{
    int saved = errno;
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    errno = saved;
    return msg;
}

#define ERROR_BODY(fmt, call_with)                                                       \
    do {                                                                                 \
        va_list ap;                                                                      \
        va_start(ap, fmt);                                                               \
        wb_observe_stream(stdout);                                                       \
        wb_observe_stream(stderr);                                                       \
        char *msg = formatted(fmt, ap);                                                  \
        va_end(ap);                                                                      \
        int saved = errno;                                                               \
        if (status == 0) {                                                               \
            errno = saved;                                                               \
            call_with(msg ? "%s" : fmt, msg);                                            \
            saved = errno;                                                               \
            free(msg);                                                                   \
            errno = saved;                                                               \
        } else {                                                                         \
            errno = saved;                                                               \
            call_with(msg ? "%s" : fmt, msg);   /* exits: msg goes with the process */   \
        }                                                                                \
    } while (0)

#define CALL_ERROR(f, m) REAL(error)(status, errnum, f, m)
#define CALL_ERROR_AT_LINE(f, m) REAL(error_at_line)(status, errnum, fname, lineno, f, m)

WB_EXPORT void error(int status, int errnum, const char *fmt, ...)
{ ERROR_BODY(fmt, CALL_ERROR); }
WB_EXPORT void error_at_line(int status, int errnum, const char *fname, unsigned int lineno,
                             const char *fmt, ...)
{ ERROR_BODY(fmt, CALL_ERROR_AT_LINE); }
