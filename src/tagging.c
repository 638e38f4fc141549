/*
 * tagging.c — layer 8: the tagging decision and the fd table's upkeep.
 *
 * open & co. classify a new fd at once (they know the path, for
 * WRITEBEHIND_PATHS); fds born elsewhere (inherited, socket, pipe, mkstemp)
 * are classified on their first write.  Before an fd stops naming its
 * description — close, dup2/dup3 onto it, close_range — its bytes land, so
 * a reused fd number can never receive the old file's bytes.
 */
#include "tagging.h"

#include "land.h"
#include "real.h"
#include "registry.h"
#include "say.h"
#include "state.h"

#include <errno.h>
#include <fnmatch.h>
#include <linux/fs.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/magic.h>
#include <sys/syscall.h>
#include <sys/vfs.h>

/* ---- inodes never buffered ------------------------------------------------- */

/* Inodes never buffered again, for the life of the process:
   - mapped with mmap: reads through a mapping are memory loads nobody sees
     (munmap is not tracked, and a mapping outlives its fd);
   - open through a second description (the same file opened twice, by
     open, fopen, or glibc internally): whatever reads or writes through
     the other door — a FILE's internal read, an O_APPEND writer — sees the
     file exactly, because nothing of it is buffered any more.
   An inode number is given to a new file once the old one is gone (ext4
   does so at once: Open MPI maps files in /tmp and removes them), so each
   entry keeps what tells a new file from the old one where the filesystem
   has it: the inode's generation (what NFS file handles use; ext4, XFS,
   btrfs), else its birth time (coarse: two files born in one tick look
   alike, and then the new one is not buffered either).
   Guarded by wb_registry_lock; if the list cannot grow, every file counts. */
struct inode_key {
    dev_t dev;
    ino_t ino;
    bool gen_known, born_known;
    unsigned gen;
    long long born_s;
    unsigned born_ns;
};
static struct inode_key *never_inodes;
static size_t never_count, never_cap;
static bool never_overflow;

/* fd's inode, generation and birth time.  Raw system calls: ioctl and
   statx are wrapped doors. */
static struct inode_key key_of(int fd, const struct stat *st)
{
    struct inode_key k = { .dev = st->st_dev, .ino = st->st_ino };
    int gen;
    if (REAL(syscall)(SYS_ioctl, fd, FS_IOC_GETVERSION, &gen) == 0) {
        k.gen_known = true;
        k.gen = (unsigned)gen;
    }
    struct statx sx;
    if (REAL(syscall)(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) == 0 &&
        (sx.stx_mask & STATX_BTIME)) {
        k.born_known = true;
        k.born_s = sx.stx_btime.tv_sec;
        k.born_ns = sx.stx_btime.tv_nsec;
    }
    return k;
}

static bool same_file(const struct inode_key *a, const struct inode_key *b)
{
    if (a->gen_known && b->gen_known && a->gen != b->gen)
        return false;
    return !a->born_known || !b->born_known ||
           (a->born_s == b->born_s && a->born_ns == b->born_ns);
}

/* Whether fd's file (st) is on the list.  The generation and birth time
   are asked only when the number matches; an entry for a file that is
   gone is dropped. */
static bool inode_never_buffered(int fd, const struct stat *st)
{
    struct inode_key k = { 0 };
    bool asked = false, found;
    wb_registry_enter();
    found = never_overflow;
    for (size_t i = 0; i < never_count && !found; i++) {
        struct inode_key *e = &never_inodes[i];
        if (e->dev != st->st_dev || e->ino != st->st_ino)
            continue;
        if (!asked && (e->gen_known || e->born_known)) {
            wb_registry_leave();   /* no system call under the registry lock */
            k = key_of(fd, st);
            asked = true;
            wb_registry_enter();
            i = (size_t)-1;   /* the list may have changed meanwhile: look again */
            continue;
        }
        if (!asked || same_file(e, &k))
            found = true;
        else
            never_inodes[i--] = never_inodes[--never_count];   /* that file is gone */
    }
    wb_registry_leave();
    return found;
}

struct never_search { dev_t dev; ino_t ino; struct wb_file *found; };

static void find_never_buffered(struct wb_file *f, void *arg)
{
    struct never_search *m = arg;
    if (m->found || !WB_PEEK(f->live))
        return;
    wb_lock(f);
    if (f->live && f->fd_refs && (never_overflow || (f->dev == m->dev && f->ino == m->ino)))
        m->found = f;
    wb_unlock(f);
}

void wb_inode_unbuffered(int fd, const struct stat *st)
{
    if (wb_reentered() || inode_never_buffered(fd, st))   /* mmap and open are not signal-safe */
        return;
    struct inode_key key = key_of(fd, st);
    dev_t dev = st->st_dev;
    ino_t ino = st->st_ino;
    wb_registry_enter();
    if (never_count == never_cap) {
        size_t cap = never_cap ? 2 * never_cap : 16;
        struct inode_key *grown = realloc(never_inodes, cap * sizeof *grown);
        if (grown) {
            never_inodes = grown;
            never_cap = cap;
        } else {
            never_overflow = true;
        }
    }
    if (never_count < never_cap)
        never_inodes[never_count++] = key;
    wb_registry_leave();
    /* Files already buffered land, and their fds are looked at anew (and
       then left untagged). */
    for (;;) {
        struct never_search m = { dev, ino, NULL };
        wb_files_foreach(find_never_buffered, &m);
        if (!m.found)
            break;
        wb_file_forget_all_fds(m.found);
    }
}

