/*
 * sem_threads — threads, for tests/threads.bats.  Each scenario checks its
 * own result (threads make the exact interleaving differ from run to run,
 * plain or not) and prints "ok ..." or "FAILED ...": what must hold is the
 * same in a plain run, and the bats file runs both.
 *
 * Records are lines "<tag> <seq> <padding> <sum>\n" whose last field is a
 * checksum of the rest, so a torn or interleaved record is always noticed.
 */
#include "sem_common.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/time.h>

#define MAX_THREADS 16

static int make_record(char *buf, size_t size, const char *tag, long seq, size_t pad)
{
    int n = snprintf(buf, size, "%s %ld ", tag, seq);
    if (pad > size - (size_t)n - 24)
        pad = size - (size_t)n - 24;
    memset(buf + n, 'a' + (int)(seq % 26), pad);
    n += (int)pad;
    unsigned sum = 0;
    for (int i = 0; i < n; i++)
        sum = sum * 31 + (unsigned char)buf[i];
    n += snprintf(buf + n, size - (size_t)n, " %08x\n", sum);
    return n;
}

/* Checks every line of path; counts[t] gets the records of tag "T<t>" and
   their sequence numbers must be start[t], start[t]+1... in file order
   (start NULL: from 0); counts[t] ends as the next expected number.
   Returns the number of bad lines. */
static long check_file_from(const char *path, const long *start, long *counts, int ntags,
                            long *other)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail(path);
    struct stat st;
    fstat(fd, &st);
    char *data = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    long bad = 0;
    for (int t = 0; t < ntags; t++)
        counts[t] = start ? start[t] : 0;
    if (other)
        *other = 0;
    char *line = data, *end = data + got;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) {
            bad++;
            break;
        }
        *nl = 0;   /* sscanf would otherwise measure the whole rest */
        char *last = nl;
        while (last > line && last[-1] != ' ')
            last--;
        unsigned sum = 0;
        for (char *p = line; p < last - 1; p++)
            sum = sum * 31 + (unsigned char)*p;
        char want[16];
        snprintf(want, sizeof want, "%08x", sum);
        int t;
        long seq;
        if (last == line || (size_t)(nl - last) != 8 || memcmp(last, want, 8)) {
            bad++;
        } else if (sscanf(line, "T%d %ld ", &t, &seq) == 2 && t >= 0 && t < ntags) {
            if (seq != counts[t])
                bad++;
            counts[t]++;
        } else if (other) {
            (*other)++;
        }
        line = nl + 1;
    }
    free(data);
    return bad;
}

static long check_file(const char *path, long *counts, int ntags, long *other)
{
    return check_file_from(path, NULL, counts, ntags, other);
}

/* ---- N threads, one O_APPEND fd ------------------------------------------------ */

struct writer { int fd; int id; long records; size_t pad_max; const char *path; };

static void *append_writer(void *p)
{
    struct writer *w = p;
    char buf[8192], tag[16];
    snprintf(tag, sizeof tag, "T%d", w->id);
    int fd = w->fd;
    if (w->path)   /* its own description of the same file */
        fd = xopen(w->path, O_WRONLY | O_APPEND);
    for (long i = 0; i < w->records; i++) {
        size_t pad = (size_t)((i * 7919 + (unsigned)w->id * 104729) % (w->pad_max + 1));
        int n = make_record(buf, sizeof buf, tag, i, pad);
        if (write(fd, buf, (size_t)n) != n)
            fail("write");
    }
    if (w->path)
        close(fd);
    return NULL;
}

