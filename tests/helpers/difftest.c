/*
 * difftest — a differential tester: the same seeded sequence of operations,
 * run plainly and under writebehind, must print the same thing and leave the
 * same files with the same metadata (tests/differential.bats compares the
 * two runs).
 *
 *   difftest run SEED NOPS [CLASSES]
 *                      in the current directory (a scratch dir); CLASSES is a
 *                      comma-separated list of the operation classes below,
 *                      or "all" (default: $DIFFTEST_CLASSES, else "all")
 *                      ($DIFFTEST_SKIP=op,op leaves the named operations out,
 *                      e.g. memfd,fcntl: the names are the table's, less op_)
 *   difftest classes CLASSES   print the expanded list (exit 2 if a name is bad)
 *   difftest meta      print the metadata of every file in the current
 *                      directory (mode, owner, size, times, xattrs, checksum)
 *   difftest meta-after ARGS...  run `difftest ARGS...`, then write the meta
 *                      of the current directory to "<cwd>.attrs"; same status
 *   difftest cat PATH...       print length and checksum of each file
 *                              (the "other process" of the exec/spawn ops)
 *   difftest dump              cat of every file the run uses
 *   difftest writer FD         write three lines to the inherited FD
 *
 * Misuse (an unknown class, a malformed number) prints the usage and exits 2,
 * which no run ever exits with.
 *
 * Every line printed is written with one write() to fd 1, which the test
 * points at a regular file: the log is itself a tagged file, shared with
 * forked and exec'd children.  Each line starts with the number of the
 * operation that printed it.  Nothing timing-dependent is printed (no pids,
 * times or block counts), so any difference is a semantic one.
 *
 * A run keeps NSLOTS slots of fds over NFILES files; the same file is often
 * open through several slots (dup'd or opened again), with O_APPEND,
 * O_TRUNC, O_RDWR, O_RDONLY and O_CLOEXEC mixed.  Operations are picked by
 * weight from the table at the bottom, among the enabled classes; each
 * prints its arguments, its return value, errno on failure, and a checksum
 * of whatever it read.  The classes (issue 11 lists why each one matters):
 *
 *   base            write/writev/pwrite/read/lseek/dup/close/fork/exec/mmap...
 *   meta            times, modes (setuid/setgid then a write, CAP_FSETID
 *                   dropped and raised), owners, xattrs, ioctls, fallocate,
 *                   memfd seals, every fcntl command
 *   proc            fork, glibc clone(), raw SYS_clone/SYS_clone3, vfork,
 *                   posix_spawn of cat, system(): the child reads the files
 *   ipc             a forked peer told through a pipe close or write, a
 *                   socket, eventfd, mq_send, msgsnd, semop, sem_post, a
 *                   process-shared condvar, FUTEX_WAKE; it then reads the files
 *   glibc_internal  a second "r" FILE, tmpfile, lockf, nftw/ftw,
 *                   eventfd_write, POSIX AIO, popen of cat, backtrace_symbols_fd
 *   offsets         the offset the kernel sees: SEEK_CUR locks seen by
 *                   another process, /proc/self/fdinfo "pos:", FIONREAD,
 *                   /proc/self/fd/N reopened
 *   stdio_pos       streams in modes w, a, r+, a+, w+, r: ftell/fseek
 *                   (invalid offsets too)/fgetpos/fsetpos/rewind/fread,
 *                   mixed with raw writes through dup'd fds and other opens
 *   wide            fwide, fputwc of non-ASCII in the C locale, byte output
 *                   on a wide stream, setlocale after orientation
 *   longjmp         a handler siglongjmps out of the program's write: a timer
 *                   signal while it blocks on a full pipe, or SIGPIPE (run
 *                   with WRITEBEHIND_PIPES=1 too: then the library is inside
 *                   the write when the signal comes)
 *   voice           fd 2 closed and a data file opened as fd 2 (run with
 *                   WRITEBEHIND_DEBUG=1: no library message may land in it)
 *   fsize           a finite RLIMIT_FSIZE with SIGXFSZ ignored: short counts,
 *                   then EFBIG; and a handled SIGXFSZ that siglongjmps out
 *
 * Times the program sets are distinctive (2001, seconds encode the op
 * number), so `difftest meta` can print them exactly and print any other
 * time as "recent": a plain run's "now" never matches another run's.
 */
#include "sem_common.h"

#include <aio.h>
#include <ftw.h>
#include <execinfo.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <locale.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <linux/futex.h>
#include <time.h>
#include <utime.h>
#include <wchar.h>

extern char **environ;

#define NFILES 3
#define NSLOTS 6
#define NSTREAMS 3
#define HIGH_FD 50            /* dup2 targets that are not already a slot's fd */
#define PEER_FD 400           /* a peer's channel and report: above every fd a run names */
#define BIG_MAX (300 << 10)   /* larger than the library's default 64 KiB buffer */
#define PEER_TIMEOUT_MS 20000 /* a child that has not reported by then hangs */
#define TIME_BASE 1000000000LL  /* 2001-09-09: times the program sets start here */
#define TIME_RECENT 1500000000LL

#ifndef F_DUPFD_QUERY
#define F_DUPFD_QUERY 1027   /* Linux 6.10: F_LINUX_SPECIFIC_BASE + 3 */
#endif
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

#if defined(__SANITIZE_THREAD__)
#define THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define THREAD_SANITIZER 1
#endif
#endif
#ifndef THREAD_SANITIZER
#define THREAD_SANITIZER 0
#endif

static const char *const names[NFILES] = { "f0", "f1", "f2" };

struct slot {
    int fd;    /* -1: free */
    int file;  /* which name it was opened by (the file may since be renamed) */
};
static struct slot slots[NSLOTS];

static uint64_t rng;
static unsigned long op_no;
static const char *who = "p";   /* "c" in a forked child */
static char self[4096];
static char data[BIG_MAX];

/* ---- classes ---------------------------------------------------------------- */

enum cls {
    C_BASE, C_META, C_PROC, C_IPC, C_GLIBC, C_OFFSETS, C_STDIO_POS, C_WIDE, C_LONGJMP,
    C_VOICE, C_FSIZE, NCLASSES
};
static const char *const class_names[NCLASSES] = {
    "base", "meta", "proc", "ipc", "glibc_internal", "offsets", "stdio_pos", "wide",
    "longjmp", "voice", "fsize",
};
static unsigned enabled;   /* bit per class */
static bool on(enum cls c) { return enabled & (1u << c); }

static void usage(void)
{
    fprintf(stderr, "usage: difftest run SEED NOPS [CLASSES] | classes CLASSES | meta |"
                    " meta-after ARGS... | cat PATH... | dump | writer FD\n"
                    "  CLASSES: all, or a comma-separated list of:");
    for (int i = 0; i < NCLASSES; i++)
        fprintf(stderr, " %s", class_names[i]);
    fprintf(stderr, "\n");
    exit(2);
}

/* "all" or "meta,ipc"; anything else is misuse. */
static unsigned parse_classes(const char *list)
{
    if (!strcmp(list, "all"))
        return (1u << NCLASSES) - 1;
    unsigned mask = 0;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        int found = -1;
        for (int i = 0; i < NCLASSES; i++)
            if (strlen(class_names[i]) == len && !strncmp(p, class_names[i], len))
                found = i;
        if (found < 0) {
            fprintf(stderr, "difftest: unknown class \"%.*s\"\n", (int)len, p);
            usage();
        }
        mask |= 1u << found;
        p += len;
        if (*p == ',')
            p++;
    }
    if (!mask)
        usage();
    return mask;
}

static const char *class_list(unsigned mask)
{
    static char buf[256];
    buf[0] = 0;
    for (int i = 0; i < NCLASSES; i++)
        if (mask & (1u << i)) {
            if (buf[0])
                strcat(buf, ",");
            strcat(buf, class_names[i]);
        }
    return buf;
}

static unsigned long parse_number(const char *s)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v > ULONG_MAX)
        usage();
    return (unsigned long)v;
}

/* ---- output ------------------------------------------------------------ */

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    char line[1024];
    int saved = errno;
    int n = snprintf(line, sizeof line, "%lu%s ", op_no, who);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    write_full(1, line, (size_t)n);
    errno = saved;
}

static void say_st(const char *what, int st) { say("%s %s", what, status_text(st)); }

/* ---- randomness ---------------------------------------------------------- */

static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static unsigned below(unsigned n) { return n ? (unsigned)(rnd() % n) : 0; }
static bool chance(unsigned percent) { return below(100) < percent; }

/* Mostly small writes (the library's business), some medium, a few larger
   than any buffer. */
static size_t write_size(void)
{
    unsigned r = below(1000);
    if (r < 700) return 1 + below(40);
    if (r < 900) return 41 + below(260);
    if (r < 990) return 301 + below(5000);
    if (r < 997) return 5000 + below(65000);
    return (256 << 10) + below(BIG_MAX - (256 << 10));
}

/* Recognisable bytes: where a byte came from shows in a diff. */
static const char *payload(size_t len)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    char tag[48];
    int head = snprintf(tag, sizeof tag, "<%lu%s>", op_no, who);
    size_t start = head > 0 && (size_t)head < len ? (size_t)head : 0;
    memcpy(data, tag, start);
    for (size_t i = start; i < len; i++)
        data[i] = alphabet[(op_no * 7 + i) % 62];
    if (len > 1)
        data[len - 1] = '\n';
    return data;
}

/* ---- slots ---------------------------------------------------------------- */

static int pick_used(void)
{
    int used[NSLOTS], n = 0;
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].fd >= 0)
            used[n++] = i;
    return n ? used[below((unsigned)n)] : -1;
}

static int pick_free(void)
{
    int free_[NSLOTS], n = 0;
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].fd < 0)
            free_[n++] = i;
    return n ? free_[below((unsigned)n)] : -1;
}

static void forget_fd(int fd)
{
    for (int i = 0; i < NSLOTS; i++)
        if (slots[i].fd == fd)
            slots[i].fd = -1;
}

/* Streams are flushed before every operation that starts a process or
   replaces the image: unflushed stdio bytes are duplicated by fork and
   dropped by exec in a plain run too, and a comparison that depends on that
   tests glibc, not the library. */
static void flush_streams(void) { fflush(NULL); }

/* A stream or slot whose fd the run closed still names that number, and
   fflush(NULL) before the fork writes its buffer there: a pipe that took the
   number would wake the peer early, in plain runs as in library ones.  The
   channel's and the report's descriptors are moved above any number the run
   opens. */
static int above_run(int fd)
{
    int high = fd < 0 ? -1 : fcntl(fd, F_DUPFD, PEER_FD);
    if (fd >= 0)
        close(fd);
    return high;
}

static int above_run_fds(int fd[2])
{
    fd[0] = above_run(fd[0]);
    fd[1] = above_run(fd[1]);
    return fd[0] < 0 || fd[1] < 0 ? -1 : 0;
}

/* ---- the other process: a reader of the files ----------------------------- */

static void cat_one(const char *path)
{
    long long len;
    uint64_t h;
    if (hash_file(path, &len, &h) < 0)
        say("cat %s %s", path, ename(errno));
    else
        say("cat %s len=%lld hash=%016llx", path, len, (unsigned long long)h);
}

static int cat_main(int argc, char **argv)
{
    who = "x";
    for (int i = 0; i < argc; i++)
        cat_one(argv[i]);
    return 0;
}

static int dump_main(void)
{
    who = "d";
    for (int i = 0; i < NFILES; i++)
        cat_one(names[i]);
    return 0;
}

/* What a child or peer saw, written to its report pipe as one line:
   "f0 len=12 hash=... f1 ENOENT f2 ...". */
static void report_files(int out)
{
    char line[512];
    size_t n = 0;
    for (int i = 0; i < NFILES; i++) {
        long long len;
        uint64_t h;
        if (hash_file(names[i], &len, &h) < 0)
            n += (size_t)snprintf(line + n, sizeof line - n, "%s %s ", names[i], ename(errno));
        else
            n += (size_t)snprintf(line + n, sizeof line - n, "%s len=%lld hash=%016llx ",
                                  names[i], len, (unsigned long long)h);
    }
    line[n - 1] = '\n';
    write_full(out, line, n);
}

static long long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Reads a child's report from rfd until EOF, reaps the child and prints
   both.  A child that neither reports nor exits within PEER_TIMEOUT_MS hangs
   (a plain run never does): it is killed and the run stops, so a hang costs
   one timeout, not one per operation. */
static void collect(int rfd, pid_t pid, const char *what)
{
    char buf[4096];
    size_t used = 0;
    bool hung = false;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = { rfd, POLLIN, 0 };
        int r = poll(&p, 1, 100);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0) {
            if (ms_since(&t0) > PEER_TIMEOUT_MS) {
                hung = true;
                break;
            }
            continue;
        }
        ssize_t n = read(rfd, buf + used, sizeof buf - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == sizeof buf - 1)
            break;
    }
    close(rfd);
    if (hung)
        kill(pid, SIGKILL);
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, hung ? 0 : WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            say("%s waitpid %s", what, res(-1));
            break;
        }
        if (w == 0) {
            if (ms_since(&t0) > PEER_TIMEOUT_MS) {
                hung = true;
                kill(pid, SIGKILL);
                continue;
            }
            struct timespec nap = { 0, 1000000 };
            nanosleep(&nap, NULL);
        }
    }
    buf[used] = 0;
    for (char *line = buf, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        if (!nl)
            nl = line + strlen(line) - 1;
        else
            *nl = 0;
        say("%s| %s", what, line);
        if (!nl[1])
            break;
    }
    if (hung) {
        say("%s did not finish within %d ms: the run stops", what, PEER_TIMEOUT_MS);
        _exit(3);
    }
    say_st(what, st);
}

