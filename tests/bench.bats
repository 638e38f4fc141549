#!/usr/bin/env bats
# bench/run.sh smoke test: BENCH_QUICK=1 runs every row of the harness at
# tiny sizes and prints its table.  No timing assertions: the figures of a
# quick run mean nothing.

load test_helper/common

@test "bench: BENCH_QUICK=1 bench/run.sh runs and produces its table" {
    [[ -z $SANITIZER ]] || skip "the benchmarks preload the plain build, not a sanitizer one"
    results=$BATS_TEST_TMPDIR/results.md
    run env BENCH_QUICK=1 BENCH_RESULTS="$results" TMPDIR="$BATS_TEST_TMPDIR" \
        "$BATS_TEST_DIRNAME/../bench/run.sh" "$BUILD"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"| # | workload | variant | median time | vs plain |"* ]]
    grep -q '^| 1 | seed: .* | writebehind .* | output identical |$' "$results"
    grep -q '^Targets:' "$results"
}
