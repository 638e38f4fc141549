#!/usr/bin/env bash
# bench/harm.sh BUILD — the "Do no harm" section of bench/results.md: what the
# library costs where it cannot help (a process that writes nothing, a file
# that gets one write and a close) and how close it gets to the limit where it
# can, each against its target (issue 14).  `make bench` runs it after the
# main table and the runtimes; `BENCH_ONLY=harm make bench` runs it alone.
#
# Method as in bench/run.sh: the variants of a row take turns and each figure
# is a median (bench/lib.sh).  The per-process rows interleave even finer:
# bench/spawn.c alternates the variants spawn by spawn and reports medians of
# thousands.  Baselines:
#   - per process: an empty preload (build/bench/empty_preload.so), so what
#     any preload costs (the loader mapping one more file) is not counted;
#   - per file: the same command run plainly, against `writebehind COMMAND`;
#   - where it helps: the in-process 64 KiB buffer (seed buffered), the ideal.
# Outputs are compared (cmp, diff -r): a difference is a bug, shown in the
# table, and the exit status is 1.  Missed targets are reported, not failed.
#
#   BENCH_QUICK=1     tiny sizes, one round, no installs (tests/bench.bats)
#   BENCH_RUNS=N      rounds per figure (full mode: at least 5)
#   BENCH_RESULTS=F   the markdown file whose "## Do no harm" section is replaced
#   BENCH_TMPDIR=D    scratch directory on the disk to measure
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

BUILD=$(cd "${1:?usage: bench/harm.sh BUILD}" && pwd)
LIB=$BUILD/libwritebehind.so
CLI=$BUILD/writebehind
EMPTY=$BUILD/bench/empty_preload.so
SPAWN=$BUILD/bench/spawn
SEED=$BUILD/bench/seed
LOAD=$BUILD/bench/load
for f in "$LIB" "$CLI" "$EMPTY" "$SPAWN" "$SEED" "$LOAD"; do
    [[ -e $f ]] || { echo "bench: $f is missing; run 'make BUILD=$1' first" >&2; exit 2; }
done

QUICK=${BENCH_QUICK:-0}
if ((QUICK)); then
    RUNS=${BENCH_RUNS:-1} WARMUP=0 FUSE_RUNS=1
    EXEC_N=20 FORK_N=20 TREE_FILES=50 GIT_FILES=50 MAKE_FILES=3
    SEED_LINES=2000 CG_LINES=2000 FUSE_LINES=500 THREAD_LINES=4000
    RESULTS=${BENCH_RESULTS:-$BUILD/bench-results-quick.md}
else
    RUNS=${BENCH_RUNS:-7} WARMUP=1
    ((RUNS >= 5)) || { echo "bench: BENCH_RUNS must be at least 5 (medians of 5)" >&2; exit 2; }
    # A plain FUSE run of 500,000 writes takes seconds: 5 rounds, no warm-up.
    FUSE_RUNS=5
    EXEC_N=1000 FORK_N=300 TREE_FILES=5000 GIT_FILES=3000 MAKE_FILES=36
    SEED_LINES=500000 CG_LINES=200000 FUSE_LINES=500000 THREAD_LINES=500000
    RESULTS=${BENCH_RESULTS:-$here/results.md}
fi