static void run_writers(int nthreads, long records, size_t pad_max, bool own_fds, bool own_files)
{
    pthread_t th[MAX_THREADS];
    struct writer w[MAX_THREADS];
    int shared = xopen("f", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
    for (int i = 0; i < nthreads; i++) {
        static char names[MAX_THREADS][16];
        snprintf(names[i], sizeof names[i], own_files ? "f%d" : "f", i);
        int fd = shared;
        if (own_files) {
            fd = xopen(names[i], O_WRONLY | O_CREAT | O_TRUNC);
        }
        w[i] = (struct writer){ fd, own_files ? 0 : i, records, pad_max,
                                own_fds ? names[i] : NULL };
        pthread_create(&th[i], NULL, append_writer, &w[i]);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    if (close(shared))
        fail("close");
    long counts[MAX_THREADS];
    if (own_files) {
        for (int i = 0; i < nthreads; i++) {
            close(w[i].fd);
            char name[16];
            snprintf(name, sizeof name, "f%d", i);
            long bad = check_file(name, counts, 1, NULL);
            if (bad || counts[0] != records)
                out("FAILED %s: %ld bad lines, %ld of %ld records", name, bad, counts[0], records);
        }
        out("ok: %d threads x %ld records, each to its own file", nthreads, records);
        return;
    }
    long bad = check_file("f", counts, nthreads, NULL);
    for (int i = 0; i < nthreads; i++)
        if (counts[i] != records)
            out("FAILED T%d: %ld of %ld records", i, counts[i], records);
    if (bad)
        out("FAILED: %ld torn or out-of-order records", bad);
    else
        out("ok: %d threads x %ld records, none torn or reordered", nthreads, records);
}

static void sc_append_shared(void) { run_writers(8, 20000, 100, false, false); }
static void sc_append_mixed_sizes(void) { run_writers(8, 3000, 6000, false, false); }
static void sc_append_own_fds(void) { run_writers(4, 5000, 100, true, false); }
static void sc_own_files(void) { run_writers(8, 20000, 100, false, true); }

/* ---- close while another thread writes --------------------------------------- */

static _Atomic long written_ok;
static _Atomic int stop_writing;

static void *writer_until_ebadf(void *p)
{
    int fd = *(int *)p;
    char buf[256];
    for (long i = 0; !stop_writing; i++) {
        int n = make_record(buf, sizeof buf, "T0", i, (size_t)(i % 50));
        ssize_t w = write(fd, buf, (size_t)n);
        if (w < 0) {
            if (errno != EBADF)
                out("FAILED: write %s", ename(errno));
            break;
        }
        if (w != n)
            out("FAILED: short write");
        written_ok = i + 1;
    }
    return NULL;
}

/* Every write that returned success is in the file, once, in order. */
static void sc_close_while_writing(void)
{
    for (int round = 0; round < 20; round++) {
        int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
        written_ok = 0;
        stop_writing = 0;
        pthread_t th;
        pthread_create(&th, NULL, writer_until_ebadf, &fd);
        while (written_ok < 1000 + round * 100)
            sched_yield();
        close(fd);
        stop_writing = 1;
        pthread_join(th, NULL);
        long counts[1], other;
        long bad = check_file("f", counts, 1, &other);
        if (bad || counts[0] != written_ok) {
            out("FAILED round %d: %ld bad, %ld records in the file, %ld written", round, bad,
                counts[0], (long)written_ok);
            return;
        }
    }
    out("ok: every accepted record is in the closed file, once, in order");
}

/* The closed fd's number is taken by another file at once: each record the
   writer was told it wrote is in one of the two files, exactly once; the
   new file's own records are all there. */
static void sc_close_reuse_while_writing(void)
{
    for (int round = 0; round < 20; round++) {
        int fd = xopen("old", O_WRONLY | O_CREAT | O_TRUNC);
        written_ok = 0;
        stop_writing = 0;
        pthread_t th;
        pthread_create(&th, NULL, writer_until_ebadf, &fd);
        while (written_ok < 1000)
            sched_yield();
        close(fd);
        int nfd = xopen("new", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
        char buf[256];
        for (int i = 0; i < 100; i++) {
            int n = make_record(buf, sizeof buf, "T1", i, 10);
            if (write(nfd, buf, (size_t)n) != n)
                fail("write new");
        }
        stop_writing = 1;
        pthread_join(th, NULL);
        close(nfd);
        long a[2], b[2];
        long bad = check_file("old", a, 2, NULL);
        long start[2] = { a[0], 0 };   /* T0 goes on in "new" where "old" stopped */
        bad += check_file_from("new", start, b, 2, NULL);
        if (bad || a[1] != 0 || b[1] != 100 || b[0] != written_ok) {
            out("FAILED round %d: %ld bad lines; old T0 %ld T1 %ld; new T0 up to %ld, T1 %ld; "
                "written %ld", round, bad, a[0], a[1], b[0], b[1], (long)written_ok);
            return;
        }
    }
    out("ok: no accepted record lost or doubled across the reused fd number");
}

/* ---- cancellation ------------------------------------------------------------------ */

static void *cancellable_writer(void *p)
{
    int fd = *(int *)p;
    char buf[256];
    for (long i = 0;; i++) {
        int n = make_record(buf, sizeof buf, "T0", i, (size_t)(i % 40));
        if (write(fd, buf, (size_t)n) != n)
            fail("write");
        written_ok = i + 1;
    }
    return NULL;
}

/* Cancelled threads (write is a cancellation point) leave no lock held and
   no record torn: the main thread can write, read and close afterwards. */
static void sc_cancel(void)
{
    int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND);
    for (int round = 0; round < 50; round++) {
        pthread_t th[4];
        written_ok = 0;
        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, cancellable_writer, &fd);
        while (written_ok < 200)
            sched_yield();
        for (int i = 0; i < 4; i++)
            pthread_cancel(th[i]);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        char buf[64];
        int n = make_record(buf, sizeof buf, "main", round, 3);
        if (write(fd, buf, (size_t)n) != n)
            fail("write after cancel");
        struct stat st;
        if (fstat(fd, &st))
            fail("fstat after cancel");
    }
    if (close(fd))
        fail("close");
    /* four writers share tag T0, so their sequences interleave: count them
       as "other" lines and look for torn ones only */
    long counts[1], other;
    bool bad = check_file("f", counts, 0, &other) != 0 || other < 50;
    out(bad ? "FAILED: torn records after cancellation" : "ok: cancelled writers left no lock and no torn record");
}

/* ---- fork while another thread writes ------------------------------------------- */

static _Atomic long allowed;   /* keeps the file small: every child reads it all */

static void *steady_writer(void *p)
{
    int fd = *(int *)p;
    char buf[128];
    for (long i = 0; !stop_writing; i++) {
        while (i >= allowed && !stop_writing)
            sched_yield();
        int n = make_record(buf, sizeof buf, "T0", i, 20);
        if (write(fd, buf, (size_t)n) != n)
            fail("write");
        written_ok = i + 1;
    }
    return NULL;
}

/* A child forked while a thread writes finds every record whose write had
   returned before the fork (its count is in the child's copy of memory). */
static void sc_fork_while_writing(void)
{
    int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
    stop_writing = 0;
    pthread_t th;
    pthread_create(&th, NULL, steady_writer, &fd);
    int failures = 0;
    for (int i = 0; i < 200; i++) {
        allowed = (i + 1) * 50 + 40;   /* still writing while we fork */
        while (written_ok < (i + 1) * 50)
            sched_yield();
        pid_t pid = fork();
        if (pid == 0) {
            long done = written_ok;   /* every write counted here had returned */
            long counts[1];
            long bad = check_file("f", counts, 1, NULL);
            _exit(counts[0] >= done && (bad == 0 || counts[0] > done) ? 0 : 1);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st))
            failures++;
    }
    stop_writing = 1;
    pthread_join(th, NULL);
    close(fd);
    if (failures)
        out("FAILED: %d of 200 children missed records written before the fork", failures);
    else
        out("ok: children see every record written before the fork");
}

