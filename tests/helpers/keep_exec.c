/*
 * keep_exec — start a program with a chosen environment, through one of
 * the doors a program uses for that.
 *
 *   keep_exec HOW PROGRAM [ARG...]
 *
 * HOW:
 *   execve-empty    execve(PROGRAM, ..., {NULL}), as env -i does
 *   execve-null     execve(PROGRAM, ..., NULL) (the kernel's empty; in a
 *                   sanitizer build, execve-empty)
 *   execve-same     execve(PROGRAM, ..., environ): the environment unchanged
 *   execve-preload  execve with only LD_PRELOAD=$KEEP_PRELOAD (an LD_PRELOAD
 *                   that does not name the library)
 *   execle-empty    execle(PROGRAM, ..., NULL, {NULL}) (at most 3 ARGs)
 *   clearenv-execv  clearenv(), then execv(PROGRAM, ...)
 *   clearenv-execvp clearenv(), then execvp(PROGRAM, ...)
 *   vfork-empty     vfork(); the child execve's with {NULL}; waits
 *   spawn-empty     posix_spawn(PROGRAM, ..., {NULL}); waits
 *   spawnp-empty    posix_spawnp(PROGRAM, ..., {NULL}); waits
 *   fail-empty      execve of a path that does not exist with {NULL} (must
 *                   fail with ENOENT), then execve-empty PROGRAM
 *
 * "Empty" holds only the sanitizer runtimes' option variables the test runs
 * with (none in a plain build): a child that the test's sanitizer build
 * instruments needs them as much under the library as without it.
 *
 * Waiting forms exit with the child's exit status.  Status 2: usage error;
 * 3: a call failed (it says which on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(const char *what)
{
    fprintf(stderr, "keep_exec: %s: %s\n", what, strerror(errno));
    return 3;
}

static const char *const sanitizer_vars[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS",
                                              "TSAN_OPTIONS" };
#define N_SANITIZER_VARS (sizeof sanitizer_vars / sizeof *sanitizer_vars)

/* The "empty" environment: the sanitizer variables set now, as NAME=VALUE. */
static void sanitizer_env(char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < N_SANITIZER_VARS; i++) {
        const char *v = getenv(sanitizer_vars[i]);
        if (v && asprintf(&out[n], "%s=%s", sanitizer_vars[i], v) > 0)
            n++;
    }
    out[n] = NULL;
}

/* clearenv(), keeping the sanitizer variables. */
static void clear_environment(void)
{
    char *keep[N_SANITIZER_VARS + 1];
    sanitizer_env(keep);
    clearenv();
    for (char **e = keep; *e; e++)
        putenv(*e);
}

static int wait_for(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return fail("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *how = argv[1], *prog = argv[2];
    char **args = argv + 2;
    char *empty[N_SANITIZER_VARS + 1];
    sanitizer_env(empty);

    if (!strcmp(how, "execve-empty")) {
        execve(prog, args, empty);
    } else if (!strcmp(how, "execve-null")) {
        execve(prog, args, empty[0] ? empty : NULL);
    } else if (!strcmp(how, "execve-same")) {
        execve(prog, args, environ);
    } else if (!strcmp(how, "execve-preload")) {
        const char *v = getenv("KEEP_PRELOAD");
        if (!v)
            return 2;
        char entry[4096];
        snprintf(entry, sizeof entry, "LD_PRELOAD=%s", v);
        char *env[N_SANITIZER_VARS + 2];
        env[0] = entry;
        sanitizer_env(env + 1);
        execve(prog, args, env);
    } else if (!strcmp(how, "execle-empty")) {
        if (argc > 6)
            return 2;
        char *a[4] = { NULL, NULL, NULL, NULL };
        for (int i = 3; i < argc; i++)
            a[i - 3] = argv[i];
        execle(prog, args[0], a[0], a[1], a[2], (char *)NULL, empty);
    } else if (!strcmp(how, "clearenv-execv")) {
        clear_environment();
        execv(prog, args);
    } else if (!strcmp(how, "clearenv-execvp")) {
        clear_environment();
        execvp(prog, args);
    } else if (!strcmp(how, "vfork-empty")) {
        pid_t pid = vfork();
        if (pid == 0) {
            execve(prog, args, empty);
            _exit(127);
        }
        if (pid < 0)
            return fail("vfork");
        return wait_for(pid);
    } else if (!strcmp(how, "spawn-empty") || !strcmp(how, "spawnp-empty")) {
        pid_t pid;
        int err = how[5] == 'p' ? posix_spawnp(&pid, prog, NULL, NULL, args, empty)
                                : posix_spawn(&pid, prog, NULL, NULL, args, empty);
        if (err) {
            errno = err;
            return fail("posix_spawn");
        }
        return wait_for(pid);
    } else if (!strcmp(how, "fail-empty")) {
        char *const missing[] = { "/nonexistent/keep_exec", NULL };
        if (execve(missing[0], missing, empty) == 0 || errno != ENOENT)
            return fail("execve of a missing program did not fail with ENOENT");
        execve(prog, args, empty);
    } else {
        return 2;
    }
    return fail(how);
}
