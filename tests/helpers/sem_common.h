/*
 * sem_common.h — shared by the sem_*.c helpers (tests/semantics.bats and
 * friends).  Each helper runs a named scenario in the current directory
 * and prints what the program sees; the bats file runs it plainly and
 * under writebehind (usually with WRITEBEHIND_FLUSH_MS=3600000, so the
 * timer never lands anything) and compares.
 *
 * peek_*() look at the kernel's view with raw system calls that no wrapper
 * sees: printed right after a call, they show whether that call landed the
 * buffered bytes, even when the call's own result would be the same either
 * way (fsync, flock, kill...).
 */
#ifndef SEM_COMMON_H
#define SEM_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "portable.h"   /* glibc 2.31: strerrorname_np, sigabbrev_np... */

/* Not every helper uses every function here. */
#pragma GCC diagnostic ignored "-Wunused-function"

/* One line on stdout with one write(): stdout is a tagged file in the tests,
   shared with children, so lines must not be split. */
__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...)
{
    char line[4096];
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    for (char *p = line; n > 0;) {
        ssize_t w = write(1, p, (size_t)n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(111);
        p += w;
        n -= (int)w;
    }
    errno = saved;
}

/* Exit status 1: 2 is kept for usage errors (see run_scenario), which the
   bats helpers refuse to count as agreement. */
__attribute__((noreturn)) static void fail(const char *what)
{
    out("FAILED %s: %s", what, strerror(errno));
    exit(1);
}

static const char *ename(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : "?";
}

/* "-> N" or "-> -1 ENAME" */
static const char *res(long r)
{
    static __thread char buf[64];
    if (r < 0)
        snprintf(buf, sizeof buf, "-> %ld %s", r, ename(errno));
    else
        snprintf(buf, sizeof buf, "-> %ld", r);
    return buf;
}

static int xopen(const char *path, int flags)
{
    int fd = open(path, flags, 0644);
    if (fd < 0)
        fail(path);
    return fd;
}

static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    ssize_t w = write(fd, s, n);
    if (w != (ssize_t)n)
        fail("write");
}

/* Creates path holding s, plainly: the starting state of a scenario. */
static void prefill(const char *path, const char *s)
{
    int fd = xopen(path, O_WRONLY | O_CREAT | O_TRUNC);
    put(fd, s);
    if (close(fd))
        fail("close");
}

/* ---- the kernel's view, past every wrapper -------------------------------- */

static long long peek_size(const char *path)
{
    struct statx stx;
    if (syscall(SYS_statx, AT_FDCWD, path, 0, STATX_SIZE, &stx) != 0)
        return -1;
    return (long long)stx.stx_size;
}

/* Prints what the kernel holds for path right now (escaped, at most 300 bytes). */
static void peek(const char *label, const char *path)
{
    char buf[300], shown[1300];
    long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        out("%s: kernel has no %s (%s)", label, path, ename(errno));
        return;
    }
    long n = syscall(SYS_pread64, fd, buf, sizeof buf, 0);
    syscall(SYS_close, fd);
    size_t o = 0;
    for (long i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c >= 32 && c < 127 && c != '\\')
            shown[o++] = (char)c;
        else
            o += (size_t)snprintf(shown + o, 5, "\\x%02x", c);
    }
    shown[o] = 0;
    out("%s: kernel has %s size=%lld \"%s\"", label, path, peek_size(path), shown);
}

static void say_status(const char *what, int st)
{
    if (WIFEXITED(st))
        out("%s: exit %d", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        out("%s: signal %s", what, sigabbrev_np(WTERMSIG(st)));
    else
        out("%s: status %#x", what, st);
}

static void reap(const char *what, pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            fail("waitpid");
    say_status(what, st);
}

/* ---- shared by difftest and any helper that hashes or reports ------------- */

/* Writes all of buf to fd (EINTR and short writes retried); a failure means
   the output itself is lost, so there is nothing left to compare: exit 111. */
static void write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(111);
        p += w;
        len -= (size_t)w;
    }
}

/* FNV-1a, 64 bits: a checksum that shows whether two runs saw the same bytes. */
#define FNV_START 1469598103934665603ULL
static uint64_t fnv_add(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}
static uint64_t fnv(const void *p, size_t n) { return fnv_add(FNV_START, p, n); }

/* Length and checksum of a file's bytes, read from the start through a new
   descriptor.  Returns 0, or -1 with errno set (the open or a read failed). */
static int hash_file(const char *path, long long *len, uint64_t *hash)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    static __thread char buf[65536];
    uint64_t h = FNV_START;
    long long total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        h = fnv_add(h, buf, (size_t)n);
        total += n;
    }
    close(fd);
    *len = total;
    *hash = h;
    return 0;
}

/* "exit N", "signal NAME" or "status 0x..." for a wait status. */
static const char *status_text(int st)
{
    static __thread char buf[64];
    if (WIFEXITED(st))
        snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, sizeof buf, "signal %s", sigabbrev_np(WTERMSIG(st)));
    else
        snprintf(buf, sizeof buf, "status %#x", (unsigned)st);
    return buf;
}

struct scenario {
    const char *name;
    void (*fn)(void);
};

/* Runs the scenario named argv[1]; any other argument list is a usage error,
   exit status 2 (and 2 means only that, in every helper). */
static int run_scenario(const struct scenario *list, size_t count, int argc, char **argv)
{
    if (argc == 2)
        for (size_t i = 0; i < count; i++)
            if (!strcmp(list[i].name, argv[1])) {
                list[i].fn();
                return 0;
            }
    fprintf(stderr, "usage: %s SCENARIO; scenarios:", argv[0]);
    for (size_t i = 0; i < count; i++)
        fprintf(stderr, " %s", list[i].name);
    fprintf(stderr, "\n");
    return 2;
}

#define SCENARIOS(...)                                                                    \
    static const struct scenario scenarios[] = { __VA_ARGS__ };                           \
    int main(int argc, char **argv)                                                       \
    {                                                                                     \
        return run_scenario(scenarios, sizeof scenarios / sizeof *scenarios, argc, argv); \
    }
#define S(name) { #name, sc_##name }

#endif
