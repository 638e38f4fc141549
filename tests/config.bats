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

@test "KEEP=maybe: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_KEEP=maybe
}

@test "DISABLE=maybe: the message names the variable, the option and the yes/no words" {
    one_message_and_unbuffered WRITEBEHIND_DISABLE=maybe
    grep -qF 'WRITEBEHIND_DISABLE="maybe" (--disable) is not a yes/no value (1/0, yes/no, true/false, on/off)' err
}

@test "flags: an empty value is a mistake, not a no" {
    one_message_and_unbuffered WRITEBEHIND_DEBUG=
}

@test "flags: every yes/no word is accepted, in any case, without a message" {
    for word in 1 yes true on Yes TRUE; do
        WRITEBEHIND_DEBUG=$word wb "$(helper core_write)" -n 1 out 2>err
        grep -q 'tagged' err
    done
    for word in 0 no false off NO; do
        WRITEBEHIND_DEBUG=$word wb "$(helper core_write)" -n 1 out 2>err
        [[ ! -s err ]]
    done
}

@test "MAX_MEMORY=1T: the stated limit is accepted" {
    wb_traced wb.trace WRITEBEHIND_MAX_MEMORY=1T "$(helper core_write)" -n 200 out 2>err
    cat err
    [[ ! -s err ]]
    few_writes wb.trace "$T/out"
}

@test "ONLY=a,b: other programs pass through silently; the named one buffers" {
    wb_traced other.trace WRITEBEHIND_ONLY=cc1,ld "$(helper core_write)" -n 200 out 2>err
    [[ ! -s err ]]
    [[ $(writes_to other.trace "$T/out") == 200 ]]
    wb_traced named.trace WRITEBEHIND_ONLY=cc1,core_write "$(helper core_write)" -n 200 out2
    few_writes named.trace "$T/out2"
}

@test "SKIP=prog: that program passes through; its children still decide for themselves" {
    wb_traced skip.trace WRITEBEHIND_SKIP=core_write "$(helper core_write)" -n 200 out 2>err
    [[ ! -s err ]]
    [[ $(writes_to skip.trace "$T/out") == 200 ]]
    wb_traced child.trace WRITEBEHIND_SKIP=sh sh -c "$(helper core_write) -n 200 out2"
    few_writes child.trace "$T/out2"
}

@test "ONLY=a/b: one-line message, the program runs unbuffered and unchanged" {
    one_message_and_unbuffered WRITEBEHIND_ONLY=a/b
}

@test "messages and the STATS line never land in a data file that took fd 2" {
    "$(helper report_writer)" --reuse-fd2 plain 100 2>/dev/null
    WRITEBEHIND_STATS=1 WRITEBEHIND_DEBUG=1 WRITEBEHIND_BUFSIZE=16 \
        wb "$(helper report_writer)" --reuse-fd2 data 100
    cmp plain data
    # a bad setting is still said, where stderr was at start
    WRITEBEHIND_FOO=1 wb "$(helper report_writer)" --reuse-fd2 data 100 2>err
    cmp plain data
    grep -q 'unknown variable WRITEBEHIND_FOO' err
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
    grep -Eq '^writebehind: pid [0-9]+: 200 writes \([0-9]+ bytes\) to 1 file became 1 write call ' err
}

@test "STATS=yes, true, on: words, like 1; no, false, off: like 0 (no file named after them)" {
    for word in yes true on YES; do
        WRITEBEHIND_STATS=$word wb "$(helper core_write)" -n 20 out 2>err
        [[ $(wc -l <err) == 1 ]]
        grep -q '^writebehind: pid [0-9]*: 20 writes' err
    done
    for word in no false off 0; do
        WRITEBEHIND_STATS=$word wb "$(helper core_write)" -n 20 out 2>err
        [[ ! -s err ]]
    done
    ls
    [[ ! -e no && ! -e yes && ! -e true && ! -e false && ! -e on && ! -e off ]]
}

@test "STATS=relative/path: one message (it would land in each process's own directory)" {
    one_message_and_unbuffered WRITEBEHIND_STATS=stats.txt
    [[ ! -e stats.txt ]]
    grep -q 'absolute path' err
}

@test "STATS: a process that wrote nothing says nothing" {
    WRITEBEHIND_STATS=1 wb sh -c 'true; /bin/true' 2>err
    [[ ! -s err ]]
}

@test "STATS=1: counts files, not descriptors, and says 1 file, 1 write" {
    WRITEBEHIND_STATS=1 wb bash -c 'for i in $(seq 50); do echo $i >>f; done' >stdout 2>err
    cat err
    grep -q ' 50 writes (141 bytes) to 1 file became 50 write calls' err
    WRITEBEHIND_STATS=1 wb "$(helper core_write)" -n 1 out 2>err
    cat err
    grep -q ': 1 write (.*) to 1 file became 1 write call (coalescing 1.0x, 0 system calls saved)' err
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
