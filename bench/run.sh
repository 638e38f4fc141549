#!/usr/bin/env bash
# bench/run.sh BUILD — `make bench`: the benchmark table, also written to bench/results.md.
#
# Every figure is measured side by side in this run: the variants of a row
# take turns (plain, writebehind, ..., then the reverse order), and each
# figure is the median of BENCH_RUNS (default 7, at least 5) such rounds
# after one warm-up round.  "vs plain" is plain's median time divided by the
# variant's (higher is better; 0.95x means 5% slower).  Outputs are compared
# with cmp: a difference is a bug, reported in the table, and the exit status
# is 1.  Missed targets are reported, not failed.
#
#   BENCH_QUICK=1     tiny sizes, one round, no installs: a smoke run of the
#                     harness in seconds (tests/bench.bats); writes
#                     BUILD/bench-results-quick.md instead of bench/results.md
#   BENCH_RUNS=N      rounds per figure (full mode: at least 5)
#   BENCH_RESULTS=F   where to write the markdown results
#   BENCH_TMPDIR=D    scratch directory on the disk to measure (default $TMPDIR or /tmp)
#   BENCH_TMPFS=D     a tmpfs directory for the rows that say tmpfs (default /dev/shm)
#   BENCH_ONLY=harm   only the "Do no harm" section (bench/harm.sh), which
#                     replaces that section of the results file
#
# Rows that need a missing tool (valgrind, bindfs, node, g++...) install it
# with apt-get when running as root, or are skipped with a message.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

BUILD=$(cd "${1:?usage: bench/run.sh BUILD}" && pwd)
LIB=$BUILD/libwritebehind.so
SEED=$BUILD/bench/seed
LOAD=$BUILD/bench/load
for f in "$LIB" "$SEED" "$LOAD"; do
    [[ -e $f ]] || { echo "bench: $f is missing; run 'make BUILD=$1' first" >&2; exit 2; }
done

case ${BENCH_ONLY:-} in
"") ;;
harm) exec "$here/harm.sh" "$BUILD" ;;
*) echo "bench: BENCH_ONLY=$BENCH_ONLY: only 'harm' can be run alone" >&2; exit 2 ;;
esac

QUICK=${BENCH_QUICK:-0}
if ((QUICK)); then
    RUNS=${BENCH_RUNS:-1} WARMUP=0
    LINES=2000 BIG_MIB=8 THREAD_LINES=4000 NULL_LINES=4000 PIPE_LINES=2000
    FUSE_LINES=500 CG_LINES=2000 RR_FILES=50 RR_MIB=4 COUNT_LINES=1000
    GROWTH="1000 10000" SWEEP_LINES=2000
    RESULTS=${BENCH_RESULTS:-$BUILD/bench-results-quick.md}
else
    RUNS=${BENCH_RUNS:-7} WARMUP=1
    ((RUNS >= 5)) || { echo "bench: BENCH_RUNS must be at least 5 (medians of 5)" >&2; exit 2; }
    LINES=500000 BIG_MIB=512 THREAD_LINES=500000 NULL_LINES=2000000 PIPE_LINES=500000
    FUSE_LINES=20000 CG_LINES=200000 RR_FILES=1000 RR_MIB=256 COUNT_LINES=10000
    GROWTH="10000 100000 1000000 10000000" SWEEP_LINES=2000000
    RESULTS=${BENCH_RESULTS:-$here/results.md}
fi
SWEEP_SIZES="4K 16K 64K 128K 256K 1M 4M"
DEFAULT_CAP_MIB=64   # src/config.c's WRITEBEHIND_MAX_MEMORY default
RR_REC=256

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/writebehind-bench.XXXXXX")
TMPFS=${BENCH_TMPFS:-/dev/shm}
if [[ $(df --output=fstype "$TMPFS" 2>/dev/null | tail -n 1) == tmpfs ]]; then
    SHM=$(mktemp -d "$TMPFS/writebehind-bench.XXXXXX")
else
    SHM=$WORK   # no tmpfs: those rows use the disk and say so
