#!/usr/bin/env bats
# Doors other than write(): each scenario of tests/helpers/exact_ops.c runs
# plainly and under the library; the output, the exit status, the file's
# bytes, mode and size (and its times, where the program set them) must be
# the same.

load test_helper/common

# exact SCENARIO [times]: compare a plain and a library run of the scenario.
exact() {
    local sc=$1 times=${2:-} d
    for d in plain wb; do
        mkdir -p "$BATS_TEST_TMPDIR/$d"
    done
    local p=$BATS_TEST_TMPDIR/plain w=$BATS_TEST_TMPDIR/wb sp=0 sw=0
    (cd "$p" && timeout 60 "$(helper exact_ops)" "$sc" out) >"$p.stdout" 2>"$p.stderr" || sp=$?
    (cd "$w" && LD_PRELOAD="$(wb_env)" timeout 60 "$(helper exact_ops)" "$sc" out) \
        >"$w.stdout" 2>"$w.stderr" || sw=$?
    ((sp != 2)) || { echo "exact_ops refused scenario '$sc':"; cat "$p.stderr"; return 1; }
    [[ $sp == "$sw" ]] || { echo "exit status: plain $sp, writebehind $sw"; cat "$w.stderr"; return 1; }
    diff "$p.stdout" "$w.stdout" || return 1
    diff "$p.stderr" "$w.stderr" || return 1
    cmp "$p/out" "$w/out" || return 1
    local fmt='%f %s'
    [[ -z $times ]] || fmt='%f %s %Y %X'
    [[ $(stat -c "$fmt" "$p/out") == "$(stat -c "$fmt" "$w/out")" ]] ||
        { echo "stat: plain $(stat -c "$fmt" "$p/out"), writebehind $(stat -c "$fmt" "$w/out")"; return 1; }
}

@test "exactness: the comparison refuses a scenario the helper does not know" {
    run exact no_such_scenario
    [ "$status" -ne 0 ]
    [[ $output == *"refused scenario"* ]]
}

@test "futimens after writes: the times the program set stay (tar, gzip, cp -p)" {
    exact futimens times
}

@test "utimensat on the path after writes: the times the program set stay" {
    exact utimensat times
}

@test "fchmod between writes: mode and size as plain" {
    exact fchmod
}

@test "clone() without CLONE_VM: the child sees every byte, writes none twice" {
    # ThreadSanitizer follows fork, not a fork-like clone of a process with
    # a thread (ours): its child dies when it starts the writer thread.
    [[ $SANITIZER != thread ]] || skip "ThreadSanitizer cannot follow a multi-threaded clone"
    exact clone
}

@test "syscall(SYS_clone) used like fork: the child sees every byte, writes none twice" {
    exact syscall_clone
}

@test "vfork: the child sees every byte; its _exit leaves the parent's library alone" {
    exact vfork
}

@test "raise(SIGSTOP): a parent waiting with WUNTRACED sees every byte" {
    exact raise_stop
}

@test "/proc/self/fdinfo: pos: is the plain offset" {
    exact fdinfo
}

@test "ioctl FIONREAD: counts the bytes a plain run would" {
    exact fionread
}

@test "a second door: an fopen(\"r\") FILE reads what was written, before and after" {
    exact second_door
}

@test "syscall(SYS_exit) from the only program thread: the process ends, the bytes land" {
    # Once a process has had a second thread (our writer), ThreadSanitizer
    # keeps a background thread of its own, which outlives the main thread.
    [[ $SANITIZER != thread ]] || skip "ThreadSanitizer's own thread outlives a SYS_exit of the main thread"
    exact sys_exit
}

@test "unshare(CLONE_NEWUSER): succeeds as in a plain run (the writer thread is gone first)" {
    unshare -U true 2>/dev/null || skip "user namespaces are not available here"
    # (the kernel refuses a multi-threaded process: see SYS_exit above)
    [[ $SANITIZER != thread ]] || skip "ThreadSanitizer's own thread makes the process multi-threaded"
    exact unshare_user
}

@test "seccomp strict mode: the library makes no forbidden call; the bytes land" {
    # strict mode holds the calling thread only; the program ends with SYS_exit
    [[ $SANITIZER != thread ]] || skip "ThreadSanitizer's own thread outlives a SYS_exit of the main thread"
    exact seccomp_strict
}

@test "a finite RLIMIT_FSIZE with SIGXFSZ ignored: the short write and EFBIG come as plain" {
    exact fsize
}

@test "sem_post on a process-shared semaphore: the process it wakes sees every byte" {
    exact sem_shared
}

@test "closing a pipe's write end: the reader that sees EOF sees every byte" {
    exact pipe_eof
}

@test "a memfd sealed against writes between writes: the next write is EPERM, as plain" {
    exact memfd_sealed
    grep -q "EPERM\|not permitted" "$BATS_TEST_TMPDIR/plain.stdout"
}

@test "FS_IOC_SETFLAGS immutable between writes: the next write is EPERM, as plain" {
    exact immutable
    if grep -q unsupported "$BATS_TEST_TMPDIR/plain.stdout"; then
        skip "the immutable flag needs root and a file system that has it"
    fi
}

@test "tmpfile(): a raw write on its fd and glibc's own stream stay in order" {
    exact tmpfile_raw
}

@test "nftw: the sizes it reports include every byte written before" {
    exact nftw
    grep -qx "./out $(stat -c %s "$BATS_TEST_TMPDIR/plain/out")" "$BATS_TEST_TMPDIR/plain.stdout"
}

@test "fd 2 replaced by a data file: a child's library, asked to speak, writes nothing into it" {
    exact stderr_file
}

@test "warn, warnx, error, error_at_line, syslog(LOG_PERROR) on a pipe: the reader told finds every byte" {
    exact messages
    [[ $(grep -c "bytes when told" "$BATS_TEST_TMPDIR/plain.stdout") -eq 5 ]]
}

@test "poll and select on a buffered pipe (--pipes) filled to capacity: readiness as plain" {
    exact poll_pipe
    grep -q "^poll write end -> 0" "$BATS_TEST_TMPDIR/plain.stdout"
}

@test "__open, __write, __close (glibc's exported names) mixed with write: the same bytes in order" {
    exact glibc_names
}

@test "ulimit(UL_SETFSIZE) between writes, SIGXFSZ ignored: the short write and EFBIG come as plain" {
    exact ulimit_fsize
    grep -q "EFBIG\|too large" "$BATS_TEST_TMPDIR/plain.stdout"
}
