/*
 * state.c — layer 3: the library's phase and its counters.
 */
#include "state.h"

_Atomic int wb_state;
struct wb_stats wb_stats;

void wb_state_give_up(void)
{
    int expected = WB_ACTIVE;
    atomic_compare_exchange_strong(&wb_state, &expected, WB_PASSTHROUGH);
}
