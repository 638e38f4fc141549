#!/usr/bin/env bats
# The differential test: one seeded random sequence of operations (see
# tests/helpers/difftest.c, which lists the classes), run plainly and under
# writebehind, must print the same results and leave the same files with
# the same metadata (mode, owner, size, the times the program set, xattrs).
#
# Each class has its own test (base operations plus that class), run with
# default settings and with 64-byte buffers and a 1 ms timer; two more tests
# run every class that passes together.  A run that makes no progress for
# 60 s is killed by the helper's watchdog (DIFFTEST_WATCHDOG_S).  The
# issue's bar is 10,000 seeds x 2000 operations per configuration, a long
# run done by hand:
#   DIFFTEST_SEEDS=10000 bats -f together tests/differential.bats
# `make test` runs DIFFTEST_SEEDS (20; 4 under sanitizers) for the combined
# tests and DIFFTEST_CLASS_SEEDS (4; 1 under sanitizers) for each class.
#
# KNOWN_FAILING_CLASSES: the classes the library does not pass yet (issue
# 11).  Their tests assert that the class STILL differs, so a fix shows up as
# a failure that asks for the class to be removed from the list.  To see
# what a class's difference is, empty the list for one run:
#   DIFFTEST_KNOWN_FAILING= bats -f 'class voice' tests/differential.bats

load test_helper/common
load test_helper/semantics

KNOWN_FAILING_CLASSES=(longjmp fsize)
if [[ -v DIFFTEST_KNOWN_FAILING ]]; then
    read -ra KNOWN_FAILING_CLASSES <<<"$DIFFTEST_KNOWN_FAILING"
fi
ALL_CLASSES=(base meta proc ipc glibc_internal offsets stdio_pos wide longjmp voice fsize)

# Sanitizer builds run each process several times slower (a run of every
# class takes minutes under ASan): fewer seeds, a later watchdog.
# CI runs three suites and two chroots within its time: make test runs a
# sample (the long runs are done by hand, DIFFTEST_SEEDS=...).
if [[ -n ${SANITIZER:-} ]]; then
    SEEDS=${DIFFTEST_SEEDS:-4} CLASS_SEEDS=${DIFFTEST_CLASS_SEEDS:-${DIFFTEST_SEEDS:-1}}
    export DIFFTEST_WATCHDOG_S=${DIFFTEST_WATCHDOG_S:-300}
else
    SEEDS=${DIFFTEST_SEEDS:-20} CLASS_SEEDS=${DIFFTEST_CLASS_SEEDS:-${DIFFTEST_SEEDS:-4}}
fi
KNOWN_SEEDS=${DIFFTEST_KNOWN_SEEDS:-20}
OPS=${DIFFTEST_OPS:-2000}
FIRST=${DIFFTEST_FIRST_SEED:-1}
TINY=(WRITEBEHIND_BUFSIZE=64 WRITEBEHIND_FLUSH_MS=1)

known_failing() {
    local c
    for c in "${KNOWN_FAILING_CLASSES[@]}"; do [[ $c == "$1" ]] && return 0; done
    return 1
}

passing_classes() {
    local c list=
    for c in "${ALL_CLASSES[@]}"; do known_failing "$c" || list+=${list:+,}$c; done
    printf '%s' "$list"
}

# What the test of a class asserts, for its name.  (bats -f matches the
# literal part of a name: `bats -f 'class meta' tests/differential.bats`.)
verdict() {
    if known_failing "$1"; then
        printf 'known to differ, issue 11: asserts it still does'
    else
        printf 'agrees with a plain run, default settings and 64-byte buffers with a 1 ms timer'
    fi
}

# one_seed NAME SEED CLASSES ENV...: one seed, plainly and under the library.
# Returns 1 when the runs differ, 2 when the helper did not run at all (a
# usage exit in both runs would otherwise agree).
one_seed() {
    local name=$1 seed=$2 classes=$3
    shift 3
    local dt p=$BATS_TEST_TMPDIR/$name.plain w=$BATS_TEST_TMPDIR/$name.wb
    dt=$(helper difftest)
    # meta-after: the metadata (NAME.plain.attrs) is taken the moment the
    # run ends, before anything (diff -r) reads the files and moves their
    # access times
    local -a cmd=("$dt" meta-after run "$seed" "$OPS" "$classes")
    if [[ ,$classes, == *,voice,* ]]; then
        # The library's own stderr lines (WRITEBEHIND_DEBUG, the stats) may go
        # to the stderr the process started with, never into a data file:
        # that stderr goes beside the run, and is compared without them.
        # (Set for difftest and its children only: the shell that redirects
        # would speak on the run's own stderr, which is compared as it is.)
        cmd=(bash -c 'WRITEBEHIND_DEBUG=1 WRITEBEHIND_STATS=1 exec "$@" 2>"$PWD.stderr"' difftest "${cmd[@]}")
    fi
    local rc=0
    plain_vs_wb "$name" "$@" -- "${cmd[@]}" || rc=1
    if [[ $(head -1 "$p.out") != "0p seed $seed ops $OPS classes "* ]]; then
        echo "$name: the helper did not run; its stderr:"
        head -5 "$p.err" "$p.stderr" 2>/dev/null
        return 2
    fi
    if ((rc)); then
        first_difference "$p.out" "$w.out"
        return 1
    fi
    if [[ -e $p.stderr ]] && ! diff -u "$p.stderr" <(grep -v '^writebehind:' "$w.stderr"); then
        echo "$name: stderr differs beyond the library's own lines"
        return 1
    fi
    if ! cmp -s "$p.attrs" "$w.attrs"; then
        echo "$name: metadata differs (plain <, writebehind >; times set by the program show as opN:SECONDS, others as recent):"
        diff "$p.attrs" "$w.attrs" | grep '^[<>]' | head -10
        return 1
    fi
    chattr -R -i -a "$p" "$w" 2>/dev/null || true
    rm -rf "$p" "$w" "$p".* "$w".*
}

