/*
 * config.c — layer 3: WRITEBEHIND_* environment variables: parsed once, clamped,
 * and every mistake explained in one line.
 *
 * A bad value never crashes the program and never loses its data: the
 * library says what is wrong and passes everything through unbuffered
 * (as libstdbuf does for a bad _STDBUF_ value).  No atoi: sizes are parsed
 * with strtoull and the end is checked.
 */
#include "config.h"

#include "parse.h"
#include "say.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

struct wb_config wb_cfg = {
    /* 64 KiB: the sweep in bench/results.md (row 11) finds one busy file on
       a plateau from 64 KiB to 1 MiB (16.9x at 64K, 18.0x at 256K), but 1000
       busy files under the default 64 MiB cap coalesce 3.0x at 64K and not
       at all at 256K (the cap holds 256 such buffers; the rest write through).
       1000 x 64 KiB fits the cap. */
    .bufsize = 64 << 10,
    .max_memory = 64 << 20,
    /* 100 ms: a human watching `tail -f` sees lines "at once", and the loss
       window on SIGKILL stays short; the syscall saving is already >99.9%. */
    .flush_ms = 100,
};

#define WB_BUFSIZE_MIN 1ULL
#define WB_BUFSIZE_MAX (1ULL << 30)
#define WB_MEMORY_MAX (1ULL << 40)
#define WB_FLUSH_MS_MAX 3600000ULL

static const char *const known_vars[] = {
    "WRITEBEHIND_DISABLE", "WRITEBEHIND_PATHS", "WRITEBEHIND_FDS",
    "WRITEBEHIND_PIPES",   "WRITEBEHIND_BUFSIZE", "WRITEBEHIND_MAX_MEMORY",
    "WRITEBEHIND_FLUSH_MS", "WRITEBEHIND_STATS", "WRITEBEHIND_DEBUG",
    "WRITEBEHIND_TEST_FAULTS",   /* read by the test build only (real.c) */
    NULL,
};

static bool known_variable(const char *entry)
{
    size_t len = strcspn(entry, "=");
    for (const char *const *k = known_vars; *k; k++)
        if (strlen(*k) == len && !strncmp(entry, *k, len))
            return true;
    return false;
}

static bool bad(const char *name, const char *value, const char *why)
{
    wb_say("%s=\"%s\" %s; writing unbuffered", name, value, why);
    return false;
}

static bool load_size(const char *name, size_t *dst, unsigned long long lo,
                      unsigned long long hi, const char *range)
{
    const char *v = getenv(name);
    unsigned long long n;
    if (!v)
        return true;
    if (!wb_parse_size(v, &n))
        return bad(name, v, "is not a size (try 64K or 1M)");
    if (n < lo || n > hi)
        return bad(name, v, range);
    *dst = (size_t)n;
    return true;
}

static bool load_flag(const char *name, bool *dst)
{
    const char *v = getenv(name);
    if (!v)
        return true;
    if (!strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "true"))
        *dst = true;
    else if (!strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "false") || !*v)
        *dst = false;
    else
        return bad(name, v, "is not 0 or 1");
    return true;
}

/* "GLOB:GLOB": kept as an array of strings for fnmatch. */
static bool load_paths(void)
{
    const char *v = getenv("WRITEBEHIND_PATHS");
    if (!v)
        return true;
    if (!*v)
        return bad("WRITEBEHIND_PATHS", v, "is empty (give GLOB:GLOB, e.g. '*.log')");
    size_t n = 1;
    for (const char *p = v; *p; p++)
        n += *p == ':';
    char *copy = strdup(v);
    char **list = calloc(n + 1, sizeof *list);
    if (!copy || !list) {
        free(copy);
        free(list);
        return bad("WRITEBEHIND_PATHS", v, "could not be stored (out of memory)");
    }
    size_t i = 0;
    for (char *save, *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
        list[i++] = tok;
    wb_cfg.paths = list;
    wb_cfg.select_any = true;
    return true;
}

static bool load_fds(void)
{
    const char *v = getenv("WRITEBEHIND_FDS");
    if (!v)
        return true;
    size_t n = 1;
    for (const char *p = v; *p; p++)
        n += *p == ',';
    int *list = calloc(n + 1, sizeof *list);
    if (!list)
        return bad("WRITEBEHIND_FDS", v, "could not be stored (out of memory)");
    size_t i = 0;
    const char *p = v;
    for (;;) {
        char num[16];
        size_t len = strcspn(p, ",");
        unsigned long long fd;
        if (len == 0 || len >= sizeof num) {
            free(list);
            return bad("WRITEBEHIND_FDS", v, "is not a list of fd numbers (try 1,2)");
        }
        memcpy(num, p, len);
        num[len] = 0;
        if (!wb_parse_uint(num, &fd) || fd >= WB_FD_LIMIT) {
            free(list);
            return bad("WRITEBEHIND_FDS", v, "is not a list of fd numbers (try 1,2)");
        }
        list[i++] = (int)fd;
        if (!p[len])
            break;
        p += len + 1;
    }
    list[i] = -1;
    wb_cfg.fds = list;
    wb_cfg.select_any = true;
    return true;
}

bool wb_config_load(void)
{
    bool disabled = false;
    bool ok = true;

    for (char **e = environ; e && *e; e++) {
        if (!strncmp(*e, "WRITEBEHIND_", 12) && !known_variable(*e)) {
            wb_say("unknown variable %.*s (known: DISABLE, PATHS, FDS, PIPES, BUFSIZE, "
                   "MAX_MEMORY, FLUSH_MS, STATS, DEBUG); writing unbuffered",
                   (int)strcspn(*e, "="), *e);
            ok = false;
        }
    }
    ok = load_flag("WRITEBEHIND_DISABLE", &disabled) && ok;
    ok = load_flag("WRITEBEHIND_PIPES", &wb_cfg.pipes) && ok;
    ok = load_flag("WRITEBEHIND_DEBUG", &wb_cfg.debug) && ok;
    wb_say_debug = wb_cfg.debug;
    ok = load_size("WRITEBEHIND_BUFSIZE", &wb_cfg.bufsize, WB_BUFSIZE_MIN, WB_BUFSIZE_MAX,
                   "is out of range (1 to 1G)") && ok;
    ok = load_size("WRITEBEHIND_MAX_MEMORY", &wb_cfg.max_memory, 1, WB_MEMORY_MAX,
                   "is out of range (1 to 1T)") && ok;

    const char *ms = getenv("WRITEBEHIND_FLUSH_MS");
    unsigned long long n;
    if (ms) {
        if (!wb_parse_uint(ms, &n))
            ok = bad("WRITEBEHIND_FLUSH_MS", ms, "is not a number of milliseconds (try 100)");
        else if (n < 1 || n > WB_FLUSH_MS_MAX)
            ok = bad("WRITEBEHIND_FLUSH_MS", ms, "is out of range (1 to 3600000)");
        else
            wb_cfg.flush_ms = (unsigned)n;
    }
    ok = load_paths() && ok;
    ok = load_fds() && ok;

    const char *stats = getenv("WRITEBEHIND_STATS");
    if (stats && strcmp(stats, "0"))
        wb_cfg.stats = (!strcmp(stats, "1") || !*stats) ? "" : stats;

    return ok && !disabled;
}
