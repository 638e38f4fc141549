#!/usr/bin/env bats
# `writebehind --stats`: one summary per run, owned by the wrapper, whatever
# the command does with its own stderr; exit status and signals as a plain
# run; the figures (files by inode, the time a byte waited, plurals) and the
# JSON form.

bats_require_minimum_version 1.5.0

setup() {
    load test_helper/common
    cd "$BATS_TEST_TMPDIR"
    T=$(pwd -P)
    WRITER=$(helper report_writer)
}

# The number of lines of $1 (a file) that are the summary's first line.
summaries() {
    grep -cE '^writebehind: (.* became [0-9]* write call|no writes were buffered)' "$1" || true
}

# ---- one report, whatever the command does with fd 2 --------------------

@test "--stats: a summary even from coreutils, which close their stderr at exit" {
    seq 1 20000 >in
    local cmd cmds=("seq 1 20000" "cat in" "sort -n in" "tr 1 2 <in" "grep 9 in"
        "xargs -n 500 /bin/echo <in" "/bin/echo hello")
    # (AddressSanitizer refuses dd's aligned_alloc(4096, 16))
    [[ -n $SAN_RUNTIME ]] || cmds+=("dd if=in bs=16 status=none")
    for cmd in "${cmds[@]}"; do
        bash -c "$cmd" >plain.out
        cli --stats bash -c "exec $cmd" >out 2>err
        echo "== $cmd"
        cat err
        cmp plain.out out
        [[ $(summaries err) == 1 ]]
        # cat copies with copy_file_range: no write() at all
        [[ $cmd == cat* ]] || grep -q "^writebehind: .*  $T/out$" err
    done
}

@test "--stats: the summary never lands in a data file that took fd 2" {
    "$WRITER" --reuse-fd2 data 100 2>/dev/null
    mv data plain
    run --separate-stderr cli --stats -d "$WRITER" --reuse-fd2 data 100
    [[ $status == 0 ]]
    cmp plain data
    echo "$stderr"
    [[ $stderr == *"writebehind: 100 writes"*"$T/data"* ]]
}

@test "--stats: one summary for the whole tree; processes that wrote nothing are left out" {
    run --separate-stderr cli --stats sh -c \
        "true; sh -c true; $WRITER out 200; sh -c 'sh -c true'; /bin/true"
    [[ $status == 0 ]]
    echo "$stderr"
    [[ $(grep -c 'became' <<<"$stderr") == 1 ]]
    [[ $stderr == *"200 writes"*" to 1 file became "* ]]
    # the detail: one line per file written, none for the idle processes
    [[ $(grep -c "^writebehind: .*  $T/" <<<"$stderr") == 1 ]]
    [[ $stderr =~ 1\ of\ ([0-9]+)\ processes ]]
    ((BASH_REMATCH[1] >= 4))
}

@test "--stats: a file opened again and again is one file, not one per open" {
    # (bash's echo writes through stdio's stdout, which the library sees
    # only when stdout was a file when bash started)
    cli --stats bash -c 'for i in $(seq 200); do echo $i >>f; done' >stdout 2>err
    cat err
    [[ $(summaries err) == 1 ]]
    grep -q "^writebehind: 200 writes (.*) to 1 file became 200 write calls" err
    seq 200 | cmp - f
}

@test "--stats: one write, one file, one call are said in the singular" {
    run --separate-stderr cli --stats "$WRITER" out 1
    echo "$stderr"
    [[ $stderr == *"writebehind: 1 write (7 bytes) to 1 file became 1 write call: 0 system calls saved"* ]]
    [[ $stderr != *"1 writes"* && $stderr != *"1 files"* && $stderr != *"1 calls"* ]]
}

@test "--stats: the longest wait is how long a byte waited in a buffer" {
    # Buffered at once, landed at exit 300 ms later: the wait is at least
    # that (the clock is coarse: a few ms of slack).
    run --separate-stderr cli --stats -t 3600000 "$WRITER" --sleep-ms 300 out 10
    echo "$stderr"
    [[ $stderr =~ a\ byte\ waited\ at\ most\ ([0-9]+)\ ms ]]
    ((BASH_REMATCH[1] >= 280))
}

@test "--stats-format=json: one object a script can read" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    run --separate-stderr cli --stats --stats-format=json "$WRITER" out 200
    [[ $status == 0 ]]
    echo "$stderr"
    python3 - "$stderr" "$T/out" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
assert r["writes"] == 200, r
assert r["kernel_writes"] >= 1 and r["system_calls_saved"] == 200 - r["kernel_writes"], r
assert r["exit_code"] == 0 and r["signal"] is None, r
f = r["per_file"]
assert len(f) == 1 and f[0]["path"] == sys.argv[2] and f[0]["writes"] == 200, f
EOF
}

@test "WRITEBEHIND_STATS_FORMAT=json: the same as --stats-format=json" {
    WRITEBEHIND_STATS_FORMAT=json cli --stats "$WRITER" out 20 2>err
    cat err
    [[ $(head -c 1 err) == "{" ]]
    grep -q '"writes": 20,' err
}

@test "WRITEBEHIND_STATS=1 with the wrapper: the wrapper's one summary" {
    WRITEBEHIND_STATS=1 cli seq 1 1000 >out 2>err
    cat err
    [[ $(summaries err) == 1 ]]
}

