/*
 * wrap_stdio_wide.c — layer 13: wide-character output; on our cookie
 * streams it is converted (streams.c), other streams go to glibc
 * untouched.
 */
#include "real.h"
#include "streams.h"

#include <stdarg.h>
#include <wchar.h>

WB_EXPORT int fwide(FILE *fp, int mode)
{
    if (!fp || !wb_stream_is_wrapped(fp))
        return REAL(fwide)(fp, mode);
    int o = wb_wide_orientation(fp);
    if (o == 0 && mode != 0)
        *wb_stream_orientation(fp) = o = mode > 0 ? 1 : -1;
    return o;
}

#define WIDE_CHAR_PUT(name, fp_expr)                                                     \
    WB_EXPORT wint_t name(wchar_t wc, FILE *fp)                                          \
    {                                                                                    \
        return wb_stream_is_wrapped(fp_expr) ? wb_wide_putc(wc, fp_expr)                \
                                             : REAL(name)(wc, fp);                       \
    }
/* std::wcout's FILE is the original stdout: see wb_stream_current(). */
WIDE_CHAR_PUT(fputwc, wb_stream_current(fp))
WIDE_CHAR_PUT(putwc, wb_stream_current(fp))
WIDE_CHAR_PUT(fputwc_unlocked, wb_stream_current(fp))
WIDE_CHAR_PUT(putwc_unlocked, wb_stream_current(fp))

WB_EXPORT wint_t putwchar(wchar_t wc)
{
    return wb_stream_is_wrapped(stdout) ? wb_wide_putc(wc, stdout) : REAL(putwchar)(wc);
}
WB_EXPORT wint_t putwchar_unlocked(wchar_t wc)
{
    return wb_stream_is_wrapped(stdout) ? wb_wide_putc(wc, stdout)
                                        : REAL(putwchar_unlocked)(wc);
}
WB_EXPORT int fputws(const wchar_t *ws, FILE *fp)
{
    return wb_stream_is_wrapped(fp) ? wb_wide_puts(ws, fp) : REAL(fputws)(ws, fp);
}
WB_EXPORT int fputws_unlocked(const wchar_t *ws, FILE *fp)
{
    return wb_stream_is_wrapped(fp) ? wb_wide_puts(ws, fp) : REAL(fputws_unlocked)(ws, fp);
}

WB_EXPORT int vfwprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
    return wb_stream_is_wrapped(fp) ? wb_wide_vfprintf(fp, fmt, ap) : REAL(vfwprintf)(fp, fmt, ap);
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
int __fwprintf_chk(FILE *, int, const wchar_t *, ...);
int __wprintf_chk(int, const wchar_t *, ...);

WB_EXPORT int __vfwprintf_chk(FILE *fp, int flag, const wchar_t *fmt, va_list ap)
{
    return wb_stream_is_wrapped(fp) ? wb_wide_vfprintf(fp, fmt, ap)
                                    : REAL(__vfwprintf_chk)(fp, flag, fmt, ap);
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
