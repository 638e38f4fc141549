/*
 * check.c — `writebehind --check COMMAND`: would writebehind help it?
 *
 * The command runs unbuffered (the library is not preloaded) under
 * ptrace, every process of its tree attached as it is born.  Why ptrace
 * and not the library in a counting mode: the library cannot see the
 * programs it cannot reach — static binaries, setuid ones, Go — which are
 * exactly what a user needs to hear about, nor glibc stdio's own writes
 * without wrapping stdio (which is already buffering); the kernel sees
 * every write() whoever makes it.  A seccomp filter makes only the calls
 * that matter stop (write and its relatives, close, dup2, fsync, kill),
 * so the rest of the program runs at full speed; without seccomp every
 * system call stops, which is slower but counts the same.
 *
 * For each write the target is found through /proc/PID/fd (device and
 * inode: one file however many times it is opened) and what the library
 * would do with it is simulated: a buffer of --bufsize per file and
 * process, handed off when full, landed by the timer (--flush-ms), by a
 * close, fsync, fork, exec or exit, and by a write to anything unbuffered
 * (which may tell another process that the file is ready).  The result is
 * the number of write calls the command makes now and would make under
 * writebehind, and why the difference is small when it is.
 *
 * Like strace -f, the check ends when the last process of the tree has
 * ended, and its tracees die with it if the wrapper is killed.
 */
#include "cli.h"
#include "../parse.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_AARCH64
#endif

/* Why a buffer landed under the simulation: the causes of kernel writes. */
enum cause { C_THROUGH, C_FULL, C_TIMER, C_CLOSE, C_FSYNC, C_TELL, C_FORK_EXEC, C_EXIT, C_N };
static const char *const cause_names[C_N] = {
    "written straight through", "full buffers", "the flush timer", "close", "fsync",
    "writes to unbuffered descriptors", "fork or exec", "process exit",
};

struct target {
    uint64_t dev, ino;
    char *name;
    const char *why_not;      /* the reason it was not buffered (first seen) */
    uint64_t writes, bytes, small, buffered_writes, est;
    uint64_t pipe_est;        /* for a pipe without --pipes: the calls with it */
    struct target *next;
};

struct pend {                 /* a buffer of one process for one target */
    struct target *t;
    uint64_t bytes;
    double first;
    bool hypothetical;        /* a pipe simulated as if --pipes were given */
    struct pend *next;
};

struct fd_entry {
    bool valid;
    uint64_t dev, ino;
    struct target *t;
    const char *why_not;      /* NULL: buffered */
    bool pipe_without_option;
    struct pend *pend;
};

struct proc {
    pid_t tgid;
    double last_stop, clock;  /* the process's own time, tracing's cost taken out */
    char *exe;
    const char *unreachable;  /* why LD_PRELOAD cannot reach it, or NULL */
    struct fd_entry *fds;
    size_t n_fds;
    struct pend *pends;
    uint64_t writes;
};

struct task { pid_t tid, tgid; };

struct unreachable_prog {
    char *exe;
    const char *why;
    uint64_t processes, writes;
    struct unreachable_prog *next;
};

static struct {
    const struct cli_options *o;
    double flush_s;
    struct target *targets;
    struct proc **procs;
    size_t n_procs, cap_procs;
    struct task *tasks;
    size_t n_tasks, cap_tasks;
    struct unreachable_prog *unreachable;
    uint64_t causes[C_N];
    uint64_t processes, execs, large_writes, fsyncs, writes_total;
    uint64_t pipe_writes;
    bool seccomp;
} S;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the tree: tasks (threads) and processes ---------------------------- */

static pid_t tgid_of(pid_t tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", tid);
    FILE *f = fopen(path, "re");
    pid_t tgid = tid;
    if (!f)
        return tid;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Tgid: %d", &tgid) == 1)
            break;
    fclose(f);
    return tgid;
}

