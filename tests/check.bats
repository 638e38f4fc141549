#!/usr/bin/env bats
# `writebehind --check COMMAND`: the command runs unbuffered and traced, and
# the verdict says whether writebehind would help it, by how much, why not,
# and which programs LD_PRELOAD cannot reach.  Real programs: coreutils,
# python3, a static binary, shell loops, Go.

bats_require_minimum_version 1.5.0

setup() {
    load test_helper/common
    cd "$BATS_TEST_TMPDIR"
    T=$(pwd -P)
    WRITER=$(helper report_writer)
    if [[ -n $SAN_RUNTIME ]]; then
        skip "--check traces with ptrace; the sanitizer runtimes do not like being traced"
    fi
}

check() {
    "$WB" --check "$@"
}

# The verdict line of $output / $stderr.
verdict() {
    grep '^writebehind: verdict: ' <<<"$1"
}

@test "--check: a program writing a line at a time would be helped; the file is unchanged" {
    "$WRITER" plain.out 5000
    run --separate-stderr check "$WRITER" out 5000
    echo "$stderr"
    [[ $status == 0 ]]
    cmp plain.out out
    [[ $(verdict "$stderr") == "writebehind: verdict: writebehind would help: 5000 write calls would become about "* ]]
    grep -Eq "^writebehind: +5000 +5000 +[0-9]+  $T/out$" <<<"$stderr"
}

@test "--check: the command runs without the library" {
    run --separate-stderr check sh -c 'printf "%s\n" "$LD_PRELOAD" "$WRITEBEHIND_DISABLE"'
    [[ $status == 0 ]]
    [[ $output != *libwritebehind* ]]
    # preloaded from outside, the library is told to pass everything through
    run --separate-stderr env LD_PRELOAD="$LIB" "$WB" --check sh -c 'echo "$WRITEBEHIND_DISABLE"'
    [[ $output == 1 ]]
}

@test "--check: exit status and death by a signal are the command's" {
    run --separate-stderr check sh -c 'exit 3'
    [[ $status == 3 ]]
    run --separate-stderr perl -e 'system(@ARGV); print $? & 127' -- "$WB" --check sh -c 'kill -TERM $$'
    [[ $output == 15 ]]
    run -127 --separate-stderr check no-such-command-writebehind-test
    [[ $stderr == *"failed to run command 'no-such-command-writebehind-test'"* ]]
}

@test "--check: coreutils writing small pieces (dd bs=16, grep --line-buffered) would be helped" {
    seq 1 20000 >in
    run --separate-stderr check dd if=in of=out bs=16 status=none
    echo "$stderr"
    cmp in out
    [[ $(verdict "$stderr") == *"would help:"* ]]
    grep -q "  $T/out$" <<<"$stderr"
    run --separate-stderr check sh -c "grep --line-buffered 1 in >out2"
    echo "$stderr"
    [[ $(verdict "$stderr") == *"would help:"* ]]
}

@test "--check: python3 -u printing line by line would be helped" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    run --separate-stderr check sh -c "python3 -u -c 'for i in range(3000): print(i)' >out"
    echo "$stderr"
    [[ $status == 0 ]]
    seq 0 2999 | cmp - out
    [[ $(verdict "$stderr") == *"would help:"* ]]
}

@test "--check: a static binary is named as out of reach and saves nothing" {
    printf '#include <unistd.h>\nint main(void){for(int i=0;i<500;i++)write(1,"x\\n",2);return 0;}\n' >s.c
    gcc -static -o static s.c 2>/dev/null || skip "gcc -static does not work here (libc.a missing?)"
    run --separate-stderr check sh -c './static >out'
    echo "$stderr"
    [[ $(wc -l <out) == 500 ]]
    [[ $(verdict "$stderr") == *"would not help"* ]]
    [[ $stderr == *"writebehind: cannot reach: $T/static is statically linked"*"(1 process, 500 writes)"* ]]
}

@test "--check: a shell loop appending with >> would not be helped: every close lands" {
    run --separate-stderr check bash -c 'for i in $(seq 300); do echo $i >>f; done'
    echo "$stderr"
    seq 300 | cmp - f
    [[ $(verdict "$stderr") == *"would not help"* ]]
    [[ $stderr == *"why: most buffers would be landed by close"* ]]
}

