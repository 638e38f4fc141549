/*
 * writebehind — run a command with write-behind buffering.
 *
 *   writebehind [OPTIONS] [--] COMMAND [ARG...]
 *
 * In the spirit of stdbuf(1): the options become WRITEBEHIND_* variables
 * (checked here with the library's own parser, so a value one accepts the
 * other accepts), the library is appended to LD_PRELOAD, and the command
 * is exec'd.  Two options need the wrapper to outlive the command:
 * --stats (one summary for the whole command tree, report.c) and --check
 * (the command traced without buffering, check.c); the command then runs
 * as a child whose exit status the wrapper passes on exactly (run.c).
 * Exit status as env(1): 125 for our own errors, 126 when the command
 * cannot be run, 127 when it is not found; otherwise the command's.
 */
#include "cli.h"
#include "../parse.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage_text[] =
    "Usage: writebehind [OPTION]... [--] COMMAND [ARG]...\n"
    "Run COMMAND with its small writes to files coalesced and written in the\n"
    "background; what the command and other processes can observe is unchanged.\n"
    "\n"
    "  -b, --bufsize=SIZE      bytes per buffer (default 64K, 1 to 1G); a write at\n"
    "                          least this large goes straight through\n"
    "  -t, --flush-ms=MS       no byte waits longer than MS milliseconds in a buffer\n"
    "                          (default 100, 1 to 3600000)\n"
    "  -m, --max-memory=SIZE   cap on all buffers together (default 64M, 1 to 1T)\n"
    "  -p, --path=GLOB         buffer only the files whose path matches GLOB, plus\n"
    "                          what other --path and --fd options select (repeatable)\n"
    "  -f, --fd=FD             buffer the inherited descriptor FD and, once any --fd\n"
    "                          or --path is given, nothing they do not select: -f 1\n"
    "                          alone buffers standard output only (repeatable)\n"
    "      --pipes[=BOOL]      buffer pipes and FIFOs too\n"
    "      --only=PROG,...     buffer only in the programs with these names\n"
    "      --skip=PROG,...     never buffer in the programs with these names (their\n"
    "                          children still decide for themselves)\n"
    "      --keep-in-children[=BOOL]\n"
    "                          a program started with an environment that lost the\n"
    "                          library (env -i) gets it and the WRITEBEHIND_*\n"
    "                          settings back\n"
    "      --disable[=BOOL]    preload the library but pass every call straight through\n"
    "      --stats[=FILE]      at the end, one summary for the whole command: on\n"
    "                          stderr, or appended to FILE (note the '=')\n"
    "      --stats-format=FMT  the summary as text (the default) or json\n"
    "      --check             run COMMAND unbuffered, traced, and say whether\n"
    "                          writebehind would help it and what it cannot reach\n"
    "      --lib=PATH          the libwritebehind.so to preload\n"
    "  -d, --debug[=BOOL]      say which descriptors are buffered and why others are not\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "SIZE is a number of bytes with an optional K, M, G or T suffix (powers of 1024).\n"
    "BOOL is 1/0, yes/no, true/false or on/off; without it, yes.\n"
    "Every option has a WRITEBEHIND_* variable; see writebehind(1).\n"
    "Exit status: 125 if writebehind itself fails, 126 if COMMAND cannot be run,\n"
    "127 if COMMAND is not found, otherwise the status of COMMAND.\n";

static void vsay(const char *fmt, va_list ap)
{
    fflush(stdout);
    fputs("writebehind: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
}

_Noreturn void cli_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    exit(EXIT_OWN_ERROR);
}

static _Noreturn void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fputs("Try 'writebehind --help' for more information.\n", stderr);
    exit(EXIT_OWN_ERROR);
}

void *cli_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        cli_die("out of memory");
    return p;
}

char *cli_strdup(const char *s)
{
    char *copy = cli_alloc(strlen(s) + 1);
    strcpy(copy, s);
    return copy;
}

void *cli_grow(void *array, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return array;
    *cap = *cap ? 2 * *cap : 16;
    void *grown = realloc(array, *cap * size);
    if (!grown)
        cli_die("out of memory");
    return grown;
}

const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0)
        cli_die("cannot set %s: %s", name, strerror(errno));
}