static char *read_link(const char *path)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n <= 0)
        return cli_strdup("?");
    buf[n] = 0;
    return cli_strdup(buf);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void note_unreachable(struct proc *p)
{
    if (!p->unreachable)
        return;
    for (struct unreachable_prog *u = S.unreachable; u; u = u->next)
        if (!strcmp(u->exe, p->exe)) {
            u->processes++;
            return;
        }
    struct unreachable_prog *u = cli_alloc(sizeof *u);
    u->exe = cli_strdup(p->exe);
    u->why = p->unreachable;
    u->processes = 1;
    u->next = S.unreachable;
    S.unreachable = u;
}

/* What the library would make of this image: reachable, and chosen. */
static void judge_image(struct proc *p)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", p->tgid);
    free(p->exe);
    p->exe = read_link(path);
    const char *why;
    p->unreachable = binary_reach(p->exe, &why) == REACH_OK ? NULL : why;
    if (!p->unreachable && (S.o->only || S.o->skip)) {
        char cmdline[PATH_MAX] = "";
        snprintf(path, sizeof path, "/proc/%d/cmdline", p->tgid);
        FILE *f = fopen(path, "re");
        if (f) {
            size_t n = fread(cmdline, 1, sizeof cmdline - 1, f);
            cmdline[n] = 0;
            fclose(f);
        }
        const char *names[2] = { base_name(cmdline), base_name(p->exe) };
        bool listed_only = false, listed_skip = false;
        for (int i = 0; i < 2; i++) {
            listed_only |= S.o->only && wb_names_contain(S.o->only, names[i]);
            listed_skip |= S.o->skip && wb_names_contain(S.o->skip, names[i]);
        }
        if ((S.o->only && !listed_only) || listed_skip)
            p->unreachable = "is not chosen by --only/--skip";
    }
    note_unreachable(p);
}

static struct proc *proc_find(pid_t tgid)
{
    for (size_t i = 0; i < S.n_procs; i++)
        if (S.procs[i]->tgid == tgid)
            return S.procs[i];
    return NULL;
}

static struct proc *proc_get(pid_t tgid, struct proc *parent)
{
    struct proc *p = proc_find(tgid);
    if (p)
        return p;
    p = cli_alloc(sizeof *p);
    p->tgid = tgid;
    S.processes++;
    if (parent) {   /* a fork child runs its parent's image until it execs */
        p->exe = cli_strdup(parent->exe);
        p->unreachable = parent->unreachable;
        note_unreachable(p);
    } else {
        judge_image(p);
    }
    S.procs = cli_grow(S.procs, &S.cap_procs, S.n_procs, sizeof *S.procs);
    S.procs[S.n_procs++] = p;
    return p;
}

static pid_t task_tgid(pid_t tid)
{
    for (size_t i = 0; i < S.n_tasks; i++)
        if (S.tasks[i].tid == tid)
            return S.tasks[i].tgid;
    S.tasks = cli_grow(S.tasks, &S.cap_tasks, S.n_tasks, sizeof *S.tasks);
    S.tasks[S.n_tasks] = (struct task){ tid, tgid_of(tid) };
    return S.tasks[S.n_tasks++].tgid;
}

static void task_forget(pid_t tid)
{
    for (size_t i = 0; i < S.n_tasks; i++)
        if (S.tasks[i].tid == tid) {
            S.tasks[i] = S.tasks[--S.n_tasks];
            return;
        }
}

/* ---- the simulated buffers ---------------------------------------------- */

static void land(struct pend *pd, enum cause why)
{
    if (!pd->bytes)
        return;
    pd->bytes = 0;
    if (pd->hypothetical) {
        pd->t->pipe_est++;
        return;
    }
    pd->t->est++;
    S.causes[why]++;
}

static void land_all(struct proc *p, enum cause why)
{
    for (struct pend *pd = p->pends; pd; pd = pd->next)
        if (!pd->hypothetical || why != C_TELL)
            land(pd, why);
}

static void simulate_write(struct pend *pd, uint64_t n, double now)
{
    uint64_t *est = pd->hypothetical ? &pd->t->pipe_est : &pd->t->est;
    if (n >= S.o->bufsize) {   /* straight through, after what is buffered */
        land(pd, C_THROUGH);
        ++*est;
        if (!pd->hypothetical)
            S.causes[C_THROUGH]++;
        return;
    }
    if (pd->bytes && now - pd->first >= S.flush_s)
        land(pd, C_TIMER);
    if (pd->bytes + n > S.o->bufsize)
        land(pd, C_FULL);
    if (!pd->bytes)
        pd->first = now;
    pd->bytes += n;
}