/* ---- the timer, with many files and an observer ------------------------------------ */

/* Bytes nobody observes still land within the flush time: poll the kernel's
   view (raw statx, no drain) until every file is complete. */
static void sc_timer_many_files(void)
{
    enum { NF = 64, ROUNDS = 200 };
    int fds[NF];
    char name[32];
    for (int i = 0; i < NF; i++) {
        snprintf(name, sizeof name, "f%02d", i);
        fds[i] = xopen(name, O_WRONLY | O_CREAT | O_TRUNC);
    }
    int busy = xopen("busy", O_WRONLY | O_CREAT | O_TRUNC);
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < NF; i++)
            put(fds[i], "0123456789\n");
        /* drains and refills one file all the time: its first bytes put it
           back on the timer's list while the others are being flushed */
        for (int k = 0; k < 20; k++) {
            put(busy, "x");
            fsync(busy);
            put(busy, "y");
        }
        usleep(200);
    }
    long long want = ROUNDS * 11;
    for (int tries = 0; tries < 10000; tries++) {
        int missing = 0;
        for (int i = 0; i < NF; i++) {
            snprintf(name, sizeof name, "f%02d", i);
            missing += peek_size(name) != want;
        }
        if (!missing) {
            out("ok: every file landed without being observed");
            return;
        }
        usleep(1000);
    }
    for (int i = 0; i < NF; i++) {
        snprintf(name, sizeof name, "f%02d", i);
        if (peek_size(name) != want)
            out("FAILED: %s has %lld of %lld bytes 10 s after the last write", name,
                peek_size(name), want);
    }
}

