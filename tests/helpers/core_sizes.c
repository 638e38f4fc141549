/*
 * core_sizes — writes whose sizes sit around the buffer size.
 *
 *   core_sizes random FILE BUFSIZE SEED COUNT
 *       COUNT calls of seeded-random sizes: bufsize-1, bufsize, bufsize+1,
 *       1, 0, small, up to 3*bufsize; write() or a writev() of up to 4 pieces.
 *   core_sizes big FILE BUFSIZE COUNT
 *       COUNT rounds of: three small lines, one write() of exactly BUFSIZE,
 *       two small lines, one writev() of 2*BUFSIZE+1 in two pieces.
 *
 * Every byte depends on the call number and its position, so a lost,
 * doubled or reordered piece shows in a comparison with the plain run.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static uint64_t rng;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static char *payload;
static unsigned long call_no;

/* Fills n bytes for the next call: its number, then letters. */
static char *make_payload(size_t n)
{
    char head[32];
    int h = snprintf(head, sizeof head, "<%lu>", call_no);
    for (size_t j = 0; j < n; j++)
        payload[j] = (char)('a' + (call_no + j) % 26);
    memcpy(payload, head, n < (size_t)h ? n : (size_t)h);
    if (n)
        payload[n - 1] = '\n';
    call_no++;
    return payload;
}

static int do_write(int fd, size_t n)
{
    char *buf = make_payload(n);
    if (write(fd, buf, n) != (ssize_t)n) {
        perror("write");
        return -1;
    }
    return 0;
}

static int do_writev(int fd, size_t n, int pieces)
{
    char *buf = make_payload(n);
    struct iovec iov[4];
    size_t off = 0;
    for (int i = 0; i < pieces; i++) {
        size_t len = i == pieces - 1 ? n - off : (n - off) / (size_t)(pieces - i);
        iov[i].iov_base = buf + off;
        iov[i].iov_len = len;
        off += len;
    }
    if (writev(fd, iov, pieces) != (ssize_t)n) {
        perror("writev");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: core_sizes random FILE BUFSIZE SEED COUNT | big FILE BUFSIZE COUNT\n");
        return 2;
    }
    const char *mode = argv[1];
    size_t bufsize = strtoul(argv[3], NULL, 10);
    payload = malloc(3 * bufsize + 64);
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!payload || fd < 0 || bufsize < 2) {
        perror(argv[2]);
        return 1;
    }

    if (!strcmp(mode, "random") && argc == 6) {
        rng = strtoull(argv[4], NULL, 10) * 2654435761u + 1;
        long count = atol(argv[5]);
        for (long i = 0; i < count; i++) {
            size_t n;
            switch (next_random() % 8) {
            case 0: n = bufsize - 1; break;
            case 1: n = bufsize; break;
            case 2: n = bufsize + 1; break;
            case 3: n = next_random() % 2; break;
            case 4: n = 3 * bufsize - next_random() % 3; break;
            default: n = 1 + next_random() % (bufsize / 2 + 1); break;
            }
            int pieces = 1 + (int)(next_random() % 4);
            if ((pieces == 1 ? do_write(fd, n) : do_writev(fd, n, pieces)) < 0)
                return 1;
        }
    } else if (!strcmp(mode, "big") && argc == 5) {
        long count = atol(argv[4]);
        for (long i = 0; i < count; i++) {
            if (do_write(fd, 20) || do_write(fd, 21) || do_write(fd, 22) ||
                do_write(fd, bufsize) || do_write(fd, 23) || do_write(fd, 24) ||
                do_writev(fd, 2 * bufsize + 1, 2))
                return 1;
        }
    } else {
        fprintf(stderr, "core_sizes: bad arguments\n");
        return 2;
    }
    return close(fd) ? 1 : 0;
}
