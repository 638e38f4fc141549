/*
 * real.c — resolves the real libc functions, and nothing else.
 *
 * dlsym(RTLD_NEXT) finds the next definition after ours (glibc's).  It may
 * allocate, which is why writebehind never wraps malloc.  Resolution is
 * idempotent, so two threads racing on the first call store the same value.
 */
#include "writebehind.h"

#include <dlfcn.h>
#include <errno.h>

#define WB_REAL_DEFINE(fn) __typeof__(fn) *wb_real_##fn;
WB_REAL_LIST(WB_REAL_DEFINE)
#undef WB_REAL_DEFINE

/* Stand-in for a function this libc lacks: behave like a missing syscall. */
static long wb_real_missing(void)
{
    errno = ENOSYS;
    return -1;
}

void *wb_real_resolve(void **slot, const char *name)
{
    int saved = errno;
    void *p = dlsym(RTLD_NEXT, name);
    if (!p)
        p = wb_compat_stand_in(name);   /* newer than this glibc: compat.c */
    if (!p)
        p = (void *)wb_real_missing;
    __atomic_store_n(slot, p, __ATOMIC_RELEASE);
    errno = saved;
    return p;
}

void wb_real_resolve_all(void)
{
#define WB_REAL_RESOLVE(fn)                                                              \
    if (!wb_real_##fn)                                                                   \
        wb_real_resolve((void **)&wb_real_##fn, #fn);
    WB_REAL_LIST(WB_REAL_RESOLVE)
#undef WB_REAL_RESOLVE
}
