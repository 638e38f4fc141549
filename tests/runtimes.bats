#!/usr/bin/env bats
# Other language runtimes under the library: the JVM, Tcl, Ada (GNAT),
# COBOL (GnuCOBOL), Free Pascal, Ruby, PHP and Lua, each writing a line at a
# time (programs in tests/runtimes/, compiled by tests/runtimes/build.sh into
# $BUILD/runtimes and kept there).  Under the library every file they write
# must come out byte-identical, with the same mode and size (and the same
# mtime where the program sets it), the same stdout, stderr and exit status
# as in a plain run; and strace must show one kernel write per line becoming
# a few.  Free Pascal is the exception: its run-time library makes its own
# system calls, so the library cannot see them (identity only).
#
# Each test skips when its toolchain is missing (.ci/run installs them).

setup() {
    load test_helper/common
    load test_helper/core
}

# use RUNTIME: skip unless RUNTIME's toolchain is installed, build its
# writer, and set RUN to the command that runs it (word-split on purpose).
use() {
    local out status=0
    out=$("$BATS_TEST_DIRNAME/runtimes/build.sh" "$1" "$BUILD/runtimes") || status=$?
    ((status != 2)) || skip "$out is not installed (.ci/run installs it)"
    ((status == 0)) || { echo "building the $1 writer failed"; return 1; }
    RUN=$out
    CLASSES=$BUILD/runtimes/java   # the JVM's class path (build.sh)
    export RUN CLASSES
}

need_strace() {
    command -v strace >/dev/null || skip "strace is not installed"
    strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace denied)"
}

# same_run 'shell command' [FILE...]: run the command in two scratch
# directories, plainly and under the library, and fail with a diff unless the
# exit status, stdout, stderr, every file's bytes, and every file's type, mode
# and size agree; the mtimes of the FILEs named (set by the program) too.
same_run() {
    local cmd=$1 p=$BATS_TEST_TMPDIR/plain w=$BATS_TEST_TMPDIR/wb f
    shift
    mkdir -p "$p" "$w"
    local sp=0 sw=0
    (cd "$p" && bash -c "$cmd") >"$p.out" 2>"$p.err" || sp=$?
    (cd "$w" && LD_PRELOAD="$(wb_env)" bash -c "$cmd") >"$w.out" 2>"$w.err" || sw=$?
    echo "exit status: plain $sp, writebehind $sw"
    if [[ $sp != "$sw" ]]; then
        cat "$w.err"
        return 1
    fi
    diff "$p.out" "$w.out" || return 1
    diff "$p.err" "$w.err" || return 1
    diff -r "$p" "$w" || return 1
    diff <(cd "$p" && find . -printf '%p %y %m %s\n' | sort) \
        <(cd "$w" && find . -printf '%p %y %m %s\n' | sort) || return 1
    for f in "$@"; do
        local tp tw
        tp=$(stat -c %y "$p/$f") tw=$(stat -c %y "$w/$f")
        echo "$f mtime: plain $tp, writebehind $tw"
        [[ $tp == "$tw" ]] || return 1
    done
    # A test that compares nothing proves nothing.
    [[ -n $(ls -A "$p") ]]
}

# kernel_writes 'shell command writing to ./out': how many write/writev calls
# reached ./out per run, plainly and under the library (strace -f, the
# library's timer set to a minute so the count does not depend on speed);
# sets PLAIN_WRITES and WB_WRITES, and fails unless the two outs are identical.
kernel_writes() {
    local d=$BATS_TEST_TMPDIR/count
    mkdir -p "$d/plain" "$d/wb"
    (cd "$d/plain" && plain_traced "$d/plain.trace" bash -c "$1")
    (cd "$d/wb" && wb_traced "$d/wb.trace" bash -c "$1")
    cmp "$d/plain/out" "$d/wb/out"
    PLAIN_WRITES=$(writes_to "$d/plain.trace" "$(realpath "$d/plain/out")")
    WB_WRITES=$(writes_to "$d/wb.trace" "$(realpath "$d/wb/out")")
    echo "kernel writes reaching the file: plain $PLAIN_WRITES, writebehind $WB_WRITES"
}

# coalesced: one write per line plainly (10,000 lines), at least 10x fewer
# under the library.
coalesced() {
    ((PLAIN_WRITES >= 10000)) && ((WB_WRITES >= 1 && WB_WRITES * 10 <= PLAIN_WRITES))
}