# Names the first operation whose printed result differs.
first_difference() {
    local line
    line=$(diff "$1" "$2" | grep -m1 '^[<>]') || return 0
    line=${line#[<>] }
    echo "first difference at operation ${line%%[!0-9]*}: $line"
}

# seeds_agree CLASSES COUNT ENV...: stops at the first seed that differs and
# says how to rerun it; returns one_seed's code.
seeds_agree() {
    local classes=$1 count=$2 seed rc
    shift 2
    for ((seed = FIRST; seed < FIRST + count; seed++)); do
        rc=0
        one_seed "seed$seed" "$seed" "$classes" "$@" || rc=$?
        if ((rc)); then
            echo "classes $classes, seed $seed${*:+ with $*} (rerun: DIFFTEST_FIRST_SEED=$seed DIFFTEST_SEEDS=1 bats -f '${RERUN_FILTER:-together}' tests/differential.bats)"
            return "$rc"
        fi
    done
}

# class_test CLASS: base plus CLASS, both configurations.  A class in
# KNOWN_FAILING_CLASSES must still differ somewhere; it runs beside every
# passing class, where its differences show soonest (stdio_pos agrees on
# ten seeds beside base alone, and differs on seed 3 beside proc and offsets).
class_test() {
    local class=$1 classes=base rc=0
    local -a extra=()
    [[ $class != base ]] && classes=base,$class
    known_failing "$class" && classes=$(passing_classes),$class
    # "Still differs" needs the seed that differs: stdio_pos and fsize agree
    # on their first seeds (fsize, mixed with the passing classes, first
    # differs past seed 10), so a known class runs up to KNOWN_SEEDS (it
    # stops at its first difference, so this costs little).
    local count=$CLASS_SEEDS
    known_failing "$class" && ((count < KNOWN_SEEDS)) && count=$KNOWN_SEEDS
    # A signal interrupts the library itself only in a write it makes:
    # pipes buffered too, and the pipe writes larger than a buffer.
    [[ $class == longjmp ]] && extra=(WRITEBEHIND_PIPES=1)
    seeds_agree "$classes" "$count" "${extra[@]}" || rc=$?
    ((rc == 0)) && { seeds_agree "$classes" "$count" "${TINY[@]}" "${extra[@]}" || rc=$?; }
    if ! known_failing "$class"; then
        return "$rc"
    fi
    case $rc in
    0) echo "class $class now agrees on $count seeds in both configurations: remove it from KNOWN_FAILING_CLASSES"
       return 1 ;;
    1) echo "(class $class still differs, as KNOWN_FAILING_CLASSES says)" ;;
    *) return "$rc" ;;
    esac
}

teardown() {
    # an operation that died between chattr +i and -i must not block cleanup
    chattr -R -i -a "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

@test "differential: every passing class together, default settings, $SEEDS seeds x $OPS operations ($(passing_classes))" {
    seeds_agree "$(passing_classes)" "$SEEDS"
}

@test "differential: every passing class together, 64-byte buffers and a 1 ms timer, $SEEDS seeds x $OPS operations" {
    seeds_agree "$(passing_classes)" "$SEEDS" "${TINY[@]}"
}

@test "differential: class base: $(verdict base)" { RERUN_FILTER="class base" class_test base; }
@test "differential: class meta: $(verdict meta)" { RERUN_FILTER="class meta" class_test meta; }
@test "differential: class proc: $(verdict proc)" { RERUN_FILTER="class proc" class_test proc; }
@test "differential: class ipc: $(verdict ipc)" { RERUN_FILTER="class ipc" class_test ipc; }
@test "differential: class glibc_internal: $(verdict glibc_internal)" { RERUN_FILTER="class glibc_internal" class_test glibc_internal; }
@test "differential: class offsets: $(verdict offsets)" { RERUN_FILTER="class offsets" class_test offsets; }
@test "differential: class stdio_pos: $(verdict stdio_pos)" { RERUN_FILTER="class stdio_pos" class_test stdio_pos; }
@test "differential: class wide: $(verdict wide)" { RERUN_FILTER="class wide" class_test wide; }
@test "differential: class longjmp: $(verdict longjmp)" { RERUN_FILTER="class longjmp" class_test longjmp; }
@test "differential: class voice: $(verdict voice)" { RERUN_FILTER="class voice" class_test voice; }
@test "differential: class fsize: $(verdict fsize)" { RERUN_FILTER="class fsize" class_test fsize; }

@test "differential: a misspelled class name fails the comparison instead of passing it" {
    run seeds_agree base,metta 1
    echo "$output"
    [[ $status -eq 2 ]]
    [[ $output == *"did not run"* ]]
}

@test "difftest: misuse exits 2 with the usage" {
    local dt
    dt=$(helper difftest)
    for args in "run 1 10 bogus" "run x 10" "run 1 10x" "run 1" "classes base,,x" "writer 1x" "frobnicate"; do
        run "$dt" $args
        echo "$args -> $status: $output"
        [[ $status -eq 2 && $output == *usage:* ]]
    done
    run "$dt" classes all
    [[ $status -eq 0 && $output == "$(IFS=,; echo "${ALL_CLASSES[*]}")" ]]
}