/* ---- operations ----------------------------------------------------------- */

static void op_open(void)
{
    int s = pick_free();
    if (s < 0) {   /* all slots busy: make room */
        s = pick_used();
        say("close s%d(fd%d) %s", s, slots[s].fd, res(close(slots[s].fd)));
        slots[s].fd = -1;
    }
    int file = (int)below(NFILES);
    unsigned r = below(10);
    int flags = r < 5 ? O_WRONLY : r < 9 ? O_RDWR : O_RDONLY;
    if (chance(90)) flags |= O_CREAT;
    if (chance(15)) flags |= O_TRUNC;
    if (chance(25)) flags |= O_APPEND;
    if (chance(30)) flags |= O_CLOEXEC;
    int fd;
    const char *how;
    if (chance(5)) {
        how = "creat";
        flags = O_WRONLY | O_CREAT | O_TRUNC;
        fd = creat(names[file], 0644);
    } else if (chance(30)) {
        how = "openat";
        fd = openat(AT_FDCWD, names[file], flags, 0644);
    } else {
        how = "open";
        fd = open(names[file], flags, 0644);
    }
    say("%s %s flags=%#x s%d %s", how, names[file], (unsigned)flags, s, res(fd));
    if (fd >= 0) {
        slots[s].fd = fd;
        slots[s].file = file;
    }
}

static void op_write(int s)
{
    size_t n = write_size();
    say("write s%d(fd%d) n=%zu %s", s, slots[s].fd, n, res(write(slots[s].fd, payload(n), n)));
}

static void op_writev(int s)
{
    struct iovec iov[5];
    int cnt = (int)below(6);
    size_t total = 0, sizes[5];
    for (int i = 0; i < cnt; i++) {
        sizes[i] = chance(90) ? 1 + below(80) : write_size();
        if (total + sizes[i] > BIG_MAX)
            sizes[i] = 1;
        total += sizes[i];
    }
    payload(total);
    size_t off = 0;
    for (int i = 0; i < cnt; i++) {
        iov[i].iov_base = data + off;
        iov[i].iov_len = sizes[i];
        off += sizes[i];
    }
    say("writev s%d(fd%d) cnt=%d total=%zu %s", s, slots[s].fd, cnt, total,
        res(writev(slots[s].fd, iov, cnt)));
}

/* Runs of small writes: what the library exists for, and what fills buffers. */
static void op_burst(int s)
{
    unsigned n = 2 + below(30);
    for (unsigned i = 0; i < n; i++) {
        size_t len = 1 + below(chance(90) ? 40 : 300);
        ssize_t r = write(slots[s].fd, payload(len), len);
        say("burst s%d(fd%d) n=%zu %s", s, slots[s].fd, len, res(r));
        if (chance(5))
            op_writev(s);
    }
}

static void op_pwrite(int s)
{
    off_t off = chance(90) ? below(4096) : below(100000);
    size_t n = chance(90) ? 1 + below(100) : write_size();
    say("pwrite s%d(fd%d) off=%lld n=%zu %s", s, slots[s].fd, (long long)off, n,
        res(pwrite(slots[s].fd, payload(n), n, off)));
}

static void op_lseek(int s)
{
    unsigned r = below(10);
    off_t off = 0;
    int whence = SEEK_CUR;
    if (r < 4) {
        off = 0;
    } else if (r < 6) {
        whence = SEEK_SET;
        off = below(4096);
    } else if (r < 8) {
        whence = SEEK_END;
        off = (off_t)below(100) - 60;
    } else {
        off = (off_t)below(200) - 100;
    }
    say("lseek s%d(fd%d) off=%lld whence=%d %s", s, slots[s].fd, (long long)off, whence,
        res((long)lseek(slots[s].fd, off, whence)));
}

static void say_read(const char *what, int s, size_t want, const char *buf, ssize_t r)
{
    int e = errno;
    if (r < 0) {
        errno = e;
        say("%s s%d(fd%d) n=%zu %s", what, s, slots[s].fd, want, res(r));
    } else {
        say("%s s%d(fd%d) n=%zu -> %zd hash=%016llx", what, s, slots[s].fd, want, r,
            (unsigned long long)fnv(buf, (size_t)r));
    }
}

static void op_read(int s)
{
    size_t n = chance(95) ? 1 + below(600) : 70000;
    static char buf[70000];
    ssize_t r = read(slots[s].fd, buf, n);
    say_read("read", s, n, buf, r);
}

static void op_pread(int s)
{
    size_t n = 1 + below(600);
    off_t off = below(4096);
    static char buf[600];
    ssize_t r = pread(slots[s].fd, buf, n, off);
    char what[64];
    snprintf(what, sizeof what, "pread off=%lld", (long long)off);
    say_read(what, s, n, buf, r);
}

static void op_ftruncate(int s)
{
    off_t len = chance(20) ? 0 : below(4096);
    say("ftruncate s%d(fd%d) len=%lld %s", s, slots[s].fd, (long long)len,
        res(ftruncate(slots[s].fd, len)));
}

/* A time the program set (class meta) exactly; any other as "now". */
static const char *time_text(struct timespec t)
{
    static char buf[48];
    if (t.tv_sec < TIME_RECENT)
        snprintf(buf, sizeof buf, "%lld.%09ld", (long long)t.tv_sec, t.tv_nsec);
    else
        snprintf(buf, sizeof buf, "now");
    return buf;
}

static void say_stat(const char *what, int r, const struct stat *st)
{
    if (r < 0)
        say("%s %s", what, res(r));
    else
        say("%s -> 0 size=%lld nlink=%lu mtime=%s", what, (long long)st->st_size,
            (unsigned long)st->st_nlink, time_text(st->st_mtim));
}

static void op_fstat(int s)
{
    struct stat st;
    char what[64];
    snprintf(what, sizeof what, "fstat s%d(fd%d)", s, slots[s].fd);
    say_stat(what, fstat(slots[s].fd, &st), &st);
}

static void op_stat(void)
{
    struct stat st;
    const char *name = names[below(NFILES)];
    char what[64];
    int r;
    if (chance(50)) {
        snprintf(what, sizeof what, "stat %s", name);
        r = stat(name, &st);
    } else {
        snprintf(what, sizeof what, "fstatat %s", name);
        r = fstatat(AT_FDCWD, name, &st, 0);
    }
    say_stat(what, r, &st);
}

static void op_fsync(int s)
{
    if (chance(50))
        say("fsync s%d(fd%d) %s", s, slots[s].fd, res(fsync(slots[s].fd)));
    else
        say("fdatasync s%d(fd%d) %s", s, slots[s].fd, res(fdatasync(slots[s].fd)));
}

static void op_dup(int s)
{
    int t = pick_free();
    if (t < 0)
        return;
    int fd;
    const char *how;
    unsigned r = below(3);
    if (r == 0) {
        how = "dup";
        fd = dup(slots[s].fd);
    } else if (r == 1) {
        how = "F_DUPFD";
        fd = fcntl(slots[s].fd, F_DUPFD, 3);
    } else {
        how = "F_DUPFD_CLOEXEC";
        fd = fcntl(slots[s].fd, F_DUPFD_CLOEXEC, 3);
    }
    say("%s s%d(fd%d) -> s%d %s", how, s, slots[s].fd, t, res(fd));
    if (fd >= 0)
        slots[t] = (struct slot){ fd, slots[s].file };
}

static void op_dup2(int s)
{
    int t = (int)below(NSLOTS);
    int target = slots[t].fd >= 0 ? slots[t].fd : HIGH_FD + t;
    int r;
    if (chance(30)) {
        r = dup3(slots[s].fd, target, chance(50) ? O_CLOEXEC : 0);
        say("dup3 s%d(fd%d) -> s%d(fd%d) %s", s, slots[s].fd, t, target, res(r));
    } else {
        r = dup2(slots[s].fd, target);
        say("dup2 s%d(fd%d) -> s%d(fd%d) %s", s, slots[s].fd, t, target, res(r));
    }
    if (r >= 0 && t != s)
        slots[t] = (struct slot){ target, slots[s].file };
}

static void op_close(int s)
{
    say("close s%d(fd%d) %s", s, slots[s].fd, res(close(slots[s].fd)));
    slots[s].fd = -1;
}

static void op_close_range(int s)
{
    if (chance(70)) {
        unsigned lo = (unsigned)slots[s].fd, hi = lo + below(3);
        int r = close_range(lo, hi, 0);
        say("close_range %u %u %s", lo, hi, res(r));
        if (r == 0)
            for (unsigned fd = lo; fd <= hi; fd++)
                forget_fd((int)fd);
    } else {
        closefrom(HIGH_FD);
        say("closefrom %d", HIGH_FD);
        for (int fd = HIGH_FD; fd < HIGH_FD + NSLOTS; fd++)
            forget_fd(fd);
    }
}

/* A mapped file is never buffered again (the library cannot see memory
   reads), so mappings come late in a run: the rest of it still exercises
   the buffers. */
static unsigned long total_ops;

static void op_mmap(int s)
{
    if (op_no < total_ops * 3 / 4) {
        op_read(s);
        return;
    }
    int fd = slots[s].fd;
    bool fresh = chance(40);
    if (fresh) {
        fd = open(names[slots[s].file], O_RDONLY);
        if (fd < 0) {
            say("mmap-open %s %s", names[slots[s].file], res(fd));
            return;
        }
    }
    struct stat st = { .st_size = 0 };   /* printed when fstat fails: never stack garbage */
    if (fstat(fd, &st) < 0 || st.st_size == 0 || st.st_size > (64 << 20)) {
        say("mmap s%d fresh=%d skipped size=%lld", s, fresh, (long long)st.st_size);
    } else {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            say("mmap s%d fresh=%d size=%lld %s", s, fresh, (long long)st.st_size, res(-1));
        } else {
            say("mmap s%d fresh=%d size=%lld hash=%016llx", s, fresh, (long long)st.st_size,
                (unsigned long long)fnv(p, (size_t)st.st_size));
            munmap(p, (size_t)st.st_size);
        }
    }
    if (fresh)
        close(fd);
}

static void op_setfl(int s)
{
    int fl = fcntl(slots[s].fd, F_GETFL);
    int r = fcntl(slots[s].fd, F_SETFL, fl ^ O_APPEND);
    say("F_SETFL s%d(fd%d) append=%d %s", s, slots[s].fd, !(fl & O_APPEND), res(r));
}

static void op_copy(int s)
{
    int t = pick_used();
    size_t n = 1 + below(3000);
    if (chance(50)) {
        ssize_t r = copy_file_range(slots[t].fd, NULL, slots[s].fd, NULL, n, 0);
        say("copy_file_range s%d(fd%d) -> s%d(fd%d) n=%zu %s", t, slots[t].fd, s, slots[s].fd,
            n, res(r));
    } else {
        ssize_t r = sendfile(slots[s].fd, slots[t].fd, NULL, n);
        say("sendfile s%d(fd%d) -> s%d(fd%d) n=%zu %s", t, slots[t].fd, s, slots[s].fd, n,
            res(r));
    }
}

static void op_names(void)
{
    int a = (int)below(NFILES), b = (int)below(NFILES);
    unsigned r = below(10);
    if (r < 5)
        say("rename %s %s %s", names[a], names[b], res(rename(names[a], names[b])));
    else if (r < 7)
        say("unlink %s %s", names[a], res(unlink(names[a])));
    else
        say("truncate %s %s", names[a], res(truncate(names[a], below(2048))));
}

static void op_other_read(void)
{
    const char *name = names[below(NFILES)];
    int fd = open(name, O_RDONLY);
    if (fd < 0) {
        say("reopen-read %s %s", name, res(fd));
        return;
    }
    static char buf[8192];
    off_t off = chance(50) ? 0 : (off_t)below(4096);
    ssize_t r = pread(fd, buf, sizeof buf, off);
    int e = errno;
    close(fd);
    errno = e;
    if (r < 0)
        say("reopen-read %s %s", name, res(r));
    else
        say("reopen-read %s off=%lld -> %zd hash=%016llx", name, (long long)off, r,
            (unsigned long long)fnv(buf, (size_t)r));
}

static void op_lock(int s)
{
    if (chance(50)) {
        int r = flock(slots[s].fd, LOCK_EX);
        say("flock s%d(fd%d) %s", s, slots[s].fd, res(r));
        flock(slots[s].fd, LOCK_UN);
    } else {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        int r = fcntl(slots[s].fd, F_SETLK, &fl);
        say("F_SETLK s%d(fd%d) %s", s, slots[s].fd, res(r));
        fl.l_type = F_UNLCK;
        fcntl(slots[s].fd, F_SETLK, &fl);
    }
}

/* Varies how the run interleaves with the background flusher; what is
   printed must not depend on it. */
static void op_nap(void)
{
    struct timespec ts = { 0, (long)below(2000) * 1000 };
    nanosleep(&ts, NULL);
}

static char *const *cat_argv(void)
{
    static char *argv[NFILES + 3];
    argv[0] = self;
    argv[1] = "cat";
    for (int i = 0; i < NFILES; i++)
        argv[2 + i] = (char *)names[i];
    argv[NFILES + 2] = NULL;
    return argv;
}

