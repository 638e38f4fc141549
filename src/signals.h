/*
 * signals.h — layer 11: fatal-signal handlers that land the bytes, and the
 * dispositions the program sees (exactly what it set).
 */
#ifndef WB_SIGNALS_H
#define WB_SIGNALS_H

#include "sys.h"

#include <signal.h>
#include <stdbool.h>

/* Once, before the first byte is buffered: our handler wherever the program
   left a default action.  wait false: false when the lock is busy (a
   handler interrupted the program's sigaction), try again later. */
bool wb_signals_install(bool wait) WB_HIDDEN;
/* sigaction as the program sees it (the library started). */
int wb_sigaction_managed(int sig, const struct sigaction *act, struct sigaction *old) WB_HIDDEN;
/* Sanitizer runtimes call sigaction while they initialise, before an
   instrumented function may run (ThreadSanitizer crashes in its function-
   entry hook): until writebehind has started, sigaction passes through
   without instrumentation and without touching the rest of the library;
   starting adopts whatever is installed by then (wb_signals_install). */
WB_NOT_INSTRUMENTED int wb_sigaction_passthrough(int sig, const struct sigaction *act,
                                                 struct sigaction *old) WB_HIDDEN;
/* siginterrupt(sig, 1) was called: BSD signal() then does not restart. */
bool wb_signal_interrupting(int sig) WB_HIDDEN;
void wb_signal_set_interrupting(int sig, bool interrupt) WB_HIDDEN;
void wb_signals_after_fork_child(void) WB_HIDDEN;
/* Called by a fatal signal's handler after the landing, when set (by
   lifecycle: the statistics records the wrapper's summary needs).  Must be
   safe in a signal handler. */
extern void (*_Atomic wb_signals_dying_hook)(void) WB_HIDDEN;

#endif
