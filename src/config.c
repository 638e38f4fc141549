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
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Every variable, and the option of the wrapper that sets it: a message
   names both, so a user finds the mistake whichever way it was made. */
static const struct setting {
    const char *var;
    const char *option;
} settings[] = {
    { "WRITEBEHIND_DISABLE", "--disable" },
    { "WRITEBEHIND_PATHS", "--path" },
    { "WRITEBEHIND_FDS", "--fd" },
    { "WRITEBEHIND_PIPES", "--pipes" },
    { "WRITEBEHIND_BUFSIZE", "--bufsize" },
    { "WRITEBEHIND_MAX_MEMORY", "--max-memory" },
    { "WRITEBEHIND_FLUSH_MS", "--flush-ms" },
    { "WRITEBEHIND_STATS", "--stats" },
    { "WRITEBEHIND_STATS_FORMAT", "--stats-format" },
    { "WRITEBEHIND_DEBUG", "--debug" },
    { "WRITEBEHIND_ONLY", "--only" },
    { "WRITEBEHIND_SKIP", "--skip" },
    { "WRITEBEHIND_KEEP", "--keep-in-children" },
    { "WRITEBEHIND_LIB", "--lib" },              /* read by the wrapper only */
    { "WRITEBEHIND_REPORT", "--stats" },         /* set by the wrapper: where its
                                                    --stats summary collects records */
    { WB_STDERR_VAR, "(set by the library for the programs it starts: say.c)" },
    { "WRITEBEHIND_TEST_FAULTS", "(tests)" },     /* read by the test build only (real.c) */
};
#define N_SETTINGS (sizeof settings / sizeof *settings)

_Static_assert(WB_LIMIT_FD == WB_FD_LIMIT, "the wrapper and the library agree on fds");

static const struct setting *setting_of(const char *entry)
{
    size_t len = strcspn(entry, "=");
    for (size_t i = 0; i < N_SETTINGS; i++)
        if (strlen(settings[i].var) == len && !strncmp(entry, settings[i].var, len))
            return &settings[i];
    return NULL;
}

static bool bad(const char *name, const char *value, const char *why)
{
    const struct setting *s = setting_of(name);
    wb_say("%s=\"%s\" (%s) %s; writing unbuffered", name, value, s ? s->option : "?", why);
    return false;
}

static bool load_size(const char *name, size_t *dst, unsigned long long hi, const char *range)
{
    const char *v = getenv(name);
    unsigned long long n;
    if (!v)
        return true;
    if (!wb_parse_size(v, &n))
        return bad(name, v, "is not a size (try 64K or 1M)");
    if (n < 1 || n > hi)
        return bad(name, v, range);
    *dst = (size_t)n;
    return true;
}

