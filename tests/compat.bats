#!/usr/bin/env bats
# Real programs, unchanged, under the library: every file they write (all
# regular files are tagged by default) must come out byte-identical, with the
# same stdout and exit status, as in a plain run.  Where a program pays one
# write() per line, strace shows the library turning them into a few.
#
# stdio-based programs (sed -u, awk's fflush, C printf, sqlite3's output)
# reach the kernel through glibc's internal write, which only the stdio
# module sees; identity must hold with or without it.

setup() {
    load test_helper/common
    PY=/usr/bin/python3
    [[ -x $PY ]] || PY=$(command -v python3 || echo python3)
    IN=$BATS_TEST_TMPDIR/in      # inputs, made once, shared by both runs
    BIN=$BATS_TEST_TMPDIR/bin    # programs compiled for the test
    mkdir -p "$IN" "$BIN"
    export PY IN BIN
}

need() {
    local cmd
    for cmd in "$@"; do
        command -v "$cmd" >/dev/null 2>&1 || skip "$cmd is not installed (.ci/run installs it)"
    done
}

# Runs CMD... with its stdout sent to FILE under strace and prints how many
# write() calls reached FILE.
writes_to() {
    local file=$1 trace=$BATS_TEST_TMPDIR/strace.txt
    shift
    : >"$file"
    strace -f -qq -c -e trace=write -P "$file" -o "$trace" "$@" >"$file" || return 1
    awk '$NF == "write" { n = $4 } END { print n + 0 }' "$trace"
}

# same_as_plain for commands that end with a non-zero status: bats runs
# tests under `set -e`, so the status is recorded in a file that the
# directory comparison then checks.
same_status_as_plain() {
    same_as_plain "$1"$'\n''echo "exit status $?" > exit-status'
}

# coreutils' dd (with a small bs) and split call aligned_alloc(4096, n) with n
# not a multiple of 4096, which the ASan and TSan runtimes of GCC 12 reject by
# themselves, with or without the library.
skip_if_sanitizer_rejects_dd() {
    [[ -z $SANITIZER ]] ||
        skip "dd/split call aligned_alloc(4096, n) with n not a multiple of 4096; the preloaded $SANITIZER sanitizer runtime rejects that on its own"
}

need_strace() {
    need strace
    strace -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace denied)"
}

# --- coreutils ----------------------------------------------------------

@test "coreutils seq: a redirected file is identical" {
    same_as_plain 'seq 1 200000 > f && seq -w 0 7 100000 >> f'
}

@test "coreutils sort -o: sorting into a new file and in place" {
    same_as_plain 'seq 1 50000 > n && sort -r -o r n && sort -n -o r r && sort -u -o u r n'
}

@test "coreutils cp: files and trees copy identically" {
    seq 1 300000 >"$IN/big"
    mkdir -p "$IN/tree/sub" && seq 1 100 >"$IN/tree/sub/small" && : >"$IN/tree/empty"
    same_as_plain 'cp "$IN/big" big && cp -r "$IN/tree" tree && cp big big2 && cat big2 >> big'
}

@test "coreutils dd: small block sizes, seek and append" {
    skip_if_sanitizer_rejects_dd
    seq 1 30000 >"$IN/in"
    same_as_plain 'dd if="$IN/in" of=a bs=7 2>a.err &&
        dd if="$IN/in" of=b bs=1 count=5000 2>/dev/null &&
        dd if="$IN/in" of=b bs=3 seek=1000 conv=notrunc 2>/dev/null &&
        dd if="$IN/in" of=c bs=13 oflag=append conv=notrunc 2>/dev/null &&
        dd if="$IN/in" of=c bs=13 oflag=append conv=notrunc 2>/dev/null &&
        sed -i "s/, [0-9.e-]* s, .*//" a.err'
}

@test "coreutils split: by lines and by bytes" {
    skip_if_sanitizer_rejects_dd
    same_as_plain 'seq 1 100000 | split -l 7000 - l_ && seq 1 100000 | split -b 999 -d - b_'
}

@test "coreutils tee: several outputs and -a" {
    same_as_plain 'seq 1 50000 | tee a b > c && seq 1 1000 | tee -a a b >> c'
}

# --- line-buffered text tools --------------------------------------------

