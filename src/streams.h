/*
 * streams.h — layer 11: stdio streams on tagged fds, replaced by cookie
 * streams whose bytes go through the library, wide output included.
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

bool wb_stream_is_wrapped(FILE *fp) WB_HIDDEN;
/* A stdio call on fp: a stream the library did not wrap lands the file
   behind it, and everything when it may tell another process (a pipe, a
   socket, a terminal); a wrapped one needs nothing. */
void wb_observe_stream(FILE *fp) WB_HIDDEN;
int *wb_stream_orientation(FILE *fp) WB_HIDDEN;   /* fp wrapped */

/* Wide output on a wrapped stream, converted with the current locale. */
int wb_wide_orientation(FILE *fp) WB_HIDDEN;
wint_t wb_wide_putc(wchar_t wc, FILE *fp) WB_HIDDEN;
int wb_wide_puts(const wchar_t *ws, FILE *fp) WB_HIDDEN;
int wb_wide_vfprintf(FILE *fp, const wchar_t *fmt, va_list ap) WB_HIDDEN;

#endif