static void run_one(int s);

static void child_body(uint64_t seed)
{
    rng = seed;
    who = "c";
    int nops = 1 + (int)below(6);
    for (int i = 0; i < nops; i++) {
        int s = pick_used();
        if (s < 0)
            break;
        run_one(s);
    }
    unsigned how = below(6);
    say("child leaves by %u", how);
    switch (how) {
    case 0: exit(0);
    case 1: _exit(3);
    case 2: _Exit(4);
    case 3: raise(SIGTERM); break;
    case 4: kill(getpid(), SIGHUP); break;
    default: execv(self, cat_argv()); break;
    }
    _exit(120);
}

static void op_fork(void)
{
    uint64_t seed = rnd();
    flush_streams();
    pid_t pid = fork();
    if (pid == 0)
        child_body(seed);
    if (pid < 0) {
        say("fork %s", res(-1));
        return;
    }
    int st;
    waitpid(pid, &st, 0);
    say_st("fork child", st);
}

/* vfork's child shares our stack until it execs: nothing of ours may live
   in a register across the call (gcc's -Wclobbered), so the child's
   arguments are globals and the call sits alone in its own function. */
static char *const *vfork_argv;
static int vfork_exit_code = -1;   /* >= 0: the child _exits with it */

__attribute__((noinline)) static pid_t vfork_child(void)
{
    pid_t pid = vfork();
    if (pid == 0) {
        if (vfork_exit_code >= 0)
            _exit(vfork_exit_code);
        execv(self, vfork_argv);
        _exit(127);
    }
    return pid;
}

static void op_reader(void)
{
    unsigned how = below(5);
    int st = 0;
    flush_streams();
    if (how == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            execv(self, cat_argv());
            _exit(127);
        }
        waitpid(pid, &st, 0);
        say_st("fork+exec reader", st);
    } else if (how == 1) {
        vfork_argv = cat_argv();
        vfork_exit_code = -1;
        pid_t pid = vfork_child();
        waitpid(pid, &st, 0);
        say_st("vfork+exec reader", st);
    } else if (how == 2) {
        pid_t pid;
        int r = posix_spawn(&pid, self, NULL, NULL, cat_argv(), environ);
        if (r) {
            say("posix_spawn failed %d", r);
            return;
        }
        waitpid(pid, &st, 0);
        say_st("posix_spawn reader", st);
    } else {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' cat f0 f1 f2", self);
        if (how == 3) {
            st = system(cmd);
            say_st("system reader", st);
        } else {
            FILE *p = popen(cmd, "r");
            if (!p) {
                say("popen %s", res(-1));
                return;
            }
            char line[512];
            while (fgets(line, sizeof line, p)) {
                line[strcspn(line, "\n")] = 0;
                say("popen| %s", line);
            }
            say_st("popen reader", pclose(p));
        }
    }
}

/* Another image writes to an inherited fd, at the offset it shares with us. */
static int writer_main(int argc, char **argv)
{
    who = "w";
    int fd = argc > 0 ? (int)parse_number(argv[0]) : -1;
    for (int i = 0; i < 3; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "[exec'd writer line %d]\n", i);
        say("writer fd%d %s", fd, res(write(fd, line, (size_t)n)));
    }
    return 0;
}

static void op_exec_writer(int s)
{
    char fdnum[16];
    snprintf(fdnum, sizeof fdnum, "%d", slots[s].fd);
    char *argv[] = { self, "writer", fdnum, NULL };
    int st;
    pid_t pid;
    flush_streams();
    if (chance(50)) {
        pid = fork();
        if (pid == 0) {
            execv(self, argv);
            _exit(127);
        }
    } else if (posix_spawn(&pid, self, NULL, NULL, argv, environ)) {
        say("posix_spawn writer failed");
        return;
    }
    waitpid(pid, &st, 0);
    say_st("exec'd writer", st);
}

/* Calls on an fd that is not open: EBADF, exactly as without the library. */
static void op_bad_fd(void)
{
    int fd = HIGH_FD + NSLOTS + (int)below(4);
    char c;
    switch (below(5)) {
    case 0: say("write bad fd%d %s", fd, res(write(fd, "x", 1))); break;
    case 1: say("close bad fd%d %s", fd, res(close(fd))); break;
    case 2: say("fsync bad fd%d %s", fd, res(fsync(fd))); break;
    case 3: say("lseek bad fd%d %s", fd, res((long)lseek(fd, 0, SEEK_CUR))); break;
    default: say("read bad fd%d %s", fd, res(read(fd, &c, 1))); break;
    }
}

/* ---- class meta: metadata after data ---------------------------------------
 * Each of these changes what stat, getxattr or the kernel's checks report;
 * a plain run's buffered-nowhere bytes are already in the file, so any byte
 * the library lands afterwards shows (a time reset to now, a setuid bit
 * stripped or kept, a capability xattr removed, a write refused). */

static const char *slot_name(int s) { return names[slots[s].file]; }

/* A time the program sets: distinctive (2001 + 10 s per op), so the meta
   dump prints it exactly; sometimes UTIME_NOW or UTIME_OMIT. */
static struct timespec set_time(void)
{
    unsigned r = below(100);
    if (r < 10)
        return (struct timespec){ 0, UTIME_OMIT };
    if (r < 20)
        return (struct timespec){ 0, UTIME_NOW };
    return (struct timespec){ (time_t)(TIME_BASE + (long long)op_no * 10 + below(10)),
                              (long)below(1000000000) };
}

static void op_times(int s)
{
    struct timespec ts[2] = { set_time(), set_time() };
    struct timeval tv[2] = { { ts[0].tv_sec, ts[0].tv_nsec / 1000 },
                             { ts[1].tv_sec, ts[1].tv_nsec / 1000 } };
    const char *name = slot_name(s);
    int fd = slots[s].fd;
    int r;
    const char *how;
    /* timeval and utimbuf cannot say NOW or OMIT: give them real times */
    for (int i = 0; i < 2; i++)
        if (ts[i].tv_nsec == UTIME_NOW || ts[i].tv_nsec == UTIME_OMIT)
            tv[i] = (struct timeval){ (time_t)(TIME_BASE + (long long)op_no * 10), 0 };
    switch (below(7)) {
    case 0: how = "futimens"; r = futimens(fd, ts); break;
    case 1: how = "utimensat-path"; r = utimensat(AT_FDCWD, name, ts, 0); break;
    case 2: how = "utimensat-fd"; r = (int)syscall(SYS_utimensat, fd, NULL, ts, 0); break;
    case 3: how = "futimes"; r = futimes(fd, tv); break;
    case 4: how = "utimes"; r = utimes(name, tv); break;
    case 5: {
        struct utimbuf ub = { tv[0].tv_sec, tv[1].tv_sec };
        how = "utime";
        r = utime(name, &ub);
        break;
    }
    default: how = "futimens-now"; r = futimens(fd, NULL); break;
    }
    say("%s s%d(fd%d) %s a=%lld.%09ld m=%lld.%09ld %s", how, s, fd, name,
        (long long)ts[0].tv_sec, ts[0].tv_nsec, (long long)ts[1].tv_sec, ts[1].tv_nsec, res(r));
    if (chance(40))   /* as tar, gzip and cp -p do: times, then close */
        op_close(s);
}

static void say_mode(int s)
{
    struct stat st;
    int r = fstat(slots[s].fd, &st);
    if (r < 0)
        say("fstat-mode s%d(fd%d) %s", s, slots[s].fd, res(r));
    else
        say("fstat-mode s%d(fd%d) -> 0 mode=%04o uid=%u gid=%u", s, slots[s].fd,
            (unsigned)st.st_mode & 07777, (unsigned)st.st_uid, (unsigned)st.st_gid);
}

/* setuid/setgid bits, then (usually) a write: the kernel strips S_ISUID, and
   S_ISGID with group-exec, when the writer lacks CAP_FSETID. */
static void op_chmod(int s)
{
    static const mode_t modes[] = { 0644, 0600, 04755, 02755, 02745, 06755, 04644,
                                    0755, 02644, 06711, 0444 };
    mode_t mode = modes[below(sizeof modes / sizeof *modes)];
    const char *name = slot_name(s);
    int r;
    const char *how;
    switch (below(3)) {
    case 0: how = "fchmod"; r = fchmod(slots[s].fd, mode); break;
    case 1: how = "chmod"; r = chmod(name, mode); break;
    default: how = "fchmodat"; r = fchmodat(AT_FDCWD, name, mode, 0); break;
    }
    say("%s s%d(fd%d) %s %04o %s", how, s, slots[s].fd, name, (unsigned)mode, res(r));
    if (chance(70)) {
        size_t n = 1 + below(60);
        say("write-after-chmod s%d(fd%d) n=%zu %s", s, slots[s].fd, n,
            res(write(slots[s].fd, payload(n), n)));
    }
    if (chance(50))
        say_mode(s);
}

/* CAP_FSETID decides whether a write strips setuid bits.  Capabilities
   belong to a thread: a plain run has one, so this is the program's
   process-wide choice. */
static void op_cap_fsetid(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    bool raise_it = chance(50);
    long r = syscall(SYS_capget, &h, d);
    if (r == 0) {
        if (raise_it)
            d[0].effective |= 1u << CAP_FSETID;
        else
            d[0].effective &= ~(1u << CAP_FSETID);
        r = syscall(SYS_capset, &h, d);
    }
    say("cap_fsetid %s %s", raise_it ? "raise" : "drop", res(r));
}

static void op_chown(int s)
{
    static const unsigned ids[] = { 0, 65534, 1000, (unsigned)-1 };
    uid_t u = ids[below(4)];
    gid_t g = ids[below(4)];
    const char *name = slot_name(s);
    int r;
    const char *how;
    switch (below(4)) {
    case 0: how = "fchown"; r = fchown(slots[s].fd, u, g); break;
    case 1: how = "chown"; r = chown(name, u, g); break;
    case 2: how = "lchown"; r = lchown(name, u, g); break;
    default: how = "fchownat"; r = fchownat(AT_FDCWD, name, u, g, 0); break;
    }
    say("%s s%d(fd%d) %s %d:%d %s", how, s, slots[s].fd, name, (int)u, (int)g, res(r));
    if (chance(50)) {
        size_t n = 1 + below(60);
        say("write-after-chown s%d(fd%d) n=%zu %s", s, slots[s].fd, n,
            res(write(slots[s].fd, payload(n), n)));
    }
    if (chance(50))
        say_mode(s);
}

static bool xattrs_work;   /* probed at the start: some file systems refuse */

static void probe_xattrs(void)
{
    int fd = open("xattr-probe", O_RDWR | O_CREAT | O_EXCL, 0644);
    xattrs_work = fd >= 0 && fsetxattr(fd, "user.probe", "1", 1, 0) == 0;
    if (fd >= 0) {
        close(fd);
        unlink("xattr-probe");
    }
    say("user xattrs %s", xattrs_work ? "work" : "refused: not generated");
}

static void say_xattr_list(const char *what, int s, ssize_t r, char *list)
{
    if (r < 0) {
        say("%s s%d(fd%d) %s", what, s, slots[s].fd, res(r));
        return;
    }
    /* the kernel's order is the file system's: sort, so only names count */
    const char *items[64];
    int n = 0;
    for (ssize_t i = 0; i < r && n < 64; i += (ssize_t)strlen(list + i) + 1)
        items[n++] = list + i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
            const char *t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    char line[600];
    size_t o = 0;
    line[0] = 0;
    for (int i = 0; i < n && o < sizeof line - 80; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, " %s", items[i]);
    say("%s s%d(fd%d) -> %zd:%s", what, s, slots[s].fd, r, line);
}

static void op_xattr(int s)
{
    static const char *const xnames[] = { "user.a", "user.b", "user.long" };
    const char *xn = xnames[below(3)];
    const char *name = slot_name(s);
    int fd = slots[s].fd;
    char val[2048];
    size_t vlen = chance(80) ? (size_t)snprintf(val, sizeof val, "v%lu", op_no)
                             : (size_t)(1000 + below(1000));
    if (vlen >= 1000)
        memcpy(val, payload(vlen), vlen);
    static const int xflags[] = { 0, 0, XATTR_CREATE, XATTR_REPLACE };
    int fl = xflags[below(4)];
    long r;
    switch (below(9)) {
    case 0:
    case 1:
        r = fsetxattr(fd, xn, val, vlen, fl);
        say("fsetxattr s%d(fd%d) %s len=%zu flags=%d %s", s, fd, xn, vlen, fl, res(r));
        break;
    case 2:
        r = setxattr(name, xn, val, vlen, fl);
        say("setxattr %s %s len=%zu flags=%d %s", name, xn, vlen, fl, res(r));
        break;
    case 3:
    case 4: {
        ssize_t n = fgetxattr(fd, xn, val, sizeof val);
        if (n < 0)
            say("fgetxattr s%d(fd%d) %s %s", s, fd, xn, res(n));
        else
            say("fgetxattr s%d(fd%d) %s -> %zd hash=%016llx", s, fd, xn, n,
                (unsigned long long)fnv(val, (size_t)n));
        break;
    }
    case 5: {
        ssize_t n = getxattr(name, xn, val, sizeof val);
        if (n < 0)
            say("getxattr %s %s %s", name, xn, res(n));
        else
            say("getxattr %s %s -> %zd hash=%016llx", name, xn, n,
                (unsigned long long)fnv(val, (size_t)n));
        break;
    }
    case 6: {
        char list[1024];
        say_xattr_list("flistxattr", s, flistxattr(fd, list, sizeof list), list);
        break;
    }
    case 7:
        r = chance(50) ? fremovexattr(fd, xn) : removexattr(name, xn);
        say("removexattr s%d(fd%d) %s %s", s, fd, xn, res(r));
        break;
    default: {
        /* A file capability: the kernel removes it on any write. */
        struct vfs_cap_data cap = { 0 };
        cap.magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE;
        cap.data[0].permitted = 1u << CAP_NET_BIND_SERVICE;
        r = fsetxattr(fd, "security.capability", &cap, XATTR_CAPS_SZ_2, 0);
        say("fsetxattr s%d(fd%d) security.capability %s", s, fd, res(r));
        if (r == 0 && chance(50)) {
            size_t n = 1 + below(40);
            say("write-after-setcap s%d(fd%d) n=%zu %s", s, fd, n, res(write(fd, payload(n), n)));
        }
        break;
    }
    }
}

