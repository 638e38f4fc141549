/*
 * empty_preload.c — build/bench/empty_preload.so, a shared library with
 * nothing in it: the "do no harm" rows (bench/harm.sh) compare the library
 * with this, so that what any preload costs (the loader opening and mapping
 * one more file) is not counted against writebehind.
 */
int writebehind_bench_empty_preload;
