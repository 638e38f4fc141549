/*
 * observe.h — layer 8: "someone could look now": land the bytes first.
 *
 * Every wrapper for a call that can observe a file (read, seek, stat,
 * mmap, sync, locks...) calls one of these before the real call.  All of
 * them return at once when nothing is buffered anywhere (one atomic load),
 * so programs that are not writing pay nothing.
 */
#ifndef WB_OBSERVE_H
#define WB_OBSERVE_H

#include "land.h"

/* fd is about to be observed: land its bytes and those of any other tagged
   description of the same file. */
void wb_observe_fd(int fd) WB_HIDDEN;
/* A path is about to be opened/stat'ed/truncated: land a tagged file there. */
void wb_observe_path(int dirfd, const char *path, int at_flags) WB_HIDDEN;
/* The *at() form: NULL, or "" with AT_EMPTY_PATH, is dirfd itself. */
void wb_observe_at(int dirfd, const char *path, int at_flags) WB_HIDDEN;
/* Another process may be told something: land everything. */
static inline void wb_observe_all(void) { wb_land_all_if_pending(); }

#endif
