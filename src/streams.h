/*
 * streams.h — layer 11: stdio streams on tagged fds, replaced by cookie
 * streams whose bytes go through the library.
 */
#ifndef WB_STREAMS_H
#define WB_STREAMS_H

#include "sys.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <wchar.h>

/* At start-up: stdout and stderr, when they are tagged files. */
void wb_stdio_init(void) WB_HIDDEN;
/* A cookie stream standing in for shadow, or NULL (then use shadow). */
FILE *wb_stream_wrap(FILE *shadow) WB_HIDDEN;
/* A stream fopen() just made: classified like open() does, then wrapped. */
FILE *wb_stream_opened(FILE *fp, const char *path) WB_HIDDEN;
FILE *wb_stream_reopen(const char *path, const char *mode, FILE *stream, bool is64) WB_HIDDEN;
int wb_stream_close(FILE *stream) WB_HIDDEN;   /* stream not NULL */
int wb_streams_close_all(void) WB_HIDDEN;
/* fflush (locked) or fflush_unlocked. */
int wb_stream_flush(FILE *stream, bool locked) WB_HIDDEN;
int wb_vdprintf(int fd, const char *fmt, va_list ap) WB_HIDDEN;

/* The standard streams' originals.  libstdc++ 13+ and libc++ construct
   std::cout/std::cerr (and the wide ones) in their own initialisation,
   before our constructor, on the FILEs `stdout`/`stderr` pointed at then —
   the ones that became our shadows — and their stream buffers call putc,
   fputc, fwrite, fflush, putwc (getc, ungetc, fread, fseeko, ftello to
   read and seek) on the pointer they kept.  Those calls, from anyone, on
   the shadow of a wrapped standard stream are served by the cookie stream
   that replaced it, so std::cout and printf share one buffer again.  The
   cookie is set before the shadow and the shadow cleared before the
   cookie: a caller that matched a shadow finds the cookie or, while it is
   being closed, keeps its own FILE. */
extern FILE *wb_std_shadow[2] WB_HIDDEN;
extern FILE *wb_std_cookie[2] WB_HIDDEN;

/* The stream a call on fp means: fp, unless it is such a shadow. */
static inline FILE *wb_stream_current(FILE *fp)
{
    for (int i = 0; i < 2; i++)
        if (__builtin_expect(fp == __atomic_load_n(&wb_std_shadow[i], __ATOMIC_ACQUIRE), 0)) {
            FILE *cookie = __atomic_load_n(&wb_std_cookie[i], __ATOMIC_ACQUIRE);
            return cookie ? cookie : fp;
        }
    return fp;
}

/* A stdio call on fp: a stream the library did not wrap lands the file
   behind it, and everything when it may tell another process (a pipe, a
   socket, a terminal); a wrapped one needs nothing, unless it is not yet
   byte-oriented (the call may make it a wide stream, which is glibc's own). */
void wb_observe_stream(FILE *fp) WB_HIDDEN;

/* A call that positions or reads in bulk on a wrapped stream runs glibc's
   file-stream code (streams.c): true when fp is wrapped and now locked,
   landed and lent glibc's file operations; then the real call, then
   wb_stream_return_file_ops(fp). */
bool wb_stream_borrow_file_ops(FILE *fp) WB_HIDDEN;
void wb_stream_return_file_ops(FILE *fp) WB_HIDDEN;

#endif