@test "sed -u: unbuffered output and -i in place" {
    same_as_plain 'seq 1 20000 | sed -u "s/\$/ x/" > out && sed -i "s/1/one/g" out &&
        seq 1 5000 | sed -u -n "p;w copy" > p'
}

@test "grep --line-buffered: matches to a file" {
    same_as_plain 'seq 1 100000 | grep --line-buffered 7 > out && grep -c 7 out > count'
}

@test "mawk: fflush() after every line, to stdout and to files" {
    need mawk
    same_as_plain 'seq 1 20000 | mawk "{ print; fflush() }" > out &&
        seq 1 5000 | mawk "{ print \$1 * 2 > \"twice\"; fflush(\"twice\"); print >> \"app\" }"'
}

@test "gawk: fflush() after every line, to stdout and to files" {
    need gawk
    same_as_plain 'seq 1 20000 | gawk "{ print; fflush() }" > out &&
        seq 1 5000 | gawk "{ printf \"%05d\\n\", \$1 > \"fmt\"; fflush(\"fmt\"); print >> \"app\" }"'
}

# --- interpreters --------------------------------------------------------

@test "perl \$|=1: stdout, a file handle, syswrite and seek" {
    same_status_as_plain 'perl -e '\''$| = 1;
        print "line $_\n" for 1 .. 5000;
        open(my $f, ">", "fh") or die; select($f); $| = 1; select(STDOUT);
        print $f "fh $_\n" for 1 .. 5000;
        seek($f, 0, 0); print $f "FH";
        close($f) or die;
        open(my $g, ">>", "sys") or die; syswrite($g, "sys $_\n") for 1 .. 5000;
        exit 7'\'' > out'
}

@test "perl \$|=1: one write per line becomes a few" {
    need_strace
    local script='$| = 1; print "line $_\n" for 1 .. 2000'
    local plain lib
    plain=$(writes_to "$BATS_TEST_TMPDIR/p" perl -e "$script")
    lib=$(writes_to "$BATS_TEST_TMPDIR/w" env LD_PRELOAD="$(wb_env)" WRITEBEHIND_FLUSH_MS=3600000 \
        perl -e "$script")
    echo "write() calls reaching the file: plain $plain, writebehind $lib"
    cmp "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/w"
    ((plain >= 2000))
    ((lib <= 5))
}