/* ---- a signal handler that writes to the file being written -------------------- */

static int handler_fd;
static _Atomic long handled, main_done;

/* "H <main records done> <sum>": at least that many main records must
   precede it in the file, as in a plain run. */
static void h_write(int sig)
{
    (void)sig;
    int saved = errno;
    char buf[64], tag[32];
    snprintf(tag, sizeof tag, "H%ld", (long)main_done);
    int n = make_record(buf, sizeof buf, tag, handled, 5);
    if (write(handler_fd, buf, (size_t)n) == n)
        handled++;
    errno = saved;
}

/* Main records before each handler record >= what the handler saw done. */
static long handler_order_errors(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[256];
    long mains = 0, errors = 0, done;
    while (fp && fgets(line, sizeof line, fp)) {
        if (!strncmp(line, "T0 ", 3))
            mains++;
        else if (sscanf(line, "H%ld ", &done) == 1 && mains < done)
            errors++;
    }
    if (fp)
        fclose(fp);
    return errors;
}

/* write() is async-signal-safe: a handler may write to the same file while
   the interrupted code is in write() on it.  Must finish (no deadlock), with
   every record whole. */
static void sc_signal_handler_writes(void)
{
    handler_fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
    struct sigaction sa = { .sa_handler = h_write, .sa_flags = SA_RESTART };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 50 }, { 0, 50 } };
    setitimer(ITIMER_REAL, &it, NULL);
    char buf[128];
    long records = 300000;
    for (long i = 0; i < records; i++) {
        int n = make_record(buf, sizeof buf, "T0", i, (size_t)(i % 30));
        if (write(handler_fd, buf, (size_t)n) != n)
            fail("write");
        main_done = i + 1;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    close(handler_fd);
    long counts[1], other;
    long bad = check_file("f", counts, 1, &other);
    long order = handler_order_errors("f");
    if (bad || counts[0] != records || other != handled || order)
        out("FAILED: %ld bad, %ld/%ld main records, %ld/%ld handler records, %ld handler "
            "records ahead of main records written before them",
            bad, counts[0], records, other, (long)handled, order);
    else
        out("ok: main and handler records all whole (%s handler records)",
            handled > 0 ? "some" : "no");
}

/* The handler tells another process through a pipe how many records are
   done; that process must find at least those in the file. */
static int tell_fd;
static void h_tell(int sig)
{
    (void)sig;
    int saved = errno;
    long done = main_done;
    (void)!write(tell_fd, &done, sizeof done);
    errno = saved;
}

static void sc_signal_handler_tells(void)
{
    enum { REC = 32 };
    int p[2];
    if (pipe(p))
        fail("pipe");
    int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        long done, messages = 0, short_files = 0;
        while (read(p[0], &done, sizeof done) == sizeof done) {
            messages++;
            short_files += peek_size("f") < done * REC;
        }
        _exit(short_files ? 1 : messages ? 0 : 3);
    }
    close(p[0]);
    tell_fd = p[1];
    struct sigaction sa = { .sa_handler = h_tell, .sa_flags = SA_RESTART };
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 100 }, { 0, 100 } };
    setitimer(ITIMER_REAL, &it, NULL);
    char rec[REC];
    memset(rec, 'r', sizeof rec);
    rec[REC - 1] = '\n';
    for (long i = 0; i < 400000; i++) {
        if (write(fd, rec, REC) != REC)
            fail("write");
        main_done = i + 1;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    close(p[1]);
    int st;
    waitpid(pid, &st, 0);
    close(fd);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        out("FAILED: the other process found the file short after a message (status %#x)", st);
    else
        out("ok: every message from the handler came after the records it counted");
}

SCENARIOS(S(append_shared), S(append_mixed_sizes), S(append_own_fds), S(own_files),
          S(close_while_writing), S(close_reuse_while_writing), S(cancel),
          S(fork_while_writing), S(timer_many_files), S(signal_handler_writes),
          S(signal_handler_tells))
