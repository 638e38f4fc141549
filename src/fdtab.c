/*
 * fdtab.c — fd number → wb_file, and which fds get a wb_file at all.
 *
 * The table is two levels of atomically published arrays indexed by fd
 * number, grown lazily: never sized by RLIMIT_NOFILE (which can be 2^30).
 * Readers take no lock.  Each entry is UNKNOWN (never looked at, or closed),
 * PLAIN (looked at: not tagged), CLOSING (being closed or replaced: pass
 * through), or a wb_file pointer.
 *
 * wb_file structs are never freed: a retired one goes back on a free list
 * and may be reused.  So a thread holding a stale pointer still locks valid
 * memory, and every user re-checks "does fd still map to f?" under f's lock.
 * The list of all wb_files only grows at its head, so it is walked without
 * a lock (wb_files_foreach).
 *
 * One open file description ↔ one wb_file: dup'd fds (dup, dup2, F_DUPFD,
 * inherited `>f 2>&1`) share it.  Sharing is proven with kcmp(KCMP_FILE);
 * when kcmp is unavailable or says "a different description of the same
 * file", the newcomer stays untagged — pass-through is always correct, and
 * its reads and writes drain the tagged description first (observe.c).
 */
#include "writebehind.h"

#include <errno.h>
#include <fnmatch.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

/* The first chunk is static: fds below 1024 (nearly all) need one load. */
_Atomic uintptr_t wb_fdtab_low[WB_FD_CHUNK];
_Atomic(_Atomic uintptr_t *) wb_fdtab[WB_FD_LIMIT / WB_FD_CHUNK] = { wb_fdtab_low };
static _Atomic int fd_max_seen = -1;

pthread_mutex_t wb_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wb_file *_Atomic all_files;   /* grows at the head, never shrinks */
static struct wb_file *free_files;          /* retired, guarded by wb_registry_lock */

