# bench/lib.sh — timing helpers shared by demo.sh and run.sh (sourced).
#
# Every figure is a median of alternating runs: the variants of one
# measurement take turns (A B C, C B A, A B C, ...), so a noisy neighbour on
# this shared machine slows them alike and the ratios stay honest.  Time is
# wall-clock from bash's $EPOCHREALTIME (no fork to read the clock).
#
#   measure RUNS CMD...   eval each CMD (a shell string) RUNS times, in turns,
#                         after one untimed warm-up round unless WARMUP=0.
#                         "$OUT" is the variant's output path ($WORK/out.N,
#                         removed before each run).  Sets MED[i] (µs).
#   secs US               "0.123 s"
#   ratio BASE US         BASE/US as "12.3x"
#   need CMD PACKAGE      is CMD there?  Installs PACKAGE with apt-get first
#                         when running as root, unless QUICK=1
#   replace_section TITLE FILE RESULTS
#                         RESULTS with its "## TITLE" section (if any)
#                         replaced by FILE's contents, put at the end
#   fuse_mount DIR        a bindfs passthrough of DIR/fuse-src at DIR/fuse:
#                         sets FUSE_MNT, or fuse_why to why there is none

export LC_ALL=C   # $EPOCHREALTIME and printf %f use the locale's decimal point

median() {
    printf '%s\n' "$@" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

run_variant() {   # run_variant INDEX CMD -> sets LAST_US
    OUT=$WORK/out.$1
    rm -rf "$OUT"
    local t0=${EPOCHREALTIME/./}
    if ! eval "$2"; then
        echo "benchmark command failed: $2" >&2
        return 1
    fi
    local t1=${EPOCHREALTIME/./}
    LAST_US=$((t1 - t0))
}

measure() {
    local runs=$1 r k i
    shift
    local -a cmds=("$@") samples=()
    local n=${#cmds[@]}
    if ((${WARMUP:-1})); then
        for ((i = 0; i < n; i++)); do run_variant "$i" "${cmds[i]}" || return 1; done
    fi
    for ((r = 0; r < runs; r++)); do
        for ((k = 0; k < n; k++)); do
            i=$((r % 2 ? n - 1 - k : k))
            run_variant "$i" "${cmds[i]}" || return 1
            samples[i]+="$LAST_US "
        done
    done
    MED=()
    for ((i = 0; i < n; i++)); do
        # shellcheck disable=SC2086  # the samples are words on purpose
        MED[i]=$(median ${samples[i]})
    done
}

secs() { awk -v u="$1" 'BEGIN { printf "%.3f s", u / 1e6 }'; }

ratio() {
    awk -v b="$1" -v u="$2" 'BEGIN {
        if (u <= 0) { print "n/a"; exit }
        r = b / u
        printf (r >= 100 ? "%.0fx" : r >= 10 ? "%.1fx" : "%.2fx"), r }'
}

need() {   # need CMD PACKAGE: is CMD there (installing PACKAGE when we can)?
    command -v "$1" >/dev/null 2>&1 && return 0
    if ((!${QUICK:-0})) && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        echo "bench: installing $2 for $1" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq "$2" >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq "$2" >/dev/null 2>&1; }
    fi
    command -v "$1" >/dev/null 2>&1
}

fuse_mount() {
    local dir=$1
    FUSE_MNT= fuse_why=
    if ! need bindfs bindfs; then
        fuse_why="bindfs is not installed$( ((${QUICK:-0})) && echo ' (quick mode installs nothing)')"
    elif ! command -v fusermount >/dev/null && ! command -v fusermount3 >/dev/null; then
        fuse_why="fusermount is missing (package fuse3)"
    else
        mkdir -p "$dir/fuse-src" "$dir/fuse"
        if bindfs --no-allow-other "$dir/fuse-src" "$dir/fuse" 2>"$dir/fuse.err"; then
            FUSE_MNT=$dir/fuse
        else
            fuse_why="bindfs cannot mount here ($(head -n 1 "$dir/fuse.err"))"
        fi
    fi
}

replace_section() {
    local title=$1 section=$2 results=$3 rest
    if [[ ! -e $results ]]; then
        cp "$section" "$results"
        return
    fi
    rest=$(mktemp)
    awk -v t="## $title" '$0 == t { skip = 1; next } skip && /^## / { skip = 0 } !skip' "$results" >"$rest"
    sed -i -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$rest"   # no trailing blank lines
    { cat "$rest"; echo; cat "$section"; } >"$results"
    rm -f "$rest"
}
