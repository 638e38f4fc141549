#!/usr/bin/env bats
# Signals: dying (or stopping) by a signal loses nothing that a plain run
# would have written, and the process ends with the same status; handlers
# the program installs stay its own, and every way of asking about a
# disposition answers what a plain run answers.  Scenarios are in
# tests/helpers/sem_signals.c.

load test_helper/common
load test_helper/semantics

sig() { agree sem_signals "$@"; }
# die SIGNAL HOW: a child writes 100 records, then dies.  Its parent prints
# how it died and the file's size: the plain run's child must have died by
# SIGNAL, and the library's run must print the same and leave the same file.
die() {
    same_as_plain --name "die-$1-$2" --no-timer --compare +stderr \
        --plain-says "died by $1( \(core\))?" -- "$(helper sem_signals)" die "$1" "$2"
}

@test "SIGTERM, SIGINT, SIGHUP, SIGQUIT sent by the process itself: flushed, same status" {
    for s in TERM INT HUP QUIT; do die "$s" raise; die "$s" kill; done
}

@test "SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 from another process while asleep: flushed, same status" {
    for s in TERM INT HUP QUIT USR1 USR2; do die "$s" external; done
}

@test "tgkill to itself: flushed, same status" { die TERM tgkill; }

@test "SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP raised by the kernel: flushed, same status" {
    # Sanitizers catch these themselves (a report, then a raw exit): let the
    # default action happen, as in an uninstrumented run.
    local off=handle_segv=0:handle_sigbus=0:handle_sigfpe=0:handle_sigill=0:handle_sigtrap=0
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}$off TSAN_OPTIONS=${TSAN_OPTIONS:+$TSAN_OPTIONS:}$off
    for s in SEGV BUS FPE ILL TRAP; do die "$s" fault; done
}

@test "abort() and a failed assert(): flushed, die by SIGABRT" {
    die ABRT abort
    die ABRT assert
}

@test "SIGPIPE from writing to a pipe nobody reads: flushed, same status" { die PIPE pipe; }

@test "SIGALRM, SIGVTALRM, SIGPROF from interval timers: flushed, same status" {
    for s in ALRM VTALRM PROF; do die "$s" timer; done
}

@test "SIGXCPU, SIGSYS sent to itself: flushed, same status" {
    for s in XCPU SYS; do die "$s" raise; done
}

@test "sigaction/signal/sysv_signal/bsd_signal/ssignal/sigset report what the program set" {
    [[ $SANITIZER != thread ]] || skip "ThreadSanitizer answers sigaction from its own table"
    sig report
}

@test "a program's handler runs; resetting SIG_DFL and re-raising still flushes" {
    sig handler_reraise
}

@test "SA_RESETHAND: the second signal takes the default action and still flushes" {
    sig resethand
}

@test "sysv_signal is one-shot: the second signal flushes and kills" {
    sig sysv_oneshot
}

@test "SIGTSTP: bytes are in the file while the process is stopped; it stops by SIGTSTP" {
    sig stop
}

# ---- the comparisons themselves --------------------------------------------

@test "die: fails unless the plain run's child dies by the signal" {
    run die TERM no_such_way      # a usage error: both runs print usage, exit 2
    echo "$output"
    ((status != 0))
    [[ $output == *"usage error"* ]]
    run die NOSUCHSIG raise
    echo "$output"
    ((status != 0))
    [[ $output == *"usage error"* ]]
    run die USR1 fault            # the kernel raises no SIGUSR1: the child exits
    echo "$output"
    ((status != 0))
    [[ $output == *"did not print a line matching /died by USR1"* ]]
}

@test "sig: fails on a misspelled scenario" {
    run sig no_such_scenario
    echo "$output"
    ((status != 0))
    [[ $output == *"usage error"* ]]
}
