/*
 * report_writer — a small writer for the --stats and --check tests.
 *
 *   report_writer [OPTION]... FILE LINES
 *
 * Writes LINES lines "line#<i>\n" to FILE with one write() each, then:
 *   --reuse-fd2     first closes fd 2 and opens FILE, which takes number 2
 *                   (a program that closed its stderr and opened a data
 *                   file); the lines are written to fd 2
 *   --close-stderr  closes fd 2 after writing, as coreutils do at exit
 *   --sleep-ms N    sleeps N ms after writing, before exiting
 *   --die SIGNAL    raises SIGNAL (a number) after writing
 * Every call's result is checked; exit status 0, or 3 on a failed call.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void fail(const char *what)
{
    perror(what);
    exit(3);
}

int main(int argc, char **argv)
{
    int reuse = 0, close_stderr = 0, sleep_ms = 0, die = 0;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--reuse-fd2"))
            reuse = 1;
        else if (!strcmp(argv[i], "--close-stderr"))
            close_stderr = 1;
        else if (!strcmp(argv[i], "--sleep-ms") && i + 1 < argc)
            sleep_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--die") && i + 1 < argc)
            die = atoi(argv[++i]);
        else {
            fprintf(stderr, "report_writer: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: report_writer [OPTION]... FILE LINES\n");
        return 2;
    }
    const char *file = argv[i];
    long lines = atol(argv[i + 1]);
    if (reuse && close(2) != 0)
        fail("close");
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fail("open");
    if (reuse && fd != 2) {
        fprintf(stderr, "report_writer: open gave fd %d, not 2\n", fd);
        return 3;
    }
    for (long n = 0; n < lines; n++) {
        char line[32];
        int len = snprintf(line, sizeof line, "line#%ld\n", n);
        if (write(fd, line, (size_t)len) != len)
            fail("write");
    }
    if (close_stderr && close(2) != 0)
        fail("close");
    if (sleep_ms) {
        struct timespec ts = { sleep_ms / 1000, (long)(sleep_ms % 1000) * 1000000 };
        nanosleep(&ts, NULL);
    }
    if (die)
        raise(die);
    return 0;
}
