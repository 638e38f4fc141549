/*
 * difftest — a differential tester: the same seeded sequence of file
 * operations, run plainly and under writebehind, must print the same thing
 * and leave the same files (tests/differential.bats compares the two runs).
 *
 *   difftest run SEED NOPS     in the current directory (a scratch dir)
 *   difftest cat PATH...       print length and checksum of each file
 *                              (the "other process" of the exec/spawn ops)
 *   difftest dump              cat of every file the run uses
 *   difftest writer FD         write three lines to the inherited FD
 *
 * Every line printed is written with one write() to fd 1, which the test
 * points at a regular file: the log is itself a tagged file, shared with
 * forked and exec'd children.  Nothing timing-dependent is printed (no pids,
 * times or block counts), so any difference is a semantic one.
 *
 * A run keeps NSLOTS slots of fds over NFILES files; the same file is often
 * open through several slots (dup'd or opened again), with O_APPEND,
 * O_TRUNC, O_RDWR, O_RDONLY and O_CLOEXEC mixed.  Operations are picked by
 * weight from the table at the bottom; each prints its arguments, its
 * return value, errno on failure, and a checksum of whatever it read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NFILES 3
#define NSLOTS 6
#define HIGH_FD 50            /* dup2 targets that are not already a slot's fd */
#define BIG_MAX (300 << 10)   /* larger than the default 256 KiB buffer */

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

/* ---- output ------------------------------------------------------------ */

static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(111);   /* the log itself failed: nothing to compare */
        buf += n;
        len -= (size_t)n;
    }
}

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
    write_all(1, line, (size_t)n);
    errno = saved;
}

/* "-> 17" or "-> -1 EBADF"; call right after the operation. */
static const char *res(long r)
{
    static char buf[64];
    if (r < 0)
        snprintf(buf, sizeof buf, "-> %ld %s", r, strerrorname_np(errno));
    else
        snprintf(buf, sizeof buf, "-> %ld", r);
    return buf;
}

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *c = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

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
    int head = snprintf(data, len + 1 < 32 ? len + 1 : 32, "<%lu%s>", op_no, who);
    size_t start = head > 0 && (size_t)head < len ? (size_t)head : 0;
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

/* ---- the other process: a reader of the files ----------------------------- */

static void cat_one(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        say("cat %s %s", path, strerrorname_np(errno));
        return;
    }
    uint64_t h = 1469598103934665603ULL;
    size_t total = 0;
    static char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
        total += (size_t)n;
    }
    close(fd);
    say("cat %s len=%zu hash=%016llx", path, total, (unsigned long long)h);
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

