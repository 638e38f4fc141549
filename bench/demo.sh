#!/usr/bin/env bash
# bench/demo.sh BUILD — `make demo`: the seed workload with and without writebehind.
#
# A program writes 500,000 lines with one write() each, first as it is, then
# under BUILD/writebehind, then rewritten to buffer 64 KiB itself (the best
# a program can do).  Prints the median times and speed-ups, and fails
# (exit 1) if the output under writebehind is not byte-identical to the plain one.
# DEMO_LINES and DEMO_RUNS change the size and the number of runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

BUILD=$(cd "${1:?usage: bench/demo.sh BUILD}" && pwd)
SEED=$BUILD/bench/seed
WB=$BUILD/writebehind
LINES=${DEMO_LINES:-500000}
RUNS=${DEMO_RUNS:-5}
for f in "$SEED" "$WB" "$BUILD/libwritebehind.so"; do
    [[ -x $f || -f $f ]] || { echo "demo: $f is missing; run 'make' first" >&2; exit 2; }
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/writebehind-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fs=$(df --output=fstype "$WORK" | tail -n 1)
size=$("$SEED" write "$WORK/size" "$LINES" && stat -c %s "$WORK/size")
echo "writebehind demo: a program makes $LINES write() calls of \"line#N\\n\""
echo "($((size / 1000)) kB) to a file in $WORK ($fs); median of $RUNS alternating runs."
echo

measure "$RUNS" \
    '"$SEED" write "$OUT" "$LINES"' \
    '"$WB" "$SEED" write "$OUT" "$LINES"' \
    '"$SEED" buffered "$OUT" "$LINES"'

row() { printf '  %-46s %s' "$1" "$(secs "$2")"; [[ -z ${3:-} ]] || printf '   %s faster' "$3"; echo; }
row "plain          seed write FILE" "${MED[0]}"
row "writebehind    writebehind seed write FILE" "${MED[1]}" "$(ratio "${MED[0]}" "${MED[1]}")"
row "ideal          seed buffered FILE" "${MED[2]}" "$(ratio "${MED[0]}" "${MED[2]}")"
echo "  (ideal: the same program rewritten to buffer 64 KiB itself)"
echo

# How many write() calls actually reached the kernel (the library's own count).
if "$WB" --stats="$WORK/stats" "$SEED" write "$WORK/out.3" "$LINES" &&
    calls=$(grep -o 'became [0-9]* write call' "$WORK/stats" | grep -o '[0-9]*'); then
    echo "  Under writebehind, $LINES write() calls reached the kernel as $calls."
fi

if cmp -s "$WORK/out.0" "$WORK/out.1" && cmp -s "$WORK/out.0" "$WORK/out.2" &&
    { [[ ! -e $WORK/out.3 ]] || cmp -s "$WORK/out.0" "$WORK/out.3"; }; then
    echo "  Output files: byte-identical (cmp) to the plain run's."
else
    echo "  Output files DIFFER from the plain run's:" >&2
    for i in 1 2 3; do [[ ! -e $WORK/out.$i ]] || cmp "$WORK/out.0" "$WORK/out.$i" >&2 || true; done
    exit 1
fi
