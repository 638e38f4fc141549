/*
 * fault_writer — write, say so, then wait to be killed.
 *
 *   fault_writer FILE READY LINES
 *
 * Writes LINES short lines to FILE ("-" for stdout) with one raw write()
 * each, creates the empty file READY, then blocks until a signal ends it.
 * The tests kill it (TERM, INT, HUP, KILL) and compare what reached FILE
 * and how the process died with a run without the library.
 *
 * Background jobs of a non-interactive shell start with SIGINT and SIGQUIT
 * ignored (POSIX), so the default action is restored here — which is also
 * the case "the program sets SIG_DFL itself" for the library.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fault_writer FILE READY LINES\n");
        return 2;   /* usage only: the tests tell it from a failure */
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGQUIT, SIG_DFL);
    int fd = strcmp(argv[1], "-") ? open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644) : 1;
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    long lines = strtol(argv[3], NULL, 10);
    for (long i = 0; i < lines; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "line %ld of %ld\n", i, lines);
        if (write(fd, line, (size_t)n) != n) {
            perror("write");
            return 1;
        }
    }
    int ready = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (ready < 0) {
        perror(argv[2]);
        return 1;
    }
    close(ready);
    for (;;)
        pause();
}
