#define _GNU_SOURCE
/*
 * stdio_families — one stdio output family at a time, mixed with raw
 * write(1) and stderr, so a test can compare a plain run with one under
 * the library byte for byte (run with >FILE 2>&1).
 *
 *   stdio_families FAMILY [LINES]
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void via_vprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

static void via_vfprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
}

static void via_vdprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdprintf(fd, fmt, ap);
    va_end(ap);
}

static void emit(const char *family, long i)
{
    char line[64];
    int n = snprintf(line, sizeof line, "%s line %ld\n", family, i);
    if (!strcmp(family, "fwrite"))
        fwrite(line, 1, (size_t)n, stdout);
    else if (!strcmp(family, "fwrite_unlocked"))
        fwrite_unlocked(line, 1, (size_t)n, stdout);
    else if (!strcmp(family, "fputs"))
        fputs(line, stdout);
    else if (!strcmp(family, "fputs_unlocked"))
        fputs_unlocked(line, stdout);
    else if (!strcmp(family, "puts")) {
        line[n - 1] = 0;
        puts(line);
    } else if (!strcmp(family, "fputc") || !strcmp(family, "putc") ||
               !strcmp(family, "putchar") || !strcmp(family, "fputc_unlocked") ||
               !strcmp(family, "putc_unlocked") || !strcmp(family, "putchar_unlocked")) {
        for (int k = 0; k < n; k++) {
            if (!strcmp(family, "fputc")) fputc(line[k], stdout);
            else if (!strcmp(family, "putc")) putc(line[k], stdout);
            else if (!strcmp(family, "putchar")) putchar(line[k]);
            else if (!strcmp(family, "fputc_unlocked")) fputc_unlocked(line[k], stdout);
            else if (!strcmp(family, "putc_unlocked")) putc_unlocked(line[k], stdout);
            else putchar_unlocked(line[k]);
        }
    } else if (!strcmp(family, "printf"))
        printf("%s line %ld\n", family, i);
    else if (!strcmp(family, "fprintf"))
        fprintf(stdout, "%s line %ld\n", family, i);
    else if (!strcmp(family, "vprintf"))
        via_vprintf("%s line %ld\n", family, i);
    else if (!strcmp(family, "vfprintf"))
        via_vfprintf(stdout, "%s line %ld\n", family, i);
    else if (!strcmp(family, "dprintf"))
        dprintf(1, "%s line %ld\n", family, i);
    else if (!strcmp(family, "vdprintf"))
        via_vdprintf(1, "%s line %ld\n", family, i);
    else {
        fprintf(stderr, "stdio_families: unknown family %s\n", family);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: stdio_families FAMILY [LINES]\n");
        return 2;
    }
    long lines = argc > 2 ? atol(argv[2]) : 3000;
    for (long i = 0; i < lines; i++) {
        emit(argv[1], i);
        if (i % 5 == 0)
            fflush(stdout);
        if (i % 17 == 0)
            write(1, "raw write\n", 10);
        if (i % 13 == 0)
            fprintf(stderr, "stderr %ld\n", i);
        if (i % 101 == 0)
            perror("perror");
    }
    return 0;
}
