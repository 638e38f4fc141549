/*
 * spawn.c — the per-process costs of the "do no harm" rows (bench/harm.sh).
 *
 *   spawn exec N PROG PRELOAD...  not preloaded itself: starts PROG N times
 *                                 for each PRELOAD in turn (the order reversed
 *                                 every other round), with LD_PRELOAD=PRELOAD in
 *                                 the child's environment only ("" = none)
 *   spawn fork N                  forks N times; each child _exit(0)s at once
 *
 * Prints, per PRELOAD (exec) or once (fork), the median µs from the start of
 * a spawn or fork to the child's reaping.  Interleaving the variants spawn by
 * spawn and taking medians of thousands keeps a busy neighbour from tilting
 * a difference of a few µs.  Exit status 1 on an error (with perror), 2 on
 * bad usage.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, long n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid) {
        perror("waitpid");
        exit(1);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "spawn: child %d did not exit 0 (status %#x)\n", (int)pid, status);
        exit(1);
    }
}

/* environ without LD_PRELOAD, plus LD_PRELOAD=preload unless it is "". */
static char **env_with(const char *preload)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env) {
        perror("calloc");
        exit(1);
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
            env[k++] = environ[i];
    if (*preload) {
        size_t len = strlen(preload) + 12;
        env[k] = malloc(len);
        if (!env[k]) {
            perror("malloc");
            exit(1);
        }
        snprintf(env[k], len, "LD_PRELOAD=%s", preload);
    }
    return env;
}

static int run_exec(long n, char *prog, int variants, char **preloads)
{
    char **envs[variants];
    double *samples[variants];
    for (int v = 0; v < variants; v++) {
        envs[v] = env_with(preloads[v]);
        samples[v] = malloc((size_t)n * sizeof(double));
        if (!samples[v]) {
            perror("malloc");
            return 1;
        }
    }
    char *argv[] = {prog, NULL};
    for (long r = 0; r < n; r++) {
        for (int k = 0; k < variants; k++) {
            int v = r % 2 ? variants - 1 - k : k;
            pid_t pid;
            double t0 = now_us();
            int err = posix_spawn(&pid, prog, NULL, NULL, argv, envs[v]);
            if (err) {
                fprintf(stderr, "spawn: %s: %s\n", prog, strerror(err));
                return 1;
            }
            reap(pid);
            samples[v][r] = now_us() - t0;
        }
    }
    for (int v = 0; v < variants; v++)
        printf("%.1f\n", median(samples[v], n));
    return 0;
}

static int run_fork(long n)
{
    double *samples = malloc((size_t)n * sizeof(double));
    if (!samples) {
        perror("malloc");
        return 1;
    }
    for (long r = 0; r < n; r++) {
        double t0 = now_us();
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            _exit(0);
        reap(pid);
        samples[r] = now_us() - t0;
    }
    printf("%.1f\n", median(samples, n));
    return 0;
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
    if (argc > 4 && strcmp(argv[1], "exec") == 0 && n > 0)
        return run_exec(n, argv[3], argc - 4, argv + 4);
    if (argc == 3 && strcmp(argv[1], "fork") == 0 && n > 0)
        return run_fork(n);
    fprintf(stderr, "usage: spawn exec N PROG PRELOAD... | spawn fork N\n");
    return 2;
}
