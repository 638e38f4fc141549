/*
 * core_hold — writes, then waits for the test, holding the file open.
 *
 *   core_hold FILE LINES
 *
 * Writes LINES small lines to FILE, says "ready" on stdout with a raw
 * system call instruction (so no preload library sees it and lands anything
 * because of it), then blocks reading stdin until a byte or end-of-file arrives, and
 * returns from main.  While it blocks, only the library's timer can put the
 * bytes into the file.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A system call no preload library can see: syscall(2) itself may be
   wrapped, so the instruction is issued here.  Returns -errno on failure. */
static long raw_syscall4(long nr, long a, long b, long c, long d)
{
#if defined(__x86_64__)
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
#else
#error "raw_syscall4: add this architecture"
#endif
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: core_hold FILE LINES\n");
        return 2;
    }
    long lines = atol(argv[2]);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    for (long i = 0; i < lines; i++) {
        char line[64];
        int len = snprintf(line, sizeof line, "held line#%ld\n", i);
        if (write(fd, line, (size_t)len) != len) {
            perror("write");
            return 1;
        }
    }
    static const char ready[] = "ready\n";
    if (raw_syscall4(SYS_write, 1, (long)ready, sizeof ready - 1, 0) != (long)sizeof ready - 1)
        return 1;
    char c;
    if (read(0, &c, 1) < 0) {
        perror("read");
        return 1;
    }
    return 0;
}
