#!/usr/bin/env bats
# Exact semantics, one observation point per test: every call that can look
# at a file (or let another process look) sees exactly what a plain run sees.
# The scenarios are in tests/helpers/sem_observe.c; each prints what the
# program saw and what the kernel held right after the call (raw system
# calls, past every wrapper), plainly and under the library with the flush
# timer off.

load test_helper/common
load test_helper/semantics

obs() { agree sem_observe "$1"; }

@test "read: reads after the bytes written before it, at the logical offset" { obs read; }
@test "readv: reads after the bytes written before it" { obs readv; }
@test "pread/preadv: see the bytes written before them" { obs pread; }
@test "read through another description sees the bytes" { obs read_other; }
@test "lseek: SEEK_CUR and SEEK_END give the logical position, O_APPEND too" { obs seek; }
@test "pwrite/pwritev: land after earlier writes, and on O_APPEND append after them" { obs pwrite; }
@test "ftruncate/truncate: cut after the bytes written before them" { obs ftruncate; }
@test "fstat/fstatat/statx on the fd: report the logical size" { obs fstat; }
@test "stat/lstat/fstatat/statx by path, symlink and hard link: report the logical size" { obs stat_path; }
@test "fsync/fdatasync/sync_file_range/syncfs/sync: land the bytes" { obs fsync; }
@test "mmap: a new mapping shows the bytes, through the same and another fd" { obs mmap; }
@test "mmap: a mapping made before the writes shows them (shared, private, kept past close)" { obs mmap_live; }
@test "sendfile: copies what was written, and lands after what was written" { obs sendfile; }
@test "copy_file_range: both ends see earlier writes" { obs copy_file_range; }
@test "splice: reads what was written" { obs splice; }
@test "flock: a process that gets the lock next sees the bytes" { obs flock; }
@test "fcntl F_SETLKW: a process that gets the lock next sees the bytes" { obs fcntl_lock; }
@test "fcntl F_OFD_SETLKW: a process that gets the lock next sees the bytes" { obs ofd_lock; }
@test "F_SETFL O_APPEND: bytes written before land where the old flags put them" { obs setfl_append; }
@test "close_range/closefrom: land the bytes; a reused fd number gets only its own" { obs close_range; }
@test "same file via two opens: writes interleave exactly as plain" { obs two_opens; }
@test "open with O_TRUNC: truncates after the bytes written before it" { obs reopen_trunc; }
@test "telling another process: a write to a pipe" { obs tell_pipe; }
@test "telling another process: send/sendmsg on a socket" { obs tell_socket; }
@test "telling another process: kill and sigqueue" { obs tell_kill; }
@test "telling another process: killpg, tgkill, pidfd_send_signal" { obs tell_killpg; }
@test "telling another process: rename publishes a whole file" { obs tell_rename; }
@test "fork: children never write the parent's bytes twice" { obs fork; }
@test "fork at the first write, while the background writer starts: the child never hangs" {
    # A thread being born may hold the allocator's locks; AddressSanitizer's
    # are not reset in the child (6 children in 300 hung before the fix).
    local i n=100
    [[ $SANITIZER != thread ]] || n=20   # each TSan process takes a second to start
    cd "$BATS_TEST_TMPDIR"
    for ((i = 0; i < n; i++)); do
        timeout 20 env LD_PRELOAD="$(wb_env)" "$(helper sem_observe)" fork_first_write >out
        [[ $(cat out) == "child: exit 0" && $(cat f) == pc ]]
    done
}
@test "vfork: the exec'd child sees the file; _exit in the child loses nothing" { obs vfork; }
@test "posix_spawn/posix_spawnp/system/popen/fork+execv/execvp see full files" { obs spawn; }
@test "execl sees the full file" { obs execl; }
@test "execlp sees the full file" { obs execlp; }
@test "execle sees the full file" { obs execle; }
@test "execve sees the full file" { obs execve; }
@test "execvpe sees the full file" { obs execvpe; }
@test "fexecve sees the full file" { obs fexecve; }
@test "_exit: raw writes land" { obs end_exit_; }
@test "_Exit: raw writes land" { obs end_Exit; }
@test "quick_exit: raw writes land" { obs end_quick_exit; }
@test "exit: raw writes land" { obs end_exit; }
@test "return from main: raw writes land" { obs end_return; }

# ---- the comparisons themselves --------------------------------------------
# A test whose program never ran its scenario must fail, even though the
# plain run and the library's run then fail alike.

@test "obs, agree and same_as_plain: fail on a misspelled scenario, mode or program" {
    local -a calls=(
        "obs no_such_scenario"
        "agree sem_observe no_such_scenario"
        "agree sem_threads no_such_scenario"
        "same_as_plain -- $(helper sem_errors) no_such_mode"
        "same_as_plain --name x --compare +stderr -- $(helper sem_observe) no_such_scenario"
        "plain_vs_wb x $NO_TIMER -- $(helper sem_observe) no_such_scenario"
        "same_as_plain '$(helper core_end) no_such_mode out'"
        "same_as_plain '$(helper core_write) -o no_such_flag out'"
        "same_as_plain 'no_such_program_anywhere'"
        "same_as_plain 'if then'"
    )
    local c
    for c in "${calls[@]}"; do
        eval "run $c"
        echo "$c: status $status"
        ((status != 0)) || { echo "$output"; return 1; }
        [[ $output == *"usage error"* ]] || { echo "$output"; return 1; }
    done
}

@test "same_as_plain: notices a different mode, size, mtime or stderr" {
    # Each command does one thing differently when the library is preloaded.
    local under='[[ -n $LD_PRELOAD ]]'
    run same_as_plain "echo x > f; chmod 644 f; if $under; then chmod 600 f; fi"
    ((status != 0))
    [[ $output == *"modes or sizes differ"* ]]
    run same_as_plain "echo x > f; if $under; then truncate -s 100 f; fi; cat f >/dev/null"
    ((status != 0))
    run same_as_plain --mtime f "echo x > f; touch -d @1000000000 f; if $under; then touch f; fi"
    ((status != 0))
    [[ $output == *"mtime differs"* ]]
    run same_as_plain --mtime nothing_matches "echo x > f"
    ((status != 0))
    [[ $output == *"no regular file matches"* ]]
    run same_as_plain --compare +stderr "if $under; then echo oops >&2; fi"
    ((status != 0))
    [[ $output == *"stderr differs"* ]]
    run same_as_plain --status TERM "true"
    ((status != 0))
    [[ $output == *"not signal TERM"* ]]
    # and the same commands without a difference pass
    same_as_plain --mtime f --compare +stderr "echo x > f; chmod 600 f; touch -d @1000000000 f; echo y >&2"
}