/* ---- the decision ----------------------------------------------------------- */

static bool same_description(int fd1, int fd2)
{
    pid_t pid = getpid();
    return REAL(syscall)(SYS_kcmp, pid, pid, KCMP_FILE, fd1, fd2) == 0;
}

struct sibling_search { dev_t dev; ino_t ino; int fd; struct wb_file *same; bool other; };

static void find_sibling(struct wb_file *f, void *arg)
{
    struct sibling_search *s = arg;
    if (s->same || !WB_PEEK(f->live) || WB_PEEK(f->dev) != s->dev || WB_PEEK(f->ino) != s->ino)
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
    /* /proc, /sys and their kin show "regular files" whose write() is a
       command answered at once (EINVAL for a bad value): the JVM writes
       /proc/self/coredump_filter at start-up.  Never buffer those.  The raw
       system call, as fstatfs is a wrapped door; f_type comes first in
       every layout of the kernel's struct. */
    struct statfs fs = { .f_type = 0 };
    if (S_ISREG(st->st_mode))
        REAL(syscall)(SYS_fstatfs, fd, &fs);
    if ((fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC ||
         fs.f_type == CGROUP_SUPER_MAGIC || fs.f_type == CGROUP2_SUPER_MAGIC ||
         fs.f_type == DEBUGFS_MAGIC || fs.f_type == TRACEFS_MAGIC ||
         fs.f_type == SECURITYFS_MAGIC || fs.f_type == BPF_FS_MAGIC))
        return "a kernel interface file (/proc, /sys, cgroup...): its writes are commands";
    /* A memfd (tmpfs or hugetlbfs inside) that can still be sealed may
       forbid its writes at any moment (F_ADD_SEALS, from any process holding
       it): only the kernel, at each write, gives the exact EPERM.  A file
       that cannot be sealed answers F_SEAL_SEAL alone. */
    if (fs.f_type == TMPFS_MAGIC || fs.f_type == HUGETLBFS_MAGIC) {
        int seals = REAL(fcntl)(fd, F_GET_SEALS);
        if (seals >= 0 && seals != F_SEAL_SEAL)
            return "a memfd that can be sealed: a seal may forbid its writes at any moment";
    }
    if (wb_cfg.select_any && !path_selected(path) && !path_selected(abs) &&
        !(inherited && fd_selected(fd)))
        return "not selected by WRITEBEHIND_PATHS/WRITEBEHIND_FDS (--path/--fd)";
    if (S_ISREG(st->st_mode) && inode_never_buffered(fd, st))
        return "the file is mapped into memory (mmap) or open twice: its writes go straight "
               "through";
    return NULL;
}

static void land_stderr(void)
{
    uintptr_t e = wb_fdtab_get(2);
    if (wb_is_file(e))
        wb_land_file((struct wb_file *)e);
}

/* A record for fd's description: shared with a dup'd fd's, or new.  NULL
   with *why set when it must stay untagged. */
static struct wb_file *attach(int fd, int fl, const struct stat *st, const char *path,
                              char **abs, const char **why)
{
    struct sibling_search s = { st->st_dev, st->st_ino, fd, NULL, false };
    wb_files_foreach(find_sibling, &s);
    if (s.same) {
        wb_debug("fd %d (%s) tagged: shares the buffer of fd %d", fd, *abs ? *abs : "?",
                 s.same->fd);
        return s.same;
    }
    if (s.other) {
        /* Two doors to one file: neither is buffered from now on. */
        wb_inode_unbuffered(fd, st);
        *why = "the file is open through another description too (neither is buffered)";
        return NULL;
    }
    struct wb_file *f = wb_file_new();
    if (!f) {
        *why = "out of memory";
        return NULL;
    }
    wb_lock(f);
    wb_file_reset_locked(f);
    f->fd = fd;
    f->fd_refs = 1;
    WB_POKE(f->dev, st->st_dev);
    WB_POKE(f->ino, st->st_ino);
    f->fl_flags = fl;
    f->blksize = (long)st->st_blksize;
    f->is_pipe = S_ISFIFO(st->st_mode);
    f->path = *abs ? *abs : path ? strdup(path) : NULL;
    *abs = NULL;
    WB_POKE(f->live, true);
    wb_unlock(f);
    atomic_fetch_add(&wb_live_files, 1);
    atomic_store_explicit(&wb_say_before, land_stderr, memory_order_release);
    wb_stats_add(&wb_stats.files, 1);
    wb_debug("fd %d (%s) tagged", fd, f->path ? f->path : "?");
    return f;
}

