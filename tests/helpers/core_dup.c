/*
 * core_dup — writes alternately through two fds of one open file description.
 *
 *   core_dup MODE FILE [LINES]
 *
 * MODE says how the second fd is made: dup, dup2, dup3, dupfd (fcntl
 * F_DUPFD), dupfd_cloexec (F_DUPFD_CLOEXEC).  Two more:
 *   dup2_replace  the second fd first names FILE.other (lines written to it
 *                 too), then dup2 makes it a copy of the first fd;
 *   close_first   the first fd is closed halfway; the copy carries on.
 * Line i goes to the first fd when i is even, the copy when odd.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int put(int fd, const char *who, long i)
{
    char line[64];
    int len = snprintf(line, sizeof line, "%s line#%ld\n", who, i);
    if (write(fd, line, (size_t)len) != len) {
        perror("write");
        exit(1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: core_dup MODE FILE [LINES]\n");
        return 2;
    }
    const char *mode = argv[1];
    long lines = argc > 3 ? atol(argv[3]) : 1000;
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(argv[2]);
        return 1;
    }
    int copy = -1;
    if (!strcmp(mode, "dup"))
        copy = dup(fd);
    else if (!strcmp(mode, "dup2"))
        copy = dup2(fd, 10);
    else if (!strcmp(mode, "dup3"))
        copy = dup3(fd, 11, O_CLOEXEC);
    else if (!strcmp(mode, "dupfd"))
        copy = fcntl(fd, F_DUPFD, 20);
    else if (!strcmp(mode, "dupfd_cloexec"))
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 20);
    else if (!strcmp(mode, "dup2_replace") || !strcmp(mode, "close_first"))
        ;
    else {
        fprintf(stderr, "core_dup: unknown mode %s\n", mode);
        return 2;
    }

    if (!strcmp(mode, "dup2_replace")) {
        char other[4096];
        snprintf(other, sizeof other, "%s.other", argv[2]);
        int ofd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (ofd < 0) {
            perror(other);
            return 1;
        }
        for (long i = 0; i < lines; i++) {
            put(fd, "first", i);
            put(ofd, "other", i);
        }
        copy = dup2(fd, ofd);
    } else if (!strcmp(mode, "close_first")) {
        copy = dup(fd);
        for (long i = 0; i < lines / 2; i++)
            put(i % 2 ? copy : fd, i % 2 ? "copy" : "first", i);
        if (close(fd)) {
            perror("close");
            return 1;
        }
        for (long i = lines / 2; i < lines; i++)
            put(copy, "copy", i);
        return close(copy) ? 1 : 0;
    }
    if (copy < 0) {
        perror(mode);
        return 1;
    }
    for (long i = 0; i < lines; i++)
        put(i % 2 ? copy : fd, i % 2 ? "copy" : "first", i);
    return close(fd) || close(copy) ? 1 : 0;
}
