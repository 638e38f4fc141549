/*
 * lifecycle.c — start, fork and exit: the moments the whole library changes
 * state.
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
#include "writebehind.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>

_Atomic int wb_state;
void wb_signals_install(void) WB_HIDDEN;
void wb_stdio_init(void) WB_HIDDEN;
void wb_threads_init(void) WB_HIDDEN;
void wb_threads_after_fork_child(void) WB_HIDDEN;
void wb_signals_after_fork_child(void) WB_HIDDEN;
void wb_fork_prepare(void) WB_HIDDEN;
void wb_fork_parent(void) WB_HIDDEN;
void wb_fork_child(void) WB_HIDDEN;
static __thread bool initializing_here __attribute__((tls_model("initial-exec")));

void wb_fork_prepare(void)
{
    if (atomic_load(&wb_state) == WB_UNINIT)
        return;
    wb_drain_all();   /* most of it, without holding anything */
    wb_files_lock_for_fork();
    pthread_mutex_lock(&wb_registry_lock);
    wb_flusher_prefork();
    wb_buf_prefork();
}

void wb_fork_parent(void)
{
    if (atomic_load(&wb_state) == WB_UNINIT)
        return;
    wb_buf_postfork_parent();
    wb_flusher_postfork_parent();
    pthread_mutex_unlock(&wb_registry_lock);
    wb_files_unlock_after_fork();
}

void wb_fork_child(void)
{
    if (atomic_load(&wb_state) == WB_UNINIT)
        return;
    wb_buf_after_fork_child();
    wb_flusher_after_fork_child();
    wb_signals_after_fork_child();
    wb_reenter_after_fork_child();
    wb_threads_after_fork_child();
    wb_fdtab_after_fork_child();
    wb_stats_after_fork_child();
}

void wb_init_slow(void)
{
    if (initializing_here)
        return;   /* re-entered from dlsym or a message: pass through */
    int expected = WB_UNINIT;
    if (!atomic_compare_exchange_strong(&wb_state, &expected, WB_INITIALIZING)) {
        while (atomic_load(&wb_state) == WB_INITIALIZING)
            sched_yield();
        return;
    }
    initializing_here = true;
    wb_real_resolve_all();
    bool ok = wb_config_load();
    wb_stderr_remember();   /* from now on the library speaks only to this stderr */
    pthread_atfork(wb_fork_prepare, wb_fork_parent, wb_fork_child);
    if (ok)
        wb_signals_install();
    initializing_here = false;
    atomic_store(&wb_state, ok ? WB_ACTIVE : WB_PASSTHROUGH);
}

__attribute__((constructor)) static void wb_constructor(void)
{
    if (wb_active()) {
        wb_threads_init();
        wb_stdio_init();
    }
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
        void wb_replay_deferred_direct(void) WB_HIDDEN;
        wb_land_nowait(NULL);
        wb_replay_deferred_direct();
        return;
    }
    wb_files_foreach(force_slow_path, NULL);
    wb_drain_all();
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
