/*
 * writebehind.h — the shared types and the one locking contract.
 *
 * The design in one paragraph.  Every open file description the library
 * buffers ("tagged") has one struct wb_file.  fds map to it through a
 * lock-free two-level table (fdtab.c); dup'd fds point at the same wb_file,
 * so they share one ordered buffer.  A wb_file has at most two buffers: the
 * one being filled by the program ("fill") and the one being written to the
 * kernel ("flight").  A full fill becomes the flight and is queued for the
 * background flusher thread (flusher.c), which writes it outside every lock;
 * at most one flight per file exists, so bytes land in order.  Anything that
 * could observe the file first "drains" it: waits for the flight and writes
 * the fill synchronously (file.c).
 *
 * Locking contract:
 *  - wb_file.lock (a spinlock: critical sections are a memcpy, never a
 *    system call) guards every field of the wb_file below it.
 *  - The flusher's queue lock (flusher.c) may be taken while holding a file
 *    lock, never the other way round.
 *  - No lock is ever held across a system call that can block, so a thread
 *    cancelled or killed in a system call never leaves a lock held.
 *  - A flight is written by exactly one thread (the flusher, or a draining
 *    program thread) with flight_state == WB_FLIGHT_WRITING; others wait on
 *    flight_seq with a futex.
 */
#ifndef WRITEBEHIND_H
#define WRITEBEHIND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define WB_HIDDEN __attribute__((visibility("hidden")))
#define WB_EXPORT __attribute__((visibility("default")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* ---- configuration (config.c) ---------------------------------------- */
struct wb_config {
    size_t bufsize;         /* bytes per buffer; writes >= this go straight through */
    size_t max_memory;      /* cap on all buffers of all files together */
    unsigned flush_ms;      /* no byte waits longer than this in a buffer */
    bool pipes;             /* tag pipes and FIFOs too */
    bool select_any;        /* PATHS or FDS given: tag only what they select */
    char **paths;           /* NULL-terminated fnmatch globs from WRITEBEHIND_PATHS */
    int *fds;               /* WRITEBEHIND_FDS, terminated by -1 */
    const char *stats;      /* NULL, "" (stderr) or a path to append to */
    bool stats_records;     /* stats is the wrapper's record file (stats.c) */
    bool debug;             /* WRITEBEHIND_DEBUG: say why each fd is (not) tagged */
};
extern struct wb_config wb_cfg WB_HIDDEN;

/* Returns false (after printing why) when the configuration is unusable. */
bool wb_config_load(void) WB_HIDDEN;
/* Parses "64K", "1M", "4096"; returns false on anything else. Shared with the CLI. */
bool wb_parse_size(const char *s, unsigned long long *out) WB_HIDDEN;
bool wb_parse_uint(const char *s, unsigned long long *out) WB_HIDDEN;

/* ---- lifecycle (lifecycle.c) ------------------------------------------ */
enum wb_state {
    WB_UNINIT = 0,
    WB_INITIALIZING,   /* first caller is resolving symbols: everybody passes through */
    WB_ACTIVE,
    WB_PASSTHROUGH,    /* disabled or misconfigured: never buffer */
    WB_SHUTDOWN,       /* exit has begun: drain and write through from now on */
};
extern _Atomic int wb_state WB_HIDDEN;

/* Makes the library ready; cheap after the first call. */
static inline bool wb_active(void)
{
    extern void wb_init_slow(void) WB_HIDDEN;
    int s = atomic_load_explicit(&wb_state, memory_order_acquire);
    if (unlikely(s == WB_UNINIT)) {
        wb_init_slow();
        s = atomic_load_explicit(&wb_state, memory_order_acquire);
    }
    return s == WB_ACTIVE;
}
void wb_shutdown(void) WB_HIDDEN;

/* ---- the real libc functions (real.c) --------------------------------- */
#include "real.h"

