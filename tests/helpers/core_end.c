/*
 * core_end — small writes to a file, then one way of ending.
 *
 *   core_end MODE FILE [LINES]
 *
 *   close             close the fd, then measure the file (see below)
 *   pending           measure the file with the fd still open, then return
 *   return            return from main (status 0)
 *   exit              exit(7)
 *   _exit             _exit(7)
 *   thread_exit       a second thread writes and calls exit(5) while main
 *                     waits in pthread_join
 *   main_pthread_exit main starts a thread and calls pthread_exit; the
 *                     thread writes and returns (the process ends with 0)
 *
 * "Measure" asks the kernel for the file's size with a raw system call
 * instruction (which no preload library sees, so it cannot land anything)
 * and prints "landed SIZE of TOTAL" on stdout.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static const char *path;
static long lines = 1000;
static long total;
static int fd = -1;

static void write_lines(const char *who)
{
    for (long i = 0; i < lines; i++) {
        char line[64];
        int len = snprintf(line, sizeof line, "%s line#%ld\n", who, i);
        if (write(fd, line, (size_t)len) != len) {
            perror("write");
            exit(1);
        }
        total += len;
    }
}

static void measure(void)
{
    struct stat st;
    long r = raw_syscall4(SYS_newfstatat, AT_FDCWD, (long)path, (long)&st, 0);
    if (r != 0) {
        fprintf(stderr, "newfstatat: %s\n", strerror((int)-r));
        exit(1);
    }
    printf("landed %lld of %ld\n", (long long)st.st_size, total);
    fflush(stdout);
}

static void *exiting_thread(void *arg)
{
    (void)arg;
    write_lines("thread");
    exit(5);
}

static void *returning_thread(void *arg)
{
    (void)arg;
    write_lines("thread");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: core_end MODE FILE [LINES]\n");
        return 2;
    }
    const char *mode = argv[1];
    path = argv[2];
    if (argc > 3)
        lines = atol(argv[3]);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }

    pthread_t t;
    if (!strcmp(mode, "thread_exit")) {
        if (pthread_create(&t, NULL, exiting_thread, NULL))
            return 1;
        pthread_join(t, NULL);
        return 1;   /* not reached: the thread exits the process */
    }
    if (!strcmp(mode, "main_pthread_exit")) {
        if (pthread_create(&t, NULL, returning_thread, NULL))
            return 1;
        pthread_exit(NULL);
    }

    write_lines("main");
    if (!strcmp(mode, "close")) {
        if (close(fd)) {
            perror("close");
            return 1;
        }
        measure();
    } else if (!strcmp(mode, "pending")) {
        measure();
    } else if (!strcmp(mode, "exit")) {
        exit(7);
    } else if (!strcmp(mode, "_exit")) {
        _exit(7);
    } else if (strcmp(mode, "return")) {
        fprintf(stderr, "core_end: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
