#!/usr/bin/env bats
# stdio output on tagged fds: identical bytes, in the same order as raw
# writes and as the other stream on the same file, with far fewer write
# system calls.

load test_helper/common

setup() {
    cd "$BATS_TEST_TMPDIR"
}

# write(2)/writev(2) calls a command makes (strace), output in $1.
count_writes() {
    local out=$1
    shift
    strace -f -qq -e trace=write,writev -o "$BATS_TEST_TMPDIR/strace.log" "$@" >"$out" 2>&1
    grep -cE '^[0-9]+ +(write|writev)\(' "$BATS_TEST_TMPDIR/strace.log" || true
}

family_is_identical() {
    "$(helper stdio_families)" "$1" >plain.txt 2>&1
    wb "$(helper stdio_families)" "$1" >wb.txt 2>&1
    cmp plain.txt wb.txt
}

@test "stdio: fwrite and fwrite_unlocked are identical to a plain run" {
    family_is_identical fwrite
    family_is_identical fwrite_unlocked
}

@test "stdio: fputs, fputs_unlocked and puts are identical to a plain run" {
    family_is_identical fputs
    family_is_identical fputs_unlocked
    family_is_identical puts
}

@test "stdio: fputc, putc, putchar and their _unlocked forms are identical" {
    for f in fputc putc putchar fputc_unlocked putc_unlocked putchar_unlocked; do
        family_is_identical "$f"
    done
}

@test "stdio: printf, fprintf, vprintf, vfprintf are identical" {
    for f in printf fprintf vprintf vfprintf; do
        family_is_identical "$f"
    done
}

@test "stdio: dprintf and vdprintf keep their place among buffered writes" {
    family_is_identical dprintf
    family_is_identical vdprintf
}

@test "stdio: fflush per line costs a few write calls instead of one per flush" {
    plain=$(count_writes plain.txt "$(helper stdio_families)" fprintf 3000)
    under=$(count_writes wb.txt env LD_PRELOAD="$(wb_env)" "$(helper stdio_families)" fprintf 3000)
    cmp plain.txt wb.txt
    echo "write calls: plain $plain, writebehind $under"
    ((plain > 1000))
    ((under * 20 < plain))
}

@test "stdio: a _FORTIFY_SOURCE=2 build (__printf_chk...) is identical and coalesced" {
    nm -D "$(helper stdio_fortify)" | grep -q __printf_chk
    nm -D "$(helper stdio_fortify)" | grep -q __dprintf_chk
    plain=$(count_writes plain.txt "$(helper stdio_fortify)")
    under=$(count_writes wb.txt env LD_PRELOAD="$(wb_env)" "$(helper stdio_fortify)")
    cmp plain.txt wb.txt
    ((under * 20 < plain))
}

@test "stdio: reading and positioning on r+/w+/a+ streams, freopen, fdopen, fcloseall" {
    mkdir p w
    "$(helper stdio_rw)" p 2>plain.txt
    wb "$(helper stdio_rw)" w 2>wb.txt
    diff plain.txt wb.txt
    diff -r p w
}

@test "stdio: fprintf+fflush per line, 500000 lines, is byte-identical" {
    "$BUILD/bench/seed" fflush plain.txt
    wb "$BUILD/bench/seed" fflush wb.txt
    cmp plain.txt wb.txt
}

@test "stdio: stdout to a pipe stays untagged (one write per flush, as plain)" {
    plain=$(strace -f -qq -e trace=write -o s1.log "$(helper stdio_families)" fprintf 200 2>&1 | cat >p.txt; grep -c '^[0-9]* *write(1,' s1.log)
    under=$(LD_PRELOAD="$(wb_env)" strace -f -qq -e trace=write -o s2.log "$(helper stdio_families)" fprintf 200 2>&1 | cat >w.txt; grep -c '^[0-9]* *write(1,' s2.log)
    cmp p.txt w.txt
    [ "$plain" -eq "$under" ]
}

@test "stdio: C++ std::cout << std::endl and std::ofstream are identical and coalesced" {
    command -v g++ >/dev/null || skip "g++ not installed"
    cat >endl.cc <<'CC'
#include <cstdio>
#include <fstream>
#include <iostream>
int main() {
    std::ofstream f("ofstream.txt");
    for (int i = 0; i < 3000; i++) {
        std::cout << "cout " << i << std::endl;
        if (i % 7 == 0) std::printf("printf %d\n", i);
        if (i % 11 == 0) std::cerr << "cerr " << i << std::endl;
        f << "ofstream " << i << std::endl;
    }
}
CC
    g++ -O2 -o endl endl.cc
    mkdir p w
    plain=$(cd p && count_writes out.txt ../endl)
    under=$(cd w && count_writes out.txt env LD_PRELOAD="$(wb_env)" ../endl)
    diff -r p w
    echo "write calls: plain $plain, writebehind $under"
    ((under * 20 < plain))
}