/* ---- per-file state (file.c) ------------------------------------------ */
enum wb_flight_state {
    WB_FLIGHT_NONE = 0,
    WB_FLIGHT_QUEUED,   /* flight holds bytes, nobody writes them yet */
    WB_FLIGHT_WRITING,  /* one thread is in write() with them */
};

struct wb_file {
    _Atomic int lock;              /* spinlock; see the contract above */

    /* The hot path reads these three; keep them together. */
    char *fill;                    /* buffer being filled, NULL until needed */
    size_t fill_len;
    size_t fill_cap;               /* the fast path may grow fill_len up to this;
                                      0 forces the slow path (empty fill, error, shutdown) */

    uint64_t writes;               /* calls that were buffered */
    uint64_t bytes;                /* bytes accepted by those calls and direct ones */
    uint64_t direct_writes;        /* calls written straight through (stats.c) */
    uint64_t kernel_writes;        /* write()s made for this file (stats.c) */
    uint64_t flight_since_ms;      /* when the flight's first byte was written */
    uint64_t max_wait_ms;          /* longest a byte waited before it landed */

    int fd;                        /* an fd of this description the flusher writes to */
    unsigned fd_refs;              /* how many fds point here */
    dev_t dev;
    ino_t ino;
    int fl_flags;                  /* F_GETFL at tagging time */
    bool is_pipe;
    bool pending;                  /* counted in wb_pending_files */

    char *flight;
    size_t flight_len;
    uint64_t handoff_gen;          /* fills handed off so far; the flight is number handoff_gen */
    uint64_t landed_gen;           /* the last flight finished (flights finish in order) */
    int flight_state;              /* enum wb_flight_state */
    _Atomic unsigned flight_seq;   /* bumped when a flight ends; futex word */
    _Atomic unsigned flight_waiters;

    _Atomic uint64_t fill_since_ms; /* when the fill got its first byte (timer; read
                                      by the flusher without the file lock) */
    bool queued;                   /* on the flusher's queue (guarded by the queue lock) */
    bool dirty_listed;             /* on the flusher's timer list (guarded by the queue lock) */

    int error;                     /* background write error not yet reported (errno) */
    bool write_through;            /* after an error: no more buffering for this file */
    uint64_t lost_bytes;           /* bytes that could not be written */

    char *path;                    /* for messages; may be NULL */

    struct wb_file *next_all;      /* registry (fdtab.c), guarded by the registry lock */
    struct wb_file *next_queue;    /* flusher queue */
    struct wb_file *next_dirty;    /* flusher timer list */
    struct wb_file *next_free;     /* free list (fdtab.c), guarded by the registry lock */
    bool live;                     /* in use (false: on the free list) */
};

/* Signal handlers may call write(), close(), _exit()... at any instant,
   also while the thread they interrupted holds a file lock or writes a
   flight of its own: waiting for either would wait forever.  So each thread
   counts the sections it is inside (a file lock held, or a flight or direct
   write of its own under way); a wrapper that starts while the count is
   not zero is such a handler, and never waits (reenter.c).  The signal
   fences keep the count and the lock in program order as a handler on this
   thread sees them (they cost no instruction). */
extern __thread unsigned wb_tls_busy __attribute__((tls_model("initial-exec"))) WB_HIDDEN;
extern __thread unsigned wb_tls_deferred __attribute__((tls_model("initial-exec"))) WB_HIDDEN;
void wb_replay_deferred(void) WB_HIDDEN;   /* reenter.c */
static inline bool wb_reentered(void) { return unlikely(wb_tls_busy != 0); }
static inline void wb_busy_enter(void)
{
    wb_tls_busy++;
    atomic_signal_fence(memory_order_seq_cst);
}
static inline void wb_busy_leave(void)
{
    atomic_signal_fence(memory_order_seq_cst);
    if (--wb_tls_busy == 0 && unlikely(wb_tls_deferred))
        wb_replay_deferred();   /* what a handler did meanwhile, in order */
}