/* Appends item to a separator-joined list held in *list. */
static void append(char **list, const char *item, char sep)
{
    size_t old = *list ? strlen(*list) : 0;
    char *grown = realloc(*list, old + strlen(item) + 2);
    if (!grown)
        cli_die("out of memory");
    if (old)
        grown[old++] = sep;
    strcpy(grown + old, item);
    *list = grown;
}

enum {
    OPT_PIPES = 256, OPT_ONLY, OPT_SKIP, OPT_DISABLE, OPT_STATS, OPT_STATS_FORMAT, OPT_CHECK,
    OPT_LIB, OPT_KEEP,
};

static const struct option options[] = {
    { "bufsize", required_argument, NULL, 'b' },
    { "flush-ms", required_argument, NULL, 't' },
    { "max-memory", required_argument, NULL, 'm' },
    { "path", required_argument, NULL, 'p' },
    { "fd", required_argument, NULL, 'f' },
    { "pipes", optional_argument, NULL, OPT_PIPES },
    { "only", required_argument, NULL, OPT_ONLY },
    { "skip", required_argument, NULL, OPT_SKIP },
    { "disable", optional_argument, NULL, OPT_DISABLE },
    { "keep-in-children", optional_argument, NULL, OPT_KEEP },
    { "stats", optional_argument, NULL, OPT_STATS },
    { "stats-format", required_argument, NULL, OPT_STATS_FORMAT },
    { "check", no_argument, NULL, OPT_CHECK },
    { "lib", required_argument, NULL, OPT_LIB },
    { "debug", optional_argument, NULL, 'd' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

/* The option as the user typed it: "--bufsize" or "-b". */
static const char *typed_name(int opt, int longindex)
{
    static char name[64];
    if (longindex >= 0)
        snprintf(name, sizeof name, "--%s", options[longindex].name);
    else
        snprintf(name, sizeof name, "-%c", opt);
    return name;
}

/* getopt's complaint, naming what was typed. */
static _Noreturn void bad_option(char **argv, int opt)
{
    const char *arg = argv[optind - 1];
    char name[128];
    if (!strncmp(arg, "--", 2))
        snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
    else
        snprintf(name, sizeof name, "-%c", optopt ? optopt : '?');
    if (opt == ':')
        die_usage("option '%s' needs a value", name);
    if (!strncmp(arg, "--", 2) && optopt)
        die_usage("option '%s' takes no value", name);
    if (!strncmp(arg, "--", 2)) {
        char matches[256] = "";
        int n = 0;
        for (const struct option *op = options; op->name; op++)
            if (!strncmp(op->name, name + 2, strlen(name + 2)) && ++n)
                snprintf(matches + strlen(matches), sizeof matches - strlen(matches), "%s--%s",
                         n > 1 ? ", " : "", op->name);
        if (n > 1)
            die_usage("ambiguous option '%s' (%s)", name, matches);
    }
    die_usage("unknown option '%s'", name);
}

static bool bool_value(const char *value, const char *name)
{
    if (!value)
        return true;
    int b = wb_parse_bool(value);
    if (b < 0)
        die_usage("invalid value '%s' for %s: not a yes/no value (" WB_BOOL_WORDS ")", value,
                  name);
    return b;
}

/* A path that means the same in every process: relative to our cwd. */
static char *absolute_path(const char *path)
{
    if (path[0] == '/')
        return cli_strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        cli_die("cannot find the current directory for '%s': %s", path, strerror(errno));
    size_t size = strlen(cwd) + strlen(path) + 2;
    char *abs = cli_alloc(size);
    snprintf(abs, size, "%s/%s", cwd, path);
    return abs;
}

static void stats_to_file(struct cli_options *o, const char *file, const char *name)
{
    if (!*file)
        die_usage("%s= needs a file name after the '='", name);
    char *abs = absolute_path(file);
    int fd = open(abs, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        cli_die("cannot write the statistics to %s: %s", abs, strerror(errno));
    close(fd);
    o->stats = true;
    o->stats_file = abs;
}

/* WRITEBEHIND_STATS and _STATS_FORMAT set outside: the wrapper owns the
   report, so they mean what the options mean. */
static void stats_from_environment(struct cli_options *o)
{
    const char *v = getenv("WRITEBEHIND_STATS");
    if (v) {
        int b = wb_parse_bool(v);
        if (b >= 0)
            o->stats = b;
        else
            stats_to_file(o, v, "WRITEBEHIND_STATS");
    }
    const char *f = getenv("WRITEBEHIND_STATS_FORMAT");
    if (f) {
        if (strcmp(f, "text") && strcmp(f, "json"))
            cli_die("WRITEBEHIND_STATS_FORMAT=\"%s\" (--stats-format) is neither text nor json",
                    f);
        o->json = !strcmp(f, "json");
    }
}

/* The settings --check needs to estimate, whichever way they were given
   (the options have set the variables by now; the library checks them). */
static void settings_for_check(struct cli_options *o)
{
    unsigned long long n;
    const char *v;
    o->bufsize = 64 << 10;
    o->flush_ms = 100;
    if ((v = getenv("WRITEBEHIND_BUFSIZE")) && wb_parse_size(v, &n) && n >= 1 &&
        n <= WB_LIMIT_BUFSIZE)
        o->bufsize = n;
    if ((v = getenv("WRITEBEHIND_FLUSH_MS")) && wb_parse_uint(v, &n) && n >= 1 &&
        n <= WB_LIMIT_FLUSH_MS)
        o->flush_ms = n;
    o->pipes = (v = getenv("WRITEBEHIND_PIPES")) && wb_parse_bool(v) == 1;
    o->paths = getenv("WRITEBEHIND_PATHS");
    o->fds = getenv("WRITEBEHIND_FDS");
    o->only = getenv("WRITEBEHIND_ONLY");
    o->skip = getenv("WRITEBEHIND_SKIP");
}

/* One case per option, in --help's order: long, but each case is two or
   three lines and reads as the option table. */
static void parse_options(int argc, char **argv, struct cli_options *o, const char **lib,
                          bool *debug)
{
    char *paths = NULL, *fds = NULL, *only = NULL, *skip = NULL;
    const char *stats_arg = NULL, *format = NULL;
    bool stats_given = false;
    unsigned long long n;
    int opt, longindex;

    opterr = 0;
    for (;;) {
        longindex = -1;
        opt = getopt_long(argc, argv, "+:b:t:m:p:f:dhV", options, &longindex);
        if (opt == -1)
            break;
        const char *name = typed_name(opt, longindex);
        switch (opt) {
        case 'b':
            if (!wb_parse_size(optarg, &n) || n < 1 || n > WB_LIMIT_BUFSIZE)
                die_usage("invalid value '%s' for %s: not a buffer size (try 64K or 1M; "
                          WB_LIMIT_BUFSIZE_TEXT ")", optarg, name);
            set_env("WRITEBEHIND_BUFSIZE", optarg);
            break;
        case 'm':
            if (!wb_parse_size(optarg, &n) || n < 1 || n > WB_LIMIT_MEMORY)
                die_usage("invalid value '%s' for %s: not a memory cap (try 64M; "
                          WB_LIMIT_MEMORY_TEXT ")", optarg, name);
            set_env("WRITEBEHIND_MAX_MEMORY", optarg);
            break;
        case 't':
            if (!wb_parse_uint(optarg, &n) || n < 1 || n > WB_LIMIT_FLUSH_MS)
                die_usage("invalid value '%s' for %s: not a number of milliseconds ("
                          WB_LIMIT_FLUSH_MS_TEXT ")", optarg, name);
            set_env("WRITEBEHIND_FLUSH_MS", optarg);
            break;
        case 'p':
            if (!*optarg || strchr(optarg, ':'))
                die_usage("invalid value '%s' for %s: one glob per option, without ':'",
                          optarg, name);
            append(&paths, optarg, ':');
            break;
        case 'f':
            if (!wb_parse_uint(optarg, &n) || n >= WB_LIMIT_FD)
                die_usage("invalid value '%s' for %s: not a file descriptor (a number such "
                          "as 1)", optarg, name);
            append(&fds, optarg, ',');
            break;
        case OPT_PIPES:
            set_env("WRITEBEHIND_PIPES", bool_value(optarg, name) ? "1" : "0");
            break;
        case OPT_ONLY:
        case OPT_SKIP:
            if (!wb_parse_names(optarg))
                die_usage("invalid value '%s' for %s: program names separated by commas, "
                          "without '/' (try cc1,ld)", optarg, name);
            append(opt == OPT_ONLY ? &only : &skip, optarg, ',');
            break;
        case OPT_DISABLE:
            set_env("WRITEBEHIND_DISABLE", bool_value(optarg, name) ? "1" : "0");
            break;
        case OPT_KEEP:
            set_env("WRITEBEHIND_KEEP", bool_value(optarg, name) ? "1" : "0");
            break;
        case 'd':
            *debug = bool_value(optarg, name);
            set_env("WRITEBEHIND_DEBUG", *debug ? "1" : "0");
            break;
        case OPT_STATS:
            stats_given = true;
            stats_arg = optarg;
            o->stats_bare = !optarg;
            break;
        case OPT_STATS_FORMAT:
            if (strcmp(optarg, "text") && strcmp(optarg, "json"))
                die_usage("invalid value '%s' for %s: text or json", optarg, name);
            format = optarg;
            break;
        case OPT_CHECK:
            o->check = true;
            break;
        case OPT_LIB:
            *lib = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        case 'V':
            printf("writebehind %s\n", WB_VERSION);
            exit(0);
        default:
            bad_option(argv, opt);
        }
    }
    if (optind >= argc)
        die_usage("no command given");
    o->command = argv + optind;
    if (paths)
        set_env("WRITEBEHIND_PATHS", paths);
    if (fds)
        set_env("WRITEBEHIND_FDS", fds);
    if (only)
        set_env("WRITEBEHIND_ONLY", only);
    if (skip)
        set_env("WRITEBEHIND_SKIP", skip);

    stats_from_environment(o);
    if (stats_given) {
        o->stats = true;
        o->stats_file = NULL;
        if (stats_arg)
            stats_to_file(o, stats_arg, "--stats");
    }
    if (format)
        o->json = !strcmp(format, "json");
    if (o->check && stats_given)
        die_usage("--check and --stats do not go together: --check runs the command "
                  "unbuffered and prints its own summary");
    settings_for_check(o);
}

static void warn_if_unreachable(const char *cmd)
{
    const char *path = resolve_command(cmd);
    const char *why;
    if (!path)
        return;
    enum reach r = binary_reach(path, &why);
    if (r == REACH_OK)
        return;
    if (r == REACH_GO || r == REACH_NO_LIBC)
        cli_warn("%s %s, so its writes are not buffered (writebehind --check %s shows "
                 "what it writes)", cmd, why, cmd);
    else
        cli_warn("%s %s; it runs unbuffered (use a dynamically linked build to get "
                 "write-behind)", cmd, why);
}

static void say_exec_failure(const struct cli_options *o, int err)
{
    cli_warn("failed to run command '%s': %s", o->command[0], strerror(err));
    if (o->stats_bare)
        cli_warn("(to append the summary to a file, write --stats=FILE: without the '=', "
                 "'%s' is taken as the command)", o->command[0]);
}

int main(int argc, char **argv)
{
    struct cli_options o = { 0 };
    const char *lib_option = NULL;
    bool debug = false;
    parse_options(argc, argv, &o, &lib_option, &debug);

    if (o.check)
        exit_like(check_command(&o));

    char *lib = find_library(lib_option);
    if (!lib)
        return EXIT_OWN_ERROR;
    preload_library(lib, debug);
    warn_if_unreachable(o.command[0]);

    if (!o.stats) {
        execvp(o.command[0], o.command);
        int err = errno;
        say_exec_failure(&o, err);
        return exec_failure_status(err);
    }

    /* The library in every process appends to records; we sum them. */
    char *records = report_begin();
    unsetenv("WRITEBEHIND_STATS");
    set_env("WRITEBEHIND_REPORT", records);
    int err = 0;
    int status = run_command(o.command, &err);
    if (status < 0) {
        unlink(records);
        say_exec_failure(&o, err);
        return exec_failure_status(err);
    }
    report_end(records, &o, status);
    exit_like(status);
}
