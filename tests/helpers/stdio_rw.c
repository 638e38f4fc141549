#define _GNU_SOURCE
/*
 * stdio_rw — reading and positioning on streams of tagged files; prints
 * every return value (and errno on failure) so a plain run and a run under
 * the library can be compared line for line.
 *
 *   stdio_rw DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The report goes to fd 2 with dprintf, so fcloseall() cannot close it. */
#define SAY(fmt, ...) dprintf(2, fmt "\n", __VA_ARGS__)
#define CHECK(expr)                                                                      \
    do {                                                                                 \
        errno = 0;                                                                       \
        long r_ = (long)(expr);                                                          \
        SAY("%-40s = %ld errno=%d", #expr, r_, r_ < 0 ? errno : 0);                      \
    } while (0)

static void dump(const char *path)
{
    int fd = open(path, O_RDONLY);
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = 0;
    SAY("%s holds %zd bytes: [%s]", path, n, buf);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: stdio_rw DIR\n");
        return 2;
    }
    if (chdir(argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    char buf[256];
    fpos_t pos;

    FILE *f = fopen("wplus.txt", "w+");
    CHECK(fprintf(f, "hello %d\n", 1));
    CHECK(ftell(f));
    CHECK(fputs("second line\n", f));
    CHECK(fflush(f));
    CHECK(ftell(f));
    CHECK(fseek(f, 0, SEEK_SET));
    CHECK(fgets(buf, sizeof buf, f) != NULL);
    SAY("read [%s]", buf);
    CHECK(ftell(f));
    CHECK(fseek(f, 0, SEEK_END));
    CHECK(fprintf(f, "third %s\n", "line"));
    CHECK(fgetpos(f, &pos));
    CHECK(fputs("fourth\n", f));
    CHECK(fsetpos(f, &pos));
    CHECK(fputs("FOURTH\n", f));
    rewind(f);
    CHECK(fread(buf, 1, 12, f));
    CHECK(getc(f));
    CHECK(fileno(f) >= 0);
    CHECK(write(fileno(f), "raw\n", 4));
    CHECK(fclose(f));
    dump("wplus.txt");

    f = fopen("append.txt", "a+");
    CHECK(fprintf(f, "a1\n"));
    CHECK(ftell(f));
    rewind(f);
    CHECK(fgetc(f));
    CHECK(fprintf(f, "a2\n"));
    CHECK(ftell(f));
    CHECK(fclose(f));
    f = fopen("append.txt", "a");
    CHECK(fputs("a3\n", f));
    CHECK(ftell(f));
    CHECK(fclose(f));
    dump("append.txt");

    f = fopen("rplus.txt", "w");
    CHECK(fputs("0123456789\n", f));
    CHECK(fclose(f));
    f = fopen("rplus.txt", "r+");
    CHECK(fseek(f, 3, SEEK_SET));
    CHECK(fputs("abc", f));
    CHECK(fseek(f, 0, SEEK_CUR));
    CHECK(fread(buf, 1, 4, f));
    CHECK(fclose(f));
    dump("rplus.txt");

    f = fopen("vbuf.txt", "w");
    CHECK(setvbuf(f, NULL, _IOLBF, 0));
    CHECK(fputs("line buffered\n", f));
    dump("vbuf.txt");
    CHECK(fputs("partial", f));
    dump("vbuf.txt");
    __fpurge(f);
    CHECK(fputs(" after purge\n", f));
    CHECK(fclose(f));
    dump("vbuf.txt");

    f = fopen("reopen1.txt", "w");
    CHECK(fputs("to one\n", f));
    f = freopen("reopen2.txt", "w", f);
    CHECK(f != NULL);
    CHECK(fputs("to two\n", f));
    CHECK(fflush(NULL));
    dump("reopen1.txt");
    dump("reopen2.txt");
    CHECK(fclose(f));

    int fd = open("fdopen.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, "raw first\n", 10));
    f = fdopen(fd, "w");
    CHECK(fputs("stdio second\n", f));
    CHECK(fflush(f));
    CHECK(write(fd, "raw third\n", 10));
    CHECK(fputs("stdio fourth\n", f));
    CHECK(fclose(f));
    CHECK(write(fd, "x", 1));
    dump("fdopen.txt");

    f = fopen("fcloseall.txt", "w");
    CHECK(fputs("closed by fcloseall\n", f));
    FILE *g = fopen("fcloseall2.txt", "w");
    CHECK(fputs("me too\n", g));
    CHECK(fcloseall());
    dump("fcloseall.txt");
    dump("fcloseall2.txt");
    return 0;
}
