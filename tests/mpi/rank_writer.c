/*
 * rank_writer DIR LINES [logs|wait] — an MPI program that writes the way
 * simulation codes do, for tests/mpi.bats and bench/runtimes.sh.  Built by
 * mpicc (never by the Makefile: tests/helpers/ is compiled with plain cc).
 *
 * Every rank writes DIR/rank.R.log line by line (fprintf + fflush, and a
 * write() per line to DIR/rank.R.raw).  Unless "logs" is given, all ranks
 * then write one shared file, DIR/shared, through MPI-IO:
 *   - MPI_File_write_at: LINES fixed-size records per rank, interleaved
 *     (record k of rank r at ((k * size) + r) * REC);
 *   - MPI_File_write_ordered: after them, one block per rank in rank order
 *     through the shared file pointer.
 * Rank 0 then reads the shared file back and prints its size and a checksum.
 * With "wait", the ranks write only their logs, rank 0 prints "ready" once
 * all have, and every rank waits to be killed.
 */
#include <mpi.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REC 32

static void die(const char *what, int rc)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    fprintf(stderr, "rank_writer: %s: %s\n", what, msg);
    MPI_Abort(MPI_COMM_WORLD, 1);
}

#define CHECK(what, call)                                                      \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != MPI_SUCCESS)                                                \
            die(what, rc_);                                                    \
    } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc < 3) {
        if (rank == 0)
            fprintf(stderr, "usage: rank_writer DIR LINES [logs]\n");
        MPI_Finalize();
        return 2;
    }
    const char *dir = argv[1];
    long lines = strtol(argv[2], NULL, 10);
    int wait_for_kill = argc > 3 && strcmp(argv[3], "wait") == 0;
    int logs_only = wait_for_kill || (argc > 3 && strcmp(argv[3], "logs") == 0);

    /* The per-rank logs: stdio flushed per line, and raw write()s. */
    char path[4096];
    snprintf(path, sizeof path, "%s/rank.%d.log", dir, rank);
    FILE *log = fopen(path, "w");
    snprintf(path, sizeof path, "%s/rank.%d.raw", dir, rank);
    int raw = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!log || raw < 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (long i = 0; i < lines; i++) {
        fprintf(log, "rank %d step %ld residual %.6e\n", rank, i, 1.0 / (double)(i + 1));
        fflush(log);
        char buf[64];
        int n = snprintf(buf, sizeof buf, "rank %d raw %ld\n", rank, i);
        if (write(raw, buf, (size_t)n) != n) {
            perror("write");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }

    if (wait_for_kill) {
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0) {
            printf("ready\n");
            fflush(stdout);
        }
        for (;;)
            pause();
    }

    if (!logs_only) {
        MPI_File fh;
        snprintf(path, sizeof path, "%s/shared", dir);
        CHECK("MPI_File_open", MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR,
                                             MPI_INFO_NULL, &fh));
        char text[64], rec[REC + 1];
        for (long k = 0; k < lines; k++) {
            snprintf(text, sizeof text, "write_at rank %d rec %ld", rank, k);
            snprintf(rec, sizeof rec, "%-*.*s\n", REC - 1, REC - 1, text);
            MPI_Offset off = ((MPI_Offset)k * size + rank) * REC;
            CHECK("MPI_File_write_at",
                  MPI_File_write_at(fh, off, rec, REC, MPI_CHAR, MPI_STATUS_IGNORE));
        }
        MPI_Barrier(MPI_COMM_WORLD);
        CHECK("MPI_File_seek_shared",
              MPI_File_seek_shared(fh, (MPI_Offset)lines * size * REC, MPI_SEEK_SET));
        /* One block per rank, of a size that differs by rank. */
        char block[4096];
        int used = 0;
        for (int j = 0; j <= rank && used < (int)sizeof block - 64; j++)
            used += snprintf(block + used, sizeof block - (size_t)used,
                             "write_ordered rank %d part %d\n", rank, j);
        CHECK("MPI_File_write_ordered",
              MPI_File_write_ordered(fh, block, used, MPI_CHAR, MPI_STATUS_IGNORE));
        CHECK("MPI_File_close", MPI_File_close(&fh));
    }

    fclose(log);
    close(raw);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0 && !logs_only) {
        FILE *f = fopen(path, "r");
        unsigned long sum = 0, bytes = 0;
        int c;
        while (f && (c = getc(f)) != EOF) {
            sum = sum * 31 + (unsigned char)c;
            bytes++;
        }
        if (f)
            fclose(f);
        printf("shared: %lu bytes, checksum %lx\n", bytes, sum);
    }
    MPI_Finalize();
    return 0;
}
