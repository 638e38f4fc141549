#!/usr/bin/env bats
# The wrapper program build/writebehind: help and version, each option's
# effect on the command, LD_PRELOAD handling, and env(1)-style exit codes.

bats_require_minimum_version 1.5.0

setup() {
    load test_helper/common
    load test_helper/core
    cd "$BATS_TEST_TMPDIR"
    T=$(pwd -P)
    LIB_REAL=$(cd "$BUILD" && pwd -P)/libwritebehind.so
}

teardown() {
    stop_holder
}

# The wrapper as a user runs it.  In sanitizer builds the sanitizer runtime
# is already in LD_PRELOAD, so it stays first when the wrapper appends.
cli() {
    LD_PRELOAD="$SAN_RUNTIME" "$WB" "$@"
}

# Like wb_traced (timer set to a minute), through the wrapper.
cli_traced() {
    local trace=$1
    shift
    "${STRACE[@]}" -o "$trace" env LD_PRELOAD="$SAN_RUNTIME" WRITEBEHIND_FLUSH_MS=60000 "$WB" "$@"
}

# $output has this exact line.
has_line() {
    grep -qxF -- "$1" <<<"$output"
}

# ---- help and version ---------------------------------------------------

@test "--help: usage on stdout, status 0" {
    run --separate-stderr cli --help
    [[ $status == 0 ]]
    [[ -z $stderr ]]
    [[ ${lines[0]} == "Usage: writebehind "* ]]
    for opt in --bufsize --flush-ms --max-memory --path --fd --pipes --stats --debug --version; do
        [[ $output == *"$opt"* ]]
    done
}

@test "-h: the same usage as --help" {
    run --separate-stderr cli --help
    long=$output
    run --separate-stderr cli -h
    [[ $status == 0 ]]
    [[ $output == "$long" ]]
}

