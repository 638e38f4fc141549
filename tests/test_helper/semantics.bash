# Shared setup for the semantics suites (differential, semantics, errors,
# threads, signals).  Loaded after common.bash.
#
#   plain_vs_wb NAME ENV... -- CMD...
#                    run CMD in $BATS_TEST_TMPDIR/NAME.plain and, with ENV
#                    and the library, in $BATS_TEST_TMPDIR/NAME.wb; fail with
#                    a diff when status, stdout, stderr or the files differ
#                    (LOSS_LINE_ALLOWED=1: the library may add its one
#                    "could not write" line to stderr)
#   status_name N    "exit N" or "signal NAME" for a shell status
#   agree HELPER SCENARIO   plain_vs_wb with the timer off, default and tiny buffers

# No core files in scratch directories: several tests die by signals on purpose.
ulimit -c 0

# Under the library every program that writes has a second thread (the
# flusher), so a forked child that writes starts a thread after a
# multi-threaded fork, which ThreadSanitizer refuses by default.
if [[ $SANITIZER == thread ]]; then
    export TSAN_OPTIONS=$TSAN_OPTIONS:die_after_fork=0
fi

status_name() {
    local st=$1
    if ((st > 128 && st < 128 + 65)); then
        printf 'signal %s' "$(kill -l "$((st - 128))")"
    else
        printf 'exit %s' "$st"
    fi
}

plain_vs_wb() {
    local name=$1; shift
    local -a envs=()
    while [[ $1 != -- ]]; do envs+=("$1"); shift; done
    shift
    local p=$BATS_TEST_TMPDIR/$name.plain w=$BATS_TEST_TMPDIR/$name.wb sp sw
    rm -rf "$p" "$w"
    mkdir -p "$p" "$w"
    sp=0 sw=0
    # exec: no shell stays behind to report a death by signal on stderr
    (cd "$p" && exec "$@") >"$p.out" 2>"$p.err" || sp=$?
    (cd "$w" && exec env "${envs[@]}" LD_PRELOAD="$(wb_env)" "$@") >"$w.out" 2>"$w.err" || sw=$?
    if [[ $sp != "$sw" ]]; then
        echo "$name: plain $(status_name "$sp"), writebehind $(status_name "$sw")"
        tail -5 "$w.err"
        return 1
    fi
    diff -u "$p.out" "$w.out" | head -40 || true
    cmp -s "$p.out" "$w.out" || { echo "$name: stdout differs"; return 1; }
    if [[ -n ${LOSS_LINE_ALLOWED:-} ]]; then
        # The one line that says which bytes a background write lost; the
        # rest of stderr must match.
        (($(grep -c '^writebehind: could not write' "$w.err") <= 1)) || { cat "$w.err"; return 1; }
        sed -i '/^writebehind: could not write/d' "$w.err"
    fi
    cmp -s "$p.err" "$w.err" || { diff -u "$p.err" "$w.err" | head -20; echo "$name: stderr differs"; return 1; }
    diff -r "$p" "$w" >/dev/null || { diff -r "$p" "$w" | head -20; echo "$name: files differ"; return 1; }
}

# The timer never lands anything during a test run with this: whatever the
# kernel holds was landed by the call the test is about.
NO_TIMER=WRITEBEHIND_FLUSH_MS=3600000

# agree HELPER SCENARIO: the scenario prints the same and leaves the same
# files plainly and under the library, with default buffers and with 8-byte
# ones (most writes then go straight through, behind buffered ones).
agree() {
    local h=$1 sc=$2
    plain_vs_wb "$sc" "$NO_TIMER" -- "$(helper "$h")" "$sc" &&
        plain_vs_wb "$sc.small" "$NO_TIMER" WRITEBEHIND_BUFSIZE=8 -- "$(helper "$h")" "$sc"
}
