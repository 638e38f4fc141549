/*
 * stats.h — layer 11: the statistics report (the counters are in state.h).
 */
#ifndef WB_STATS_H
#define WB_STATS_H

#include "sys.h"

void wb_stats_report(void) WB_HIDDEN;

#endif
