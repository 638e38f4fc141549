#!/usr/bin/env bash
# tests/runtimes/build.sh RUNTIME OUTDIR — compile one runtime's writer into
# OUTDIR (kept there: it is rebuilt only when its source is newer) and print
# the command that runs it, without its arguments.  Shared by
# tests/runtimes.bats and bench/runtimes.sh.
#
#   exit 0   built (or nothing to build); the command on stdout
#   exit 2   the toolchain is not installed; its name on stdout
#   exit 1   the compiler failed (its messages on stderr)
#
# RUNTIME: java tcl ada cobol pascal ruby php lua.
set -uo pipefail
src=$(cd "$(dirname "$0")" && pwd)
runtime=${1:?usage: build.sh RUNTIME OUTDIR}
out=${2:?usage: build.sh RUNTIME OUTDIR}

need() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || { echo "$cmd"; exit 2; }
    done
}
stale() { [[ ! -e $1 || $2 -nt $1 ]]; }

mkdir -p "$out" || exit 1
case $runtime in
java)
    need java javac
    # One javac for every mode (Writers.java holds them all).
    if stale "$out/java/Writers.class" "$src/Writers.java"; then
        javac -d "$out/java" "$src/Writers.java" || exit 1
    fi
    echo "java -cp $out/java Writers"
    ;;
tcl) need tclsh && echo "tclsh $src/writer.tcl" ;;
ruby) need ruby && echo "ruby $src/writer.rb" ;;
php) need php && echo "php -n $src/writer.php" ;;
lua) need lua5.4 && echo "lua5.4 $src/writer.lua" ;;
ada)
    need gnatmake
    if stale "$out/ada" "$src/writer.adb"; then
        mkdir -p "$out/ada.obj" &&
            gnatmake -q -D "$out/ada.obj" -o "$out/ada" "$src/writer.adb" >&2 || exit 1
    fi
    echo "$out/ada"
    ;;
cobol)
    need cobc
    if stale "$out/cobol" "$src/writer.cob"; then
        cobc -x -o "$out/cobol" "$src/writer.cob" >&2 || exit 1
    fi
    echo "$out/cobol"
    ;;
pascal)
    need fpc
    if stale "$out/pascal" "$src/writer.pas"; then
        mkdir -p "$out/pascal.obj" &&
            fpc -v0 -FU"$out/pascal.obj" -o"$out/pascal" "$src/writer.pas" >/dev/null || exit 1
    fi
    echo "$out/pascal"
    ;;
*)
    echo "build.sh: unknown runtime $runtime (java tcl ada cobol pascal ruby php lua)" >&2
    exit 1
    ;;
esac
