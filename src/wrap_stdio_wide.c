/*
 * wrap_stdio_wide.c — layer 13: wide-character output.  glibc does all of
 * it: a wrapped stream that becomes wide is glibc's own stream from then on
 * (streams.c, "wide output"), so each call only lands first — on a stream
 * the library did not wrap, or on a wrapped one not yet oriented (this
 * call may orient it) — and std::wcout's FILE is the original stdout
 * (wb_stream_current()).
 */
#include "real.h"
#include "streams.h"

#include <stdarg.h>
#include <wchar.h>

#define LAND_THEN(fp_expr, call)                                                          \
    FILE *cur_ = wb_stream_current(fp_expr);                                             \
    wb_observe_stream(cur_);                                                             \
    return call

WB_EXPORT int fwide(FILE *fp, int mode) { LAND_THEN(fp, REAL(fwide)(cur_, mode)); }
WB_EXPORT wint_t fputwc(wchar_t wc, FILE *fp) { LAND_THEN(fp, REAL(fputwc)(wc, cur_)); }
WB_EXPORT wint_t putwc(wchar_t wc, FILE *fp) { LAND_THEN(fp, REAL(putwc)(wc, cur_)); }
WB_EXPORT wint_t fputwc_unlocked(wchar_t wc, FILE *fp)
{
    LAND_THEN(fp, REAL(fputwc_unlocked)(wc, cur_));
}
WB_EXPORT wint_t putwc_unlocked(wchar_t wc, FILE *fp)
{
    LAND_THEN(fp, REAL(putwc_unlocked)(wc, cur_));
}
WB_EXPORT wint_t __woverflow(FILE *fp, wint_t wc) { LAND_THEN(fp, REAL(__woverflow)(cur_, wc)); }
/* Not fputwc(wc, stdout): glibc's putwchar skips fputwc's orientation
   check (on a byte stream it writes the low byte). */
WB_EXPORT wint_t putwchar(wchar_t wc)
{
    wb_observe_stream(stdout);
    return REAL(putwchar)(wc);
}
WB_EXPORT wint_t putwchar_unlocked(wchar_t wc)
{
    wb_observe_stream(stdout);
    return REAL(putwchar_unlocked)(wc);
}
WB_EXPORT int fputws(const wchar_t *ws, FILE *fp) { LAND_THEN(fp, REAL(fputws)(ws, cur_)); }
WB_EXPORT int fputws_unlocked(const wchar_t *ws, FILE *fp)
{
    LAND_THEN(fp, REAL(fputws_unlocked)(ws, cur_));
}
WB_EXPORT int vfwprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
    LAND_THEN(fp, REAL(vfwprintf)(cur_, fmt, ap));
}
WB_EXPORT int vwprintf(const wchar_t *fmt, va_list ap)
{
    LAND_THEN(stdout, REAL(vfwprintf)(cur_, fmt, ap));
}
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
    LAND_THEN(fp, REAL(__vfwprintf_chk)(cur_, flag, fmt, ap));
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
