/*
 * stats.c — what the library did, per file, said once at exit.
 *
 * Counters live in the wb_file (written under its lock, no shared cache
 * line on the hot path).  When a file retires (its last fd closed) they are
 * folded into a per-process table keyed by device and inode, so a file
 * opened 20,000 times by a shell loop is one file, not 20,000.  At exit the
 * table is written out, in one of two ways:
 *
 *  - records (WRITEBEHIND_REPORT, set by `writebehind --stats`): lines the
 *    wrapper reads back and sums over the whole command tree, into one
 *    summary on its own stderr.  The file is the wrapper's, opened by path
 *    here with O_APPEND|O_CLOEXEC (never an fd the program could own), one
 *    write() of whole lines at a time.  Format, one line each:
 *      P pid peak_buffer_KiB stall_us errors exe
 *      F pid dev ino writes direct bytes kernel_writes lost_bytes max_wait_ms path
 *    (path and exe last, with '\' and newline escaped as \\ and \n).  A
 *    fatal signal writes them too (wb_stats_report_nowait), an exec writes
 *    the old image's before it goes.
 *  - one line per process (WRITEBEHIND_STATS without the wrapper), on fd 2
 *    while it is still the process's stderr (io.c), or appended to a file.
 *
 * Nothing is counted or allocated unless statistics were asked for.
 * Lock order: a file lock may be held when taking table_lock, never the
 * other way round.  table_lock is a spinlock so that a fork child can reset
 * it and a signal handler can try it.
 */
#include "writebehind.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wb_stats wb_stats;

struct file_rec {
    dev_t dev;
    ino_t ino;
    char *path;          /* NULL: unknown, or the overflow record */
    uint64_t writes;     /* calls, buffered and direct */
    uint64_t direct;
    uint64_t bytes;
    uint64_t kernel_writes;
    uint64_t lost;
    uint64_t max_wait_ms;
    bool used;
};

#define TABLE_MAX (1u << 16)   /* files remembered one by one; the rest are summed */
static struct file_rec *table;
static size_t table_cap, table_used;
static struct file_rec other_files;   /* beyond TABLE_MAX, or when the table cannot grow */
static _Atomic int table_lock;
static _Atomic bool final_report_done;

static void table_lock_take(void)
{
    while (atomic_exchange_explicit(&table_lock, 1, memory_order_acquire))
        sched_yield();
}
static bool table_lock_try(void)
{
    for (int i = 0; i < 1000; i++)
        if (!atomic_exchange_explicit(&table_lock, 1, memory_order_acquire))
            return true;
    return false;
}
static void table_lock_drop(void) { atomic_store_explicit(&table_lock, 0, memory_order_release); }

static size_t slot_of(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)ino * 0xC2B2AE3D27D4EB4Full);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* table_lock held: the record of (dev, ino), or other_files. */
static struct file_rec *record_for(dev_t dev, ino_t ino)
{
    if (table_used * 2 >= table_cap && table_cap < 2 * TABLE_MAX) {
        size_t cap = table_cap ? 2 * table_cap : 64;
        struct file_rec *grown = calloc(cap, sizeof *grown);
        if (grown) {
            for (size_t i = 0; i < table_cap; i++) {
                if (!table[i].used)
                    continue;
                size_t j = slot_of(table[i].dev, table[i].ino, cap);
                while (grown[j].used)
                    j = (j + 1) & (cap - 1);
                grown[j] = table[i];
            }
            free(table);
            table = grown;
            table_cap = cap;
        }
    }
    if (!table_cap)
        return &other_files;
    size_t j = slot_of(dev, ino, table_cap);
    while (table[j].used) {
        if (table[j].dev == dev && table[j].ino == ino)
            return &table[j];
        j = (j + 1) & (table_cap - 1);
    }
    if (table_used >= TABLE_MAX || table_used + 1 >= table_cap)
        return &other_files;
    table[j].used = true;
    table[j].dev = dev;
    table[j].ino = ino;
    table_used++;
    return &table[j];
}