static void op_ioctl(int s)
{
    int fd = slots[s].fd;
    unsigned r = below(10);
    if (r < 4) {
        int n = -1;
        long x = ioctl(fd, FIONREAD, &n);
        say("FIONREAD s%d(fd%d) %s n=%d", s, fd, res(x), x == 0 ? n : -1);
        return;
    }
    int flags = 0;
    long x = ioctl(fd, FS_IOC_GETFLAGS, &flags);
    say("FS_IOC_GETFLAGS s%d(fd%d) %s flags=%#x", s, fd, res(x), x == 0 ? flags : 0);
    if (x != 0 || r < 6)
        return;
    /* Immutable or append-only for the length of one write, then back. */
    int add = r < 8 ? FS_IMMUTABLE_FL : FS_APPEND_FL;
    int set = flags | add;
    long x1 = ioctl(fd, FS_IOC_SETFLAGS, &set);
    say("FS_IOC_SETFLAGS s%d(fd%d) +%s %s", s, fd, add == FS_IMMUTABLE_FL ? "immutable" : "append",
        res(x1));
    if (x1 == 0) {
        size_t n = 1 + below(50);
        if (chance(50))
            say("write-flagged s%d(fd%d) n=%zu %s", s, fd, n, res(write(fd, payload(n), n)));
        else
            say("pwrite-flagged s%d(fd%d) n=%zu %s", s, fd, n, res(pwrite(fd, payload(n), n, 0)));
        say("FS_IOC_SETFLAGS s%d(fd%d) restore %s", s, fd, res(ioctl(fd, FS_IOC_SETFLAGS, &flags)));
    }
}

static void op_fallocate(int s)
{
    int fd = slots[s].fd;
    off_t off = chance(50) ? (off_t)below(8) * 4096 : (off_t)below(5000);
    off_t len = chance(50) ? (off_t)(1 + below(4)) * 4096 : (off_t)(1 + below(3000));
    static const int modes[] = { 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                                 FALLOC_FL_ZERO_RANGE, FALLOC_FL_COLLAPSE_RANGE,
                                 FALLOC_FL_INSERT_RANGE };
    switch (below(4)) {
    case 0:
    case 1: {
        int mode = modes[below(6)];
        say("fallocate s%d(fd%d) mode=%#x off=%lld len=%lld %s", s, fd, mode, (long long)off,
            (long long)len, res(fallocate(fd, mode, off, len)));
        break;
    }
    case 2:
        say("posix_fallocate s%d(fd%d) off=%lld len=%lld -> %s", s, fd, (long long)off,
            (long long)len, ename(posix_fallocate(fd, off, len)));
        break;
    default: {
        static const int adv[] = { POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                                   POSIX_FADV_NOREUSE, POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED };
        int a = adv[below(6)];
        say("posix_fadvise s%d(fd%d) off=%lld len=%lld advice=%d -> %s", s, fd, (long long)off,
            (long long)len, a, ename(posix_fadvise(fd, off, len, a)));
        break;
    }
    }
}

/* A sealed memfd refuses writes and size changes from the moment of the seal. */
static void op_memfd(void)
{
    int fd = memfd_create("difftest", MFD_ALLOW_SEALING | (chance(50) ? MFD_CLOEXEC : 0));
    if (fd < 0) {
        say("memfd_create %s", res(fd));
        return;
    }
    size_t n = 1 + below(3000);
    say("memfd write n=%zu %s", n, res(write(fd, payload(n), n)));
    if (chance(50)) {
        n = 1 + below(100);
        say("memfd write n=%zu %s", n, res(write(fd, payload(n), n)));
    }
    static const int seals[] = { F_SEAL_WRITE, F_SEAL_GROW, F_SEAL_SHRINK,
                                 F_SEAL_GROW | F_SEAL_SHRINK, F_SEAL_SEAL | F_SEAL_WRITE };
    int seal = seals[below(5)];
    say("memfd F_ADD_SEALS %#x %s", seal, res(fcntl(fd, F_ADD_SEALS, seal)));
    say("memfd F_GET_SEALS %s", res(fcntl(fd, F_GET_SEALS)));
    n = 1 + below(100);
    say("memfd write-sealed n=%zu %s", n, res(write(fd, payload(n), n)));
    n = below(5000);
    say("memfd ftruncate %zu %s", n, res(ftruncate(fd, (off_t)n)));
    static char buf[8192];
    ssize_t r = pread(fd, buf, sizeof buf, 0);
    if (r < 0)
        say("memfd pread %s", res(r));
    else
        say("memfd pread -> %zd hash=%016llx", r, (unsigned long long)fnv(buf, (size_t)r));
    say("memfd close %s", res(close(fd)));
}

/* ---- locks seen by another process (meta, offsets, glibc_internal) -------- */

/* A child opens the file afresh through /proc/self/fd/N (its own open file
   description, so it sees our record locks and our OFD locks as conflicts)
   and reports every lock it finds, start to end. */
static void probe_locks(int s)
{
    int rep[2];
    if (pipe(rep) < 0 || above_run_fds(rep) < 0) {
        say("lock probe pipe %s", res(-1));
        return;
    }
    flush_streams();
    pid_t pid = fork();
    if (pid == 0) {
        close(rep[0]);
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/self/fd/%d", slots[s].fd);
        int fd = open(path, O_RDONLY);
        size_t o = 0;
        if (fd < 0) {
            o += (size_t)snprintf(line, sizeof line, "open %s ", ename(errno));
        } else {
            off_t start = 0;
            for (int i = 0; i < 4; i++) {
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start };
                if (fcntl(fd, F_OFD_GETLK, &fl) < 0) {
                    o += (size_t)snprintf(line + o, sizeof line - o, "getlk %s ", ename(errno));
                    break;
                }
                if (fl.l_type == F_UNLCK)
                    break;
                o += (size_t)snprintf(line + o, sizeof line - o, "%s[%lld,+%lld] ",
                                      fl.l_type == F_WRLCK ? "W" : "R", (long long)fl.l_start,
                                      (long long)fl.l_len);
                if (fl.l_len == 0)
                    break;
                start = fl.l_start + fl.l_len;
            }
        }
        o += (size_t)snprintf(line + o, sizeof line - o, "end\n");
        write_full(rep[1], line, o);
        _exit(0);
    }
    close(rep[1]);
    if (pid < 0) {
        close(rep[0]);
        say("lock probe fork %s", res(-1));
        return;
    }
    collect(rep[0], pid, "lock probe");
}

static void unlock_all(int fd)
{
    struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
    fcntl(fd, F_SETLK, &fl);
    fl = (struct flock){ .l_type = F_UNLCK, .l_whence = SEEK_SET };
    fcntl(fd, F_OFD_SETLK, &fl);
}

/* Record and OFD locks placed relative to the current offset: the kernel
   computes the start from the offset it sees. */
static void op_lock_cur(int s)
{
    int fd = slots[s].fd;
    bool ofd = chance(50);
    struct flock fl = { .l_type = chance(70) ? F_WRLCK : F_RDLCK, .l_whence = SEEK_CUR,
                        .l_start = (off_t)below(20) - 5, .l_len = (off_t)below(30) };
    int r = fcntl(fd, ofd ? F_OFD_SETLK : F_SETLK, &fl);
    say("%s s%d(fd%d) %s SEEK_CUR%+lld len=%lld %s", ofd ? "F_OFD_SETLK" : "F_SETLK", s, fd,
        fl.l_type == F_WRLCK ? "W" : "R", (long long)fl.l_start, (long long)fl.l_len, res(r));
    if (r == 0)
        probe_locks(s);
    unlock_all(fd);
}

/* Every other fcntl command, each with its result. */
static void op_fcntl(int s)
{
    int fd = slots[s].fd;
    long r;
    switch (below(16)) {
    case 0:
        r = fcntl(fd, F_GETFD);
        say("F_GETFD s%d(fd%d) %s", s, fd, res(r));
        break;
    case 1:
        r = fcntl(fd, F_GETFD);
        r = r < 0 ? r : fcntl(fd, F_SETFD, r ^ FD_CLOEXEC);
        say("F_SETFD toggle s%d(fd%d) %s", s, fd, res(r));
        break;
    case 2:
        r = fcntl(fd, F_GETFL);
        if (r < 0)
            say("F_GETFL s%d(fd%d) %s", s, fd, res(r));
        else
            say("F_GETFL s%d(fd%d) -> %#lx", s, fd, (unsigned long)r);
        break;
    case 3: {
        /* O_DIRECT rarely: unaligned writes then fail in a plain run */
        static const int bits[] = { O_APPEND, O_NONBLOCK, O_NOATIME, O_APPEND, O_DIRECT };
        int bit = bits[below(chance(10) ? 5 : 4)];
        r = fcntl(fd, F_GETFL);
        r = r < 0 ? r : fcntl(fd, F_SETFL, (int)r ^ bit);
        say("F_SETFL toggle %#x s%d(fd%d) %s", (unsigned)bit, s, fd, res(r));
        break;
    }
    case 4: {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_len = 10 };
        r = fcntl(fd, F_GETLK, &fl);
        say("F_GETLK SEEK_CUR s%d(fd%d) %s type=%d", s, fd, res(r), fl.l_type);
        break;
    }
    case 5: {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_len = 10 };
        r = fcntl(fd, F_OFD_GETLK, &fl);
        say("F_OFD_GETLK SEEK_CUR s%d(fd%d) %s type=%d", s, fd, res(r), fl.l_type);
        break;
    }
    case 6: {
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_CUR, .l_len = 1 + below(9) };
        r = fcntl(fd, chance(50) ? F_SETLKW : F_OFD_SETLKW, &fl);
        say("F_SETLKW SEEK_CUR s%d(fd%d) %s", s, fd, res(r));
        if (r == 0)
            probe_locks(s);
        unlock_all(fd);
        break;
    }
    case 7:
        say("F_GETPIPE_SZ s%d(fd%d) %s", s, fd, res(fcntl(fd, F_GETPIPE_SZ)));
        say("F_SETPIPE_SZ s%d(fd%d) %s", s, fd, res(fcntl(fd, F_SETPIPE_SZ, 65536)));
        break;
    case 8:
        r = fcntl(fd, F_SETOWN, getpid());
        say("F_SETOWN s%d(fd%d) %s", s, fd, res(r));
        r = fcntl(fd, F_GETOWN);
        say("F_GETOWN s%d(fd%d) is-self=%d", s, fd, r == getpid());
        fcntl(fd, F_SETOWN, 0);
        break;
    case 9:
        say("F_SETSIG s%d(fd%d) %s", s, fd, res(fcntl(fd, F_SETSIG, SIGUSR2)));
        say("F_GETSIG s%d(fd%d) %s", s, fd, res(fcntl(fd, F_GETSIG)));
        fcntl(fd, F_SETSIG, 0);
        break;
    case 10: {
        int type = chance(50) ? F_RDLCK : F_WRLCK;
        say("F_SETLEASE %d s%d(fd%d) %s", type, s, fd, res(fcntl(fd, F_SETLEASE, type)));
        say("F_GETLEASE s%d(fd%d) %s", s, fd, res(fcntl(fd, F_GETLEASE)));
        say("F_SETLEASE unlock s%d(fd%d) %s", s, fd, res(fcntl(fd, F_SETLEASE, F_UNLCK)));
        break;
    }
    case 11:
        say("F_NOTIFY s%d(fd%d) %s", s, fd, res(fcntl(fd, F_NOTIFY, DN_MODIFY)));
        break;
    case 12: {
        uint64_t hint = 1 + below(4), got = 0;
        say("F_SET_RW_HINT s%d(fd%d) %s", s, fd, res(fcntl(fd, F_SET_RW_HINT, &hint)));
        r = fcntl(fd, F_GET_RW_HINT, &got);
        say("F_GET_RW_HINT s%d(fd%d) %s hint=%llu", s, fd, res(r), (unsigned long long)got);
        break;
    }
    case 13:
        say("F_ADD_SEALS s%d(fd%d) %s", s, fd, res(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE)));
        say("F_GET_SEALS s%d(fd%d) %s", s, fd, res(fcntl(fd, F_GET_SEALS)));
        break;
    case 14: {
        int t = pick_used();
        say("F_DUPFD_QUERY s%d(fd%d) s%d(fd%d) %s", s, fd, t, slots[t].fd,
            res(fcntl(fd, F_DUPFD_QUERY, slots[t].fd)));
        break;
    }
    default:
        op_lock_cur(s);
        break;
    }
}

