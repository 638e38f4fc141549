/*
 * wrap_catalogue.c — layer 13: the wrappers that follow from the catalogue.
 *
 * src/catalogue.def names every glibc export that takes a descriptor, a
 * FILE, a path, or can tell another process something, with what a wrapper
 * must do first.  The four mechanical classes are generated here, each
 * wrapper one landing and the real call:
 *   LAND_FD    the file behind each fd (tagged, or a tagged file with the
 *              same inode)
 *   LAND_PATH  a tagged file at (dirfd, path); NULL or "" + AT_EMPTY_PATH
 *              is dirfd itself
 *   LAND_FILE  the file behind each stream the library did not wrap (a
 *              wrapped stream's cookie sees every flush already), and
 *              everything when such a stream may tell another process
 *   LAND_ALL   everything
 * Every other class is written by hand (wrap_io.c ... wrap_thread.c), and
 * so are the few entries named in HAND_WRITTEN below, each with its reason.
 * The real function is resolved lazily through real.c, as REAL() does, so
 * one built on a newer glibc still loads on an older one.
 */
#include "observe.h"
#include "real.h"
#include "streams.h"

#include <aio.h>
#include <argp.h>
#include <dirent.h>
#include <dlfcn.h>
#include <err.h>
#include <error.h>
#include <execinfo.h>
#include <fcntl.h>
#include <fstab.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <gshadow.h>
#include <libintl.h>
#include <linux/capability.h>
#include <malloc.h>
#include <mntent.h>
#include <mqueue.h>
#include <netdb.h>
#include <netinet/ether.h>
#include <netinet/in.h>
#include <nl_types.h>
#include <poll.h>
#include <printf.h>
#include <pthread.h>
#include <pty.h>
#include <pwd.h>
#include <resolv.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <shadow.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/quota.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/sendfile.h>
#include <sys/shm.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/timex.h>
#include <sys/uio.h>
#include <sys/vlimit.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <syslog.h>
#include <termios.h>
#include <threads.h>
#include <ttyent.h>
#include <ucontext.h>
#include <ulimit.h>
#include <unistd.h>
#include <utime.h>
#include <utmp.h>
#include <utmpx.h>
#include <wchar.h>
#include <wordexp.h>
#if __has_include(<sys/pidfd.h>)
#include <sys/pidfd.h>
#endif

/* A compat entry's type no current header declares, and one glibc 2.36
   declares first (<sys/mount.h>). */
struct ustat;
struct mount_attr;

/* Before 2.34 <resolv.h> renames these to their __res_ twins, which the
   catalogue wraps as well: keep the plain names. */
#undef res_query
#undef res_search
#undef res_querydomain
#undef res_send
#undef res_nquery
#undef res_nsearch
#undef res_nquerydomain
#undef res_nsend

/* Written by hand elsewhere, or never wrapped, though the catalogue gives
   a mechanical class ("~, 1" marks a name; see WB_IS_HAND):
   - dlopen, dlmopen: glibc decides the caller's namespace and $ORIGIN from
     the return address; a wrapper would make every dlopen ours;
   - __stack_chk_fail, verr, verrx: noreturn (a generated wrapper returns);
     glibc's fatal paths are a documented limitation anyway;
   - vfscanf, vscanf, vfwscanf, vwscanf: <stdio.h> renames them to their
     __isoc99_ twins with asm labels, so a wrapper defined here would be the
     twin's; the twins (what C99 programs call) are generated;
   - fwrite, fputc, putc, fread, getc, ungetc, fseeko(64), ftello(64):
     wrap_stdio.c, which serves a call on the original stdout/stderr that
     C++ streams kept with the cookie stream that replaced it;
   - fread_unlocked, fseek, ftell, fgetpos(64), fsetpos(64), rewind:
     wrap_stdio.c, which runs glibc's file-stream code on a wrapped stream. */
