/*
 * fault_reopen — stdout closed and reopened under the program's feet.
 *
 *   fault_reopen B C   (stdout already redirected to a file A)
 *
 * Writes lines to fd 1 (A), closes fd 1 and opens B (which gets number 1),
 * writes more, then dup2()s a fresh open of C onto fd 1 and writes again.
 * A byte meant for A must never land in B or C, and each file keeps its
 * order.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int put_lines(const char *tag, int count)
{
    for (int i = 0; i < count; i++) {
        char line[64];
        int n = snprintf(line, sizeof line, "%s %d\n", tag, i);
        if (write(1, line, (size_t)n) != n)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fault_reopen B C\n");
        return 2;
    }
    if (put_lines("to A", 1000) != 0)
        return 3;
    if (close(1) != 0)
        return 4;
    int b = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (b != 1) {
        fprintf(stderr, "open %s gave fd %d, not 1\n", argv[1], b);
        return 5;
    }
    if (put_lines("to B", 1000) != 0)
        return 6;
    int c = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (c < 0 || dup2(c, 1) != 1 || close(c) != 0)
        return 7;
    if (put_lines("to C", 1000) != 0)
        return 8;
    return 0;
}
