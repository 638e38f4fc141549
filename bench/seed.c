/*
 * seed.c — the workload writebehind exists for, in its variants.
 *
 *   seed MODE FILE [LINES]     (LINES defaults to 500000)
 *
 * Writes "line#<i>\n" for i in 0..LINES-1 to FILE:
 *   write     one write() per line (the seed workload)
 *   buffered  the same program buffering 64 KiB in-process (the ideal)
 *   fflush    fprintf + fflush per line
 *   stdio     fprintf, flushed by stdio when its buffer fills
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* "line#<i>\n" into out; returns its length.  Hand-rolled because
   snprintf (~80 ns) would cost more than the write-behind it measures. */
static int format_line(char *out, long i)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + i % 10);
        i /= 10;
    } while (i);
    memcpy(out, "line#", 5);
    for (int k = 0; k < n; k++)
        out[5 + k] = digits[n - 1 - k];
    out[5 + n] = '\n';
    return 6 + n;
}

static int die(const char *what)
{
    perror(what);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: seed write|buffered|fflush|stdio FILE [LINES]\n");
        return 2;
    }
    const char *mode = argv[1];
    long lines = argc > 3 ? atol(argv[3]) : 500000;
    char line[32];

    if (!strcmp(mode, "fflush") || !strcmp(mode, "stdio")) {
        FILE *f = fopen(argv[2], "w");
        if (!f)
            return die(argv[2]);
        int flush = !strcmp(mode, "fflush");
        for (long i = 0; i < lines; i++) {
            fprintf(f, "line#%ld\n", i);
            if (flush)
                fflush(f);
        }
        return fclose(f) ? die("fclose") : 0;
    }

    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return die(argv[2]);
    if (!strcmp(mode, "write")) {
        for (long i = 0; i < lines; i++) {
            int n = format_line(line, i);
            if (write(fd, line, (size_t)n) != n)
                return die("write");
        }
    } else if (!strcmp(mode, "buffered")) {
        static char buf[64 << 10];
        size_t used = 0;
        for (long i = 0; i < lines; i++) {
            if (used + sizeof line > sizeof buf) {
                if (write(fd, buf, used) != (ssize_t)used)
                    return die("write");
                used = 0;
            }
            used += (size_t)format_line(buf + used, i);
        }
        if (used && write(fd, buf, used) != (ssize_t)used)
            return die("write");
    } else {
        fprintf(stderr, "seed: unknown mode %s\n", mode);
        return 2;
    }
    return close(fd) ? die("close") : 0;
}