# wraps SYMBOL: does the library interpose SYMBOL?
wraps() {
    nm -D --defined-only "$LIB" 2>/dev/null | awk '{ print $NF }' | grep -qx "$1"
}

# --- the JVM ---------------------------------------------------------------
# Many threads, its own signal handlers, posix_spawn through jspawnhelper,
# /proc read at start-up, /tmp/hsperfdata_* mapped.

@test "java -version: the same output and status" {
    use java
    same_run 'java -version 2>version; java -XshowSettings:vm -version >settings 2>&1'
}

@test "java System.out.println to a redirected stdout: identical" {
    use java
    same_run '$RUN println 20000 >out'
}

@test "java System.out.println: one write per line becomes a few" {
    use java
    need_strace
    kernel_writes '$RUN println 10000 >out'
    coalesced
}

@test "java PrintWriter, flush per line, mtime set while open: identical, same mtime, status 3" {
    use java
    same_run '$RUN printwriter 20000 pw' pw
}

@test "java PrintWriter, flush per line: one write per line becomes a few" {
    use java
    need_strace
    kernel_writes '$RUN printwriter 10000 out || true'
    coalesced
}

@test "java RandomAccessFile: seek-and-patch, extend, truncate, read back: identical" {
    use java
    same_run '$RUN raf 5000 raf'
}

@test "java ProcessBuilder (posix_spawn): the child appends to the parent's open file, the parent reads it all" {
    use java
    same_run '$RUN spawn 3000 log "$CLASSES" >report; echo "exit $?" >status'
}

# In FORK and VFORK mode (vfork is served by fork) the JVM's child calls
# opendir, so malloc, between fork and exec.  glibc's malloc is safe there;
# GCC 12's AddressSanitizer does not lock its allocator around fork: a child
# hung once in this suite on an allocator lock that another JVM thread held
# at the fork.
skip_if_asan_forks() {
    [[ $SANITIZER != address ]] ||
        skip "the JVM mallocs between fork and exec; the AddressSanitizer allocator is not fork-safe"
}

@test "java ProcessBuilder (fork): the child appends, the parent reads it all" {
    use java
    skip_if_asan_forks
    RUN="${RUN/java /java -Djdk.lang.Process.launchMechanism=FORK }"
    same_run '$RUN spawn 3000 log "$CLASSES" >report; echo "exit $?" >status'
}

@test "java ProcessBuilder (vfork): the child appends, the parent reads it all" {
    use java
    skip_if_asan_forks
    RUN="${RUN/java /java -Djdk.lang.Process.launchMechanism=VFORK }"
    same_run '$RUN spawn 3000 log "$CLASSES" >report 2>&1; echo "exit $?" >status'
}

# The JVM, told "ready" through a FIFO, is killed by SIGTERM; its shutdown
# hook writes 2000 more lines and "last line", which the library must land
# before the JVM's exit(143).
@test "java killed by SIGTERM: the shutdown hook's lines land, status 143" {
    use java
    local kind dir line status
    for kind in plain wb; do
        dir=$BATS_TEST_TMPDIR/$kind
        mkdir -p "$dir"
        mkfifo "$dir/ready"
        if [[ $kind == wb ]]; then
            env LD_PRELOAD="$(wb_env)" $RUN term 2000 "$dir/log" >"$dir/ready" 2>"$dir/err" &
        else
            $RUN term 2000 "$dir/log" >"$dir/ready" 2>"$dir/err" &
        fi
        local pid=$!
        line=
        read -r -t 60 line <"$dir/ready" || true
        [[ $line == ready ]] || { echo "$kind: the JVM did not get ready"; cat "$dir/err"; return 1; }
        kill -TERM "$pid"
        status=0
        wait "$pid" || status=$?
        echo "$kind: exit status $status, $(wc -l <"$dir/log") lines"
        echo "$status" >"$dir/status"
        rm "$dir/ready"
    done
    diff -r "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/wb"
    [[ $(cat "$BATS_TEST_TMPDIR/wb/status") == 143 ]]
    [[ $(tail -n 1 "$BATS_TEST_TMPDIR/wb/log") == "last line" ]]
}

# The JVM writes /proc/self/coredump_filter at start-up; such files are
# commands to the kernel, never buffered.
@test "java: a bad value written to /proc is refused at the write, not later at close" {
    use java
    same_run '$RUN proc 0 >said'
    grep -q '^write: Invalid argument$' "$BATS_TEST_TMPDIR/wb/said"
}