# A C++ program that mixes the C++ standard streams with C stdio on the same
# stream.  libstdc++ 13+ and libc++ construct std::cout/std::cerr before the
# library's constructor swaps stdout/stderr, on the original FILEs.
write_cxx_mix() {
    cat >mix.cc <<'CC'
#include <cstdio>
#include <iostream>
int main() {
    for (int i = 0; i < 2000; i++) {
        std::cout << "cout " << i << '\n';               // fwrite, putc
        std::printf("printf %d\n", i);
        std::cerr << "cerr " << i << "\n";               // unitbuf: fflush
        std::fprintf(stderr, "fprintf %d\n", i);
        if (i % 100 == 0) {
            std::cout << "cout endl " << i << std::endl;
            long pos = std::cout.tellp();                // ftello64 / ftello
            std::printf("tellp %ld\n", pos);
        }
    }
    std::cout << "no newline at the end";
}
CC
}

# Runs ./mix plainly and under the library with stdout and stderr in two
# files, then in one (>all 2>&1); every file must be byte-identical.
cxx_mix_keeps_plain_order() {
    mkdir p w
    (cd p && ../mix >out.txt 2>err.txt && ../mix >all.txt 2>&1)
    (cd w && wb ../mix >out.txt 2>err.txt && wb ../mix >all.txt 2>&1)
    diff -r p w
}

@test "stdio: C++ std::cout with printf and std::cerr with fprintf(stderr) keep the plain order" {
    command -v g++ >/dev/null || skip "g++ not installed"
    write_cxx_mix
    g++ -O2 -o mix mix.cc
    g++ --version | head -1
    cxx_mix_keeps_plain_order
}

@test "stdio: C++ std::wcout with wprintf and std::wcerr with fwprintf(stderr) keep the plain order" {
    command -v g++ >/dev/null || skip "g++ not installed"
    cat >mix.cc <<'CC'
#include <cwchar>
#include <iostream>
int main() {
    for (int i = 0; i < 2000; i++) {
        std::wcout << L"wcout " << i << L'\n';           // putwc
        std::wprintf(L"wprintf %d\n", i);
        std::wcerr << L"wcerr " << i << std::endl;
        std::fwprintf(stderr, L"fwprintf %d\n", i);
    }
}
CC
    g++ -O2 -o mix mix.cc
    cxx_mix_keeps_plain_order
}

@test "stdio: libc++ (clang++ -stdlib=libc++) std::cout and std::cerr keep the plain order with C stdio" {
    command -v clang++ >/dev/null || skip "clang++ not installed"
    write_cxx_mix
    clang++ -stdlib=libc++ -O2 -o mix mix.cc 2>/dev/null || skip "libc++ is not installed (.ci/run installs libc++-dev)"
    cxx_mix_keeps_plain_order
}

@test "stdio: a gfortran program with FLUSH is identical and coalesced" {
    command -v gfortran >/dev/null || skip "gfortran not installed"
    cat >flush.f90 <<'F90'
program flushing
  implicit none
  integer :: i
  open(unit=10, file='unit10.txt', status='replace')
  do i = 1, 3000
     write(*, '(A,I0)') 'stdout ', i
     flush(6)
     write(10, '(A,I0)') 'unit10 ', i
     flush(10)
  end do
  close(10)
end program flushing
F90
    gfortran -O2 -o flush flush.f90
    mkdir p w
    plain=$(cd p && count_writes out.txt ../flush)
    under=$(cd w && count_writes out.txt env LD_PRELOAD="$(wb_env)" ../flush)
    diff -r p w
    echo "write calls: plain $plain, writebehind $under"
    ((under * 20 < plain))
}

# Real line-at-a-time programs: same bytes, far fewer write calls.
line_program_is_coalesced() {
    seq 1 5000 >input.txt
    plain=$(count_writes plain.txt bash -c "$1")
    under=$(count_writes wb.txt env LD_PRELOAD="$(wb_env)" bash -c "$1")
    cmp plain.txt wb.txt
    echo "write calls: plain $plain, writebehind $under"
    ((plain >= 1000))
    ((under * 10 < plain))
}

@test "stdio: mawk with fflush() per line" {
    command -v mawk >/dev/null || skip "mawk not installed"
    line_program_is_coalesced "mawk '{print; fflush()}' input.txt"
}

@test "stdio: gawk with fflush() per line" {
    command -v gawk >/dev/null || skip "gawk not installed"
    line_program_is_coalesced "gawk '{print; fflush()}' input.txt"
}

@test "stdio: sed -u" {
    line_program_is_coalesced "sed -u 's/1/one/' input.txt"
}

@test "stdio: grep --line-buffered" {
    line_program_is_coalesced "grep --line-buffered 1 input.txt"
}

@test "stdio: python3 -u" {
    line_program_is_coalesced "python3 -u -c 'import sys
for line in open(\"input.txt\"): print(line, end=\"\")'"
}

@test "stdio: perl with \$|=1" {
    line_program_is_coalesced "perl -e '\$|=1; open F, q(input.txt); print while <F>'"
}

@test "stdio: wide output (wprintf, fputws, putwchar, fwprintf) is identical, pure and after byte output" {
    for mode in pure mixed; do
        rm -rf p w && mkdir p w
        (cd p && "$(helper stdio_wide)" "$mode" >out.txt 2>&1)
        (cd w && wb "$(helper stdio_wide)" "$mode" >out.txt 2>&1)
        diff -r p w
    done
}
