/*
 * report.c — `--stats`: one summary for the whole command tree.
 *
 * The wrapper makes a private file (mkstemp, mode 0600) and names it in
 * WRITEBEHIND_REPORT; every process of the command that loads the library
 * appends its records to it at exit, by path (stats.c has the format).
 * When the command has ended, the records are summed by file (device and
 * inode: a file opened by 20,000 processes is one file) and printed once,
 * on the wrapper's own stderr — which the command cannot have closed or
 * reused — or appended to the --stats=FILE chosen up front.
 *
 * A process still running when the command ends (a daemon it started) has
 * not reported yet and is not counted.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct file_sum {
    uint64_t dev, ino;
    uint64_t writes, direct, bytes, kernel, lost, wait_ms;
    char *path;
};

struct summary {
    struct file_sum *files;
    size_t n_files, cap_files;
    pid_t *pids;              /* every process that reported */
    size_t n_pids, cap_pids;
    pid_t *writers;           /* processes that wrote to a buffered file */
    size_t n_writers, cap_writers;
    uint64_t peak_kib, stall_us, errors;
};

char *report_begin(void)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/')
        tmp = "/tmp";
    size_t size = strlen(tmp) + 32;
    char *path = cli_alloc(size);
    snprintf(path, size, "%s/writebehind-stats.XXXXXX", tmp);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0 && strcmp(tmp, "/tmp")) {
        snprintf(path, size, "/tmp/writebehind-stats.XXXXXX");
        fd = mkostemp(path, O_CLOEXEC);
    }
    if (fd < 0)
        cli_die("cannot create a file for the statistics in %s: %s (set TMPDIR to a "
                "writable directory)", tmp, strerror(errno));
    close(fd);
    return path;
}

