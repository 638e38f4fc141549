/*
 * jump_out — a signal handler that siglongjmps out of the program's write
 * (tests/jumps.bats).  Each scenario prints what it sees and leaves FILE, so
 * a plain run and a run under the library must print the same and leave
 * the same file.
 *
 *   jump_out SCENARIO FILE
 *
 *   fsize  lines, then a write past RLIMIT_FSIZE whose SIGXFSZ handler
 *          jumps out; then more lines and a large write
 *   pipe   (run with WRITEBEHIND_PIPES=1) a large write blocked on a full
 *          pipe, interrupted by SIGALRM whose handler writes a line to FILE
 *          and jumps out; then what the pipe holds, and more lines
 *
 * Exit status 2 is a usage error only (an unknown scenario).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

static const char *path;
static sigjmp_buf env;
static volatile int handler_fd = -1;
static char big[200000];

static void die(const char *what)
{
    perror(what);
    exit(1);
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

static void on_signal(int sig)
{
    (void)sig;
    if (handler_fd >= 0) {
        static const char msg[] = "[written by the handler]\n";
        ssize_t r = write(handler_fd, msg, sizeof msg - 1);
        (void)r;
    }
    siglongjmp(env, 1);
}

static void handle(int sig)
{
    struct sigaction sa = { .sa_handler = on_signal };   /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL))
        die("sigaction");
}

/* After the jump: the thread writes on as before, and the file ends up
   with every byte in order. */
static int finish(int fd)
{
    lines(fd, 1000, 200);
    ssize_t n = write(fd, big, sizeof big);
    printf("large write after the jump: %zd\n", n);
    lines(fd, 2000, 200);
    return close(fd) ? 1 : 0;
}

static int sc_fsize(int fd)
{
    lines(fd, 0, 100);
    handle(SIGXFSZ);
    struct rlimit old, lim;
    if (getrlimit(RLIMIT_FSIZE, &old))
        die("getrlimit");
    if (sigsetjmp(env, 1) == 0) {
        lim = old;
        lim.rlim_cur = 1;
        if (setrlimit(RLIMIT_FSIZE, &lim))
            die("setrlimit");
        ssize_t n = write(fd, "past the limit\n", 15);
        setrlimit(RLIMIT_FSIZE, &old);
        printf("the write past the limit returned %zd\n", n);
    } else {
        setrlimit(RLIMIT_FSIZE, &old);
        printf("jumped out of the write past the limit\n");
    }
    return finish(fd);
}

static int sc_pipe(int fd)
{
    int p[2];
    if (pipe(p))
        die("pipe");
    /* The first write of an fd passes through; the pipe is the library's
       from the second on. */
    if (write(p[1], "x", 1) != 1)
        die("write pipe");
    lines(fd, 0, 100);
    handler_fd = fd;
    handle(SIGALRM);
    if (sigsetjmp(env, 1) == 0) {
        struct itimerval t = { .it_value = { 0, 50000 } };
        setitimer(ITIMER_REAL, &t, NULL);
        ssize_t n = write(p[1], big, sizeof big);   /* blocks once the pipe is full */
        printf("the blocked write returned %zd\n", n);
    } else {
        printf("jumped out of the blocked write\n");
    }
    handler_fd = -1;
    lines(fd, 100, 100);
    /* What the kernel took before the signal, and nothing since. */
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    long held = 0;
    ssize_t r;
    while ((r = read(p[0], big, sizeof big)) > 0)
        held += r;
    printf("the pipe held %ld bytes\n", held);
    if (write(p[1], "after\n", 6) != 6)
        die("write pipe");
    close(p[1]);
    held = 0;
    fcntl(p[0], F_SETFL, 0);
    while ((r = read(p[0], big, sizeof big)) > 0)
        held += r;
    printf("then %ld more\n", held);
    close(p[0]);
    return finish(fd);
}

int main(int argc, char **argv)
{
    static const struct { const char *name; int (*fn)(int); } scenarios[] = {
        { "fsize", sc_fsize },
        { "pipe", sc_pipe },
    };
    memset(big, 'b', sizeof big);
    if (argc == 3)
        for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++)
            if (!strcmp(argv[1], scenarios[i].name)) {
                path = argv[2];
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd < 0)
                    die("open");
                int r = scenarios[i].fn(fd);
                return fflush(stdout) ? 1 : r;
            }
    fprintf(stderr, "usage: jump_out SCENARIO FILE (fsize, pipe)\n");
    return 2;
}
