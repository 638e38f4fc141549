/*
 * lifecycle.c — layer 12: start, fork and exit.
 *
 * Start: wrappers run before our constructor (other libraries' constructors
 * write), so initialisation happens on first use, once, in whichever thread
 * gets there first; a thread that re-enters during it (dlsym may) passes
 * through.
 *
 * Exit: glibc runs atexit handlers and ELF destructors, then its final
 * stdio flush, then _exit.  Our destructor cannot be guaranteed to run
 * last, so it switches the library to SHUTDOWN: everything buffered lands
 * now, and every later write (a later destructor, stdio's final flush)
 * goes straight through, in order.
 *
 * fork: the prepare handler lands everything and holds every file's lock
 * until the fork is done, so the child finds in the file every write that
 * returned before the fork (other threads keep writing meanwhile), and its
 * copy of the buffers is empty: the parent's bytes are written once.
 */
#include "lifecycle.h"

#include "buffer.h"
#include "config.h"
#include "flusher.h"
#include "land.h"
#include "real.h"
#include "reenter.h"
#include "say.h"
#include "signals.h"
#include "stats.h"
#include "streams.h"
#include "threads.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

static __thread bool initializing_here __attribute__((tls_model("initial-exec")));
static _Atomic pid_t library_pid;   /* the process whose library this memory is */

bool wb_in_vfork_child(void)
{
    pid_t mine = atomic_load(&library_pid);
    return mine && getpid() != mine;
}

/* fork from a signal handler that interrupted the library: the locks the
   interrupted code holds are never released while we wait, so none is
   taken; what can land lands, and the child starts its locks afresh. */
static __thread bool forking_in_handler __attribute__((tls_model("initial-exec")));

void wb_fork_prepare(void)
{
    if (wb_state_now() == WB_UNINIT)
        return;
    forking_in_handler = wb_reentered();
    if (forking_in_handler) {
        wb_land_nowait(NULL);
        return;
    }
    wb_land_all();   /* most of it, without holding anything */
    wb_files_lock_for_fork();
    pthread_mutex_lock(&wb_registry_lock);
    wb_flusher_prefork();
    wb_buf_prefork();
}

void wb_fork_parent(void)
{
    if (wb_state_now() == WB_UNINIT || forking_in_handler)
        return;
    wb_buf_postfork_parent();
    wb_flusher_postfork_parent();
    pthread_mutex_unlock(&wb_registry_lock);
    wb_files_unlock_after_fork();
}

void wb_fork_child(void)
{
    if (wb_state_now() == WB_UNINIT)
        return;
    bool held = !forking_in_handler;
    wb_buf_after_fork_child(held);
    wb_flusher_after_fork_child(held);
    wb_signals_after_fork_child();
    wb_threads_after_fork_child();
    wb_files_after_fork_child(held);
    wb_stats_after_fork_child();
    atomic_store(&library_pid, getpid());
}

static void force_slow_path(struct wb_file *f, void *arg);

void wb_lone_thread(bool forever)
{
    if (wb_state_now() == WB_UNINIT || wb_reentered())
        return;
    wb_land_all();
    if (forever) {
        wb_state_give_up();
        wb_files_foreach(force_slow_path, NULL);
        wb_land_all();   /* what raced in before the fast path closed */
    }
    wb_flusher_pause();
}

void wb_limit_changing(int resource, unsigned long long soft)
{
    if (resource == RLIMIT_FSIZE && soft != (unsigned long long)RLIM_INFINITY)
        wb_lone_thread(true);
    else if (resource == RLIMIT_NPROC || resource == RLIMIT_AS)
        wb_lone_thread(false);   /* the thread's slot and stack are given back */
}

/* A finite RLIMIT_FSIZE from the start: write through (see above). */
static bool fsize_unlimited(void)
{
    struct rlimit rl;
    return getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY;
}

/* The process is about to hold its first byte (file.c): now, and not at
   start-up, what only a process holding bytes needs — most processes of a
   script or a build never buffer one.  Every real function is resolved
   (no dlsym later in a signal handler or a fork child), the size limit
   is checked, the fatal-signal handlers go in (not now if a handler
   interrupted the program's sigaction: the write goes straight through). */
static bool engage(void)
{
    wb_real_resolve_all();
    if (!fsize_unlimited()) {
        wb_state_give_up();
        return false;
    }
    return wb_signals_install(false);
}

/* A fatal signal in a vfork child (which shares our memory) is not the
   end of this process: its records are ours to write at our exit. */
static void report_when_dying(void)
{
    if (!wb_in_vfork_child())
        wb_stats_report_nowait();
}

void wb_init_slow(void)
{
    if (initializing_here)
        return;   /* re-entered from dlsym or a message: pass through */
    int expected = WB_UNINIT;
    if (!atomic_compare_exchange_strong(&wb_state, &expected, WB_INITIALIZING)) {
        while (wb_state_now() == WB_INITIALIZING)
            sched_yield();
        return;
    }
    initializing_here = true;
    atomic_store(&library_pid, getpid());
    bool ok = wb_config_load();
    if (ok && wb_cfg.stats_records)
        atomic_store(&wb_signals_dying_hook, report_when_dying);
    pthread_atfork(wb_fork_prepare, wb_fork_parent, wb_fork_child);
    /* With --stats a process killed by a signal still reports what it
       wrote through: then the handlers go in now. */
    if (ok && wb_cfg.stats_records)
        ok = fsize_unlimited() && wb_signals_install(true);
    atomic_store(&wb_file_engage_hook, engage);
    initializing_here = false;
    atomic_store(&wb_state, ok ? WB_ACTIVE : WB_PASSTHROUGH);
}

__attribute__((constructor)) static void wb_constructor(void)
{
    bool active = wb_ready();
    if (active) {
        wb_threads_init(wb_shutdown);
        wb_stdio_init();
    }
    wb_stderr_settle(active);   /* from now on the library speaks only to this stderr */
}

static void force_slow_path(struct wb_file *f, void *arg)
{
    (void)arg;
    wb_lock(f);
    wb_file_update_room_locked(f);
    wb_unlock(f);
}

static void raise_unreported(struct wb_file *f, void *arg)
{
    (void)arg;
    wb_lock(f);
    int err = f->live && (f->error == EPIPE || f->error == EFBIG) ? wb_file_take_error(f) : 0;
    wb_unlock(f);
    if (err)
        wb_raise_for_error(err);
}

void wb_shutdown(void)
{
    /* PASSTHROUGH too: the flusher may have failed to start with bytes
       already buffered (a bad configuration buffers none: nothing to do). */
    int expected = WB_ACTIVE;
    if (!atomic_compare_exchange_strong(&wb_state, &expected, WB_SHUTDOWN) &&
        !(expected == WB_PASSTHROUGH &&
          atomic_compare_exchange_strong(&wb_state, &expected, WB_SHUTDOWN)))
        return;
    if (wb_reentered()) {
        /* _exit from a signal handler that interrupted us inside: what can
           be landed without waiting, then what the handler wrote. */
        wb_land_nowait(NULL);
        wb_replay_deferred_direct();
        return;
    }
    wb_files_foreach(force_slow_path, NULL);
    wb_land_all();
    wb_flusher_stop();
    wb_stats_report();
    /* A broken pipe or the file size limit met by a write the program never
       heard about: a plain run died by SIGPIPE/SIGXFSZ at that write, so
       the process dies by it now, unless the program ignores or handles it. */
    wb_files_foreach(raise_unreported, NULL);
}

__attribute__((destructor)) static void wb_destructor(void)
{
    wb_shutdown();
}
