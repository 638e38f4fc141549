# Shared setup for every bats file: where the build is, and how to run a
# command plainly and under the library so tests compare the two.
#
#   wb CMD...        run CMD with libwritebehind preloaded (and the sanitizer
#                    runtime first, in sanitizer builds)
#   wb_env           print the LD_PRELOAD value `wb` uses
#   helper NAME      path of a test helper program built from tests/helpers/NAME.c
#   same_as_plain [OPTION...] COMMAND...
#                    the one comparison of a plain run with a run under the
#                    library (status, stdout, stderr, files, modes, sizes,
#                    times, as asked): see its comment below
#   writes_to TRACE TARGET
#                    how many write/writev calls of an strace -y trace went
#                    to TARGET
#   status_name N    "exit N" or "signal NAME" for a shell status
#
# Helper programs exit with status 2 only for a usage error (a misspelled
# scenario or mode), so that same_as_plain can tell a test that never ran
# from a pass.  Scratch files go under $BATS_TEST_TMPDIR.

# Tests run under `make test`: programs they start (make itself, in
# compat.bats) must not inherit the outer make's flags (-w prints paths).
unset MAKEFLAGS MAKELEVEL MFLAGS

BUILD=${BUILD:-$(cd "$BATS_TEST_DIRNAME/.." && pwd)/build}
LIB=$BUILD/libwritebehind.so
WB=$BUILD/writebehind
SANITIZER=${SANITIZER:-}

case $SANITIZER in
address)
    SAN_RUNTIME=$(${CC:-cc} -print-file-name=libasan.so)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0:exitcode=99}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
    ;;
thread)
    SAN_RUNTIME=$(${CC:-cc} -print-file-name=libtsan.so)
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=99:report_signal_unsafe=0:die_after_fork=0:suppressions=$BATS_TEST_DIRNAME/tsan.supp}
    ;;
*) SAN_RUNTIME= ;;
esac

# The wrapper as a user runs it.  In sanitizer builds the sanitizer runtime
# is already in LD_PRELOAD, so it stays first when the wrapper appends.
cli() {
    LD_PRELOAD="$SAN_RUNTIME" "$WB" "$@"
}

wb_env() {
    if [[ -n $SAN_RUNTIME ]]; then
        printf '%s:%s' "$SAN_RUNTIME" "$LIB"
    else
        printf '%s' "$LIB"
    fi
}

wb() {
    LD_PRELOAD="$(wb_env)" "$@"
}

helper() {
    printf '%s/helpers/%s' "$BUILD" "$1"
}

# The timer never lands anything during a test run with this: whatever the
# kernel holds was landed by the call the test is about.
NO_TIMER=WRITEBEHIND_FLUSH_MS=3600000

# "exit N" or "signal NAME" for a shell status.
status_name() {
    local st=$1
    if ((st > 128 && st < 128 + 65)); then
        printf 'signal %s' "$(kill -l "$((st - 128))")"
    else
        printf 'exit %s' "$st"
    fi
}