# ---- --stats=FILE ---------------------------------------------------------

@test "--stats=FILE: the summary is appended to FILE, nothing on stderr" {
    echo "an earlier line" >stats
    run --separate-stderr cli --stats="$T/stats" "$WRITER" out 200
    [[ $status == 0 ]]
    [[ -z $stderr ]]
    cat stats
    [[ $(head -1 stats) == "an earlier line" ]]
    [[ $(summaries stats) == 1 ]]
}

@test "--stats=FILE: a relative FILE is resolved once, in the wrapper's directory" {
    mkdir sub
    run --separate-stderr cli --stats=s.txt sh -c "cd sub && $WRITER ../out 100"
    [[ $status == 0 ]]
    [[ ! -e sub/s.txt ]]
    cat s.txt
    [[ $(summaries s.txt) == 1 ]]
}

@test "--stats=FILE: a FILE that cannot be written stops the wrapper before the command (125)" {
    run --separate-stderr cli --stats=/nonexistent/dir/stats touch ran
    echo "$stderr"
    [[ $status == 125 ]]
    [[ $stderr == "writebehind: cannot write the statistics to /nonexistent/dir/stats: "* ]]
    [[ ! -e ran ]]
}

@test "--stats FILE COMMAND: the failure says to write --stats=FILE" {
    run -127 --separate-stderr cli --stats stats.txt true
    echo "$stderr"
    [[ $stderr == *"failed to run command 'stats.txt'"* ]]
    [[ $stderr == *"--stats=FILE"* ]]
}

@test "--stats: a command that is not found is 127 and prints no summary" {
    run -127 --separate-stderr cli --stats no-such-command-writebehind-test
    [[ $stderr == *"failed to run command 'no-such-command-writebehind-test'"* ]]
    [[ $stderr != *became* && $stderr != *"no writes"* ]]
}

# ---- exit status and signals, as a plain run --------------------------------

# How a process ended, as perl's system() sees it: "exit N" or "signal N".
ended() {
    perl -e 'system(@ARGV); print $? & 127 ? "signal " . ($? & 127) : "exit " . ($? >> 8)' -- "$@"
}

@test "--stats: the exit status is the command's" {
    for code in 0 1 42 127; do
        [[ $(ended env LD_PRELOAD="$SAN_RUNTIME" "$WB" --stats sh -c "exit $code" 2>/dev/null) == "exit $code" ]]
    done
}

@test "--stats: a command killed by a signal kills the wrapper by the same signal" {
    [[ -z $SAN_RUNTIME ]] || skip "the sanitizer runtime reports signals its own way"
    [[ $(ended sh -c 'kill -TERM $$') == "signal 15" ]]
    [[ $(ended "$WB" --stats sh -c 'kill -TERM $$' 2>/dev/null) == "signal 15" ]]
    [[ $(ended "$WB" --stats sh -c 'kill -INT $$' 2>/dev/null) == "signal 2" ]]
    # and the shell's $? is the same
    run --separate-stderr bash -c '"$0" --stats sh -c "kill -TERM \$\$" 2>/dev/null; echo $?' "$WB"
    [[ $output == 143 ]]
}

@test "--stats: a signal sent to the wrapper reaches the command" {
    # not through cli(): a function run in the background is a subshell
    LD_PRELOAD="$SAN_RUNTIME" "$WB" --stats sh -c 'echo $$ >pid; exec sleep 30' 2>err &
    local wrapper=$! i=0
    while [[ ! -s pid ]] && ((i++ < 500)); do sleep 0.01; done
    [[ -s pid ]]
    kill -TERM "$wrapper"
    local status=0
    wait "$wrapper" || status=$?
    echo "status $status"
    ((status == 143))
    ! kill -0 "$(cat pid)" 2>/dev/null
}

@test "--stats: the writes of a command killed by a signal are counted" {
    [[ -z $SAN_RUNTIME ]] || skip "the sanitizer runtime reports signals its own way"
    run --separate-stderr cli --stats "$WRITER" --die 15 out 200
    echo "$stderr"
    ((status == 143))
    [[ $stderr == *"writebehind: 200 writes"* ]]
    [[ $(wc -l <out) == 200 ]]
}

# ---- real programs ------------------------------------------------------------

@test "--stats: python3 -u through its launcher (a shell shim or not): one summary" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    python3 -u -c 'for i in range(5000): print(i)' >plain.out
    cli --stats python3 -u -c 'for i in range(5000): print(i)' >out 2>err
    cat err
    cmp plain.out out
    [[ $(summaries err) == 1 ]]
    grep -q "^writebehind: .*  $T/out$" err
}

@test "--stats: a static program is named, and nothing is counted for it" {
    printf '#include <unistd.h>\nint main(void){for(int i=0;i<100;i++)write(1,"x\\n",2);return 0;}\n' >s.c
    gcc -static -o static s.c 2>/dev/null || skip "gcc -static does not work here (libc.a missing?)"
    run --separate-stderr cli --stats ./static
    echo "$stderr"
    [[ $stderr == *"./static is statically linked"* ]]
    [[ $stderr == *"no writes were buffered"* ]]
}
