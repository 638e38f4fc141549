/*
 * wrap_stdio.c — layer 13: the stdio entry points (streams.c does the work).
 */
#include "lifecycle.h"
#include "observe.h"
#include "real.h"
#include "streams.h"
#include "tagging.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

WB_EXPORT FILE *fopen(const char *path, const char *mode)
{
    wb_ready();
    wb_observe_path(AT_FDCWD, path, 0);
    return wb_stream_opened(REAL(fopen)(path, mode), path);
}

WB_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    wb_ready();
    wb_observe_path(AT_FDCWD, path, 0);
    return wb_stream_opened(REAL(fopen64)(path, mode), path);
}

WB_EXPORT FILE *fdopen(int fd, const char *mode)
{
    FILE *fp = REAL(fdopen)(fd, mode);
    if (!fp || !wb_ready())
        return fp;
    FILE *cookie = wb_stream_wrap(fp);
    return cookie ? cookie : fp;
}

/* A tmpfile() stream is glibc's own, which seeks, reads and writes its fd
   where no wrapper sees it: the file is never buffered, so a raw write on
   fileno() (or a dup of it) goes straight where the stream expects it. */
static FILE *glibc_keeps(FILE *fp)
{
    struct stat st;
    int saved = errno;
    if (fp && wb_ready() && REAL(fstat)(fileno(fp), &st) == 0)
        wb_inode_unbuffered(fileno(fp), &st);
    errno = saved;
    return fp;
}
WB_EXPORT FILE *tmpfile(void) { return glibc_keeps(REAL(tmpfile)()); }
WB_EXPORT FILE *tmpfile64(void) { return glibc_keeps(REAL(tmpfile64)()); }

WB_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    wb_ready();
    return wb_stream_reopen(path, mode, stream, false);
}
WB_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    wb_ready();
    return wb_stream_reopen(path, mode, stream, true);
}

/* glibc 2.41 declares the stream argument nonnull; a program may still
   pass NULL, and glibc's answer must stay the answer. */
WB_EXPORT int fclose(FILE *stream)
{
    FILE *volatile maybe_null = stream;
    if (!maybe_null)
        return REAL(fclose)(stream);
    return wb_stream_close(wb_stream_current(stream));
}

WB_EXPORT int fcloseall(void) { return wb_streams_close_all(); }
WB_EXPORT int fflush(FILE *stream) { return wb_stream_flush(wb_stream_current(stream), true); }
WB_EXPORT int fflush_unlocked(FILE *stream)
{
    return wb_stream_flush(wb_stream_current(stream), false);
}

/* What C++ stream buffers (libstdc++'s stdio_sync_filebuf, libc++'s
   __stdoutbuf) call on the FILE they kept: the catalogue's LAND_FILE
   landing, on the stream wb_stream_current() names (streams.h). */
#define ON_CURRENT(ret, name, params, args)                                              \
    WB_EXPORT ret name params                                                            \
    {                                                                                    \
        fp = wb_stream_current(fp);                                                      \
        wb_observe_stream(fp);                                                           \
        return REAL(name) args;                                                          \
    }
ON_CURRENT(size_t, fwrite, (const void *restrict p, size_t size, size_t n, FILE *restrict fp),
           (p, size, n, fp))
ON_CURRENT(int, fputc, (int c, FILE *fp), (c, fp))
ON_CURRENT(int, putc, (int c, FILE *fp), (c, fp))
ON_CURRENT(size_t, fread, (void *restrict p, size_t size, size_t n, FILE *restrict fp),
           (p, size, n, fp))
ON_CURRENT(int, getc, (FILE *fp), (fp))
ON_CURRENT(int, ungetc, (int c, FILE *fp), (c, fp))
ON_CURRENT(int, fseeko, (FILE *fp, off_t off, int whence), (fp, off, whence))
ON_CURRENT(int, fseeko64, (FILE *fp, off64_t off, int whence), (fp, off, whence))
ON_CURRENT(off_t, ftello, (FILE *fp), (fp))
ON_CURRENT(off64_t, ftello64, (FILE *fp), (fp))

WB_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
    wb_ready();
    return wb_vdprintf(fd, fmt, ap);
}
WB_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    (void)flag;
    wb_ready();
    return wb_vdprintf(fd, fmt, ap);
}
/* The body of a variadic export that is its va_list twin: before, then
   the call with ap. */
#define VARIADIC_AS_V(before, call)                                                      \
    va_list ap;                                                                          \
    va_start(ap, fmt);                                                                   \
    before;                                                                              \
    int n = call;                                                                        \
    va_end(ap);                                                                          \
    return n

WB_EXPORT int dprintf(int fd, const char *fmt, ...)
{
    VARIADIC_AS_V(wb_ready(), wb_vdprintf(fd, fmt, ap));
}
WB_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
    (void)flag;
    VARIADIC_AS_V(wb_ready(), wb_vdprintf(fd, fmt, ap));
}

/* printf & co. on a stream the library did not wrap (a pipe, a terminal):
   what it prints may tell another process that a file is ready, so
   everything lands first, as the catalogue's generated v* twins do. */
WB_EXPORT int printf(const char *fmt, ...)
{
    VARIADIC_AS_V(wb_observe_stream(stdout), REAL(vprintf)(fmt, ap));
}
WB_EXPORT int fprintf(FILE *fp, const char *fmt, ...)
{
    VARIADIC_AS_V(wb_observe_stream(fp), REAL(vfprintf)(fp, fmt, ap));
}
WB_EXPORT int __printf_chk(int flag, const char *fmt, ...)
{
    VARIADIC_AS_V(wb_observe_stream(stdout), REAL(__vprintf_chk)(flag, fmt, ap));
}
WB_EXPORT int __fprintf_chk(FILE *fp, int flag, const char *fmt, ...)
{
    VARIADIC_AS_V(wb_observe_stream(fp), REAL(__vfprintf_chk)(fp, flag, fmt, ap));
}