static void proc_end(struct proc *p, enum cause why)
{
    land_all(p, why);
    for (struct pend *pd = p->pends, *next; pd; pd = next) {
        next = pd->next;
        free(pd);
    }
    p->pends = NULL;
    free(p->fds);
    p->fds = NULL;
    p->n_fds = 0;
}

static void proc_forget(pid_t tgid)
{
    for (size_t i = 0; i < S.n_procs; i++)
        if (S.procs[i]->tgid == tgid) {
            struct proc *p = S.procs[i];
            proc_end(p, C_EXIT);
            free(p->exe);
            free(p);
            S.procs[i] = S.procs[--S.n_procs];
            return;
        }
}

/* ---- what an fd is, and whether the library would buffer it ------------- */

static struct target *target_get(uint64_t dev, uint64_t ino, pid_t tid, int fd)
{
    for (struct target *t = S.targets; t; t = t->next)
        if (t->dev == dev && t->ino == ino)
            return t;
    struct target *t = cli_alloc(sizeof *t);
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd/%d", tid, fd);
    t->dev = dev;
    t->ino = ino;
    t->name = read_link(path);
    t->next = S.targets;
    S.targets = t;
    return t;
}

static int fd_flags(pid_t tid, int fd)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", tid, fd);
    FILE *f = fopen(path, "re");
    int flags = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "flags: %o", (unsigned *)&flags) == 1)
            break;
    fclose(f);
    return flags;
}

static bool selected(const struct target *t, int fd)
{
    if (!S.o->paths && !S.o->fds)
        return true;
    if (S.o->fds) {
        char num[16];
        snprintf(num, sizeof num, "%d", fd);
        if (wb_names_contain(S.o->fds, num))
            return true;
    }
    if (S.o->paths) {
        char *globs = cli_strdup(S.o->paths), *save = NULL;
        bool match = false;
        for (char *g = strtok_r(globs, ":", &save); g && !match; g = strtok_r(NULL, ":", &save))
            match = fnmatch(g, t->name, 0) == 0;
        free(globs);
        if (match)
            return true;
    }
    return false;
}

static const char *why_not_buffered(const struct stat *st, int flags, const struct target *t,
                                    int fd, bool *pipe_without_option)
{
    *pipe_without_option = false;
    if (S_ISCHR(st->st_mode))
        return !strncmp(t->name, "/dev/pts/", 9) || !strncmp(t->name, "/dev/tty", 8)
                   ? "a terminal" : "a device";
    if (S_ISSOCK(st->st_mode))
        return "a socket";
    if (S_ISFIFO(st->st_mode) && !S.o->pipes) {
        *pipe_without_option = true;
        return "a pipe; --pipes would buffer it";
    }
    if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
        return "not a regular file";
    if (flags & O_DIRECT)
        return "opened with O_DIRECT";
    if (flags & (O_SYNC | O_DSYNC))
        return "opened with O_SYNC/O_DSYNC";
    if (!selected(t, fd))
        return "not selected by --path/--fd";
    return NULL;
}

static struct fd_entry *fd_entry_of(struct proc *p, pid_t tid, int fd)
{
    if (fd < 0 || fd >= (1 << 20))
        return NULL;
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/fd/%d", tid, fd);
    if (stat(path, &st) != 0)
        return NULL;   /* not open: the write fails with EBADF */
    if ((size_t)fd >= p->n_fds) {
        size_t n = (size_t)fd + 16;
        struct fd_entry *grown = realloc(p->fds, n * sizeof *grown);
        if (!grown)
            cli_die("out of memory");
        memset(grown + p->n_fds, 0, (n - p->n_fds) * sizeof *grown);
        p->fds = grown;
        p->n_fds = n;
    }
    struct fd_entry *e = &p->fds[fd];
    if (e->valid && e->dev == (uint64_t)st.st_dev && e->ino == (uint64_t)st.st_ino)
        return e;
    e->valid = true;
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    e->t = target_get(st.st_dev, st.st_ino, tid, fd);
    e->why_not = why_not_buffered(&st, fd_flags(tid, fd), e->t, fd, &e->pipe_without_option);
    e->pend = NULL;
    for (struct pend *pd = p->pends; pd; pd = pd->next)
        if (pd->t == e->t)
            e->pend = pd;
    return e;
}

