/*
 * wrap_stdio_wide.c — wide-character output on wrapped (cookie) streams.
 *
 * A fopencookie() stream is byte-oriented for good: glibc gives it no wide
 * buffer, so wprintf & co. would fail on it where a plain run prints.
 * For a wrapped stream these calls convert to multibyte characters with
 * the current locale (wcrtomb — what a wide stream's codecvt does) and
 * write the bytes through the byte stream, in order with everything else.
 * fwide() reports the orientation the program asked for.  Streams that are
 * not ours go to glibc untouched.
 */
#include "writebehind.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

bool wb_stream_is_wrapped(FILE *fp) WB_HIDDEN;
int *wb_stream_orientation(FILE *fp) WB_HIDDEN;
FILE *wb_stream_current(FILE *fp) WB_HIDDEN;   /* std::wcout's FILE: see wrap_stdio.c */

/* The next definition of a function this file wraps (glibc's). */
#define NEXT(fn)                                                                         \
    ({                                                                                   \
        static __typeof__(fn) *next_##fn;                                                \
        if (!next_##fn)                                                                  \
            next_##fn = (__typeof__(fn) *)dlsym(RTLD_NEXT, #fn);                         \
        next_##fn;                                                                       \
    })

/* glibc orients a stream at its first byte output (printf, fputs, fwrite)
   or its first wide output, for good.  A wrapped stream remembers what the
   plain one would have become. */
static int orientation(FILE *fp)
{
    int *o = wb_stream_orientation(fp);
    if (*o == 0 && fp->_IO_write_ptr > fp->_IO_write_base)
        *o = -1;
    return *o;
}

static wint_t put_wide_char(wchar_t wc, FILE *fp)
{
    if (orientation(fp) < 0) {
        /* glibc's putwc on a byte stream overflows into the byte buffer:
           one byte, the low 8 bits. */
        int c = fputc((unsigned char)wc, fp);
        return c == EOF ? WEOF : (wint_t)c;
    }
    char mb[MB_LEN_MAX];
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = wcrtomb(mb, wc, &st);
    if (n == (size_t)-1) {
        fp->_flags |= 0x0020;   /* _IO_ERR_SEEN, as a wide stream sets on EILSEQ */
        return WEOF;
    }
    *wb_stream_orientation(fp) = 1;
    return fwrite(mb, 1, n, fp) == n ? (wint_t)wc : WEOF;
}

static int put_wide_string(const wchar_t *ws, FILE *fp)
{
    if (orientation(fp) < 0)
        return -1;
    *wb_stream_orientation(fp) = 1;
    for (; *ws; ws++)
        if (put_wide_char(*ws, fp) == WEOF)
            return -1;
    return 1;
}

static int vfwprintf_bytes(FILE *fp, const wchar_t *fmt, va_list ap)
{
    if (orientation(fp) < 0)
        return -1;
    *wb_stream_orientation(fp) = 1;
    size_t cap = 256;
    for (;;) {
        wchar_t *buf = malloc(cap * sizeof *buf);
        if (!buf)
            return -1;
        va_list copy;
        va_copy(copy, ap);
        int n = vswprintf(buf, cap, fmt, copy);
        va_end(copy);
        if (n >= 0) {
            int r = put_wide_string(buf, fp) < 0 ? -1 : n;
            free(buf);
            return r;
        }
        free(buf);
        if (cap >= (1u << 24))
            return -1;   /* an encoding error, not a short buffer */
        cap *= 4;
    }
}

WB_EXPORT int fwide(FILE *fp, int mode)
{
    if (!fp || !wb_stream_is_wrapped(fp))
        return NEXT(fwide)(fp, mode);
    int o = orientation(fp);
    if (o == 0 && mode != 0)
        *wb_stream_orientation(fp) = o = mode > 0 ? 1 : -1;
    return o;
}

#define WIDE_CHAR_PUT(name, fp_expr)                                                     \
    WB_EXPORT wint_t name(wchar_t wc, FILE *fp)                                          \
    {                                                                                    \
        return wb_stream_is_wrapped(fp_expr) ? put_wide_char(wc, fp_expr)                \
                                             : NEXT(name)(wc, fp);                       \
    }
WIDE_CHAR_PUT(fputwc, wb_stream_current(fp))
WIDE_CHAR_PUT(putwc, wb_stream_current(fp))
WIDE_CHAR_PUT(fputwc_unlocked, wb_stream_current(fp))
WIDE_CHAR_PUT(putwc_unlocked, wb_stream_current(fp))

WB_EXPORT wint_t putwchar(wchar_t wc)
{
    return wb_stream_is_wrapped(stdout) ? put_wide_char(wc, stdout) : NEXT(putwchar)(wc);
}
WB_EXPORT wint_t putwchar_unlocked(wchar_t wc)
{
    return wb_stream_is_wrapped(stdout) ? put_wide_char(wc, stdout)
                                        : NEXT(putwchar_unlocked)(wc);
}
WB_EXPORT int fputws(const wchar_t *ws, FILE *fp)
{
    return wb_stream_is_wrapped(fp) ? put_wide_string(ws, fp) : NEXT(fputws)(ws, fp);
}
WB_EXPORT int fputws_unlocked(const wchar_t *ws, FILE *fp)
{
    return wb_stream_is_wrapped(fp) ? put_wide_string(ws, fp) : NEXT(fputws_unlocked)(ws, fp);
}

WB_EXPORT int vfwprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
    return wb_stream_is_wrapped(fp) ? vfwprintf_bytes(fp, fmt, ap) : NEXT(vfwprintf)(fp, fmt, ap);
}
WB_EXPORT int vwprintf(const wchar_t *fmt, va_list ap) { return vfwprintf(stdout, fmt, ap); }
WB_EXPORT int fwprintf(FILE *fp, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfwprintf(fp, fmt, ap);
    va_end(ap);
    return n;
}
WB_EXPORT int wprintf(const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfwprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}

/* _FORTIFY_SOURCE builds import these. */
int __vfwprintf_chk(FILE *, int, const wchar_t *, va_list);
int __vwprintf_chk(int, const wchar_t *, va_list);
int __fwprintf_chk(FILE *, int, const wchar_t *, ...);
int __wprintf_chk(int, const wchar_t *, ...);

WB_EXPORT int __vfwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, va_list ap)
{
    return wb_stream_is_wrapped(fp) ? vfwprintf_bytes(fp, fmt, ap)
                                    : NEXT(__vfwprintf_chk)(fp, flag, fmt, ap);
}
WB_EXPORT int __vwprintf_chk(int flag, const wchar_t *fmt, va_list ap)
{
    return __vfwprintf_chk(stdout, flag, fmt, ap);
}
WB_EXPORT int __fwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __vfwprintf_chk(fp, flag, fmt, ap);
    va_end(ap);
    return n;
}
WB_EXPORT int __wprintf_chk(int flag, const wchar_t *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = __vfwprintf_chk(stdout, flag, fmt, ap);
    va_end(ap);
    return n;
}
