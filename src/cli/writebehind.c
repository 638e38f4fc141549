/*
 * writebehind — run a command with write-behind buffering.
 *
 *   writebehind [OPTIONS] [--] COMMAND [ARG...]
 *
 * In the spirit of stdbuf(1): turn the options into WRITEBEHIND_* variables,
 * find the library next to this program (build tree) or in ../lib/writebehind
 * (installed), append it to LD_PRELOAD keeping what is there, and exec the
 * command.  Exit status as env(1): 125 for our own errors, 126 when the
 * command cannot be run, 127 when it is not found; otherwise the command's.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../parse.c"

#define EXIT_OWN_ERROR 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

static const char usage_text[] =
    "Usage: writebehind [OPTION]... [--] COMMAND [ARG]...\n"
    "Run COMMAND with its small writes to files coalesced and written in the\n"
    "background; what the command and other processes can observe is unchanged.\n"
    "\n"
    "  -b, --bufsize=SIZE      bytes per buffer (default 64K; e.g. 16K, 1M)\n"
    "  -t, --flush-ms=MS       no byte waits longer than MS milliseconds (default 100)\n"
    "  -m, --max-memory=SIZE   cap on all buffers together (default 64M)\n"
    "  -p, --path=GLOB         buffer only files matching GLOB (repeatable)\n"
    "  -f, --fd=FD             buffer inherited descriptor FD (repeatable)\n"
    "      --pipes             buffer pipes and FIFOs too\n"
    "      --stats[=FILE]      print a summary at exit (on stderr, or appended to FILE)\n"
    "  -d, --debug             say which descriptors are buffered and why\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "SIZE is a number of bytes with an optional K, M or G suffix.\n"
    "The same settings can be made with WRITEBEHIND_* variables; see writebehind(1).\n"
    "Exit status: 125 if writebehind itself fails, 126 if COMMAND cannot be run,\n"
    "127 if COMMAND is not found, otherwise the status of COMMAND.\n";

static void die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "writebehind: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'writebehind --help' for more information.\n");
    exit(EXIT_OWN_ERROR);
}

/* Appends item to a separator-joined list held in *list. */
static void append(char **list, const char *item, char sep)
{
    size_t old = *list ? strlen(*list) : 0;
    char *grown = realloc(*list, old + strlen(item) + 2);
    if (!grown) {
        fprintf(stderr, "writebehind: out of memory\n");
        exit(EXIT_OWN_ERROR);
    }
    if (old)
        grown[old++] = sep;
    strcpy(grown + old, item);
    *list = grown;
}

static void set_env(const char *name, const char *value)
{
    if (setenv(name, value, 1) != 0) {
        fprintf(stderr, "writebehind: cannot set %s: %s\n", name, strerror(errno));
        exit(EXIT_OWN_ERROR);
    }
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* The library next to us (build/) or in ../lib/writebehind (installed). */
static char *find_library(void)
{
    static char path[PATH_MAX + 64];
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = 0;
    snprintf(path, sizeof path, "%s/libwritebehind.so", self);
    if (readable(path))
        return path;
    snprintf(path, sizeof path, "%s/../lib/writebehind/libwritebehind.so", self);
    if (readable(path)) {
        char *canonical = realpath(path, NULL);
        return canonical ? canonical : path;
    }
    return NULL;
}

static bool already_preloaded(const char *preload, const char *lib)
{
    if (!preload)
        return false;
    size_t len = strlen(lib);
    for (const char *p = preload; (p = strstr(p, lib)); p += len)
        if ((p == preload || p[-1] == ':' || p[-1] == ' ') &&
            (p[len] == 0 || p[len] == ':' || p[len] == ' '))
            return true;
    return false;
}

/* Where execvp would find the command, for the static/setuid check. */
static char *resolve_command(const char *cmd)
{
    static char path[PATH_MAX];
    if (strchr(cmd, '/'))
        return (char *)cmd;
    const char *dirs = getenv("PATH");
    if (!dirs)
        dirs = "/usr/local/bin:/usr/bin:/bin";
    while (*dirs) {
        size_t len = strcspn(dirs, ":");
        snprintf(path, sizeof path, "%.*s/%s", (int)len, len ? dirs : ".", cmd);
        if (access(path, X_OK) == 0)
            return path;
        dirs += len + (dirs[len] == ':');
    }
    return NULL;
}

/* An ELF executable without PT_INTERP is static: LD_PRELOAD cannot reach it. */
static bool is_static_elf(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Elf64_Ehdr eh;
    bool is_static = false;
    if (read(fd, &eh, sizeof eh) == sizeof eh && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
        is_static = true;
        for (int i = 0; i < eh.e_phnum; i++) {
            Elf64_Phdr ph;
            if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize)) !=
                sizeof ph)
                break;
            if (ph.p_type == PT_INTERP)
                is_static = false;
        }
    }
    close(fd);
    return is_static;
}

