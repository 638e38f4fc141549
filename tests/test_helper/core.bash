# Shared setup for core.bats, config.bats, cli.bats and compat.bats:
# counting system calls with strace, waiting for a file to grow, and a writer
# that blocks until the test lets it go.  Load after test_helper/common.
#
#   wb_traced TRACE [VAR=VALUE...] CMD...
#                       run CMD under the library and strace; the write and
#                       writev calls of every process go to TRACE, each fd
#                       shown with what it names (strace -y).  The timer is
#                       set to a minute (WRITEBEHIND_FLUSH_MS=60000, which a
#                       VAR=VALUE overrides), so a slow run under strace or a
#                       sanitizer makes no extra write calls
#   plain_traced TRACE CMD...     the same without the library
#   few_writes TRACE TARGET
#                       passes when 1 to 10 calls went to TARGET
#                       (counted by common.bash's writes_to)
#   wait_for_size FILE SIZE
#                       poll (bounded, 5 s) until FILE holds SIZE bytes
#   start_holder CMD... run CMD (which must end with core_hold's arguments)
#                       in the background; returns once it said "ready"
#                       (its bytes are written, it is blocked); sets
#                       holder_pid
#   release_holder      let it return; fails unless it exits 0
#   stop_holder         (teardown) kill a holder a failed test left behind
#   peak_kib STATSLINE  the "peak buffer memory" figure of a stats line

STRACE=(strace -f -qq -y -e trace=write,writev)

wb_traced() {
    local trace=$1
    shift
    "${STRACE[@]}" -o "$trace" env LD_PRELOAD="$(wb_env)" WRITEBEHIND_FLUSH_MS=60000 "$@"
}

# cli_traced TRACE OPTION... -- CMD...: the wrapper under strace, the timer
# at a minute (a setting children given the library back get too).
cli_traced() {
    local trace=$1
    shift
    "${STRACE[@]}" -o "$trace" env LD_PRELOAD="$SAN_RUNTIME" WRITEBEHIND_FLUSH_MS=60000 "$WB" "$@"
}

plain_traced() {
    local trace=$1
    shift
    "${STRACE[@]}" -o "$trace" "$@"
}

few_writes() {
    local n
    n=$(writes_to "$1" "$2")
    echo "$2: $n write calls"
    ((n >= 1 && n <= 10))
}

wait_for_size() {
    local file=$1 want=$2 i
    for ((i = 0; i < 500; i++)); do
        [[ $(stat -c %s "$file" 2>/dev/null) == "$want" ]] && return 0
        sleep 0.01
    done
    echo "$file holds $(stat -c %s "$file" 2>/dev/null) bytes after 5 s; expected $want"
    return 1
}

start_holder() {
    local dir=$BATS_TEST_TMPDIR/holder
    mkdir -p "$dir"
    rm -f "$dir/ctl" "$dir/ready"
    mkfifo "$dir/ctl" "$dir/ready"
    # Read-write, so neither side's open of the FIFO waits for the other.
    exec {holder_ctl}<>"$dir/ctl"
    "$@" <"$dir/ctl" >"$dir/ready" 2>"$dir/stderr" 3>&- {holder_ctl}>&- &
    holder_pid=$!
    local line=
    read -r -t 30 line <"$dir/ready" || true
    if [[ $line != ready ]]; then
        echo "the holder did not get ready; its stderr:"
        cat "$dir/stderr"
        return 1
    fi
}

release_holder() {
    echo go >&"$holder_ctl"
    exec {holder_ctl}>&-
    local status=0
    wait "$holder_pid" || status=$?
    holder_pid=
    if ((status != 0)); then
        echo "the holder exited with $status; its stderr:"
        cat "$BATS_TEST_TMPDIR/holder/stderr"
        return 1
    fi
}

stop_holder() {
    if [[ -n ${holder_pid:-} ]] && kill -0 "$holder_pid" 2>/dev/null; then
        kill -KILL "$holder_pid" 2>/dev/null || true
    fi
}

peak_kib() {
    sed -n 's/.*peak buffer memory \([0-9][0-9]*\) KiB.*/\1/p' <<<"$1"
}
