/*
 * config.h — layer 3: the WRITEBEHIND_* settings, read once at start-up.
 */
#ifndef WB_CONFIG_H
#define WB_CONFIG_H

#include "sys.h"

#include <stdbool.h>
#include <stddef.h>

#define WB_FD_LIMIT (1 << 20)   /* fds at or above this are never tagged */

struct wb_config {
    size_t bufsize;         /* bytes per buffer; writes >= this go straight through */
    size_t max_memory;      /* cap on all buffers of all files together */
    unsigned flush_ms;      /* no byte waits longer than this in a buffer */
    bool pipes;             /* tag pipes and FIFOs too */
    bool select_any;        /* PATHS or FDS given: tag only what they select */
    char **paths;           /* NULL-terminated fnmatch globs from WRITEBEHIND_PATHS */
    int *fds;               /* WRITEBEHIND_FDS, terminated by -1 */
    const char *stats;      /* NULL, "" (stderr) or a path to append to */
    bool stats_records;     /* stats is the wrapper's record file (stats.c) */
    bool debug;             /* WRITEBEHIND_DEBUG: say why each fd is (not) tagged */
    bool keep;              /* WRITEBEHIND_KEEP: a new program gets the library back */
};
extern struct wb_config wb_cfg WB_HIDDEN;

/* Returns false (after printing why) when the configuration is unusable. */
bool wb_config_load(void) WB_HIDDEN;

/* WRITEBEHIND_KEEP: the environment a new program (exec, spawn) is given.
   When envp no longer holds the library, the new program gets LD_PRELOAD
   and every WRITEBEHIND_* setting this process started with (captured by
   wb_config_load, so a program that changes its own environment changes
   nothing here); an envp that still holds them is passed as it is.  The
   program's arrays are never touched: a new one is built in room (the
   caller's stack, safe in a vfork child, whose memory is the parent's) or,
   when it does not fit and may_allocate, on the heap; when neither, the
   program's own envp goes (the new program then runs without the library,
   as it asked).  errno is kept. */
#define WB_CHILD_ENV_ROOM 4096
struct wb_child_env {
    char *const *envp;      /* what to pass */
    void *heap;             /* freed by wb_child_env_done */
    _Alignas(void *) char room[WB_CHILD_ENV_ROOM];
    char voice[64];         /* WRITEBEHIND_STDERR=..., when the child needs it */
};
void wb_child_env_make(struct wb_child_env *e, char *const *envp, bool may_allocate) WB_HIDDEN;
/* After the exec failed, or the spawn returned: frees what make allocated. */
void wb_child_env_done(struct wb_child_env *e) WB_HIDDEN;
/* Before glibc starts a program with environ itself (system, popen): when
   fd 2 is no longer the origin, environ gets the entry that says it. */
void wb_stderr_export(void) WB_HIDDEN;

#endif
