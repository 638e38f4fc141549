#!/usr/bin/env bats
# The architecture stays as src/README.md draws it: every call goes down a
# layer, and every module's functions are declared in its own header.

load test_helper/common

CHECK=$BATS_TEST_DIRNAME/tools/check-layers
SRC=$BATS_TEST_DIRNAME/../src

@test "layering: every call between library files goes down" {
    run "$CHECK" "$BUILD/obj"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "layering: the check fails on an upward call" {
    # ops (layer 9) moved below file (layer 6), which it calls.
    sed -e 's/^| 9 | ops |/| 9 | |/' -e 's/^| 0 | real parse |/| 0 | real parse ops |/' \
        "$SRC/README.md" >"$BATS_TEST_TMPDIR/README.md"
    cp "$SRC"/*.c "$BATS_TEST_TMPDIR/"
    run "$CHECK" "$BUILD/obj" "$BATS_TEST_TMPDIR/README.md"
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"ops.c (layer 0) uses wb_file_write_slow from file.c (layer 6): calls must go down"* ]]
}

@test "layering: the check fails on a file with no layer" {
    sed -e 's/^| 1 | sys |/| 1 | |/' "$SRC/README.md" >"$BATS_TEST_TMPDIR/README.md"
    cp "$SRC"/*.c "$BATS_TEST_TMPDIR/"
    run "$CHECK" "$BUILD/obj" "$BATS_TEST_TMPDIR/README.md"
    [ "$status" -eq 1 ]
    [[ $output == *"sys.c has no layer in the table"* ]]
}

@test "headers: no .c file declares a library function; each module's header does" {
    run grep -n 'WB_HIDDEN;' "$SRC"/*.c
    [ "$status" -eq 1 ] || { echo "prototypes in .c files:"; echo "$output"; false; }
    missing=
    for o in "$BUILD"/obj/*.o; do
        m=$(basename "$o" .o)
        [[ -f $SRC/$m.c && $m != wrap_* ]] || continue
        for fn in $(nm --defined-only -g "$o" | awk '$2 == "T" { print $3 }'); do
            grep -qw -- "$fn" "$SRC/$m.h" || missing+=" $m.c:$fn"
        done
    done
    [ -z "$missing" ] || { echo "not declared in the module's header:$missing"; false; }
}

@test "headers: the wrapper files export only libc's names" {
    bad=
    for o in "$BUILD"/obj/wrap_*.o; do
        for fn in $(nm --defined-only -g "$o" | awk '$2 == "T" { print $3 }'); do
            [[ $fn == wb_* ]] && bad+=" $(basename "$o" .o).c:$fn"
        done
    done
    [ -z "$bad" ] || { echo "library functions in wrapper files:$bad"; false; }
}
