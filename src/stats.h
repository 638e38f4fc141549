/*
 * stats.h — layer 11: the statistics report (the counters are in state.h
 * and the wb_file, the per-file records in records.h).
 */
#ifndef WB_STATS_H
#define WB_STATS_H

#include "sys.h"

void wb_stats_report(void) WB_HIDDEN;              /* at exit */
void wb_stats_before_exec(void) WB_HIDDEN;         /* this image's records, now */
void wb_stats_after_fork_child(void) WB_HIDDEN;    /* the parent's counts are not ours */
void wb_stats_report_nowait(void) WB_HIDDEN;       /* from a fatal signal's handler */

#endif