@test "--check: many short processes are named as the reason" {
    run --separate-stderr check bash -c 'for i in $(seq 100); do /bin/echo $i >>f; done'
    echo "$stderr"
    [[ $(verdict "$stderr") == *"would not help"* ]]
    [[ $stderr =~ why:\ ([0-9]+)\ processes\ made ]]
    ((BASH_REMATCH[1] >= 100))
}

@test "--check: writes to a pipe point to --pipes, and --pipes counts them in" {
    run --separate-stderr check sh -c "$WRITER /dev/stdout 3000 | cat >out"
    echo "$stderr"
    [[ $(wc -l <out) == 3000 ]]
    [[ $stderr == *"why: 3000 writes went to pipes, which are buffered only with --pipes"* ]]
    [[ $(verdict "$stderr") != *"would help:"* ]]
    run --separate-stderr "$WB" --check --pipes sh -c "$WRITER /dev/stdout 3000 | cat >out"
    echo "$stderr"
    [[ $(verdict "$stderr") == *"would help:"* ]]
}

@test "--check: --bufsize and --fd shape the estimate as they would the run" {
    run --separate-stderr check "$WRITER" out 2000
    [[ $(verdict "$stderr") == *"would help:"* ]]
    # -f 1 alone: a file the program opens is not selected
    run --separate-stderr "$WB" --check -f 1 "$WRITER" out 2000
    echo "$stderr"
    [[ $(verdict "$stderr") == *"would not help"* ]]
    [[ $stderr == *"not selected by --path/--fd"* ]]
}

@test "--check: a program with Go's build-id note is named as out of reach" {
    command -v objcopy >/dev/null || skip "objcopy is not installed"
    printf 'Go\0\0' >note
    objcopy --add-section .note.go.buildid=note "$WRITER" gowriter
    run --separate-stderr check ./gowriter out 300
    echo "$stderr"
    [[ $stderr == *"cannot reach: $T/gowriter is a Go program"* ]]
    # and the normal run warns
    run --separate-stderr "$WB" ./gowriter out2 10
    [[ $stderr == "writebehind: ./gowriter is a Go program"* ]]
}

@test "--check: a real Go program is named as out of reach" {
    command -v go >/dev/null || skip "go is not installed (.ci/run installs golang-go)"
    cat >main.go <<'EOF'
package main

import (
	"fmt"
	"os"
)

func main() {
	f, _ := os.Create(os.Args[1])
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(f, "line#%d\n", i)
	}
	f.Close()
}
EOF
    HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath go build -o goprog main.go
    run --separate-stderr check ./goprog out
    echo "$stderr"
    [[ $(wc -l <out) == 1000 ]]
    [[ $stderr == *"cannot reach: $T/goprog is a Go program"*"1000 writes)"* ]]
    run --separate-stderr "$WB" ./goprog out
    [[ $stderr == "writebehind: ./goprog is a Go program"* ]]
}

@test "--check: a setuid program (for another user) is named as out of reach" {
    [[ $(id -u) == 0 ]] || skip "needs root to make a setuid copy owned by another user"
    cp "$WRITER" suid
    chown nobody suid
    chmod 4755 suid
    run --separate-stderr check sh -c "./suid /dev/stdout 100 >out"
    echo "$stderr"
    [[ $stderr == *"cannot reach: $T/suid is setuid/setgid"* ]]
}

@test "--check --stats-format=json: the verdict as one JSON object" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    run --separate-stderr "$WB" --check --stats-format=json "$WRITER" out 1000
    echo "$stderr"
    python3 - "$stderr" "$T/out" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
assert r["writes"] == 1000 and r["would_help"] is True, r
t = [x for x in r["targets"] if x["target"] == sys.argv[2]]
assert t and t[0]["writes"] == 1000 and t[0]["buffered"], r
EOF
}

@test "--check with --stats: refused, since nothing is buffered" {
    run --separate-stderr "$WB" --check --stats true
    [[ $status == 125 ]]
    [[ $stderr == "writebehind: --check and --stats do not go together"* ]]
}