static inline void wb_lock(struct wb_file *f)
{
    extern void wb_lock_slow(struct wb_file *f) WB_HIDDEN;
    wb_busy_enter();
    if (likely(!atomic_exchange_explicit(&f->lock, 1, memory_order_acquire)))
        return;
    wb_lock_slow(f);
}
static inline bool wb_trylock(struct wb_file *f)
{
    wb_busy_enter();
    if (likely(!atomic_exchange_explicit(&f->lock, 1, memory_order_acquire)))
        return true;
    wb_busy_leave();
    return false;
}
static inline void wb_unlock(struct wb_file *f)
{
    atomic_store_explicit(&f->lock, 0, memory_order_release);
    wb_busy_leave();
}
/* For the hot path, which must stay a leaf: these never call out.  The
   unlock says whether what a signal handler did meanwhile must now be
   replayed (wb_replay_deferred); a failed trylock leaves that to the slow
   path the caller goes to next. */
static inline bool wb_trylock_leaf(struct wb_file *f)
{
    wb_busy_enter();
    if (likely(!atomic_exchange_explicit(&f->lock, 1, memory_order_acquire)))
        return true;
    atomic_signal_fence(memory_order_seq_cst);
    wb_tls_busy--;
    return false;
}
static inline bool wb_unlock_leaf(struct wb_file *f)
{
    atomic_store_explicit(&f->lock, 0, memory_order_release);
    atomic_signal_fence(memory_order_seq_cst);
    return --wb_tls_busy == 0 && unlikely(wb_tls_deferred);
}

/* How many files hold bytes not yet in the kernel (fill or flight): the cheap
   "is anything pending?" test.  Changed only when a file's pending flag flips,
   never per write. */
extern _Atomic unsigned wb_pending_files WB_HIDDEN;
static inline bool wb_anything_pending(void)
{
    return atomic_load_explicit(&wb_pending_files, memory_order_acquire) != 0;
}

/* file.c: the engine */
#define WB_RETRY (-2)   /* the fd no longer maps to f: look it up again */
ssize_t wb_file_write_slow(struct wb_file *f, int fd, const struct iovec *iov, int iovcnt,
                           size_t total) WB_HIDDEN;
void wb_file_drain_locked(struct wb_file *f) WB_HIDDEN;
void wb_file_drain(struct wb_file *f) WB_HIDDEN;
int wb_file_take_error(struct wb_file *f) WB_HIDDEN;      /* locked; 0 or errno */
void wb_file_handoff_locked(struct wb_file *f) WB_HIDDEN; /* fill -> queued flight */
void wb_file_write_flight_locked(struct wb_file *f) WB_HIDDEN;
void wb_file_wait_flight_locked(struct wb_file *f) WB_HIDDEN;
void wb_file_discard_locked(struct wb_file *f) WB_HIDDEN; /* child after fork */
void wb_file_flush_if_aged(struct wb_file *f, uint64_t now_ms) WB_HIDDEN; /* flusher's timer */
void wb_file_update_room_locked(struct wb_file *f) WB_HIDDEN;

/* Copies a small write without calling memcpy (a call would make the hot
   path save registers): overlapping 8-byte moves cover 1..64 bytes, the
   sizes of a line of output.  Larger writes use memcpy on the slow path. */