WORK=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/writebehind-harm.XXXXXX")
FUSE_MNT=
cleanup() {
    [[ -z $FUSE_MNT ]] || fusermount -u "$FUSE_MNT" 2>/dev/null || fusermount3 -u "$FUSE_MNT" 2>/dev/null ||
        umount "$FUSE_MNT" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fstype() { df --output=fstype "$1" | tail -n 1; }
DISK="$(fstype "$WORK") ($(dirname "$WORK"))"

# ---- output ------------------------------------------------------------------
# The target lines and the failure flag live in files: verdict and checked
# run in $(...) subshells.
ROWS=()
: >"$WORK/targets"
target() { printf '%s\n' "$1" >>"$WORK/targets"; }
fail() { : >"$WORK/failed"; }
row() { ROWS+=("$1"); printf '%s\n' "$1"; }
# line ROW WORKLOAD VARIANT FIGURE [VS [TARGET]]
line() { row "| $1 | $2 | $3 | ${4:-} | ${5:-} | ${6:-} |"; }
failed_row() { line "$1" "$2" "FAILED: $3"; fail; target "row $1 FAILED: $3"; }
skip() { line "$1" "$2" "skipped: $3"; target "row $1 skipped: $3"; }

# verdict ROW WHAT VALUE OP LIMIT -> "met"/"MISSED", recorded for the summary
verdict() {
    local word=MISSED
    (($(awk -v v="$3" -v l="$5" -v op="$4" 'BEGIN { print (op == ">=" ? v >= l : v <= l) }'))) && word=met
    target "row $1, $2: $3 (target $4 $5): $word"
    printf '%s' "$word"
}
calc() { awk "BEGIN { printf \"%${3:-}.${2:-1}f\", $1 }"; }   # calc EXPR [DECIMALS [+]]
us() { printf '%s µs' "$1"; }

# same A B: identical files or trees?  A difference fails the run.
same() {
    if [[ -d $1 ]]; then
        diff -rq ${3:+--exclude="$3"} "$1" "$2" >/dev/null && return 0
    else
        cmp -s "$1" "$2" && return 0
    fi
    fail
    target "OUTPUT DIFFERS: $(diff -rq ${3:+--exclude="$3"} "$1" "$2" 2>&1 | head -n 1)"
    return 1
}
checked() { same "$@" && echo "output identical" || echo "**OUTPUT DIFFERS**"; }

echo "Do no harm: $RUNS alternating rounds per figure$( ((WARMUP)) && echo ' after a warm-up round'); scratch files on $DISK."
echo
row "| # | workload | variant | median | vs baseline | target / check |"
row "|---|---|---|---|---|---|"

# ---- H1. per process: exec of /bin/true from a driver that is not preloaded -----
W="exec of /bin/true from a driver that is not preloaded, $EXEC_N spawns per variant, interleaved"
if mapfile -t t < <(env -u LD_PRELOAD "$SPAWN" exec "$EXEC_N" /bin/true "" "$EMPTY" "$LIB") && ((${#t[@]} == 3)); then
    d=$(calc "${t[2]} - ${t[1]}" 1 +)
    line H1 "$W" "no preload" "$(us "${t[0]}")"
    line H1 "$W" "empty preload (the baseline)" "$(us "${t[1]}")" "$(calc "${t[1]} - ${t[0]}" 1 +) µs over none"
    line H1 "$W" "writebehind" "$(us "${t[2]}")" "$d µs" \
        "≤ 20 µs over the empty preload: $(verdict H1 "µs per process over an empty preload" "$d" "<=" 20)"
else
    failed_row H1 "$W" "bench/spawn exec failed (see above)"
fi

# ---- H2. per process: fork of a preloaded process with nothing pending ----------
# The driver is preloaded itself, so each variant is its own process: they
# take turns, and each run reports the median of its FORK_N forks.
W="fork + _exit(0) + wait in a preloaded process with nothing pending, $FORK_N forks a run, median of $RUNS runs"
fork_s=("" "" "")
fork_ok=1
for ((r = 0; r < RUNS + WARMUP && fork_ok; r++)); do
    for k in 0 1 2; do
        i=$((r % 2 ? 2 - k : k))
        pre=("" "$EMPTY" "$LIB")
        v=$(env LD_PRELOAD="${pre[i]}" "$SPAWN" fork "$FORK_N") || { fork_ok=0; break; }
        ((r < WARMUP)) || fork_s[i]+="$v "
    done
done
if ((fork_ok)); then
    # shellcheck disable=SC2086  # the samples are words on purpose
    mapfile -t f < <(for i in 0 1 2; do median ${fork_s[i]}; done)
    d=$(calc "${f[2]} - ${f[1]}" 1 +)
    line H2 "$W" "no preload" "$(us "${f[0]}")"
    line H2 "$W" "empty preload (the baseline)" "$(us "${f[1]}")" "$(calc "${f[1]} - ${f[0]}" 1 +) µs over none"
    line H2 "$W" "writebehind" "$(us "${f[2]}")" "$d µs" \
        "≤ 10 µs over the empty preload: $(verdict H2 "µs per fork over an empty preload" "$d" "<=" 10)"
else
    failed_row H2 "$W" "bench/spawn fork failed (see above)"
fi

# ---- H3. system calls of /bin/true ------------------------------------------------
W="system calls of /bin/true (strace -f -c)"
syscalls() {   # syscalls NAME [PRELOAD]: per-call counts in $WORK/sc.NAME, the total on stdout
    strace -f -qq -c -o "$WORK/sc.$1.raw" ${2:+-E LD_PRELOAD="$2"} /bin/true >/dev/null 2>&1 || return 1
    awk '$1 ~ /^[0-9.]+$/ && NF >= 5 { print $NF, $4 }' "$WORK/sc.$1.raw" >"$WORK/sc.$1"
    awk '$1 == "total" { print $2 }' "$WORK/sc.$1"
}
if ! command -v strace >/dev/null; then
    skip H3 "$W" "strace is not installed"
elif sp=$(syscalls plain) && se=$(syscalls empty "$EMPTY") && sw=$(syscalls wb "$LIB"); then
    # The calls writebehind adds over the empty preload, the largest first.
    more=$(awk 'NR == FNR { e[$1] = $2; next } $1 != "total" && $2 > e[$1] { print $2 - e[$1], $1 }' \
        "$WORK/sc.empty" "$WORK/sc.wb" | sort -rn | head -n 6 | awk '{ printf "%s+%d %s", (NR > 1 ? ", " : ""), $1, $2 }')
    line H3 "$W" plain "$sp calls"
    line H3 "$W" "empty preload" "$se calls" "+$((se - sp))" "what loading any preload costs"
    line H3 "$W" writebehind "$sw calls" "+$((sw - sp))" \
        "within 5 of plain: $(verdict H3 "system calls over plain" "$((sw - sp))" "<=" 5); over the empty preload: ${more:-none}"
else
    failed_row H3 "$W" "strace failed"
fi

# ---- H4. per file, where buffering cannot help ---------------------------------------
# The inputs: TREE_FILES small files (1 B to 4 KiB, 50 to a directory), a tar
# of them, a git repository of GIT_FILES such files, MAKE_FILES C files.
make_tree() {   # make_tree DIR COUNT
    mkdir -p "$1" && for ((d = 0; d < ($2 + 49) / 50; d++)); do mkdir -p "$1/d$d"; done &&
        awk -v dir="$1" -v n="$2" 'BEGIN {
            srand(14)
            for (i = 0; i < n; i++) {
                f = sprintf("%s/d%d/f%d.txt", dir, int(i / 50), i)
                len = 1 + int(rand() * rand() * 4096); s = ""
                while (length(s) < len) s = s sprintf("%d %s\n", i, "the quick brown fox")
                printf "%s", substr(s, 1, len) > f; close(f)
            } }'
}
make_project() {   # make_project DIR COUNT: COUNT C files and a Makefile
    mkdir -p "$1" && awk -v dir="$1" -v n="$2" 'BEGIN {
        for (i = 0; i < n; i++) {
            f = sprintf("%s/unit%d.c", dir, i)
            printf "#include <stdio.h>\n#include <string.h>\n" > f
            for (j = 0; j < 10; j++)
                printf "static long f%d(long x) { long s = 0; for (long k = 0; k < x; k++) s += (k * %d) ^ (s >> 3); return s; }\n", j, j + i >f
            printf "long unit%d(long x) { char b[64]; snprintf(b, sizeof b, \"%%ld\", x); long s = (long)strlen(b);\n", i > f
            for (j = 0; j < 10; j++) printf "    s += f%d(x + %d);\n", j, j > f
            printf "    return s; }\n" > f; close(f)
        }
        f = dir "/main.c"
        for (i = 0; i < n; i++) printf "long unit%d(long);\n", i > f
        printf "int main(void) { long s = 0;\n" > f
        for (i = 0; i < n; i++) printf "    s += unit%d(%d);\n", i, i > f
        printf "    return (int)(s & 1); }\n" > f; close(f)
        f = dir "/Makefile"
        printf "OBJS := $(patsubst %%.c,%%.o,$(wildcard *.c))\nprog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n" > f
        printf "%%.o: %%.c\n\t$(CC) -O1 -c $<\n" > f; close(f) }'
}
TREE=$WORK/tree TAR=$WORK/tree.tar REPO=$WORK/repo PROJ=$WORK/proj
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench \
    GIT_COMMITTER_EMAIL=bench@localhost GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z
make_tree "$TREE" "$TREE_FILES" && tar cf "$TAR" -C "$TREE" . && make_project "$PROJ" "$MAKE_FILES" ||
    { echo "bench: cannot make the inputs of row H4" >&2; exit 1; }

per_file() {   # per_file NAME WORKLOAD SETUP CMD [EXCLUDE]: SETUP, then CMD plainly and as `writebehind CMD`
    local name=$1
    shift
    if measure "$RUNS" "$2 $3" "$2 \"\$CLI\" $3"; then
        s=$(calc "${MED[0]} / ${MED[1]}" 3)
        line H4 "$1" plain "$(secs "${MED[0]}")"
        line H4 "$1" "writebehind COMMAND" "$(secs "${MED[1]}")" "$(ratio "${MED[0]}" "${MED[1]}")" \
            "≥ 0.98x (within 2%): $(verdict H4 "$name, writebehind vs plain" "$s" ">=" 0.98); $(checked "$WORK/out.0" "$WORK/out.1" "${4:-}")"
    else
        failed_row H4 "$1" "see the message above"
    fi
    rm -rf "$WORK"/out.*
}
per_file "tar xf" "tar xf, $TREE_FILES small files, $DISK" 'mkdir "$OUT" &&' 'tar xf "$TAR" -C "$OUT"'
per_file "cp -r" "cp -r of those $TREE_FILES files, $DISK" '' 'cp -r "$TREE" "$OUT"'
if need git git; then
    rm -rf "$TREE" && make_tree "$TREE" "$GIT_FILES" &&
        git -c init.defaultBranch=main init -q "$REPO" && cp -r "$TREE"/. "$REPO" &&
        git -C "$REPO" add -A && git -C "$REPO" commit -qm "$GIT_FILES files" && git -C "$REPO" repack -adq ||
        { echo "bench: cannot make row H4's git repository" >&2; exit 1; }
    per_file "git clone" "git clone --no-hardlinks of a local repository of $GIT_FILES files, $DISK" '' \
        'git clone -q --no-hardlinks "$REPO" "$OUT"' .git
else
    skip H4 "git clone" "git is not installed"
fi
if need make make && need cc gcc; then
    per_file "make -j2" "make -j2 of $MAKE_FILES generated C files, $DISK" 'cp -r "$PROJ" "$OUT" &&' 'make -s -j2 -C "$OUT"'
else
    skip H4 "make -j2" "make or cc is not installed"
fi

# ---- H5. where it helps: the seed workload against the in-process ideal ----------------
W="seed: $SEED_LINES write()s of \"line#i\\n\", $DISK"
N=$SEED_LINES
P_SEED='"$SEED" write "$OUT" "$N"'
# The buffered runs take milliseconds: twice the rounds.
if measure $((2 * RUNS)) "$P_SEED" "LD_PRELOAD=\"\$LIB\" $P_SEED" '"$SEED" buffered "$OUT" "$N"'; then
    x=$(calc "${MED[1]} / ${MED[2]}" 2)
    line H5 "$W" plain "$(secs "${MED[0]}")" "1.00x"
    line H5 "$W" "in-process 64 KiB buffer (ideal)" "$(secs "${MED[2]}")" "$(ratio "${MED[0]}" "${MED[2]}")"
    line H5 "$W" writebehind "$(secs "${MED[1]}")" "$(ratio "${MED[0]}" "${MED[1]}")" \
        "${x}x the ideal's time, ≤ 1.1x: $(verdict H5 "seed time / the ideal's" "$x" "<=" 1.1); $(checked "$WORK/out.0" "$WORK/out.1")"
else
    failed_row H5 "$W" "see the message above"
fi
rm -rf "$WORK"/out.*

# ---- H6. where it helps: instructions per buffered write (callgrind) ------------------
W="instructions per buffered write (callgrind), seed write − seed buffered, $CG_LINES lines"
cg_total() {   # cg_total NAME PRELOAD MODE LINES -> total Ir
    env ${2:+LD_PRELOAD="$2"} valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$1" \
        "$SEED" "$3" "$WORK/cg-out" "$4" >/dev/null 2>&1 && awk '/^totals:/ { print $2 }' "$WORK/cg.$1"
}
if need valgrind valgrind; then
    if w1=$(cg_total w1 "$LIB" write "$CG_LINES") && b1=$(cg_total b1 "" buffered "$CG_LINES") &&
        w2=$(cg_total w2 "$LIB" write $((2 * CG_LINES))) && b2=$(cg_total b2 "" buffered $((2 * CG_LINES))) &&
        [[ -n $w1 && -n $b1 && -n $w2 && -n $b2 ]]; then
        per=$(calc "($w1 - $b1) / $CG_LINES")
        marginal=$(calc "(($w2 - $w1) - ($b2 - $b1)) / $CG_LINES")
        line H6 "$W" "(writebehind − ideal) / writes = ($w1 − $b1) / $CG_LINES" "$per instr." "" \
            "≤ 20: $(verdict H6 "extra instructions per buffered write" "$per" "<=" 20)"
        line H6 "$W" "the same, start-up left out: (2N run − N run) / N" "$marginal instr." "" \
            "≤ 20: $(verdict H6 "extra instructions per buffered write, start-up left out" "$marginal" "<=" 20)"
    else
        failed_row H6 "$W" "valgrind did not produce totals"
    fi
else
    skip H6 "$W" "valgrind is not installed"
fi

# ---- H7. where it helps: a slow file system (FUSE bindfs) -----------------------------
W="FUSE passthrough (bindfs over $(fstype "$WORK")), $FUSE_LINES write()s, medians of $FUSE_RUNS"
fuse_mount "$WORK"
if [[ -n $FUSE_MNT ]]; then
    N=$FUSE_LINES
    if WORK=$FUSE_MNT WARMUP=0 measure "$FUSE_RUNS" "$P_SEED" "LD_PRELOAD=\"\$LIB\" $P_SEED" \
        '"$SEED" buffered "$OUT" "$N"'; then
        s=$(calc "${MED[0]} / ${MED[1]}" 0)
        x=$(calc "${MED[1]} / ${MED[2]}" 2)
        line H7 "$W" "plain ($(calc "${MED[0]} / $N") µs a write)" "$(secs "${MED[0]}")" "1.00x"
        line H7 "$W" "in-process 64 KiB buffer (ideal)" "$(secs "${MED[2]}")" "$(ratio "${MED[0]}" "${MED[2]}")"
        line H7 "$W" writebehind "$(secs "${MED[1]}")" "$(ratio "${MED[0]}" "${MED[1]}")" \
            "≥ 300x: $(verdict H7 "FUSE vs plain" "$s" ">=" 300); ${x}x the ideal's time, ≤ 1.1x: $(verdict H7 "FUSE time / the ideal's" "$x" "<=" 1.1); $(checked "$FUSE_MNT/out.0" "$FUSE_MNT/out.1")"
    else
        failed_row H7 "$W" "see the message above"
    fi
    rm -rf "$FUSE_MNT"/out.*
else
    skip H7 "$W" "$fuse_why"
fi

# ---- H8. where it helps: threads ---------------------------------------------------------
threads() {   # threads NAME WORKLOAD CMD COMPARE: CMD plainly and preloaded; COMPARE prints the check
    local name=$1
    shift
    if measure "$RUNS" "$2" "${2/\"\$LOAD\"/LD_PRELOAD=\"\$LIB\" \"\$LOAD\"}"; then
        s=$(calc "${MED[0]} / ${MED[1]}" 2)
        line H8 "$1" plain "$(secs "${MED[0]}")" "1.00x"
        line H8 "$1" writebehind "$(secs "${MED[1]}")" "$(ratio "${MED[0]}" "${MED[1]}")" \
            "≥ 10x: $(verdict H8 "$name, writebehind vs plain" "$s" ">=" 10); $($3)"
    else
        failed_row H8 "$1" "see the message above"
    fi
    rm -rf "$WORK"/out.*
}
# The interleaving of one O_APPEND file differs run to run; every line must be there, whole.
sorted_same() { sort "$WORK/out.0" >"$WORK/sorted.0" && sort "$WORK/out.1" >"$WORK/sorted.1" &&
    checked "$WORK/sorted.0" "$WORK/sorted.1" | sed 's/^output/lines/'; }
threads "4 threads, one O_APPEND file" "4 threads, one O_APPEND file, $THREAD_LINES small writes in all, $DISK" \
    '"$LOAD" append "$OUT" "$THREAD_LINES" 4' sorted_same
files_same() { checked "$WORK/out.0" "$WORK/out.1"; }
threads "4 threads, 4 files" "4 threads, 4 files, $THREAD_LINES small writes in all, $DISK" \
    'mkdir "$OUT" && "$LOAD" files "$OUT/f" "$THREAD_LINES" 4' files_same

# ---- the section in the results file ----------------------------------------------------
echo
echo "Targets:"
sed 's/^/  /' "$WORK/targets"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git -C "$here/.." status --porcelain -- src 2>/dev/null) ]] || commit+=" + uncommitted changes in src/"
section=$WORK/section.md
{
    echo "## Do no harm"
    echo
    echo "Written by \`bench/harm.sh\` (\`make bench\`, or alone: \`BENCH_ONLY=harm make bench\`)$( ((QUICK)) && echo ' with BENCH_QUICK=1: tiny sizes, not figures to quote') on $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) CPUs ($cpu), kernel $(uname -r), $(uptime | sed 's/.*load average: /load average /'), shared with other jobs; library: commit $commit."
    echo
    echo "What the library costs where it cannot help, and how near it gets to the limit where it can (the targets of issue 14). H1: \`bench/spawn exec\` starts /bin/true with LD_PRELOAD in the child's environment only, the variants interleaved spawn by spawn, medians of $EXEC_N each. H2: \`bench/spawn fork\` run preloaded, each run the median of $FORK_N forks, the variants taking turns. Per-process baselines are an empty preload, so what loading any preload costs is not counted. H4: \`writebehind COMMAND\` against COMMAND, trees compared with \`diff -r\`. H5–H8: medians of alternating rounds (bench/lib.sh), as in the main table; \"vs baseline\" = plain's time ÷ the variant's."
    echo
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Targets:"
    echo
    sed 's/^/- /' "$WORK/targets"
} >"$section"
replace_section "Do no harm" "$section" "$RESULTS"
echo
echo "Do no harm section written to $RESULTS"
[[ ! -e $WORK/failed ]]
