/*
 * say.h — layer 2: the library's voice.  Every message is one line on
 * stderr starting "writebehind: " and never changes errno.
 */
#ifndef WB_SAY_H
#define WB_SAY_H

#include "sys.h"

#include <stdbool.h>

void wb_say(const char *fmt, ...) WB_HIDDEN __attribute__((format(printf, 1, 2)));
/* Only with WRITEBEHIND_DEBUG (config.c sets wb_say_debug). */
void wb_debug(const char *fmt, ...) WB_HIDDEN __attribute__((format(printf, 1, 2)));
extern bool wb_say_debug WB_HIDDEN;

/* Called before each message, when set: stderr may itself be a buffered
   file, and what the program wrote to it goes first.  Set by the tagging
   layer when it tags a file (before that nothing can be pending); left NULL
   by anything that speaks while it owns a flight (it writes directly). */
extern void (*_Atomic wb_say_before)(void) WB_HIDDEN;

/* The same without landing stderr first: for callers that may hold a file
   lock or own a flight (of stderr's own file, possibly). */
void wb_say_unlanded(const char *fmt, ...) WB_HIDDEN __attribute__((format(printf, 1, 2)));

/* fd 2's identity, taken once at start-up: the library speaks only while
   fd 2 is still that stderr, never into a file that took its number. */
void wb_stderr_seen(dev_t dev, ino_t ino) WB_HIDDEN;   /* fd 2 fstat'ed during start-up */
void wb_stderr_settle(bool will_speak) WB_HIDDEN;      /* start-up is over */
bool wb_stderr_is_original(void) WB_HIDDEN;
/* A program this process starts inherits fd 2: when fd 2 is no longer the
   origin (or there was none), the entry that tells the program the origin,
   "WRITEBEHIND_STDERR=...", is written to entry and true returned. */
#define WB_STDERR_VAR "WRITEBEHIND_STDERR"
bool wb_stderr_for_children(char *entry, size_t size) WB_HIDDEN;
/* A whole line, as is (the statistics), under the same rule. */
void wb_say_line(const char *line, size_t len) WB_HIDDEN;

/* A background write failed: tell the user once.  Written directly (the
   caller may own the flight of stderr's own file). */
void wb_say_write_error(const char *path, int fd, int err, size_t lost) WB_HIDDEN;

#endif
