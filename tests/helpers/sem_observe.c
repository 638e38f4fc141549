/*
 * sem_observe — one scenario per way a program (or another process) can
 * look at a file, for tests/semantics.bats.  Each writes bytes the library
 * would buffer, makes the observing call, and prints what it saw plus the
 * kernel's view (peek).  Run plainly and under writebehind, the output must
 * be the same.
 */
#include "sem_common.h"

#include <sched.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

extern char **environ;

/* f holds "0123456789"; returns an O_RDWR fd at offset 0 with "AB" written
   through it (buffered under the library: the kernel offset is still 0). */
static int rdwr_after_ab(void)
{
    prefill("f", "0123456789");
    int fd = xopen("f", O_RDWR);
    put(fd, "AB");
    return fd;
}

static void sc_read(void)
{
    int fd = rdwr_after_ab();
    char buf[16] = { 0 };
    out("read %s \"%s\"", res(read(fd, buf, 4)), buf);
    peek("after read", "f");
}

static void sc_readv(void)
{
    int fd = rdwr_after_ab();
    char a[3] = { 0 }, b[3] = { 0 };
    struct iovec iov[2] = { { a, 2 }, { b, 2 } };
    out("readv %s \"%s\" \"%s\"", res(readv(fd, iov, 2)), a, b);
}

static void sc_pread(void)
{
    int fd = rdwr_after_ab();
    char buf[16] = { 0 };
    out("pread %s \"%s\"", res(pread(fd, buf, 6, 0)), buf);
    memset(buf, 0, sizeof buf);
    struct iovec iov = { buf, 6 };
    put(fd, "CD");
    out("preadv %s \"%s\"", res(preadv(fd, &iov, 1, 0)), buf);
}

/* The file read through a second description (opened before the writes). */
static void sc_read_other(void)
{
    prefill("f", "");
    int r = xopen("f", O_RDONLY);
    int w = xopen("f", O_WRONLY);
    put(w, "written");
    char buf[16] = { 0 };
    out("read other %s \"%s\"", res(read(r, buf, sizeof buf - 1)), buf);
    put(w, " more");
    memset(buf, 0, sizeof buf);
    out("pread other %s \"%s\"", res(pread(r, buf, sizeof buf - 1, 0)), buf);
}

static void sc_seek(void)
{
    prefill("f", "0123456789");
    int fd = xopen("f", O_WRONLY);
    put(fd, "abc");
    out("SEEK_CUR %s", res(lseek(fd, 0, SEEK_CUR)));
    put(fd, "de");
    out("SEEK_END %s", res(lseek(fd, -1, SEEK_END)));
    put(fd, "xyz");
    out("lseek64 SEEK_CUR %s", res(lseek64(fd, 0, SEEK_CUR)));
    int a = xopen("f", O_WRONLY | O_APPEND);
    put(a, "tail");
    out("O_APPEND SEEK_CUR %s", res(lseek(a, 0, SEEK_CUR)));
    close(a);
    close(fd);
    peek("end", "f");
}

static void sc_pwrite(void)
{
    int fd = rdwr_after_ab();
    out("pwrite %s", res(pwrite(fd, "xy", 2, 1)));
    peek("after pwrite", "f");
    put(fd, "CD");
    struct iovec iov = { "pq", 2 };
    out("pwritev %s", res(pwritev(fd, &iov, 1, 8)));
    put(fd, "E");
    close(fd);
    int a = xopen("f", O_WRONLY | O_APPEND);
    put(a, "+app");
    /* Linux appends pwrite data on an O_APPEND fd, after what came before. */
    out("pwrite O_APPEND %s", res(pwrite(a, "!", 1, 0)));
    close(a);
    peek("end", "f");
}

static void sc_ftruncate(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    put(fd, "0123456789abcdef");
    out("ftruncate %s", res(ftruncate(fd, 5)));
    peek("after ftruncate", "f");
    put(fd, "XY");   /* at offset 16: a hole after the 5 bytes */
    out("truncate %s", res(truncate("f", 20)));
    put(fd, "Z");
    close(fd);
    peek("end", "f");
}

static void sc_fstat(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    struct stat st;
    put(fd, "1234567");
    out("fstat %s size=%lld", res(fstat(fd, &st)), (long long)st.st_size);
    put(fd, "89");
    out("fstatat AT_EMPTY_PATH %s size=%lld", res(fstatat(fd, "", &st, AT_EMPTY_PATH)),
        (long long)st.st_size);
    put(fd, "ab");
    struct statx stx;
    out("statx AT_EMPTY_PATH %s size=%lld",
        res(statx(fd, "", AT_EMPTY_PATH, STATX_SIZE, &stx)), (long long)stx.stx_size);
}