fi
FUSE_MNT=
cleanup() {
    [[ -z $FUSE_MNT ]] || fusermount -u "$FUSE_MNT" 2>/dev/null || umount "$FUSE_MNT" 2>/dev/null
    rm -rf "$WORK" "$SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fstype() { df --output=fstype "$1" | tail -n 1; }
DISK="$(fstype "$WORK") ($(dirname "$WORK"))"
SHMDESC="$(fstype "$SHM") ($(dirname "$SHM"))"

# ---- output ------------------------------------------------------------------
# The summary and the failure flag live in files: verdict and checked run in
# $(...) subshells.
STATE=$WORK
: >"$STATE/summary"
summary() { printf '%s\n' "$1" >>"$STATE/summary"; }
fail() { : >"$STATE/failed"; }
TABLE=() EXTRA=()
emit() { printf '%s\n' "$1"; TABLE+=("$1"); }
extra() { EXTRA+=("$1"); }   # the tables after the main one, printed at the end

# line NUM WORKLOAD VARIANT US BASE_US [TARGET]
line() {
    emit "| $1 | $2 | $3 | $(secs "$4") | $(ratio "$5" "$4") | ${6:-} |"
}
skip() { emit "| $1 | $2 | skipped: $3 | | | |"; summary "row $1 skipped: $3"; }
failed_row() { emit "| $1 | $2 | FAILED: $3 | | | |"; fail; summary "row $1 FAILED: $3"; }

# verdict ROW WHAT VALUE OP LIMIT -> "met"/"MISSED", recorded in the summary
verdict() {
    local ok
    ok=$(awk -v v="$3" -v l="$5" -v op="$4" 'BEGIN { print (op == ">=" ? v >= l : v <= l) }')
    local word=MISSED
    ((ok)) && word=met
    summary "row $1, $2: $3 (target $4 $5): $word"
    printf '%s' "$word"
}
speedup() { awk -v b="$1" -v u="$2" 'BEGIN { printf "%.3f", b / u }'; }

# same ROW A B: cmp, recording a difference as a failure
same() {
    if [[ -d $2 ]]; then
        diff -rq "$2" "$3" >/dev/null && return 0
    else
        cmp -s "$2" "$3" && return 0
    fi
    fail
    summary "row $1: OUTPUT DIFFERS: $(diff -rq "$2" "$3" 2>&1 | head -n 1)"
    return 1
}
checked() { same "$@" && echo "identical" || echo "**OUTPUT DIFFERS**"; }

# kernel_writes KIND CMD: write-family system calls CMD makes (strace -f -c),
# KIND plain, wb (the library preloaded into CMD only) or stdbuf.
kernel_writes() {
    command -v strace >/dev/null || { echo "?"; return; }
    local pre=
    case $1 in
    wb) pre='-E LD_PRELOAD="$LIB"' ;;
    stdbuf) pre='stdbuf -o1M' ;;
    esac
    OUT=$WORK/count.out
    eval "strace -f -qq -c -o \"\$WORK/count.st\" -e trace=write,writev,pwrite64,pwritev,pwritev2 $pre $2" \
        >/dev/null 2>&1 || { echo "?"; return; }
    awk '$NF == "total" { print $4 }' "$WORK/count.st"
}

echo "writebehind benchmarks: $RUNS alternating rounds per figure$( ((WARMUP)) && echo ' after a warm-up round')."
echo "Scratch files: $DISK; tmpfs rows: $SHMDESC."
echo
emit "| # | workload | variant | median time | vs plain | target / check |"
emit "|---|---|---|---|---|---|"

# ---- 1. the seed workload -------------------------------------------------------
P_SEED='"$SEED" write "$OUT" "$N"'
W1="seed: $LINES write()s of \"line#i\\n\", $DISK"
N=$LINES
if measure "$RUNS" "$P_SEED" "LD_PRELOAD=\"\$LIB\" $P_SEED" '"$SEED" buffered "$OUT" "$N"' \
    "stdbuf -o1M $P_SEED"; then
    cp "$WORK/out.0" "$WORK/reference"   # every line-per-write row must produce this
    N=$COUNT_LINES
    line 1 "$W1" "plain ($(kernel_writes plain "$P_SEED") kernel writes per $N lines)" "${MED[0]}" "${MED[0]}"
    line 1 "$W1" "writebehind ($(kernel_writes wb "$P_SEED") per $N)" "${MED[1]}" "${MED[0]}" \
        "output $(checked 1 "$WORK/out.0" "$WORK/out.1")"
    line 1 "$W1" "in-process 64 KiB buffer (ideal)" "${MED[2]}" "${MED[0]}" \
        "writebehind at $(awk -v i="${MED[2]}" -v w="${MED[1]}" 'BEGIN { printf "%.0f%%", 100 * i / w }') of ideal speed"
    line 1 "$W1" "stdbuf -o1M ($(kernel_writes stdbuf "$P_SEED") per $N)" "${MED[3]}" "${MED[0]}" \
        "stdbuf only sets stdio buffers; write() is not stdio"