# --- Tcl -------------------------------------------------------------------

# Tcl's `file mtime` stats the file before it sets the time: that lands it.
@test "tcl puts + flush: stdout, and a file patched, extended and given an mtime while open: identical, status 3" {
    use tcl
    same_run '$RUN stdout 20000 >out; $RUN file 20000 f >said' f
}

@test "tcl puts + flush: one write per line becomes a few" {
    use tcl
    need_strace
    kernel_writes '$RUN stdout 10000 >out'
    coalesced
}

# --- Ada (GNAT) --------------------------------------------------------------

@test "ada Put_Line + Flush: stdout and a file with Reset to append are identical, status 3" {
    use ada
    same_run '$RUN stdout 20000 >out; $RUN file 10000 f'
}

@test "ada Put_Line + Flush: one write per line becomes a few" {
    use ada
    need_strace
    kernel_writes '$RUN stdout 10000 >out'
    coalesced
}

# --- COBOL (GnuCOBOL) ----------------------------------------------------------

@test "cobol DISPLAY and line-sequential WRITE, OPEN EXTEND: identical, status 3" {
    use cobol
    same_run '$RUN stdout 20000 >out; $RUN file 10000 f'
}

@test "cobol DISPLAY: one write per line becomes a few" {
    use cobol
    need_strace
    kernel_writes '$RUN stdout 10000 >out'
    coalesced
}

# GnuCOBOL's line-sequential WRITE goes through a stdio FILE that it flushes
# only when full or closed: nothing to coalesce.
@test "cobol line-sequential WRITE: buffered by libcob itself, the library changes nothing" {
    use cobol
    need_strace
    kernel_writes '$RUN file 5000 out || true'
    ((WB_WRITES <= PLAIN_WRITES))
}

# --- Free Pascal -----------------------------------------------------------------
# fpc's run-time library calls the kernel itself (no libc), and links
# statically by default: LD_PRELOAD cannot reach it.

@test "pascal writeln + flush: stdout and a file with Append are identical, status 3" {
    use pascal
    same_run '$RUN stdout 20000 >out; $RUN file 10000 f'
}

@test "pascal: out of reach (own system calls): the kernel writes are the plain run's" {
    use pascal
    need_strace
    kernel_writes '$RUN stdout 10000 >out'
    ((PLAIN_WRITES >= 10000 && WB_WRITES == PLAIN_WRITES))
}

@test "pascal: the wrapper says a static fpc binary runs unbuffered" {
    use pascal
    run "$WB" $RUN stdout 3
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"writebehind: "*"statically linked"* ]]
}

# --- Ruby ----------------------------------------------------------------------------

@test "ruby \$stdout.sync = true: stdout, and a sync file patched and extended: identical, status 3" {
    use ruby
    same_run '$RUN stdout 20000 >out; $RUN file 20000 f >said'
}

@test "ruby \$stdout.sync = true: one write per line becomes a few" {
    use ruby
    need_strace
    kernel_writes '$RUN stdout 10000 >out'
    coalesced
}

# File.utime is utimensat() by path, with no stat before it.
@test "ruby: File.utime on the still-open file keeps the time it set" {
    use ruby
    wraps utimensat || skip "known library bug: utimensat() is not an observation point, so bytes landing at close reset the mtime"
    same_run '$RUN file 20000 f >said' f
}

# --- PHP CLI ---------------------------------------------------------------------------

# PHP's touch() checks the file (access) before it sets the times: that lands it.
@test "php echo + flush(), and fwrite to a file patched, extended and touched while open: identical, status 3" {
    use php
    same_run '$RUN stdout 20000 >out; $RUN file 20000 f >said' f
}

@test "php echo + flush(): one write per line becomes a few" {
    use php
    need_strace
    kernel_writes '$RUN stdout 10000 >out'
    coalesced
}

@test "php fwrite to a file: one write per line becomes a few" {
    use php
    need_strace
    kernel_writes '$RUN fwrite 10000 out'
    coalesced
}

# --- Lua ----------------------------------------------------------------------------------

@test "lua io.write + flush: stdout and a w+ file with seek, patch and read back: identical, status 3" {
    use lua
    same_run '$RUN stdout 20000 >out; $RUN file 20000 f >said'
}

@test "lua io.write + flush: one write per line becomes a few" {
    use lua
    need_strace
    kernel_writes '$RUN stdout 10000 >out'
    coalesced
}
