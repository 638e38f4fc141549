/*
 * land.h — layer 7: landing many files, or one from anywhere (also from a
 * signal handler that interrupted the library).
 */
#ifndef WB_LAND_H
#define WB_LAND_H

#include "registry.h"

/* Lands f; from a signal handler inside the library, as far as it goes
   without waiting (wb_land_nowait). */
void wb_land_file(struct wb_file *f) WB_HIDDEN;
/* Every file with bytes pending. */
void wb_land_all(void) WB_HIDDEN;
static inline void wb_land_all_if_pending(void)
{
    if (unlikely(wb_anything_pending()))
        wb_land_all();
}
/* Every tagged file with this device and inode. */
void wb_land_inode(dev_t dev, ino_t ino) WB_HIDDEN;
/* Without waiting for a lock or a flight someone else holds (a handler's
   interrupted code may hold them): only (NULL: every file). */
void wb_land_nowait(struct wb_file *only) WB_HIDDEN;
/* The process is dying by a signal: what can be landed, waiting a bounded
   time for flights other threads are writing. */
void wb_land_dying(void) WB_HIDDEN;

/* fork: every file is locked and landed under its lock until the fork is
   done (a write that returned before the fork is in the file the child
   sees); the child's copies are reset, their bytes the parent's to write. */
void wb_files_lock_for_fork(void) WB_HIDDEN;
void wb_files_unlock_after_fork(void) WB_HIDDEN;
void wb_files_after_fork_child(bool held) WB_HIDDEN;   /* held: as buffer.h */

#endif