else
    failed_row 1 "$W1" "see the message above"
fi

# ---- 2. fprintf + fflush per line -------------------------------------------------
P_FF='"$SEED" fflush "$OUT" "$N"'
W2="seed fflush: fprintf+fflush per line, $LINES lines"
N=$LINES
if measure "$RUNS" "$P_FF" "LD_PRELOAD=\"\$LIB\" $P_FF" "stdbuf -o1M $P_FF"; then
    N=$COUNT_LINES
    line 2 "$W2" "plain ($(kernel_writes plain "$P_FF") kernel writes per $N lines)" "${MED[0]}" "${MED[0]}"
    line 2 "$W2" "writebehind ($(kernel_writes wb "$P_FF") per $N)" "${MED[1]}" "${MED[0]}" \
        "output $(checked 2 "$WORK/out.0" "$WORK/out.1")"
    line 2 "$W2" "stdbuf -o1M ($(kernel_writes stdbuf "$P_FF") per $N)" "${MED[2]}" "${MED[0]}" \
        "fflush still flushes"
else
    failed_row 2 "$W2" "see the message above"
fi

# ---- 3. real programs that write a line at a time ---------------------------------
# Each prints "line#i\n" for i < N to stdout, redirected to a file.
PY=
need python3 python3 && PY=$(python3 -c 'import sys; print(sys.executable)')   # not a pyenv shim
PY_PRINT='import sys
for i in range(int(sys.argv[1])): print(f"line#{i}")'
PL_PRINT='$| = 1; print "line#$_\n" for 0 .. $ARGV[0] - 1'
JS_PRINT='const n = +process.argv[1]; for (let i = 0; i < n; i++) process.stdout.write("line#" + i + "\n")'
AWK_PRINT='BEGIN { for (i = 0; i < n; i++) { print "line#" i; fflush() } }'
CXX_ENDL=$BUILD/bench/cxx_endl
NODE=$(command -v node || command -v nodejs || true)
[[ -n $NODE ]] || { need node nodejs && NODE=$(command -v node || command -v nodejs); }
if [[ ! -x $CXX_ENDL || $here/cxx_endl.cc -nt $CXX_ENDL ]] && need g++ g++; then
    g++ -O2 -o "$CXX_ENDL" "$here/cxx_endl.cc" || rm -f "$CXX_ENDL"
fi
real_program() {   # real_program LABEL CMD (empty CMD: skipped)
    local w="$1, $LINES lines, stdout to a file"
    [[ -n $2 ]] || { skip 3 "$w" "not installed"; return; }
    N=$LINES
    if ! measure "$RUNS" "$2" "LD_PRELOAD=\"\$LIB\" $2"; then
        failed_row 3 "$w" "see the message above"
        return
    fi
    local check="output $(checked 3 "$WORK/out.0" "$WORK/out.1")"
    same 3 "$WORK/reference" "$WORK/out.0" || check+=" (plain output is not seed's: a bench bug)"
    N=$COUNT_LINES
    line 3 "$w" "plain ($(kernel_writes plain "$2") kernel writes per $N lines)" "${MED[0]}" "${MED[0]}"
    line 3 "$w" "writebehind ($(kernel_writes wb "$2") per $N)" "${MED[1]}" "${MED[0]}" "$check"
}
real_program "python3 -u, print() (2 writes a line)" \
    "${PY:+\"\$PY\" -u -c \"\$PY_PRINT\" \"\$N\" > \"\$OUT\"}"
