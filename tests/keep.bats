#!/usr/bin/env bats
# --keep-in-children / WRITEBEHIND_KEEP: a program started with an
# environment that no longer holds the library (env -i, Python's subprocess
# with env={}, a bare execve) gets LD_PRELOAD and the WRITEBEHIND_* settings
# back; an environment that still holds them goes as it is; without the
# option the child runs without the library.  The child's output is
# compared with the plain run's, its write calls counted with strace.

setup() {
    load test_helper/common
    load test_helper/core
    cd "$BATS_TEST_TMPDIR"
    T=$(pwd -P)
    LINES=2000
    # What a sanitizer build's processes need in any environment (leak
    # checking cannot work under strace): an "empty" environment holds these.
    SAN_ENV=
    local v
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS TSAN_OPTIONS; do
        [[ -z ${!v:-} ]] || SAN_ENV+=" $v=$(printf %q "${!v}")"
    done
    SAN_VARS="('ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS', 'TSAN_OPTIONS')"
}

# kept_and_coalesced NAME CMD-TEMPLATE: CMD-TEMPLATE (bash -c, with OUT
# standing for the output file) run plainly makes one write call a line;
# under the wrapper with --keep-in-children the child's output is the same
# bytes, written in a few calls; without the option, one a line again.
kept_and_coalesced() {
    local name=$1 cmd=$2
    command -v strace >/dev/null || { echo "strace is missing"; return 1; }
    plain_traced "$name.plain.trace" bash -c "${cmd//OUT/$T/$name.plain}"
    cli_traced "$name.kept.trace" --keep-in-children -- bash -c "${cmd//OUT/$T/$name.kept}"
    cli_traced "$name.off.trace" -- bash -c "${cmd//OUT/$T/$name.off}"
    [[ $(writes_to "$name.plain.trace" "$T/$name.plain") == "$LINES" ]]
    few_writes "$name.kept.trace" "$T/$name.kept"
    echo "without the option: $(writes_to "$name.off.trace" "$T/$name.off") write calls"
    [[ $(writes_to "$name.off.trace" "$T/$name.off") == "$LINES" ]]
    cmp "$name.plain" "$name.kept"
    cmp "$name.plain" "$name.off"
}

@test "env -i: the child keeps the library and its writes coalesce, output unchanged" {
    command -v strace >/dev/null || skip "strace is not installed"
    kept_and_coalesced envi "exec env -i$SAN_ENV $(helper core_write) -n $LINES OUT"
}

@test "python subprocess with env={}: the child keeps the library, output unchanged" {
    command -v strace >/dev/null || skip "strace is not installed"
    command -v python3 >/dev/null || skip "python3 is not installed"
    local py="import os, subprocess, sys
env = {k: os.environ[k] for k in $SAN_VARS if k in os.environ}   # {} in a plain build
sys.exit(subprocess.run(sys.argv[1:], env=env).returncode)"
    kept_and_coalesced py "exec python3 -c \"$py\" $(helper core_write) -n $LINES OUT"
}

@test "every door that takes an environment puts the library back: execve, execle, vfork, posix_spawn, and exec after clearenv" {
    command -v strace >/dev/null || skip "strace is not installed"
    local how
    for how in execve-empty execve-null execle-empty clearenv-execv clearenv-execvp \
        vfork-empty spawn-empty spawnp-empty fail-empty; do
        echo "# $how"
        kept_and_coalesced "$how" "exec $(helper keep_exec) $how $(helper core_write) -n $LINES OUT"
    done
}

@test "the child gets back the LD_PRELOAD and WRITEBEHIND_* settings the process started with" {
    cli --keep-in-children -t 5000 -b 4K /usr/bin/env >parent.env
    cli --keep-in-children -t 5000 -b 4K "$(helper keep_exec)" execve-empty /usr/bin/env >child.env
    grep -E '^(LD_PRELOAD|WRITEBEHIND_[A-Z_]*)=' parent.env | sort >want
    grep -vE '^(ASAN|UBSAN|LSAN|TSAN)_OPTIONS=' child.env | sort >got
    cat got
    grep -qx "LD_PRELOAD=$(wb_env)" got
    grep -qx "WRITEBEHIND_FLUSH_MS=5000" got
    diff want got
}

@test "an environment that still holds the library goes unchanged (no second LD_PRELOAD entry)" {
    cli --keep-in-children /usr/bin/env >parent.env
    cli --keep-in-children "$(helper keep_exec)" execve-same /usr/bin/env >child.env
    cat child.env
    [[ $(grep -c '^LD_PRELOAD=' child.env) == 1 ]]
    [[ $(grep '^LD_PRELOAD=' child.env | grep -o 'libwritebehind\.so' | wc -l) == 1 ]]
    cmp parent.env child.env
}

@test "an LD_PRELOAD without the library gets the library appended, in its place" {
    # Something harmless to preload: the sanitizer runtime must come first anyway.
    local other=${SAN_RUNTIME:-libc.so.6}
    KEEP_PRELOAD=$other cli --keep-in-children "$(helper keep_exec)" execve-preload \
        /usr/bin/env >child.env
    cat child.env
    [[ $(head -1 child.env) == "LD_PRELOAD=$other:$LIB" ]]
    grep -qx "WRITEBEHIND_KEEP=1" child.env
}

@test "a child's own WRITEBEHIND_* setting wins over the one put back" {
    cli --keep-in-children -t 5000 "$(helper keep_exec)" execve-same \
        /usr/bin/env -i WRITEBEHIND_FLUSH_MS=7 /usr/bin/env >child.env
    cat child.env
    [[ $(grep -c '^WRITEBEHIND_FLUSH_MS=' child.env) == 1 ]]
    grep -qx "WRITEBEHIND_FLUSH_MS=7" child.env
    grep -qx "LD_PRELOAD=$(wb_env)" child.env
}

@test "off by default: env -i starts the child without the library" {
    cli /usr/bin/env -i /usr/bin/env >child.env
    WRITEBEHIND_KEEP=0 cli /usr/bin/env -i /usr/bin/env >>child.env
    cli --keep-in-children=no /usr/bin/env -i /usr/bin/env >>child.env
    cat child.env
    [[ ! -s child.env ]]
}
