/*
 * stdio_fortify — the output calls of a -O2 -D_FORTIFY_SOURCE=2 build
 * (they import __printf_chk, __fprintf_chk, __vfprintf_chk, __dprintf_chk),
 * mixed with raw writes; run with >FILE 2>&1.
 */
#undef _FORTIFY_SOURCE
#define _FORTIFY_SOURCE 2
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static void vf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
}

int main(void)
{
    for (int i = 0; i < 2000; i++) {
        printf("printf %d\n", i);
        fprintf(stdout, "fprintf %d\n", i);
        vf(stdout, "vfprintf %d\n", i);
        dprintf(1, "dprintf %d\n", i);
        fflush(stdout);
        if (i % 7 == 0)
            fprintf(stderr, "stderr %d\n", i);
        if (i % 11 == 0)
            if (write(1, "raw\n", 4) != 4)
                return 1;
    }
    return 0;
}
