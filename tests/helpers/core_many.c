/*
 * core_many — many open files written round-robin.
 *
 *   core_many DIR NFILES ROUNDS
 *
 * Opens DIR/f0000 ... DIR/f<NFILES-1> (raising the soft fd limit to the
 * hard one if needed), then ROUNDS times writes one line to every file in
 * turn, and returns from main with all files still open.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: core_many DIR NFILES ROUNDS\n");
        return 2;
    }
    int nfiles = atoi(argv[2]);
    long rounds = atol(argv[3]);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nfiles + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int *fds = calloc((size_t)nfiles, sizeof *fds);
    if (!fds)
        return 1;
    for (int i = 0; i < nfiles; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/f%04d", argv[1], i);
        fds[i] = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fds[i] < 0) {
            perror(path);
            return 1;
        }
    }
    for (long r = 0; r < rounds; r++) {
        for (int i = 0; i < nfiles; i++) {
            char line[64];
            int len = snprintf(line, sizeof line, "file %d round %ld\n", i, r);
            if (write(fds[i], line, (size_t)len) != len) {
                perror("write");
                return 1;
            }
        }
    }
    return 0;
}
