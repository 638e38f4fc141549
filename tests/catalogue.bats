#!/usr/bin/env bats
# The catalogue (src/catalogue.def) and its complement
# (tests/catalogue/unrelated.txt) account for every function the running
# glibc exports, each exactly once; every entry that needs a wrapper has one
# or is on the shrinking list tests/catalogue/unwrapped-yet.txt; every
# CANNOT_SEE entry is documented; every prototype is glibc's own.

bats_require_minimum_version 1.5.0

# Names of the function symbols (T, W, i) an object defines, once each.
defined_functions() {
    nm -D --defined-only "$1" | awk '$2 ~ /^[TWi]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u
}

# Reads every input once per file: the running glibc's exports, the
# library's, and both lists.
setup_file() {
    load test_helper/common
    local root F=$BATS_FILE_TMPDIR
    root=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    # The libc.so.6 this machine's programs load.
    ldd "$(command -v bash)" | awk '$1 == "libc.so.6" { print $3 }' >"$F/libc"
    defined_functions "$(cat "$F/libc")" >"$F/exports"
    if [[ -f $LIB ]]; then defined_functions "$LIB" >"$F/wrapped"; fi
    # "NAME CLASS" for every catalogue entry.
    awk -F', ' '/^WB_CALL\(/ { sub(/^WB_CALL\(/, "", $1); print $3, $1 }' \
        "$root/src/catalogue.def" >"$F/entries"
    awk '!/^#/ && NF { print $1 }' "$root/tests/catalogue/unrelated.txt" >"$F/unrelated"
    awk '!/^#/ && NF { print $1 }' "$root/tests/catalogue/unwrapped-yet.txt" | sort -u >"$F/expected"
}

setup() {
    load test_helper/common
    ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
    F=$BATS_FILE_TMPDIR
    T=$BATS_TEST_TMPDIR
}

@test "catalogue: every function the running libc.so.6 exports is in the catalogue or in unrelated.txt" {
    [[ -s $F/exports ]]
    { awk '{ print $1 }' "$F/entries"; cat "$F/unrelated"; } | sort -u >"$T/listed"
    comm -23 "$F/exports" "$T/listed" >"$T/missing"
    if [[ -s $T/missing ]]; then
        echo "exported by $(cat "$F/libc") but in neither src/catalogue.def nor tests/catalogue/unrelated.txt:"
        cat "$T/missing"
        return 1
    fi
}

@test "catalogue: no name is listed twice, in one list or across both" {
    { awk '{ print $1 }' "$F/entries"; cat "$F/unrelated"; } | sort | uniq -d >"$T/twice"
    if [[ -s $T/twice ]]; then
        echo "listed more than once:"
        cat "$T/twice"
        return 1
    fi
}

@test "catalogue: every entry that needs a wrapper has one, or is in unwrapped-yet.txt, which only shrinks" {
    [[ -s $F/wrapped ]]
    awk '$2 != "PASS" && $2 != "CANNOT_SEE" { print $1 }' "$F/entries" | sort -u >"$T/need"
    # Wrappers of functions this glibc does not export are not built here.
    comm -12 "$T/need" "$F/exports" | comm -23 - "$F/wrapped" >"$T/missing"
    comm -23 "$T/missing" "$F/expected" >"$T/new"
    comm -12 "$F/expected" "$F/wrapped" >"$T/done"
    comm -23 "$F/expected" "$T/need" >"$T/stale"
    local status=0
    if [[ -s $T/new ]]; then
        echo "need a wrapper, $LIB has none, and tests/catalogue/unwrapped-yet.txt does not list them:"
        cat "$T/new"
        status=1
    fi
    if [[ -s $T/done ]]; then
        echo "wrapped now: remove them from tests/catalogue/unwrapped-yet.txt:"
        cat "$T/done"
        status=1
    fi
    if [[ -s $T/stale ]]; then
        echo "in tests/catalogue/unwrapped-yet.txt but not a catalogue entry that needs a wrapper:"
        cat "$T/stale"
        status=1
    fi
    return $status
}

@test "catalogue: every CANNOT_SEE entry is named in the README's limitations table" {
    awk '/^## Limitations: calls the library cannot see/ { on = 1; next } /^## / { on = 0 } on' \
        "$ROOT/README.md" >"$T/limitations"
    [[ -s $T/limitations ]]
    awk '$2 == "CANNOT_SEE" { print $1 }' "$F/entries" >"$T/unseen"
    [[ -s $T/unseen ]]
    awk 'NR == FNR { text = text $0 "\n"; next }
         index(text, "`" $1 "`") == 0 { print }' "$T/limitations" "$T/unseen" >"$T/undocumented"
    if [[ -s $T/undocumented ]]; then
        echo "CANNOT_SEE, but not in README.md's \"Limitations: calls the library cannot see\":"
        cat "$T/undocumented"
        return 1
    fi
}

@test "catalogue: every prototype, argument list and WHERE expression compiles against glibc's headers" {
    # A prototype that differs from the header's declaration is a
    # "conflicting types" error (tests/catalogue/check.c).
    run "${CC:-cc}" -std=gnu11 -fsyntax-only -Wall -Wextra -Werror -iquote "$ROOT/src" \
        "$ROOT/tests/catalogue/check.c"
    echo "$output"
    [[ $status -eq 0 ]]
}
