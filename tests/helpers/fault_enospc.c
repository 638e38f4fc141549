/*
 * fault_enospc — write numbered 512-byte records with raw write() until the
 * first error, then (optionally) free space on the file system and close.
 *
 *   fault_enospc FILE RECORDS [FILE_TO_DELETE_ON_ERROR]
 *
 * Prints "write: OK" or "write: <strerror>" and "close: OK" or
 * "close: <strerror>" on stdout; exits 0 when both succeeded, 1 otherwise.
 * The records say where they belong ("record 0000042\n" padded with '.'),
 * so a test can check that the file is an unbroken prefix of the stream —
 * what a plain run leaves behind when the disk fills up.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: fault_enospc FILE RECORDS [FILE_TO_DELETE_ON_ERROR]\n");
        return 2;
    }
    long records = strtol(argv[2], NULL, 10);
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    int write_err = 0;
    for (long i = 0; i < records && !write_err; i++) {
        char rec[512];
        memset(rec, '.', sizeof rec);
        int n = snprintf(rec, sizeof rec, "record %07ld ", i);
        rec[n] = ' ';
        rec[sizeof rec - 1] = '\n';
        for (size_t done = 0; done < sizeof rec;) {
            ssize_t w = write(fd, rec + done, sizeof rec - done);
            if (w < 0) {
                write_err = errno;
                break;
            }
            done += (size_t)w;
        }
    }
    printf("write: %s\n", write_err ? strerror(write_err) : "OK");
    if (write_err && argc > 3 && unlink(argv[3]) != 0)
        perror(argv[3]);
    int close_err = close(fd) == 0 ? 0 : errno;
    printf("close: %s\n", close_err ? strerror(close_err) : "OK");
    return write_err || close_err;
}
