#!/usr/bin/env bats
# Positions and wide output on wrapped streams while other descriptors
# write, seek or close behind the stream's back (issue 11, class 8): every
# return value and every file are those of a plain run
# (tests/helpers/stdio_pos.c prints them).

load test_helper/common

setup() {
    cd "$BATS_TEST_TMPDIR"
}

# stdio_pos CASE, plainly and under the library: same report, same files.
case_is_identical() {
    rm -rf p w && mkdir p w
    (cd p && "$(helper stdio_pos)" "$1" >../plain.txt 2>&1)
    (cd w && wb "$(helper stdio_pos)" "$1" >../wb.txt 2>&1)
    diff -u plain.txt wb.txt
    diff -r p w
}

@test "stdio positions: ftell of a \"w\" stream answers from glibc's cached offset after a dup'd fd wrote" {
    case_is_identical cached-offset
}

@test "stdio positions: fseek SEEK_CUR/SEEK_END, a failed fseek, fgetpos/fsetpos and rewind with a dup'd fd writing" {
    case_is_identical seek-cur
}

@test "stdio positions: an \"r+\" stream reads ahead and seeks inside its buffer as a plain one, while another fd rewrites the file" {
    case_is_identical read-ahead
}

@test "stdio positions: \"a\" and \"a+\" streams report the same positions with raw appends between" {
    case_is_identical append
}

@test "stdio positions: fdopen of an fd with pending raw writes starts at the kernel's offset" {
    case_is_identical fdopen
}

@test "stdio wide: EILSEQ in the C locale, byte output on a wide stream, fwide after byte output, setlocale after orientation" {
    case_is_identical wide-errors
}

@test "stdio wide: a wide stream whose fd was closed fails every flush; a stream whose fd number was reused writes into the new file" {
    case_is_identical wide-closed
}

@test "stdio wide: ftell, fseek and fgetwc on a wide \"w+\" stream with raw writes between" {
    case_is_identical wide-position
}

@test "stdio wide: freopen of a wide stream gives an unoriented stream on the new file" {
    case_is_identical wide-freopen
}