# same_as_plain [OPTION...] [--] COMMAND...
#   Runs COMMAND plainly in the empty directory $BATS_TEST_TMPDIR/plain and
#   under the library in $BATS_TEST_TMPDIR/wb; stdout and stderr go to
#   plain.out, plain.err, wb.out and wb.err beside them.  One word is a shell
#   command (bash -c); more are a program and its arguments, exec'd (no shell
#   stays behind to report a death by signal on stderr).  Fails, saying what
#   differs, unless both runs end with the same exit status (or signal),
#   print the same stdout and leave the same tree: the same names, types and
#   modes, every regular file and symlink with the same size and bytes.
#
#   --name NAME       scratch directories NAME.plain and NAME.wb instead
#   --env VAR=VALUE   set for the library's run (repeatable)
#   --preload LIST    LD_PRELOAD of the library's run instead of wb_env's
#                     (the library named twice, or a copy of it)
#   --no-timer        $NO_TIMER: nothing lands by the timer
#   --timer MS        WRITEBEHIND_FLUSH_MS=MS
#   --bufsize N       WRITEBEHIND_BUFSIZE=N
#   --setup COMMAND   shell command run plainly in both directories first: the
#                     inputs COMMAND works on (cp -p keeps their times)
#   --compare LIST    what to compare, from status,stdout,stderr,files,meta
#                     (meta: type, mode and size); "+stderr" adds to the
#                     default status,stdout,files,meta
#   --loss-line       compare stderr, except for the one "writebehind: could
#                     not write" line the library may add when a background
#                     write failed
#   --mtime PATTERN   compare, to the nanosecond, the modification time of the
#                     regular files whose path in the directory matches
#                     PATTERN (find -path: 'x/*', '*'); at least one must
#                     (repeatable; for programs that set times: tar -x, cp -p)
#   --status S        the plain run must end with S: a number or a signal
#                     name (TERM).  Without it, any status but 2 (a helper's
#                     usage error, or a shell syntax error), 126 and 127 (not
#                     run at all): a test whose program never ran the scenario
#                     must not pass because both runs failed alike
#   --plain-says RE   a line of the plain run's stdout must match the
#                     extended regular expression RE (grep -Ex)
same_as_plain() {
    local name= setup= loss_line= plain_says= want_status= preload
    preload=$(wb_env)
    local -a envs=() mtimes=()
    local compare=status,stdout,files,meta
    while (($#)); do
        case $1 in
        --name) name=$2; shift 2 ;;
        --env) envs+=("$2"); shift 2 ;;
        --preload) preload=$2; shift 2 ;;
        --no-timer) envs+=("$NO_TIMER"); shift ;;
        --timer) envs+=("WRITEBEHIND_FLUSH_MS=$2"); shift 2 ;;
        --bufsize) envs+=("WRITEBEHIND_BUFSIZE=$2"); shift 2 ;;
        --setup) setup=$2; shift 2 ;;
        --compare)
            if [[ $2 == +* ]]; then compare+=,${2#+}; else compare=$2; fi
            shift 2 ;;
        --loss-line) loss_line=1; compare+=,stderr; shift ;;
        --mtime) mtimes+=("$2"); shift 2 ;;
        --status) want_status=$2; shift 2 ;;
        --plain-says) plain_says=$2; shift 2 ;;
        --) shift; break ;;
        -*) echo "same_as_plain: unknown option $1"; return 1 ;;
        *) break ;;
        esac
    done
    if (($# == 0)); then
        echo "same_as_plain: no command"; return 1
    fi
    local -a run=("$@")
    (($# > 1)) || run=(bash -c "$1")
    if [[ -n $want_status && $want_status != [0-9]* ]]; then
        local signo
        signo=$(kill -l "${want_status#SIG}" 2>/dev/null) ||
            { echo "same_as_plain: --status $want_status: no such signal"; return 1; }
        want_status=$((128 + signo))
    fi

    local p=$BATS_TEST_TMPDIR/${name:+$name.}plain w=$BATS_TEST_TMPDIR/${name:+$name.}wb sp=0 sw=0
    rm -rf "$p" "$w"
    mkdir -p "$p" "$w"
    if [[ -n $setup ]]; then
        (cd "$p" && bash -c "$setup") && (cd "$w" && bash -c "$setup") ||
            { echo "same_as_plain: --setup failed"; return 1; }
    fi
    # bats runs with set -e: a failing command must be recorded, not abort us.
    (cd "$p" && exec "${run[@]}") >"$p.out" 2>"$p.err" || sp=$?
    (cd "$w" && exec env "${envs[@]}" LD_PRELOAD="$preload" "${run[@]}") >"$w.out" 2>"$w.err" || sw=$?

    # First: did the plain run do what the test means it to?
    if [[ -n $want_status ]]; then
        if [[ $sp != "$want_status" ]]; then
            echo "the plain run ended with $(status_name "$sp"), not $(status_name "$want_status"); its stderr:"
            tail -5 "$p.err"
            return 1
        fi
    elif [[ $sp == 2 || $sp == 126 || $sp == 127 ]]; then
        echo "the plain run ended with exit $sp (a usage error, or the program could not run): the test is wrong; its stderr:"
        tail -5 "$p.err"
        return 1
    fi
    if [[ -n $plain_says ]] && ! grep -Eqx -- "$plain_says" "$p.out"; then
        echo "the plain run did not print a line matching /$plain_says/; its stdout:"
        tail -5 "$p.out"
        return 1
    fi

    local what
    for what in ${compare//,/ }; do
        case $what in
        status)
            if [[ $sp != "$sw" ]]; then
                echo "status: plain $(status_name "$sp"), writebehind $(status_name "$sw"); its stderr:"
                tail -5 "$w.err"
                return 1
            fi ;;
        stdout)
            cmp -s "$p.out" "$w.out" || { diff -u "$p.out" "$w.out" | head -40; echo "stdout differs"; return 1; } ;;
        stderr)
            if [[ -n $loss_line ]]; then
                # The one line that says which bytes a background write lost.
                (($(grep -c '^writebehind: could not write' "$w.err") <= 1)) ||
                    { cat "$w.err"; echo "more than one loss line on stderr"; return 1; }
                sed -i '/^writebehind: could not write/d' "$w.err"
            fi
            cmp -s "$p.err" "$w.err" || { diff -u "$p.err" "$w.err" | head -20; echo "stderr differs"; return 1; } ;;
        files)
            diff -r "$p" "$w" >/dev/null || { diff -r "$p" "$w" | head -20; echo "files differ"; return 1; } ;;
        meta)
            tree_meta "$p" >"$p.meta" && tree_meta "$w" >"$w.meta" ||
                { echo "cannot list $p or $w"; return 1; }
            cmp -s "$p.meta" "$w.meta" ||
                { diff -u "$p.meta" "$w.meta" | head -20; echo "file types, modes or sizes differ"; return 1; } ;;
        *) echo "same_as_plain: --compare: unknown $what"; return 1 ;;
        esac
    done
    # Last, so that a test expecting only the times to differ knows the rest agreed.
    local pat
    for pat in "${mtimes[@]}"; do
        tree_mtimes "$p" "$pat" >"$p.mtime" && tree_mtimes "$w" "$pat" >"$w.mtime" ||
            { echo "cannot list $p or $w"; return 1; }
        [[ -s $p.mtime ]] || { echo "--mtime $pat: no regular file matches in $p"; return 1; }
        cmp -s "$p.mtime" "$w.mtime" ||
            { diff -u "$p.mtime" "$w.mtime" | head -20; echo "mtime differs ($pat)"; return 1; }
    done
}