static void sc_stat_path(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    struct stat st;
    put(fd, "1234567");
    out("stat %s size=%lld", res(stat("f", &st)), (long long)st.st_size);
    put(fd, "89");
    out("lstat %s size=%lld", res(lstat("f", &st)), (long long)st.st_size);
    put(fd, "ab");
    out("fstatat %s size=%lld", res(fstatat(AT_FDCWD, "f", &st, 0)), (long long)st.st_size);
    put(fd, "cd");
    struct statx stx;
    out("statx %s size=%lld", res(statx(AT_FDCWD, "f", 0, STATX_SIZE, &stx)),
        (long long)stx.stx_size);
    if (symlink("f", "link") == 0) {
        put(fd, "ef");
        out("stat via symlink %s size=%lld", res(stat("link", &st)), (long long)st.st_size);
    }
    if (link("f", "hard") == 0) {
        put(fd, "gh");
        out("stat via hard link %s size=%lld", res(stat("hard", &st)), (long long)st.st_size);
    }
}

static void sc_fsync(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    put(fd, "one ");
    out("fsync %s", res(fsync(fd)));
    peek("after fsync", "f");
    put(fd, "two ");
    out("fdatasync %s", res(fdatasync(fd)));
    peek("after fdatasync", "f");
    put(fd, "three ");
    out("sync_file_range %s", res(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE)));
    peek("after sync_file_range", "f");
    put(fd, "four ");
    out("syncfs %s", res(syncfs(fd)));
    peek("after syncfs", "f");
    put(fd, "five");
    sync();
    peek("after sync", "f");
}

static void sc_mmap(void)
{
    prefill("f", "");
    int fd = xopen("f", O_RDWR);
    put(fd, "mapped bytes");
    char *p = mmap(NULL, 12, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        fail("mmap");
    out("mmap sees \"%.12s\"", p);
    munmap(p, 12);
    put(fd, " and more");
    int r = xopen("f", O_RDONLY);
    p = mmap(NULL, 21, PROT_READ, MAP_PRIVATE, r, 0);
    if (p == MAP_FAILED)
        fail("mmap other");
    out("mmap through another fd sees \"%.21s\"", p);
    munmap(p, 21);
}

/* A mapping made before the writes is read after them: memory reads are
   not calls the library sees. */
static void sc_mmap_live(void)
{
    prefill("f", "");
    int fd = xopen("f", O_RDWR);
    if (ftruncate(fd, 4096))
        fail("ftruncate");
    char *shared = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    int ro = xopen("f", O_RDONLY);
    char *priv = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ro, 0);
    close(ro);
    if (shared == MAP_FAILED || priv == MAP_FAILED)
        fail("mmap");
    put(fd, "written after mapping");
    out("shared mapping sees \"%.21s\"", shared);
    out("private mapping sees \"%.21s\"", priv);
    munmap(priv, 4096);
    put(fd, ", and after munmap of one");
    out("shared mapping sees \"%.46s\"", shared);
    munmap(shared, 4096);
    close(fd);
    /* The mapping outlives its fd: a new open of the file is watched too. */
    int m = xopen("f", O_RDONLY);
    char *kept = mmap(NULL, 4096, PROT_READ, MAP_SHARED, m, 0);
    close(m);
    int w = xopen("f", O_WRONLY);
    put(w, "NEW");
    out("mapping kept past close sees \"%.8s\"", kept);
    close(w);
}

static void sc_sendfile(void)
{
    prefill("src", "");
    prefill("dst", "");
    int s = xopen("src", O_RDWR);
    put(s, "source bytes");
    int d = xopen("dst", O_WRONLY);
    put(d, "head:");
    off_t off = 0;
    out("sendfile %s", res(sendfile(d, s, &off, 100)));
    put(d, ":tail");
    close(d);
    peek("end", "dst");
}

static void sc_copy_file_range(void)
{
    prefill("src", "");
    prefill("dst", "");
    int s = xopen("src", O_RDWR);
    put(s, "source bytes");
    int d = xopen("dst", O_WRONLY);
    put(d, "head:");
    loff_t off = 0;
    out("copy_file_range %s", res(copy_file_range(s, &off, d, NULL, 100, 0)));
    put(d, ":tail");
    put(s, " more");
    out("copy_file_range again %s", res(copy_file_range(s, &off, d, NULL, 100, 0)));
    close(d);
    peek("end", "dst");
}

