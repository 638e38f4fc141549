#!/usr/bin/env bats
# WRITEBEHIND_* variables: good values take effect, every bad one is
# explained in one line on stderr and the program runs unbuffered and
# unchanged.  System calls are counted with strace.

setup() {
    load test_helper/common
    load test_helper/core
    cd "$BATS_TEST_TMPDIR"
    T=$(pwd -P)
}

# Runs core_write (200 lines) under the library with the given VAR=VALUE
# settings; passes when stderr holds exactly one "writebehind:" line naming
# the first variable, every write was its own system call, and the file is
# the plain run's.
one_message_and_unbuffered() {
    local name=${1%%=*}
    "$(helper core_write)" -n 200 plain.out
    wb_traced wb.trace "$@" "$(helper core_write)" -n 200 out 2>err
    echo "stderr:"
    cat err
    [[ $(wc -l <err) == 1 ]]
    grep -q "^writebehind: .*$name" err
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
    cmp plain.out out
}

@test "BUFSIZE=abc: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_BUFSIZE=abc
}

@test "BUFSIZE=0: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_BUFSIZE=0
}

@test "BUFSIZE=2G (above 1G): one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_BUFSIZE=2G
}

@test "FLUSH_MS=-1: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_FLUSH_MS=-1
}

@test "FLUSH_MS=0: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_FLUSH_MS=0
}

@test "FLUSH_MS=10ms: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_FLUSH_MS=10ms
}

@test "MAX_MEMORY=xyz: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_MAX_MEMORY=xyz
}

@test "an unknown WRITEBEHIND_FOO: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_FOO=1
}

@test "FDS=a,b: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_FDS=a,b
}

@test "FDS=1,,2: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_FDS=1,,2
}

@test "PATHS='': one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_PATHS=
}

@test "PIPES=maybe: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_PIPES=maybe
}

@test "two bad variables: one line each" {
    wb env WRITEBEHIND_BUFSIZE=abc WRITEBEHIND_FLUSH_MS=-1 "$(helper core_write)" -n 10 out 2>err
    cat err
    [[ $(wc -l <err) == 2 ]]
    grep -q '^writebehind: .*WRITEBEHIND_BUFSIZE' err
    grep -q '^writebehind: .*WRITEBEHIND_FLUSH_MS' err
}

@test "good values: no message and the writes are coalesced" {
    wb_traced wb.trace WRITEBEHIND_BUFSIZE=64K WRITEBEHIND_FLUSH_MS=1000 \
        WRITEBEHIND_MAX_MEMORY=16M WRITEBEHIND_PIPES=0 WRITEBEHIND_DEBUG=0 \
        "$(helper core_write)" -n 200 out 2>err
    [[ ! -s err ]]
    few_writes wb.trace "$T/out"
}

@test "BUFSIZE=64: buffers of 64 bytes make calls of at most 64 bytes" {
    "$(helper core_write)" -n 500 plain.out
    WRITEBEHIND_BUFSIZE=64 wb_traced wb.trace "$(helper core_write)" -n 500 out
    cmp plain.out out
    total=$(stat -c %s out)
    n=$(writes_to wb.trace "$T/out")
    echo "$total bytes in $n write calls"
    ((n >= total / 64 && n < 500))
}

@test "MAX_MEMORY below one buffer: every write goes straight through, unchanged" {
    "$(helper core_write)" -n 200 plain.out
    WRITEBEHIND_BUFSIZE=64K WRITEBEHIND_MAX_MEMORY=32K \
        wb_traced wb.trace "$(helper core_write)" -n 200 out 2>err
    [[ ! -s err ]]
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
    cmp plain.out out
}

@test "DISABLE=1: pure pass-through, one write call per write, no message" {
    "$(helper core_write)" -n 200 plain.out
    WRITEBEHIND_DISABLE=1 wb_traced wb.trace "$(helper core_write)" -n 200 out 2>err
    [[ ! -s err ]]
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
    cmp plain.out out
}

@test "DISABLE=0: buffering stays on" {
    WRITEBEHIND_DISABLE=0 wb_traced wb.trace "$(helper core_write)" -n 200 out
    few_writes wb.trace "$T/out"
}

@test "STATS=1: prints one summary line on stderr at exit" {
    WRITEBEHIND_STATS=1 wb "$(helper core_write)" -n 200 out 2>err
    cat err
    [[ $(wc -l <err) == 1 ]]
    grep -Eq '^writebehind: pid [0-9]+: 200 writes .* became [0-9]+ write calls' err
}

@test "STATS unset: no summary" {
    wb "$(helper core_write)" -n 200 out 2>err
    [[ ! -s err ]]
}

@test "STATS=/path: appends the summary to the file, nothing on stderr" {
    echo "an earlier line" >stats
    WRITEBEHIND_STATS="$T/stats" wb "$(helper core_write)" -n 200 out 2>err
    WRITEBEHIND_STATS="$T/stats" wb "$(helper core_write)" -n 100 out 2>>err
    cat stats
    [[ ! -s err ]]
    [[ $(wc -l <stats) == 3 ]]
    [[ $(head -1 stats) == "an earlier line" ]]
    sed -n 2p stats | grep -Eq '^writebehind: pid [0-9]+: 200 writes '
    sed -n 3p stats | grep -Eq '^writebehind: pid [0-9]+: 100 writes '
}
