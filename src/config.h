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
};
extern struct wb_config wb_cfg WB_HIDDEN;

/* Returns false (after printing why) when the configuration is unusable. */
bool wb_config_load(void) WB_HIDDEN;

#endif
