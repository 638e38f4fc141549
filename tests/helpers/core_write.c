/*
 * core_write — one write() per line, round-robin over several targets.
 *
 *   core_write [-n LINES] [-o FLAGS] TARGET...
 *
 * TARGET is a path (opened O_WRONLY|O_CREAT|O_TRUNC plus FLAGS), "fd:N" (an
 * inherited descriptor), or "pty" (the slave side of a new pseudo-terminal).
 * FLAGS is a comma list of sync, dsync, direct, append.  Line i written to
 * target t is "t<t> line#<i>\n".  With "direct", each write is one aligned
 * 4096-byte block instead (O_DIRECT refuses anything else).
 * Every call's result is checked; the program returns from main.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TARGETS 16

static int open_pty(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master))
        return -1;
    /* The master stays open (and unread): the few lines written fit the
       terminal's queue. */
    return open(ptsname(master), O_WRONLY | O_NOCTTY);
}

static int parse_flags(const char *s)
{
    int flags = 0;
    char *copy = strdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (!strcmp(tok, "sync"))
            flags |= O_SYNC;
        else if (!strcmp(tok, "dsync"))
            flags |= O_DSYNC;
        else if (!strcmp(tok, "direct"))
            flags |= O_DIRECT;
        else if (!strcmp(tok, "append"))
            flags |= O_APPEND;
        else {
            fprintf(stderr, "core_write: unknown flag %s\n", tok);
            exit(2);
        }
    }
    free(copy);
    return flags;
}

int main(int argc, char **argv)
{
    long lines = 1000;
    int flags = 0, opt;
    while ((opt = getopt(argc, argv, "+n:o:")) != -1) {
        if (opt == 'n')
            lines = atol(optarg);
        else if (opt == 'o')
            flags = parse_flags(optarg);
        else
            return 2;
    }
    int ntargets = argc - optind;
    if (ntargets < 1 || ntargets > MAX_TARGETS) {
        fprintf(stderr, "usage: core_write [-n LINES] [-o FLAGS] TARGET...\n");
        return 2;
    }
    int fds[MAX_TARGETS];
    for (int t = 0; t < ntargets; t++) {
        const char *target = argv[optind + t];
        if (!strncmp(target, "fd:", 3))
            fds[t] = atoi(target + 3);
        else if (!strcmp(target, "pty"))
            fds[t] = open_pty();
        else
            fds[t] = open(target, O_WRONLY | O_CREAT | O_TRUNC | flags, 0644);
        if (fds[t] < 0) {
            perror(target);
            return 1;
        }
    }

    static char block[4096] __attribute__((aligned(4096)));
    for (long i = 0; i < lines; i++) {
        for (int t = 0; t < ntargets; t++) {
            char line[64];
            const char *buf = line;
            size_t len = (size_t)snprintf(line, sizeof line, "t%d line#%ld\n", t, i);
            if (flags & O_DIRECT) {
                memset(block, 'a' + (int)(i % 26), sizeof block);
                memcpy(block, line, len);
                buf = block;
                len = sizeof block;
            }
            ssize_t n = write(fds[t], buf, len);
            if (n != (ssize_t)len) {
                perror("write");
                return 1;
            }
        }
    }
    return 0;
}
