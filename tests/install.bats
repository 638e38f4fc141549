#!/usr/bin/env bats
# `make install` into a DESTDIR: the installed wrapper finds the installed
# library, the man page renders cleanly and documents every option and
# variable, and `make uninstall` takes everything away again.

bats_require_minimum_version 1.5.0

setup() {
    load test_helper/common
    ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    DEST=$BATS_TEST_TMPDIR/dest
    INSTALLED=$DEST/usr/local
}

# Installs what $BUILD holds.  -o: never rebuild here (src/ may be mid-edit,
# and $BUILD may be a sanitizer build).
make_install() {
    make -s -C "$ROOT" BUILD="$BUILD" SANITIZER="$SANITIZER" PREFIX=/usr/local \
        DESTDIR="$DEST" -o "$LIB" -o "$WB" "$@"
}

# The man page as text, one long line per paragraph (or skip without man).
rendered_man_page() {
    command -v man >/dev/null || skip "man is not installed (.ci/run installs man-db)"
    MANWIDTH=1000 man -l "$INSTALLED/share/man/man1/writebehind.1" 2>/dev/null | col -b
}

@test "install: wrapper, library and man page land under DESTDIR/PREFIX" {
    make_install install
    [[ -x $INSTALLED/bin/writebehind ]]
    [[ -f $INSTALLED/lib/writebehind/libwritebehind.so ]]
    [[ -f $INSTALLED/share/man/man1/writebehind.1 ]]
    [[ $(stat -c %a "$INSTALLED/lib/writebehind/libwritebehind.so") == 644 ]]
    [[ $(stat -c %a "$INSTALLED/share/man/man1/writebehind.1") == 644 ]]
    cmp "$LIB" "$INSTALLED/lib/writebehind/libwritebehind.so"
}

@test "install: the installed wrapper preloads the installed library" {
    make_install install
    run --separate-stderr env LD_PRELOAD="$SAN_RUNTIME" "$INSTALLED/bin/writebehind" -- \
        sh -c 'printf "%s\n" "$LD_PRELOAD"'
    ((status == 0))
    [[ $output == *"$INSTALLED/lib/writebehind/libwritebehind.so" ]]
    [[ $output != *"$BUILD"* ]]
}

@test "install: the installed wrapper buffers a program's writes" {
    make_install install
    local out=$BATS_TEST_TMPDIR/out stats=$BATS_TEST_TMPDIR/stats
    LD_PRELOAD="$SAN_RUNTIME" "$INSTALLED/bin/writebehind" --stats="$stats" -t 3600000 -- \
        perl -e '$| = 1; print "$_\n" for 1 .. 20000' >"$out"
    seq 1 20000 | cmp - "$out"
    cat "$stats"
    # perl's one write() per line was buffered: far fewer write calls than writes.
    grep -Eq 'pid [0-9]+: [0-9]{5,} writes .* became [0-9] write calls' "$stats"
}

@test "install: man -l renders the page without warnings" {
    command -v man >/dev/null || skip "man is not installed (.ci/run installs man-db)"
    make_install install
    run --separate-stderr env LC_ALL=C.UTF-8 MANWIDTH=80 \
        man --warnings=all -l "$INSTALLED/share/man/man1/writebehind.1"
    echo "$stderr"
    ((status == 0))
    [[ -z $stderr ]]
    [[ $output == *NAME*SYNOPSIS*DESCRIPTION*OPTIONS*ENVIRONMENT*"EXIT STATUS"*EXAMPLES*LIMITATIONS*"SEE ALSO"* ]]
}

@test "install: the man page documents every WRITEBEHIND_* variable the library reads" {
    command -v man >/dev/null || skip "man is not installed (.ci/run installs man-db)"
    make_install install
    local page var missing=()
    page=$(rendered_man_page)
    for var in $(grep -o '"WRITEBEHIND_[A-Z_]*"' "$ROOT/src/config.c" | tr -d '"' | sort -u); do
        [[ $page == *"$var"* ]] || missing+=("$var")
    done
    echo "missing: ${missing[*]}"
    ((${#missing[@]} == 0))
}

@test "install: the man page documents every option of writebehind --help" {
    command -v man >/dev/null || skip "man is not installed (.ci/run installs man-db)"
    make_install install
    local page opt missing=()
    page=$(rendered_man_page)
    for opt in $("$WB" --help | grep -oE -- '(^| )--?[a-zA-Z][a-z-]*' | sort -u); do
        [[ $page == *"$opt"* ]] || missing+=("$opt")
    done
    echo "missing: ${missing[*]}"
    ((${#missing[@]} == 0))
    [[ $page == *"mpirun -x LD_PRELOAD"* && $page == *"srun --export=ALL,LD_PRELOAD="* ]]
}

@test "uninstall: removes everything install put there" {
    make_install install
    make_install uninstall
    run find "$DEST" ! -type d
    echo "left behind: $output"
    [[ -z $output ]]
    [[ ! -e $INSTALLED/lib/writebehind ]]
}
