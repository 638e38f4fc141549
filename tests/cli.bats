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
    for opt in --bufsize --flush-ms --max-memory --path --fd --pipes --only --skip --disable \
        --stats --stats-format --check --lib --debug --help --version; do
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

@test "--stats: one summary on stderr" {
    run --separate-stderr cli --stats "$(helper core_write)" -n 200 out
    [[ $status == 0 ]]
    echo "$stderr"
    [[ $stderr =~ ^writebehind:\ 200\ writes\ \([0-9]+\ bytes\)\ to\ 1\ file\ became\ [0-9]+\ write\ call ]]
    [[ $(grep -c became <<<"$stderr") == 1 ]]
    [[ $stderr == *"  $T/out"* ]]
}

@test "--stats=FILE: the summary is appended to FILE" {
    echo "an earlier line" >stats
    run --separate-stderr cli --stats="$T/stats" "$(helper core_write)" -n 200 out
    [[ $status == 0 ]]
    [[ -z $stderr ]]
    cat stats
    [[ $(head -1 stats) == "an earlier line" ]]
    sed -n 2p stats | grep -Eq '^writebehind: 200 writes '
}

@test "-d: says which fds are buffered and why not" {
    run --separate-stderr cli -d "$(helper core_write)" -n 10 out
    [[ $status == 0 ]]
    [[ $stderr == *"($T/out) tagged"* ]]
    run --separate-stderr cli --debug "$(helper core_write)" -n 10 -o sync out
    [[ $stderr == *"out) not tagged: O_SYNC"* ]]
}

@test "-d: read-only descriptors are reported too" {
    echo data >in
    run --separate-stderr cli -d sh -c 'exec 3<in; cat <&3 >/dev/null'
    echo "$stderr"
    [[ $stderr == *"(in) not tagged: not open for writing"* ]]
}

@test "-d: a pipe's hint names --pipes" {
    run --separate-stderr cli -d "$(helper core_write)" -n 3 fd:1
    echo "$stderr"
    [[ $stderr == *"fd 1 (pipe:"*") not tagged: a pipe (use --pipes"* ]]
}

@test "--debug[=BOOL]: the same yes/no words as the variables" {
    for word in 1 yes true on YES; do
        run --separate-stderr cli --debug="$word" "$(helper core_write)" -n 1 out
        [[ $stderr == *"tagged"* ]]
    done
    for word in 0 no false off; do
        run --separate-stderr cli --debug="$word" "$(helper core_write)" -n 1 out
        [[ -z $stderr ]]
    done
    # the last word wins, so an exported variable can be overridden
    run --separate-stderr env WRITEBEHIND_DEBUG=1 LD_PRELOAD="$SAN_RUNTIME" "$WB" --debug=no env
    has_line "WRITEBEHIND_DEBUG=0"
}

@test "sizes: every size up to its stated limit is accepted (-m 1T, -b 1G)" {
    run cli -m 1T -b 1G env
    [[ $status == 0 ]]
    has_line "WRITEBEHIND_MAX_MEMORY=1T"
    has_line "WRITEBEHIND_BUFSIZE=1G"
    run --separate-stderr cli -m 1025G true
    [[ $status == 125 ]]
    [[ $stderr == *"1 to 1T"* ]]
}

@test "--disable: the library is preloaded and passes everything straight through" {
    run cli --disable env
    has_line "WRITEBEHIND_DISABLE=1"
    cli_traced wb.trace --disable "$(helper core_write)" -n 200 out
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
}

@test "--only, --skip: repeated lists become WRITEBEHIND_ONLY and WRITEBEHIND_SKIP" {
    run cli --only=a,b --only=c --skip=d env
    has_line "WRITEBEHIND_ONLY=a,b,c"
    has_line "WRITEBEHIND_SKIP=d"
}

@test "--skip=PROG: that program passes through; the programs it starts still buffer" {
    cli_traced wb.trace --skip=core_write "$(helper core_write)" -n 200 out
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
    cli_traced sh.trace --skip=sh sh -c "$(helper core_write) -n 200 out2"
    few_writes sh.trace "$T/out2"
    cli_traced only.trace --only=core_write sh -c "$(helper core_write) -n 200 out3"
    few_writes only.trace "$T/out3"
}

