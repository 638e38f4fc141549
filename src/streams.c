/*
 * streams.c — layer 11: stdio output on tagged fds goes through writebehind too.
 *
 * glibc's stdio hands its bytes to the kernel with its *internal* write,
 * which no wrapper sees.  The one door glibc opens for every flush of a
 * stream — fflush, a full buffer, a newline on a line-buffered stream,
 * fclose, exit — is a fopencookie() stream's write function.  So a stdio
 * stream whose fd is tagged is replaced by a cookie stream ("wrapped") that
 * keeps glibc's buffering exactly (same mode, same size, so the same flush
 * points as a plain run) and whose write/read/seek/close functions are
 * the library's own write/read/lseek/close operations (ops.c) on the same fd.  Order with raw
 * write()s and with other streams on the same file (`>f 2>&1`) follows.
 *
 * Where streams come from:
 *  - stdout/stderr: swapped for cookie streams in our constructor when their
 *    fd is tagged (the global `stdout` is one variable that libc and the
 *    program share, so printf, puts, perror, C++ cout all follow);
 *  - fopen/fopen64/fdopen/freopen: the real call, then wrapped if tagged.
 * The real FILE ("shadow") is kept to own the fd: closing a wrapped stream
 * closes the fd through our close() (landing bytes, reporting errors) and
 * then frees the shadow without closing the fd again.
 *
 * Rejected alternatives (README "How it works"): wrapping the output
 * family cannot see glibc's internal flushes (full buffer, exit) nor inline
 * putc; moving a FILE's pending bytes on fflush loses order when glibc
 * flushes by itself; replacing a FILE's vtable aborts (glibc validates it).
 *
 * A cookie stream is byte-oriented: wide output on it is converted in
 * wrap_stdio_wide.c.  A pointer to the original stdout/stderr saved before
 * our constructor ran (libstdc++ 13+ and libc++ keep one for std::cout and
 * std::cerr) is served by the cookie stream in the calls C++ stream buffers
 * make (wb_stream_current(), streams.h); the printf and fputs families on
 * such a pointer still write through the original, unbuffered by us.
 */
#include "streams.h"

#include "ops.h"
#include "real.h"
#include "say.h"
#include "state.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* glibc's FILE flag bits (libio/libio.h), stable ABI. */
#define WB_IO_UNBUFFERED 0x0002
#define WB_IO_NO_READS 0x0004
#define WB_IO_NO_WRITES 0x0008
#define WB_IO_LINE_BUF 0x0200
#define WB_IO_IS_APPENDING 0x1000

#define WB_STREAM_MAGIC 0x77627374u   /* "wbst" */

struct wb_stream {
    unsigned magic;      /* WB_STREAM_MAGIC while the stream is ours */
    int fd;
    int orientation;     /* what fwide() reports: 0, or 1 after wide output */
    FILE *shadow;        /* the real FILE that owns fd; never used for I/O */
    char *buffer;        /* our stdio buffer, sized like glibc's */
    FILE *cookie;
    struct wb_stream *next;
};

static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;
static struct wb_stream *streams;

static struct wb_stream *stream_of(FILE *fp)
{
    struct wb_stream *s;
    pthread_mutex_lock(&streams_lock);
    for (s = streams; s && s->cookie != fp; s = s->next)
        ;
    pthread_mutex_unlock(&streams_lock);
    return s;
}

/* wb_streams live in a static pool while it lasts, so that a cookie
   pointer can be recognised as ours by its address before it is read (a
   program's own fopencookie stream may carry any pointer as cookie). */
#define WB_STREAM_POOL 1024
static struct wb_stream stream_pool[WB_STREAM_POOL];
static bool stream_pool_used[WB_STREAM_POOL];

