#!/usr/bin/env bash
# bench/runtimes.sh BUILD — the "Runtimes" section of bench/results.md: other
# language runtimes (the writers of tests/runtimes/) and MPI ranks, each
# writing a line at a time, plainly and under the library.  `make bench`
# runs it after bench/run.sh's table; it also runs on its own.
#
# Per row: the plain and the writebehind time (the median of bench/lib.sh's
# alternating rounds, as in run.sh; hyperfine with BENCH_HYPERFINE=1), the
# speed-up (plain ÷
# writebehind, whole process, start-up included), the kernel writes that
# reached the output per 10,000 lines (strace -f -y, default settings), and
# whether the two outputs are identical (cmp; a difference fails the run).
# Each workload's size makes a plain run take roughly 0.2–1 s here.
#
#   BENCH_QUICK=1     tiny sizes, one round, no hyperfine: a smoke run; writes
#                     BUILD/bench-results-quick.md unless BENCH_RESULTS is set
#   BENCH_RUNS=N      runs per figure (default 7)
#   BENCH_HYPERFINE=1 time with hyperfine (if installed) instead.  Not the
#                     default: hyperfine runs one command's runs in a block,
#                     and on this shared machine the load drifts between
#                     blocks — free pascal, which the library cannot reach,
#                     once came out 1.25x "faster" that way
#   BENCH_RESULTS=F   the markdown file whose "## Runtimes" section is replaced
#   BENCH_TMPDIR=D    scratch directory on the disk to measure
#
# A runtime whose toolchain is missing is listed as skipped (.ci/run and
# tests/runtimes/build.sh name the packages).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

BUILD=$(cd "${1:?usage: bench/runtimes.sh BUILD}" && pwd)
LIB=$BUILD/libwritebehind.so
[[ -e $LIB ]] || { echo "bench: $LIB is missing; run 'make BUILD=$1' first" >&2; exit 2; }
BUILDSH=$here/../tests/runtimes/build.sh

QUICK=${BENCH_QUICK:-0}
if ((QUICK)); then
    RUNS=${BENCH_RUNS:-1} WARMUP=0 SCALE=100 COUNT_LINES=1000
    RESULTS=${BENCH_RESULTS:-$BUILD/bench-results-quick.md}
else
    RUNS=${BENCH_RUNS:-7} WARMUP=1 SCALE=1 COUNT_LINES=10000
    RESULTS=${BENCH_RESULTS:-$here/results.md}
fi
HYPERFINE=
((QUICK || !${BENCH_HYPERFINE:-0})) || ! command -v hyperfine >/dev/null || HYPERFINE=$(command -v hyperfine)

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/writebehind-runtimes.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
DISK="$(df --output=fstype "$WORK" | tail -n 1) ($(dirname "$WORK"))"
FAILED=0
ROWS=()
row() { ROWS+=("$1"); printf '%s\n' "$1"; }

