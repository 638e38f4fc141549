#!/usr/bin/env bats
# The core engine: bytes and their order, when buffers land, which fds are
# buffered, memory, and what write() returns.  Outputs are compared with the
# plain run; system calls are counted with strace.

setup() {
    load test_helper/common
    load test_helper/core
    cd "$BATS_TEST_TMPDIR"
    T=$(pwd -P)
}

teardown() {
    stop_holder
}

# ---- bytes --------------------------------------------------------------

@test "output: the seed workload is byte-identical to the plain run" {
    same_as_plain "$BUILD/bench/seed write out 200000"
}

@test "output: random sizes around a 64-byte buffer are byte-identical" {
    for seed in 1 2 3; do
        same_as_plain --bufsize 64 "$(helper core_sizes) random out 64 $seed 3000"
    done
}

@test "output: random sizes around a 4096-byte buffer are byte-identical" {
    for seed in 4 5 6; do
        same_as_plain --bufsize 4096 "$(helper core_sizes) random out 4096 $seed 2000"
    done
}

@test "coalescing: the seed workload becomes a few write calls" {
    plain_traced plain.trace "$BUILD/bench/seed" write plain.out 10000
    wb_traced wb.trace "$BUILD/bench/seed" write wb.out 10000
    [[ $(writes_to plain.trace "$T/plain.out") == 10000 ]]
    few_writes wb.trace "$T/wb.out"
    cmp plain.out wb.out
}

@test "big writes: a write of bufsize bytes or more is one call of its own" {
    WRITEBEHIND_BUFSIZE=4096 wb_traced wb.trace "$(helper core_sizes)" big out 4096 5
    run grep -cE "^[0-9]+ +write\([0-9]+<$T/out>, .*\) = 4096$" wb.trace
    [[ $output == 5 ]]
    run grep -cE "^[0-9]+ +writev\([0-9]+<$T/out>, .*\) = 8193$" wb.trace
    [[ $output == 5 ]]
}

@test "big writes: stay in order with the buffered ones around them" {
    same_as_plain --timer 60000 --bufsize 4096 "$(helper core_sizes) big out 4096 50"
}

# ---- order across fds of one description ----------------------------------

@test "dup: writes through both fds keep their order" {
    same_as_plain --timer 60000 "$(helper core_dup) dup out"
}

@test "dup, dup2, dup3, F_DUPFD: both fds share one buffer (few write calls)" {
    for mode in dup dup2 dup3 dupfd dupfd_cloexec; do
        wb_traced wb.trace "$(helper core_dup)" $mode out
        echo "mode $mode"
        few_writes wb.trace "$T/out"
    done
}

@test "dup2: writes through both fds keep their order" {
    same_as_plain --timer 60000 "$(helper core_dup) dup2 out"
}

@test "dup3: writes through both fds keep their order" {
    same_as_plain --timer 60000 "$(helper core_dup) dup3 out"
}

@test "fcntl F_DUPFD: writes through both fds keep their order" {
    same_as_plain --timer 60000 "$(helper core_dup) dupfd out"
}

@test "fcntl F_DUPFD_CLOEXEC: writes through both fds keep their order" {
    same_as_plain --timer 60000 "$(helper core_dup) dupfd_cloexec out"
}

@test "dup2: onto a buffered fd of another file lands that file's bytes first" {
    same_as_plain --timer 60000 "$(helper core_dup) dup2_replace out"
}

@test "dup: closing the original fd keeps the copy's order" {
    same_as_plain --timer 60000 "$(helper core_dup) close_first out"
}

@test "inherited >f 2>&1: alternating raw writes to fd 1 and fd 2 keep their order" {
    same_as_plain --timer 60000 "$(helper core_write) fd:1 fd:2 >f 2>&1"
}

@test "inherited >f 2>&1: fd 1 and fd 2 share one buffer (few write calls)" {
    wb_traced wb.trace "$(helper core_write)" fd:1 fd:2 >f 2>&1
    few_writes wb.trace "$T/f"
}

@test "inherited >f 2>>f: two descriptions of one file keep their order" {
    same_as_plain --timer 60000 "$(helper core_write) fd:1 fd:2 >f 2>>f"
}

# ---- when the bytes land ------------------------------------------------