static struct pend *pend_of(struct proc *p, struct fd_entry *e, bool hypothetical)
{
    if (!e->pend) {
        struct pend *pd = cli_alloc(sizeof *pd);
        pd->t = e->t;
        pd->hypothetical = hypothetical;
        pd->next = p->pends;
        p->pends = pd;
        e->pend = pd;
    }
    return e->pend;
}

/* ---- the calls ---------------------------------------------------------- */

static uint64_t iov_bytes(pid_t tid, uint64_t iov_addr, uint64_t count)
{
    uint64_t total = 0;
    struct iovec remote_iov[64];
    for (uint64_t done = 0; done < count && done < 1024;) {
        size_t chunk = count - done < 64 ? (size_t)(count - done) : 64;
        struct iovec local = { remote_iov, chunk * sizeof *remote_iov };
        struct iovec remote = { (void *)(uintptr_t)(iov_addr + done * sizeof *remote_iov),
                                chunk * sizeof *remote_iov };
        if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)local.iov_len)
            break;
        for (size_t i = 0; i < chunk; i++)
            total += remote_iov[i].iov_len;
        done += chunk;
    }
    return total;
}

/* Tracing makes every stop cost tens of microseconds (more on a busy
   machine), which would make a fast writer look slow to the flush timer.
   So a process's clock advances only by the part of each gap between two of
   its stops beyond a millisecond: a program that pauses (sleeps, waits,
   computes) still crosses the timer, one that writes flat out does not.
   The timer then fires at most once per flush interval, so the error this
   leaves is small beside the writes of any program fast enough to lose it. */
#define CLOCK_SLACK 0.001

static double process_clock(struct proc *p)
{
    double now = now_s();
    if (p->last_stop && now - p->last_stop > CLOCK_SLACK)
        p->clock += now - p->last_stop - CLOCK_SLACK;
    p->last_stop = now;
    return p->clock;
}

static void on_write(struct proc *p, pid_t tid, int fd, uint64_t n)
{
    struct fd_entry *e = fd_entry_of(p, tid, fd);
    if (!e)
        return;
    double now = process_clock(p);
    struct target *t = e->t;
    const char *why = p->unreachable ? "written by a program writebehind cannot reach (below)"
                                     : e->why_not;
    t->writes++;
    t->bytes += n;
    t->small += n < S.o->bufsize;
    p->writes++;
    S.writes_total++;
    S.large_writes += n >= S.o->bufsize;
    if (p->unreachable)
        for (struct unreachable_prog *u = S.unreachable; u; u = u->next)
            if (!strcmp(u->exe, p->exe))
                u->writes++;
    if (!why) {
        t->buffered_writes++;
        simulate_write(pend_of(p, e, false), n, now);
        return;
    }
    if (!t->why_not)
        t->why_not = why;
    t->est++;
    if (p->unreachable)
        return;   /* the library is not there to land anything */
    land_all(p, C_TELL);   /* an unbuffered write lands every buffer first */
    if (e->pipe_without_option) {
        S.pipe_writes++;
        simulate_write(pend_of(p, e, true), n, now);
    }
}

/* fd stops naming its file: the library lands that file's buffer. */
static void on_close(struct proc *p, pid_t tid, int fd, enum cause why)
{
    if (p->unreachable)
        return;
    struct fd_entry *e = fd_entry_of(p, tid, fd);
    if (e && e->pend)
        land(e->pend, why);
    if (e)
        e->valid = false;
}