/* ---- class proc: processes the library may not see being made ------------- */

static int clone_report_fd;

static int clone_child_fn(void *arg)
{
    (void)arg;
    report_files(clone_report_fd);
    return 0;   /* glibc's clone calls SYS_exit with it */
}

/* fork-like children of every kind read the files and report what they saw
   through a pipe; the parent prints it. */
static void op_child_reads(void)
{
    int rep[2];
    if (pipe(rep) < 0 || above_run_fds(rep) < 0) {
        say("child-reads pipe %s", res(-1));
        return;
    }
    static const char *const kinds[] = { "fork", "clone", "SYS_clone", "SYS_clone3" };
    unsigned kind = below(4);
    /* SYS_exit (one thread) rather than _exit; not under ThreadSanitizer,
       whose own thread would keep the child alive in a plain run too */
    bool raw_exit = chance(50) && !THREAD_SANITIZER;
    flush_streams();
    pid_t pid;
    if (kind == 1) {
        size_t stack_size = 256 << 10;
        char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) {
            say("clone stack %s", res(-1));
            close(rep[0]);
            close(rep[1]);
            return;
        }
        clone_report_fd = rep[1];
        pid = clone(clone_child_fn, stack + stack_size, SIGCHLD, NULL);
        close(rep[1]);
        if (pid < 0) {
            say("clone %s", res(-1));
            close(rep[0]);
        } else {
            collect(rep[0], pid, "clone child");
        }
        munmap(stack, stack_size);
        return;
    }
    if (kind == 0) {
        pid = fork();
    } else if (kind == 2) {
        pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
    } else {
        struct clone_args ca = { .exit_signal = SIGCHLD };
        pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    }
    if (pid == 0) {
        close(rep[0]);
        report_files(rep[1]);
        if (raw_exit)
            syscall(SYS_exit, 0);
        _exit(0);
    }
    close(rep[1]);
    if (pid < 0) {
        say("%s %s", kinds[kind], res(-1));
        close(rep[0]);
        return;
    }
    char what[64];
    snprintf(what, sizeof what, "%s child%s", kinds[kind], raw_exit ? " (SYS_exit)" : "");
    collect(rep[0], pid, what);
}

static void op_vfork_exit(void)
{
    flush_streams();
    vfork_exit_code = (int)below(5);
    pid_t pid = vfork_child();
    vfork_exit_code = -1;
    if (pid < 0) {
        say("vfork %s", res(-1));
        return;
    }
    int st;
    waitpid(pid, &st, 0);
    say_st("vfork+_exit child", st);
}

/* /bin/cat's output (and errors) through a pipe, hashed. */
static void op_spawn_cat(void)
{
    int p[2];
    if (pipe(p) < 0) {
        say("spawn-cat pipe %s", res(-1));
        return;
    }
    const char *name = names[below(NFILES)];
    char *argv[] = { "cat", (char *)name, NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_adddup2(&fa, p[1], 2);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    flush_streams();
    pid_t pid;
    int r = posix_spawnp(&pid, "cat", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (r) {
        say("posix_spawnp cat %s -> %s", name, ename(r));
        close(p[0]);
        return;
    }
    static char buf[65536];
    uint64_t h = FNV_START;
    long long total = 0;
    for (;;) {
        ssize_t n = read(p[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        h = fnv_add(h, buf, (size_t)n);
        total += n;
    }
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    say("posix_spawnp cat %s len=%lld hash=%016llx %s", name, total, (unsigned long long)h,
        status_text(st));
}

static void op_system(void)
{
    flush_streams();
    int st = system("cksum f0 f1 f2 2>&1");
    say_st("system cksum", st);
}

/* ---- classes ipc and glibc_internal: telling a peer ------------------------
 * A peer is forked first (fork lands everything), the parent then writes,
 * and tells the peer through one channel; the peer reads the files and
 * reports.  In a plain run the peer sees every byte written before the tell. */

enum chan {
    CH_PIPE_CLOSE, CH_PIPE_WRITE, CH_SOCK_SEND, CH_SOCK_SHUTDOWN, CH_EVENTFD, CH_MQ,
    CH_MSGSND, CH_SEMOP, CH_SEM_POST, CH_COND, CH_FUTEX, NCHAN_IPC,
    CH_EVENTFD_WRITE = NCHAN_IPC   /* glibc's eventfd_write: class glibc_internal */
};
static const char *const chan_names[] = {
    "pipe-close", "pipe-write", "socket-send", "socket-shutdown", "eventfd", "mq_send",
    "msgsnd", "semop", "sem_post", "pshared-cond", "futex-wake", "eventfd_write",
};

struct shared_sync {
    sem_t sem;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int flag;
    uint32_t word;
};

struct channel {
    int fds[2];   /* pipe: [0] read end for the peer; socketpair: [1] the peer's */
    int efd;
    mqd_t mq;
    char mq_name[64];
    int ipc_id;
    int ipc_kind;   /* 1: a message queue, 2: a semaphore set */
    struct shared_sync *sh;
};

static int chan_setup(enum chan ch, struct channel *c)
{
    static unsigned mq_count;
    *c = (struct channel){ { -1, -1 }, -1, (mqd_t)-1, "", -1, 0, NULL };
    switch (ch) {
    case CH_PIPE_CLOSE:
    case CH_PIPE_WRITE:
        return pipe(c->fds) < 0 ? -1 : above_run_fds(c->fds);
    case CH_SOCK_SEND:
    case CH_SOCK_SHUTDOWN:
        return socketpair(AF_UNIX, SOCK_STREAM, 0, c->fds) < 0 ? -1 : above_run_fds(c->fds);
    case CH_EVENTFD:
    case CH_EVENTFD_WRITE:
        c->efd = above_run(eventfd(0, 0));
        return c->efd < 0 ? -1 : 0;
    case CH_MQ: {
        struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 8 };
        snprintf(c->mq_name, sizeof c->mq_name, "/difftest.%d.%u", (int)getpid(), mq_count++);
        c->mq = mq_open(c->mq_name, O_RDWR | O_CREAT | O_EXCL, 0600, &a);
        return c->mq == (mqd_t)-1 ? -1 : 0;
    }
    case CH_MSGSND:
        c->ipc_kind = 1;
        c->ipc_id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
        return c->ipc_id < 0 ? -1 : 0;
    case CH_SEMOP:
        c->ipc_kind = 2;
        c->ipc_id = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
        return c->ipc_id < 0 ? -1 : 0;
    default: {
        c->sh = mmap(NULL, sizeof *c->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
        if (c->sh == MAP_FAILED) {
            c->sh = NULL;
            return -1;
        }
        sem_init(&c->sh->sem, 1, 0);
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
        pthread_mutex_init(&c->sh->mu, &ma);
        pthread_mutexattr_destroy(&ma);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
        pthread_cond_init(&c->sh->cv, &ca);
        pthread_condattr_destroy(&ca);
        return 0;
    }
    }
}

/* In the peer: blocks until told. */
static void chan_wait(enum chan ch, struct channel *c)
{
    char b[16];
    uint64_t v;
    switch (ch) {
    case CH_PIPE_CLOSE:
    case CH_PIPE_WRITE:
        close(c->fds[1]);
        while (read(c->fds[0], b, 1) < 0 && errno == EINTR)
            ;
        break;
    case CH_SOCK_SEND:
    case CH_SOCK_SHUTDOWN:
        close(c->fds[0]);
        while (recv(c->fds[1], b, 1, 0) < 0 && errno == EINTR)
            ;
        break;
    case CH_EVENTFD:
        while (read(c->efd, &v, sizeof v) < 0 && errno == EINTR)
            ;
        break;
    case CH_EVENTFD_WRITE:
        while (eventfd_read(c->efd, &v) < 0 && errno == EINTR)
            ;
        break;
    case CH_MQ:
        while (mq_receive(c->mq, b, 8, NULL) < 0 && errno == EINTR)
            ;
        break;
    case CH_MSGSND: {
        struct { long type; char text[1]; } m;
        while (msgrcv(c->ipc_id, &m, 1, 0, 0) < 0 && errno == EINTR)
            ;
        break;
    }
    case CH_SEMOP: {
        struct sembuf op = { 0, -1, 0 };
        while (semop(c->ipc_id, &op, 1) < 0 && errno == EINTR)
            ;
        break;
    }
    case CH_SEM_POST:
        while (sem_wait(&c->sh->sem) < 0 && errno == EINTR)
            ;
        break;
    case CH_COND:
        pthread_mutex_lock(&c->sh->mu);
        while (!c->sh->flag)
            pthread_cond_wait(&c->sh->cv, &c->sh->mu);
        pthread_mutex_unlock(&c->sh->mu);
        break;
    default:
        /* Woken by the FUTEX_WAKE alone: the word never changes, so the
           peer cannot learn anything from a plain store before the wake
           (a plain store is the documented channel no wrapper sees). */
        while (syscall(SYS_futex, &c->sh->word, FUTEX_WAIT, 0, NULL, NULL, 0) != 0)
            ;
        break;
    }
}

/* In the parent: tells, returns what the telling call returned. */
static long chan_tell(enum chan ch, struct channel *c)
{
    uint64_t one = 1;
    switch (ch) {
    case CH_PIPE_CLOSE: {
        int r = close(c->fds[1]);
        c->fds[1] = -1;
        return r;
    }
    case CH_PIPE_WRITE: return write(c->fds[1], "!", 1);
    case CH_SOCK_SEND: return send(c->fds[0], "!", 1, 0);
    case CH_SOCK_SHUTDOWN: return shutdown(c->fds[0], SHUT_WR);
    case CH_EVENTFD: return write(c->efd, &one, sizeof one);
    case CH_EVENTFD_WRITE: return eventfd_write(c->efd, 1);
    case CH_MQ: return mq_send(c->mq, "!", 1, 0);
    case CH_MSGSND: {
        struct { long type; char text[1]; } m = { 1, { '!' } };
        return msgsnd(c->ipc_id, &m, 1, 0);
    }
    case CH_SEMOP: {
        struct sembuf op = { 0, 1, 0 };
        return semop(c->ipc_id, &op, 1);
    }
    case CH_SEM_POST: return sem_post(&c->sh->sem);
    case CH_COND: {
        pthread_mutex_lock(&c->sh->mu);
        c->sh->flag = 1;
        int r = chance(50) ? pthread_cond_signal(&c->sh->cv) : pthread_cond_broadcast(&c->sh->cv);
        pthread_mutex_unlock(&c->sh->mu);
        return r ? -1 : 0;
    }
    default:
    {
        /* Until the peer is asleep a wake finds no one (0): wake again. */
        long woken;
        while ((woken = syscall(SYS_futex, &c->sh->word, FUTEX_WAKE, 1, NULL, NULL, 0)) == 0)
            sched_yield();
        return woken < 0 ? -1 : 0;
    }
    }
}

static void chan_cleanup(struct channel *c)
{
    for (int i = 0; i < 2; i++)
        if (c->fds[i] >= 0)
            close(c->fds[i]);
    if (c->efd >= 0)
        close(c->efd);
    if (c->mq != (mqd_t)-1) {
        mq_close(c->mq);
        mq_unlink(c->mq_name);
    }
    if (c->ipc_id >= 0 && c->ipc_kind == 1)
        msgctl(c->ipc_id, IPC_RMID, NULL);
    if (c->ipc_id >= 0 && c->ipc_kind == 2)
        semctl(c->ipc_id, 0, IPC_RMID);
    if (c->sh)
        munmap(c->sh, sizeof *c->sh);
}

static void tell_peer(enum chan ch)
{
    const char *name = chan_names[ch];
    struct channel c;
    if (chan_setup(ch, &c) < 0) {
        say("%s setup %s: nothing to tell through", name, res(-1));
        chan_cleanup(&c);
        return;
    }
    int rep[2];
    if (pipe(rep) < 0 || above_run_fds(rep) < 0) {
        say("%s report pipe %s", name, res(-1));
        chan_cleanup(&c);
        return;
    }
    flush_streams();
    pid_t pid = fork();
    if (pid == 0) {
        close(rep[0]);
        chan_wait(ch, &c);
        report_files(rep[1]);
        _exit(0);
    }
    close(rep[1]);
    if (pid < 0) {
        say("%s fork %s", name, res(-1));
        close(rep[0]);
        chan_cleanup(&c);
        return;
    }
    if (ch == CH_PIPE_CLOSE || ch == CH_PIPE_WRITE) {
        close(c.fds[0]);
        c.fds[0] = -1;
    } else if (ch == CH_SOCK_SEND || ch == CH_SOCK_SHUTDOWN) {
        close(c.fds[1]);
        c.fds[1] = -1;
    }
    /* bytes pending at the moment of the tell */
    for (unsigned i = 1 + below(3); i > 0; i--) {
        int s = pick_used();
        if (s < 0)
            break;
        size_t n = 1 + below(200);
        say("write-before-tell s%d(fd%d) n=%zu %s", s, slots[s].fd, n,
            res(write(slots[s].fd, payload(n), n)));
    }
    say("%s tell %s", name, res(chan_tell(ch, &c)));
    collect(rep[0], pid, name);
    chan_cleanup(&c);
}

static void op_ipc(void) { tell_peer((enum chan)below(NCHAN_IPC)); }

/* ---- class glibc_internal: I/O that glibc does behind its own aliases ------ */

/* A second FILE, opened "r" on a file the run writes, kept across
   operations so its read-ahead buffer is as stale as glibc makes it. */
static FILE *reader;
static int reader_file;

static void op_stdio_reader(void)
{
    if (!reader || chance(20)) {
        if (reader)
            say("reader fclose %s", res(fclose(reader)));
        reader_file = (int)below(NFILES);
        reader = fopen(names[reader_file], "r");
        say("reader fopen %s r %s", names[reader_file], reader ? "-> ok" : res(-1));
        if (!reader)
            return;
    }
    static char buf[9000];
    size_t want = chance(80) ? 1 + below(300) : sizeof buf;
    unsigned how = below(4);
    if (how == 0) {
        char *l = fgets(buf, (int)want, reader);
        say("reader fgets %zu -> %s hash=%016llx eof=%d", want, l ? "ok" : "NULL",
            (unsigned long long)(l ? fnv(buf, strlen(buf)) : 0), feof(reader));
    } else if (how == 1) {
        int c = getc(reader);
        say("reader getc -> %d eof=%d", c, feof(reader));
    } else {
        size_t n = fread(buf, 1, want, reader);
        say("reader fread %zu -> %zu hash=%016llx eof=%d err=%d", want, n,
            (unsigned long long)fnv(buf, n), feof(reader), ferror(reader));
    }
    if (feof(reader) && chance(50))
        clearerr(reader);
}

static void op_tmpfile(void)
{
    FILE *f = tmpfile();
    if (!f) {
        say("tmpfile %s", res(-1));
        return;
    }
    size_t n = 1 + below(5000);
    size_t w = fwrite(payload(n), 1, n, f);
    int raw = chance(50);
    ssize_t rw = raw ? write(fileno(f), payload(10), 10) : 0;
    int fl = chance(50) ? fflush(f) : 0;
    long at = ftell(f);
    rewind(f);
    static char buf[8000];
    size_t r = fread(buf, 1, sizeof buf, f);
    say("tmpfile fwrite %zu -> %zu raw=%zd flush=%d ftell=%ld fread -> %zu hash=%016llx", n, w,
        rw, fl, at, r, (unsigned long long)fnv(buf, r));
    say("tmpfile fclose %s", res(fclose(f)));
}

/* lockf locks [offset, offset+len) at the offset the kernel sees. */
static void op_lockf(int s)
{
    static const int cmds[] = { F_LOCK, F_TLOCK, F_TEST, F_ULOCK };
    static const char *const cmd_names[] = { "F_LOCK", "F_TLOCK", "F_TEST", "F_ULOCK" };
    static const off_t lens[] = { 0, 10, 100, -5, 1 };
    unsigned c = below(3);   /* F_ULOCK comes after, below */
    off_t len = lens[below(5)];
    int r = lockf(slots[s].fd, cmds[c], len);
    say("lockf s%d(fd%d) %s len=%lld %s", s, slots[s].fd, cmd_names[c], (long long)len, res(r));
    if (r == 0 && c != 2) {
        probe_locks(s);
        if (chance(50)) {
            say("lockf s%d(fd%d) F_ULOCK len=%lld %s", s, slots[s].fd, (long long)len,
                res(lockf(slots[s].fd, F_ULOCK, len)));
            probe_locks(s);
        }
    }
    unlock_all(slots[s].fd);
}

#define WALK_MAX 32
static char walk_seen[WALK_MAX][80];
static int walk_count;

static void walk_note(const char *path, const struct stat *st, int type)
{
    if (walk_count < WALK_MAX)
        snprintf(walk_seen[walk_count++], sizeof walk_seen[0], "%s:%c%lld", path,
                 type == FTW_F ? 'f' : type == FTW_D ? 'd' : '?',
                 type == FTW_F ? (long long)st->st_size : 0LL);
}
static int on_ftw(const char *path, const struct stat *st, int type)
{
    walk_note(path, st, type);
    return 0;
}
static int on_nftw(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)f;
    walk_note(path, st, type);
    return 0;
}
static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }

static void op_walk(void)
{
    walk_count = 0;
    bool n = chance(50);
    int r = n ? nftw(".", on_nftw, 4, FTW_PHYS) : ftw(".", on_ftw, 4);
    qsort(walk_seen, (size_t)walk_count, sizeof walk_seen[0], cmp_str);
    char line[900];
    size_t o = 0;
    line[0] = 0;
    for (int i = 0; i < walk_count && o < sizeof line - 100; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, " %s", walk_seen[i]);
    say("%s . %s:%s", n ? "nftw" : "ftw", res(r), line);
}

static void op_eventfd_write(void) { tell_peer(CH_EVENTFD_WRITE); }

static void aio_wait(struct aiocb *cb)
{
    const struct aiocb *list[1] = { cb };
    while (aio_error(cb) == EINPROGRESS)
        aio_suspend(list, 1, NULL);
}

static void op_aio(int s)
{
    int fd = slots[s].fd;
    size_t n = 1 + below(3000);
    off_t off = (off_t)below(5000);
    static char buf[4096];
    if (chance(60)) {
        struct aiocb cb = { .aio_fildes = fd, .aio_buf = (void *)payload(n), .aio_nbytes = n,
                            .aio_offset = off };
        int r = aio_write(&cb);
        if (r == 0)
            aio_wait(&cb);
        int e = r == 0 ? aio_error(&cb) : errno;
        ssize_t ret = r == 0 ? aio_return(&cb) : -1;
        say("aio_write s%d(fd%d) off=%lld n=%zu -> %d error=%s return=%zd", s, fd,
            (long long)off, n, r, e ? ename(e) : "0", ret);
    }
    if (chance(30)) {
        struct aiocb cb = { .aio_fildes = fd };
        int r = aio_fsync(O_DSYNC, &cb);
        if (r == 0)
            aio_wait(&cb);
        say("aio_fsync s%d(fd%d) %s error=%s", s, fd, res(r), r == 0 ? ename(aio_error(&cb)) : "-");
    }
    struct aiocb rcb = { .aio_fildes = fd, .aio_buf = buf, .aio_nbytes = sizeof buf,
                         .aio_offset = (off_t)below(4096) };
    if (chance(50)) {
        struct aiocb *list[1] = { &rcb };
        rcb.aio_lio_opcode = LIO_READ;
        int r = lio_listio(LIO_WAIT, list, 1, NULL);
        say("lio_listio read s%d(fd%d) off=%lld %s", s, fd, (long long)rcb.aio_offset, res(r));
    } else {
        int r = aio_read(&rcb);
        if (r == 0)
            aio_wait(&rcb);
        else
            say("aio_read s%d(fd%d) %s", s, fd, res(r));
    }
    int e = aio_error(&rcb);
    ssize_t got = aio_return(&rcb);
    say("aio read s%d(fd%d) off=%lld error=%s -> %zd hash=%016llx", s, fd,
        (long long)rcb.aio_offset, e ? ename(e) : "0", got,
        (unsigned long long)(got > 0 ? fnv(buf, (size_t)got) : 0));
}

static void op_popen_cat(void)
{
    const char *name = names[below(NFILES)];
    char cmd[64];
    flush_streams();
    if (chance(70)) {
        snprintf(cmd, sizeof cmd, "cat %s 2>&1", name);
        FILE *p = popen(cmd, "r");
        if (!p) {
            say("popen %s %s", cmd, res(-1));
            return;
        }
        static char buf[65536];
        uint64_t h = FNV_START;
        long long total = 0;
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
            h = fnv_add(h, buf, n);
            total += (long long)n;
        }
        int st = pclose(p);
        say("popen \"%s\" len=%lld hash=%016llx %s", cmd, total, (unsigned long long)h,
            status_text(st));
    } else {
        snprintf(cmd, sizeof cmd, "cat >> %s", name);
        FILE *p = popen(cmd, "w");
        if (!p) {
            say("popen %s %s", cmd, res(-1));
            return;
        }
        size_t n = 1 + below(2000);
        size_t w = fwrite(payload(n), 1, n, p);
        int st = pclose(p);
        say("popen \"%s\" fwrite %zu -> %zu %s", cmd, n, w, status_text(st));
    }
}

/* glibc writes the lines with its internal writev. */
static void op_backtrace_fd(int s)
{
    void *addrs[3] = { (void *)0x1000, (void *)(uintptr_t)(0x2000 + op_no), (void *)0x3000 };
    backtrace_symbols_fd(addrs, 1 + (int)below(3), slots[s].fd);
    say("backtrace_symbols_fd s%d(fd%d)", s, slots[s].fd);
}

/* ---- class offsets: the offset the kernel sees ---------------------------- */

static void op_fdinfo(int s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", slots[s].fd);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        say("fdinfo s%d %s", s, res(fd));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    long long pos = -1;
    unsigned long flags = 0;
    char *p = strstr(buf, "pos:");
    if (p)
        pos = strtoll(p + 4, NULL, 10);
    p = strstr(buf, "flags:");
    if (p)
        flags = strtoul(p + 6, NULL, 8);
    say("fdinfo s%d(fd%d) pos=%lld flags=%#lo", s, slots[s].fd, pos, flags);
}

static void op_fionread(int s)
{
    int n = -1;
    long r = ioctl(slots[s].fd, FIONREAD, &n);
    say("FIONREAD s%d(fd%d) %s n=%d", s, slots[s].fd, res(r), r == 0 ? n : -1);
}

static void op_tell(int s)
{
    say("lseek-cur s%d(fd%d) %s", s, slots[s].fd, res((long)lseek(slots[s].fd, 0, SEEK_CUR)));
}

/* /proc/self/fd/N opened: a new description of the same file, read from 0. */
static void op_proc_fd(int s)
{
    char path[64], link[4096];
    snprintf(path, sizeof path, "/proc/self/fd/%d", slots[s].fd);
    ssize_t ln = readlink(path, link, sizeof link - 1);
    link[ln > 0 ? ln : 0] = 0;
    const char *base = strrchr(link, '/');
    base = base ? base + 1 : link;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        say("open %s -> %s %s", path, base, res(fd));
        return;
    }
    static char buf[8192];
    ssize_t r = read(fd, buf, sizeof buf);
    close(fd);
    if (r < 0)
        say("read /proc/self/fd s%d -> %s %s", s, base, res(r));
    else
        say("read /proc/self/fd s%d -> %s %zd hash=%016llx", s, base, r,
            (unsigned long long)fnv(buf, (size_t)r));
}

