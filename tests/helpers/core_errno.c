/*
 * core_errno — return values and errno of odd and ordinary calls.
 *
 *   core_errno DIR [zero-writev|syscall]
 *
 * Prints one line per call: what was called, what it returned, and errno
 * afterwards (errno is set to EXDEV before every call, so a call that
 * succeeds must leave EXDEV there).  The test compares the plain run's lines
 * with the library's.  With "zero-writev", only writev() of empty pieces
 * on a fresh file (no buffer yet) and then on one holding bytes; with
 * "syscall", only syscall(2) calls with fewer than six arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "portable.h"   /* strerrorname_np before glibc 2.32 */

static void show(const char *what, long r)
{
    int e = errno;
    const char *name = strerrorname_np(e);
    printf("%-40s = %ld, errno %s\n", what, r, name ? name : "?");
    fflush(stdout);
}

#define TRY(what, call) (errno = EXDEV, show(what, (long)(call)))

/* syscall(2) with five arguments from a frame holding an array: a wrapper
   that reads a sixth reads this frame's guard zone (AddressSanitizer). */
static __attribute__((noinline)) long stat_dot_is_dir(void)
{
    struct stat st;
    long r = syscall(SYS_newfstatat, AT_FDCWD, ".", &st, 0);
    return r == 0 ? S_ISDIR(st.st_mode) : r;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: core_errno DIR [zero-writev|syscall]\n");
        return 2;
    }
    if (chdir(argv[1]))
        return 1;
    char small[64] = "a small line\n";
    static char many[100000];
    memset(many, 'x', sizeof many);
    struct iovec iov[2] = { { small, 5 }, { small + 5, 8 } };
    /* volatile: the compiler must not refuse the bad counts at build time */
    volatile int minus_one = -1, too_many = IOV_MAX + 1;

    if (argc == 3 && !strcmp(argv[2], "syscall")) {
        int fd;
        TRY("syscall(SYS_getppid) == getppid()", syscall(SYS_getppid) == getppid());
        TRY("syscall(SYS_newfstatat, \".\") is a directory", stat_dot_is_dir());
        TRY("syscall(SYS_close, -1)", syscall(SYS_close, -1));
        TRY("open(out)", fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644));
        TRY("write(out, small)", write(fd, small, 13));
        TRY("syscall(SYS_write, out, small)", syscall(SYS_write, fd, small, 13));
        TRY("syscall(SYS_close, out)", syscall(SYS_close, fd));
        TRY("write(out) after the raw close", write(fd, small, 13));
        return 0;
    }
    if (argc == 3) {
        struct iovec empty[2] = { { small, 0 }, { small, 0 } };
        int fd;
        TRY("open(out)", fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644));
        TRY("writev(out, 2 empty pieces) before any byte", writev(fd, empty, 2));
        TRY("write(out, small)", write(fd, small, 13));
        TRY("writev(out, 2 empty pieces) with bytes pending", writev(fd, empty, 2));
        return 0;
    }

    TRY("write(-1)", write(-1, small, 5));
    TRY("write(999, never opened)", write(999, small, 5));
    TRY("write(1<<21, beyond any table)", write(1 << 21, small, 5));
    TRY("write(-1, 0 bytes)", write(-1, small, 0));
    TRY("writev(-1)", writev(-1, iov, 2));

    int fd;
    TRY("open(out)", fd = open("out", O_WRONLY | O_CREAT | O_TRUNC, 0644));
    TRY("write(out, 0 bytes) before any byte", write(fd, small, 0));
    TRY("write(out, small)", write(fd, small, 13));
    TRY("write(out, 0 bytes) with bytes pending", write(fd, small, 0));
    TRY("write(out, NULL, 0 bytes)", write(fd, NULL, 0));
    TRY("writev(out, 2 pieces)", writev(fd, iov, 2));
    TRY("writev(out, 0 pieces)", writev(fd, iov, 0));
    TRY("writev(out, -1 pieces)", writev(fd, iov, minus_one));
    TRY("writev(out, IOV_MAX+1 pieces)", writev(fd, iov, too_many));
    for (int i = 0; i < 2000; i++) {
        errno = EXDEV;
        ssize_t r = write(fd, many, (size_t)(i % 97) + 1);
        if (r != (i % 97) + 1 || errno != EXDEV) {
            show("write(out, many sizes) went wrong", r);
            break;
        }
    }
    TRY("write(out, 100000 bytes)", write(fd, many, sizeof many));
    TRY("write(out, small) after a big one", write(fd, small, 13));
    int copy;
    TRY("dup(out)", copy = dup(fd));
    TRY("write(copy)", write(copy, small, 13));
    TRY("dup2(out, -1)", dup2(fd, -1));
    TRY("dup2(out, out)", dup2(fd, fd));
    TRY("close(copy)", close(copy));
    TRY("write(copy) after close", write(copy, small, 13));
    TRY("close(copy) again", close(copy));
    TRY("write(out)", write(fd, small, 13));
    TRY("close(out)", close(fd));
    TRY("write(out) after close", write(fd, small, 13));
    TRY("write(out, 0 bytes) after close", write(fd, small, 0));
    TRY("writev(out) after close", writev(fd, iov, 2));
    TRY("close(-1)", close(-1));

    int ro;
    TRY("open(out, O_RDONLY)", ro = open("out", O_RDONLY));
    TRY("write(read-only fd)", write(ro, small, 5));
    TRY("write(read-only fd, 0 bytes)", write(ro, small, 0));
    TRY("close(read-only fd)", close(ro));
    TRY("open(missing/dir/file)", open("missing/dir/file", O_WRONLY | O_CREAT, 0644));
    return 0;
}
