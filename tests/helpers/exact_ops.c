/*
 * exact_ops — scenarios where a program (or another process it waits for)
 * looks at a file through a door other than write(): each prints what it
 * sees, so a plain run and a run under the library must print the same and
 * leave the same files (tests/exactness.bats).
 *
 *   exact_ops SCENARIO FILE
 *
 * Exit status 2 is a usage error only (an unknown scenario).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <err.h>
#include <error.h>
#include <ftw.h>
#include <poll.h>
#include <sys/select.h>
#include <linux/fs.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <ulimit.h>
#include <unistd.h>

static const char *path;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int open_out(void)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open");
    return fd;
}

static void lines(int fd, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char line[32];
        int len = snprintf(line, sizeof line, "line#%d\n", i);
        if (write(fd, line, (size_t)len) != len)
            die("write");
    }
}

static long size_of(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* A time far from now, so "now" cannot match it by chance. */
static const struct timespec fixed[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

static int sc_futimens(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    if (futimens(fd, fixed))
        die("futimens");
    return close(fd) ? 1 : 0;
}

static int sc_utimensat(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    if (utimensat(AT_FDCWD, path, fixed, 0))
        die("utimensat");
    return close(fd) ? 1 : 0;
}

static int sc_fchmod(void)
{
    int fd = open_out();
    lines(fd, 0, 100);
    if (fchmod(fd, 0600))
        die("fchmod");
    lines(fd, 100, 100);
    struct stat st;
    fstat(fd, &st);
    printf("mode %o size %ld\n", st.st_mode & 07777, (long)st.st_size);
    return close(fd) ? 1 : 0;
}

static int child_reports(void *arg)
{
    (void)arg;
    printf("child sees %ld bytes\n", size_of(path));
    fflush(stdout);
    return 0;
}

static int sc_clone(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    fflush(stdout);
    static char stack[64 * 1024] __attribute__((aligned(16)));
    pid_t pid = clone(child_reports, stack + sizeof stack, SIGCHLD, NULL);
    if (pid < 0)
        die("clone");
    int st;
    waitpid(pid, &st, 0);
    lines(fd, 1000, 10);
    printf("parent sees %ld bytes after the child\n", size_of(path));
    return close(fd) ? 1 : 0;
}

static int sc_syscall_clone(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    fflush(stdout);
    long pid = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (pid < 0)
        die("clone");
    if (pid == 0) {
        child_reports(NULL);
        _exit(0);
    }
    int st;
    waitpid((pid_t)pid, &st, 0);
    lines(fd, 1000, 10);
    printf("parent sees %ld bytes\n", size_of(path));
    return close(fd) ? 1 : 0;
}

static int sc_vfork(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0) {
        execlp("stat", "stat", "-c", "child sees %s bytes", path, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    pid = vfork();
    if (pid == 0)
        _exit(7);   /* the parent's library must survive its child's _exit */
    waitpid(pid, &st, 0);
    printf("second child: %d\n", WEXITSTATUS(st));
    lines(fd, 1000, 10);
    return close(fd) ? 1 : 0;
}

static int sc_raise_stop(void)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open_out();
        lines(fd, 0, 1000);
        raise(SIGSTOP);   /* the parent looks while we are stopped */
        lines(fd, 1000, 10);
        _exit(close(fd) ? 1 : 0);
    }
    int st;
    waitpid(pid, &st, WUNTRACED);
    printf("stopped: %d, the file holds %ld bytes\n", WIFSTOPPED(st), size_of(path));
    kill(pid, SIGCONT);
    waitpid(pid, &st, 0);
    printf("exit %d, the file holds %ld bytes\n", WEXITSTATUS(st), size_of(path));
    return 0;
}

static int sc_fdinfo(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    char p[64], buf[256];
    snprintf(p, sizeof p, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(p, "r");
    if (!f)
        die("fdinfo");
    while (fgets(buf, sizeof buf, f))
        if (!strncmp(buf, "pos:", 4))
            fputs(buf, stdout);
    fclose(f);
    return close(fd) ? 1 : 0;
}

static int sc_fionread(void)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    lines(fd, 0, 1000);
    int n = -1;
    lseek(fd, 0, SEEK_SET);   /* lands: FIONREAD then counts from here */
    lines(fd, 0, 10);
    if (ioctl(fd, FIONREAD, &n))
        die("FIONREAD");
    printf("FIONREAD %d\n", n);
    return close(fd) ? 1 : 0;
}

