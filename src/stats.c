/*
 * stats.c — layer 11: what the library did, per file, said once at exit.
 *
 * Counters live in the wb_file (written under its lock, no shared cache
 * line on the hot path) and move to the per-file records (records.c) when
 * a file retires, or here.  At exit the records are written out, one of two
 * ways:
 *
 *  - records (WRITEBEHIND_REPORT, set by `writebehind --stats`): lines the
 *    wrapper reads back and sums over the whole command tree, into one
 *    summary on its own stderr.  The file is the wrapper's, opened by path
 *    here with O_APPEND|O_CLOEXEC (never an fd the program could own), one
 *    write() of whole lines at a time.  Format, one line each:
 *      P pid peak_buffer_KiB stall_us errors exe
 *      F pid dev ino writes direct bytes kernel_writes lost_bytes max_wait_ms path
 *    (path and exe last, with '\' and newline escaped as \\ and \n).  A
 *    fatal signal writes them too (wb_stats_report_nowait, through the
 *    signals layer's hook), an exec writes the old image's before it goes.
 *  - one line per process (WRITEBEHIND_STATS without the wrapper), on fd 2
 *    while it is still the process's stderr (say.c), or appended to a file.
 */
#include "stats.h"

#include "buffer.h"
#include "real.h"
#include "records.h"
#include "registry.h"
#include "say.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Atomic bool final_report_done;

static void fold_locked(struct wb_file *f, void *arg)
{
    (void)arg;
    if (!WB_PEEK(f->live))
        return;
    wb_lock(f);
    if (f->live) {
        wb_stats_add(&wb_stats.writes, f->writes);
        wb_stats_add(&wb_stats.bytes, f->bytes);
        wb_file_fold_stats_locked(f);
    }
    wb_unlock(f);
}

/* ---- records for the wrapper: formatted by hand, so that a signal
   handler may write them too (no malloc, no stdio, no locale) ---------- */

struct out {
    int fd;
    pid_t pid;
    size_t len;
    char buf[4096];
};

static void out_flush(struct out *o)
{
    size_t done = 0;
    while (done < o->len) {
        ssize_t n = REAL(write)(o->fd, o->buf + done, o->len - done);
        if (n > 0)
            done += (size_t)n;
        else if (!(n < 0 && errno == EINTR))
            break;
    }
    o->len = 0;
}

/* Lines stay whole within one write(): O_APPEND then keeps each process's
   lines apart from another's. */
static void out_line_room(struct out *o, size_t need)
{
    if (o->len + need > sizeof o->buf)
        out_flush(o);
}

static void put_char(struct out *o, char c)
{
    if (o->len < sizeof o->buf)
        o->buf[o->len++] = c;
}

static void put_u64(struct out *o, uint64_t v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_char(o, ' ');
    while (n)
        put_char(o, digits[--n]);
}

/* A path or name, escaped, and cut short rather than split. */
static void put_text(struct out *o, const char *s)
{
    put_char(o, ' ');
    if (!s || !*s) {
        put_char(o, '-');
        return;
    }
    for (; *s && o->len + 3 < sizeof o->buf; s++) {
        if (*s == '\\' || *s == '\n') {
            put_char(o, '\\');
            put_char(o, *s == '\n' ? 'n' : '\\');
        } else {
            put_char(o, *s);
        }
    }
}

static void put_record(const struct wb_record *r, void *arg)
{
    struct out *o = arg;
    if (!r->writes && !r->lost)
        return;
    out_line_room(o, 256 + (r->path ? strlen(r->path) * 2 : 0));
    put_char(o, 'F');
    put_u64(o, (uint64_t)o->pid);
    put_u64(o, (uint64_t)r->dev);
    put_u64(o, (uint64_t)r->ino);
    put_u64(o, r->writes);
    put_u64(o, r->direct);
    put_u64(o, r->bytes);
    put_u64(o, r->kernel_writes);
    put_u64(o, r->lost);
    put_u64(o, r->max_wait_ms);
    put_text(o, r->path);
    put_char(o, '\n');
}

static void put_process(struct out *o)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    out_line_room(o, 128 + sizeof exe * 2);
    put_char(o, 'P');
    put_u64(o, (uint64_t)o->pid);
    put_u64(o, (uint64_t)(atomic_load(&wb_buf_peak) >> 10));
    put_u64(o, atomic_load(&wb_stats.max_wait_us));
    put_u64(o, atomic_load(&wb_stats.errors));
    put_text(o, exe);
    put_char(o, '\n');
}

/* The wrapper made the file; if it is gone there is nobody to tell. */
static int open_target(const char *path, int flags)
{
    int fd = REAL(open)(path, O_WRONLY | O_APPEND | O_CLOEXEC | flags, 0666);
    if (fd >= 0 && fd <= 2) {
        /* Never hold 0-2 even for a moment: another thread of the program
           may be writing to a stderr it closed. */
        int high = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 3);
        REAL(close)(fd);
        fd = high;
    }
    return fd;
}