static _Atomic uintptr_t *chunk_for(int fd)
{
    _Atomic(_Atomic uintptr_t *) *slot = &wb_fdtab[(unsigned)fd / WB_FD_CHUNK];
    _Atomic uintptr_t *chunk = atomic_load_explicit(slot, memory_order_acquire);
    if (chunk)
        return chunk;
    _Atomic uintptr_t *fresh = calloc(WB_FD_CHUNK, sizeof *fresh);
    if (!fresh)
        return NULL;
    _Atomic uintptr_t *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(slot, &expected, fresh, memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    free(fresh);
    return expected;
}

static void note_fd(int fd)
{
    int max = atomic_load_explicit(&fd_max_seen, memory_order_relaxed);
    while (fd > max &&
           !atomic_compare_exchange_weak_explicit(&fd_max_seen, &max, fd, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void wb_fdtab_set(int fd, uintptr_t value)
{
    if ((unsigned)fd >= WB_FD_LIMIT)
        return;
    _Atomic uintptr_t *chunk = chunk_for(fd);
    if (!chunk)
        return;   /* out of memory: the fd stays UNKNOWN, i.e. is re-examined */
    atomic_store_explicit(&chunk[fd % WB_FD_CHUNK], value, memory_order_release);
    note_fd(fd);
}

bool wb_fdtab_cas(int fd, uintptr_t expected, uintptr_t value)
{
    if ((unsigned)fd >= WB_FD_LIMIT)
        return false;
    _Atomic uintptr_t *chunk = chunk_for(fd);
    if (!chunk)
        return false;
    note_fd(fd);
    return atomic_compare_exchange_strong_explicit(&chunk[fd % WB_FD_CHUNK], &expected, value,
                                                   memory_order_acq_rel, memory_order_acquire);
}

void wb_files_foreach(wb_file_fn fn, void *arg)
{
    for (struct wb_file *f = atomic_load_explicit(&all_files, memory_order_acquire); f;
         f = f->next_all)
        fn(f, arg);
}

static void drain_if_pending(struct wb_file *f, void *arg)
{
    (void)arg;
    if (__atomic_load_n(&f->pending, __ATOMIC_ACQUIRE))
        wb_file_drain(f);
}

void wb_drain_all(void)
{
    wb_files_foreach(drain_if_pending, NULL);
}

struct inode_key { dev_t dev; ino_t ino; };

/* dev, ino and live are written under the file's lock when a wb_file is
   (re)used, and read without it by the walks below to skip files cheaply:
   relaxed atomics on both sides, and a look again under the lock where it
   matters. */
#define PEEK(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)
#define POKE(field, v) __atomic_store_n(&(field), (v), __ATOMIC_RELAXED)

static void drain_if_inode(struct wb_file *f, void *arg)
{
    struct inode_key *k = arg;
    if (__atomic_load_n(&f->pending, __ATOMIC_ACQUIRE) && PEEK(f->dev) == k->dev &&
        PEEK(f->ino) == k->ino)
        wb_file_drain(f);
}

void wb_drain_inode(dev_t dev, ino_t ino)
{
    struct inode_key k = { dev, ino };
    wb_files_foreach(drain_if_inode, &k);
}

/* Inodes the program has mapped with mmap: reads through a mapping are
   memory loads nobody sees, so such a file is never buffered again, for the
   life of the process (munmap is not tracked, and a mapping outlives its
   fd).  Guarded by wb_registry_lock; if the list cannot grow, every file
   counts as mapped. */
static struct inode_key *mapped;
static size_t mapped_count, mapped_cap;
static bool mapped_overflow;

static bool inode_mapped(dev_t dev, ino_t ino)
{
    pthread_mutex_lock(&wb_registry_lock);
    bool found = mapped_overflow;
    for (size_t i = 0; i < mapped_count && !found; i++)
        found = mapped[i].dev == dev && mapped[i].ino == ino;
    pthread_mutex_unlock(&wb_registry_lock);
    return found;
}

struct mapped_search { dev_t dev; ino_t ino; struct wb_file *found; };

static void find_mapped(struct wb_file *f, void *arg)
{
    struct mapped_search *m = arg;
    if (m->found || !PEEK(f->live))
        return;
    wb_lock(f);
    if (f->live && f->fd_refs && (mapped_overflow || (f->dev == m->dev && f->ino == m->ino)))
        m->found = f;
    wb_unlock(f);
}

void wb_inode_mapped(dev_t dev, ino_t ino)
{
    if (wb_reentered() || inode_mapped(dev, ino))   /* mmap is not signal-safe anyway */
        return;
    pthread_mutex_lock(&wb_registry_lock);
    if (mapped_count == mapped_cap) {
        size_t cap = mapped_cap ? 2 * mapped_cap : 16;
        struct inode_key *grown = realloc(mapped, cap * sizeof *grown);
        if (grown) {
            mapped = grown;
            mapped_cap = cap;
        } else {
            mapped_overflow = true;
        }
    }
    if (mapped_count < mapped_cap)
        mapped[mapped_count++] = (struct inode_key){ dev, ino };
    pthread_mutex_unlock(&wb_registry_lock);
    /* Files already buffered land, and their fds are looked at anew (and
       then left untagged). */
    for (;;) {
        struct mapped_search m = { dev, ino, NULL };
        wb_files_foreach(find_mapped, &m);
        if (!m.found)
            break;
        wb_file_forget_all_fds(m.found);
    }
}

static struct wb_file *file_new(void)
{
    pthread_mutex_lock(&wb_registry_lock);
    struct wb_file *f = free_files;
    if (f)
        free_files = f->next_free;
    pthread_mutex_unlock(&wb_registry_lock);
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f)
            return NULL;
        f->next_all = atomic_load_explicit(&all_files, memory_order_relaxed);
        while (!atomic_compare_exchange_weak_explicit(&all_files, &f->next_all, f,
                                                      memory_order_release, memory_order_relaxed))
            ;
    }
    return f;
}

/* f is idle, locked by nobody, and no fd maps to it any more. */
static void file_retire(struct wb_file *f)
{
    wb_lock(f);
    wb_stats_fold(f);
    wb_buf_put(f->fill);
    f->fill = NULL;
    f->fill_len = f->fill_cap = 0;
    free(f->path);
    f->path = NULL;
    POKE(f->live, false);
    wb_unlock(f);
    pthread_mutex_lock(&wb_registry_lock);
    f->next_free = free_files;
    free_files = f;
    pthread_mutex_unlock(&wb_registry_lock);
}

static bool same_description(int fd1, int fd2)
{
    pid_t pid = getpid();
    return REAL(syscall)(SYS_kcmp, pid, pid, KCMP_FILE, fd1, fd2) == 0;
}

struct sibling_search { dev_t dev; ino_t ino; int fd; struct wb_file *same; bool other; };

static void find_sibling(struct wb_file *f, void *arg)
{
    struct sibling_search *s = arg;
    if (s->same || !PEEK(f->live) || PEEK(f->dev) != s->dev || PEEK(f->ino) != s->ino)
        return;
    wb_lock(f);
    bool here = f->live && f->dev == s->dev && f->ino == s->ino;
    if (here && f->fd_refs && same_description(s->fd, f->fd))
        s->same = f;
    else if (here)
        s->other = true;
    if (s->same)
        f->fd_refs++;   /* claimed while locked, so it cannot retire under us */
    wb_unlock(f);
}

static bool path_selected(const char *path)
{
    if (!path || !wb_cfg.paths)
        return false;
    for (char **g = wb_cfg.paths; *g; g++)
        if (fnmatch(*g, path, 0) == 0)
            return true;
    return false;
}

static bool fd_selected(int fd)
{
    if (!wb_cfg.fds)
        return false;
    for (int *p = wb_cfg.fds; *p >= 0; p++)
        if (*p == fd)
            return true;
    return false;
}

static char *proc_path(int fd)
{
    char link[64], target[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return NULL;
    target[n] = 0;
    return strdup(target);
}

/* Why an fd is not tagged, or NULL when it may be. */
static const char *refusal(int fd, int fl, const struct stat *st, const char *path,
                           const char *abs, bool inherited)
{
    if ((fl & O_ACCMODE) == O_RDONLY)
        return "not open for writing";
#ifdef O_PATH
    if (fl & O_PATH)
        return "O_PATH";
#endif
    if (fl & O_DIRECT)
        return "O_DIRECT (the program asked to bypass caching)";
    if (fl & (O_SYNC | O_DSYNC))
        return "O_SYNC/O_DSYNC (the program asked for synchronous writes)";
    if (S_ISFIFO(st->st_mode) && !wb_cfg.pipes)
        return "a pipe (use --pipes, or WRITEBEHIND_PIPES=1, to buffer pipes)";
    if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
        return "not a regular file";
    if (wb_cfg.select_any && !path_selected(path) && !path_selected(abs) &&
        !(inherited && fd_selected(fd)))
        return "not selected by WRITEBEHIND_PATHS/WRITEBEHIND_FDS (--path/--fd)";
    return NULL;
}

uintptr_t wb_fd_classify(int fd, const char *path, bool inherited)
{
    if (!wb_active() || (unsigned)fd >= WB_FD_LIMIT)
        return WB_FD_PLAIN;
    if (wb_reentered()) {
        /* Opened in a signal handler, which must not wait for the locks the
           sibling search takes: classified at its first write instead. */
        if (!inherited)
            wb_fdtab_set(fd, WB_FD_UNKNOWN);
        return WB_FD_PLAIN;
    }
    int saved = errno;
    uintptr_t result = WB_FD_PLAIN;
    char *abs = NULL;
    struct stat st;
    int fl = REAL(fcntl)(fd, F_GETFL);
    if (fl < 0 || REAL(fstat)(fd, &st) < 0) {
        errno = saved;
        return WB_FD_PLAIN;   /* not an open fd: nothing to install */
    }

    if (wb_cfg.select_any || wb_cfg.debug || wb_cfg.stats || !path)
        abs = proc_path(fd);
    const char *why = refusal(fd, fl, &st, path, abs, inherited);
    struct wb_file *f = NULL;
    if (!why && S_ISREG(st.st_mode) && inode_mapped(st.st_dev, st.st_ino))
        why = "the file is mapped into memory (mmap): its writes go straight through";
    if (!why) {
        struct sibling_search s = { st.st_dev, st.st_ino, fd, NULL, false };
        wb_files_foreach(find_sibling, &s);
        if (s.same) {
            f = s.same;
            wb_debug("fd %d (%s) tagged: shares the buffer of fd %d", fd, abs ? abs : "?", f->fd);
        } else if (s.other) {
            why = "the file is already open through another description (left unbuffered; "
                  "the other one is landed before each of its calls)";
        } else if ((f = file_new())) {
            wb_lock(f);
            f->fd = fd;
            f->fd_refs = 1;
            POKE(f->dev, st.st_dev);
            POKE(f->ino, st.st_ino);
            f->fl_flags = fl;
            f->is_pipe = S_ISFIFO(st.st_mode);
            f->path = abs ? abs : path ? strdup(path) : NULL;
            abs = NULL;
            f->error = 0;
            f->write_through = false;
            f->lost_bytes = 0;
            POKE(f->live, true);
            wb_unlock(f);
            atomic_fetch_add_explicit(&wb_stats.files, 1, memory_order_relaxed);
            wb_debug("fd %d (%s) tagged", fd, f->path ? f->path : "?");
        } else {
            why = "out of memory";
        }
    }
    if (why)
        wb_debug("fd %d (%s) not tagged: %s", fd, abs ? abs : path ? path : "?", why);
    free(abs);

    result = f ? (uintptr_t)f : WB_FD_PLAIN;
    uintptr_t old = wb_fdtab_get(fd);
    if (!inherited || old == WB_FD_UNKNOWN) {
        /* A fresh fd from open() replaces whatever a close we did not see
           left behind; a first write only fills an UNKNOWN slot, so it can
           never undo a concurrent close (CLOSING). */
        bool installed = inherited ? wb_fdtab_cas(fd, WB_FD_UNKNOWN, result)
                                   : (wb_fdtab_set(fd, result), true);
        if (!installed)
            result = wb_fdtab_get(fd);
        if (wb_is_file(old) && old != result && !inherited)
            wb_fd_detach_end(-1, (struct wb_file *)old);
        if (!installed && f)
            wb_fd_detach_end(-1, f);
    } else {
        if (f)
            wb_fd_detach_end(-1, f);
        result = old;
    }
    errno = saved;
    return result;
}

struct wb_file *wb_file_for_fd(int fd)
{
    uintptr_t e = wb_fdtab_get(fd);
    if (e == WB_FD_UNKNOWN)
        e = wb_fd_classify(fd, NULL, true);
    return wb_is_file(e) ? (struct wb_file *)e : NULL;
}

int wb_fd_max_seen(void)
{
    return atomic_load_explicit(&fd_max_seen, memory_order_relaxed);
}

static int other_fd_of(struct wb_file *f, int except)
{
    int max = atomic_load_explicit(&fd_max_seen, memory_order_relaxed);
    for (int fd = 0; fd <= max; fd++)
        if (fd != except && wb_fdtab_get(fd) == (uintptr_t)f)
            return fd;
    return -1;
}

struct wb_file *wb_fd_detach_begin(int fd)
{
    uintptr_t e = wb_fdtab_get(fd);
    if (wb_reentered() && wb_is_file(e)) {
        /* Closes from signal handlers are replayed later (reenter.c); one
           that gets here anyway lands what it can and must not wait. */
        wb_land_nowait((struct wb_file *)e);
        return NULL;
    }
    if (!wb_is_file(e)) {
        if (e != WB_FD_UNKNOWN)
            wb_fdtab_set(fd, WB_FD_CLOSING);
        return NULL;
    }
    struct wb_file *f = (struct wb_file *)e;
    wb_lock(f);
    if (wb_fdtab_get(fd) != e) {      /* lost a race with another close */
        wb_unlock(f);
        return wb_fd_detach_begin(fd);
    }
    /* Land everything while holding the lock at the end, so no byte written
       before this point can follow a write that passes through (CLOSING). */
    while (f->fill_len || f->flight_state != WB_FLIGHT_NONE)
        wb_file_drain_locked(f);
    wb_fdtab_set(fd, WB_FD_CLOSING);
    f->fd_refs--;
    if (f->fd_refs && f->fd == fd) {
        int other = other_fd_of(f, fd);
        if (other >= 0)
            f->fd = other;
        else
            f->fd_refs = 0;   /* table lost track (out of memory): stop buffering */
    }
    wb_unlock(f);
    return f;
}

void wb_fd_detach_end(int fd, struct wb_file *f)
{
    if (fd >= 0 && wb_fdtab_get(fd) == WB_FD_CLOSING)
        wb_fdtab_set(fd, WB_FD_UNKNOWN);
    if (!f)
        return;
    wb_lock(f);
    bool retire = f->live && f->fd_refs == 0;
    if (fd < 0 && f->fd_refs)   /* a claim dropped without a close */
        retire = f->live && --f->fd_refs == 0;
    wb_unlock(f);
    if (retire)
        file_retire(f);
}

void wb_fd_dup(int oldfd, int newfd)
{
    uintptr_t e = wb_fdtab_get(oldfd);
    if (wb_reentered() && wb_is_file(e)) {
        /* a signal handler must not wait for the lock: newfd is
           classified (and found to share the file) at its first write */
        wb_fdtab_set(newfd, WB_FD_UNKNOWN);
        return;
    }
    if (!wb_is_file(e)) {
        wb_fdtab_set(newfd, e == WB_FD_PLAIN ? WB_FD_PLAIN : WB_FD_UNKNOWN);
        return;
    }
    struct wb_file *f = (struct wb_file *)e;
    wb_lock(f);
    if (f->live && f->fd_refs) {
        f->fd_refs++;
        wb_fdtab_set(newfd, e);
    } else {
        wb_fdtab_set(newfd, WB_FD_UNKNOWN);
    }
    wb_unlock(f);
}

void wb_file_forget_all_fds(struct wb_file *f)
{
    if (wb_reentered())   /* F_SETFL in a signal handler: the flags are read anew by
                             the kernel at every write anyway */
        return;
    int max = atomic_load_explicit(&fd_max_seen, memory_order_relaxed);
    wb_lock(f);
    while (f->fill_len || f->flight_state != WB_FLIGHT_NONE)
        wb_file_drain_locked(f);
    for (int fd = 0; fd <= max; fd++)
        if (wb_fdtab_get(fd) == (uintptr_t)f)
            wb_fdtab_set(fd, WB_FD_UNKNOWN);
    f->fd_refs = 0;
    wb_unlock(f);
    file_retire(f);
}

/* fork: between the prepare handler's drain and the fork, other threads go
   on writing; a write that returned before the fork must be in the file
   the child sees.  So every file is locked, and drained under its lock,
   until the fork is done.  Files are only ever locked one at a time
   elsewhere, so taking them all in list order cannot deadlock. */
static struct wb_file *fork_locked;   /* the list head when they were locked */

void wb_files_lock_for_fork(void)
{
    if (wb_reentered()) {   /* fork from a signal handler: never wait */
        fork_locked = NULL;
        return;
    }
    fork_locked = atomic_load_explicit(&all_files, memory_order_acquire);
    for (struct wb_file *f = fork_locked; f; f = f->next_all) {
        wb_lock(f);
        while (f->fill_len || f->flight_state != WB_FLIGHT_NONE)
            wb_file_drain_locked(f);
    }
}

void wb_files_unlock_after_fork(void)
{
    for (struct wb_file *f = fork_locked; f; f = f->next_all)
        wb_unlock(f);
}

static void reset_in_child(struct wb_file *f, void *arg)
{
    (void)arg;
    atomic_store_explicit(&f->lock, 0, memory_order_relaxed);
    wb_file_discard_locked(f);
    wb_file_update_room_locked(f);
}

void wb_fdtab_after_fork_child(void)
{
    pthread_mutex_unlock(&wb_registry_lock);   /* taken by this thread before fork */
    wb_files_foreach(reset_in_child, NULL);
    atomic_store(&wb_pending_files, 0);
}