static int sc_second_door(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    FILE *r = fopen(path, "r");   /* glibc reads it with its internal read */
    if (!r)
        die("fopen");
    char buf[64];
    long n = 0;
    while (fgets(buf, sizeof buf, r))
        n++;
    printf("the reader sees %ld lines\n", n);
    lines(fd, 1000, 500);
    clearerr(r);
    while (fgets(buf, sizeof buf, r))
        n++;
    printf("then %ld lines\n", n);
    fclose(r);
    return close(fd) ? 1 : 0;
}

static int sc_sys_exit(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    syscall(SYS_exit, 0);   /* the only program thread leaves: the process ends */
    return 1;
}

static int sc_unshare_user(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    /* EINVAL in a multi-threaded process: the library's writer must be gone */
    int r = unshare(CLONE_NEWUSER);
    printf("unshare(CLONE_NEWUSER): %s\n", r == 0 ? "ok" : strerror(errno));
    lines(fd, 1000, 1000);
    return close(fd) ? 1 : 0;
}

static int sc_seccomp_strict(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    fflush(stdout);
    /* From here on only read, write, exit and sigreturn: anything else the
       library did would kill the process. */
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT))
        die("seccomp");
    lines(fd, 1000, 1000);
    static const char done[] = "strict mode: still alive\n";
    write(1, done, sizeof done - 1);
    syscall(SYS_exit, 0);
    return 1;
}

/* Writes 32-byte records until one fails, printing each short or failed
   write (a file size limit, SIGXFSZ ignored); then closes fd. */
static int write_past_limit(int fd)
{
    for (int i = 0;; i++) {
        ssize_t n = write(fd, "0123456789abcdefghijklmnopqrstu\n", 32);
        if (n != 32) {
            printf("write %d: %zd (%s)\n", i, n, n < 0 ? strerror(errno) : "short");
            if (n < 0)
                break;
        }
    }
    return close(fd) ? 1 : 0;
}

static int sc_fsize(void)
{
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = { 1000, 1000 };
    if (setrlimit(RLIMIT_FSIZE, &rl))
        die("setrlimit");
    int fd = open_out();
    return write_past_limit(fd);
}

static int sc_sem_shared(void)
{
    sem_t *sem = mmap(NULL, sizeof *sem, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sem == MAP_FAILED || sem_init(sem, 1, 0))
        die("sem_init");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        while (sem_wait(sem) && errno == EINTR)
            ;
        printf("woken, the file holds %ld bytes\n", size_of(path));
        fflush(stdout);
        _exit(0);
    }
    int fd = open_out();
    lines(fd, 0, 1000);
    sem_post(sem);   /* the child reads the file now */
    int st;
    waitpid(pid, &st, 0);
    return close(fd) ? 1 : 0;
}

static int sc_pipe_eof(void)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        char c;
        while (read(p[0], &c, 1) > 0)
            ;
        printf("EOF, the file holds %ld bytes\n", size_of(path));
        fflush(stdout);
        _exit(0);
    }
    close(p[0]);
    int fd = open_out();
    lines(fd, 0, 1000);
    close(p[1]);   /* EOF is the message */
    int st;
    waitpid(pid, &st, 0);
    return close(fd) ? 1 : 0;
}

/* A memfd sealed against writes between writes: the next write is EPERM. */
static int sc_memfd_sealed(void)
{
    int m = memfd_create("sealed", MFD_ALLOW_SEALING);
    if (m < 0)
        die("memfd_create");
    lines(m, 0, 1000);
    if (fcntl(m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW))
        die("F_ADD_SEALS");
    errno = 0;
    ssize_t r = write(m, "after\n", 6);
    printf("write after F_SEAL_WRITE -> %zd (%s)\n", r, strerror(errno));
    int fd = open_out();
    char buf[4096];
    ssize_t n;
    for (off_t at = 0; (n = pread(m, buf, sizeof buf, at)) > 0; at += n)
        if (write(fd, buf, (size_t)n) != n)
            die("copy");
    return close(m) || close(fd) ? 1 : 0;
}

/* FS_IOC_SETFLAGS immutable between writes: the next write is
   EPERM (root, on a file system with the flag). */
