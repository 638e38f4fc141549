#!/usr/bin/env bats
# Write errors and resource limits.  A buffered write's error cannot be
# returned by the call that made it: the library reports it on the next call
# on that file (errno as the kernel gave it, the signal a plain write would
# have raised) and says once on stderr which file lost how many bytes.  It
# never reorders, invents or silently drops bytes: the file is always a
# prefix of what the program wrote.  Scenarios: tests/helpers/sem_errors.c.

load test_helper/common
load test_helper/semantics

# The report lines of a sem_errors run: "accepted N", "size S", "prefix yes".
field() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# Exactly one "writebehind:" line, naming $2 and the bytes lost ($3).
one_loss_line() {
    local err=$1 path=$2 lost=$3
    local n
    n=$(grep -c '^writebehind:' "$err" || true)
    if [[ $n != 1 ]]; then
        echo "expected one writebehind: line, got $n:"; cat "$err"; return 1
    fi
    grep -q "^writebehind: could not write $lost bytes to $path " "$err" || {
        echo "expected the line to name $path and $lost lost bytes:"; cat "$err"; return 1
    }
    grep -q 'writebehind:.*(.*then rerun)$' "$err"   # says what to do
}

@test "full disk (64 KiB tmpfs): ENOSPC at a later call, one message with the lost bytes, file a prefix" {
    [[ $(id -u) == 0 ]] || skip "mounting a tmpfs needs root"
    local mnt=$BATS_TEST_TMPDIR/small
    mkdir -p "$mnt"
    mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null || skip "cannot mount a tmpfs here"
    local mode bs out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err status=0
    for mode in fill fill-ignoring-errors; do
        for bs in 1000 4096 65536 262144; do
            rm -f "$mnt"/*
            WRITEBEHIND_BUFSIZE=$bs wb "$(helper sem_errors)" "$mode" "$mnt/f" 1000000 100 \
                >"$out" 2>"$err" || status=$?
            grep -qx 'first error: write ENOSPC\|fsync ENOSPC\|close ENOSPC' "$out" || {
                echo "$mode bufsize $bs: the program was never told"; cat "$out"; status=1; break 2; }
            [[ $(field prefix "$out") == yes ]] || { echo "$mode $bs: not a prefix"; status=1; break 2; }
            local lost=$(( $(field accepted "$out") - $(field size "$out") ))
            if ((lost > 0)); then
                one_loss_line "$err" "$mnt/f" "$lost" || { echo "($mode bufsize $bs)"; status=1; break 2; }
            else
                ! grep -q '^writebehind:' "$err" || { cat "$err"; status=1; break 2; }
            fi
        done
    done
    umount "$mnt"
    return "$status"
}

@test "/dev/full is not a regular file: left untagged, every write fails at once as without the library" {
    same_as_plain --name devfull --no-timer --compare +stderr -- "$(helper sem_errors)" fill /dev/full 1000 10
    WRITEBEHIND_DEBUG=1 wb "$(helper sem_errors)" fill /dev/full 100 10 2>"$BATS_TEST_TMPDIR/err" >/dev/null
    grep -q '^writebehind: fd [0-9]* (/dev/full) not tagged: not a regular file' "$BATS_TEST_TMPDIR/err"
}

@test "RLIMIT_FSIZE with SIGXFSZ at its default: dies by SIGXFSZ with the same file as plain" {
    # When the background writer hit the limit, the bytes past it are named
    # on stderr (--loss-line) before the program's next call dies by SIGXFSZ.
    local run=("$(helper sem_errors)" fsize 10000 100 dfl)
    same_as_plain --name fsize --no-timer --loss-line --status XFSZ -- "${run[@]}"
    same_as_plain --name fsize-small --no-timer --bufsize 4096 --loss-line --status XFSZ -- "${run[@]}"
    same_as_plain --name fsize-timer --timer 1 --loss-line --status XFSZ -- "${run[@]}"
}

@test "RLIMIT_FSIZE with SIGXFSZ ignored: the short write and EFBIG come at the plain run's call, no message" {
    # A finite limit turns buffering off: only unbuffered writes are cut
    # exactly where the kernel cuts them.
    local run=("$(helper sem_errors)" fsize 10000 100 ign)
    same_as_plain --name fsize-ign --no-timer --compare +stderr -- "${run[@]}"
    same_as_plain --name fsize-ign-small --no-timer --bufsize 4096 --compare +stderr -- "${run[@]}"
}

@test "EPIPE with WRITEBEHIND_PIPES=1 and SIGPIPE at its default: dies by SIGPIPE as plain" {
    # --loss-line: when the background writer met the broken pipe first
    same_as_plain --name epipe --no-timer --env WRITEBEHIND_PIPES=1 --loss-line --status PIPE -- \
        "$(helper sem_errors)" epipe dfl
}

@test "EPIPE with WRITEBEHIND_PIPES=1 and SIGPIPE ignored: EPIPE at a later call, one message" {
    local out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err
    env WRITEBEHIND_PIPES=1 "$NO_TIMER" LD_PRELOAD="$(wb_env)" "$(helper sem_errors)" epipe ign >"$out" 2>"$err"
    grep -qx 'first error: write EPIPE\|close EPIPE' "$out"
    grep -qx 'told of an error: yes' "$out"
    [[ $(grep -c '^writebehind:' "$err") == 1 ]] || { cat "$err"; false; }
    grep -q '^writebehind: could not write [0-9]* bytes to pipe:' "$err"
}

@test "a single write, then exit: the byte lands even when the background writer cannot start" {
    cat >"$BATS_TEST_TMPDIR/nothread.c" <<'C'
#include <errno.h>
#include <pthread.h>
int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{ (void)t; (void)a; (void)fn; (void)arg; return EAGAIN; }
C
    ${CC:-cc} -shared -fPIC -o "$BATS_TEST_TMPDIR/nothread.so" "$BATS_TEST_TMPDIR/nothread.c"
    cd "$BATS_TEST_TMPDIR"
    LD_PRELOAD="$(wb_env):$BATS_TEST_TMPDIR/nothread.so" "$(helper sem_errors)" once f 2>err
    [[ $(cat f) == "the only write" ]]
    # A plain run says nothing here either; --debug tells why it was slow.
    [ ! -s err ] || { cat err; false; }
    rm f
    WRITEBEHIND_DEBUG=1 LD_PRELOAD="$(wb_env):$BATS_TEST_TMPDIR/nothread.so" "$(helper sem_errors)" once f 2>err
    [[ $(cat f) == "the only write" ]]
    grep -q '^writebehind: cannot start the background writer' err
}

# Peak RSS growth in KiB, from a sem_errors manyfiles/slowpipe report.
rss_growth() { awk '/peak RSS growth/ { print $4 }' "$1"; }

@test "memory: 1000 files each written in small records: peak RSS stays under WRITEBEHIND_MAX_MEMORY" {
    [[ -z $SANITIZER ]] || skip "under a sanitizer, RSS measures the sanitizer"
    local d=$BATS_TEST_TMPDIR/many out=$BATS_TEST_TMPDIR/out cap
    for cap in 8 64; do
        rm -rf "$d"; mkdir -p "$d"
        WRITEBEHIND_MAX_MEMORY=${cap}M wb "$(helper sem_errors)" manyfiles "$d" 1000 65536 >"$out"
        local kib
        kib=$(rss_growth "$out")
        echo "cap ${cap} MiB: peak RSS grew by $kib KiB"
        ((kib <= (cap + 4) * 1024))
        # and nothing was lost on the way: every file is whole
        [[ $(find "$d" -type f -size 65536c | wc -l) == 1000 ]]
    done
}

@test "memory: a slow reader on a pipe (WRITEBEHIND_PIPES=1): peak RSS stays within two buffers" {
    [[ -z $SANITIZER ]] || skip "under a sanitizer, RSS measures the sanitizer"
    local out=$BATS_TEST_TMPDIR/out bs kib
    for bs in 65536 262144; do
        WRITEBEHIND_PIPES=1 WRITEBEHIND_BUFSIZE=$bs wb "$(helper sem_errors)" slowpipe 20000000 >"$out"
        grep -qx 'reader got 20000000' "$out"
        kib=$(rss_growth "$out")
        echo "bufsize $bs: peak RSS grew by $kib KiB"
        ((kib <= 2 * bs / 1024 + 2048))
    done
}
