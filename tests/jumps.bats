#!/usr/bin/env bats
# Non-local exits: a signal handler that siglongjmps out of the program's
# write, taken while the library was inside that write (issue 11, class 9;
# and the SIGXFSZ of class 11).  After the jump the program writes on; the
# output, the file and the exit status must be a plain run's.  Scenarios are
# in tests/helpers/jump_out.c; the timeout turns a hang (what the second
# did before the library left its sections at the jump) into a failure.

load test_helper/common

@test "siglongjmp out of a write past RLIMIT_FSIZE (SIGXFSZ handler): later writes land, in order" {
    same_as_plain --plain-says 'jumped out of the write past the limit' \
        -- timeout 60 "$(helper jump_out)" fsize out
}

@test "siglongjmp out of a write blocked on a full pipe (SIGALRM handler that writes): later writes land, in order" {
    same_as_plain --env WRITEBEHIND_PIPES=1 --plain-says 'jumped out of the blocked write' \
        -- timeout 60 "$(helper jump_out)" pipe out
}