/* ---- classes stdio_pos and wide: streams ------------------------------------ */

struct stream {
    FILE *fp;   /* NULL: free */
    int file;
    const char *mode;
    fpos_t pos;
    bool have_pos;
};
static struct stream streams[NSTREAMS];

static int pick_stream(void)
{
    int used[NSTREAMS], n = 0;
    for (int i = 0; i < NSTREAMS; i++)
        if (streams[i].fp)
            used[n++] = i;
    return n ? used[below((unsigned)n)] : -1;
}

static void op_sclose_one(int t)
{
    say("fclose t%d %s", t, res(fclose(streams[t].fp)));
    streams[t].fp = NULL;
}

static void op_sopen(void)
{
    int t = -1;
    for (int i = 0; i < NSTREAMS; i++)
        if (!streams[i].fp)
            t = i;
    if (t < 0) {
        t = (int)below(NSTREAMS);
        op_sclose_one(t);
    }
    static const char *const modes[] = { "w", "a", "r+", "a+", "w+", "r" };
    const char *mode = modes[below(6)];
    int file = (int)below(NFILES);
    FILE *fp;
    if (chance(20)) {
        int s = pick_used();
        if (s < 0)
            return;
        int fd = dup(slots[s].fd);
        fp = fd < 0 ? NULL : fdopen(fd, mode);
        say("fdopen dup(s%d) %s t%d %s", s, mode, t, fp ? "-> ok" : res(-1));
        if (!fp && fd >= 0)
            close(fd);
        file = slots[s].file;
    } else {
        fp = fopen(names[file], mode);
        say("fopen %s %s t%d %s", names[file], mode, t, fp ? "-> ok" : res(-1));
    }
    if (fp)
        streams[t] = (struct stream){ fp, file, mode, { 0 }, false };
}

static void op_swrite(int t)
{
    FILE *fp = streams[t].fp;
    size_t n = chance(90) ? 1 + below(100) : write_size() % 9000 + 1;
    const char *p = payload(n);
    switch (below(5)) {
    case 0:
        say("fwrite t%d n=%zu -> %zu err=%d", t, n, fwrite(p, 1, n, fp), ferror(fp));
        break;
    case 1: {
        char line[128];
        snprintf(line, sizeof line, "%.*s", (int)(n < 100 ? n : 100), p);
        say("fputs t%d -> %d err=%d", t, fputs(line, fp), ferror(fp));
        break;
    }
    case 2:
        say("fprintf t%d -> %d err=%d", t, fprintf(fp, "[%lu fprintf]\n", op_no), ferror(fp));
        break;
    case 3:
        say("putc t%d -> %d err=%d", t, putc('a' + (int)(op_no % 26), fp), ferror(fp));
        break;
    default:
        say("fputc t%d -> %d err=%d", t, fputc('\n', fp), ferror(fp));
        break;
    }
    if (ferror(fp) && chance(50))
        clearerr(fp);
}

static void op_sflush(int t) { say("fflush t%d %s", t, res(fflush(streams[t].fp))); }

static void op_stell(int t)
{
    FILE *fp = streams[t].fp;
    if (chance(50))
        say("ftell t%d(%s) %s", t, streams[t].mode, res(ftell(fp)));
    else
        say("ftello t%d(%s) %s", t, streams[t].mode, res((long)ftello(fp)));
}