/* "a\\b\nc" → the bytes the library escaped. */
static char *unescape(const char *s)
{
    char *out = cli_alloc(strlen(s) + 1), *o = out;
    for (; *s; s++) {
        if (*s == '\\' && (s[1] == 'n' || s[1] == '\\')) {
            *o++ = s[1] == 'n' ? '\n' : '\\';
            s++;
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
    return out;
}

/* The rest of the line after n space-separated fields. */
static const char *after_fields(const char *line, int n)
{
    const char *p = line;
    for (int i = 0; i < n && p; i++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p;
}

static void add_pid(pid_t **list, size_t *n, size_t *cap, pid_t pid)
{
    *list = cli_grow(*list, cap, *n, sizeof **list);
    (*list)[(*n)++] = pid;
}

static void read_records(const char *records, struct summary *s)
{
    FILE *in = fopen(records, "re");
    if (!in)
        return;
    char *line = NULL;
    size_t size = 0;
    ssize_t len;
    while ((len = getline(&line, &size, in)) > 0) {
        if (line[len - 1] != '\n')
            continue;   /* cut short: a process died while writing it */
        line[len - 1] = 0;
        int pid;
        unsigned long long a[9];
        if (line[0] == 'P' &&
            sscanf(line, "P %d %llu %llu %llu", &pid, &a[0], &a[1], &a[2]) == 4) {
            add_pid(&s->pids, &s->n_pids, &s->cap_pids, pid);
            if (a[0] > s->peak_kib)
                s->peak_kib = a[0];
            if (a[1] > s->stall_us)
                s->stall_us = a[1];
            s->errors += a[2];
        } else if (line[0] == 'F' &&
                   sscanf(line, "F %d %llu %llu %llu %llu %llu %llu %llu %llu", &pid, &a[0],
                          &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7]) == 9) {
            const char *path = after_fields(line, 10);
            s->files = cli_grow(s->files, &s->cap_files, s->n_files, sizeof *s->files);
            struct file_sum *f = &s->files[s->n_files++];
            *f = (struct file_sum){ a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7],
                                    unescape(path && strcmp(path, "-") ? path : "?") };
            add_pid(&s->writers, &s->n_writers, &s->cap_writers, pid);
        }
    }
    free(line);
    fclose(in);
}

static int by_inode(const void *a, const void *b)
{
    const struct file_sum *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static int by_writes(const void *a, const void *b)
{
    const struct file_sum *x = a, *y = b;
    if (x->writes != y->writes)
        return x->writes > y->writes ? -1 : 1;
    return strcmp(x->path, y->path);
}

static int by_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return x < y ? -1 : x > y;
}

static size_t distinct(pid_t *list, size_t n)
{
    if (!n)
        return 0;
    qsort(list, n, sizeof *list, by_pid);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += i == 0 || list[i] != list[i - 1];
    return count;
}

/* One entry per file, the processes' counts summed (the overflow record,
   inode 0, stays one entry too). */
static void merge_files(struct summary *s)
{
    if (!s->n_files)
        return;
    qsort(s->files, s->n_files, sizeof *s->files, by_inode);
    size_t out = 0;
    for (size_t i = 1; i < s->n_files; i++) {
        struct file_sum *a = &s->files[out], *b = &s->files[i];
        if (a->dev == b->dev && a->ino == b->ino) {
            a->writes += b->writes;
            a->direct += b->direct;
            a->bytes += b->bytes;
            a->kernel += b->kernel;
            a->lost += b->lost;
            if (b->wait_ms > a->wait_ms)
                a->wait_ms = b->wait_ms;
            if (!strcmp(a->path, "?")) {
                free(a->path);
                a->path = b->path;
            } else {
                free(b->path);
            }
        } else {
            s->files[++out] = *b;
        }
    }
    s->n_files = out + 1;
    qsort(s->files, s->n_files, sizeof *s->files, by_writes);
}

static double ratio(uint64_t writes, uint64_t kernel)
{
    return kernel ? (double)writes / (double)kernel : 0.0;
}

/* s as a JSON string (report.c and check.c both print JSON). */
void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_json(FILE *out, const struct summary *s, size_t processes, size_t writers,
                       const uint64_t t[4], int status)
{
    uint64_t lost = 0;
    for (size_t i = 0; i < s->n_files; i++)
        lost += s->files[i].lost;
    fprintf(out, "{\"processes\": %zu, \"processes_with_writes\": %zu, \"files\": %zu, "
                 "\"writes\": %llu, \"bytes\": %llu, \"kernel_writes\": %llu, "
                 "\"system_calls_saved\": %llu, \"coalescing\": %.1f, \"longest_wait_ms\": %llu, "
                 "\"longest_stall_ms\": %.1f, \"peak_buffer_kib\": %llu, \"errors\": %llu, "
                 "\"lost_bytes\": %llu, ",
            processes, writers, s->n_files, (unsigned long long)t[0], (unsigned long long)t[1],
            (unsigned long long)t[2], (unsigned long long)(t[0] > t[2] ? t[0] - t[2] : 0),
            ratio(t[0], t[2]), (unsigned long long)t[3], (double)s->stall_us / 1000.0,
            (unsigned long long)s->peak_kib, (unsigned long long)s->errors,
            (unsigned long long)lost);
    if (WIFEXITED(status))
        fprintf(out, "\"exit_code\": %d, \"signal\": null, ", WEXITSTATUS(status));
    else
        fprintf(out, "\"exit_code\": null, \"signal\": %d, ", WTERMSIG(status));
    fputs("\"per_file\": [", out);
    for (size_t i = 0; i < s->n_files; i++) {
        const struct file_sum *f = &s->files[i];
        fputs(i ? ", {\"path\": " : "{\"path\": ", out);
        json_string(out, f->path);
        fprintf(out, ", \"writes\": %llu, \"bytes\": %llu, \"kernel_writes\": %llu, "
                     "\"coalescing\": %.1f, \"longest_wait_ms\": %llu, \"lost_bytes\": %llu}",
                (unsigned long long)f->writes, (unsigned long long)f->bytes,
                (unsigned long long)f->kernel, ratio(f->writes, f->kernel),
                (unsigned long long)f->wait_ms, (unsigned long long)f->lost);
    }
    fputs("]}\n", out);
}

#define DETAIL_MAX 10

static void print_text(FILE *out, const struct summary *s, size_t processes, size_t writers,
                       const uint64_t t[4])
{
    uint64_t writes = t[0], bytes = t[1], kernel = t[2], lost = 0;
    for (size_t i = 0; i < s->n_files; i++)
        lost += s->files[i].lost;
    if (!writes && !lost) {
        fprintf(out, "writebehind: no writes were buffered (%zu %s ran under the library); "
                     "'writebehind --check COMMAND' shows where the writes went\n",
                processes, plural(processes, "process", "processes"));
        return;
    }
    uint64_t saved = writes > kernel ? writes - kernel : 0;
    fprintf(out, "writebehind: %llu %s (%llu %s) to %zu %s became %llu write %s: %llu system "
                 "%s saved (coalescing %.1fx)\n",
            (unsigned long long)writes, plural(writes, "write", "writes"),
            (unsigned long long)bytes, plural(bytes, "byte", "bytes"), s->n_files,
            plural(s->n_files, "file", "files"), (unsigned long long)kernel,
            plural(kernel, "call", "calls"), (unsigned long long)saved,
            plural(saved, "call", "calls"), ratio(writes, kernel));
    fprintf(out, "writebehind: a byte waited at most %llu ms in a buffer; peak buffer memory "
                 "%llu KiB in one process; %llu %s; %zu of %zu %s wrote to buffered files\n",
            (unsigned long long)t[3], (unsigned long long)s->peak_kib,
            (unsigned long long)s->errors, plural(s->errors, "error", "errors"), writers,
            processes, plural(processes, "process", "processes"));
    if (s->stall_us >= 1000)
        fprintf(out, "writebehind: a writer waited at most %.1f ms for a full buffer to be "
                     "written\n", (double)s->stall_us / 1000.0);
    fprintf(out, "writebehind: %10s %13s %10s %12s  %s\n", "writes", "kernel writes",
            "coalescing", "bytes", "file");
    size_t shown = s->n_files < DETAIL_MAX ? s->n_files : DETAIL_MAX;
    for (size_t i = 0; i < shown; i++) {
        const struct file_sum *f = &s->files[i];
        fprintf(out, "writebehind: %10llu %13llu %9.1fx %12llu  %s\n",
                (unsigned long long)f->writes, (unsigned long long)f->kernel,
                ratio(f->writes, f->kernel), (unsigned long long)f->bytes, f->path);
    }
    if (shown < s->n_files) {
        uint64_t rest = 0;
        for (size_t i = shown; i < s->n_files; i++)
            rest += s->files[i].writes;
        fprintf(out, "writebehind: ... and %zu more %s (%llu %s)\n", s->n_files - shown,
                plural(s->n_files - shown, "file", "files"), (unsigned long long)rest,
                plural(rest, "write", "writes"));
    }
    for (size_t i = 0; i < s->n_files; i++)
        if (s->files[i].lost)
            fprintf(out, "writebehind: %llu %s could not be written to %s\n",
                    (unsigned long long)s->files[i].lost,
                    plural(s->files[i].lost, "byte", "bytes"), s->files[i].path);
}

void report_end(const char *records, const struct cli_options *o, int status)
{
    struct summary s = { 0 };
    read_records(records, &s);
    unlink(records);
    merge_files(&s);
    size_t processes = distinct(s.pids, s.n_pids);
    size_t writers = distinct(s.writers, s.n_writers);
    uint64_t t[4] = { 0, 0, 0, 0 };   /* writes, bytes, kernel writes, longest wait */
    for (size_t i = 0; i < s.n_files; i++) {
        t[0] += s.files[i].writes;
        t[1] += s.files[i].bytes;
        t[2] += s.files[i].kernel;
        if (s.files[i].wait_ms > t[3])
            t[3] = s.files[i].wait_ms;
    }

    FILE *out = stderr;
    if (o->stats_file) {
        out = fopen(o->stats_file, "ae");
        if (!out) {
            cli_warn("cannot append the statistics to %s: %s; here they are", o->stats_file,
                     strerror(errno));
            out = stderr;
        }
    }
    if (o->json)
        print_json(out, &s, processes, writers, t, status);
    else
        print_text(out, &s, processes, writers, t);
    if (out != stderr)
        fclose(out);
    else
        fflush(out);
    for (size_t i = 0; i < s.n_files; i++)
        free(s.files[i].path);
    free(s.files);
    free(s.pids);
    free(s.writers);
}