real_program "perl, \$|=1" "$(need perl perl && echo 'perl -e "$PL_PRINT" "$N" > "$OUT"')"
real_program "C++ std::cout << std::endl" "$([[ -x $CXX_ENDL ]] && echo '"$CXX_ENDL" "$N" > "$OUT"')"
real_program "node, process.stdout.write" "${NODE:+\"\$NODE\" -e \"\$JS_PRINT\" \"\$N\" > \"\$OUT\"}"
real_program "$(basename "$(readlink -f "$(command -v awk)")"), print + fflush()" \
    "$(need awk gawk && echo 'awk -v n="$N" "$AWK_PRINT" > "$OUT"')"

# ---- 4. what a Python programmer can do by hand ------------------------------------
W4="python3: $LINES lines to a file (baseline: raw writes)"
if [[ -n $PY ]]; then
    N=$LINES
    P_PY='"$PY" "$here/py_writers.py"'
    if measure "$RUNS" "$P_PY raw \"\$OUT\" \"\$N\"" "LD_PRELOAD=\"\$LIB\" $P_PY raw \"\$OUT\" \"\$N\"" \
        "$P_PY sync \"\$OUT\" \"\$N\"" "$P_PY double \"\$OUT\" \"\$N\""; then
        line 4 "$W4" "unbuffered: open(buffering=0), one write() a line" "${MED[0]}" "${MED[0]}"
        line 4 "$W4" "unbuffered, under writebehind" "${MED[1]}" "${MED[0]}" \
            "output $(checked 4 "$WORK/out.0" "$WORK/out.1")"
        line 4 "$W4" "sync: open() with Python's 8 KiB buffer" "${MED[2]}" "${MED[0]}" \
            "output $(checked 4 "$WORK/out.0" "$WORK/out.2")"
        line 4 "$W4" "double-buffered in pure Python (thread + 2 bytearrays)" "${MED[3]}" "${MED[0]}" \
            "output $(checked 4 "$WORK/out.0" "$WORK/out.3")"
    else
        failed_row 4 "$W4" "see the message above"
    fi
else
    skip 4 "$W4" "python3 not installed"
fi

# ---- 5. large writes: must not lose ------------------------------------------------
W5="$BIG_MIB write()s of 1 MiB, $SHMDESC"
if WORK=$SHM measure "$RUNS" '"$LOAD" big "$OUT" "$BIG_MIB"' 'LD_PRELOAD="$LIB" "$LOAD" big "$OUT" "$BIG_MIB"'; then
    s=$(speedup "${MED[0]}" "${MED[1]}")
    line 5 "$W5" plain "${MED[0]}" "${MED[0]}"
    line 5 "$W5" writebehind "${MED[1]}" "${MED[0]}" \
        "≥ 0.95x: $(verdict 5 "large writes vs plain" "$s" ">=" 0.95); output $(checked 5 "$SHM/out.0" "$SHM/out.1")"
else
    failed_row 5 "$W5" "see the message above"
fi
rm -rf "$SHM"/out.*

# ---- 6. threads ---------------------------------------------------------------------
W6a="4 threads, $THREAD_LINES small writes in all, one O_APPEND fd, $DISK"
P6a='"$LOAD" append "$OUT" "$THREAD_LINES" 4'
if measure "$RUNS" "$P6a" "LD_PRELOAD=\"\$LIB\" $P6a"; then
    s=$(speedup "${MED[0]}" "${MED[1]}")
    # The interleaving differs run to run; every line must be there, whole.
    sort "$WORK/out.0" >"$WORK/sorted.0" && sort "$WORK/out.1" >"$WORK/sorted.1"
    line 6 "$W6a" plain "${MED[0]}" "${MED[0]}"
    line 6 "$W6a" writebehind "${MED[1]}" "${MED[0]}" \
        "≥ 5x: $(verdict 6 "4 threads, one O_APPEND fd" "$s" ">=" 5); lines $(checked 6 "$WORK/sorted.0" "$WORK/sorted.1")"
else
    failed_row 6 "$W6a" "see the message above"
fi
W6b="4 threads, $THREAD_LINES small writes in all, 4 files, $DISK"
P6b='mkdir "$OUT" && "$LOAD" files "$OUT/f" "$THREAD_LINES" 4'
if measure "$RUNS" "$P6b" "mkdir \"\$OUT\" && LD_PRELOAD=\"\$LIB\" ${P6b#*&& }"; then
    s=$(speedup "${MED[0]}" "${MED[1]}")
    ok=identical
    for t in 0 1 2 3; do same 6 "$WORK/out.0/f.$t" "$WORK/out.1/f.$t" || ok="**OUTPUT DIFFERS**"; done
    line 6 "$W6b" plain "${MED[0]}" "${MED[0]}"
    line 6 "$W6b" writebehind "${MED[1]}" "${MED[0]}" \
        "≥ 5x: $(verdict 6 "4 threads, 4 files" "$s" ">=" 5); output $ok"