/* Puts the answer for fd in the table; returns what the table now says. */
static uintptr_t install(int fd, struct wb_file *f, bool inherited)
{
    uintptr_t result = f ? (uintptr_t)f : WB_FD_PLAIN;
    uintptr_t old = wb_fdtab_get(fd);
    if (inherited && old != WB_FD_UNKNOWN) {
        /* Someone else decided meanwhile (a concurrent open or close). */
        if (f)
            wb_fd_detach_end(-1, f);
        return old;
    }
    /* A fresh fd from open() replaces whatever a close we did not see left
       behind; a first write only fills an UNKNOWN slot, so it can never
       undo a concurrent close (CLOSING). */
    bool installed = inherited ? wb_fdtab_cas(fd, WB_FD_UNKNOWN, result)
                               : (wb_fdtab_set(fd, result), true);
    if (!installed)
        result = wb_fdtab_get(fd);
    if (wb_is_file(old) && old != result && !inherited)
        wb_fd_detach_end(-1, (struct wb_file *)old);
    if (!installed && f)
        wb_fd_detach_end(-1, f);
    return result;
}

uintptr_t wb_fd_classify(int fd, const char *path, bool inherited)
{
    if (!wb_state_active() || (unsigned)fd >= WB_FD_LIMIT)
        return WB_FD_PLAIN;
    if (wb_reentered()) {
        /* Opened in a signal handler, which must not wait for the locks the
           sibling search takes: classified at its first write instead. */
        if (!inherited)
            wb_fdtab_set(fd, WB_FD_UNKNOWN);
        return WB_FD_PLAIN;
    }
    int saved = errno;
    struct stat st;
    int fl = REAL(fcntl)(fd, F_GETFL);
    if (fl < 0 || REAL(fstat)(fd, &st) < 0) {
        errno = saved;
        return WB_FD_PLAIN;   /* not an open fd: nothing to install */
    }
    if (fd == 2)
        wb_stderr_seen(st.st_dev, st.st_ino);   /* start-up's look at stderr, for say.c */
    /* The statistics name files by their absolute path; an error message
       names an inherited fd's file when it happens (say.c). */
    char *abs = wb_cfg.select_any || wb_cfg.debug || wb_cfg.stats ? proc_path(fd) : NULL;
    const char *why = refusal(fd, fl, &st, path, abs, inherited);
    struct wb_file *f = why ? NULL : attach(fd, fl, &st, path, &abs, &why);
    if (why)
        wb_debug("fd %d (%s) not tagged: %s", fd, abs ? abs : path ? path : "?", why);
    free(abs);
    uintptr_t result = install(fd, f, inherited);
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

struct inode_search { dev_t dev; ino_t ino; bool found; };

static void find_inode(struct wb_file *f, void *arg)
{
    struct inode_search *k = arg;
    if (WB_PEEK(f->live) && WB_PEEK(f->dev) == k->dev && WB_PEEK(f->ino) == k->ino)
        k->found = true;
}

/* A read-only (or O_PATH) fd may be a second door to a buffered file. */
static void check_second_door(int fd)
{
    struct stat st;
    int saved = errno;
    if (atomic_load(&wb_live_files) && REAL(fstat)(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        struct inode_search k = { st.st_dev, st.st_ino, false };
        wb_files_foreach(find_inode, &k);
        if (k.found)
            wb_inode_unbuffered(fd, &st);
    }
    errno = saved;
}

void wb_fd_opened(int fd, const char *path, int flags, bool lazily)
{
    if (fd < 0 || !wb_state_active())
        return;
    if ((flags & O_ACCMODE) == O_RDONLY || (flags & O_PATH)) {
        /* Cannot be tagged; still replaces whatever a close we did not
           see may have left in the table. */
        if (wb_is_file(wb_fdtab_get(fd)))
            wb_fd_classify(fd, path, false);
        else
            wb_fdtab_set(fd, WB_FD_PLAIN);
        check_second_door(fd);
        wb_debug("fd %d (%s) not tagged: %s", fd, path ? path : "?",
                 (flags & O_PATH) ? "O_PATH" : "not open for writing");
        return;
    }
    /* Looked at on its second write (ops.c): many files get one write and
       a close, and buffering cannot help those.  Path selection needs the
       path given here; the statistics and debugging say what each open
       file became; a stale entry (a close we did not see) is replaced. */
    if (lazily && !wb_cfg.select_any && !wb_cfg.stats && !wb_cfg.debug &&
        !wb_is_file(wb_fdtab_get(fd))) {
        wb_fdtab_set(fd, WB_FD_FRESH);
        return;
    }
    wb_fd_classify(fd, path, false);
}

/* ---- fds that change ------------------------------------------------------- */

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
    wb_file_land_idle_locked(f);
    wb_fdtab_set(fd, WB_FD_CLOSING);
    f->fd_refs--;
    if (f->fd_refs && f->fd == fd) {
        int other = wb_fdtab_find(e, fd);
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
        wb_file_retire(f);
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
    wb_lock(f);
    wb_file_land_idle_locked(f);
    wb_fdtab_forget((uintptr_t)f);
    f->fd_refs = 0;
    wb_unlock(f);
    wb_file_retire(f);
}