# A new file's first write goes straight through (many files get one
# write and a close); from the second on, bytes are held.
@test "buffering: written bytes are held while nothing lands them, all but a new file's first write" {
    WRITEBEHIND_FLUSH_MS=60000 run wb "$(helper core_end)" pending out
    [[ $status == 0 ]]
    "$(helper core_end)" pending plain.out
    cmp plain.out out
    local first
    first=$(head -n 1 plain.out | wc -c)
    echo "$output; the first line is $first bytes"
    [[ $output =~ ^landed\ $first\ of\ [1-9][0-9]*$ ]]
    (($(wc -l <plain.out) > 1))
}

@test "tagging: a file that gets one write and a close costs no system call more than plain" {
    local s
    for s in plain wb; do
        local -a pre=()
        [[ $s == plain ]] || pre=(env LD_PRELOAD="$(wb_env)")
        strace -f -qq -y -o $s.trace "${pre[@]}" "$(helper core_write)" -n 1 $s.out
        grep -F "<$T/$s.out>" $s.trace | sed -E 's/^[0-9]+ +//; s/\(.*//' | sort | uniq -c >$s.calls
    done
    cat plain.calls
    diff plain.calls wb.calls
    grep -q ' write$' plain.calls
    cmp plain.out wb.out
}

@test "close: flushes pending bytes" {
    WRITEBEHIND_FLUSH_MS=60000 run wb "$(helper core_end)" close out
    [[ $status == 0 ]]
    [[ $output =~ ^landed\ ([0-9]+)\ of\ ([0-9]+)$ ]]
    [[ ${BASH_REMATCH[1]} == "${BASH_REMATCH[2]}" ]]
}

@test "exit(): flushes pending bytes" {
    same_as_plain --timer 60000 "$(helper core_end) exit out"
}

@test "return from main: flushes pending bytes" {
    same_as_plain --timer 60000 "$(helper core_end) return out"
}

@test "_exit(): flushes pending raw writes" {
    same_as_plain --timer 60000 "$(helper core_end) _exit out"
}

@test "exit() in a non-main thread: flushes pending bytes" {
    same_as_plain --timer 60000 "$(helper core_end) thread_exit out"
}

# ThreadSanitizer's runtime keeps a thread of its own, so under it even the
# plain program never ends after main's pthread_exit and its last thread's
# return: nothing to compare.
skip_under_tsan() {
    [[ $SANITIZER != thread ]] || skip "ThreadSanitizer's own thread keeps such a process alive"
}

@test "pthread_exit in main: the other thread's bytes land and the process ends" {
    skip_under_tsan
    same_as_plain "timeout -s KILL 20 $(helper core_end) main_pthread_exit out"
}

# With a long FLUSH_MS the flusher thread used to keep such a process alive
# for 2 minutes (and deaf to SIGTERM: it blocks every signal).
@test "pthread_exit in main: the process ends promptly even with a long FLUSH_MS" {
    skip_under_tsan
    WRITEBEHIND_FLUSH_MS=60000 run wb timeout -s KILL 5 "$(helper core_end)" main_pthread_exit out
    echo "status $status (137: still running after 5 s)"
    [[ $status == 0 ]]
    "$(helper core_end)" main_pthread_exit plain.out
    cmp plain.out out
}

@test "timer: another process sees the bytes within FLUSH_MS while the writer blocks" {
    "$(helper core_hold)" plain.out 100 </dev/null >/dev/null
    want=$(stat -c %s plain.out)
    start_holder env WRITEBEHIND_FLUSH_MS=50 LD_PRELOAD="$(wb_env)" "$(helper core_hold)" out 100
    wait_for_size out "$want"
    kill -0 "$holder_pid"   # the bytes came while the writer still blocked
    release_holder
    cmp plain.out out
}

@test "timer: with a long FLUSH_MS the bytes stay buffered while the writer blocks" {
    "$(helper core_hold)" plain.out 100 </dev/null >/dev/null
    start_holder env WRITEBEHIND_FLUSH_MS=60000 \
        "${STRACE[@]}" -o wb.trace env LD_PRELOAD="$(wb_env)" "$(helper core_hold)" out 100
    size=$(stat -c %s out)
    release_holder
    echo "size while blocked: $size (the first write goes straight through)"
    [[ $size == $(head -n 1 plain.out | wc -c) ]]
    cmp plain.out out
    [[ $(writes_to wb.trace "$T/out") == 2 ]]
}

