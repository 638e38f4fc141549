#!/usr/bin/env bats
# `make install` into a DESTDIR: the installed wrapper finds the installed
# library (also under a multiarch LIBDIR), the library is stripped, the man
# page renders cleanly and documents every option and variable, the bash
# completion completes, `make uninstall` takes everything away again, and
# `make deb` builds a package that dpkg installs, runs and removes.

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

@test "install: wrapper, library, man page and completion land under DESTDIR/PREFIX" {
    make_install install
    [[ -x $INSTALLED/bin/writebehind ]]
    [[ -f $INSTALLED/lib/writebehind/libwritebehind.so ]]
    [[ -f $INSTALLED/share/man/man1/writebehind.1 ]]
    [[ -f $INSTALLED/share/bash-completion/completions/writebehind ]]
    [[ $(stat -c %a "$INSTALLED/lib/writebehind/libwritebehind.so") == 644 ]]
    [[ $(stat -c %a "$INSTALLED/share/man/man1/writebehind.1") == 644 ]]
}

@test "install: the library is stripped, its exported symbols kept" {
    command -v readelf >/dev/null || skip "readelf is not installed (.ci/run installs binutils)"
    make_install install
    local lib=$INSTALLED/lib/writebehind/libwritebehind.so
    readelf -S "$LIB" | grep -q '\.symtab'
    ! readelf -S "$lib" | grep -q '\.symtab'
    (($(stat -c %s "$lib") < $(stat -c %s "$LIB")))
    readelf --dyn-syms "$lib" | grep -qw write
}

@test "install: LIBDIR (multiarch) holds the library, and the installed wrapper finds it" {
    local multiarch
    multiarch=$(${CC:-cc} -print-multiarch)
    [[ -n $multiarch ]] || skip "the compiler has no multiarch name"
    make_install install LIBDIR=/usr/local/lib/$multiarch
    [[ -f $INSTALLED/lib/$multiarch/writebehind/libwritebehind.so ]]
    [[ ! -e $INSTALLED/lib/writebehind ]]
    run --separate-stderr env LD_PRELOAD="$SAN_RUNTIME" "$INSTALLED/bin/writebehind" -- \
        sh -c 'printf "%s\n" "$LD_PRELOAD"'
    ((status == 0))
    [[ $output == *"$INSTALLED/lib/$multiarch/writebehind/libwritebehind.so" ]]
    make_install uninstall LIBDIR=/usr/local/lib/$multiarch
    [[ -z $(find "$DEST" ! -type d) ]]
}

@test "install: the bash completion completes the wrapper's options" {
    make_install install
    run bash -c 'source "$1"; COMP_WORDS=(writebehind --stats-f); COMP_CWORD=1; _writebehind
                 echo "${COMPREPLY[*]}"' _ "$INSTALLED/share/bash-completion/completions/writebehind"
    [[ $output == "--stats-format=" ]]
    # every long option of the wrapper is offered
    local opt missing=()
    for opt in $("$WB" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
        grep -q -- "$opt" "$INSTALLED/share/bash-completion/completions/writebehind" || missing+=("$opt")
    done
    echo "missing: ${missing[*]}"
    ((${#missing[@]} == 0))
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
    grep -Eq '^writebehind: [0-9]{5,} writes .* became [0-9] write calls?:' "$stats"
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

@test "deb: make deb builds a package that installs, runs and removes cleanly" {
    command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
    [[ $(id -u) == 0 ]] || skip "dpkg --root needs root"
    make_install deb
    local deb root=$BATS_TEST_TMPDIR/root
    deb=$(ls "$BUILD"/writebehind_*.deb)
    dpkg-deb --info "$deb" | grep -q '^ Package: writebehind$'
    mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
    touch "$root/var/lib/dpkg/status"
    # libc6 is not in this empty root's database: the one dependency is forced
    dpkg --root="$root" --log=/dev/null --force-depends -i "$deb"
    [[ -x $root/usr/bin/writebehind ]]
    [[ -f $root/usr/share/man/man1/writebehind.1.gz ]]
    [[ -f $root/usr/share/doc/writebehind/copyright ]]
    local out=$BATS_TEST_TMPDIR/out stats=$BATS_TEST_TMPDIR/stats
    LD_PRELOAD="$SAN_RUNTIME" "$root/usr/bin/writebehind" --stats="$stats" -- \
        perl -e '$| = 1; print "$_\n" for 1 .. 20000' >"$out"
    seq 1 20000 | cmp - "$out"
    grep -Eq '^writebehind: 20000 writes .* became [0-9] write calls?:' "$stats"
    dpkg --root="$root" --log=/dev/null -r writebehind
    local left=
    [[ ! -e $root/usr ]] || left=$(find "$root/usr" ! -type d)
    echo "left behind: $left"
    [[ -z $left ]]
}