static void zero_counters(struct wb_file *f)
{
    f->writes = f->bytes = f->direct_writes = f->kernel_writes = 0;
    f->max_wait_ms = 0;
}

void wb_stats_fold(struct wb_file *f)
{
    atomic_fetch_add_explicit(&wb_stats.writes, f->writes, memory_order_relaxed);
    atomic_fetch_add_explicit(&wb_stats.bytes, f->bytes, memory_order_relaxed);
    if (!wb_cfg.stats || !(f->writes || f->direct_writes || f->lost_bytes)) {
        zero_counters(f);
        return;
    }
    table_lock_take();
    struct file_rec *r = record_for(f->dev, f->ino);
    r->writes += f->writes + f->direct_writes;
    r->direct += f->direct_writes;
    r->bytes += f->bytes;
    r->kernel_writes += f->kernel_writes;
    r->lost += f->lost_bytes;
    if (f->max_wait_ms > r->max_wait_ms)
        r->max_wait_ms = f->max_wait_ms;
    if (!r->path && r != &other_files && f->path)
        r->path = strdup(f->path);
    table_lock_drop();
    zero_counters(f);
    f->lost_bytes = 0;
}

void wb_stats_note_wait(uint64_t us)
{
    uint64_t old = atomic_load_explicit(&wb_stats.max_wait_us, memory_order_relaxed);
    while (us > old && !atomic_compare_exchange_weak_explicit(&wb_stats.max_wait_us, &old, us,
                                                              memory_order_relaxed,
                                                              memory_order_relaxed))
        ;
}

static void fold_locked(struct wb_file *f, void *arg)
{
    (void)arg;
    if (!__atomic_load_n(&f->live, __ATOMIC_RELAXED))
        return;
    wb_lock(f);
    if (f->live)
        wb_stats_fold(f);
    wb_unlock(f);
}

/* ---- records for the wrapper: formatted by hand, so that a signal
   handler may write them too (no malloc, no stdio, no locale) ---------- */