static void sc_splice(void)
{
    prefill("f", "");
    int fd = xopen("f", O_RDWR);
    put(fd, "through a pipe");
    int p[2];
    if (pipe(p))
        fail("pipe");
    loff_t off = 0;
    out("splice %s", res(splice(fd, &off, p[1], NULL, 100, 0)));
    char buf[32] = { 0 };
    out("pipe holds %s \"%s\"", res(read(p[0], buf, sizeof buf - 1)), buf);
}

/* Another process waits for a lock; once it has it, the bytes written while
   we held it must be there. */
static void lock_handover(const char *kind)
{
    prefill("f", "");
    int fd = xopen("f", O_RDWR);
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    int cmd = !strcmp(kind, "ofd") ? F_OFD_SETLKW : F_SETLKW;
    if (!strcmp(kind, "flock") ? flock(fd, LOCK_EX) : fcntl(fd, cmd, &fl))
        fail("lock");
    int ready[2];
    if (pipe(ready))
        fail("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        int mine = xopen("f", O_RDWR);   /* its own description: a real contender */
        put(ready[1], "r");
        if (!strcmp(kind, "flock") ? flock(mine, LOCK_EX) : fcntl(mine, cmd, &fl))
            fail("child lock");
        peek("child holds the lock", "f");
        _exit(0);
    }
    char c;
    if (read(ready[0], &c, 1) != 1)
        fail("ready");
    put(fd, "written under the lock");
    fl.l_type = F_UNLCK;
    if (!strcmp(kind, "flock") ? flock(fd, LOCK_UN) : fcntl(fd, cmd == F_SETLKW ? F_SETLK : F_OFD_SETLK, &fl))
        fail("unlock");
    reap("contender", pid);
}
static void sc_flock(void) { lock_handover("flock"); }
static void sc_fcntl_lock(void) { lock_handover("posix"); }
static void sc_ofd_lock(void) { lock_handover("ofd"); }

static void sc_setfl_append(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    put(fd, "hello");
    lseek(fd, 0, SEEK_SET);
    put(fd, "J");   /* at offset 0, under the old flags */
    out("F_SETFL O_APPEND %s", res(fcntl(fd, F_SETFL, O_APPEND)));
    put(fd, "!");   /* appended */
    out("F_SETFL 0 %s", res(fcntl(fd, F_SETFL, 0)));
    lseek(fd, 1, SEEK_SET);
    put(fd, "E");
    close(fd);
    peek("end", "f");
}

static void sc_close_range(void)
{
    prefill("f", "");
    prefill("g", "");
    int fd = xopen("f", O_WRONLY);
    int dupd = dup(fd);
    put(fd, "f bytes");
    out("close_range %s", res(close_range((unsigned)fd, (unsigned)dupd, 0)));
    peek("after close_range", "f");
    int g = xopen("g", O_WRONLY);   /* takes the freed number */
    out("g reuses fd %s", g == fd ? "yes" : "no");
    put(g, "g bytes");
    int h = fcntl(g, F_DUPFD, 40);
    put(h, " via 40");
    closefrom(40);
    peek("after closefrom", "g");
    put(g, " end");
    close(g);
    peek("end f", "f");
    peek("end g", "g");
}

/* The same file through two descriptions that do not share an offset. */
static void sc_two_opens(void)
{
    prefill("f", "");
    int a = xopen("f", O_WRONLY);
    int b = xopen("f", O_WRONLY);
    put(a, "aaaa");
    put(b, "BB");
    put(a, "cc");
    put(b, "DDDDDD");
    put(a, "e");
    int c = xopen("f", O_WRONLY | O_APPEND);
    put(c, "<app>");
    put(a, "f");
    put(c, "<app2>");
    close(a);
    close(b);
    close(c);
    peek("end", "f");
}

/* A second open with O_TRUNC comes after the bytes written before it. */
static void sc_reopen_trunc(void)
{
    prefill("f", "");
    int a = xopen("f", O_WRONLY);
    put(a, "before truncation");
    int b = xopen("f", O_WRONLY | O_TRUNC);
    peek("after O_TRUNC open", "f");
    put(b, "new");
    put(a, "X");   /* a's offset is 17: a hole after "new" */
    close(a);
    close(b);
    peek("end", "f");
}

/* ---- telling another process ---------------------------------------------- */