static struct wb_stream *stream_alloc(void)
{
    pthread_mutex_lock(&streams_lock);
    for (size_t i = 0; i < WB_STREAM_POOL; i++)
        if (!stream_pool_used[i]) {
            stream_pool_used[i] = true;
            pthread_mutex_unlock(&streams_lock);
            memset(&stream_pool[i], 0, sizeof stream_pool[i]);
            return &stream_pool[i];
        }
    pthread_mutex_unlock(&streams_lock);
    return calloc(1, sizeof(struct wb_stream));
}

static bool in_pool(const struct wb_stream *s)
{
    return (uintptr_t)s >= (uintptr_t)stream_pool &&
           (uintptr_t)s < (uintptr_t)(stream_pool + WB_STREAM_POOL);
}

static void stream_free(struct wb_stream *s)
{
    if (!s)
        return;
    __atomic_store_n(&s->magic, 0, __ATOMIC_RELEASE);
    if (!in_pool(s)) {
        free(s);
        return;
    }
    pthread_mutex_lock(&streams_lock);
    stream_pool_used[s - stream_pool] = false;
    pthread_mutex_unlock(&streams_lock);
}

/* A glibc FILE is followed by its vtable pointer (struct _IO_FILE_plus), and
   a cookie stream's FILE_plus by its cookie (struct _IO_cookie_file). */
static const void *file_vtable(FILE *fp) { return *(const void *const *)(fp + 1); }
static const void *cookie_vtable;   /* the vtable glibc gives every cookie stream */

/* Our wb_stream if fp is one of our cookie streams, found without a lock
   or a list walk (fflush per line goes through here). */
static inline struct wb_stream *wrapped(FILE *fp)
{
    const void *vt = __atomic_load_n(&cookie_vtable, __ATOMIC_ACQUIRE);
    if (!vt || file_vtable(fp) != vt)
        return NULL;
    struct wb_stream *s = *(struct wb_stream *const *)((const char *)(fp + 1) + sizeof(void *));
    return in_pool(s) && __atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) == WB_STREAM_MAGIC &&
                   s->cookie == fp
               ? s
               : NULL;
}

bool wb_stream_is_wrapped(FILE *fp) { return fp && stream_of(fp); }
int *wb_stream_orientation(FILE *fp) { return &stream_of(fp)->orientation; }

void wb_observe_stream(FILE *fp)
{
    if (!wb_anything_pending() || !fp || wrapped(fp))
        return;
    int fd = fp->_fileno;
    struct stat st;
    int saved = errno;
    if (fd >= 0 && REAL(fstat)(fd, &st) == 0) {
        if (S_ISREG(st.st_mode))
            wb_land_inode(st.st_dev, st.st_ino);
        else
            wb_land_all();
    }
    errno = saved;
}

static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
    struct wb_stream *s = cookie;
    ssize_t n;
    do
        n = wb_op_read(s->fd, buf, size);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Like glibc's _IO_new_file_write: all of it, or an error. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    struct wb_stream *s = cookie;
    size_t done = 0;
    if (!s->orientation)
        s->orientation = -1;   /* byte output came first: see the wide output below */
    int err = wb_write_all_with(wb_op_write_fn, s->fd, buf, size, &done, NULL);
    if (err && !done) {
        errno = err;
        return -1;
    }
    return (ssize_t)done;
}

static int cookie_seek(void *cookie, off64_t *offset, int whence)
{
    struct wb_stream *s = cookie;
    off64_t r = wb_op_lseek64(s->fd, *offset, whence);
    if (r < 0)
        return -1;
    *offset = r;
    return 0;
}