# ---- the background writer cannot start ----------------------------------

# glibc puts a program's static TLS on every thread's stack, so a background
# writer started with a small fixed stack would fail (EINVAL) in a program
# with 1 MiB of TLS.  Started or not, every byte lands: when the writer cannot
# start, the library writes through from then on, and what it had already
# buffered lands in order by the end of the program (a one-line program
# keeps its line).
@test "flusher: a program with 1 MiB of thread-local storage keeps every byte" {
    same_as_plain "timeout -s KILL 10 $(helper core_tls) out 1"
}

# The same start failure with stderr a tagged file: the library's message
# about it goes to that same file, from inside a write to it, and must
# neither deadlock nor lose or reorder the program's own lines.
@test "flusher: a program with 1 MiB of thread-local storage writing to stderr as a file ends" {
    "$(helper core_tls)" fd:2 2>plain.err
    status=0
    timeout -s KILL 5 env LD_PRELOAD="$(wb_env)" "$(helper core_tls)" fd:2 2>err || status=$?
    echo "status $status (137: hung)"
    [[ $status == 0 ]]
    [[ $(grep -c '^tls line#' err) == 100 ]]
}

# The same, with pthread_create failing with EAGAIN because the user may run
# no more processes (RLIMIT_NPROC): the first line still lands.
@test "flusher: when no thread can be started, every byte still lands" {
    [[ $(id -u) == 0 ]] || skip "needs root to run the writer as another user"
    [[ $SANITIZER != thread ]] || skip "ThreadSanitizer starts a thread of its own"
    command -v setpriv >/dev/null && command -v prlimit >/dev/null || skip "needs setpriv and prlimit"
    "$(helper core_write)" -n 1 fd:1 >plain.out
    # The other user must reach the program and the library: the checkout
    # (and bats' scratch dir) may be private, so run copies from an open dir.
    local open_dir
    open_dir=$(mktemp -d /tmp/writebehind-nproc.XXXXXX)
    chmod 755 "$open_dir"
    cp "$(helper core_write)" "$LIB" "$open_dir/"
    local preload=$open_dir/libwritebehind.so
    [[ -z $SAN_RUNTIME ]] || preload=$SAN_RUNTIME:$preload
    prlimit --nproc=1:1 setpriv --reuid=65534 --regid=65534 --clear-groups \
        env LD_PRELOAD="$preload" "$open_dir/core_write" -n 1 fd:1 >out 2>err || true
    rm -rf "$open_dir"
    cat err
    cmp plain.out out
}

# ---- which fds are buffered ---------------------------------------------

@test "tagging: O_SYNC files are written through, one call per write" {
    wb_traced wb.trace "$(helper core_write)" -n 200 -o sync out
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
}

@test "tagging: O_DSYNC files are written through, one call per write" {
    wb_traced wb.trace "$(helper core_write)" -n 200 -o dsync out
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
}

@test "tagging: O_DIRECT files are written through, one call per write" {
    "$(helper core_write)" -n 20 -o direct plain.out ||
        skip "this file system refuses O_DIRECT"
    wb_traced wb.trace "$(helper core_write)" -n 20 -o direct out
    [[ $(writes_to wb.trace "$T/out") == 20 ]]
    cmp plain.out out
}

@test "tagging: O_APPEND files are buffered" {
    wb_traced wb.trace "$(helper core_write)" -n 200 -o append out
    few_writes wb.trace "$T/out"
}