static void on_syscall(pid_t tid, uint64_t nr, const uint64_t *a)
{
    struct proc *p = proc_get(task_tgid(tid), NULL);
    int fd = (int)a[0];
    switch (nr) {
    case SYS_write:
    case SYS_pwrite64:
        on_write(p, tid, fd, a[2]);
        break;
    case SYS_writev:
    case SYS_pwritev:
#ifdef SYS_pwritev2
    case SYS_pwritev2:
#endif
        on_write(p, tid, fd, iov_bytes(tid, a[1], a[2]));
        break;
    case SYS_close:
        on_close(p, tid, fd, C_CLOSE);
        break;
#ifdef SYS_dup2
    case SYS_dup2:
#endif
    case SYS_dup3:
        if (a[0] != a[1])
            on_close(p, tid, (int)a[1], C_CLOSE);
        break;
#ifdef SYS_close_range
    case SYS_close_range:
        if (!p->unreachable)
            land_all(p, C_CLOSE);
        for (size_t i = 0; i < p->n_fds; i++)
            p->fds[i].valid = false;
        break;
#endif
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_sync_file_range: {
        struct fd_entry *e = p->unreachable ? NULL : fd_entry_of(p, tid, fd);
        S.fsyncs++;
        if (e && e->pend)
            land(e->pend, C_FSYNC);
        break;
    }
    case SYS_kill:
    case SYS_tgkill:
    case SYS_tkill:
        if (!p->unreachable)
            land_all(p, C_TELL);
        break;
    default:
        break;
    }
}

static const long traced_calls[] = {
    SYS_write, SYS_writev, SYS_pwrite64, SYS_pwritev,
#ifdef SYS_pwritev2
    SYS_pwritev2,
#endif
    SYS_close, SYS_dup3,
#ifdef SYS_dup2
    SYS_dup2,
#endif
#ifdef SYS_close_range
    SYS_close_range,
#endif
    SYS_fsync, SYS_fdatasync, SYS_sync_file_range, SYS_kill, SYS_tgkill, SYS_tkill,
};
#define N_TRACED (sizeof traced_calls / sizeof *traced_calls)

/* In the child, before exec: only the calls above stop for the tracer. */
static bool install_filter(void)
{
#ifdef AUDIT_ARCH_HERE
    struct sock_filter f[4 + N_TRACED + 2];
    size_t n = 0;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_HERE, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                          offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < N_TRACED; i++)
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                              (unsigned)traced_calls[i],
                                              (unsigned char)(N_TRACED - i), 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
    struct sock_fprog prog = { (unsigned short)n, f };
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
#else
    return false;
#endif
}

/* ---- the tracer ----------------------------------------------------------- */

static void resume(pid_t tid, int sig)
{
    ptrace(S.seccomp ? PTRACE_CONT : PTRACE_SYSCALL, tid, 0, (void *)(uintptr_t)sig);
}

static void on_stop(pid_t tid, int status)
{
    int sig = WSTOPSIG(status), event = (unsigned)status >> 16;
    if (sig == (SIGTRAP | 0x80) || event == PTRACE_EVENT_SECCOMP) {
        struct __ptrace_syscall_info info;
        if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) > 0) {
            if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
                on_syscall(tid, info.entry.nr, info.entry.args);
            else if (info.op == PTRACE_SYSCALL_INFO_SECCOMP)
                on_syscall(tid, info.seccomp.nr, info.seccomp.args);
        }
        resume(tid, 0);
        return;
    }
    switch (event) {
    case PTRACE_EVENT_EXEC: {
        unsigned long former = 0;
        ptrace(PTRACE_GETEVENTMSG, tid, 0, &former);
        if ((pid_t)former != tid)
            task_forget((pid_t)former);
        struct proc *p = proc_get(task_tgid(tid), NULL);
        proc_end(p, C_FORK_EXEC);   /* the old image lands everything */
        S.execs++;
        judge_image(p);
        resume(tid, 0);
        return;
    }
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE: {
        unsigned long child = 0;
        ptrace(PTRACE_GETEVENTMSG, tid, 0, &child);
        struct proc *parent = proc_get(task_tgid(tid), NULL);
        pid_t child_tgid = task_tgid((pid_t)child);
        if (child_tgid != parent->tgid) {
            if (!parent->unreachable)
                land_all(parent, C_FORK_EXEC);   /* fork lands everything first */
            proc_get(child_tgid, parent);
        }
        resume(tid, 0);
        return;
    }
    case PTRACE_EVENT_STOP:
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
            ptrace(PTRACE_LISTEN, tid, 0, 0);   /* a group stop: stay stopped */
        else
            resume(tid, 0);
        return;
    case 0:
        resume(tid, sig);   /* a signal for the tracee: delivered as it would be */
        return;
    default:
        resume(tid, 0);
        return;
    }
}

