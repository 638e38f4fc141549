/*
 * fault_nofile — how many files can the program open?
 *
 *   fault_nofile DIR
 *
 * Opens DIR/0, DIR/1, ... until open() fails, writes a line to each (one
 * raw write() per line), closes them all and prints how many it got and
 * why it stopped.  Under a low RLIMIT_NOFILE the number must be the same
 * with the library as without: the library must not hold fds of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fault_nofile DIR\n");
        return 2;
    }
    int fds[4096], count = 0, err = 0;
    while (count < 4096) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%d", argv[1], count);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) {
            err = errno;
            break;
        }
        fds[count++] = fd;
    }
    for (int round = 0; round < 100; round++)
        for (int i = 0; i < count; i++) {
            char line[64];
            int n = snprintf(line, sizeof line, "file %d round %d\n", i, round);
            if (write(fds[i], line, (size_t)n) != n) {
                perror("write");
                return 3;
            }
        }
    for (int i = 0; i < count; i++)
        if (close(fds[i]) != 0) {
            perror("close");
            return 4;
        }
    printf("opened %d files, then: %s\n", count, err ? strerror(err) : "stopped at 4096");
    return 0;
}