static void warn_if_unreachable(const char *cmd)
{
    const char *path = resolve_command(cmd);
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return;
    if (is_static_elf(path))
        fprintf(stderr, "writebehind: %s is statically linked, so the library cannot be "
                        "preloaded into it; it runs unbuffered (use a dynamically linked "
                        "build to get write-behind)\n", cmd);
    else if ((st.st_mode & (S_ISUID | S_ISGID)) && getuid() != 0)
        fprintf(stderr, "writebehind: %s is setuid/setgid, so the loader ignores "
                        "LD_PRELOAD for it; it runs unbuffered\n", cmd);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        { "bufsize", required_argument, NULL, 'b' },
        { "flush-ms", required_argument, NULL, 't' },
        { "max-memory", required_argument, NULL, 'm' },
        { "path", required_argument, NULL, 'p' },
        { "fd", required_argument, NULL, 'f' },
        { "pipes", no_argument, NULL, 'P' },
        { "stats", optional_argument, NULL, 'S' },
        { "debug", no_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    char *paths = NULL, *fds = NULL;
    unsigned long long n;
    int opt;

    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+b:t:m:p:f:dhV", options, NULL)) != -1) {
        switch (opt) {
        case 'b':
            if (!wb_parse_size(optarg, &n) || n < 1 || n > (1ULL << 30))
                die_usage("invalid buffer size '%s' (try 64K or 1M; 1 to 1G)", optarg);
            set_env("WRITEBEHIND_BUFSIZE", optarg);
            break;
        case 'm':
            if (!wb_parse_size(optarg, &n) || n < 1 || n > (1ULL << 40))
                die_usage("invalid memory cap '%s' (try 64M; 1 to 1T)", optarg);
            set_env("WRITEBEHIND_MAX_MEMORY", optarg);
            break;
        case 't':
            if (!wb_parse_uint(optarg, &n) || n < 1 || n > 3600000)
                die_usage("invalid flush interval '%s' (milliseconds, 1 to 3600000)", optarg);
            set_env("WRITEBEHIND_FLUSH_MS", optarg);
            break;
        case 'p':
            if (!*optarg || strchr(optarg, ':'))
                die_usage("invalid path glob '%s' (one glob per -p, without ':')", optarg);
            append(&paths, optarg, ':');
            break;
        case 'f':
            if (!wb_parse_uint(optarg, &n) || n >= (1 << 20))
                die_usage("invalid file descriptor '%s' (a number such as 1)", optarg);
            append(&fds, optarg, ',');
            break;
        case 'P':
            set_env("WRITEBEHIND_PIPES", "1");
            break;
        case 'S':
            set_env("WRITEBEHIND_STATS", optarg && *optarg ? optarg : "1");
            break;
        case 'd':
            set_env("WRITEBEHIND_DEBUG", "1");
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'V':
            printf("writebehind %s\n", WB_VERSION);
            return 0;
        default: {
            char bad[64];
            if (optopt)
                snprintf(bad, sizeof bad, "-%c", optopt);
            else
                snprintf(bad, sizeof bad, "%s", argv[optind - 1]);
            die_usage(optopt && strchr("btmpf", optopt) ? "option '%s' needs a value"
                                                        : "unknown option '%s'", bad);
        }
        }
    }
    if (optind >= argc)
        die_usage("%s", "no command given");
    if (paths)
        set_env("WRITEBEHIND_PATHS", paths);
    if (fds)
        set_env("WRITEBEHIND_FDS", fds);

    const char *lib = find_library();
    if (!lib) {
        fprintf(stderr, "writebehind: cannot find libwritebehind.so next to this program or "
                        "in ../lib/writebehind (reinstall, or run build/writebehind from the "
                        "source tree)\n");
        return EXIT_OWN_ERROR;
    }
    const char *preload = getenv("LD_PRELOAD");
    if (!already_preloaded(preload, lib)) {
        char *value = NULL;
        if (preload && *preload)
            append(&value, preload, ':');
        append(&value, lib, ':');
        set_env("LD_PRELOAD", value);
    }

    warn_if_unreachable(argv[optind]);
    execvp(argv[optind], argv + optind);
    int err = errno;
    fprintf(stderr, "writebehind: failed to run command '%s': %s\n", argv[optind], strerror(err));
    return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