static void on_gone(pid_t tid)
{
    pid_t tgid = task_tgid(tid);
    task_forget(tid);
    if (tid == tgid)
        proc_forget(tgid);
}


static char *pretty_bytes(uint64_t n, char *buf, size_t size)
{
    if (n >= (1u << 20))
        snprintf(buf, size, "%.1f MiB", (double)n / (1 << 20));
    else if (n >= 1024)
        snprintf(buf, size, "%.1f KiB", (double)n / 1024);
    else
        snprintf(buf, size, "%llu %s", (unsigned long long)n, plural(n, "byte", "bytes"));
    return buf;
}

struct totals {
    uint64_t writes, est, buffered, saved;
    double share;   /* saved, in % of writes */
};

/* The targets written to, most written first. */
static struct target **sorted_targets(size_t *count)
{
    size_t n_targets = 0;
    for (struct target *t = S.targets; t; t = t->next)
        n_targets += t->writes > 0;
    struct target **list = cli_alloc((n_targets + 1) * sizeof *list);
    size_t n = 0;
    for (struct target *t = S.targets; t; t = t->next)
        if (t->writes)
            list[n++] = t;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && list[j]->writes > list[j - 1]->writes; j--) {
            struct target *x = list[j];
            list[j] = list[j - 1];
            list[j - 1] = x;
        }
    *count = n;
    return list;
}

static void print_json(FILE *out, const struct totals *tot, struct target **list, size_t n)
{
    fprintf(out, "{\"processes\": %llu, \"writes\": %llu, \"kernel_writes_with_writebehind\": "
                 "%llu, \"system_calls_saved\": %llu, \"saved_percent\": %.1f, "
                 "\"would_help\": %s, \"targets\": [",
            (unsigned long long)S.processes, (unsigned long long)tot->writes,
            (unsigned long long)tot->est, (unsigned long long)tot->saved, tot->share,
            tot->saved >= 100 && tot->share >= 50 ? "true" : "false");
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%s{\"target\": ", i ? ", " : "");
        json_string(out, list[i]->name);
        fprintf(out, ", \"writes\": %llu, \"bytes\": %llu, \"small_writes\": %llu, "
                     "\"kernel_writes_with_writebehind\": %llu, \"buffered\": %s}",
                (unsigned long long)list[i]->writes, (unsigned long long)list[i]->bytes,
                (unsigned long long)list[i]->small, (unsigned long long)list[i]->est,
                list[i]->buffered_writes ? "true" : "false");
    }
    fputs("], \"unreachable\": [", out);
    for (struct unreachable_prog *u = S.unreachable; u; u = u->next) {
        fputs(u == S.unreachable ? "{\"program\": " : ", {\"program\": ", out);
        json_string(out, u->exe);
        fprintf(out, ", \"why\": ");
        json_string(out, u->why);
        fprintf(out, ", \"processes\": %llu, \"writes\": %llu}",
                (unsigned long long)u->processes, (unsigned long long)u->writes);
    }
    fputs("]}\n", out);
}

