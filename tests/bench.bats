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
    grep -q '^## Do no harm$' "$results"
    for row in H1 H2 H3 H4 H5 H6 H7 H8; do
        grep -q "^| $row | " "$results" || { echo "no row $row in $results"; return 1; }
    done
}

@test "bench: BENCH_ONLY=harm measures only the Do no harm section and replaces it in the results" {
    [[ -z $SANITIZER ]] || skip "the benchmarks preload the plain build, not a sanitizer one"
    results=$BATS_TEST_TMPDIR/results.md
    printf '# earlier results\n\n| 1 | seed | kept |\n\n## Do no harm\n\nan old section\n' >"$results"
    run env BENCH_ONLY=harm BENCH_QUICK=1 BENCH_RESULTS="$results" TMPDIR="$BATS_TEST_TMPDIR" \
        "$BATS_TEST_DIRNAME/../bench/run.sh" "$BUILD"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output != *"| # | workload | variant | median time | vs plain |"* ]]
    grep -q '^| 1 | seed | kept |$' "$results"
    ! grep -q 'an old section' "$results"
    [ "$(grep -c '^## Do no harm$' "$results")" -eq 1 ]
    grep -q '^| H1 | exec of /bin/true .* | writebehind | ' "$results"
    grep -q '^| H4 | tar xf, .* | writebehind COMMAND | .* output identical |$' "$results"
}
