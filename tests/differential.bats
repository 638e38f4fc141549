#!/usr/bin/env bats
# The differential test: one seeded random sequence of file operations (see
# tests/helpers/difftest.c), run plainly and under writebehind, must print
# the same results and leave the same files.  The issue's bar is 200 seeds x
# 2000 operations per configuration; `make test` runs a smaller loop (40
# seeds, 10 under sanitizers):
#   DIFFTEST_SEEDS=200 DIFFTEST_OPS=2000 bats tests/differential.bats

load test_helper/common
load test_helper/semantics

# Sanitizer builds run each process several times slower: fewer seeds there.
if [[ -n ${SANITIZER:-} ]]; then SEEDS=${DIFFTEST_SEEDS:-10}; else SEEDS=${DIFFTEST_SEEDS:-40}; fi
OPS=${DIFFTEST_OPS:-2000}
FIRST=${DIFFTEST_FIRST_SEED:-1}

# Runs every seed; stops at the first difference and says how to rerun it.
seeds_agree() {
    local dt seed
    dt=$(helper difftest)
    for ((seed = FIRST; seed < FIRST + SEEDS; seed++)); do
        if ! plain_vs_wb "seed$seed" "$@" -- "$dt" run "$seed" "$OPS"; then
            echo "first failing seed: $seed (rerun: DIFFTEST_FIRST_SEED=$seed DIFFTEST_SEEDS=1 env $* bats tests/differential.bats)"
            return 1
        fi
        rm -rf "$BATS_TEST_TMPDIR/seed$seed".*
    done
}

@test "differential: default settings, $SEEDS seeds x $OPS operations" {
    seeds_agree
}

@test "differential: 64-byte buffers and a 1 ms timer, $SEEDS seeds x $OPS operations" {
    seeds_agree WRITEBEHIND_BUFSIZE=64 WRITEBEHIND_FLUSH_MS=1
}