static void write_records(bool with_process)
{
    if (!with_process && wb_records_empty())
        return;   /* an exec with nothing to say (a fork child, a shell): no syscall */
    struct out o;
    o.fd = open_target(wb_cfg.stats, 0);
    if (o.fd < 0)
        return;
    o.len = 0;
    o.pid = getpid();
    if (with_process)
        put_process(&o);
    wb_records_take(put_record, &o, false);
    out_flush(&o);
    REAL(close)(o.fd);
}

/* ---- one line per process, for WRITEBEHIND_STATS without the wrapper -- */

struct totals { uint64_t writes, bytes, kernel, files, lost, wait_ms; };

static void add_up(const struct wb_record *r, void *arg)
{
    struct totals *t = arg;
    if (!r->writes && !r->lost)
        return;
    t->files++;
    t->writes += r->writes;
    t->bytes += r->bytes;
    t->kernel += r->kernel_writes;
    t->lost += r->lost;
    if (r->max_wait_ms > t->wait_ms)
        t->wait_ms = r->max_wait_ms;
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void say_process_line(void)
{
    struct totals t = { 0 };
    wb_records_take(add_up, &t, false);
    if (!t.writes && !t.lost)
        return;   /* a process that wrote nothing has nothing to say */
    uint64_t errors = atomic_load(&wb_stats.errors);
    uint64_t saved_calls = t.writes > t.kernel ? t.writes - t.kernel : 0;
    char line[512];
    int n = snprintf(line, sizeof line,
                     "writebehind: pid %d: %llu %s (%llu %s) to %llu %s became %llu write %s "
                     "(coalescing %.1fx, %llu system %s saved); a byte waited at most %llu ms "
                     "in a buffer; peak buffer memory %llu KiB; %llu %s%s\n",
                     (int)getpid(), (unsigned long long)t.writes,
                     plural(t.writes, "write", "writes"), (unsigned long long)t.bytes,
                     plural(t.bytes, "byte", "bytes"), (unsigned long long)t.files,
                     plural(t.files, "file", "files"), (unsigned long long)t.kernel,
                     plural(t.kernel, "call", "calls"),
                     t.kernel ? (double)t.writes / (double)t.kernel : 0.0,
                     (unsigned long long)saved_calls, plural(saved_calls, "call", "calls"),
                     (unsigned long long)t.wait_ms,
                     (unsigned long long)(atomic_load(&wb_buf_peak) >> 10),
                     (unsigned long long)errors, plural(errors, "error", "errors"),
                     t.lost ? " (bytes that could not be written are named above)" : "");
    if (n <= 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (!*wb_cfg.stats) {
        wb_say_line(line, len);
        return;
    }
    int fd = open_target(wb_cfg.stats, O_CREAT);
    if (fd < 0) {
        wb_say("cannot append the statistics to %s (%s); set WRITEBEHIND_STATS=1 to "
               "print them on stderr", wb_cfg.stats, strerror(errno));
        return;
    }
    wb_write_all(fd, line, len, NULL, NULL);
    REAL(close)(fd);
}

static void report(bool final)
{
    wb_files_foreach(fold_locked, NULL);
    if (wb_cfg.stats_records)
        write_records(final);
    else
        say_process_line();
}

void wb_stats_report(void)
{
    if (!wb_cfg.stats || atomic_exchange(&final_report_done, true))
        return;
    int saved = errno;
    report(true);
    errno = saved;
}

void wb_stats_before_exec(void)
{
    if (!wb_cfg.stats || atomic_load(&final_report_done))
        return;
    int saved = errno;
    report(false);
    errno = saved;
}

static void zero_file(struct wb_file *f, void *arg)
{
    (void)arg;
    f->writes = f->bytes = f->direct_writes = f->kernel_writes = f->max_wait_ms = 0;
    f->lost_bytes = 0;
}

void wb_stats_after_fork_child(void)
{
    wb_records_after_fork_child();
    atomic_store(&final_report_done, false);
    atomic_store(&wb_stats.errors, 0);
    atomic_store(&wb_stats.max_wait_us, 0);
    wb_files_foreach(zero_file, NULL);
}

/* A fatal signal: the wrapper's records, as far as they can be had without
   waiting (a lock held by the interrupted code is skipped, nothing is
   allocated; the table and the live files are written side by side, and
   the wrapper sums them by inode). */
static void put_live_nowait(struct wb_file *f, void *arg)
{
    if (!WB_PEEK(f->live) || !wb_trylock(f))
        return;
    if (f->live && (f->writes || f->direct_writes || f->lost_bytes)) {
        struct wb_record r = { f->dev, f->ino, f->path, f->writes + f->direct_writes,
                               f->direct_writes, f->bytes, f->kernel_writes, f->lost_bytes,
                               f->max_wait_ms };
        put_record(&r, arg);
    }
    wb_unlock(f);
}

void wb_stats_report_nowait(void)
{
    if (!wb_cfg.stats || !wb_cfg.stats_records || atomic_exchange(&final_report_done, true))
        return;
    int saved = errno;
    static struct out o;   /* a handler's stack may be small */
    o.fd = open_target(wb_cfg.stats, 0);
    if (o.fd >= 0) {
        o.len = 0;
        o.pid = getpid();
        put_process(&o);
        wb_records_take(put_record, &o, true);
        wb_files_foreach(put_live_nowait, &o);
        out_flush(&o);
        REAL(close)(o.fd);
    }
    errno = saved;
}