#define WB_HAND_vfscanf ~, 1
#define WB_HAND_vscanf ~, 1
#define WB_HAND_vfwscanf ~, 1
#define WB_HAND_vwscanf ~, 1
#define WB_HAND_dlopen ~, 1
#define WB_HAND_dlmopen ~, 1
#define WB_HAND___stack_chk_fail ~, 1
#define WB_HAND_verr ~, 1
#define WB_HAND_verrx ~, 1
#define WB_HAND_fwrite ~, 1
#define WB_HAND_fputc ~, 1
#define WB_HAND_putc ~, 1
#define WB_HAND_fread ~, 1
#define WB_HAND_getc ~, 1
#define WB_HAND_ungetc ~, 1
#define WB_HAND_fseeko ~, 1
#define WB_HAND_fseeko64 ~, 1
#define WB_HAND_ftello ~, 1
#define WB_HAND_ftello64 ~, 1
#define WB_HAND_fread_unlocked ~, 1
#define WB_HAND_fseek ~, 1
#define WB_HAND_ftell ~, 1
#define WB_HAND_fgetpos ~, 1
#define WB_HAND_fgetpos64 ~, 1
#define WB_HAND_fsetpos ~, 1
#define WB_HAND_fsetpos64 ~, 1
#define WB_HAND_rewind ~, 1

#define WB_CAT_(a, b) a##b
#define WB_CAT(a, b) WB_CAT_(a, b)
#define WB_SECOND_(a, b, ...) b
#define WB_SECOND(...) WB_SECOND_(__VA_ARGS__)
#define WB_IS_HAND(name) WB_SECOND(WB_CAT(WB_HAND_, name), 0, ~)
#define WB_IF_0(then, otherwise) otherwise
#define WB_IF_1(then, otherwise) then
#define WB_IF(cond) WB_CAT(WB_IF_, cond)
#define WB_UNPAREN(...) __VA_ARGS__
#define WB_NOTHING(...)

/* The slot of one real function, filled on first use by real.c. */
#define WB_REAL_VIA(name, slot)                                                          \
    (likely(slot) ? slot : (__typeof__(slot))wb_real_resolve((void **)&slot, #name))

#define WB_DEFINE(ret, name, params, args, landing)                                      \
    static ret(*wb_cat_##name) params;                                                   \
    WB_EXPORT ret(name) params                                                           \
    {                                                                                    \
        landing;                                                                         \
        return WB_REAL_VIA(name, wb_cat_##name) args;                                    \
    }

static inline void observe_fds(const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wb_observe_fd(fds[i]);
}
static inline void observe_streams(FILE *const *streams, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wb_observe_stream(streams[i]);
}

#define WB_DEF_LAND_FD(ret, name, params, args, where)                                   \
    WB_DEFINE(ret, name, params, args,                                                   \
              if (wb_anything_pending()) {                                               \
                  const int fds_[] = { WB_UNPAREN where };                               \
                  observe_fds(fds_, sizeof fds_ / sizeof *fds_);                         \
              })
#define WB_DEF_LAND_PATH(ret, name, params, args, where)                                 \
    WB_DEFINE(ret, name, params, args, wb_observe_at where)
#define WB_DEF_LAND_FILE(ret, name, params, args, where)                                 \
    WB_DEFINE(ret, name, params, args,                                                   \
              if (wb_anything_pending()) {                                               \
                  FILE *const streams_[] = { WB_UNPAREN where };                         \
                  observe_streams(streams_, sizeof streams_ / sizeof *streams_);         \
              })
#define WB_DEF_LAND_ALL(ret, name, params, args, where)                                  \
    WB_DEFINE(ret, name, params, args, wb_observe_all())

#define WB_GEN(cls, ret, name, params, args, where)                                      \
    WB_IF(WB_IS_HAND(name))(WB_NOTHING, WB_DEF_##cls)(ret, name, params, args, where)
#define WB_GEN_LAND_FD(...) WB_GEN(LAND_FD, __VA_ARGS__)
#define WB_GEN_LAND_PATH(...) WB_GEN(LAND_PATH, __VA_ARGS__)
#define WB_GEN_LAND_FILE(...) WB_GEN(LAND_FILE, __VA_ARGS__)
#define WB_GEN_LAND_ALL(...) WB_GEN(LAND_ALL, __VA_ARGS__)
#define WB_GEN_PASS(...)
#define WB_GEN_CANNOT_SEE(...)
#define WB_GEN_MANUAL(...)
#define WB_GEN_PROC(...)
#define WB_GEN_LONE_THREAD(...)

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#define WB_CALL(cls, ret, name, params, args, where) WB_GEN_##cls(ret, name, params, args, where)
#include "catalogue.def"
#undef WB_CALL
#pragma GCC diagnostic pop