@test "--version: name and version on stdout, status 0" {
    run --separate-stderr cli --version
    [[ $status == 0 ]]
    [[ $output =~ ^writebehind\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    run --separate-stderr cli -V
    [[ $output =~ ^writebehind\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

# ---- options ------------------------------------------------------------

@test "-b: sets WRITEBEHIND_BUFSIZE for the command" {
    run cli -b 64K env
    [[ $status == 0 ]]
    has_line "WRITEBEHIND_BUFSIZE=64K"
    run cli --bufsize=1M env
    has_line "WRITEBEHIND_BUFSIZE=1M"
}

@test "-b: the buffer size takes effect" {
    "$(helper core_write)" -n 500 plain.out
    cli_traced wb.trace -b 64 "$(helper core_write)" -n 500 out
    cmp plain.out out
    total=$(stat -c %s out)
    n=$(writes_to wb.trace "$T/out")
    echo "$total bytes in $n write calls"
    ((n >= total / 64 && n < 500))
}

@test "-t: sets WRITEBEHIND_FLUSH_MS for the command" {
    run cli -t 250 env
    has_line "WRITEBEHIND_FLUSH_MS=250"
    run cli --flush-ms=1000 env
    has_line "WRITEBEHIND_FLUSH_MS=1000"
}

@test "-t: the timer lands the bytes while the command blocks" {
    "$(helper core_hold)" plain.out 100 </dev/null >/dev/null
    start_holder env LD_PRELOAD="$SAN_RUNTIME" "$WB" -t 50 "$(helper core_hold)" out 100
    wait_for_size out "$(stat -c %s plain.out)"
    kill -0 "$holder_pid"
    release_holder
    cmp plain.out out
}

@test "-m: sets WRITEBEHIND_MAX_MEMORY for the command" {
    run cli -m 32M env
    has_line "WRITEBEHIND_MAX_MEMORY=32M"
}

@test "-m: the memory cap takes effect" {
    mkdir files
    cli -b 4K -m 16K --stats="$T/stats" "$(helper core_many)" files 100 20
    cat stats
    peak=$(peak_kib "$(cat stats)")
    [[ -n $peak ]]
    ((peak > 0 && peak <= 16))
}

@test "-p: repeated globs become one WRITEBEHIND_PATHS list" {
    run cli -p '*.a' --path='*.b' env
    has_line 'WRITEBEHIND_PATHS=*.a:*.b'
}

@test "-p: every glob selects its files, others are written through" {
    cli_traced a.trace -p '*.a' -p '*.b' "$(helper core_write)" -n 200 x.a
    cli_traced b.trace -p '*.a' -p '*.b' "$(helper core_write)" -n 200 x.b
    cli_traced c.trace -p '*.a' -p '*.b' "$(helper core_write)" -n 200 x.c
    few_writes a.trace "$T/x.a"
    few_writes b.trace "$T/x.b"
    [[ $(writes_to c.trace "$T/x.c") == 200 ]]
}

@test "-f: repeated fds become one WRITEBEHIND_FDS list" {
    run cli -f 1 --fd=2 env
    has_line "WRITEBEHIND_FDS=1,2"
}

@test "-f: every named fd is buffered, others are written through" {
    cli_traced wb.trace -f 1 -f 2 "$(helper core_write)" -n 200 fd:1 fd:2 >o1 2>o2
    cli_traced other.trace -f 1 -f 2 "$(helper core_write)" -n 200 fd:4 4>o4
    few_writes wb.trace "$T/o1"
    few_writes wb.trace "$T/o2"
    [[ $(writes_to other.trace "$T/o4") == 200 ]]
}

@test "--pipes: pipes are buffered, bytes unchanged" {
    "$(helper core_write)" -n 200 fd:1 >plain.out
    cli_traced wb.trace --pipes "$(helper core_write)" -n 200 fd:1 | cat >out
    few_writes wb.trace pipe:
    cmp plain.out out
}

@test "without --pipes: pipes are written through" {
    cli_traced wb.trace "$(helper core_write)" -n 200 fd:1 | cat >/dev/null
    [[ $(writes_to wb.trace pipe:) == 200 ]]
}

@test "--stats: one summary line on stderr" {
    run --separate-stderr cli --stats "$(helper core_write)" -n 200 out
    [[ $status == 0 ]]
    echo "$stderr"
    [[ $stderr =~ ^writebehind:\ pid\ [0-9]+:\ 200\ writes\  ]]
    [[ $(wc -l <<<"$stderr") == 1 ]]
}

@test "--stats=FILE: the summary is appended to FILE" {
    echo "an earlier line" >stats
    run --separate-stderr cli --stats="$T/stats" "$(helper core_write)" -n 200 out
    [[ $status == 0 ]]
    [[ -z $stderr ]]
    cat stats
    [[ $(wc -l <stats) == 2 ]]
    sed -n 2p stats | grep -Eq '^writebehind: pid [0-9]+: 200 writes '
}

@test "-d: says which fds are buffered and why not" {
    run --separate-stderr cli -d "$(helper core_write)" -n 10 out
    [[ $status == 0 ]]
    [[ $stderr == *"($T/out) tagged"* ]]
    run --separate-stderr cli --debug "$(helper core_write)" -n 10 -o sync out
    [[ $stderr == *"out) not tagged: O_SYNC"* ]]
}

@test "options after the command are the command's" {
    cli "$(helper core_write)" -n 7 out
    [[ $(wc -l <out) == 7 ]]
}

@test "--: ends the wrapper's options" {
    run cli -b 64K -- env
    [[ $status == 0 ]]
    has_line "WRITEBEHIND_BUFSIZE=64K"
}

# ---- LD_PRELOAD ---------------------------------------------------------

@test "LD_PRELOAD: keeps what is there and appends the library" {
    pre=$SAN_RUNTIME
    [[ -n $pre ]] || pre=$(ldd /bin/true | awk '$1 ~ /^libc\.so/ { print $3 }')
    [[ -f $pre ]]
    run env LD_PRELOAD="$pre" "$WB" env
    [[ $status == 0 ]]
    has_line "LD_PRELOAD=$pre:$LIB_REAL"
}

@test "LD_PRELOAD: without one, the library alone" {
    [[ -z $SAN_RUNTIME ]] || skip "sanitizer builds need their runtime preloaded first"
    run env -u LD_PRELOAD "$WB" env
    [[ $status == 0 ]]
    has_line "LD_PRELOAD=$LIB_REAL"
}

@test "LD_PRELOAD: the library is not added twice" {
    run env LD_PRELOAD="$(wb_env)" "$WB" env
    [[ $status == 0 ]]
    has_line "LD_PRELOAD=$(wb_env)"
}

# ---- exit status --------------------------------------------------------

@test "exit 125: an unknown option, with a message and the usage hint" {
    run --separate-stderr cli --bogus true
    [[ $status == 125 ]]
    [[ $stderr == *"writebehind: unknown option '--bogus'"* ]]
    [[ $stderr == *"Try 'writebehind --help'"* ]]
    run --separate-stderr cli -x true
    [[ $status == 125 ]]
    [[ $stderr == *"unknown option '-x'"* ]]
}

@test "exit 125: an option without its value" {
    run --separate-stderr cli -b
    [[ $status == 125 ]]
    [[ $stderr == *"writebehind: option '-b' needs a value"* ]]
    [[ $stderr == *"Try 'writebehind --help'"* ]]
}

@test "exit 125: no command" {
    run --separate-stderr cli
    [[ $status == 125 ]]
    [[ $stderr == *"writebehind: no command given"* ]]
    [[ $stderr == *"Try 'writebehind --help'"* ]]
    run --separate-stderr cli -b 64K
    [[ $status == 125 ]]
}

@test "exit 125: a bad option value, without running the command" {
    for bad in "-b abc" "-b 0" "-t 0" "-t -1" "-m xyz" "-f a" "-p a:b"; do
        run --separate-stderr cli $bad touch ran
        echo "$bad: $status $stderr"
        [[ $status == 125 ]]
        [[ $stderr == "writebehind: "* ]]
        [[ ! -e ran ]]
    done
    run --separate-stderr cli -p '' touch ran
    [[ $status == 125 ]]
    [[ ! -e ran ]]
}

@test "exit 126: the command is not executable" {
    printf '#!/bin/sh\nexit 0\n' >notexec
    chmod 644 notexec
    run --separate-stderr cli ./notexec
    [[ $status == 126 ]]
    [[ $stderr == *"writebehind: failed to run command './notexec'"* ]]
}

@test "exit 127: the command is not found" {
    run -127 --separate-stderr cli no-such-command-writebehind-test
    [[ $status == 127 ]]
    [[ $stderr == *"writebehind: failed to run command 'no-such-command-writebehind-test'"* ]]
}

@test "exit status: the command's own" {
    run cli sh -c 'exit 42'
    [[ $status == 42 ]]
    run cli true
    [[ $status == 0 ]]
    run cli false
    [[ $status == 1 ]]
}