static void forget_stream(struct wb_stream *s)
{
    pthread_mutex_lock(&streams_lock);
    for (struct wb_stream **p = &streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_unlock(&streams_lock);
}

/* Frees the shadow FILE without closing the fd a second time (for the
   static stdout/stderr it just marks them closed, as fclose(stdout) would). */
FILE *wb_std_shadow[2], *wb_std_cookie[2];

/* Standard stream i (0 stdout, 1 stderr) is now cookie, standing in for
   shadow; (NULL, NULL) when it is closed. */
static void follow_std_stream(int i, FILE *shadow, FILE *cookie)
{
    __atomic_store_n(&wb_std_shadow[i], NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&wb_std_cookie[i], cookie, __ATOMIC_RELEASE);
    if (cookie)
        __atomic_store_n(&wb_std_shadow[i], shadow, __ATOMIC_RELEASE);
}

static void drop_shadow(FILE *shadow)
{
    shadow->_fileno = -1;
    REAL(fclose)(shadow);
}

static int cookie_close(void *cookie)
{
    struct wb_stream *s = cookie;
    /* glibc frees the cookie FILE after this returns.  fclose(stdout) leaves
       a plain program's `stdout` pointing at the static, closed stream, and
       later fflush(stdout) calls (a sanitizer's exit, careless programs)
       rely on that: give the globals the closed original back. */
    for (int i = 0; i < 2; i++)
        if (__atomic_load_n(&wb_std_cookie[i], __ATOMIC_ACQUIRE) == s->cookie)
            follow_std_stream(i, NULL, NULL);
    if (stdout == s->cookie)
        stdout = s->shadow;
    if (stderr == s->cookie)
        stderr = s->shadow;
    int r = wb_op_close(s->fd);
    int saved = errno;
    forget_stream(s);
    drop_shadow(s->shadow);
    free(s->buffer);
    stream_free(s);
    errno = saved;
    return r;
}

/* The mode glibc derived from the original fopen mode, as fopencookie
   understands it. */
static const char *cookie_mode(const FILE *shadow)
{
    bool reads = !(shadow->_flags & WB_IO_NO_READS);
    bool writes = !(shadow->_flags & WB_IO_NO_WRITES);
    bool append = shadow->_flags & WB_IO_IS_APPENDING;
    if (reads && writes)
        return append ? "a+" : "r+";
    if (writes)
        return append ? "a" : "w";
    return "r";
}

/* Same buffering as glibc would give the shadow: its current mode and size
   if it has a buffer already, else glibc's choice for a regular file:
   st_blksize (seen when the fd was tagged) when smaller than BUFSIZ
   (_IO_file_doallocate). */
static bool copy_buffering(FILE *cookie, FILE *shadow, long blksize, char **buffer)
{
    int flags = shadow->_flags;
    if (flags & WB_IO_UNBUFFERED)
        return setvbuf(cookie, NULL, _IONBF, 0) == 0;
    size_t size = shadow->_IO_buf_base ? (size_t)(shadow->_IO_buf_end - shadow->_IO_buf_base) : 0;
    if (!size)
        size = blksize > 0 && blksize < BUFSIZ ? (size_t)blksize : BUFSIZ;
    *buffer = malloc(size);
    if (!*buffer)
        return false;
    return setvbuf(cookie, *buffer, (flags & WB_IO_LINE_BUF) ? _IOLBF : _IOFBF, size) == 0;
}

/* A cookie stream standing in for shadow, or NULL (then use shadow). */
FILE *wb_stream_wrap(FILE *shadow)
{
    int fd = shadow ? shadow->_fileno : -1;
    struct wb_file *f = fd < 0 ? NULL : wb_file_for_fd(fd);
    if (!f || (shadow->_flags & WB_IO_NO_WRITES))
        return NULL;
    long blksize = f->blksize;
    int saved = errno;
    struct wb_stream *s = stream_alloc();
    if (!s)
        goto fail;
    s->magic = WB_STREAM_MAGIC;
    s->fd = fd;
    s->shadow = shadow;
    cookie_io_functions_t io = { cookie_read, cookie_write, cookie_seek, cookie_close };
    /* glibc's own: a sanitizer's fopencookie puts its cookie in the FILE,
       and wrapped() would no longer know our streams. */
    s->cookie = REAL(fopencookie)(s, cookie_mode(shadow), io);
    if (!s->cookie)
        goto fail;
    __atomic_store_n(&cookie_vtable, file_vtable(s->cookie), __ATOMIC_RELEASE);
    if (!copy_buffering(s->cookie, shadow, blksize, &s->buffer)) {
        REAL(fclose)(s->cookie);   /* runs cookie_close: would close fd */
        goto fail_quiet;
    }
    /* fileno(), isatty(fileno()) and glibc's own checks see the real fd. */
    s->cookie->_fileno = fd;
    pthread_mutex_lock(&streams_lock);
    s->next = streams;
    streams = s;
    pthread_mutex_unlock(&streams_lock);
    errno = saved;
    return s->cookie;
fail:
    stream_free(s);
fail_quiet:
    wb_debug("fd %d: stdio stream left unwrapped (out of memory); its output is not "
             "write-behind but stays correct", fd);
    errno = saved;
    return NULL;
}

void wb_stdio_init(void)
{
    FILE *orig_out = stdout, *orig_err = stderr;
    /* Anything another constructor printed already goes first. */
    REAL(fflush)(orig_out);
    REAL(fflush)(orig_err);
    FILE *out = wb_stream_wrap(orig_out);
    FILE *err = wb_stream_wrap(orig_err);
    if (out) {
        follow_std_stream(0, orig_out, out);
        stdout = out;
    }
    if (err) {
        follow_std_stream(1, orig_err, err);
        stderr = err;
    }
}

FILE *wb_stream_opened(FILE *fp, const char *path)
{
    if (!fp || !wb_state_active())
        return fp;
    int saved = errno;
    wb_fd_opened(fp->_fileno, path, (fp->_flags & WB_IO_NO_WRITES) ? O_RDONLY : O_WRONLY);
    FILE *cookie = (fp->_flags & WB_IO_NO_WRITES) ? NULL : wb_stream_wrap(fp);
    errno = saved;
    return cookie ? cookie : fp;
}

/* freopen: the fd changes under the stream.  A wrapped stream is flushed
   into our buffer, its fd detached (bytes land), the shadow reopened, and
   the stream re-pointed at the new fd — the program keeps its pointer. */
FILE *wb_stream_reopen(const char *path, const char *mode, FILE *stream, bool is64)
{
    if (path)
        wb_observe_path(AT_FDCWD, path, 0);
    struct wb_stream *s = stream_of(stream);
    FILE *target = s ? s->shadow : stream;
    if (s)
        REAL(fflush)(stream);
    int oldfd = target->_fileno;
    struct wb_file *f = oldfd >= 0 ? wb_fd_detach_begin(oldfd) : NULL;
    FILE *r = is64 ? REAL(freopen64)(path, mode, target) : REAL(freopen)(path, mode, target);
    int saved = errno;
    if (oldfd >= 0)
        wb_fd_detach_end(oldfd, f);
    if (!r) {
        if (s)
            stream->_fileno = -1;
        errno = saved;
        return NULL;
    }
    int fd = r->_fileno;
    if (path && wb_state_active())
        wb_fd_classify(fd, path, false);
    if (s) {
        /* The cookie keeps serving the stream: tagged or not, our
           write/read/seek pass through correctly for the new fd. */
        s->fd = fd;
        stream->_fileno = fd;
        clearerr(stream);
        stream->_flags = (stream->_flags & ~(WB_IO_NO_READS | WB_IO_NO_WRITES | WB_IO_IS_APPENDING)) |
                         (r->_flags & (WB_IO_NO_READS | WB_IO_NO_WRITES | WB_IO_IS_APPENDING));
        errno = saved;
        return stream;
    }
    if (stream == stdout || stream == stderr) {
        /* freopen("log", "w", stdout): the program goes on using `stdout`. */
        FILE *cookie = wb_stream_wrap(r);
        if (cookie) {
            int i = stream == stdout ? 0 : 1;
            follow_std_stream(i, r, cookie);
            if (i == 0)
                stdout = cookie;
            else
                stderr = cookie;
            errno = saved;
            return cookie;
        }
    }
    errno = saved;
    return r;
}

int wb_stream_close(FILE *stream)
{
    if (stream_of(stream))
        return REAL(fclose)(stream);   /* cookie_close does the rest */
    /* A real stream closes its fd with glibc's internal close: land and
       detach a tagged fd (raw writes on fileno()) around it. */
    int fd = stream->_fileno;
    struct wb_file *f = fd >= 0 ? wb_fd_detach_begin(fd) : NULL;
    /* A pipe's EOF may tell a reader "done".  A read-only stream tells
       nobody: the JVM's compiler threads fopen and fclose cgroup files all
       the time, and each fclose landed every file (18 writes instead of 2
       for 10,000 println). */
    if (fd >= 0 && !f && !(stream->_flags & WB_IO_NO_WRITES))
        wb_observe_all();
    int r = REAL(fclose)(stream);
    int saved = errno;
    if (fd >= 0)
        wb_fd_detach_end(fd, f);
    errno = saved;
    return r;
}

/* fcloseall closes real streams with glibc's internal close: afterwards,
   forget every tagged fd that is no longer open. */
static void forget_closed_fds(void)
{
    int max = wb_fd_max_seen();
    for (int fd = 0; fd <= max; fd++) {
        if (!wb_is_file(wb_fdtab_get(fd)) || REAL(fcntl)(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        wb_fd_detach_end(fd, wb_fd_detach_begin(fd));
    }
}

int wb_streams_close_all(void)
{
    REAL(fflush)(NULL);
    wb_land_all();
    int r = REAL(fcloseall)();
    int saved = errno;
    forget_closed_fds();
    errno = saved;
    return r;
}

/* An explicit flush that hands bytes to a pipe or terminal may tell
   another process that a file is ready: land everything first.  A flush
   of a tagged stream, or of one with no output pending, tells nobody. */
static inline void before_flush(FILE *stream)
{
    if (!wb_anything_pending())
        return;
    if (stream && ((stream->_fileno >= 0 && wb_is_file(wb_fdtab_get(stream->_fileno))) ||
                   stream->_IO_write_ptr <= stream->_IO_write_base))
        return;
    wb_land_all();
}

/* glibc's FILE flag bits used by the direct flush below (libio/libio.h). */
#define WB_IO_CURRENTLY_PUTTING 0x0800

/* fflush of a wrapped stream, done here: its pending bytes go straight into
   our buffer, as glibc's flush would send them (through cookie_write) —
   the same bytes in the same order — without glibc's sync, do_write and
   cookie dispatch (~150 instructions a call, the larger part of what
   `fprintf; fflush` per line costs once the system call is gone).  Only
   the plain case: a stream in output mode with no read-ahead; anything
   else takes glibc's path.  The FILE's pointers are reset exactly as
   glibc's new_do_write resets them. */
static bool flush_directly(FILE *fp, bool locked)
{
    struct wb_stream *s = wrapped(fp);
    if (!s)
        return false;
    if (locked)
        flockfile(fp);
    bool done = false;
    if ((fp->_flags & WB_IO_CURRENTLY_PUTTING) && fp->_IO_read_ptr == fp->_IO_read_end &&
        fp->_IO_write_base == fp->_IO_buf_base && fp->_IO_buf_base) {
        size_t n = (size_t)(fp->_IO_write_ptr - fp->_IO_write_base);
        if (n == 0 || cookie_write(s, fp->_IO_write_base, n) == (ssize_t)n) {
            char *base = fp->_IO_buf_base;
            fp->_IO_read_base = fp->_IO_read_ptr = fp->_IO_read_end = base;
            fp->_IO_write_base = fp->_IO_write_ptr = base;
            fp->_IO_write_end = (fp->_flags & (WB_IO_LINE_BUF | WB_IO_UNBUFFERED)) ? base
                                                                                   : fp->_IO_buf_end;
            done = true;
        }
        /* On an error glibc's own flush below reports it (and sets the
           stream's error flag) exactly as for any stream. */
    }
    if (locked)
        funlockfile(fp);
    return done;
}

int wb_stream_flush(FILE *stream, bool locked)
{
    if (stream && flush_directly(stream, locked))
        return 0;
    before_flush(stream);
    return locked ? REAL(fflush)(stream) : REAL(fflush_unlocked)(stream);
}

/* dprintf & co. format into a private FILE that glibc flushes with its
   internal write: on a tagged fd those bytes would overtake ours.  They are
   formatted here and handed to our write operation, which is all vdprintf does. */
int wb_vdprintf(int fd, const char *fmt, va_list ap)
{
    char stack[1024];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(stack, sizeof stack, fmt, ap);
    char *buf = stack;
    if (n >= (int)sizeof stack) {
        buf = malloc((size_t)n + 1);
        if (!buf) {
            va_end(again);
            errno = ENOMEM;
            return -1;
        }
        vsnprintf(buf, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    int result = n;
    if (n > 0) {
        int err = wb_write_all_with(wb_op_write_fn, fd, buf, (size_t)n, NULL, NULL);
        if (err) {
            errno = err;
            result = -1;
        }
    }
    if (buf != stack)
        free(buf);
    return result;
}

/* ---- wide output --------------------------------------------------------------
 *
 * A fopencookie() stream is byte-oriented for good: glibc gives it no wide
 * buffer, so wprintf & co. would fail on it where a plain run prints.
 * For a wrapped stream these calls convert to multibyte characters with
 * the current locale (wcrtomb — what a wide stream's codecvt does) and
 * write the bytes through the byte stream, in order with everything else.
 * fwide() reports the orientation the program asked for.
 */

/* glibc orients a stream at its first byte output (printf, fputs, fwrite)
   or its first wide output, for good.  A wrapped stream remembers what the
   plain one would have become. */
int wb_wide_orientation(FILE *fp)
{
    int *o = wb_stream_orientation(fp);
    if (*o == 0 && fp->_IO_write_ptr > fp->_IO_write_base)
        *o = -1;
    return *o;
}

wint_t wb_wide_putc(wchar_t wc, FILE *fp)
{
    if (wb_wide_orientation(fp) < 0) {
        /* glibc's putwc on a byte stream overflows into the byte buffer:
           one byte, the low 8 bits. */
        int c = REAL(fputc)((unsigned char)wc, fp);
        return c == EOF ? WEOF : (wint_t)c;
    }
    char mb[MB_LEN_MAX];
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = wcrtomb(mb, wc, &st);
    if (n == (size_t)-1) {
        fp->_flags |= 0x0020;   /* _IO_ERR_SEEN, as a wide stream sets on EILSEQ */
        return WEOF;
    }
    *wb_stream_orientation(fp) = 1;
    return REAL(fwrite)(mb, 1, n, fp) == n ? (wint_t)wc : WEOF;
}

int wb_wide_puts(const wchar_t *ws, FILE *fp)
{
    if (wb_wide_orientation(fp) < 0)
        return -1;
    *wb_stream_orientation(fp) = 1;
    for (; *ws; ws++)
        if (wb_wide_putc(*ws, fp) == WEOF)
            return -1;
    return 1;
}

int wb_wide_vfprintf(FILE *fp, const wchar_t *fmt, va_list ap)
{
    if (wb_wide_orientation(fp) < 0)
        return -1;
    *wb_stream_orientation(fp) = 1;
    size_t cap = 256;
    for (;;) {
        wchar_t *buf = malloc(cap * sizeof *buf);
        if (!buf)
            return -1;
        va_list copy;
        va_copy(copy, ap);
        int n = vswprintf(buf, cap, fmt, copy);
        va_end(copy);
        if (n >= 0) {
            int r = wb_wide_puts(buf, fp) < 0 ? -1 : n;
            free(buf);
            return r;
        }
        free(buf);
        if (cap >= (1u << 24))
            return -1;   /* an encoding error, not a short buffer */
        cap *= 4;
    }
}