struct out {
    int fd;
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

static void put_file(struct out *o, pid_t pid, dev_t dev, ino_t ino, uint64_t writes,
                     uint64_t direct, uint64_t bytes, uint64_t kernel, uint64_t lost,
                     uint64_t wait_ms, const char *path)
{
    out_line_room(o, 256 + (path ? strlen(path) * 2 : 0));
    put_char(o, 'F');
    put_u64(o, (uint64_t)pid);
    put_u64(o, (uint64_t)dev);
    put_u64(o, (uint64_t)ino);
    put_u64(o, writes);
    put_u64(o, direct);
    put_u64(o, bytes);
    put_u64(o, kernel);
    put_u64(o, lost);
    put_u64(o, wait_ms);
    put_text(o, path ? path : "");
    put_char(o, '\n');
}

static void put_table(struct out *o, pid_t pid)
{
    for (size_t i = 0; i < table_cap; i++) {
        struct file_rec *r = &table[i];
        if (r->used && (r->writes || r->lost))
            put_file(o, pid, r->dev, r->ino, r->writes, r->direct, r->bytes, r->kernel_writes,
                     r->lost, r->max_wait_ms, r->path);
    }
    struct file_rec *r = &other_files;
    if (r->writes || r->lost)
        put_file(o, pid, 0, 0, r->writes, r->direct, r->bytes, r->kernel_writes, r->lost,
                 r->max_wait_ms, "(other files)");
}

static void put_process(struct out *o, pid_t pid)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    out_line_room(o, 128 + sizeof exe * 2);
    put_char(o, 'P');
    put_u64(o, (uint64_t)pid);
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

static void reset_table(void)
{
    for (size_t i = 0; i < table_cap; i++)
        free(table[i].path);
    if (table)
        memset(table, 0, table_cap * sizeof *table);
    table_used = 0;
    memset(&other_files, 0, sizeof other_files);
}

static void write_records(bool with_process)
{
    table_lock_take();
    bool empty = !table_used && !other_files.writes && !other_files.lost;
    table_lock_drop();
    if (empty && !with_process)
        return;   /* an exec with nothing to say (a fork child, a shell): no syscall */
    struct out o;
    o.fd = open_target(wb_cfg.stats, 0);
    if (o.fd < 0)
        return;
    o.len = 0;
    pid_t pid = getpid();
    if (with_process)
        put_process(&o, pid);
    table_lock_take();
    put_table(&o, pid);
    reset_table();
    table_lock_drop();
    out_flush(&o);
    REAL(close)(o.fd);
}

/* ---- one line per process, for WRITEBEHIND_STATS without the wrapper -- */

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void say_process_line(void)
{
    uint64_t writes = 0, bytes = 0, kernel = 0, files = 0, lost = 0, wait_ms = 0;
    table_lock_take();
    for (size_t i = 0; i <= table_cap; i++) {
        struct file_rec *r = i < table_cap ? &table[i] : &other_files;
        if (!(i < table_cap ? r->used : r->writes) || !r->writes)
            continue;
        files++;
        writes += r->writes;
        bytes += r->bytes;
        kernel += r->kernel_writes;
        lost += r->lost;
        if (r->max_wait_ms > wait_ms)
            wait_ms = r->max_wait_ms;
    }
    reset_table();
    table_lock_drop();
    if (!writes && !lost)
        return;   /* a process that wrote nothing has nothing to say */

    uint64_t errors = atomic_load(&wb_stats.errors);
    uint64_t saved_calls = writes > kernel ? writes - kernel : 0;
    char line[512];
    int n = snprintf(line, sizeof line,
                     "writebehind: pid %d: %llu %s (%llu %s) to %llu %s became %llu write %s "
                     "(coalescing %.1fx, %llu system %s saved); a byte waited at most %llu ms "
                     "in a buffer; peak buffer memory %llu KiB; %llu %s%s\n",
                     (int)getpid(), (unsigned long long)writes, plural(writes, "write", "writes"),
                     (unsigned long long)bytes, plural(bytes, "byte", "bytes"),
                     (unsigned long long)files, plural(files, "file", "files"),
                     (unsigned long long)kernel, plural(kernel, "call", "calls"),
                     kernel ? (double)writes / (double)kernel : 0.0,
                     (unsigned long long)saved_calls, plural(saved_calls, "call", "calls"),
                     (unsigned long long)wait_ms,
                     (unsigned long long)(atomic_load(&wb_buf_peak) >> 10),
                     (unsigned long long)errors, plural(errors, "error", "errors"),
                     lost ? " (bytes that could not be written are named above)" : "");
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
    wb_write_all(fd, line, len, NULL);
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

/* An exec replaces this image, library and counters with it: what it did
   is written now.  If the exec fails, the process goes on with zeroed
   counters and reports the rest at exit. */
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
    zero_counters(f);
    f->lost_bytes = 0;
}

void wb_stats_after_fork_child(void)
{
    /* This thread is the only one: whatever another thread held at the
       fork is abandoned (a table being rebuilt would be half-made). */
    atomic_store(&table_lock, 0);
    table = NULL;
    table_cap = table_used = 0;
    memset(&other_files, 0, sizeof other_files);
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
    struct out *o = arg;
    if (!__atomic_load_n(&f->live, __ATOMIC_RELAXED) || !wb_trylock(f))
        return;
    if (f->live && (f->writes || f->direct_writes || f->lost_bytes))
        put_file(o, getpid(), f->dev, f->ino, f->writes + f->direct_writes, f->direct_writes,
                 f->bytes, f->kernel_writes, f->lost_bytes, f->max_wait_ms, f->path);
    wb_unlock(f);
}

void wb_stats_report_nowait(void)
{
    if (!wb_cfg.stats || !wb_cfg.stats_records || atomic_exchange(&final_report_done, true))
        return;
    int saved = errno;
    static struct out o;
    o.fd = open_target(wb_cfg.stats, 0);
    if (o.fd >= 0) {
        o.len = 0;
        put_process(&o, getpid());
        if (table_lock_try()) {
            put_table(&o, getpid());
            table_lock_drop();
        }
        wb_files_foreach(put_live_nowait, &o);
        out_flush(&o);
        REAL(close)(o.fd);
    }
    errno = saved;
}