# time_pair CMD [WBCMD]: CMD (a shell command whose output is @OUT@, under
# sh) plainly and with the library preloaded (or WBCMD); sets MED[0] and
# MED[1] (µs) and leaves the outputs in $WORK/out.0 and $WORK/out.1.
time_pair() {
    local wbcmd=${2:-LD_PRELOAD=$LIB $1}
    local plain=${1//@OUT@/$WORK/out.0} wb=${wbcmd//@OUT@/$WORK/out.1}
    if [[ -n $HYPERFINE ]]; then
        "$HYPERFINE" --style none --warmup 1 --runs "$RUNS" --export-json "$WORK/hf.json" \
            -n plain "$plain" -n writebehind "$wb" >"$WORK/hf.log" 2>&1 || {
            cat "$WORK/hf.log" >&2
            local c
            for c in "$plain" "$wb"; do   # say which one failed, and how
                sh -c "$c" >/dev/null 2>"$WORK/again.err" ||
                    echo "bench: failed (exit $?): $c: $(tail -n 3 "$WORK/again.err")" >&2
            done
            return 1
        }
        # shellcheck disable=SC2207  # two numbers
        MED=($(sed -n 's/^ *"median": *\([0-9.e+-]*\),*$/\1/p' "$WORK/hf.json" |
            awk '{ printf "%d\n", $1 * 1e6 }'))
        ((${#MED[@]} == 2))
    else
        measure "$RUNS" "sh -c '${plain//\'/\'\\\'\'}'" "sh -c '${wb//\'/\'\\\'\'}'"
    fi
}

# file_writes CMD [FILE]: how many write-family calls reached CMD's output
# (@OUT@, or FILE under the directory @OUT@) when it writes COUNT_LINES
# lines; "?" without strace.
file_writes() {
    command -v strace >/dev/null || { echo "?"; return; }
    local out=$WORK/count.out
    rm -rf "$out"
    strace -f -qq -y -e trace=write,writev,pwrite64,pwritev,pwritev2 -o "$WORK/count.st" \
        sh -c "${1//@OUT@/$out}" >/dev/null 2>&1
    [[ -z ${2:-} ]] || out=$out/$2
    awk -v want="$(realpath "$out" 2>/dev/null || echo "$out")" '
        { sub(/^[0-9]+ +/, "") }
        /^p?writev?(64|v2)?\([0-9]+</ {
            t = $0; sub(/^[a-z0-9]+\([0-9]+</, "", t); t = substr(t, 1, index(t, ">") - 1)
            if (t == want) n++
        }
        END { print n + 0 }' "$WORK/count.st"
}

# bench_row RUNTIME LABEL LINES CMD [WBCMD [FILE]]: CMD writes LINES lines
# (@N@) to @OUT@ (with FILE: to the file FILE in the directory @OUT@, whose
# kernel writes are counted); WBCMD is CMD under the library (default: CMD
# with LD_PRELOAD).
bench_row() {
    local runtime=$1 label=$2 lines=$(($3 / SCALE)) cmd=$4 wbcmd=${5:-LD_PRELOAD=$LIB $4}
    local w="| $runtime | $label |"
    local count_cmd=${cmd//@N@/$COUNT_LINES} count_wb=${wbcmd//@N@/$COUNT_LINES}
    cmd=${cmd//@N@/$lines} wbcmd=${wbcmd//@N@/$lines}
    rm -rf "$WORK"/out.*   # the last row's outputs (a file where this one wants a directory)
    if ! time_pair "$cmd" "$wbcmd"; then
        row "$w $lines | FAILED (see above) | | | | |"
        FAILED=1
        return
    fi
    local check=identical
    if ! diff -rq "$WORK/out.0" "$WORK/out.1" >/dev/null; then
        check="**OUTPUT DIFFERS**"
        FAILED=1
    fi
    local cp cw
    cp=$(file_writes "$count_cmd" "${6:-}")
    cw=$(file_writes "$count_wb" "${6:-}")
    row "$w $lines | $(secs "${MED[0]}") | $(secs "${MED[1]}") | $(ratio "${MED[0]}" "${MED[1]}") | $cp → $cw | $check |"
}

skipped() { row "| $1 | $2 | | skipped: $3 | | | | |"; }

# runtime RUNTIME: build its writer (tests/runtimes/build.sh) and set RUN;
# returns 1 (after a "skipped" row) when that cannot be done.
runtime() {
    local status=0
    RUN=$("$BUILDSH" "$1" "$BUILD/runtimes" 2>"$WORK/build.err") || status=$?
    case $status in
    0) return 0 ;;
    2) skipped "$1" "$2" "$RUN is not installed" ;;
    *) skipped "$1" "$2" "the build failed: $(head -n 1 "$WORK/build.err")" ;;
    esac
    return 1
}

echo "Runtimes: each writes \"line#i\\n\" a line at a time; $([[ -n $HYPERFINE ]] && echo "hyperfine, median of $RUNS runs after 1 warm-up" || echo "median of $RUNS alternating rounds")."
echo
row "| runtime | workload (output on $DISK) | lines | plain | writebehind | speed-up | kernel writes per $COUNT_LINES lines: plain → writebehind | output |"
row "|---|---|---:|---:|---:|---:|---:|---|"

# Sizes: a plain run takes 0.2–1 s on this 2-CPU machine.
if runtime java "System.out.println, stdout to a file"; then
    bench_row java "System.out.println, stdout to a file" 80000 "$RUN println @N@ > @OUT@"
    bench_row java "PrintWriter(FileWriter), flush per line" 100000 "$RUN printwriter @N@ @OUT@; test \$? = 3"
fi
runtime tcl "puts + flush, stdout to a file" &&
    bench_row tcl "puts + flush, stdout to a file" 100000 "$RUN stdout @N@ > @OUT@"
runtime ada "Put_Line + Flush, stdout to a file" &&
    bench_row "ada (gnat)" "Put_Line + Flush, stdout to a file" 200000 "$RUN stdout @N@ > @OUT@"
runtime cobol "DISPLAY, stdout to a file" &&
    bench_row "cobol (gnucobol)" "DISPLAY, stdout to a file" 200000 "$RUN stdout @N@ > @OUT@"
runtime pascal "writeln + flush, stdout to a file" &&
    bench_row "free pascal" "writeln + flush, stdout to a file (own system calls: out of reach)" 200000 \
        "$RUN stdout @N@ > @OUT@"
runtime ruby "\$stdout.sync = true, stdout to a file" &&
    bench_row ruby "\$stdout.sync = true, puts, stdout to a file" 50000 "$RUN stdout @N@ > @OUT@"
if runtime php "echo + flush(), stdout to a file"; then
    bench_row php "echo + flush(), stdout to a file" 150000 "$RUN stdout @N@ > @OUT@"
    bench_row php "fwrite to a file" 150000 "$RUN fwrite @N@ @OUT@"
fi
runtime lua "io.write + flush, stdout to a file" &&
    bench_row lua "io.write + io.flush, stdout to a file" 200000 "$RUN stdout @N@ > @OUT@"

# Open MPI: 4 ranks, each writing its logs line by line (fprintf + fflush,
# and a write() a line: 2 writes a line); the library reaches the ranks
# through mpirun -x, as the README's "Use on clusters" shows.  mpirun's own
# start-up (about a second here) is in both times.
MPI_W="4 ranks (mpirun -np 4), per-rank logs, 2 writes a line; writebehind via -x LD_PRELOAD; writes counted on rank 0's raw log"
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null; then
    skipped "open mpi" "$MPI_W" "mpirun or mpicc is not installed (openmpi-bin, libopenmpi-dev)"
elif ! { [[ -x $BUILD/mpi/rank_writer && ! $here/../tests/mpi/rank_writer.c -nt $BUILD/mpi/rank_writer ]] ||
    { mkdir -p "$BUILD/mpi" && mpicc -std=gnu11 -O2 -o "$BUILD/mpi/rank_writer" "$here/../tests/mpi/rank_writer.c"; }; }; then
    skipped "open mpi" "$MPI_W" "mpicc failed"
else
    MPIRUN="mpirun --oversubscribe -np 4"
    [[ $(id -u) != 0 ]] || MPIRUN+=" --allow-run-as-root"
    bench_row "open mpi" "$MPI_W" 100000 \
        "mkdir -p @OUT@ && $MPIRUN $BUILD/mpi/rank_writer @OUT@ @N@ logs" \
        "mkdir -p @OUT@ && $MPIRUN -x LD_PRELOAD=$LIB $BUILD/mpi/rank_writer @OUT@ @N@ logs" rank.0.raw
fi

# ---- the section in the results file ------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$here/.." status --porcelain -- src 2>/dev/null) ]] || commit+=" + uncommitted changes in src/"
section=$WORK/section.md
{
    echo "## Runtimes"
    echo
    echo "Written by \`bench/runtimes.sh\`$( ((QUICK)) && echo ' (BENCH_QUICK=1: tiny sizes, not figures to quote)') on $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs ($cpu), kernel $(uname -r), shared with other jobs; library: commit $commit."
    echo
    echo "Each program (tests/runtimes/) writes \"line#i\\n\" a line at a time. Times: $([[ -n $HYPERFINE ]] && echo "hyperfine $("$HYPERFINE" --version | awk '{ print $2 }'), median of $RUNS runs after a warm-up run" || echo "median of $RUNS alternating rounds$( ((WARMUP)) && echo ' after a warm-up round')"), whole process (start-up included); speed-up = plain ÷ writebehind. Kernel writes: write-family calls that reached the output file, \`strace -f -y\`, default settings. The free pascal row, which the library cannot reach, shows this run's noise."
    echo
    printf '%s\n' "${ROWS[@]}"
} >"$section"
replace_section "Runtimes" "$section" "$RESULTS"
echo
echo "Runtimes section written to $RESULTS"
((!FAILED))