static void op_sseek(int t)
{
    FILE *fp = streams[t].fp;
    static const int whences[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    int whence = whences[below(3)];
    long off;
    unsigned r = below(10);
    if (r < 5)
        off = whence == SEEK_SET ? (long)below(4096) : (long)below(200) - 100;
    else if (r < 8)
        off = 0;
    else
        off = -(long)(100000 + below(1000));   /* before the start: EINVAL */
    int x = fseek(fp, off, whence);
    say("fseek t%d(%s) off=%ld whence=%d %s ftell=%ld", t, streams[t].mode, off, whence, res(x),
        ftell(fp));
}

static void op_spos(int t)
{
    FILE *fp = streams[t].fp;
    unsigned r = below(3);
    if (r == 0 || !streams[t].have_pos) {
        int x = fgetpos(fp, &streams[t].pos);
        streams[t].have_pos = x == 0;
        say("fgetpos t%d %s", t, res(x));
    } else if (r == 1) {
        int x = fsetpos(fp, &streams[t].pos);
        say("fsetpos t%d %s ftell=%ld", t, res(x), ftell(fp));
    } else {
        rewind(fp);
        say("rewind t%d ftell=%ld err=%d", t, ftell(fp), ferror(fp));
    }
}

static void op_sread(int t)
{
    FILE *fp = streams[t].fp;
    static char buf[5000];
    size_t want = 1 + below(chance(90) ? 200 : 5000);
    size_t n = fread(buf, 1, want, fp);
    say("fread t%d(%s) %zu -> %zu hash=%016llx eof=%d err=%d", t, streams[t].mode, want, n,
        (unsigned long long)fnv(buf, n), feof(fp), ferror(fp));
    clearerr(fp);
}

/* A raw descriptor onto the stream's open file description. */
static void op_sdup(int t)
{
    int s = pick_free();
    if (s < 0)
        return;
    int fd = dup(fileno(streams[t].fp));
    say("dup(fileno t%d) -> s%d %s", t, s, res(fd));
    if (fd >= 0)
        slots[s] = (struct slot){ fd, streams[t].file };
}

static void op_stream(void)
{
    int t = pick_stream();
    if (t < 0 || chance(8)) {
        op_sopen();
        return;
    }
    unsigned r = below(100);
    /* glibc itself can loop for ever positioning a wide-oriented stream
       that has read bytes its locale cannot decode (adjust_wide_data, in a
       plain run too): such a stream is flushed instead. */
    if (r >= 45 && r < 78 && fwide(streams[t].fp, 0) > 0 &&
        (strchr(streams[t].mode, 'r') || strchr(streams[t].mode, '+')))
        r = 44;
    if (r < 35) op_swrite(t);
    else if (r < 45) op_sflush(t);
    else if (r < 57) op_stell(t);
    else if (r < 70) op_sseek(t);
    else if (r < 78) op_spos(t);
    else if (r < 88) op_sread(t);
    else if (r < 94) op_sdup(t);
    else op_sclose_one(t);
}

/* Wide output: fputwc of a character the C locale cannot encode fails with
   EILSEQ; byte output on a wide-oriented stream fails; setlocale after
   orientation does not change the stream's conversion. */
static void op_wide(void)
{
    int t = pick_stream();
    if (t < 0 || chance(5)) {
        op_sopen();
        return;
    }
    FILE *fp = streams[t].fp;
    static const wchar_t chars[] = { L'a', L'\n', 0xe9, 0x20ac, L'z' };
    switch (below(9)) {
    case 0: {
        int mode = (int)below(3) - 1;
        say("fwide t%d %d -> %d", t, mode, fwide(fp, mode));
        break;
    }
    case 1:
    case 2: {
        wchar_t c = chars[below(5)];
        wint_t r = fputwc(c, fp);
        say("fputwc t%d %#x %s err=%d", t, (unsigned)c,
            r == WEOF ? res(-1) : "-> ok", ferror(fp));
        break;
    }
    case 3: {
        int r = chance(50) ? fputws(L"wide line\n", fp) : fwprintf(fp, L"[%lu wide]\n", op_no);
        say("fputws/fwprintf t%d %s err=%d", t, r < 0 ? res(-1) : "-> ok", ferror(fp));
        break;
    }
    case 4:
        op_swrite(t);   /* byte output, perhaps on a wide stream */
        break;
    case 5: {
        const char *loc = chance(50) ? "C" : "C.UTF-8";
        say("setlocale LC_CTYPE %s -> %s", loc, setlocale(LC_CTYPE, loc) ? "ok" : "NULL");
        break;
    }
    case 6:
        op_stell(t);
        break;
    case 7:
        op_sflush(t);
        break;
    default:
        if (chance(30)) {
            op_sclose_one(t);
            return;
        }
        say("fwide query t%d -> %d", t, fwide(fp, 0));
        break;
    }
    if (ferror(fp))
        clearerr(fp);
}

/* ---- class longjmp: a handler that never returns to the write ------------- */

static sigjmp_buf jump_env;
static volatile int handler_fd = -1;

static void on_jump_signal(int sig)
{
    (void)sig;
    if (handler_fd >= 0) {
        static const char msg[] = "[written by the signal handler]\n";
        ssize_t r = write(handler_fd, msg, sizeof msg - 1);
        (void)r;
    }
    siglongjmp(jump_env, 1);
}

/* What lives across sigsetjmp lives here, not in registers (-Wclobbered). */
static struct {
    int pipe_fds[2];
    timer_t timer;
    bool have_timer;
    int sig;
    struct sigaction old;
    struct itimerspec when;
    struct rlimit old_limit;
    unsigned how;
    int slot;          /* the handler writes to it first; -1: not */
    int target;        /* the slot written past RLIMIT_FSIZE */
    ssize_t result;
} jump;

static const char *const jump_kinds[] = {
    "write blocked on a full pipe (SIGALRM)", "writev blocked on a full pipe (SIGALRM)",
    "write to a pipe without reader (SIGPIPE)", "write to a file past RLIMIT_FSIZE (SIGXFSZ)",
};
/* Larger than any buffer (64 KiB by default), so that with
   WRITEBEHIND_PIPES=1 a tagged pipe's write, too, is made inside the
   library, where the signal then interrupts it. */
#define JUMP_WRITE (65536 + 4096)

/* A signal whose handler (sometimes after writing a file itself)
 * siglongjmps out of the program's write (how): 0, 1 a timer aimed at this
 * thread while the write blocks on a full pipe; 2 the SIGPIPE of a pipe
 * without reader; 3 the SIGXFSZ of a write past RLIMIT_FSIZE (which a
 * buffered write never gets: class fsize).  A plain run always jumps; the
 * writes after it must behave as before. */
static void jump_out_of_write(unsigned how)
{
    jump.how = how;
    jump.target = how == 3 ? pick_used() : -1;
    if (how == 3 && jump.target < 0)
        return;
    jump.sig = how < 2 ? SIGALRM : how == 2 ? SIGPIPE : SIGXFSZ;
    if (pipe(jump.pipe_fds) < 0) {
        say("longjmp pipe %s", res(-1));
        return;
    }
    if (how < 2) {
        /* Filled with vmsplice, which no library buffers: the pipe is full
           for certain, whatever the library does with writes. */
        static char fill[4096];
        struct iovec iov = { fill, sizeof fill };
        while (vmsplice(jump.pipe_fds[1], &iov, 1, SPLICE_F_NONBLOCK) > 0)
            ;
    } else if (how == 2) {
        close(jump.pipe_fds[0]);
        jump.pipe_fds[0] = -1;
    }
    /* the handler writes nothing past the limit: it would only jump twice */
    jump.slot = how != 3 && chance(50) ? pick_used() : -1;
    handler_fd = jump.slot >= 0 ? slots[jump.slot].fd : -1;
    struct sigaction sa = { .sa_handler = on_jump_signal };   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(jump.sig, &sa, &jump.old);
    jump.have_timer = false;
    if (how < 2) {
        struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGALRM };
        sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
        if (timer_create(CLOCK_MONOTONIC, &sev, &jump.timer) < 0) {
            say("timer_create %s", res(-1));
            goto out;
        }
        jump.have_timer = true;
        jump.when = (struct itimerspec){ .it_value = { 0, (long)(1 + below(5)) * 1000000 } };
    }
    getrlimit(RLIMIT_FSIZE, &jump.old_limit);
    jump.result = -2;
    payload(JUMP_WRITE);
    if (sigsetjmp(jump_env, 1) == 0) {
        /* armed only once there is somewhere to jump to */
        if (jump.have_timer)
            timer_settime(jump.timer, 0, &jump.when, NULL);
        if (jump.how == 1) {
            struct iovec iov[2] = { { data, 100 }, { data + 100, JUMP_WRITE - 100 } };
            jump.result = writev(jump.pipe_fds[1], iov, 2);
        } else if (jump.how == 3) {
            /* Nothing is printed while the limit holds: the log is a file too. */
            struct rlimit lim = jump.old_limit;
            lim.rlim_cur = 1;
            setrlimit(RLIMIT_FSIZE, &lim);
            jump.result = write(slots[jump.target].fd, data, 20);
            setrlimit(RLIMIT_FSIZE, &jump.old_limit);
        } else {
            jump.result = write(jump.pipe_fds[1], data, JUMP_WRITE);
        }
        say("longjmp: %s returned %zd", jump_kinds[jump.how], jump.result);
    } else {
        setrlimit(RLIMIT_FSIZE, &jump.old_limit);
        say("longjmp: jumped out of a %s (handler wrote s%d)", jump_kinds[jump.how], jump.slot);
        if (jump.how == 3)
            say("longjmp: the write was to s%d(fd%d)", jump.target, slots[jump.target].fd);
    }
out:
    if (jump.have_timer)
        timer_delete(jump.timer);
    sigaction(jump.sig, &jump.old, NULL);
    handler_fd = -1;
    if (jump.pipe_fds[0] >= 0)
        close(jump.pipe_fds[0]);
    close(jump.pipe_fds[1]);
}

static void op_longjmp(void) { jump_out_of_write(below(3)); }

/* ---- class voice: fd 2 becomes a data file ---------------------------------- */

static bool stderr_replaced;

static void op_voice(void)
{
    if (!stderr_replaced) {
        int s = pick_free();
        if (s < 0) {
            s = pick_used();
            say("close s%d(fd%d) %s", s, slots[s].fd, res(close(slots[s].fd)));
            slots[s].fd = -1;
        }
        int file = (int)below(NFILES);
        int r = close(2);
        int fd = open(names[file], O_WRONLY | O_CREAT | (chance(50) ? O_APPEND : 0), 0644);
        say("close(2) %s; open %s -> s%d %s", res(r), names[file], s, res(fd));
        stderr_replaced = true;
        if (fd >= 0)
            slots[s] = (struct slot){ fd, file };
        return;
    }
    switch (below(4)) {
    case 0: {
        size_t n = 1 + below(80);
        say("write fd2 n=%zu %s", n, res(write(2, payload(n), n)));
        break;
    }
    case 1:
        say("fprintf stderr -> %d", fprintf(stderr, "[%lu stderr]\n", op_no));
        break;
    case 2:
        errno = ENOSPC;
        perror("difftest perror");
        say("perror");
        break;
    default:
        psignal(SIGUSR1, "difftest psignal");
        say("psignal");
        break;
    }
}

/* ---- class fsize: a finite RLIMIT_FSIZE --------------------------------------
 * SIGXFSZ is ignored for the whole run (main), so writes past the limit
 * return short counts, then EFBIG.  The log is fd 1, a file too: what the
 * operation prints waits until the limit is lifted again. */

static void op_fsize(int s)
{
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 1000 + below(200000);
    char lines[6][160];
    int nl = 0;
    int r = setrlimit(RLIMIT_FSIZE, &lim);
    snprintf(lines[nl++], sizeof lines[0], "RLIMIT_FSIZE %llu %s",
             (unsigned long long)lim.rlim_cur, res(r));
    for (unsigned i = 1 + below(4); i > 0 && nl < 6; i--) {
        size_t n = write_size() % 20000 + 1;
        ssize_t w;
        const char *how;
        unsigned k = below(3);
        if (k == 0) {
            how = "write";
            w = write(slots[s].fd, payload(n), n);
        } else if (k == 1) {
            how = "pwrite";
            w = pwrite(slots[s].fd, payload(n), n, (off_t)below(250000));
        } else {
            how = "writev";
            struct iovec iov[2] = { { (void *)payload(n), n / 2 }, { data + n / 2, n - n / 2 } };
            w = writev(slots[s].fd, iov, 2);
        }
        snprintf(lines[nl++], sizeof lines[0], "%s-limited s%d(fd%d) n=%zu %s", how, s,
                 slots[s].fd, n, res(w));
    }
    setrlimit(RLIMIT_FSIZE, &old);
    for (int i = 0; i < nl; i++)
        say("%s", lines[i]);
}

/* A handled SIGXFSZ: the handler siglongjmps out of the write. */
static void op_fsize_jump(void) { jump_out_of_write(3); }

/* ---- the table ------------------------------------------------------------ */

enum { NEEDS_NONE, NEEDS_SLOT };
struct op {
    enum cls cls;
    unsigned weight;
    int needs;
    void (*fn_slot)(int);
    void (*fn)(void);
    const char *name;
};
/* An entry: SLOT_OP(class, weight, op_x) calls op_x(slot); OP(...) op_x(). */
#define SLOT_OP(c, w, f) { c, w, NEEDS_SLOT, f, NULL, &#f[3] }
#define OP(c, w, f) { c, w, NEEDS_NONE, NULL, f, &#f[3] }

