/*
 * cli.h — the wrapper program's parts, and what they share.
 *
 *   main.c     options → WRITEBEHIND_* variables, then one of three ways to run
 *   library.c  where libwritebehind.so is, and LD_PRELOAD
 *   binary.c   what a command's executable is (static, setuid, Go...)
 *   run.c      running the command as a child: signals forwarded, its exit
 *              status (or death by a signal) passed on exactly
 *   report.c   --stats: the records every process left, summed into one summary
 *   check.c    --check: the command traced (ptrace), unbuffered, and a verdict
 *
 * The wrapper never links the library: it shares only parse.c with it.
 */
#ifndef WRITEBEHIND_CLI_H
#define WRITEBEHIND_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define EXIT_OWN_ERROR 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

/* What the options asked for, beyond the variables they set. */
struct cli_options {
    char **command;             /* COMMAND [ARG]... */
    bool check;                 /* --check */
    bool stats;                 /* --stats or WRITEBEHIND_STATS */
    const char *stats_file;     /* absolute; NULL: the wrapper's stderr */
    bool json;                  /* --stats-format=json */
    bool stats_bare;            /* --stats given without =FILE (for a hint) */
    unsigned long long bufsize; /* for --check's estimate */
    unsigned long long flush_ms;
    bool pipes;
    const char *paths;          /* -p globs, ':'-separated, or NULL */
    const char *fds;            /* -f fds, ','-separated, or NULL */
    const char *only, *skip;    /* program names, ','-separated, or NULL */
};

/* main.c */
_Noreturn void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *cli_alloc(size_t n) __attribute__((returns_nonnull, malloc));   /* zeroed; exits 125 if none */
char *cli_strdup(const char *s) __attribute__((returns_nonnull, malloc));
/* array (of *cap elements of size bytes) with room for element n: grown by
   doubling; exits 125 if there is no memory. */
void *cli_grow(void *array, size_t *cap, size_t n, size_t size) __attribute__((returns_nonnull));
const char *plural(uint64_t n, const char *one, const char *many);

/* library.c */
/* The library to preload: --lib, WRITEBEHIND_LIB, next to this program, or
   the installed locations; NULL (after saying why) when there is none. */
char *find_library(const char *from_option);
/* A libwritebehind.so already in LD_PRELOAD (any path), or NULL. */
char *preloaded_copy(const char *preload);
/* Adds lib to LD_PRELOAD unless a copy is there already. */
void preload_library(const char *lib, bool debug);

/* binary.c */
enum reach {
    REACH_OK = 0,
    REACH_STATIC,     /* no PT_INTERP: the loader never runs */
    REACH_SECURE,     /* setuid, setgid or file capabilities: LD_PRELOAD ignored */
    REACH_GO,         /* Go: system calls made directly, not through glibc */
    REACH_NO_LIBC,    /* dynamic, but not linked with glibc */
};
/* Where execvp would find cmd (a static buffer), or NULL. */
const char *resolve_command(const char *cmd);
/* Whether LD_PRELOAD reaches the program at path; a script is judged by its
   interpreter.  *why_out: a phrase for messages ("is statically linked"). */
enum reach binary_reach(const char *path, const char **why_out);

/* run.c */
/* Runs argv in a child with the signal dispositions and mask we started
   with; forwards the signals others send us.  Returns the wait status, or
   -1 with *exec_err set when the command could not be started (the child
   said why on stderr). */
int run_command(char **argv, int *exec_err);
/* Before forking: SIGCHLD and the signals to pass on are blocked, to be
   taken by wait_for_event; the child restores what the wrapper started
   with before it execs. */
void signals_hold(void);
void signals_restore_in_child(void);
/* Waits until a child may have changed state (SIGCHLD), passing on to
   child the signals other processes send the wrapper meanwhile. */
void wait_for_event(pid_t child);
/* Ends the wrapper with the child's status: its exit code, or death by the
   same signal (the shell then sees the same $?). */
_Noreturn void exit_like(int status);
/* The exit code for an exec failure, as env(1). */
int exec_failure_status(int err);

/* report.c */
/* Makes the private record file the library appends to; returns its path. */
char *report_begin(void);
/* Sums the records and prints one summary (on stderr or appended to file);
   removes the record file. */
void report_end(const char *records, const struct cli_options *o, int status);
/* s as a JSON string literal. */
void json_string(FILE *out, const char *s);

/* check.c */
/* --check: runs the command traced, prints the verdict; returns the wait
   status for exit_like, or never returns on its own failure. */
int check_command(const struct cli_options *o);

#endif