@test "--help: -f and -p each say in one sentence what happens to everything else" {
    run --separate-stderr cli --help
    # the option's text runs until the next option
    fd_text=$(sed -n '/^  -f, --fd/,/^  *--pipes/p' <<<"$output" | head -n -1 | tr -s ' \n' ' ')
    path_text=$(sed -n '/^  -p, --path/,/^  -f, --fd/p' <<<"$output" | head -n -1 | tr -s ' \n' ' ')
    echo "fd: $fd_text"
    echo "path: $path_text"
    [[ $fd_text == *"nothing they do not select"* && $fd_text == *"-f 1 alone buffers standard output only"* ]]
    [[ $path_text == *"only the files whose path matches GLOB"* ]]
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

@test "LD_PRELOAD: a copy of the library from another path is kept, not doubled" {
    mkdir -p other
    cp "$LIB" other/libwritebehind.so
    pre=$T/other/libwritebehind.so
    [[ -z $SAN_RUNTIME ]] || pre=$SAN_RUNTIME:$pre
    run env LD_PRELOAD="$pre" "$WB" env
    [[ $status == 0 ]]
    has_line "LD_PRELOAD=$pre"
}

@test "nested wrappers (an installed one around the build tree's): one library, one summary" {
    mkdir -p inst/bin inst/lib/writebehind
    cp "$WB" inst/bin/writebehind
    cp "$LIB" inst/lib/writebehind/libwritebehind.so
    run --separate-stderr cli --stats "$WB" "$(helper core_write)" -n 200 out
    echo "$stderr"
    [[ $(grep -c became <<<"$stderr") == 1 ]]
    run --separate-stderr env LD_PRELOAD="$SAN_RUNTIME" "$T/inst/bin/writebehind" --stats \
        "$WB" sh -c 'echo "$LD_PRELOAD"; '"$(helper core_write)"' -n 200 out'
    echo "$output"
    echo "$stderr"
    [[ $(grep -o libwritebehind.so <<<"$output" | wc -l) == 1 ]]
    [[ $output == *"$T/inst/lib/writebehind/libwritebehind.so"* ]]
    [[ $(grep -c became <<<"$stderr") == 1 ]]
}

# ---- finding the library ------------------------------------------------

@test "--lib=PATH: a copied wrapper preloads the library it is told" {
    mkdir -p elsewhere
    cp "$WB" elsewhere/writebehind
    run --separate-stderr env LD_PRELOAD="$SAN_RUNTIME" elsewhere/writebehind --lib="$LIB" \
        sh -c 'printf "%s\n" "$LD_PRELOAD"'
    [[ $status == 0 ]]
    [[ $output == *"$LIB_REAL" ]]
}

@test "WRITEBEHIND_LIB: the same as --lib, and made absolute" {
    mkdir -p elsewhere
    cp "$WB" elsewhere/writebehind
    ln -s "$LIB" mylib.so
    run --separate-stderr env LD_PRELOAD="$SAN_RUNTIME" WRITEBEHIND_LIB=mylib.so \
        elsewhere/writebehind sh -c 'printf "%s\n" "$LD_PRELOAD"'
    [[ $status == 0 ]]
    [[ $output == *"$LIB_REAL" ]]
}

@test "a copied wrapper that finds no library says to use --lib (125)" {
    [[ ! -e /usr/local/lib/writebehind/libwritebehind.so ]] || skip "an installed library is found"
    mkdir -p elsewhere
    cp "$WB" elsewhere/writebehind
    run --separate-stderr env LD_PRELOAD="$SAN_RUNTIME" elsewhere/writebehind true
    [[ $status == 125 ]]
    [[ $stderr == *"--lib=PATH"* && $stderr == *"WRITEBEHIND_LIB"* ]]
    run --separate-stderr elsewhere/writebehind --lib=/nonexistent/libwritebehind.so true
    [[ $status == 125 ]]
    [[ $stderr == "writebehind: --lib: cannot use '/nonexistent/libwritebehind.so'"* ]]
}

# ---- the documentation agrees ------------------------------------------------

# Every long option of the wrapper: from its own option table.
long_options() {
    grep -o '{ "[a-z-]*", [a-z_]*_argument' "$BATS_TEST_DIRNAME/../src/cli/main.c" |
        sed 's/{ "\([a-z-]*\)".*/--\1/'
}

@test "docs: every option is in --help, the man page and the README" {
    local root=$BATS_TEST_DIRNAME/.. opt missing=() help man readme
    help=$("$WB" --help)
    man=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$root/writebehind.1")
    readme=$(cat "$root/README.md")
    [[ $(long_options | wc -l) -ge 16 ]]
    for opt in $(long_options); do
        [[ $help == *"$opt"* ]] || missing+=("--help:$opt")
        [[ $man == *"$opt"* ]] || missing+=("man:$opt")
        [[ $readme == *"$opt"* ]] || missing+=("README:$opt")
    done
    echo "missing: ${missing[*]}"
    ((${#missing[@]} == 0))
}

@test "docs: every WRITEBEHIND_* variable is in the man page and the README" {
    local root=$BATS_TEST_DIRNAME/.. var missing=()
    for var in $(grep -o '"WRITEBEHIND_[A-Z_]*"' "$root/src/config.c" | tr -d '"' | sort -u); do
        grep -q "$var" "$root/writebehind.1" || missing+=("man:$var")
        grep -q "$var" "$root/README.md" || missing+=("README:$var")
    done
    echo "missing: ${missing[*]}"
    ((${#missing[@]} == 0))
}

@test "docs: every speed-up in the README's Performance table is one bench/results.md measured" {
    local root=$BATS_TEST_DIRNAME/.. figure missing=()
    table=$(sed -n '/^## Performance/,/^## /p' "$root/README.md" | grep '^|')
    [[ -n $table ]]
    for figure in $(grep -oE '[0-9]+(\.[0-9]+)?x' <<<"$table" | sort -u); do
        grep -qE "(^|[^0-9.])$figure" "$root/bench/results.md" || missing+=("$figure")
    done
    echo "not in bench/results.md: ${missing[*]}"
    ((${#missing[@]} == 0))
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

@test "exit 125: an option without its value, named as typed" {
    run --separate-stderr cli -b
    [[ $status == 125 ]]
    [[ $stderr == *"writebehind: option '-b' needs a value"* ]]
    [[ $stderr == *"Try 'writebehind --help'"* ]]
    run --separate-stderr cli --bufsize
    [[ $status == 125 ]]
    [[ $stderr == *"writebehind: option '--bufsize' needs a value"* ]]
}

@test "exit 125: a value for an option that takes none, an ambiguous abbreviation" {
    run --separate-stderr cli --check=1 true
    [[ $status == 125 ]]
    [[ $stderr == *"writebehind: option '--check' takes no value"* ]]
    run --separate-stderr cli --st true
    [[ $status == 125 ]]
    [[ $stderr == *"ambiguous option '--st' (--stats, --stats-format)"* ]]
}

@test "a bad value is explained with the option as typed" {
    run --separate-stderr cli --bufsize=abc true
    [[ $stderr == "writebehind: invalid value 'abc' for --bufsize: "* ]]
    run --separate-stderr cli -b abc true
    [[ $stderr == "writebehind: invalid value 'abc' for -b: "* ]]
    run --separate-stderr cli --debug=maybe true
    [[ $stderr == "writebehind: invalid value 'maybe' for --debug: not a yes/no value (1/0, yes/no, true/false, on/off)"* ]]
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
    for bad in "-b abc" "-b 0" "-b 2G" "-t 0" "-t -1" "-t 3600001" "-m xyz" "-m 2T" "-f a" \
        "-p a:b" "--pipes=maybe" "--debug=2" "--disable=x" "--only=a/b" "--skip=" \
        "--stats-format=xml" "--stats=" "--lib=/nonexistent/libwritebehind.so"; do
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