#define WB_INLINE_COPY_MAX 64
static inline void wb_copy_small(char *dst, const char *src, size_t n)
{
    uint64_t a, b, c, d;
    if (likely(n <= 16)) {
        if (likely(n >= 8)) {
            __builtin_memcpy(&a, src, 8);
            __builtin_memcpy(&b, src + n - 8, 8);
            __builtin_memcpy(dst, &a, 8);
            __builtin_memcpy(dst + n - 8, &b, 8);
        } else if (n >= 4) {
            uint32_t x, y;
            __builtin_memcpy(&x, src, 4);
            __builtin_memcpy(&y, src + n - 4, 4);
            __builtin_memcpy(dst, &x, 4);
            __builtin_memcpy(dst + n - 4, &y, 4);
        } else if (n) {
            dst[0] = src[0];
            dst[n / 2] = src[n / 2];
            dst[n - 1] = src[n - 1];
        }
    } else if (n <= 32) {   /* the first and the last 16 bytes */
        __builtin_memcpy(&a, src, 8);
        __builtin_memcpy(&b, src + 8, 8);
        __builtin_memcpy(&c, src + n - 16, 8);
        __builtin_memcpy(&d, src + n - 8, 8);
        __builtin_memcpy(dst, &a, 8);
        __builtin_memcpy(dst + 8, &b, 8);
        __builtin_memcpy(dst + n - 16, &c, 8);
        __builtin_memcpy(dst + n - 8, &d, 8);
    } else {   /* 33..64: the first and the last 32 bytes */
        for (int i = 0; i < 4; i++) {
            __builtin_memcpy(&a, src + 8 * i, 8);
            __builtin_memcpy(&b, src + n - 32 + 8 * i, 8);
            __builtin_memcpy(dst + 8 * i, &a, 8);
            __builtin_memcpy(dst + n - 32 + 8 * i, &b, 8);
        }
    }
}

/* Appends a small write to the fill when it fits; f locked.  The bytes are
   counted when the fill is handed off, not here. */
static inline bool wb_file_append_fast(struct wb_file *f, const void *buf, size_t n)
{
    size_t len = f->fill_len, end = len + n;
    if (n > f->fill_cap || end > f->fill_cap)   /* the first test: no overflow for any n */
        return false;
    f->fill_len = end;
    f->writes++;
    if (n <= WB_INLINE_COPY_MAX)
        wb_copy_small(f->fill + len, buf, n);
    else
        __builtin_memcpy(f->fill + len, buf, n);
    return true;
}

/* ---- signal handlers calling back (reenter.c) ------------------------- */
/* The calls a handler makes while its thread is inside the library: writes,
   closes and dup2s are recorded and replayed in order when the interrupted
   section ends; the rest land what they can without waiting. */
ssize_t wb_reentered_write(int fd, const struct iovec *iov, int iovcnt) WB_HIDDEN;
int wb_reentered_close(int fd) WB_HIDDEN;
int wb_reentered_dup3(int oldfd, int newfd, int flags, bool is_dup3) WB_HIDDEN;
int wb_reentered_close_range(unsigned first, unsigned last, int flags) WB_HIDDEN;
void wb_land_nowait(struct wb_file *only) WB_HIDDEN;   /* NULL: every file */
void wb_reenter_after_fork_child(void) WB_HIDDEN;
/* file.c: drain as far as possible without waiting for a flight; f locked */
void wb_file_drain_nowait_locked(struct wb_file *f) WB_HIDDEN;

/* ---- fd table (fdtab.c) ----------------------------------------------- */
/* Entry values: a struct wb_file pointer, or one of these. */
#define WB_FD_UNKNOWN ((uintptr_t)0)   /* not classified yet */
#define WB_FD_PLAIN   ((uintptr_t)1)   /* classified: not tagged */
#define WB_FD_CLOSING ((uintptr_t)2)   /* being closed/replaced: pass through */
#define WB_FD_LIMIT   (1 << 20)        /* fds at or above this are never tagged */
#define WB_FD_CHUNK   1024

extern _Atomic(_Atomic uintptr_t *) wb_fdtab[WB_FD_LIMIT / WB_FD_CHUNK] WB_HIDDEN;
extern _Atomic uintptr_t wb_fdtab_low[WB_FD_CHUNK] WB_HIDDEN;

