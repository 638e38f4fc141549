/*
 * records.h — layer 3: the statistics of this process, one record per file.
 *
 * A file is its device and inode, so a file opened 20,000 times (a shell
 * loop of `echo >>log`) is one record, not 20,000.  Counters are moved here
 * from a wb_file when it retires and at the report (stats.c reads them
 * out); nothing is recorded unless statistics were asked for.  The table
 * has its own spinlock, so that a fork child can reset it and a fatal
 * signal's handler can try it; a file lock may be held when taking it,
 * never the other way round.
 */
#ifndef WB_RECORDS_H
#define WB_RECORDS_H

#include "sys.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct wb_record {
    dev_t dev;
    ino_t ino;
    const char *path;        /* NULL: unknown; "(other files)" past the table's size */
    uint64_t writes;         /* calls, buffered and direct */
    uint64_t direct;
    uint64_t bytes;
    uint64_t kernel_writes;
    uint64_t lost;           /* bytes that could not be written */
    uint64_t max_wait_ms;    /* longest a byte waited in a buffer */
};

/* Adds r's counts to the record of (r->dev, r->ino); copies the path the
   first time.  May allocate. */
void wb_records_add(const struct wb_record *r) WB_HIDDEN;

/* Calls fn for every record, then empties the table.  With try_only, a
   table locked by someone else (a signal handler interrupting an add) is
   left alone and false returned; nothing is freed then either. */
typedef void (*wb_record_fn)(const struct wb_record *r, void *arg);
bool wb_records_take(wb_record_fn fn, void *arg, bool try_only) WB_HIDDEN;
bool wb_records_empty(void) WB_HIDDEN;

/* In a fork child: the parent's records are not ours (the table a thread
   may have been rebuilding at the fork is abandoned, not freed). */
void wb_records_after_fork_child(void) WB_HIDDEN;

#endif
