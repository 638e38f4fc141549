/*
 * sem_errors — write errors and resource limits, for tests/errors.bats.
 *
 *   sem_errors fill PATH BYTES RECORD    write BYTES in RECORD-byte records
 *                                        until the first error, then fsync
 *                                        and close; report what happened
 *   sem_errors fill-ignoring-errors ...  the same, carrying on after errors
 *   sem_errors fsize LIMIT RECORD ign|dfl  the same under RLIMIT_FSIZE=LIMIT,
 *                                        with SIGXFSZ ignored or default
 *   sem_errors epipe ign|dfl             write records to a pipe whose
 *                                        reader is gone (WRITEBEHIND_PIPES=1)
 *   sem_errors once PATH                 one small write, then exit
 *   sem_errors manyfiles DIR N BYTES     N files, BYTES each in 64-byte
 *                                        records; prints peak RSS growth
 *   sem_errors slowpipe BYTES            BYTES through a pipe to a slow
 *                                        reader; prints peak RSS growth
 *
 * The report ends with "accepted N" (bytes the program was told were
 * written), "size S" and whether the file is a prefix of the stream the
 * program wrote: the library may report an error later than a plain run,
 * but never reorders, invents or silently drops bytes.
 */
#include "sem_common.h"

#include <sys/resource.h>

/* Byte i of every stream written here. */
static char stream_byte(size_t i)
{
    return i % 64 == 63 ? '\n' : (char)('a' + (i * 7 + i / 64) % 26);
}

static void record(char *buf, size_t start, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = stream_byte(start + i);
}

static bool is_prefix(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    *size = 0;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        return false;   /* /dev/full reads zeros forever */
    }
    char buf[65536];
    size_t off = 0;
    bool ok = true;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != stream_byte(off + (size_t)i))
                ok = false;
        off += (size_t)n;
    }
    close(fd);
    *size = off;
    return ok;
}

static bool keep_going;   /* like many loggers: ignore write errors */
static bool quiet;        /* the process is expected to die: print nothing before */

/* Writes until the first error; says which call failed and how. */
static size_t write_stream(int fd, size_t total, size_t rec)
{
    unsigned errors = 0;
    char buf[4096];
    size_t accepted = 0;
    if (rec > sizeof buf)
        rec = sizeof buf;
    for (size_t i = 0; accepted < total; i++) {
        size_t len = total - accepted < rec ? total - accepted : rec;
        record(buf, accepted, len);
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (!errors++)
                out("first error: write %s", ename(errno));
            if (keep_going && i < 100000)
                continue;
            return accepted;
        }
        accepted += (size_t)w;
        if ((size_t)w < len) {
            /* A short write on a full disk: the next one fails. */
            continue;
        }
    }
    if (!errors && !quiet)
        out("no write failed");
    return accepted;
}

static void finish(const char *path, int fd, size_t accepted)
{
    int r = fsync(fd);
    out("fsync %s", r < 0 ? ename(errno) : "ok");
    r = close(fd);
    out("close %s", r < 0 ? ename(errno) : "ok");
    size_t size = 0;
    bool prefix = is_prefix(path, &size);
    out("accepted %zu", accepted);
    out("size %zu", size);
    out("prefix %s", prefix ? "yes" : "no");
}

static int do_fill(char **argv)
{
    const char *path = argv[2];
    size_t total = strtoull(argv[3], NULL, 10), rec = strtoull(argv[4], NULL, 10);
    int fd = xopen(path, O_WRONLY | O_CREAT | O_TRUNC);
    finish(path, fd, write_stream(fd, total, rec));
    return 0;
}

static int do_fsize(char **argv)
{
    struct rlimit rl = { strtoull(argv[2], NULL, 10), RLIM_INFINITY };
    size_t rec = strtoull(argv[3], NULL, 10);
    if (!strcmp(argv[4], "ign"))
        signal(SIGXFSZ, SIG_IGN);
    else
        quiet = true;
    int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
    if (setrlimit(RLIMIT_FSIZE, &rl))
        fail("setrlimit");
    size_t accepted = write_stream(fd, rl.rlim_cur * 2, rec);
    finish("f", fd, accepted);
    return 0;
}