static inline uintptr_t wb_fdtab_get(int fd)
{
    if (unlikely((unsigned)fd >= WB_FD_LIMIT))
        return WB_FD_PLAIN;
    _Atomic uintptr_t *chunk =
        atomic_load_explicit(&wb_fdtab[(unsigned)fd / WB_FD_CHUNK], memory_order_acquire);
    if (unlikely(!chunk))
        return WB_FD_UNKNOWN;
    return atomic_load_explicit(&chunk[(unsigned)fd % WB_FD_CHUNK], memory_order_acquire);
}
static inline bool wb_is_file(uintptr_t e) { return e > WB_FD_CLOSING; }

/* The table slot of fd, or NULL when its chunk does not exist yet (or fd is
   out of range).  Slots never move once published. */
static inline _Atomic uintptr_t *wb_fdtab_slot(int fd)
{
    if (likely((unsigned)fd < WB_FD_CHUNK))
        return &wb_fdtab_low[fd];
    if (unlikely((unsigned)fd >= WB_FD_LIMIT))
        return NULL;
    _Atomic uintptr_t *chunk =
        atomic_load_explicit(&wb_fdtab[(unsigned)fd / WB_FD_CHUNK], memory_order_acquire);
    return chunk ? &chunk[(unsigned)fd % WB_FD_CHUNK] : NULL;
}

void wb_fdtab_set(int fd, uintptr_t value) WB_HIDDEN;
bool wb_fdtab_cas(int fd, uintptr_t expected, uintptr_t value) WB_HIDDEN;
/* Classifies fd (fstat/fcntl) and installs the answer; path may be NULL. */
uintptr_t wb_fd_classify(int fd, const char *path, bool inherited) WB_HIDDEN;
/* The file of a tagged fd, classifying unknown fds on the way; NULL if untagged. */
struct wb_file *wb_file_for_fd(int fd) WB_HIDDEN;
/* Before fd stops referring to its description (close, dup2 target...):
   drains it and marks it closing; returns the wb_file or NULL. */
struct wb_file *wb_fd_detach_begin(int fd) WB_HIDDEN;
/* After the real call: forgets fd (UNKNOWN) and drops f's reference. */
void wb_fd_detach_end(int fd, struct wb_file *f) WB_HIDDEN;
/* newfd now refers to the same description as oldfd. */
void wb_fd_dup(int oldfd, int newfd) WB_HIDDEN;
int wb_fd_max_seen(void) WB_HIDDEN;
/* Every fd that referred to f is forgotten (reclassified at next use). */
void wb_file_forget_all_fds(struct wb_file *f) WB_HIDDEN;

/* Registry of live files. */
typedef void (*wb_file_fn)(struct wb_file *f, void *arg);
void wb_files_foreach(wb_file_fn fn, void *arg) WB_HIDDEN;
void wb_drain_all(void) WB_HIDDEN;
/* Drain every tagged file with this device and inode. */
void wb_drain_inode(dev_t dev, ino_t ino) WB_HIDDEN;
void wb_fdtab_after_fork_child(void) WB_HIDDEN;
void wb_files_lock_for_fork(void) WB_HIDDEN;      /* held across fork() */
/* The program mapped this file: from now on it is never buffered. */
void wb_inode_mapped(dev_t dev, ino_t ino) WB_HIDDEN;
void wb_files_unlock_after_fork(void) WB_HIDDEN;  /* in the parent */
extern pthread_mutex_t wb_registry_lock WB_HIDDEN;

/* ---- buffers (buffer.c) ----------------------------------------------- */
char *wb_buf_get(void) WB_HIDDEN;        /* NULL when the memory cap is reached */
void wb_buf_put(char *buf) WB_HIDDEN;
void wb_buf_prefork(void) WB_HIDDEN;
void wb_buf_postfork_parent(void) WB_HIDDEN;
void wb_buf_after_fork_child(void) WB_HIDDEN;
extern _Atomic size_t wb_buf_peak WB_HIDDEN;