/* The targets as a table, the verdict, the programs out of reach. */
static void print_text(FILE *out, const struct totals *tot, struct target **list, size_t n)
{
    char size[32];
    uint64_t writes = tot->writes;
    fprintf(out, "writebehind --check: %llu %s, %llu %s in all (buffer %s, timer %llu ms)\n",
            (unsigned long long)S.processes, plural(S.processes, "process", "processes"),
            (unsigned long long)writes, plural(writes, "write", "writes"),
            pretty_bytes(S.o->bufsize, size, sizeof size), S.o->flush_ms);
    if (n) {
        fprintf(out, "writebehind: %10s %10s %12s  %s\n", "writes", "small", "writebehind",
                "target");
        for (size_t i = 0; i < n && i < 15; i++) {
            const struct target *t = list[i];
            fprintf(out, "writebehind: %10llu %10llu %12llu  %s", (unsigned long long)t->writes,
                    (unsigned long long)t->small, (unsigned long long)t->est, t->name);
            if (!t->buffered_writes)
                fprintf(out, " (not buffered: %s)", t->why_not ? t->why_not : "?");
            else if (t->buffered_writes < t->writes)
                fprintf(out, " (partly not buffered: %s)", t->why_not ? t->why_not : "?");
            fputc('\n', out);
        }
        if (n > 15)
            fprintf(out, "writebehind: ... and %zu more targets\n", n - 15);
    }

    if (!writes)
        fprintf(out, "writebehind: verdict: the command made no writes: writebehind has "
                     "nothing to do\n");
    else if (tot->saved >= 100 && tot->share >= 50)
        fprintf(out, "writebehind: verdict: writebehind would help: %llu write %s would become "
                     "about %llu (%llu saved, %.1f%%)\n",
                (unsigned long long)writes, plural(writes, "call", "calls"),
                (unsigned long long)tot->est, (unsigned long long)tot->saved, tot->share);
    else
        fprintf(out, "writebehind: verdict: writebehind would %s: %llu write %s would become "
                     "about %llu (%llu saved, %.1f%%)\n",
                tot->saved ? "help little" : "not help", (unsigned long long)writes,
                plural(writes, "call", "calls"), (unsigned long long)tot->est,
                (unsigned long long)tot->saved, tot->share);

    for (struct unreachable_prog *u = S.unreachable; u; u = u->next)
        fprintf(out, "writebehind: %s: %s %s (%llu %s, %llu %s)\n",
                strstr(u->why, "--only") ? "left alone" : "cannot reach", u->exe, u->why,
                (unsigned long long)u->processes, plural(u->processes, "process", "processes"),
                (unsigned long long)u->writes, plural(u->writes, "write", "writes"));
}

/* Why the saving is small, from what landed the buffers. */
static void print_why(FILE *out, const struct totals *tot)
{
    char size[32];
    uint64_t writes = tot->writes, buffered = tot->buffered, landed = 0;
    for (int c = C_FULL; c < C_N; c++)
        landed += S.causes[c];
    if (writes && S.large_writes * 2 > writes)
        fprintf(out, "writebehind: why: most writes are already at least %s: they go straight "
                     "through\n", pretty_bytes(S.o->bufsize, size, sizeof size));
    if (S.pipe_writes * 10 >= writes) {
        uint64_t with = 0;
        for (struct target *t = S.targets; t; t = t->next)
            with += t->pipe_est;
        fprintf(out, "writebehind: why: %llu %s went to pipes, which are buffered only with "
                     "--pipes (they would then become about %llu)\n",
                (unsigned long long)S.pipe_writes, plural(S.pipe_writes, "write", "writes"),
                (unsigned long long)with);
    }
    if (buffered && S.processes >= 50 && buffered / S.processes < 20)
        fprintf(out, "writebehind: why: %llu processes made %.1f buffered writes each on "
                     "average: every process lands its buffers when it ends (and pays the "
                     "library's start-up)\n",
                (unsigned long long)S.processes, (double)buffered / (double)S.processes);
    static const int reasons[] = { C_CLOSE, C_FSYNC, C_TELL, C_FORK_EXEC, C_TIMER };
    for (size_t i = 0; i < sizeof reasons / sizeof *reasons; i++) {
        int c = reasons[i];
        if (buffered && S.causes[c] * 4 > buffered && S.causes[c] * 2 > landed)
            fprintf(out, "writebehind: why: most buffers would be landed by %s (%llu of %llu "
                         "times), each after only %.1f writes\n",
                    cause_names[c], (unsigned long long)S.causes[c], (unsigned long long)landed,
                    (double)buffered / (double)(landed ? landed : 1));
    }
}