static void say_stat(const char *what, int r, const struct stat *st)
{
    if (r < 0)
        say("%s %s", what, res(r));
    else
        say("%s -> 0 size=%lld nlink=%lu", what, (long long)st->st_size,
            (unsigned long)st->st_nlink);
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
    struct stat st;
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

static void say_status(const char *what, int st)
{
    if (WIFEXITED(st))
        say("%s exit %d", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        say("%s signal %s", what, sigabbrev_np(WTERMSIG(st)));
    else
        say("%s status %#x", what, st);
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
    pid_t pid = fork();
    if (pid == 0)
        child_body(seed);
    if (pid < 0) {
        say("fork %s", res(-1));
        return;
    }
    int st;
    waitpid(pid, &st, 0);
    say_status("fork child", st);
}

static void op_reader(void)
{
    unsigned how = below(5);
    int st = 0;
    if (how == 0 || how == 1) {
        pid_t pid = how == 0 ? fork() : vfork();
        if (pid == 0) {
            execv(self, cat_argv());
            _exit(127);
        }
        waitpid(pid, &st, 0);
        say_status(how == 0 ? "fork+exec reader" : "vfork+exec reader", st);
    } else if (how == 2) {
        pid_t pid;
        int r = posix_spawn(&pid, self, NULL, NULL, cat_argv(), environ);
        if (r) {
            say("posix_spawn failed %d", r);
            return;
        }
        waitpid(pid, &st, 0);
        say_status("posix_spawn reader", st);
    } else {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "'%s' cat f0 f1 f2", self);
        if (how == 3) {
            st = system(cmd);
            say_status("system reader", st);
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
            say_status("popen reader", pclose(p));
        }
    }
}

/* Another image writes to an inherited fd, at the offset it shares with us. */
static int writer_main(int argc, char **argv)
{
    who = "w";
    int fd = argc > 0 ? atoi(argv[0]) : -1;
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
    say_status("exec'd writer", st);
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

/* ---- STDIO HOOK -------------------------------------------------------------
 * stdio support (fopen/fprintf/fwrite/fflush/fclose, fdopen, fileno) is being
 * built separately.  When it lands, give streams their own slots here
 * (FILE *, opened with fopen/fdopen on one of the files), add ops that
 * fprintf/fwrite/fflush/fseek/ftell/fclose them, and give op_stdio a weight
 * in the table below.  Two rules keep the comparison meaningful: fflush
 * every stream before fork/vfork/exec/_exit ops (unflushed stdio bytes are
 * duplicated by fork and dropped by _exit in a plain run too, but a test
 * that relies on that is testing glibc), and print ftell results, which are
 * the stdio counterpart of lseek(SEEK_CUR). */
static void op_stdio(void)
{
}

/* ---- the table ------------------------------------------------------------ */

enum { NEEDS_NONE, NEEDS_SLOT };
struct op {
    unsigned weight;
    int needs;
    void (*fn_slot)(int);
    void (*fn)(void);
};

static const struct op ops[] = {
    { 300, NEEDS_SLOT, op_write, NULL },
    { 80, NEEDS_SLOT, op_writev, NULL },
    { 40, NEEDS_SLOT, op_burst, NULL },
    { 30, NEEDS_SLOT, op_pwrite, NULL },
    { 60, NEEDS_SLOT, op_lseek, NULL },
    { 50, NEEDS_SLOT, op_read, NULL },
    { 25, NEEDS_SLOT, op_pread, NULL },
    { 15, NEEDS_SLOT, op_ftruncate, NULL },
    { 30, NEEDS_SLOT, op_fstat, NULL },
    { 25, NEEDS_NONE, NULL, op_stat },
    { 15, NEEDS_SLOT, op_fsync, NULL },
    { 20, NEEDS_SLOT, op_dup, NULL },
    { 20, NEEDS_SLOT, op_dup2, NULL },
    { 35, NEEDS_SLOT, op_close, NULL },
    { 5, NEEDS_SLOT, op_close_range, NULL },
    { 60, NEEDS_NONE, NULL, op_open },
    { 8, NEEDS_NONE, NULL, op_fork },
    { 8, NEEDS_NONE, NULL, op_reader },
    { 15, NEEDS_SLOT, op_mmap, NULL },
    { 10, NEEDS_SLOT, op_setfl, NULL },
    { 10, NEEDS_SLOT, op_copy, NULL },
    { 8, NEEDS_NONE, NULL, op_names },
    { 20, NEEDS_NONE, NULL, op_other_read },
    { 8, NEEDS_SLOT, op_lock, NULL },
    { 5, NEEDS_NONE, NULL, op_nap },
    { 5, NEEDS_SLOT, op_exec_writer, NULL },
    { 5, NEEDS_NONE, NULL, op_bad_fd },
    { 0, NEEDS_NONE, NULL, op_stdio },   /* STDIO HOOK: give it a weight */
};
#define NOPS (sizeof ops / sizeof *ops)

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
        total += ops[i].weight;
    unsigned r = below(total);
    size_t i = 0;
    while (r >= ops[i].weight)
        r -= ops[i++].weight;
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
    if (argc == 3 && !strcmp(argv[1], "writer"))
        return writer_main(argc - 2, argv + 2);
    if (argc != 4 || strcmp(argv[1], "run")) {
        fprintf(stderr, "usage: difftest run SEED NOPS | cat PATH... | dump\n");
        return 2;
    }
    char *end;
    rng = strtoull(argv[2], &end, 10) * 0x2545F4914F6CDD1DULL;
    unsigned long nops = strtoul(argv[3], &end, 10);
    total_ops = nops;
    for (int i = 0; i < NSLOTS; i++)
        slots[i].fd = -1;
    say("seed %s ops %lu", argv[2], nops);
    for (op_no = 1; op_no <= nops; op_no++)
        run_op();
    return finish();
}