/* A child started before the writes waits for a message, then looks. */
static pid_t watcher(int rfd, const char *label)
{
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        ssize_t n = read(rfd, &c, 1);
        out("%s: got %zd", label, n);
        peek(label, "f");
        _exit(0);
    }
    return pid;
}

static void sc_tell_pipe(void)
{
    prefill("f", "");
    int p[2];
    if (pipe(p))
        fail("pipe");
    pid_t pid = watcher(p[0], "pipe reader");
    int fd = xopen("f", O_WRONLY);
    put(fd, "ready for you");
    put(p[1], "!");
    reap("pipe reader", pid);
}

static void sc_tell_socket(void)
{
    prefill("f", "");
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        fail("socketpair");
    pid_t pid = watcher(sv[1], "socket reader");
    int fd = xopen("f", O_WRONLY);
    put(fd, "sent by send");
    if (send(sv[0], "!", 1, 0) != 1)
        fail("send");
    reap("socket reader", pid);
    pid = watcher(sv[1], "socket reader 2");
    put(fd, " and by sendmsg");
    struct iovec iov = { "!", 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (sendmsg(sv[0], &msg, 0) != 1)
        fail("sendmsg");
    reap("socket reader 2", pid);
}

static pid_t signal_watcher(const char *label, bool own_group)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);   /* inherited: no early delivery */
    pid_t pid = fork();
    if (pid == 0) {
        if (own_group)
            setpgid(0, 0);
        siginfo_t si;
        while (sigwaitinfo(&set, &si) < 0)
            ;
        peek(label, "f");
        _exit(0);
    }
    if (own_group)
        setpgid(pid, pid);
    return pid;
}

static void sc_tell_kill(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    pid_t pid = signal_watcher("killed watcher", false);
    put(fd, "signalled by kill");
    kill(pid, SIGUSR1);
    reap("killed watcher", pid);
    pid = signal_watcher("sigqueued watcher", false);
    put(fd, " and sigqueue");
    sigqueue(pid, SIGUSR1, (union sigval){ .sival_int = 1 });
    reap("sigqueued watcher", pid);
}

static void sc_tell_killpg(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    pid_t pid = signal_watcher("killpg watcher", true);
    put(fd, "signalled by killpg");
    killpg(pid, SIGUSR1);
    reap("killpg watcher", pid);
    pid = signal_watcher("tgkill watcher", false);
    put(fd, ", tgkill");
    tgkill(pid, pid, SIGUSR1);
    reap("tgkill watcher", pid);
    pid = signal_watcher("pidfd watcher", false);
    put(fd, ", pidfd_send_signal");
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0 || pidfd_send_signal(pidfd, SIGUSR1, NULL, 0))
        kill(pid, SIGUSR1);   /* old kernel: still end the watcher */
    reap("pidfd watcher", pid);
}

/* A watcher polls for the final name; when it appears, it must be whole. */
static void sc_tell_rename(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 100000 && peek_size("f") < 0; i++)
            usleep(100);
        peek("watcher saw the name", "f");
        _exit(0);
    }
    int fd = xopen("tmp", O_WRONLY | O_CREAT | O_TRUNC);
    put(fd, "complete contents");
    if (rename("tmp", "f"))
        fail("rename");
    reap("rename watcher", pid);
    put(fd, " later");
    close(fd);
}

/* ---- children and new images ------------------------------------------------ */

static void sc_fork(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    put(fd, "P1 ");
    pid_t pid = fork();
    if (pid == 0) {
        put(fd, "C1 ");
        exit(0);
    }
    reap("child 1 (exit)", pid);
    put(fd, "P2 ");
    pid = fork();
    if (pid == 0)
        _exit(0);   /* writes nothing: the parent's bytes stay the parent's */
    reap("child 2 (_exit)", pid);
    put(fd, "P3 ");
    pid = fork();
    if (pid == 0) {
        put(fd, "C3 ");
        pid_t grandchild = fork();
        if (grandchild == 0) {
            put(fd, "G3 ");
            _Exit(0);
        }
        reap("grandchild", grandchild);
        put(fd, "C3' ");
        _exit(0);
    }
    reap("child 3", pid);
    put(fd, "P4");
    close(fd);
    peek("end", "f");
}

/* The first write starts the background writer: fork at once, while it
   may still be starting (or, later, leaving). */
static void sc_fork_first_write(void)
{
    int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
    put(fd, "p");
    pid_t pid = fork();
    if (pid == 0) {
        put(fd, "c");
        exit(0);
    }
    reap("child", pid);
}

