/*
 * core_tls — a program with 1 MiB of thread-local storage writes lines.
 *
 *   core_tls TARGET [LINES]
 *
 * TARGET is a path (created, truncated) or "fd:N".  glibc places static TLS
 * in every thread's stack, so a thread started with a small stack cannot be
 * created in this program (pthread_create: EINVAL); the lines are written
 * from the TLS block so that the compiler keeps it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __thread char tls_block[1 << 20];

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: core_tls TARGET [LINES]\n");
        return 2;
    }
    long lines = argc > 2 ? atol(argv[2]) : 100;
    int fd = strncmp(argv[1], "fd:", 3) ? open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644)
                                        : atoi(argv[1] + 3);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    for (long i = 0; i < lines; i++) {
        int len = snprintf(tls_block, sizeof tls_block, "tls line#%ld\n", i);
        if (write(fd, tls_block, (size_t)len) != len) {
            perror("write");
            return 1;
        }
    }
    return 0;
}
