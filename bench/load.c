/*
 * load.c — the benchmark workloads that seed.c does not cover.
 *
 *   load big FILE MIB               MIB write()s of 1 MiB each
 *   load append FILE LINES THREADS  THREADS threads, LINES lines in all, one O_APPEND fd
 *   load files PREFIX LINES THREADS THREADS threads, each its own file PREFIX.<t>
 *   load roundrobin DIR FILES MIB RECSIZE
 *                                   FILES files open at once, RECSIZE-byte records
 *                                   written to them in turn until MIB MiB in all
 *
 * Lines are "t<thread> line#<i>\n", one write() each, as in seed.c.  Exit
 * status 1 on any error (with perror), 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int die(const char *what)
{
    perror(what);
    exit(1);
}

/* Hand-rolled: snprintf would cost more than the write-behind being measured. */
static size_t put_num(char *out, long v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t k = 0; k < n; k++)
        out[k] = digits[n - 1 - k];
    return n;
}

static size_t format_line(char *out, int thread, long i)
{
    size_t n = 0;
    out[n++] = 't';
    n += put_num(out + n, thread);
    memcpy(out + n, " line#", 6);
    n += 6;
    n += put_num(out + n, i);
    out[n++] = '\n';
    return n;
}

static void write_exact(int fd, const void *buf, size_t n)
{
    ssize_t r = write(fd, buf, n);
    if (r < 0)
        die("write");
    if ((size_t)r != n) {
        fprintf(stderr, "load: short write (%zd of %zu)\n", r, n);
        exit(1);
    }
}

static int open_out(const char *path, int extra)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | extra, 0644);
    if (fd < 0)
        die(path);
    return fd;
}

static long to_long(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0) {
        fprintf(stderr, "load: not a count: %s\n", s);
        exit(2);
    }
    return v;
}

static int big(const char *path, long mib)
{
    size_t size = 1 << 20;
    char *buf = malloc(size);
    if (!buf)
        die("malloc");
    for (size_t k = 0; k < size; k++)
        buf[k] = (char)('a' + k % 26);
    int fd = open_out(path, 0);
    for (long i = 0; i < mib; i++) {
        buf[0] = (char)('A' + i % 26);   /* every chunk differs: a lost or
                                            reordered one shows in cmp */
        write_exact(fd, buf, size);
    }
    return close(fd) ? die("close") : 0;
}

struct job {
    int fd;
    int thread;
    long lines;
};

static void *write_lines(void *arg)
{
    struct job *j = arg;
    char line[48];
    for (long i = 0; i < j->lines; i++)
        write_exact(j->fd, line, format_line(line, j->thread, i));
    return NULL;
}

static int threads(const char *path, long lines, long nthreads, int one_file)
{
    if (nthreads < 1 || nthreads > 256) {
        fprintf(stderr, "load: 1 to 256 threads\n");
        return 2;
    }
    pthread_t tid[256];
    struct job jobs[256];
    int shared = one_file ? open_out(path, O_APPEND) : -1;
    for (long t = 0; t < nthreads; t++) {
        char name[4096];
        snprintf(name, sizeof name, "%s.%ld", path, t);
        jobs[t].fd = one_file ? shared : open_out(name, 0);
        jobs[t].thread = (int)t;
        jobs[t].lines = lines / nthreads + (t < lines % nthreads);
        if ((errno = pthread_create(&tid[t], NULL, write_lines, &jobs[t])))
            die("pthread_create");
    }
    for (long t = 0; t < nthreads; t++) {
        pthread_join(tid[t], NULL);
        if (!one_file && close(jobs[t].fd))
            die("close");
    }
    return one_file && close(shared) ? die("close") : 0;
}

static int roundrobin(const char *dir, long nfiles, long mib, long recsize)
{
    if (nfiles < 1 || recsize < 8 || recsize > 1 << 20) {
        fprintf(stderr, "load: roundrobin needs FILES >= 1 and 8 <= RECSIZE <= 1M\n");
        return 2;
    }
    int *fds = malloc((size_t)nfiles * sizeof *fds);
    char *rec = malloc((size_t)recsize);
    if (!fds || !rec)
        die("malloc");
    for (long k = 0; k < nfiles; k++) {
        char name[4096];
        snprintf(name, sizeof name, "%s/f%ld", dir, k);
        fds[k] = open_out(name, 0);
    }
    memset(rec, '.', (size_t)recsize);
    rec[recsize - 1] = '\n';
    long records = (mib << 20) / recsize;
    for (long i = 0; i < records; i++) {
        put_num(rec, i);   /* a record number at the front of each record */
        write_exact(fds[i % nfiles], rec, (size_t)recsize);
    }
    for (long k = 0; k < nfiles; k++)
        if (close(fds[k]))
            die("close");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "big") && argc == 4)
        return big(argv[2], to_long(argv[3]));
    if (!strcmp(mode, "append") && argc == 5)
        return threads(argv[2], to_long(argv[3]), to_long(argv[4]), 1);
    if (!strcmp(mode, "files") && argc == 5)
        return threads(argv[2], to_long(argv[3]), to_long(argv[4]), 0);
    if (!strcmp(mode, "roundrobin") && argc == 6)
        return roundrobin(argv[2], to_long(argv[3]), to_long(argv[4]), to_long(argv[5]));
    fprintf(stderr, "usage: load big FILE MIB\n"
                    "       load append FILE LINES THREADS\n"
                    "       load files PREFIX LINES THREADS\n"
                    "       load roundrobin DIR FILES MIB RECSIZE\n");
    return 2;
}