static int sc_immutable(void)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open");
    lines(fd, 0, 1000);
    int flags = 0;
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
        flags |= FS_IMMUTABLE_FL;
        if (ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0) {
            errno = 0;
            ssize_t r = write(fd, "x\n", 2);
            printf("write after FS_IMMUTABLE_FL -> %zd (%s)\n", r, strerror(errno));
            flags &= ~FS_IMMUTABLE_FL;
            ioctl(fd, FS_IOC_SETFLAGS, &flags);
            return close(fd) ? 1 : 0;
        }
    }
    printf("immutable flag unsupported here\n");
    return close(fd) ? 1 : 0;
}

/* glibc's own tmpfile() stream and a raw write on its fd, in order. */
static int sc_tmpfile_raw(void)
{
    FILE *t = tmpfile();
    if (!t)
        die("tmpfile");
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 700; i++)   /* past glibc's buffer: it writes itself */
            fprintf(t, "stream#%d\n", i);
        lines(fileno(t), 0, 20);
    }
    for (int i = 0; i < 100; i++)
        fprintf(t, "last#%d\n", i);
    lines(fileno(t), 20, 1);
    long at = ftell(t);
    rewind(t);
    int fd = open_out();
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, t)) > 0)
        if (write(fd, buf, n) != (ssize_t)n)
            die("copy");
    printf("ftell %ld\n", at);
    return fclose(t) || close(fd) ? 1 : 0;
}

/* nftw stats every entry with glibc's internal calls. */
static int walked(const char *p, const struct stat *st, int type, struct FTW *f)
{
    (void)f;
    if (type == FTW_F)
        printf("%s %lld\n", p, (long long)st->st_size);
    return 0;
}
static int sc_nftw(void)
{
    int fd = open_out();
    lines(fd, 0, 1000);
    if (nftw(".", walked, 4, FTW_PHYS))
        die("nftw");
    return close(fd) ? 1 : 0;
}

/* fd 2 closed, the data file opened as fd 2, then a child that writes to
   its stderr, with the library's debug lines and statistics asked for: no
   line of the library's may enter the file. */
static int sc_stderr_file(void)
{
    fflush(stderr);
    close(2);
    if (open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) != 2)
        die("open as fd 2");
    lines(2, 0, 100);
    setenv("WRITEBEHIND_DEBUG", "1", 1);
    setenv("WRITEBEHIND_STATS", "1", 1);
    int st = system("echo child >&2; echo child line >>/dev/stderr");
    lines(2, 100, 100);
    printf("system -> %d\n", st);
    return 0;
}

/* Messages on stderr, a pipe to a process that looks at the file at each
   line (and answers on fd 9, so the writer goes on only after the look):
   err(3)/error(3)/syslog(LOG_PERROR) print with glibc's internal calls,
   and each line is a message that the bytes before it are there.  The
   messages are printed by a new image whose stderr is the pipe from the
   start (so stderr is glibc's own stream, not the library's). */
#define ACK_FD 9
static int sc_messages(void)
{
    int p[2], ack[2];
    if (pipe(p) || pipe(ack))
        die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        close(ack[0]);
        FILE *in = fdopen(p[0], "r");
        char line[256];
        while (in && fgets(line, sizeof line, in)) {
            printf("%ld bytes when told: %s", size_of(path), line);
            fflush(stdout);
            if (write(ack[1], "k", 1) != 1)
                die("ack");
        }
        _exit(0);
    }
    close(p[0]);
    close(ack[1]);
    if (dup2(p[1], 2) != 2 || dup2(ack[0], ACK_FD) != ACK_FD)
        die("dup2");
    close(p[1]);
    close(ack[0]);
    execl("/proc/self/exe", "exact_ops", "messages_told", path, (char *)NULL);
    die("exec");
    return 1;
}

static void looked_at(void)
{
    char k;
    if (read(ACK_FD, &k, 1) != 1)
        die("ack");
}

static int sc_messages_told(void)
{
    int fd = open_out();
    openlog("exact_ops", LOG_PERROR | LOG_NDELAY, LOG_USER);
    lines(fd, 0, 100);
    warn("warn %d", 1);
    looked_at();
    lines(fd, 100, 100);
    warnx("warnx %d", 2);
    looked_at();
    lines(fd, 200, 100);
    error(0, 0, "error %d", 3);
    looked_at();
    lines(fd, 300, 100);
    error_at_line(0, EIO, "src.c", 7, "error_at_line %d", 4);
    looked_at();
    lines(fd, 400, 100);
    syslog(LOG_INFO, "syslog %d", 5);
    looked_at();
    lines(fd, 500, 100);
    closelog();
    close(2);
    int st;
    wait(&st);   /* the reader, forked before the exec */
    return close(fd) ? 1 : 0;
}