else
    failed_row 6 "$W6b" "see the message above"
fi

# ---- 7. untagged traffic: the pass-through path --------------------------------------
W7a="$NULL_LINES write()s to /dev/null (not buffered)"
P7a='"$SEED" write /dev/null "$NULL_LINES"'
if measure "$RUNS" "$P7a" "LD_PRELOAD=\"\$LIB\" $P7a"; then
    s=$(speedup "${MED[0]}" "${MED[1]}")
    NULL_US=${MED[0]}
    line 7 "$W7a" plain "${MED[0]}" "${MED[0]}"
    line 7 "$W7a" writebehind "${MED[1]}" "${MED[0]}" \
        "≥ 0.95x (≤ 5% overhead): $(verdict 7 "/dev/null pass-through" "$s" ">=" 0.95)"
else
    failed_row 7 "$W7a" "see the message above"
fi
W7b="$PIPE_LINES write()s to a pipe (| cat, not buffered)"
P7b='"$SEED" write /dev/stdout "$PIPE_LINES" | cat > "$OUT"'
if measure "$RUNS" "$P7b" "LD_PRELOAD=\"\$LIB\" $P7b"; then
    s=$(speedup "${MED[0]}" "${MED[1]}")
    line 7 "$W7b" plain "${MED[0]}" "${MED[0]}"
    line 7 "$W7b" writebehind "${MED[1]}" "${MED[0]}" \
        "≥ 0.95x: $(verdict 7 "pipe pass-through" "$s" ">=" 0.95); output $(checked 7 "$WORK/out.0" "$WORK/out.1")"
else
    failed_row 7 "$W7b" "see the message above"
fi

# ---- 8. a slow file system: FUSE passthrough ------------------------------------------
# writebehind's and the ideal's runs take a few ms, mostly start-up and
# FUSE's open/close, so they are noisy: more rounds (plain's are cheap).
fuse_runs=$RUNS
((QUICK || fuse_runs >= 15)) || fuse_runs=15
W8="FUSE passthrough (bindfs over $(fstype "$WORK")), $FUSE_LINES write()s, medians of $fuse_runs"
fuse_mount "$WORK"
if [[ -n $FUSE_MNT ]]; then
    N=$FUSE_LINES
    if WORK=$FUSE_MNT measure "$fuse_runs" "$P_SEED" "LD_PRELOAD=\"\$LIB\" $P_SEED" \
        '"$SEED" buffered "$OUT" "$N"' 'LD_PRELOAD="$LIB" "$SEED" buffered "$OUT" "$N"'; then
        s=$(speedup "${MED[0]}" "${MED[1]}")
        line 8 "$W8" "plain ($(awk -v u="${MED[0]}" -v n="$N" 'BEGIN { printf "%.0f", u / n }') µs a write)" \
            "${MED[0]}" "${MED[0]}"
        line 8 "$W8" writebehind "${MED[1]}" "${MED[0]}" \
            "≥ 300x: $(verdict 8 "FUSE" "$s" ">=" 300); output $(checked 8 "$FUSE_MNT/out.0" "$FUSE_MNT/out.1")"
        line 8 "$W8" "in-process 64 KiB buffer (ideal)" "${MED[2]}" "${MED[0]}" \
            "the ceiling: start-up, open and close cost the same with any buffering"
        line 8 "$W8" "the ideal with the library preloaded" "${MED[3]}" "${MED[0]}" \
            "the library's fixed cost (loading, start-up, exit) is the gap to the ideal"
        summary "row 8: the in-process ideal reaches $(ratio "${MED[0]}" "${MED[2]}") here; writebehind reaches $(awk -v i="${MED[2]}" -v w="${MED[1]}" 'BEGIN { printf "%.0f%%", 100 * i / w }') of the ideal's speed"
    else
        failed_row 8 "$W8" "see the message above"
    fi
else
    skip 8 "$W8" "$fuse_why"
fi

