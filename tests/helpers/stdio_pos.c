#define _GNU_SOURCE
/*
 * stdio_pos — positions and wide output on streams of tagged files while
 * other descriptors write, seek or close behind the stream's back; prints
 * every return value (and errno on failure) so a plain run and a run under
 * the library can be compared line for line (tests/stdio_positions.bats).
 *
 *   stdio_pos CASE     in the current directory; CASE is one of
 *     cached-offset   a "w" stream's ftell after a dup'd fd moved the offset
 *     seek-cur        fseek(SEEK_CUR) and fgetpos/fsetpos on such a stream
 *     read-ahead      an "r+" stream's fread and in-buffer fseek while the
 *                     file is rewritten through another descriptor
 *     append          "a" and "a+" streams with raw appends between
 *     fdopen          fdopen of an fd whose raw writes are still pending
 *     wide-errors     fputwc of a character the C locale cannot encode,
 *                     byte output on a wide stream, fwide after byte output,
 *                     setlocale after orientation
 *     wide-closed     a wide stream whose fd was closed: every flush fails
 *                     (a byte stream drops the bytes); a stream whose fd
 *                     number now names another file writes into that one
 *     wide-position   ftell and fseek on a wide stream, raw writes between
 *     wide-freopen    freopen of a wide stream, then byte output
 *
 * Misuse prints the usage and exits 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

/* The report goes to fd 1 with dprintf: never through a stream. */
#define SAY(...) dprintf(1, __VA_ARGS__)
#define CHECK(expr)                                                                      \
    do {                                                                                 \
        errno = 0;                                                                       \
        long r_ = (long)(expr);                                                          \
        SAY("%-44s = %ld errno=%d\n", #expr, r_, r_ < 0 ? errno : 0);                    \
    } while (0)

static void dump(const char *path)
{
    char buf[16384];
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    buf[n < 0 ? 0 : n] = 0;
    SAY("%s holds %zd bytes: [%s]\n", path, n, buf);
}

static void cached_offset(void)
{
    FILE *f = fopen("f", "w");
    fpos_t start;
    CHECK(fgetpos(f, &start));
    CHECK(fseek(f, 800, SEEK_SET));
    CHECK(fsetpos(f, &start));   /* glibc now caches offset 0 */
    CHECK(fputc('x', f));
    int d = dup(fileno(f));
    CHECK(write(d, "through the dup\n", 16));
    CHECK(write(d, "and again\n", 10));
    CHECK(ftello(f));   /* a file stream answers from its cache */
    CHECK(ftell(f));
    CHECK(fflush(f));
    CHECK(ftell(f));   /* the kernel's offset now */
    CHECK(lseek(d, 0, SEEK_CUR));
    CHECK(fclose(f));
    CHECK(close(d));
    dump("f");
}

static void seek_cur(void)
{
    FILE *f = fopen("f", "w");
    CHECK(fputs("0123456789abcdef\n", f));
    CHECK(fseek(f, 4, SEEK_SET));
    int d = dup(fileno(f));
    CHECK(write(d, "DUP", 3));
    CHECK(fseek(f, 2, SEEK_CUR));   /* from the cached 4, not the kernel's 7 */
    CHECK(ftell(f));
    CHECK(fputs("<s>", f));
    CHECK(fseek(f, -100, SEEK_CUR));   /* before the start: EINVAL */
    CHECK(ftell(f));
    fpos_t p;
    CHECK(fgetpos(f, &p));
    CHECK(write(d, "++", 2));
    CHECK(fsetpos(f, &p));
    CHECK(fputc('!', f));
    CHECK(fseek(f, -3, SEEK_END));
    CHECK(fputc('E', f));
    rewind(f);
    CHECK(ftell(f));
    CHECK(fclose(f));
    CHECK(lseek(d, 0, SEEK_CUR));
    CHECK(close(d));
    dump("f");
}

/* One open of each file: a file opened twice is not buffered at all. */
static void read_ahead(void)
{
    FILE *f = fopen("f", "w+");
    char line[6000];
    memset(line, 'a', sizeof line);
    CHECK(fwrite(line, 1, sizeof line, f));
    rewind(f);
    char buf[5000];
    CHECK(fread(buf, 1, 10, f));
    int d = dup(fileno(f));
    CHECK(lseek(d, 0, SEEK_CUR));   /* how far the stream read ahead */
    CHECK(pwrite(d, "BBBBBBBBBB", 10, 20));   /* behind the stream's buffer */
    CHECK(fseek(f, 15, SEEK_SET));   /* inside the buffer: the stale bytes */
    CHECK(fread(buf, 1, 10, f));
    SAY("read [%.10s]\n", buf);
    CHECK(lseek(d, 0, SEEK_CUR));
    CHECK(fseek(f, 0, SEEK_END));
    CHECK(fread(buf, 1, sizeof buf, f));
    CHECK(fseek(f, 100, SEEK_SET));
    CHECK(fread(buf, 1, sizeof buf, f));   /* larger than the buffer */
    CHECK(lseek(d, 0, SEEK_CUR));
    CHECK(fputs("<written>", f));
    CHECK(write(d, "raw", 3));
    CHECK(fflush(f));
    CHECK(ftell(f));
    CHECK(lseek(d, 0, SEEK_CUR));
    CHECK(fclose(f));
    CHECK(close(d));
    dump("f");
}

static void append(void)
{
    FILE *a = fopen("f", "a");
    int w = dup(fileno(a));
    CHECK(write(w, "raw one\n", 8));
    CHECK(ftell(a));
    CHECK(fputs("stream a\n", a));
    CHECK(write(w, "raw two\n", 8));
    CHECK(ftell(a));
    CHECK(fflush(a));
    CHECK(ftell(a));
    CHECK(fclose(a));
    CHECK(close(w));
    FILE *ap = fopen("g", "a+");
    w = dup(fileno(ap));
    CHECK(write(w, "raw one\n", 8));
    CHECK(fputs("stream a+\n", ap));
    CHECK(ftell(ap));
    CHECK(write(w, "raw two\n", 8));
    CHECK(fseek(ap, 0, SEEK_SET));
    char buf[64] = "";
    CHECK(fgets(buf, sizeof buf, ap) != NULL);
    SAY("read [%s]\n", buf);
    CHECK(ftell(ap));
    CHECK(write(w, "raw three\n", 10));
    CHECK(fputs("stream a+ again\n", ap));
    CHECK(ftell(ap));
    CHECK(fclose(ap));
    CHECK(close(w));
    dump("f");
    dump("g");
}

static void fdopen_pending(void)
{
    int w = open("f", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(write(w, "pending raw bytes\n", 18));
    FILE *f = fdopen(dup(w), "r+");
    CHECK(ftell(f));
    CHECK(fputs("stream\n", f));
    CHECK(write(w, "raw again\n", 10));
    CHECK(ftell(f));
    CHECK(fclose(f));
    CHECK(lseek(w, 0, SEEK_CUR));
    CHECK(close(w));
    dump("f");
}

static void wide_errors(void)
{
    FILE *f = fopen("f", "w");
    CHECK(fwide(f, 0));
    CHECK(fputwc(L'a', f) == WEOF ? -1 : 1);
    CHECK(fwide(f, 0));
    CHECK(fputwc(0x20ac, f) == WEOF ? -1 : 1);   /* no euro sign in the C locale */
    CHECK(ferror(f));
    clearerr(f);
    CHECK(fputs("bytes on a wide stream", f));
    CHECK(fprintf(f, "%d", 42));
    CHECK(fwide(f, -1));
    CHECK(setlocale(LC_CTYPE, "C.UTF-8") != NULL);
    CHECK(fputwc(0xe9, f) == WEOF ? -1 : 1);   /* the stream keeps the C conversion */
    CHECK(fputws(L" wide line\n", f));
    CHECK(fwprintf(f, L"[%d wide]\n", 7));
    CHECK(ftell(f));
    CHECK(fclose(f));
    FILE *g = fopen("g", "w");
    CHECK(fputs("bytes first\n", g));
    CHECK(fwide(g, 1));
    CHECK(fputwc(L'w', g) == WEOF ? -1 : 1);
    CHECK(fputws(L"wide", g));
    CHECK(fclose(g));
    FILE *h = fopen("h", "w");
    CHECK(fwide(h, 1));
    CHECK(fputwc(0xe9, h) == WEOF ? -1 : 1);   /* C.UTF-8 now: two bytes */
    CHECK(fclose(h));
    dump("f");
    dump("g");
    dump("h");
}

static void wide_closed(void)
{
    FILE *f = fopen("f", "w");
    int other = open("other", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(other, "other file\n", 11));
    CHECK(close(fileno(f)));
    CHECK(fputwc(L'a', f) == WEOF ? -1 : 1);
    CHECK(fflush(f));   /* EBADF, and the wide buffer keeps its character */
    CHECK(fflush(f));
    CHECK(fputwc(L'b', f) == WEOF ? -1 : 1);
    CHECK(fclose(f));
    FILE *b = fopen("b", "w");
    CHECK(close(fileno(b)));
    CHECK(fputc('a', b));
    CHECK(fflush(b));   /* a byte stream drops what it failed to write */
    CHECK(fflush(b));
    CHECK(fclose(b));
    FILE *r = fopen("r", "w");
    CHECK(fputs("for r\n", r));
    CHECK(close(fileno(r)));
    int reused = open("reused", O_WRONLY | O_CREAT | O_TRUNC, 0644);   /* r's number */
    CHECK(reused == fileno(r));
    CHECK(write(reused, "raw into reused\n", 16));
    CHECK(fflush(r));   /* glibc writes to whatever the number is now */
    CHECK(fputs("more for r\n", r));
    CHECK(fclose(r));   /* closes reused */
    CHECK(write(reused, "after\n", 6));
    CHECK(close(other));
    dump("f");
    dump("b");
    dump("r");
    dump("reused");
    dump("other");
}

static void wide_position(void)
{
    FILE *f = fopen("f", "w+");
    int d = dup(fileno(f));
    CHECK(fputws(L"wide text\n", f));
    CHECK(ftell(f));
    CHECK(write(d, "RAW\n", 4));
    CHECK(ftell(f));
    CHECK(fseek(f, 0, SEEK_SET));
    wint_t c = fgetwc(f);
    SAY("fgetwc -> %#x\n", (unsigned)c);
    CHECK(ftell(f));
    CHECK(fseek(f, 0, SEEK_END));
    CHECK(fputwc(L'!', f) == WEOF ? -1 : 1);
    CHECK(fclose(f));
    CHECK(lseek(d, 0, SEEK_CUR));
    CHECK(close(d));
    dump("f");
}

static void wide_freopen(void)
{
    FILE *f = fopen("f", "w");
    CHECK(fputws(L"wide before freopen\n", f));
    CHECK(fwide(f, 0));
    CHECK(freopen("g", "w", f) == f);
    CHECK(fwide(f, 0));
    CHECK(fputs("bytes after freopen\n", f));
    CHECK(write(fileno(f), "raw\n", 4));
    CHECK(fclose(f));
    dump("f");
    dump("g");
}

static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    { "cached-offset", cached_offset }, { "seek-cur", seek_cur },
    { "read-ahead", read_ahead },       { "append", append },
    { "fdopen", fdopen_pending },       { "wide-errors", wide_errors },
    { "wide-closed", wide_closed },     { "wide-position", wide_position },
    { "wide-freopen", wide_freopen },
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc == 2 && i < sizeof cases / sizeof *cases; i++)
        if (!strcmp(argv[1], cases[i].name)) {
            cases[i].run();
            return 0;
        }
    fprintf(stderr, "usage: stdio_pos CASE (cached-offset, seek-cur, read-ahead, append, fdopen,"
                    " wide-errors, wide-closed, wide-position, wide-freopen)\n");
    return 2;
}
