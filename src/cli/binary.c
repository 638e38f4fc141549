/*
 * binary.c — can LD_PRELOAD reach this program?  Read from the executable.
 *
 *  - no PT_INTERP program header: statically linked, the loader never runs;
 *  - setuid/setgid (for a user other than the owner) or file capabilities:
 *    the loader runs in secure mode and ignores LD_PRELOAD;
 *  - a Go program (its ".note.go.buildid" note or ".gopclntab" section):
 *    Go makes its system calls itself, never through glibc's write();
 *  - dynamic, but no libc.so in DT_NEEDED: another runtime does its I/O.
 * A "#!" script is judged by its interpreter (through env(1) too).
 * Only 64-bit ELF files are read; anything else is given the benefit of
 * the doubt.
 */
#include "cli.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

const char *resolve_command(const char *cmd)
{
    static char path[PATH_MAX];
    if (strchr(cmd, '/'))
        return cmd;
    const char *dirs = getenv("PATH");
    if (!dirs)
        dirs = "/usr/local/bin:/usr/bin:/bin";
    while (*dirs) {
        size_t len = strcspn(dirs, ":");
        snprintf(path, sizeof path, "%.*s/%s", (int)len, len ? dirs : ".", cmd);
        struct stat st;
        if (access(path, X_OK) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return path;
        dirs += len + (dirs[len] == ':');
    }
    return NULL;
}

static bool read_at(int fd, void *buf, size_t len, uint64_t off)
{
    return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* The file offset of a virtual address, through the PT_LOAD headers. */
static bool vaddr_to_offset(const Elf64_Phdr *ph, int n, uint64_t vaddr, uint64_t *off)
{
    for (int i = 0; i < n; i++)
        if (ph[i].p_type == PT_LOAD && vaddr >= ph[i].p_vaddr &&
            vaddr < ph[i].p_vaddr + ph[i].p_filesz) {
            *off = vaddr - ph[i].p_vaddr + ph[i].p_offset;
            return true;
        }
    return false;
}

/* Whether DT_NEEDED names a libc.so (false when it cannot be read). */
static bool needs_libc(int fd, const Elf64_Phdr *ph, int n, bool *readable)
{
    *readable = false;
    for (int i = 0; i < n; i++) {
        if (ph[i].p_type != PT_DYNAMIC)
            continue;
        size_t count = ph[i].p_filesz / sizeof(Elf64_Dyn);
        if (!count || count > 4096)
            return false;
        Elf64_Dyn *dyn = cli_alloc(count * sizeof *dyn);
        bool ok = read_at(fd, dyn, count * sizeof *dyn, ph[i].p_offset);
        uint64_t strtab = 0, strtab_off;
        for (size_t j = 0; ok && j < count && dyn[j].d_tag != DT_NULL; j++)
            if (dyn[j].d_tag == DT_STRTAB)
                strtab = dyn[j].d_un.d_ptr;
        bool found = false;
        if (ok && strtab && vaddr_to_offset(ph, n, strtab, &strtab_off)) {
            *readable = true;
            for (size_t j = 0; j < count && dyn[j].d_tag != DT_NULL && !found; j++) {
                char name[64] = "";
                if (dyn[j].d_tag == DT_NEEDED &&
                    pread(fd, name, sizeof name - 1, (off_t)(strtab_off + dyn[j].d_un.d_val)) > 0)
                    found = !strncmp(name, "libc.so", 7);
            }
        }
        free(dyn);
        return found;
    }
    return false;
}

/* Go's build id note, in a PT_NOTE segment (kept by every Go linker). */
static bool has_go_note(int fd, const Elf64_Phdr *ph, int n)
{
    for (int i = 0; i < n; i++) {
        if (ph[i].p_type != PT_NOTE || ph[i].p_filesz > (1 << 16))
            continue;
        unsigned char *buf = cli_alloc(ph[i].p_filesz);
        bool go = false;
        if (read_at(fd, buf, ph[i].p_filesz, ph[i].p_offset)) {
            for (size_t off = 0; off + 12 <= ph[i].p_filesz && !go;) {
                uint32_t namesz, descsz, type;
                memcpy(&namesz, buf + off, 4);
                memcpy(&descsz, buf + off + 4, 4);
                memcpy(&type, buf + off + 8, 4);
                size_t name_at = off + 12;
                if (name_at + namesz > ph[i].p_filesz)
                    break;
                go = namesz == 3 && !memcmp(buf + name_at, "Go", 3) && type == 4;
                off = name_at + ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
            }
        }
        free(buf);
        if (go)
            return true;
    }
    return false;
}

/* Go's sections, by name (for binaries whose notes were rewritten). */
static bool has_go_section(int fd, const Elf64_Ehdr *eh)
{
    if (!eh->e_shoff || eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum > 4096 ||
        eh->e_shstrndx >= eh->e_shnum)
        return false;
    Elf64_Shdr *sh = cli_alloc((size_t)eh->e_shnum * sizeof *sh);
    bool go = false;
    if (read_at(fd, sh, (size_t)eh->e_shnum * sizeof *sh, eh->e_shoff)) {
        const Elf64_Shdr *names = &sh[eh->e_shstrndx];
        for (int i = 0; i < eh->e_shnum && !go; i++) {
            char name[32] = "";
            if (pread(fd, name, sizeof name - 1, (off_t)(names->sh_offset + sh[i].sh_name)) > 0)
                go = !strcmp(name, ".note.go.buildid") || !strcmp(name, ".gopclntab") ||
                     !strcmp(name, ".go.buildinfo");
        }
    }
    free(sh);
    return go;
}

static enum reach elf_reach(int fd, const char **why)
{
    Elf64_Ehdr eh;
    if (!read_at(fd, &eh, sizeof eh, 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 256)
        return REACH_OK;
    Elf64_Phdr ph[256];
    if (!read_at(fd, ph, eh.e_phnum * sizeof *ph, eh.e_phoff))
        return REACH_OK;
    bool interp = false;
    for (int i = 0; i < eh.e_phnum; i++)
        interp |= ph[i].p_type == PT_INTERP;
    if (has_go_note(fd, ph, eh.e_phnum) || has_go_section(fd, &eh)) {
        *why = "is a Go program (Go makes its system calls itself, not through glibc)";
        return REACH_GO;
    }
    if (!interp) {
        *why = "is statically linked (the loader, which reads LD_PRELOAD, never runs)";
        return REACH_STATIC;
    }
    bool readable;
    if (!needs_libc(fd, ph, eh.e_phnum, &readable) && readable) {
        *why = "is not linked with glibc (its I/O does not go through glibc's write)";
        return REACH_NO_LIBC;
    }
    return REACH_OK;
}

/* "#!/usr/bin/env python3 -u" → the interpreter's path. */
static const char *script_interpreter(int fd, char *buf, size_t size)
{
    ssize_t n = pread(fd, buf, size - 1, 0);
    if (n < 3 || buf[0] != '#' || buf[1] != '!')
        return NULL;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    char *p = buf + 2;
    p += strspn(p, " \t");
    char *interp = p;
    p += strcspn(p, " \t");
    char *arg = NULL;
    if (*p) {
        *p++ = 0;
        p += strspn(p, " \t");
        arg = *p ? p : NULL;
        if (arg)
            arg[strcspn(arg, " \t")] = 0;
    }
    const char *base = strrchr(interp, '/');
    if (base && !strcmp(base + 1, "env") && arg && arg[0] != '-')
        return resolve_command(arg);
    return *interp ? interp : NULL;
}

static enum reach reach_of(const char *path, const char **why, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return REACH_OK;
    if (((st.st_mode & S_ISUID) && st.st_uid != getuid()) ||
        ((st.st_mode & S_ISGID) && st.st_gid != getgid())) {
        *why = "is setuid/setgid (the loader ignores LD_PRELOAD for it)";
        return REACH_SECURE;
    }
    if (getxattr(path, "security.capability", NULL, 0) > 0) {
        *why = "has file capabilities (the loader ignores LD_PRELOAD for it)";
        return REACH_SECURE;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return REACH_OK;
    char line[PATH_MAX];
    const char *interp = depth < 2 ? script_interpreter(fd, line, sizeof line) : NULL;
    enum reach r;
    if (interp) {
        char copy[PATH_MAX];
        snprintf(copy, sizeof copy, "%s", interp);
        close(fd);
        return reach_of(copy, why, depth + 1);
    }
    r = elf_reach(fd, why);
    close(fd);
    return r;
}

enum reach binary_reach(const char *path, const char **why_out)
{
    const char *why = "";
    enum reach r = reach_of(path, &why, 0);
    *why_out = why;
    return r;
}
