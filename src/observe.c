/*
 * observe.c — layer 8: landing before an observation.
 *
 * A tagged fd lands its own file.  An untagged fd or a path may still name
 * a tagged file through another door (the same file opened twice, or by
 * name): matched by device and inode, which costs one fstat/fstatat — and
 * only while something is pending.
 */
#include "observe.h"

#include "fdtab.h"
#include "real.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

void wb_observe_fd(int fd)
{
    if (!wb_anything_pending())
        return;
    uintptr_t e = wb_fdtab_get(fd);
    if (wb_is_file(e)) {
        wb_land_file((struct wb_file *)e);
        return;
    }
    struct stat st;
    int saved = errno;
    if (REAL(fstat)(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode)))
        wb_land_inode(st.st_dev, st.st_ino);
    errno = saved;
}

/* /proc/self/fdinfo/N shows the kernel's offset ("pos:"), /proc/self/io
   the bytes written: anything under /proc may describe our descriptors. */
static bool on_procfs(dev_t dev)
{
    static _Atomic dev_t proc_dev;   /* 0: not looked up yet */
    dev_t d = atomic_load_explicit(&proc_dev, memory_order_relaxed);
    if (!d) {
        struct stat st;
        if (REAL(stat)("/proc/self", &st) != 0)
            return false;
        d = st.st_dev;
        atomic_store_explicit(&proc_dev, d, memory_order_relaxed);
    }
    return dev == d;
}

void wb_observe_path(int dirfd, const char *path, int at_flags)
{
    if (!wb_anything_pending() || !path)
        return;
    struct stat st;
    int saved = errno;
    if (REAL(fstatat)(dirfd, path, &st, at_flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) == 0) {
        if (S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))
            wb_land_inode(st.st_dev, st.st_ino);
        if (on_procfs(st.st_dev))
            wb_land_all();
    }
    errno = saved;
}

void wb_observe_at(int dirfd, const char *path, int at_flags)
{
    if (!wb_anything_pending())
        return;
    if (!path || (!*path && (at_flags & AT_EMPTY_PATH)))
        wb_observe_fd(dirfd);
    else
        wb_observe_path(dirfd, path, at_flags);
}