@test "python3 -u: print, sys.stdout.write and os.write" {
    same_status_as_plain '"$PY" -u -c "
import os, sys
for i in range(3000):
    print(\"print\", i)
    sys.stdout.write(\"write %d\\n\" % i)
fd = os.open(\"raw\", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
for i in range(3000):
    os.write(fd, b\"raw %d\\n\" % i)
os.lseek(fd, 0, os.SEEK_SET)
os.write(fd, b\"RAW\")
os.close(fd)
sys.exit(4)
" > out'
}

@test "python3: buffered files, text and binary, append and truncate" {
    same_as_plain '"$PY" -c "
with open(\"t\", \"w\") as f:
    for i in range(20000):
        f.write(\"text %d\\n\" % i)
with open(\"b\", \"wb\", buffering=0) as f:
    for i in range(5000):
        f.write(b\"%d,\" % i)
    f.truncate(1000)
with open(\"t\", \"a\") as f:
    print(\"appended\", file=f, flush=True)
with open(\"t\", \"r+\") as f:
    f.seek(5)
    f.write(\"XX\")
    print(f.tell())
for i in range(2000):
    print(i)
" > out'
}

@test "python3 -u: one write per print becomes a few" {
    need_strace
    local script='for i in range(2000): print(i)'
    local plain lib
    plain=$(writes_to "$BATS_TEST_TMPDIR/p" "$PY" -u -c "$script")
    lib=$(writes_to "$BATS_TEST_TMPDIR/w" env LD_PRELOAD="$(wb_env)" WRITEBEHIND_FLUSH_MS=3600000 \
        "$PY" -u -c "$script")
    echo "write() calls reaching the file: plain $plain, writebehind $lib"
    cmp "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/w"
    ((plain >= 2000))
    ((lib <= 5))
}

@test "node: process.stdout redirected to a file" {
    need node
    same_status_as_plain 'node -e "
for (let i = 0; i < 3000; i++) process.stdout.write(\"node \" + i + \"\\n\");
console.log(\"done\");
process.exitCode = 6;
" > out'
}

# libuv closes files with syscall(SYS_close, fd), not close(): the library
# must still land the bytes before the fd goes, and never write them into
# the next file that gets the same number.
@test "node: fs.writeSync, fs.closeSync and the fd number reused" {
    need node
    same_status_as_plain 'node -e "
const fs = require(\"fs\");
let fd = fs.openSync(\"a\", \"w\");
for (let i = 0; i < 300; i++) fs.writeSync(fd, \"a \" + i + \"\\n\");
fs.closeSync(fd);
fd = fs.openSync(\"b\", \"w\");
for (let i = 0; i < 300; i++) fs.writeSync(fd, \"b \" + i + \"\\n\");
fs.closeSync(fd);
fs.appendFileSync(\"b\", \"end\\n\");
" 2> err'
}

@test "node: one write per process.stdout.write becomes a few" {
    need node
    need_strace
    local script='for (let i = 0; i < 2000; i++) process.stdout.write(i + "\n")'
    local plain lib
    plain=$(writes_to "$BATS_TEST_TMPDIR/p" node -e "$script")
    lib=$(writes_to "$BATS_TEST_TMPDIR/w" env LD_PRELOAD="$(wb_env)" WRITEBEHIND_FLUSH_MS=3600000 \
        node -e "$script")
    echo "write() calls reaching the file: plain $plain, writebehind $lib"
    cmp "$BATS_TEST_TMPDIR/p" "$BATS_TEST_TMPDIR/w"
    ((plain >= 2000))
    ((lib <= 5))
}

# --- databases and archives ----------------------------------------------

@test "sqlite3: a database built, changed in WAL mode, checked and dumped" {
    need sqlite3
    same_as_plain 'sqlite3 db <<EOF
create table t(id integer primary key, name text, v real);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 5000)
insert into t select x, "name" || x, x * 0.5 from c;
create index t_name on t(name);
EOF
sqlite3 db "pragma journal_mode=wal;" > mode &&
for i in 1 2 3; do
    sqlite3 db "begin; update t set v = v * 2 where id % 3 = $i - 1;
                delete from t where id % 17 = $i; insert into t(name, v) values(\"n$i\", $i); commit;"
done &&
sqlite3 db "pragma integrity_check;" > check && sqlite3 db .dump > dump.sql'
    [[ $(cat "$BATS_TEST_TMPDIR/wb/check") == ok ]]
    [[ $(cat "$BATS_TEST_TMPDIR/wb/mode") == wal ]]
}

@test "tar with gzip: create and extract give identical archives and trees" {
    mkdir -p "$IN/src/sub/deeper"
    seq 1 100000 >"$IN/src/numbers"
    seq 1 50 | sed 's/^/line /' >"$IN/src/sub/text"
    head -c 300000 /dev/urandom >"$IN/src/sub/deeper/random"
    : >"$IN/src/empty"
    ln -s numbers "$IN/src/link"
    same_as_plain 'tar --sort=name --owner=0 --group=0 --numeric-owner -czf a.tgz -C "$IN" src &&
        mkdir x && tar -xzf a.tgz -C x && diff -r "$IN/src" x/src && tar -tvzf a.tgz > list'
}

@test "gzip, xz and zstd: compress and decompress streams and files" {
    need xz zstd
    seq 1 200000 >"$IN/data"
    touch -d @1000000000 "$IN/data"
    same_as_plain 'cp -p "$IN/data" d && gzip -k -6 d && gzip -c -9 < d > d9.gz &&
        xz -T1 -k d && zstd -q -k d -o d.zst && zstd -q -19 < d > d19.zst &&
        gzip -dc d.gz > g.out && xz -dc d.xz > x.out && zstd -q -dc d.zst > z.out &&
        cmp d g.out && cmp d x.out && cmp d z.out && gzip -t d9.gz && xz -t d.xz'
}

# --- compiled programs ---------------------------------------------------

@test "gfortran: formatted writes with FLUSH to a file and stdout" {
    need gfortran
    cat >"$BATS_TEST_TMPDIR/w.f90" <<'EOF'
program w
  implicit none
  integer :: i
  open(unit=10, file='f.out', status='replace', action='write')
  do i = 1, 3000
    write(10, '(A,I0)') 'fortran line ', i
    flush(10)
    write(*, '(I0,F10.3)') i, i / 7.0
    flush(6)
  end do
  close(10)
  stop 3
end program
EOF
    gfortran -O1 -o "$BIN/w" "$BATS_TEST_TMPDIR/w.f90"
    same_status_as_plain '"$BIN/w" > out 2> err'
}

@test "rust: println! to a redirected stdout, writeln! to files" {
    need rustc
    cat >"$BATS_TEST_TMPDIR/r.rs" <<'EOF'
use std::io::{Seek, SeekFrom, Write};
fn main() {
    for i in 0..3000 {
        println!("rust line {}", i);
    }
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open("log").unwrap();
    for i in 0..3000 {
        writeln!(log, "log {}", i).unwrap();
    }
    let mut f = std::fs::File::create("seek").unwrap();
    for i in 0..1000 {
        write!(f, "{},", i).unwrap();
    }
    f.seek(SeekFrom::Start(2)).unwrap();
    f.write_all(b"RUST").unwrap();
    std::process::exit(5);
}
EOF
    rustc -O -o "$BIN/r" "$BATS_TEST_TMPDIR/r.rs"
    same_status_as_plain '"$BIN/r" > out'
}

@test "c++ iostreams: std::endl on std::cout and std::ofstream" {
    need g++
    cat >"$BATS_TEST_TMPDIR/c.cc" <<'EOF'
#include <fstream>
#include <iostream>
int main()
{
    std::ofstream f("ofstream");
    std::ofstream app("app", std::ios::app);
    for (int i = 0; i < 3000; i++) {
        f << "ofstream line " << i << std::endl;
        std::cout << "cout line " << i << std::endl;
        app << i << '\n' << std::flush;
    }
    f.seekp(0);
    f << "HEAD" << std::flush;
    std::cerr << "cerr" << std::endl;
    return 9;
}
EOF
    g++ -O2 -o "$BIN/c" "$BATS_TEST_TMPDIR/c.cc"
    same_status_as_plain '"$BIN/c" > out 2> err'
}

@test "make, gcc, as, ar and ld: the built program is byte-identical" {
    need make gcc ar
    mkdir -p "$IN/proj"
    cat >"$IN/proj/main.c" <<'EOF'
#include <stdio.h>
int twice(int);
int main(void) { for (int i = 0; i < 1000; i++) printf("%d\n", twice(i)); return 0; }
EOF
    cat >"$IN/proj/twice.c" <<'EOF'
int twice(int x) { return 2 * x; }
EOF
    printf '%s\n' 'prog: main.o libtwice.a' '	$(CC) -o $@ main.o -L. -ltwice' \
        'libtwice.a: twice.o' '	ar rcs $@ twice.o' \
        '%.o: %.c' '	$(CC) -O2 -c -o $@ $<' >"$IN/proj/Makefile"
    same_as_plain 'cp -r "$IN/proj" proj && make -s -C proj > make.out 2>&1 &&
        ld -r -o proj/both.o proj/main.o proj/twice.o && ./proj/prog > run.out'
}

@test "git: init, commits and a tag; fsck and log agree, objects identical" {
    need git
    export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.org GIT_COMMITTER_NAME=t
    export GIT_COMMITTER_EMAIL=t@example.org GIT_AUTHOR_DATE=2020-01-01T00:00:00Z
    export GIT_COMMITTER_DATE=2020-01-01T00:00:00Z GIT_CONFIG_NOSYSTEM=1 HOME=$BATS_TEST_TMPDIR
    # .git/index holds inode numbers and timestamps of the work tree: it is
    # compared through `git status`/`ls-files -s` instead of byte for byte.
    same_as_plain 'git init -q -b main r && cd r && seq 1 1000 > a && git add a &&
        git commit -q -m one && seq 1 2000 >> a && mkdir d && echo x > d/y && git add -A &&
        git commit -q -m two && git tag -a -m v1 v1 && git fsck --full --strict &&
        git log --stat --format="%H %s" && git ls-files -s && git status --short &&
        git rev-parse HEAD v1 && rm .git/index'
}

@test "bash: here-documents appended with >> and an fd held open with exec" {
    same_as_plain 'for i in $(seq 1 300); do
    cat >> log <<EOF
entry $i
  second line of $i
EOF
    echo "echo $i" >> log
    printf "%s\n" "printf $i" >> log
done
exec 3>> held
for i in $(seq 1 2000); do echo "fd3 $i" >&3; done
exec 3>&-
exec > redirected
seq 1 100'
}
