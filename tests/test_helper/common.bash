# Shared setup for every bats file: where the build is, and how to run a
# command plainly and under the library so tests compare the two.
#
#   wb CMD...        run CMD with libwritebehind preloaded (and the sanitizer
#                    runtime first, in sanitizer builds)
#   wb_env           print the LD_PRELOAD value `wb` uses
#   helper NAME      path of a test helper program built from tests/helpers/NAME.c
#
# Scratch files go under $BATS_TEST_TMPDIR.

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
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:exitcode=99:report_signal_unsafe=0:suppressions=$BATS_TEST_DIRNAME/tsan.supp}
    ;;
*) SAN_RUNTIME= ;;
esac

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

# Run a command plainly and under the library in two scratch directories;
# fail with a diff if the files or the status differ.
#   same_as_plain 'shell command using ./files'
same_as_plain() {
    local cmd=$1 p=$BATS_TEST_TMPDIR/plain w=$BATS_TEST_TMPDIR/wb
    mkdir -p "$p" "$w"
    local sp=0 sw=0
    # bats runs with set -e: a failing command must be recorded, not abort us.
    (cd "$p" && bash -c "$cmd") >"$p.out" 2>"$p.err" || sp=$?
    (cd "$w" && LD_PRELOAD="$(wb_env)" bash -c "$cmd") >"$w.out" 2>"$w.err" || sw=$?
    if [[ $sp != "$sw" ]]; then
        echo "exit status: plain $sp, writebehind $sw"; cat "$w.err"; return 1
    fi
    diff -r "$p" "$w" || return 1
    diff "$p.out" "$w.out" || return 1
}