# Every entry under DIR (relative path, type, mode; size and link target of
# regular files and symlinks), one a line, sorted.
tree_meta() {
    (cd "$1" && find . -mindepth 1 \( -type f -o -type l \) -printf '%P %y %m %s %l\n' -o -printf '%P %y %m\n') |
        LC_ALL=C sort
}

# tree_mtimes DIR PATTERN: the regular files under DIR matching PATTERN,
# each with its modification time (seconds.nanoseconds).
tree_mtimes() {
    (cd "$1" && find . -mindepth 1 -type f -path "./$2" -printf '%P %T@\n') | LC_ALL=C sort
}

# writes_to TRACE TARGET: how many write/writev calls in TRACE (strace -f -y
# output) went to TARGET: a path (exact), or a prefix ending in ':' or '/'
# ("pipe:", "/dev/pts/")
writes_to() {
    awk -v want="$2" '
        { sub(/^[0-9]+ +/, "") }
        /^writev?\([0-9]+</ {
            t = $0
            sub(/^writev?\([0-9]+</, "", t)
            t = substr(t, 1, index(t, ">") - 1)
            if (t == want || (want ~ /[:\/]$/ && index(t, want) == 1))
                n++
        }
        END { print n + 0 }' "$1"
}

# ---- compatibility: bats files written before same_as_plain took options ----

# plain_vs_wb NAME ENV... -- CMD... (tests/differential.bats): same_as_plain
# with stderr compared and ENV set for the library's run.
plain_vs_wb() {
    local -a opts=(--name "$1" --compare +stderr)
    shift
    while (($#)) && [[ $1 != -- ]]; do opts+=(--env "$1"); shift; done
    same_as_plain "${opts[@]}" "$@"
}