static int do_epipe(char **argv)
{
    if (!strcmp(argv[2], "ign"))
        signal(SIGPIPE, SIG_IGN);
    else
        quiet = true;
    int p[2];
    if (pipe(p))
        fail("pipe");
    close(p[0]);
    char buf[100];
    memset(buf, 'x', sizeof buf);
    bool told = false;
    for (int i = 0; i < 1000; i++) {
        if (write(p[1], buf, sizeof buf) < 0) {
            out("first error: write %s", ename(errno));
            told = true;
            break;
        }
    }
    if (quiet)
        exit(0);   /* SIGPIPE should have ended us; exiting lands what is left */
    int r = close(p[1]);
    out("close %s", r < 0 ? ename(errno) : "ok");
    out("told of an error: %s", told || r < 0 ? "yes" : "no");
    return 0;
}

static int do_once(char **argv)
{
    int fd = xopen(argv[2], O_WRONLY | O_CREAT | O_TRUNC);
    put(fd, "the only write\n");
    exit(0);
}

static long peak_rss_kb(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strstr(buf, "VmHWM:");
    return p ? strtol(p + 6, NULL, 10) : -1;
}

static int do_manyfiles(char **argv)
{
    const char *dir = argv[2];
    int n = atoi(argv[3]);
    size_t bytes = strtoull(argv[4], NULL, 10);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    int *fds = calloc((size_t)n, sizeof *fds);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/f%04d", dir, i);
        fds[i] = xopen(path, O_WRONLY | O_CREAT | O_TRUNC);
    }
    long base = peak_rss_kb();
    char rec[64];
    for (size_t off = 0; off < bytes; off += sizeof rec)
        for (int i = 0; i < n; i++) {
            record(rec, off, sizeof rec);
            if (write(fds[i], rec, sizeof rec) != (ssize_t)sizeof rec)
                fail("write");
        }
    long peak = peak_rss_kb();
    for (int i = 0; i < n; i++)
        if (close(fds[i]))
            fail("close");
    out("peak RSS growth %ld KiB", peak - base);
    return 0;
}

static int do_slowpipe(char **argv)
{
    size_t bytes = strtoull(argv[2], NULL, 10);
    int p[2];
    if (pipe(p))
        fail("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        char buf[4096];
        size_t got = 0;
        ssize_t n;
        while ((n = read(p[0], buf, sizeof buf)) > 0) {
            got += (size_t)n;
            usleep(200);   /* the slow consumer this test is about */
        }
        out("reader got %zu", got);
        _exit(0);
    }
    close(p[0]);
    long base = peak_rss_kb();
    char rec[64];
    for (size_t off = 0; off < bytes; off += sizeof rec) {
        record(rec, off, sizeof rec);
        if (write(p[1], rec, sizeof rec) != (ssize_t)sizeof rec)
            fail("write");
    }
    long peak = peak_rss_kb();
    close(p[1]);
    reap("reader", pid);
    out("peak RSS growth %ld KiB", peak - base);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "fill"))
        return do_fill(argv);
    if (argc == 5 && !strcmp(argv[1], "fill-ignoring-errors")) {
        keep_going = true;
        return do_fill(argv);
    }
    if (argc == 5 && !strcmp(argv[1], "fsize"))
        return do_fsize(argv);
    if (argc == 3 && !strcmp(argv[1], "epipe"))
        return do_epipe(argv);
    if (argc == 3 && !strcmp(argv[1], "once"))
        return do_once(argv);
    if (argc == 5 && !strcmp(argv[1], "manyfiles"))
        return do_manyfiles(argv);
    if (argc == 3 && !strcmp(argv[1], "slowpipe"))
        return do_slowpipe(argv);
    fprintf(stderr, "usage: see the comment at the top of sem_errors.c\n");
    return 2;
}