/* ---- flusher (flusher.c) ---------------------------------------------- */
void wb_flusher_enqueue(struct wb_file *f) WB_HIDDEN;  /* f has a queued flight */
void wb_flusher_dirty(struct wb_file *f) WB_HIDDEN;    /* f's fill got its first byte */
void wb_flusher_stop(void) WB_HIDDEN;
void wb_flusher_after_fork_child(void) WB_HIDDEN;
void wb_flusher_prefork(void) WB_HIDDEN;
void wb_flusher_postfork_parent(void) WB_HIDDEN;
uint64_t wb_now_ms(void) WB_HIDDEN;

/* ---- io (io.c) -------------------------------------------------------- */
/* Writes all of buf, retrying EINTR and short writes; returns 0 or errno,
   *written says how much reached the kernel. */
int wb_write_all(int fd, const char *buf, size_t len, size_t *written) WB_HIDDEN;
/* The same, adding the number of write() calls it made to *calls. */
int wb_write_all_counted(int fd, const char *buf, size_t len, size_t *written,
                         unsigned *calls) WB_HIDDEN;
/* fd 2's identity, taken once at start-up: the library speaks only while
   fd 2 is still that stderr, never into a file that took its number. */
void wb_stderr_remember(void) WB_HIDDEN;
bool wb_stderr_is_original(void) WB_HIDDEN;
void wb_say_line(const char *line, size_t len) WB_HIDDEN;   /* a whole line, as is */
/* One line on stderr, prefixed "writebehind: "; never changes errno. */
void wb_say(const char *fmt, ...) WB_HIDDEN __attribute__((format(printf, 1, 2)));
void wb_debug(const char *fmt, ...) WB_HIDDEN __attribute__((format(printf, 1, 2)));
/* A background error on f was just recorded: tell the user once. */
void wb_report_error(const char *path, int fd, int err, size_t lost) WB_HIDDEN;
/* Deliver the signal a plain write() would have raised for err (SIGPIPE/SIGXFSZ). */
void wb_raise_for_error(int err) WB_HIDDEN;

/* ---- stats (stats.c) -------------------------------------------------- */
struct wb_stats {
    _Atomic uint64_t writes;        /* intercepted write calls on tagged fds */
    _Atomic uint64_t bytes;
    _Atomic uint64_t syscalls;      /* write()s the library issued for tagged files */
    _Atomic uint64_t flushes;       /* buffers written */
    _Atomic uint64_t direct;        /* calls passed straight through on tagged fds */
    _Atomic uint64_t max_wait_us;   /* longest a program thread waited for a buffer */
    _Atomic uint64_t errors;
    _Atomic uint64_t files;         /* descriptions tagged */
};
extern struct wb_stats wb_stats WB_HIDDEN;
void wb_stats_fold(struct wb_file *f) WB_HIDDEN;   /* locked: moves f's counters */
void wb_stats_report(void) WB_HIDDEN;
void wb_stats_before_exec(void) WB_HIDDEN;         /* this image's records, now */
void wb_stats_after_fork_child(void) WB_HIDDEN;    /* the parent's counts are not ours */
void wb_stats_report_nowait(void) WB_HIDDEN;       /* from a fatal signal's handler */
void wb_stats_note_wait(uint64_t us) WB_HIDDEN;

/* ---- helpers used by several wrapper files (observe.c) ----------------- */
/* The fd is about to be observed (read, seek, stat, mmap...): land its bytes
   and those of any other tagged description of the same file. */
void wb_observe_fd(int fd) WB_HIDDEN;
/* A path is about to be opened/stat'ed/truncated: land a tagged file there. */
void wb_observe_path(int dirfd, const char *path, int at_flags) WB_HIDDEN;
/* Another process may be told something: land everything. */
static inline void wb_observe_all(void)
{
    if (unlikely(wb_anything_pending()))
        wb_drain_all();
}

#endif
