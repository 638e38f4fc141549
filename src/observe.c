/*
 * observe.c — "someone could look now": land the bytes first.
 *
 * Every wrapper for a call that can observe a file (read, seek, stat,
 * mmap, sync, locks...) calls one of these before the real call.  All of
 * them return at once when nothing is buffered anywhere (one atomic load),
 * so programs that are not writing pay nothing.
 *
 * A tagged fd drains its own file.  An untagged fd or a path may still
 * name a tagged file through another door (the same file opened twice, or
 * by name): matched by device and inode, which costs one fstat/fstatat —
 * and only while something is pending.
 */
#include "writebehind.h"

#include <errno.h>
#include <fcntl.h>

void wb_observe_fd(int fd)
{
    if (!wb_anything_pending())
        return;
    uintptr_t e = wb_fdtab_get(fd);
    if (wb_is_file(e)) {
        wb_file_drain((struct wb_file *)e);
        return;
    }
    struct stat st;
    int saved = errno;
    if (REAL(fstat)(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))
        wb_drain_inode(st.st_dev, st.st_ino);
    errno = saved;
}

void wb_observe_path(int dirfd, const char *path, int at_flags)
{
    if (!wb_anything_pending() || !path)
        return;
    struct stat st;
    int saved = errno;
    if (REAL(fstatat)(dirfd, path, &st, at_flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) == 0 &&
        (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))
        wb_drain_inode(st.st_dev, st.st_ino);
    errno = saved;
}
