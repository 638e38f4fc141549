/*
 * tagging.h — layer 8: which fds get a wb_file, and keeping the fd table
 * true as fds are born, copied and die.
 *
 * One open file description ↔ one wb_file: dup'd fds (dup, dup2, F_DUPFD,
 * inherited `>f 2>&1`) share it.  Sharing is proven with kcmp(KCMP_FILE);
 * when kcmp is unavailable or says "a different description of the same
 * file", the newcomer stays untagged — pass-through is always correct, and
 * its reads and writes land the tagged description first (observe.c).
 */
#ifndef WB_TAGGING_H
#define WB_TAGGING_H

#include "fdtab.h"
#include "file.h"

#include <sys/stat.h>

/* Classifies fd (fstat/fcntl) and installs the answer; path may be NULL.
   inherited: found at its first write (may only fill an UNKNOWN slot),
   else just returned by open & co. (replaces what a close we did not see
   left behind). */
uintptr_t wb_fd_classify(int fd, const char *path, bool inherited) WB_HIDDEN;
/* The file of a tagged fd, classifying unknown fds on the way; NULL if untagged. */
struct wb_file *wb_file_for_fd(int fd) WB_HIDDEN;
/* An fd open() returned: classified with its path, or (lazily) at its
   second write; read-only and O_PATH fds only replace a stale entry. */
void wb_fd_opened(int fd, const char *path, int flags, bool lazily) WB_HIDDEN;

/* Before fd stops referring to its description (close, dup2 target...):
   lands it and marks it closing; returns the wb_file or NULL. */
struct wb_file *wb_fd_detach_begin(int fd) WB_HIDDEN;
/* After the real call: forgets fd (UNKNOWN) and drops f's reference.
   fd < 0: only drops a claim on f. */
void wb_fd_detach_end(int fd, struct wb_file *f) WB_HIDDEN;
/* newfd now refers to the same description as oldfd. */
void wb_fd_dup(int oldfd, int newfd) WB_HIDDEN;
/* Every fd that referred to f is forgotten (classified anew at next use). */
void wb_file_forget_all_fds(struct wb_file *f) WB_HIDDEN;
/* The program mapped this file, or opened it a second time: it lands, and
   from now on (while it exists) it is never buffered. */
void wb_inode_unbuffered(int fd, const struct stat *st) WB_HIDDEN;

#endif
