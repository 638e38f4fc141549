/*
 * check.c — compiles every entry of src/catalogue.def against glibc's own
 * headers (tests/catalogue.bats: "every prototype matches glibc's").
 *
 * Each entry is declared again, "RET (NAME) PARAMS;": a prototype that
 * differs from the header's is a "conflicting types" error.  The entries a
 * wrapper is generated for also get a function that forwards ARGS and
 * evaluates WHERE, so a name or an expression that does not fit is an error
 * too.  Nothing here is linked or run.
 */
#define _GNU_SOURCE 1
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
#if __has_include(<sys/pidfd.h>)
#include <sys/pidfd.h>
#endif
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

/* glibc before 2.34 maps these names to their __ twins with macros in
   <resolv.h>: both are exports (and catalogue entries) of their own. */
#undef fp_nquery
#undef fp_query
#undef hostalias
#undef p_query
#undef res_close
#undef res_init
#undef res_isourserver
#undef res_mkquery
#undef res_query
#undef res_querydomain
#undef res_search
#undef res_send
#undef b64_ntop
#undef b64_pton
#undef dn_comp
#undef dn_count_labels
#undef dn_expand
#undef dn_skipname
#undef fp_resstat
#undef loc_aton
#undef loc_ntoa
#undef p_cdname
#undef p_cdnname
#undef p_class
#undef p_fqname
#undef p_fqnname
#undef p_option
#undef p_time
#undef p_type
#undef p_rcode
#undef putlong
#undef putshort
#undef res_dnok
#undef res_hnok
#undef res_hostalias
#undef res_mailok
#undef res_nameinquery
#undef res_nclose
#undef res_ninit
#undef res_nmkquery
#undef res_nquery
#undef res_nquerydomain
#undef res_nsearch
#undef res_nsend
#undef res_ownok
#undef res_queriesmatch
#undef res_randomid
#undef sym_ntop
#undef sym_ntos
#undef sym_ston

/* Declared by <sys/mount.h> since glibc 2.36 (mount_setattr); the tag is
   needed at file scope before, or each prototype would get its own. */
struct mount_attr;
/* Types no current header declares: only PASS and CANNOT_SEE entries use them. */
struct ustat;
struct sigvec;
struct sgttyb;
struct strbuf;
typedef int bool_t;
typedef unsigned long rpcprog_t, rpcvers_t, rpcprot_t;
typedef struct CLIENT CLIENT;
typedef struct SVCXPRT SVCXPRT;
typedef struct XDR XDR;
typedef struct AUTH AUTH;
typedef union des_block des_block;
typedef struct netobj netobj;
struct pmaplist;
struct rpc_timeval;
struct authdes_cred;
struct key_netstarg;
struct svc_req;
enum clnt_stat { WB_CLNT_STAT };
enum auth_stat { WB_AUTH_STAT };
enum xdr_op { WB_XDR_OP };
typedef bool_t (*xdrproc_t)(XDR *, void *, ...);
typedef bool_t (*resultproc_t)(caddr_t, struct sockaddr_in *);
typedef void (*__dispatch_fn_t)(struct svc_req *, SVCXPRT *);

#define WB_UNPAREN(...) __VA_ARGS__
#define WB_CHECK_AT(dirfd, path, flags)                                                  \
    {                                                                                    \
        int d_ = (dirfd), f_ = (flags);                                                  \
        const char *p_ = (path);                                                         \
        (void)d_, (void)f_, (void)p_;                                                    \
    }

/* Forwards ARGS (the types of the call are checked) and evaluates WHERE. */
#define WB_FORWARD(name, params, args, check)                                            \
    __attribute__((unused)) static void check_##name params                             \
    {                                                                                    \
        check;                                                                           \
        (void)(name) args;                                                               \
    }

#define WB_CHECK_PASS(name, params, args, where)
#define WB_CHECK_CANNOT_SEE(name, params, args, where)
#define WB_CHECK_MANUAL(name, params, args, where)
#define WB_CHECK_PROC(name, params, args, where) WB_FORWARD(name, params, args, (void)0)
#define WB_CHECK_LONE_THREAD(name, params, args, where) WB_FORWARD(name, params, args, (void)0)
#define WB_CHECK_LAND_ALL(name, params, args, where) WB_FORWARD(name, params, args, (void)0)
#define WB_CHECK_LAND_FD(name, params, args, where)                                      \
    WB_FORWARD(name, params, args, int fds_[] = { WB_UNPAREN where }; (void)fds_)
#define WB_CHECK_LAND_FILE(name, params, args, where)                                    \
    WB_FORWARD(name, params, args, FILE *streams_[] = { WB_UNPAREN where }; (void)streams_)
#define WB_CHECK_LAND_PATH(name, params, args, where)                                    \
    WB_FORWARD(name, params, args, WB_CHECK_AT where)

#define WB_CALL(cls, ret, name, params, args, where)                                     \
    ret(name) params;                                                                    \
    WB_CHECK_##cls(name, params, args, where)
#include "catalogue.def"
#undef WB_CALL
