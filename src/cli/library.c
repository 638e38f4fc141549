/*
 * library.c — which libwritebehind.so to preload, and LD_PRELOAD.
 *
 * Looked for in this order: --lib=PATH, WRITEBEHIND_LIB, next to this
 * program (a build tree), ../lib/writebehind and ../lib/MULTIARCH/writebehind
 * relative to it (an installed or packaged copy), and the directory it was
 * built for (WB_PKGLIBDIR, so a copied wrapper still finds an installed
 * library).  The path given to LD_PRELOAD is absolute: every process of the
 * command resolves it from its own working directory.
 *
 * One copy per process: when LD_PRELOAD already holds a libwritebehind.so
 * (an outer wrapper, an exported LD_PRELOAD, a build tree inside an
 * installed one), that copy is kept and ours is not added.  Two copies
 * would both interpose and both report.
 */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WB_PKGLIBDIR
#define WB_PKGLIBDIR "/usr/local/lib/writebehind"
#endif
#ifndef WB_MULTIARCH
#define WB_MULTIARCH ""
#endif

#define LIB_NAME "libwritebehind.so"

static bool is_library_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

static char *absolute(const char *path)
{
    char *real = realpath(path, NULL);
    return real ? real : cli_strdup(path);
}

/* A library named by the user must be there: saying so beats running the
   command unbuffered without a word. */
static char *named_library(const char *path, const char *where)
{
    if (!is_library_file(path)) {
        cli_warn("%s: cannot use '%s' as the library: %s", where, path,
                 access(path, F_OK) ? strerror(errno) : "not a readable file");
        return NULL;
    }
    return absolute(path);
}

char *find_library(const char *from_option)
{
    if (from_option)
        return named_library(from_option, "--lib");
    const char *env = getenv("WRITEBEHIND_LIB");
    if (env && *env)
        return named_library(env, "WRITEBEHIND_LIB");

    char self[PATH_MAX], path[PATH_MAX + 128];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            const char *candidates[] = { "", "/../lib/writebehind",
                                         *WB_MULTIARCH ? "/../lib/" WB_MULTIARCH "/writebehind"
                                                       : NULL,
                                         "/../lib64/writebehind" };
            for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
                if (!candidates[i])
                    continue;
                snprintf(path, sizeof path, "%s%s/" LIB_NAME, self, candidates[i]);
                if (is_library_file(path))
                    return absolute(path);
            }
        }
    }
    if (is_library_file(WB_PKGLIBDIR "/" LIB_NAME))
        return absolute(WB_PKGLIBDIR "/" LIB_NAME);
    cli_warn("cannot find " LIB_NAME " next to this program, in ../lib/writebehind or in "
             WB_PKGLIBDIR "; say where it is with --lib=PATH or WRITEBEHIND_LIB=PATH");
    return NULL;
}

/* The entries of LD_PRELOAD are separated by colons or spaces. */
char *preloaded_copy(const char *preload)
{
    if (!preload)
        return NULL;
    for (const char *p = preload; *p;) {
        size_t len = strcspn(p, ": ");
        if (len) {
            const char *base = p + len;
            while (base > p && base[-1] != '/')
                base--;
            size_t blen = (size_t)(p + len - base);
            if (blen >= strlen(LIB_NAME) && !strncmp(base, LIB_NAME, strlen(LIB_NAME)) &&
                (blen == strlen(LIB_NAME) || base[strlen(LIB_NAME)] == '.')) {
                char *copy = cli_alloc(len + 1);
                memcpy(copy, p, len);
                return copy;
            }
        }
        p += len;
        p += strspn(p, ": ");
    }
    return NULL;
}

void preload_library(const char *lib, bool debug)
{
    const char *preload = getenv("LD_PRELOAD");
    char *copy = preloaded_copy(preload);
    if (copy) {
        if (debug && strcmp(copy, lib))
            cli_warn("LD_PRELOAD already holds %s; using it rather than %s", copy, lib);
        free(copy);
        return;
    }
    size_t old = preload ? strlen(preload) : 0, size = old + strlen(lib) + 2;
    char *value = cli_alloc(size);
    snprintf(value, size, "%s%s%s", old ? preload : "", old ? ":" : "", lib);
    if (setenv("LD_PRELOAD", value, 1) != 0)
        cli_die("cannot set LD_PRELOAD: %s", strerror(errno));
    free(value);
}
