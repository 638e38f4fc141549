#!/usr/bin/env bats
# Faults injected through the library's one table of real calls
# (libwritebehind-faults.so, WRITEBEHIND_TEST_FAULTS: see src/real.c):
# the kernel's rarer answers, without root and without a second shim.

load test_helper/common

setup() {
    FAULTS_LIB=$BUILD/libwritebehind-faults.so
    [[ -f $FAULTS_LIB ]] || skip "no $FAULTS_LIB (make builds it)"
    cd "$BATS_TEST_TMPDIR"
    "$(helper core_write)" -n 20000 plain.out
}

# Write 1 of a new file is its first, which goes straight through (the
# program sees that fault itself): the plans below start at write 2.
faulty() {   # faulty PLAN CMD...: CMD under the fault-injecting library
    local plan=$1
    shift
    LD_PRELOAD="${SAN_RUNTIME:+$SAN_RUNTIME:}$FAULTS_LIB" WRITEBEHIND_BUFSIZE=4096 \
        WRITEBEHIND_TEST_FAULTS=$plan "$@"
}

@test "injected EINTR: every interrupted background write is retried; the file is identical" {
    run faulty 2:EINTR,3:EINTR,6:EINTR,10:EINTR "$(helper core_write)" -n 20000 wb.out
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    cmp plain.out wb.out
}

@test "injected short writes: the rest is written; the file is identical" {
    run faulty 2:short,4:short,5:short,41:short "$(helper core_write)" -n 20000 wb.out
    [ "$status" -eq 0 ]
    [ -z "$output" ]
    cmp plain.out wb.out
}

@test "injected ENOSPC: the next call fails with ENOSPC, the file is an unbroken prefix, stderr says why" {
    run faulty 3:ENOSPC "$(helper core_write)" -n 20000 wb.out
    echo "$output"
    [ "$status" -eq 1 ]
    [[ $output == *"writebehind: could not write"*"No space left on device"* ]]
    [[ $output == *"write: No space left on device"* ]]
    size=$(stat -c %s wb.out)
    [ "$size" -gt 0 ] && [ "$size" -lt "$(stat -c %s plain.out)" ]
    cmp -n "$size" plain.out wb.out
}

@test "injected EIO at close: close reports it and the fd is gone" {
    # Python checks close()'s answer; the second small write is landed by close.
    command -v python3 >/dev/null || skip "no python3"
    run faulty 2:EIO python3 -c '
import os, errno
fd = os.open("wb.out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.write(fd, b"x" * 10)
os.write(fd, b"y" * 10)
try:
    os.close(fd)
    print("close: ok")
except OSError as e:
    print("close:", errno.errorcode[e.errno])
try:
    os.fstat(fd)
except OSError as e:
    print("after:", errno.errorcode[e.errno])
'
    echo "$output"
    [[ $output == *"close: EIO"* ]]
    [[ $output == *"after: EBADF"* ]]
}

@test "injected faults: a misspelled plan stops the run (it would test nothing)" {
    run faulty 1:ENOSPACE "$(helper core_write)" -n 20000 wb.out
    [ "$status" -eq 125 ]
    [[ $output == *"WRITEBEHIND_TEST_FAULTS is not N:WHAT"*"1:ENOSPACE"* ]]
    run faulty x:EIO "$(helper core_write)" -n 20000 wb.out
    [ "$status" -eq 125 ]
}