# A mapped file is written through while it exists.  Its inode number goes
# to the next new file once it is removed (ext4 does so at once; Open MPI
# maps files in /tmp and removes them): that new file is buffered.
@test "tagging: a mapped file is written through; a new file given its inode number is buffered" {
    command -v python3 >/dev/null || skip "python3 is not installed"
    cat >reuse.py <<'EOF'
import mmap, os, sys
for attempt in range(100):
    fd = os.open("mapped", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"x" * 4096)
    mmap.mmap(fd, 4096).close()
    for i in range(100):
        os.write(fd, b"mapped %d\n" % i)
    ino = os.fstat(fd).st_ino
    os.close(fd)
    os.unlink("mapped")
    fd = os.open("new", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    if os.fstat(fd).st_ino == ino:
        for i in range(1000):
            os.write(fd, b"new %d\n" % i)
        sys.exit(0)
    os.close(fd)
    os.unlink("new")
sys.exit(3)
EOF
    local status=0
    wb_traced wb.trace python3 reuse.py || status=$?
    ((status != 3)) || skip "this file system does not give a removed file's inode number to the next one"
    ((status == 0))
    [[ $(writes_to wb.trace "$T/new") -le 10 ]]
    # the mapped file, before it was removed: one call per write
    [[ $(grep -c 'write([0-9]*</[^>]*/mapped>, "mapped ' wb.trace) -ge 100 ]]
    [[ $(wc -l <new) == 1000 ]]
}

@test "tagging: pipes are written through by default" {
    wb_traced wb.trace "$(helper core_write)" -n 200 fd:1 | cat >out
    [[ $(writes_to wb.trace pipe:) == 200 ]]
}

@test "tagging: WRITEBEHIND_PIPES=1 buffers pipes, bytes unchanged" {
    "$(helper core_write)" -n 200 fd:1 >plain.out
    wb_traced wb.trace WRITEBEHIND_PIPES=1 "$(helper core_write)" -n 200 fd:1 | cat >out
    few_writes wb.trace pipe:
    cmp plain.out out
}

@test "tagging: /dev/null is written through" {
    wb_traced wb.trace "$(helper core_write)" -n 200 /dev/null
    [[ $(writes_to wb.trace /dev/null) == 200 ]]
}

@test "tagging: a terminal is written through" {
    wb_traced wb.trace "$(helper core_write)" -n 100 pty
    [[ $(writes_to wb.trace /dev/pts/) == 100 ]]
}

@test "tagging: inherited stdout to a regular file is buffered by default" {
    wb_traced wb.trace "$(helper core_write)" -n 200 fd:1 >out
    few_writes wb.trace "$T/out"
}

@test "PATHS: a file whose path as opened matches the glob is buffered" {
    wb_traced wb.trace WRITEBEHIND_PATHS=x.log "$(helper core_write)" -n 200 x.log
    few_writes wb.trace "$T/x.log"
}

@test "PATHS: a file matched only by its absolute path is buffered" {
    mkdir sub
    cd sub
    wb_traced ../wb.trace WRITEBEHIND_PATHS="$T/sub/*.log" "$(helper core_write)" -n 200 x.log
    few_writes ../wb.trace "$T/sub/x.log"
}

@test "PATHS: a file no glob matches is written through" {
    wb_traced wb.trace WRITEBEHIND_PATHS='*.log:*.out' "$(helper core_write)" -n 200 x.txt
    [[ $(writes_to wb.trace "$T/x.txt") == 200 ]]
}

@test "PATHS: every glob of a colon-separated list selects" {
    wb_traced a.trace WRITEBEHIND_PATHS='*.log:*.out' "$(helper core_write)" -n 200 x.log
    wb_traced b.trace WRITEBEHIND_PATHS='*.log:*.out' "$(helper core_write)" -n 200 x.out
    a=$(writes_to a.trace "$T/x.log") b=$(writes_to b.trace "$T/x.out")
    echo "write calls: $a, $b"
    ((a >= 1 && a <= 10 && b >= 1 && b <= 10))
}

@test "FDS: an inherited fd named in WRITEBEHIND_FDS is buffered" {
    wb_traced wb.trace WRITEBEHIND_FDS=1 "$(helper core_write)" -n 200 fd:1 >out
    few_writes wb.trace "$T/out"
}

@test "FDS: an inherited fd not named is written through" {
    wb_traced wb.trace WRITEBEHIND_FDS=1 "$(helper core_write)" -n 200 fd:2 2>out
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
}

@test "FDS: a file the program opens is not selected by its fd number" {
    wb_traced wb.trace WRITEBEHIND_FDS=3 "$(helper core_write)" -n 200 out 3>&-
    grep -q "write(3<$T/out>" wb.trace   # it did get fd 3
    [[ $(writes_to wb.trace "$T/out") == 200 ]]
}

@test "debug: WRITEBEHIND_DEBUG=1 says a file is tagged" {
    WRITEBEHIND_DEBUG=1 run wb "$(helper core_write)" -n 10 out
    [[ $status == 0 ]]
    [[ $output == *"writebehind: fd "*"($T/out) tagged"* ]]
}

@test "debug: WRITEBEHIND_DEBUG=1 says why a file is not tagged" {
    WRITEBEHIND_DEBUG=1 run wb "$(helper core_write)" -n 10 -o sync out
    [[ $status == 0 ]]
    [[ $output == *"writebehind: fd "*"out) not tagged: O_SYNC"* ]]
    WRITEBEHIND_DEBUG=1 WRITEBEHIND_PATHS='*.log' run wb "$(helper core_write)" -n 10 out
    [[ $output == *"out) not tagged: not selected by WRITEBEHIND_PATHS"* ]]
}

@test "debug: WRITEBEHIND_DEBUG=1 says why a pipe is not tagged" {
    WRITEBEHIND_DEBUG=1 wb "$(helper core_write)" -n 10 fd:1 2>err | cat >/dev/null
    grep -q "^writebehind: fd 1 (pipe:.*) not tagged: a pipe" err
}

# ---- memory -------------------------------------------------------------

@test "memory: 1000 files written round-robin stay under WRITEBEHIND_MAX_MEMORY" {
    mkdir files
    WRITEBEHIND_BUFSIZE=64K WRITEBEHIND_MAX_MEMORY=1M WRITEBEHIND_STATS="$T/stats" \
        wb "$(helper core_many)" files 1000 20
    cat stats
    peak=$(peak_kib "$(cat stats)")
    [[ -n $peak ]]
    ((peak > 0 && peak <= 1024))
}

@test "memory: 1000 files written round-robin under the cap are byte-identical" {
    same_as_plain --timer 60000 --bufsize 64K --env WRITEBEHIND_MAX_MEMORY=1M "mkdir files && $(helper core_many) files 1000 20"
}

# ---- return values and errno --------------------------------------------

@test "errno: bad fds fail with EBADF exactly as without the library" {
    "$(helper core_errno)" "$T" >plain.txt
    mkdir w && wb "$(helper core_errno)" "$T/w" >wb.txt
    grep EBADF plain.txt >plain.ebadf
    grep EBADF wb.txt >wb.ebadf
    [[ $(wc -l <plain.ebadf) -ge 10 ]]
    diff plain.ebadf wb.ebadf
}

@test "errno: zero-length writes return 0" {
    "$(helper core_errno)" "$T" >plain.txt
    mkdir w && wb "$(helper core_errno)" "$T/w" >wb.txt
    grep '0 bytes\|0 pieces' plain.txt >plain.zero
    grep '0 bytes\|0 pieces' wb.txt >wb.zero
    grep -q '= 0, errno EXDEV' wb.zero
    diff plain.zero wb.zero
}

# A writev() whose pieces are all empty, on a tagged fd that has no buffer
# yet, returns 0 and copies nothing (no memcpy from or to NULL, which UBSan
# in the sanitizer builds would report and halt on).
@test "errno: writev of empty pieces returns 0 before and after buffered bytes" {
    same_as_plain "$(helper core_errno) . zero-writev"
    grep -q 'before any byte *= 0, errno EXDEV' wb.out
}

# syscall(2) is variadic: the wrapper reads no more arguments than the
# system call takes, so a caller passing fewer than six has nothing read
# beyond them (AddressSanitizer would stop the program with
# stack-buffer-underflow, in the library's own syscall(SYS_gettid) too).
@test "syscall(2): calls with fewer than six arguments return as without the library" {
    same_as_plain "$(helper core_errno) . syscall"
    grep -q '^syscall(SYS_getppid) == getppid() *= 1' wb.out
}

@test "errno: every call returns and sets errno as without the library" {
    same_as_plain "$(helper core_errno) ."
}

@test "errno: unchanged by successful writes while buffers fill and flush" {
    same_as_plain --bufsize 64 "$(helper core_errno) ."
    ! grep -q 'went wrong' wb.out
}