/* The base weights add up to about 950; each other class adds about 100 to
   150, so with one class beside base about one operation in eight is
   that class's. */
static const struct op ops[] = {
    SLOT_OP(C_BASE, 300, op_write),
    SLOT_OP(C_BASE, 80, op_writev),
    SLOT_OP(C_BASE, 40, op_burst),
    SLOT_OP(C_BASE, 30, op_pwrite),
    SLOT_OP(C_BASE, 60, op_lseek),
    SLOT_OP(C_BASE, 50, op_read),
    SLOT_OP(C_BASE, 25, op_pread),
    SLOT_OP(C_BASE, 15, op_ftruncate),
    SLOT_OP(C_BASE, 30, op_fstat),
    OP(C_BASE, 25, op_stat),
    SLOT_OP(C_BASE, 15, op_fsync),
    SLOT_OP(C_BASE, 20, op_dup),
    SLOT_OP(C_BASE, 20, op_dup2),
    SLOT_OP(C_BASE, 35, op_close),
    SLOT_OP(C_BASE, 5, op_close_range),
    OP(C_BASE, 60, op_open),
    OP(C_BASE, 8, op_fork),
    OP(C_BASE, 8, op_reader),
    SLOT_OP(C_BASE, 15, op_mmap),
    SLOT_OP(C_BASE, 10, op_setfl),
    SLOT_OP(C_BASE, 10, op_copy),
    OP(C_BASE, 8, op_names),
    OP(C_BASE, 20, op_other_read),
    SLOT_OP(C_BASE, 8, op_lock),
    OP(C_BASE, 5, op_nap),
    SLOT_OP(C_BASE, 5, op_exec_writer),
    OP(C_BASE, 5, op_bad_fd),

    SLOT_OP(C_META, 30, op_times),
    SLOT_OP(C_META, 25, op_chmod),
    OP(C_META, 6, op_cap_fsetid),
    SLOT_OP(C_META, 10, op_chown),
    SLOT_OP(C_META, 20, op_xattr),   /* not when xattrs are refused */
    SLOT_OP(C_META, 12, op_ioctl),
    SLOT_OP(C_META, 12, op_fallocate),
    OP(C_META, 6, op_memfd),
    SLOT_OP(C_META, 25, op_fcntl),

    OP(C_PROC, 12, op_child_reads),
    OP(C_PROC, 4, op_vfork_exit),
    OP(C_PROC, 4, op_spawn_cat),
    OP(C_PROC, 3, op_system),

    OP(C_IPC, 25, op_ipc),

    OP(C_GLIBC, 25, op_stdio_reader),
    OP(C_GLIBC, 6, op_tmpfile),
    SLOT_OP(C_GLIBC, 10, op_lockf),
    OP(C_GLIBC, 6, op_walk),
    OP(C_GLIBC, 4, op_eventfd_write),
    SLOT_OP(C_GLIBC, 10, op_aio),
    OP(C_GLIBC, 4, op_popen_cat),
    SLOT_OP(C_GLIBC, 6, op_backtrace_fd),

    SLOT_OP(C_OFFSETS, 30, op_fdinfo),
    SLOT_OP(C_OFFSETS, 25, op_fionread),
    SLOT_OP(C_OFFSETS, 25, op_tell),
    SLOT_OP(C_OFFSETS, 15, op_lock_cur),
    SLOT_OP(C_OFFSETS, 20, op_proc_fd),

    OP(C_STDIO_POS, 150, op_stream),
    OP(C_WIDE, 100, op_wide),
    OP(C_LONGJMP, 10, op_longjmp),
    OP(C_VOICE, 25, op_voice),
    SLOT_OP(C_FSIZE, 15, op_fsize),
    OP(C_FSIZE, 5, op_fsize_jump),
};
#define NOPS (sizeof ops / sizeof *ops)

/* DIFFTEST_SKIP=memfd,fcntl: operations left out (to find the next
   difference in a class while the first one is being fixed). */
static bool skipped[NOPS];

static void parse_skip(const char *list)
{
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        bool found = false;
        for (size_t i = 0; i < NOPS; i++)
            if (strlen(ops[i].name) == len && !strncmp(p, ops[i].name, len))
                skipped[i] = found = true;
        if (!found) {
            fprintf(stderr, "difftest: DIFFTEST_SKIP names no operation \"%.*s\"; operations:",
                    (int)len, p);
            for (size_t i = 0; i < NOPS; i++)
                fprintf(stderr, " %s", ops[i].name);
            fprintf(stderr, "\n");
            usage();
        }
        p += len;
        if (*p == ',')
            p++;
    }
}

static unsigned weight_of(size_t i)
{
    if (!on(ops[i].cls) || skipped[i])
        return 0;
    if (ops[i].fn_slot == op_xattr && !xattrs_work)
        return 0;
    return ops[i].weight;
}

/* Child ops: the writes and the calls that observe them. */
static void run_one(int s)
{
    static void (*const child_ops[])(int) = { op_write, op_write, op_writev, op_pwrite,
                                               op_lseek, op_read, op_fstat };
    op_no++;
    child_ops[below(sizeof child_ops / sizeof *child_ops)](s);
}

static void run_op(void)
{
    unsigned total = 0;
    for (size_t i = 0; i < NOPS; i++)
        total += weight_of(i);
    unsigned r = below(total);
    size_t i = 0;
    while (r >= weight_of(i))
        r -= weight_of(i++);
    if (ops[i].needs == NEEDS_SLOT) {
        int s = pick_used();
        if (s < 0)
            op_open();
        else
            ops[i].fn_slot(s);
    } else {
        ops[i].fn();
    }
}

/* The end of the run: every way a process can end with bytes pending. */
static int finish(void)
{
    op_no++;
    for (int i = 0; i < 3; i++) {
        int s = pick_used();
        if (s >= 0)
            op_write(s);
    }
    /* tar's ending: the last bytes, their file's times, exit */
    if (on(C_META) && chance(60)) {
        int s = pick_used();
        if (s >= 0)
            op_times(s);
    }
    unsigned how = below(5);
    say("run ends by %u", how);
    switch (how) {
    case 0: dump_main(); return 0;
    case 1: execl(self, self, "dump", (char *)NULL); return 126;
    case 2: _exit(0);
    case 3: kill(getpid(), SIGTERM); return 125;
    default: return 0;   /* exit without looking: the test compares the files */
    }
}

/* ---- difftest meta: what stat and getxattr say, after the run ------------ */

/* now: the dump's start plus 2 s; file times come from a finer clock than
   time() (multigrain timestamps, Linux 6.13) and may be a little ahead. */
static void say_time(char *out, size_t size, const char *what, struct timespec t, time_t now)
{
    if (t.tv_sec < TIME_RECENT)   /* set by the program: exact */
        snprintf(out, size, " %s=op%lld:%lld.%09ld", what, (t.tv_sec - TIME_BASE) / 10,
                 (long long)t.tv_sec, t.tv_nsec);
    else if (t.tv_sec <= now)
        snprintf(out, size, " %s=recent", what);
    else
        snprintf(out, size, " %s=future:%lld", what, (long long)t.tv_sec);
}

static int meta_main(void)
{
    who = "m";
    time_t now = time(NULL) + 2;
    DIR *d = opendir(".");
    if (!d) {
        perror("difftest meta: opendir");
        return 1;
    }
    static char entries[256][256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(entries[n++], sizeof entries[0], "%s", e->d_name);
    closedir(d);
    qsort(entries, (size_t)n, sizeof entries[0], cmp_str);
    for (int i = 0; i < n; i++) {
        const char *name = entries[i];
        struct stat st;
        if (lstat(name, &st) < 0) {
            say("%s lstat %s", name, ename(errno));
            continue;
        }
        char line[900], mt[64], at[64];
        say_time(mt, sizeof mt, "mtime", st.st_mtim, now);
        say_time(at, sizeof at, "atime", st.st_atim, now);
        size_t o = (size_t)snprintf(line, sizeof line, "%s mode=%06o uid=%u gid=%u size=%lld%s%s",
                                    name, (unsigned)st.st_mode, (unsigned)st.st_uid,
                                    (unsigned)st.st_gid, (long long)st.st_size, mt, at);
        long long len;
        uint64_t h;
        if (S_ISREG(st.st_mode) && hash_file(name, &len, &h) == 0)
            o += (size_t)snprintf(line + o, sizeof line - o, " hash=%016llx",
                                  (unsigned long long)h);
        char list[2048];
        ssize_t ln = llistxattr(name, list, sizeof list);
        const char *items[64];
        int ni = 0;
        for (ssize_t k = 0; k < ln && ni < 64; k += (ssize_t)strlen(list + k) + 1)
            items[ni++] = list + k;
        for (int a = 1; a < ni; a++)
            for (int b = a; b > 0 && strcmp(items[b - 1], items[b]) > 0; b--) {
                const char *t = items[b];
                items[b] = items[b - 1];
                items[b - 1] = t;
            }
        for (int k = 0; k < ni && o < sizeof line - 100; k++) {
            char val[2048];
            ssize_t vl = lgetxattr(name, items[k], val, sizeof val);
            o += (size_t)snprintf(line + o, sizeof line - o, " xattr:%s=%zd/%016llx", items[k],
                                  vl, (unsigned long long)(vl > 0 ? fnv(val, (size_t)vl) : 0));
        }
        say("%s", line);
    }
    return 0;
}

/* A run that makes no progress for 60 s ($DIFFTEST_WATCHDOG_S) hangs (a
   plain one never does): it is killed, and the test sees "signal KILL"
   instead of waiting forever.  The timer is re-armed before every
   operation, so a slow machine only makes the run slower.  POSIX timers
   vanish in forked children and at exec; children are bounded by
   collect(). */
static timer_t watchdog;
static time_t watchdog_s;

static void feed_watchdog(void)
{
    struct itimerspec when = { .it_value = { watchdog_s, 0 } };
    timer_settime(watchdog, 0, &when, NULL);
}

static void start_watchdog(void)
{
    /* sanitizer builds run several times slower */
    const char *env = getenv("DIFFTEST_WATCHDOG_S");
    watchdog_s = (time_t)(env && *env ? parse_number(env) : 60);
    struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGKILL };
    if (timer_create(CLOCK_MONOTONIC, &sev, &watchdog) < 0) {
        perror("difftest: the watchdog timer");
        exit(1);
    }
    feed_watchdog();
}

/* difftest meta-after ARGS...: runs `difftest ARGS...`, then writes the
   metadata of the current directory to "<cwd>.attrs" (beside it, so it is not
   itself compared), and ends as the run ended.  Taken before anyone else
   reads the files: a read after the run (diff -r) would move the access
   times the program set. */
static int meta_after_main(char **argv)
{
    char cwd[4096], path[4200];
    if (!getcwd(cwd, sizeof cwd)) {
        perror("difftest meta-after: getcwd");
        return 1;
    }
    snprintf(path, sizeof path, "%s.attrs", cwd);
    pid_t pid = fork();
    if (pid < 0) {
        perror("difftest meta-after: fork");
        return 1;
    }
    if (pid == 0) {
        argv[0] = self;
        execv(self, argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) {
            perror("difftest meta-after: waitpid");
            return 1;
        }
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || dup2(out, 1) < 0) {
        perror("difftest meta-after: the .attrs file");
        return 1;
    }
    close(out);
    meta_main();
    if (WIFSIGNALED(st)) {
        signal(WTERMSIG(st), SIG_DFL);
        raise(WTERMSIG(st));
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        perror("difftest: readlink /proc/self/exe");
        return 2;
    }
    self[n] = 0;
    if (argc >= 2 && !strcmp(argv[1], "cat"))
        return cat_main(argc - 2, argv + 2);
    if (argc == 2 && !strcmp(argv[1], "dump"))
        return dump_main();
    if (argc == 2 && !strcmp(argv[1], "meta"))
        return meta_main();
    if (argc >= 3 && !strcmp(argv[1], "meta-after"))
        return meta_after_main(argv + 1);
    if (argc == 3 && !strcmp(argv[1], "writer"))
        return writer_main(argc - 2, argv + 2);
    if (argc == 3 && !strcmp(argv[1], "classes")) {
        printf("%s\n", class_list(parse_classes(argv[2])));
        return 0;
    }
    if ((argc != 4 && argc != 5) || strcmp(argv[1], "run"))
        usage();
    unsigned long seed = parse_number(argv[2]);
    unsigned long nops = parse_number(argv[3]);
    const char *classes = argc == 5 ? argv[4] : getenv("DIFFTEST_CLASSES");
    enabled = parse_classes(classes && *classes ? classes : "all");
    parse_skip(getenv("DIFFTEST_SKIP"));
    rng = seed * 0x2545F4914F6CDD1DULL;
    total_ops = nops;
    for (int i = 0; i < NSLOTS; i++)
        slots[i].fd = -1;
    start_watchdog();
    say("seed %lu ops %lu classes %s", seed, nops, class_list(enabled));
    if (on(C_META))
        probe_xattrs();
    if (on(C_FSIZE))
        signal(SIGXFSZ, SIG_IGN);
    for (op_no = 1; op_no <= nops; op_no++) {
        feed_watchdog();
        run_op();
    }
    feed_watchdog();
    return finish();
}
