/*
 * stats.c — layer 11: WRITEBEHIND_STATS: what the library did, said once at exit.
 *
 * Per-file counters live in the wb_file (no shared cache line on the hot
 * path) and are folded into the totals (state.h) when a file retires
 * (registry.c) or here, at exit.
 */
#include "stats.h"

#include "buffer.h"
#include "real.h"
#include "registry.h"
#include "say.h"
#include "state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void fold_locked(struct wb_file *f, void *arg)
{
    (void)arg;
    wb_lock(f);
    wb_stats_add(&wb_stats.writes, f->writes);
    wb_stats_add(&wb_stats.bytes, f->bytes);
    f->writes = f->bytes = 0;
    wb_unlock(f);
}

void wb_stats_report(void)
{
    if (!wb_cfg.stats)
        return;
    int saved = errno;
    wb_files_foreach(fold_locked, NULL);
    uint64_t writes = atomic_load(&wb_stats.writes) + atomic_load(&wb_stats.direct);
    uint64_t calls = atomic_load(&wb_stats.syscalls);
    char line[512];
    int n = snprintf(line, sizeof line,
                     "writebehind: pid %d: %llu writes (%llu bytes buffered) to %llu files "
                     "became %llu write calls (coalescing %.1fx); %llu buffers flushed, "
                     "%llu writes passed straight through; longest wait %.1f ms; peak "
                     "buffer memory %llu KiB; %llu errors\n",
                     (int)getpid(), (unsigned long long)writes,
                     (unsigned long long)atomic_load(&wb_stats.bytes),
                     (unsigned long long)atomic_load(&wb_stats.files), (unsigned long long)calls,
                     calls ? (double)writes / (double)calls : 0.0,
                     (unsigned long long)atomic_load(&wb_stats.flushes),
                     (unsigned long long)atomic_load(&wb_stats.direct),
                     (double)atomic_load(&wb_stats.max_wait_us) / 1000.0,
                     (unsigned long long)(atomic_load(&wb_buf_peak) >> 10),
                     (unsigned long long)atomic_load(&wb_stats.errors));
    if (n <= 0) {
        errno = saved;
        return;
    }
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (!*wb_cfg.stats) {
        wb_write_all(2, line, len, NULL, NULL);
    } else {
        int fd = REAL(open)(wb_cfg.stats, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            wb_say("cannot append the statistics to %s (%s); set WRITEBEHIND_STATS=1 to "
                   "print them on stderr", wb_cfg.stats, strerror(errno));
        } else {
            wb_write_all(fd, line, len, NULL, NULL);
            REAL(close)(fd);
        }
    }
    errno = saved;
}