static bool load_flag(const char *name, bool *dst)
{
    const char *v = getenv(name);
    if (!v)
        return true;
    int b = wb_parse_bool(v);
    if (b < 0)
        return bad(name, v, "is not a yes/no value (" WB_BOOL_WORDS ")");
    *dst = b;
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

/* WRITEBEHIND_STATS: a yes/no word (the summary on stderr), or an absolute
   path to append it to.  A relative path would land in each process's own
   working directory, so it is refused (the wrapper makes it absolute).
   WRITEBEHIND_REPORT, set by the wrapper, wins: the wrapper then prints
   one summary for the whole run from the records every process leaves. */
static bool load_stats(void)
{
    const char *report = getenv("WRITEBEHIND_REPORT");
    if (report) {
        if (report[0] != '/')
            return bad("WRITEBEHIND_REPORT", report, "is not an absolute path");
        wb_cfg.stats = report;
        wb_cfg.stats_records = true;
        return true;
    }
    const char *v = getenv("WRITEBEHIND_STATS");
    if (!v)
        return true;
    int b = wb_parse_bool(v);
    if (b >= 0) {
        wb_cfg.stats = b ? "" : NULL;
        return true;
    }
    if (v[0] != '/')
        return bad("WRITEBEHIND_STATS", v,
                   "is neither a yes/no value (" WB_BOOL_WORDS ") nor an absolute path");
    wb_cfg.stats = v;
    return true;
}

static bool load_names(const char *name, const char **dst)
{
    const char *v = getenv(name);
    if (!v)
        return true;
    if (!wb_parse_names(v))
        return bad(name, v, "is not a list of program names (try cc1,ld)");
    *dst = v;
    return true;
}

/* The name of this program as a user would type it: argv[0]'s basename,
   or the executable's (python3 runs /usr/bin/python3.11). */
static bool program_listed(const char *list)
{
    if (wb_names_contain(list, program_invocation_short_name))
        return true;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = 0;
    const char *base = strrchr(exe, '/');
    return wb_names_contain(list, base ? base + 1 : exe);
}

/* ---- WRITEBEHIND_KEEP: what a new program gets back ----------------------
 *
 * Captured once, at start-up, before the program can change its
 * environment, and copied: a program may overwrite its start-up strings in
 * place (a process title).  LD_PRELOAD is the whole start-up value, so what
 * was preloaded before the library (a sanitizer runtime, which must come
 * first) comes back with it.  Off by default: a program that clears its
 * environment may mean it. */
#define PRELOAD_VAR "LD_PRELOAD="
#define PRELOAD_LEN (sizeof PRELOAD_VAR - 1)
#define LIB_NAME "libwritebehind.so"

static struct {
    char **settings;        /* "WRITEBEHIND_X=..." as we started, NULL-terminated */
    const char *preload;    /* "LD_PRELOAD=..." as we started */
    const char *entry;      /* the entry of it that names this library */
    size_t entry_len;
    const char *self;       /* this library's file name (dladdr), or LIB_NAME */
} kept;

/* An LD_PRELOAD entry names this library: its file's name, or any
   libwritebehind.so[.N] (one copy per process, as the wrapper keeps it). */
static bool names_us(const char *p, size_t len)
{
    const char *base = p + len;
    while (base > p && base[-1] != '/')
        base--;
    size_t blen = (size_t)(p + len - base), n = strlen(LIB_NAME);
    if (blen >= n && !strncmp(base, LIB_NAME, n) && (blen == n || base[n] == '.'))
        return true;
    if (!kept.self)   /* not captured (no --keep-in-children): the usual name only */
        return false;
    const char *self = strrchr(kept.self, '/');
    self = self ? self + 1 : kept.self;
    return blen == strlen(self) && !strncmp(base, self, blen);
}

/* The entry of an LD_PRELOAD value that names us, or NULL.  The loader
   splits the value at colons and spaces. */
static const char *preload_entry(const char *value, size_t *len)
{
    for (const char *p = value; *p;) {
        *len = strcspn(p, ": ");
        if (*len && names_us(p, *len))
            return p;
        p += *len;
        p += strspn(p, ": ");
    }
    return NULL;
}

static bool is_kept_name(const char *entry)
{
    return !strncmp(entry, "WRITEBEHIND_", 12) || !strncmp(entry, PRELOAD_VAR, PRELOAD_LEN);
}

static void capture_for_children(void)
{
    size_t n = 0, bytes = 0;
    for (char **e = environ; e && *e; e++)
        if (is_kept_name(*e)) {
            n++;
            bytes += strlen(*e) + 1;
        }
    char **list = malloc((n + 1) * sizeof *list + bytes);
    if (!list) {
        wb_say("WRITEBEHIND_KEEP (--keep-in-children): could not store the settings (out of "
               "memory); new programs get the environment they are given");
        wb_cfg.keep = false;
        return;
    }
    char *text = (char *)(list + n + 1);
    size_t i = 0;
    for (char **e = environ; e && *e; e++) {
        if (!is_kept_name(*e))
            continue;
        size_t len = strlen(*e) + 1;
        memcpy(text, *e, len);
        if (text[0] == 'L')
            kept.preload = text;   /* the last one counts, as for the loader */
        else
            list[i++] = text;
        text += len;
    }
    list[i] = NULL;
    kept.settings = list;
    Dl_info info;
    kept.self = dladdr(&kept, &info) && info.dli_fname ? info.dli_fname : LIB_NAME;
    if (kept.preload)
        kept.entry = preload_entry(kept.preload + PRELOAD_LEN, &kept.entry_len);
    /* Not preloaded by LD_PRELOAD (/etc/ld.so.preload): new programs get
       it as we did; nothing here tells that the library has gone. */
    if (!kept.entry)
        wb_cfg.keep = false;
}

static bool has_variable(char *const *env, const char *entry)
{
    size_t len = strcspn(entry, "=") + 1;
    for (; *env; env++)
        if (!strncmp(*env, entry, len))
            return true;
    return false;
}

/* The origin of stderr, passed on (say.c): this process's own entry wins
   over the kept one it started with (they say the same). */
static bool names_origin(const char *entry)
{
    return !strncmp(entry, WB_STDERR_VAR "=", sizeof WB_STDERR_VAR);
}

void wb_child_env_make(struct wb_child_env *e, char *const *envp, bool may_allocate)
{
    static char *const empty[] = { NULL };
    e->envp = envp;
    e->heap = NULL;
    bool voice = wb_stderr_for_children(e->voice, sizeof e->voice);
    if (!wb_cfg.keep && !voice)
        return;
    char *const *env = envp ? envp : empty;   /* the kernel reads NULL as empty */
    size_t n = 0, last = 0, len;
    bool preloads = false;
    for (; env[n]; n++)
        if (!strncmp(env[n], PRELOAD_VAR, PRELOAD_LEN)) {
            last = n;
            preloads = true;
        }
    bool holds = preloads && preload_entry(env[last] + PRELOAD_LEN, &len);
    bool add_library = wb_cfg.keep && !holds;
    /* A program that runs without the library needs to be told nothing. */
    voice = voice && (holds || add_library) && !has_variable(env, e->voice);
    if (!add_library && !voice)
        return;

    size_t missing = voice;
    if (add_library)
        for (char **s = kept.settings; *s; s++)
            missing += !has_variable(env, *s) && !(voice && names_origin(*s));
    size_t slots = n + missing + (add_library && !preloads) + 1;
    size_t old = add_library && preloads ? strlen(env[last]) : 0;
    size_t size = slots * sizeof(char *) + (old ? old + 1 + kept.entry_len + 1 : 0);
    int saved = errno;
    char **out = (char **)e->room;
    if (size > sizeof e->room) {
        out = may_allocate ? malloc(size) : NULL;
        errno = saved;
        if (!out)
            return;   /* it runs as it asked, without the library or its origin */
        e->heap = out;
    }
    size_t j = 0;
    for (; j < n; j++)
        out[j] = env[j];
    if (add_library) {
        if (preloads) {
            /* Ours appended to the LD_PRELOAD it has, in its place. */
            char *text = (char *)(out + slots);
            memcpy(text, env[last], old);
            if (old > PRELOAD_LEN)
                text[old++] = ':';
            memcpy(text + old, kept.entry, kept.entry_len);
            text[old + kept.entry_len] = 0;
            out[last] = text;
        } else {
            out[j++] = (char *)kept.preload;
        }
        for (char **s = kept.settings; *s; s++)
            if (!has_variable(env, *s) && !(voice && names_origin(*s)))
                out[j++] = *s;
    }
    if (voice)
        out[j++] = e->voice;
    out[j] = NULL;
    e->envp = out;
}

void wb_stderr_export(void)
{
    char entry[64];
    if (wb_stderr_for_children(entry, sizeof entry) && !getenv(WB_STDERR_VAR)) {
        int saved = errno;
        char *kept_entry = strdup(entry);   /* putenv keeps the string */
        if (kept_entry)
            putenv(kept_entry);   /* else the child judges by its own fd 2 */
        errno = saved;
    }
}

void wb_child_env_done(struct wb_child_env *e)
{
    if (e->heap) {
        int saved = errno;
        free(e->heap);
        e->heap = NULL;
        errno = saved;
    }
}

bool wb_config_load(void)
{
    bool disabled = false;
    bool ok = true;

    for (char **e = environ; e && *e; e++) {
        if (!strncmp(*e, "WRITEBEHIND_", 12) && !setting_of(*e)) {
            wb_say("unknown variable %.*s (known: DISABLE, PATHS, FDS, PIPES, BUFSIZE, "
                   "MAX_MEMORY, FLUSH_MS, STATS, STATS_FORMAT, DEBUG, ONLY, SKIP, KEEP, LIB); "
                   "writing unbuffered",
                   (int)strcspn(*e, "="), *e);
            ok = false;
        }
    }
    ok = load_flag("WRITEBEHIND_DISABLE", &disabled) && ok;
    ok = load_flag("WRITEBEHIND_PIPES", &wb_cfg.pipes) && ok;
    ok = load_flag("WRITEBEHIND_DEBUG", &wb_cfg.debug) && ok;
    wb_say_debug = wb_cfg.debug;
    /* Before any other answer: a program the library skips (--skip) or
       that has a bad setting still hands the library on. */
    ok = load_flag("WRITEBEHIND_KEEP", &wb_cfg.keep) && ok;
    if (wb_cfg.keep)
        capture_for_children();
    ok = load_size("WRITEBEHIND_BUFSIZE", &wb_cfg.bufsize, WB_LIMIT_BUFSIZE,
                   "is out of range (" WB_LIMIT_BUFSIZE_TEXT ")") && ok;
    ok = load_size("WRITEBEHIND_MAX_MEMORY", &wb_cfg.max_memory, WB_LIMIT_MEMORY,
                   "is out of range (" WB_LIMIT_MEMORY_TEXT ")") && ok;

    const char *ms = getenv("WRITEBEHIND_FLUSH_MS");
    unsigned long long n;
    if (ms) {
        if (!wb_parse_uint(ms, &n))
            ok = bad("WRITEBEHIND_FLUSH_MS", ms, "is not a number of milliseconds (try 100)");
        else if (n < 1 || n > WB_LIMIT_FLUSH_MS)
            ok = bad("WRITEBEHIND_FLUSH_MS", ms, "is out of range (" WB_LIMIT_FLUSH_MS_TEXT ")");
        else
            wb_cfg.flush_ms = (unsigned)n;
    }
    ok = load_paths() && ok;
    ok = load_fds() && ok;
    ok = load_stats() && ok;

    const char *format = getenv("WRITEBEHIND_STATS_FORMAT");
    if (format && strcmp(format, "text") && strcmp(format, "json"))
        ok = bad("WRITEBEHIND_STATS_FORMAT", format, "is neither text nor json");

    const char *only = NULL, *skip = NULL;
    ok = load_names("WRITEBEHIND_ONLY", &only) && ok;
    ok = load_names("WRITEBEHIND_SKIP", &skip) && ok;
    if (ok && ((only && !program_listed(only)) || (skip && program_listed(skip)))) {
        /* Not chosen: pure pass-through, silent, and no report (its
           children read the same variables and decide for themselves). */
        wb_cfg.stats = NULL;
        wb_cfg.debug = wb_say_debug = false;
        return false;
    }
    if (!ok)
        wb_cfg.stats = NULL;   /* nothing is buffered: nothing to report */
    return ok && !disabled;
}