# ---- 9. instructions per intercepted write (callgrind) ---------------------------------
W9="instructions per small write (callgrind), seed, $CG_LINES lines"
callgrind_total() {   # callgrind_total NAME ENV CMD -> total Ir of CMD run with ENV
    eval "$2 valgrind --tool=callgrind --callgrind-out-file=\"\$WORK/cg.$1\" $3" >/dev/null 2>&1 &&
        awk '/^totals:/ { print $2 }' "$WORK/cg.$1"
}
if need valgrind valgrind && need callgrind_annotate valgrind; then
    cg=()
    for n in "$CG_LINES" "$((2 * CG_LINES))"; do
        OUT=$WORK/cg-out N=$n
        cg+=("$(callgrind_total "wb.$n" 'WRITEBEHIND_STATS="$WORK/cg-stats.$N" LD_PRELOAD="$LIB"' \
            '"$SEED" write "$OUT" "$N"')")
        cg+=("$(callgrind_total "buf.$n" '' '"$SEED" buffered "$OUT" "$N"')")
        cg+=("$(callgrind_total "plain.$n" '' '"$SEED" write "$OUT" "$N"')")
    done
    # The pass-through path (row 7), in instructions: timing a few percent
    # on a shared machine is noise, counting is not.
    N=$CG_LINES
    null_wb=$(callgrind_total null.wb 'LD_PRELOAD="$LIB"' '"$SEED" write /dev/null "$N"')
    null_plain=$(callgrind_total null.plain '' '"$SEED" write /dev/null "$N"')
    if [[ ${#cg[@]} == 6 && -n ${cg[0]} && -n ${cg[5]} ]]; then
        per=$(awk -v w="${cg[0]}" -v b="${cg[1]}" -v n="$CG_LINES" 'BEGIN { printf "%.1f", (w - b) / n }')
        marginal=$(awk -v w1="${cg[0]}" -v b1="${cg[1]}" -v w2="${cg[3]}" -v b2="${cg[4]}" -v n="$CG_LINES" \
            'BEGIN { printf "%.1f", ((w2 - w1) - (b2 - b1)) / n }')
        plain=$(awk -v p="${cg[2]}" -v b="${cg[1]}" -v n="$CG_LINES" 'BEGIN { printf "%.1f", (p - b) / n }')
        calls=$(grep -o 'became [0-9]* write call' "$WORK/cg-stats.$CG_LINES" 2>/dev/null | grep -o '[0-9]*')
        emit "| 9 | $W9 | writebehind − ideal = (${cg[0]} − ${cg[1]}) / $CG_LINES | $per instr./write | | ≤ 40: $(verdict 9 "extra instructions per write" "$per" "<=" 40); marginal cost (2N runs − N runs): $marginal; the library made ${calls:-?} write() calls |"
        emit "| 9 | $W9 | plain − ideal (glibc's write() stub; kernel time is not counted) | $plain instr./write | | |"
        [[ -z $null_wb || -z $null_plain ]] ||
            emit "| 9 | untagged write()s to /dev/null (row 7's pass-through path), $CG_LINES | writebehind − plain | $(awk -v w="$null_wb" -v p="$null_plain" -v n="$CG_LINES" 'BEGIN { printf "%.1f", (w - p) / n }') instr./write | | a /dev/null write() costs ≈ $(awk -v u="${NULL_US:-0}" -v n="$NULL_LINES" 'BEGIN { printf "%.0f", 1000 * u / n }') ns here |"
        # Where they go: the functions above 0.5 instruction per write.
        extra ""
        extra "Row 9, where the instructions go under writebehind (callgrind_annotate, seed write, $CG_LINES lines; per write = Ir / $CG_LINES):"
        extra ""
        extra "| Ir | per write | function |"
        extra "|---:|---:|---|"
        while read -r ir fn; do
            extra "| $ir | $(awk -v i="${ir//,/}" -v n="$CG_LINES" 'BEGIN { printf "%.1f", i / n }') | \`$fn\` |"
        done < <(callgrind_annotate --auto=no --threshold=99 "$WORK/cg.wb.$CG_LINES" 2>/dev/null |
            awk -v n="$CG_LINES" '/file:function/ { on = 1; next }
                on && /^ *[0-9,]+ / { ir = $1; gsub(",", "", ir); if (ir < n / 2) exit
                    fn = $0; sub(/^ *[0-9,]+ +(\([^)]*\) +)?/, "", fn)
                    obj = ""; if (match(fn, / \[.*\]$/)) { obj = substr(fn, RSTART + 2, RLENGTH - 3); fn = substr(fn, 1, RSTART - 1) }
                    sub(/.*\//, "", fn); sub(/.*\//, "", obj)
                    print $1, fn (obj == "" ? "" : " (" obj ")") }' | head -n 12)
    else
        failed_row 9 "$W9" "valgrind did not produce totals"
    fi
else
    skip 9 "$W9" "valgrind is not installed"
fi

# ---- 10. memory with many files ---------------------------------------------------------
# On the work disk: page cache is not RSS, and the speed with many files is
# only meaningful where a write() costs what it costs on a disk.
W10="peak RSS, $RR_FILES files open, $RR_REC-byte records round-robin, $RR_MIB MiB in all, $DISK"
# The round-robin load; row 11b sweeps it too, with or without /usr/bin/time.
L10='"$LOAD" roundrobin "$OUT" "$RR_FILES" "$RR_MIB" "$RR_REC"'
if need /usr/bin/time time; then
    P10='mkdir "$OUT" && /usr/bin/time -f %M -a -o "$OUT.rss"'
    rm -f "$WORK"/*.rss
    if measure "$RUNS" "$P10 env $L10" "$P10 env LD_PRELOAD=\"\$LIB\" $L10" \
        "$P10 env WRITEBEHIND_MAX_MEMORY=16M LD_PRELOAD=\"\$LIB\" $L10" \
        "$P10 env WRITEBEHIND_BUFSIZE=64K LD_PRELOAD=\"\$LIB\" $L10"; then
        # shellcheck disable=SC2046
        rss=($(for i in 0 1 2 3; do median $(cat "$WORK/out.$i.rss"); done))
        ok=identical
        for i in 1 2 3; do same 10 "$WORK/out.0" "$WORK/out.$i" || ok="**OUTPUT DIFFERS**"; done
        over() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a - b) / 1024 }'; }
        o1=$(over "${rss[1]}" "${rss[0]}") o2=$(over "${rss[2]}" "${rss[0]}") o3=$(over "${rss[3]}" "${rss[0]}")
        line 10 "$W10" "plain: $(over "${rss[0]}" 0) MiB" "${MED[0]}" "${MED[0]}"
        line 10 "$W10" "writebehind, defaults (64K buffers, cap ${DEFAULT_CAP_MIB}M): +$o1 MiB" "${MED[1]}" "${MED[0]}" \
            "≤ cap + 2 MiB: $(verdict 10 "RSS over plain, cap ${DEFAULT_CAP_MIB}M (MiB)" "$o1" "<=" $((DEFAULT_CAP_MIB + 2))); output $ok"
        line 10 "$W10" "writebehind, WRITEBEHIND_MAX_MEMORY=16M: +$o2 MiB" "${MED[2]}" "${MED[0]}" \
            "≤ cap + 2 MiB: $(verdict 10 "RSS over plain, cap 16M (MiB)" "$o2" "<=" 18)"
        line 10 "$W10" "writebehind, WRITEBEHIND_BUFSIZE=64K (cap ${DEFAULT_CAP_MIB}M): +$o3 MiB" "${MED[3]}" "${MED[0]}" \
            "≤ cap + 2 MiB: $(verdict 10 "RSS over plain, 64K buffers (MiB)" "$o3" "<=" $((DEFAULT_CAP_MIB + 2)))"
    else
        failed_row 10 "$W10" "see the message above"
    fi
    rm -rf "$WORK"/out.*
else
    skip 10 "$W10" "/usr/bin/time is not installed"
fi

# ---- 11. growth, and the buffer size ------------------------------------------------------
extra ""
extra "Row 11a, growth: seed write, $DISK (ideal = in-process 64 KiB buffer)."
extra ""
extra "| write()s | plain | writebehind | vs plain | ideal | vs plain | output |"
extra "|---:|---:|---:|---:|---:|---:|---|"
for n in $GROWTH; do
    N=$n
    w=$WARMUP
    ((n < 1000000)) || w=0   # long enough not to need one
    if WARMUP=$w measure "$RUNS" "$P_SEED" "LD_PRELOAD=\"\$LIB\" $P_SEED" '"$SEED" buffered "$OUT" "$N"'; then
        extra "| $n | $(secs "${MED[0]}") | $(secs "${MED[1]}") | $(ratio "${MED[0]}" "${MED[1]}") | $(secs "${MED[2]}") | $(ratio "${MED[0]}" "${MED[2]}") | $(checked 11 "$WORK/out.0" "$WORK/out.1") |"
    else
        extra "| $n | FAILED | | | | | |"
        fail
    fi
done

sweep() {   # sweep LABEL SETUP CMD: CMD plainly, then under the library at each buffer size
    local -a cmds=("$2 $3")
    local size k
    for size in $SWEEP_SIZES; do
        cmds+=("$2 WRITEBEHIND_BUFSIZE=$size LD_PRELOAD=\"\$LIB\" $3")
    done
    local row="| $1 |"
    if measure "$RUNS" "${cmds[@]}"; then
        row+=" $(secs "${MED[0]}") |"
        for ((k = 1; k < ${#cmds[@]}; k++)); do
            row+=" $(ratio "${MED[0]}" "${MED[k]}")"
            same 11 "$WORK/out.0" "$WORK/out.$k" || row+=" **DIFFERS**"
            row+=" |"
        done
    else
        row+=" FAILED |"
        fail
    fi
    extra "$row"
    rm -rf "$WORK"/out.*
}
extra ""
extra "Row 11b, buffer size (WRITEBEHIND_BUFSIZE, cap ${DEFAULT_CAP_MIB}M): speed-up vs plain."
extra ""
hdr="| workload | plain |" sep="|---|---:|"
for size in $SWEEP_SIZES; do hdr+=" $size |"; sep+="---:|"; done
extra "$hdr"
extra "$sep"
N=$SWEEP_LINES
sweep "seed write, $SWEEP_LINES lines, $DISK" "" "$P_SEED"
sweep "$RR_FILES files round-robin, $RR_REC-byte records, $RR_MIB MiB, $DISK" 'mkdir "$OUT" &&' "$L10"

# ---- summary and results file --------------------------------------------------------------
printf '%s\n' "${EXTRA[@]}"
echo
echo "Targets:"
sed 's/^/  /' "$STATE/summary"

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || ldd --version | head -n 1)
commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$here/.." status --porcelain -- src 2>/dev/null) ]] || commit+=" + uncommitted changes in src/"
{
    echo "# writebehind benchmark results"
    echo
    echo "Written by \`bench/run.sh\` (\`make bench\`$( ((QUICK)) && echo ', BENCH_QUICK=1: tiny sizes, not figures to quote')) on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "- Machine: $(nproc) CPUs ($cpu), kernel $(uname -r), $glibc; shared with other jobs."
    echo "- Library: commit $commit, built with the Makefile's flags."
    echo "- Method: each figure is the median of $RUNS rounds$( ((WARMUP)) && echo ' after a warm-up round'); the variants of a row take turns within a round (and reverse order every other round), so noise hits them alike. \"vs plain\" = plain's median time / the variant's (higher is better). Times are wall-clock for the whole process, start-up included. The stdbuf variants change nothing for these programs: their distance from 1.00x shows this run's noise."
    echo "- Files: $DISK unless the row says otherwise; tmpfs rows use $SHMDESC. \"kernel writes per N lines\" is counted with \`strace -f -c\` (write, writev, pwrite*) at N lines."
    echo
    printf '%s\n' "${TABLE[@]}"
    printf '%s\n' "${EXTRA[@]}"
    echo
    echo "Targets:"
    echo
    sed 's/^/- /' "$STATE/summary"
} >"$RESULTS"
echo
echo "Results written to $RESULTS"

# ---- Runtimes: other languages and MPI ranks (bench/runtimes.sh) -----------------------
# A section of its own, appended to the same results file.
echo
BENCH_RESULTS=$RESULTS BENCH_QUICK=$QUICK "$here/runtimes.sh" "$BUILD" || fail

# ---- Do no harm: the cost where buffering cannot help (bench/harm.sh) ------------------
echo
BENCH_RESULTS=$RESULTS BENCH_QUICK=$QUICK "$here/harm.sh" "$BUILD" || fail

[[ ! -e $STATE/failed ]]