/* A pipe filled to its capacity by small writes, then polled at both ends
   (with WRITEBEHIND_PIPES=1 set for the new image: pipes are buffered). */
static int sc_poll_pipe(void)
{
    setenv("WRITEBEHIND_PIPES", "1", 1);
    execl("/proc/self/exe", "exact_ops", "poll_pipe_buffered", path, (char *)NULL);
    die("exec");
    return 1;
}

static int sc_poll_pipe_buffered(void)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    int cap = fcntl(p[1], F_GETPIPE_SZ);
    for (int i = 0; i < cap / 16; i++)
        if (write(p[1], "0123456789abcde\n", 16) != 16)
            die("write");
    struct pollfd w = { p[1], POLLOUT, 0 }, r = { p[0], POLLIN, 0 };
    int nw = poll(&w, 1, 0);
    int nr = poll(&r, 1, 0);
    printf("poll write end -> %d revents %#x; read end -> %d revents %#x\n", nw, w.revents, nr,
           r.revents);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(p[0], &rs);
    struct timeval zero = { 0, 0 };
    printf("select read end -> %d\n", select(p[0] + 1, &rs, NULL, NULL, &zero));
    int fd = open_out();
    char buf[4096];
    ssize_t n;
    for (int left = cap; left > 0 && (n = read(p[0], buf, sizeof buf)) > 0; left -= (int)n)
        if (write(fd, buf, (size_t)n) != n)
            die("copy");
    return close(fd) ? 1 : 0;
}

/* glibc's exported internal names of the same calls, mixed with the
   public ones on one file: the bytes in the order written. */
ssize_t __write(int, const void *, size_t);
int __close(int);
int __open(const char *, int, ...);
static int sc_glibc_names(void)
{
    int fd = __open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("__open");
    for (int i = 0; i < 1000; i++) {
        char line[32];
        int len = snprintf(line, sizeof line, "line#%d\n", i);
        if ((i % 3 ? write(fd, line, (size_t)len) : __write(fd, line, (size_t)len)) != len)
            die("write");
    }
    printf("the file holds %ld bytes before __close\n", size_of(path));
    return __close(fd) ? 1 : 0;
}

/* ulimit(UL_SETFSIZE) between writes, SIGXFSZ ignored: the short write
   and EFBIG come where a plain run gets them. */
static int sc_ulimit_fsize(void)
{
    signal(SIGXFSZ, SIG_IGN);
    int fd = open_out();
    lines(fd, 0, 300);
    if (ulimit(UL_SETFSIZE, 8L) < 0)   /* 4096 bytes */
        die("ulimit");
    return write_past_limit(fd);
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(void); } scenarios[] = {
        { "futimens", sc_futimens },     { "utimensat", sc_utimensat },
        { "fchmod", sc_fchmod },         { "clone", sc_clone },
        { "syscall_clone", sc_syscall_clone }, { "vfork", sc_vfork },
        { "raise_stop", sc_raise_stop }, { "fdinfo", sc_fdinfo },
        { "fionread", sc_fionread },     { "second_door", sc_second_door },
        { "sys_exit", sc_sys_exit },     { "unshare_user", sc_unshare_user },
        { "seccomp_strict", sc_seccomp_strict }, { "fsize", sc_fsize },
        { "sem_shared", sc_sem_shared }, { "pipe_eof", sc_pipe_eof },
        { "memfd_sealed", sc_memfd_sealed }, { "immutable", sc_immutable },
        { "tmpfile_raw", sc_tmpfile_raw }, { "nftw", sc_nftw },
        { "stderr_file", sc_stderr_file }, { "messages", sc_messages },
        { "messages_told", sc_messages_told }, { "poll_pipe", sc_poll_pipe },
        { "poll_pipe_buffered", sc_poll_pipe_buffered }, { "glibc_names", sc_glibc_names },
        { "ulimit_fsize", sc_ulimit_fsize },
    };
    if (argc == 3)
        for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++)
            if (!strcmp(argv[1], scenarios[i].name)) {
                path = argv[2];
                return scenarios[i].fn();
            }
    fprintf(stderr, "usage: exact_ops SCENARIO FILE\n");
    return 2;
}