/* The library serves vfork with fork; the child may only exec or _exit. */
static void sc_vfork(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    put(fd, "before vfork\n");
    pid_t pid = vfork();
    if (pid == 0) {
        execlp("cat", "cat", "f", (char *)NULL);
        _exit(127);
    }
    reap("vfork+exec cat", pid);
    put(fd, "before second vfork\n");
    pid = vfork();
    if (pid == 0)
        _exit(7);
    reap("vfork+_exit", pid);
    close(fd);
    peek("end", "f");
}

static void sc_spawn(void)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    put(fd, "for posix_spawn\n");
    pid_t pid;
    char *argv[] = { "cat", "f", NULL };
    if (posix_spawnp(&pid, "cat", NULL, NULL, argv, environ))
        fail("posix_spawnp");
    reap("posix_spawnp cat", pid);
    put(fd, "for posix_spawn\n");
    if (posix_spawn(&pid, "/bin/cat", NULL, NULL, argv, environ))
        fail("posix_spawn");
    reap("posix_spawn cat", pid);
    put(fd, "for system\n");
    say_status("system", system("cat f"));
    put(fd, "for popen\n");
    FILE *p = popen("cat f", "r");
    if (!p)
        fail("popen");
    char line[128];
    while (fgets(line, sizeof line, p))
        out("popen| %s", strtok(line, "\n"));
    say_status("pclose", pclose(p));
    put(fd, "for fork+execv\n");
    pid = fork();
    if (pid == 0) {
        execv("/bin/cat", argv);
        _exit(127);
    }
    reap("fork+execv", pid);
    put(fd, "for execvp of this process\n");
    execvp("cat", argv);
    fail("execvp");
}

static void exec_variant(const char *which)
{
    prefill("f", "");
    int fd = xopen("f", O_WRONLY);
    put(fd, "for ");
    put(fd, which);
    put(fd, "\n");
    char *argv[] = { "cat", "f", NULL };
    if (!strcmp(which, "execl"))
        execl("/bin/cat", "cat", "f", (char *)NULL);
    else if (!strcmp(which, "execlp"))
        execlp("cat", "cat", "f", (char *)NULL);
    else if (!strcmp(which, "execle"))
        execle("/bin/cat", "cat", "f", (char *)NULL, environ);
    else if (!strcmp(which, "execve"))
        execve("/bin/cat", argv, environ);
    else if (!strcmp(which, "execvpe"))
        execvpe("cat", argv, environ);
    else if (!strcmp(which, "fexecve")) {
        int exe = open("/bin/cat", O_RDONLY | O_CLOEXEC);
        fexecve(exe, argv, environ);
    }
    fail(which);
}
static void sc_execl(void) { exec_variant("execl"); }
static void sc_execlp(void) { exec_variant("execlp"); }
static void sc_execle(void) { exec_variant("execle"); }
static void sc_execve(void) { exec_variant("execve"); }
static void sc_execvpe(void) { exec_variant("execvpe"); }
static void sc_fexecve(void) { exec_variant("fexecve"); }

/* Ways to end: raw write()s were in the kernel at once in a plain run. */
static void end_variant(int how)
{
    int fd = xopen("f", O_WRONLY | O_CREAT | O_TRUNC);
    put(fd, "last words");
    int dupd = dup(fd);
    put(dupd, " via dup");
    switch (how) {
    case 0: _exit(3);
    case 1: _Exit(4);
    case 2: quick_exit(5);
    case 3: exit(6);
    default: return;   /* from main */
    }
}
static void sc_end_exit_(void) { end_variant(0); }
static void sc_end_Exit(void) { end_variant(1); }
static void sc_end_quick_exit(void) { end_variant(2); }
static void sc_end_exit(void) { end_variant(3); }
static void sc_end_return(void) { end_variant(4); }

SCENARIOS(S(read), S(readv), S(pread), S(read_other), S(seek), S(pwrite), S(ftruncate),
          S(fstat), S(stat_path), S(fsync), S(mmap), S(mmap_live), S(sendfile), S(copy_file_range), S(splice),
          S(flock), S(fcntl_lock), S(ofd_lock), S(setfl_append), S(close_range), S(two_opens),
          S(reopen_trunc), S(tell_pipe), S(tell_socket), S(tell_kill), S(tell_killpg),
          S(tell_rename), S(fork), S(fork_first_write), S(vfork), S(spawn), S(execl), S(execlp), S(execle),
          S(execve), S(execvpe), S(fexecve), S(end_exit_), S(end_Exit), S(end_quick_exit),
          S(end_exit), S(end_return))