static void print_verdict(FILE *out)
{
    struct totals tot = { 0 };
    for (struct target *t = S.targets; t; t = t->next) {
        tot.writes += t->writes;
        tot.est += t->est;
        tot.buffered += t->buffered_writes;
    }
    tot.saved = tot.writes > tot.est ? tot.writes - tot.est : 0;
    tot.share = tot.writes ? 100.0 * (double)tot.saved / (double)tot.writes : 0.0;
    size_t n;
    struct target **list = sorted_targets(&n);
    if (S.o->json) {
        print_json(out, &tot, list, n);
    } else {
        print_text(out, &tot, list, n);
        print_why(out, &tot);
    }
    free(list);
}

/* The trace from start to verdict: the filter, the fork, the event loop.
   Kept in one piece because the child's half and the parent's half share
   the pipes and the order of their steps is the protocol between them. */
int check_command(const struct cli_options *o)
{
    S.o = o;
    S.flush_s = (double)o->flush_ms / 1000.0;

    /* Unbuffered: a copy of the library preloaded from outside passes through. */
    char *copy = preloaded_copy(getenv("LD_PRELOAD"));
    if (copy) {
        setenv("WRITEBEHIND_DISABLE", "1", 1);
        free(copy);
    }
    int *filter_state = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int go[2], failed[2];
    if (filter_state == MAP_FAILED || pipe2(go, O_CLOEXEC) || pipe2(failed, O_CLOEXEC))
        cli_die("cannot prepare the trace: %s", strerror(errno));
    *filter_state = 0;
    signals_hold();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        cli_die("cannot start the command: %s", strerror(errno));
    if (pid == 0) {
        close(go[1]);
        close(failed[0]);
        signals_restore_in_child();
        __atomic_store_n(filter_state, install_filter() ? 1 : 2, __ATOMIC_RELEASE);
        char c;
        while (read(go[0], &c, 1) < 0 && errno == EINTR)
            ;
        execvp(o->command[0], o->command);
        int err = errno;
        if (write(failed[1], &err, sizeof err) < 0)
            _exit(exec_failure_status(err));
        _exit(exec_failure_status(err));
    }
    close(go[0]);
    close(failed[1]);
    while (!__atomic_load_n(filter_state, __ATOMIC_ACQUIRE))
        usleep(100);
    S.seccomp = *filter_state == 1;
    long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEFORK |
                PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_EXITKILL |
                (S.seccomp ? PTRACE_O_TRACESECCOMP : 0);
    if (ptrace(PTRACE_SEIZE, pid, 0, (void *)opts) != 0) {
        int err = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cli_die("--check cannot trace the command (ptrace: %s); it needs ptrace, which "
                "containers may forbid (docker run --cap-add=SYS_PTRACE) and which a "
                "program already being traced cannot have twice", strerror(err));
    }
    if (!S.seccomp)
        ptrace(PTRACE_INTERRUPT, pid, 0, 0);   /* then resumed into syscall tracing */
    proc_get(pid, NULL);
    close(go[1]);

    /* Every stop and exit of a tracee raises SIGCHLD: drain them all, then
       wait for the next one (or a signal to pass on). */
    int main_status = 0;
    for (;;) {
        int status;
        pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
        if (tid < 0 && errno == EINTR)
            continue;
        if (tid < 0)
            break;   /* ECHILD: the whole tree has ended */
        if (tid == 0) {
            wait_for_event(pid);
            continue;
        }
        if (WIFSTOPPED(status)) {
            on_stop(tid, status);
            continue;
        }
        if (tid == pid)
            main_status = status;
        on_gone(tid);
    }
    while (S.n_procs)
        proc_forget(S.procs[0]->tgid);

    int err = 0;
    if (read(failed[0], &err, sizeof err) == (ssize_t)sizeof err) {
        cli_warn("failed to run command '%s': %s", o->command[0], strerror(err));
        return main_status;
    }
    close(failed[0]);
    fflush(stdout);
    print_verdict(stderr);
    return main_status;
}
