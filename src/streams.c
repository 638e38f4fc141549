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
 * flushes by itself; a vtable of our own aborts (glibc validates vtables).
 *
 * Positioning calls and fread run glibc's file-stream code on a wrapped
 * stream, and wide output makes it glibc's own wide stream (both below),
 * so that positions and wide output are a plain run's.  A pointer to the
 * original stdout/stderr saved before our constructor ran (libstdc++ 13+
 * and libc++ keep one for std::cout and std::cerr) is served by the cookie stream in the calls C++ stream buffers
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
#define WB_IO_USER_BUF 0x0001
#define WB_IO_UNBUFFERED 0x0002
#define WB_IO_NO_READS 0x0004
#define WB_IO_NO_WRITES 0x0008
#define WB_IO_LINE_BUF 0x0200
#define WB_IO_IS_APPENDING 0x1000

#define WB_STREAM_MAGIC 0x77627374u   /* "wbst" */

struct wb_stream {
    unsigned magic;      /* WB_STREAM_MAGIC while the stream is ours */
    int fd;
    FILE *shadow;        /* the real FILE that owns fd (and the wide data the
                            cookie borrows); never used for I/O */
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

/* A wrapped stream that is not byte-oriented yet may become wide in this
   call, and a wide stream is glibc's own (see "wide" below): it lands too. */
void wb_observe_stream(FILE *fp)
{
    if (!wb_anything_pending() || !fp || (wrapped(fp) && fp->_mode != 0))
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

/* One read, as glibc's _IO_file_read makes it (an EINTR is the stream's
   error, as in a plain run). */
static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
    struct wb_stream *s = cookie;
    return wb_op_read(s->fd, buf, size);
}

/* Like glibc's _IO_new_file_write: all of it, or what was written before
   an error (0, not -1: glibc's xsputn subtracts the count), and the
   stream's cached offset moves by what was written, as a file stream's
   does (glibc's cookie write leaves it alone; the positioning calls below
   run glibc's file code, which reads it). */
static ssize_t cookie_write(void *cookie, const char *buf, size_t size)
{
    struct wb_stream *s = cookie;
    size_t done = 0;
    int err = wb_write_all_with(wb_op_write_fn, s->fd, buf, size, &done, NULL);
    if (s->cookie->_offset >= 0)
        s->cookie->_offset += (off64_t)done;
    if (err)
        errno = err;
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

/* The globals that name a wrapped stream being closed get its closed
   original back (see cookie_close). */
static void std_streams_forget(struct wb_stream *s)
{
    for (int i = 0; i < 2; i++)
        if (__atomic_load_n(&wb_std_cookie[i], __ATOMIC_ACQUIRE) == s->cookie)
            follow_std_stream(i, NULL, NULL);
    if (stdout == s->cookie)
        stdout = s->shadow;
    if (stderr == s->cookie)
        stderr = s->shadow;
}

static int cookie_close(void *cookie)
{
    struct wb_stream *s = cookie;
    /* glibc frees the cookie FILE after this returns.  fclose(stdout) leaves
       a plain program's `stdout` pointing at the static, closed stream, and
       later fflush(stdout) calls (a sanitizer's exit, careless programs)
       rely on that: give the globals the closed original back. */
    std_streams_forget(s);
    int r = wb_op_close(s->fd);
    int saved = errno;
    forget_stream(s);
    drop_shadow(s->shadow);
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
static bool copy_buffering(FILE *cookie, FILE *shadow, long blksize)
{
    int flags = shadow->_flags;
    if (flags & WB_IO_UNBUFFERED)
        return setvbuf(cookie, NULL, _IONBF, 0) == 0;
    size_t size = shadow->_IO_buf_base ? (size_t)(shadow->_IO_buf_end - shadow->_IO_buf_base) : 0;
    if (!size)
        size = blksize > 0 && blksize < BUFSIZ ? (size_t)blksize : BUFSIZ;
    char *buffer = malloc(size);
    if (!buffer)
        return false;
    if (setvbuf(cookie, buffer, (flags & WB_IO_LINE_BUF) ? _IOLBF : _IOFBF, size) != 0) {
        free(buffer);
        return false;
    }
    /* The buffer is glibc's from now on, as one it allocated itself: it
       frees it at fclose or a later setvbuf, and a wide stream sizes its
       wide buffer by it as for an allocated one (_IO_wfile_doallocate
       divides a user buffer's size by sizeof(wchar_t)). */
    cookie->_flags &= ~WB_IO_USER_BUF;
    return true;
}

/* A cookie stream standing in for shadow, or NULL (then use shadow). */
FILE *wb_stream_wrap(FILE *shadow)
{
    int fd = shadow ? shadow->_fileno : -1;
    struct wb_file *f = fd < 0 ? NULL : wb_file_for_fd(fd);
    /* A stream that is wide already stays glibc's (see "wide" below). */
    if (!f || (shadow->_flags & WB_IO_NO_WRITES) || shadow->_mode > 0)
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
    if (!copy_buffering(s->cookie, shadow, blksize)) {
        REAL(fclose)(s->cookie);   /* runs cookie_close: would close fd */
        goto fail_quiet;
    }
    /* fileno(), isatty(fileno()) and glibc's own checks see the real fd. */
    s->cookie->_fileno = fd;
    /* The offset glibc caches, as the file stream had it (fdopen asks the
       kernel for it; see wb_stream_borrow_file_ops). */
    s->cookie->_offset = shadow->_offset;
    /* Unoriented, as the file stream is, with the file stream's wide data:
       wide output orients it the way glibc does (wide below). */
    if (shadow->_mode == 0 && shadow->_wide_data) {
        s->cookie->_wide_data = shadow->_wide_data;
        s->cookie->_mode = 0;
    }
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
    /* Now: a stream is wrapped (or not) when it is opened. */
    wb_fd_opened(fp->_fileno, path, (fp->_flags & WB_IO_NO_WRITES) ? O_RDONLY : O_WRONLY, false);
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
    if (s && !wrapped(stream)) {
        /* Wide: glibc's own stream now, reopened as one.  It keeps using
           the shadow's wide data, so the shadow stays, owning nothing. */
        forget_stream(s);
        s->shadow->_fileno = -1;
        stream_free(s);
        s = NULL;
    }
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
    struct wb_stream *s = stream_of(stream);
    if (s && wrapped(stream))
        return REAL(fclose)(stream);   /* cookie_close does the rest */
    /* A wrapped stream that became wide is glibc's own now: closed as a
       real stream, then our record and the shadow (whose wide data it
       used until glibc's fclose returned) go. */
    if (s) {
        std_streams_forget(s);
        forget_stream(s);
    }
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
    if (s) {
        drop_shadow(s->shadow);
        stream_free(s);
    }
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
   of a wrapped stream needs nothing (its bytes come to our buffer); one of
   a real stream with output pending lands the file behind it (a wide
   stream on a tagged fd writes with glibc's internal write), or
   everything when it is not a regular file. */
static inline void before_flush(FILE *stream)
{
    if (!wb_anything_pending())
        return;
    if (!stream) {
        wb_land_all();
        return;
    }
    if (wrapped(stream) || (stream->_mode <= 0 && stream->_IO_write_ptr <= stream->_IO_write_base))
        return;
    wb_observe_stream(stream);
}

/* glibc's FILE flag bits used by the direct flush below (libio/libio.h). */
#define WB_IO_ERR_SEEN 0x0020
#define WB_IO_CURRENTLY_PUTTING 0x0800

/* fflush of a wrapped stream, done here: its pending bytes go straight into
   our buffer, as glibc's flush would send them (through cookie_write) —
   the same bytes in the same order — without glibc's sync, do_write and
   cookie dispatch (~150 instructions a call, the larger part of what
   `fprintf; fflush` per line costs once the system call is gone).  Only
   the plain case: a stream in output mode with no read-ahead to seek back
   over; anything else takes glibc's path.  What follows the write is what glibc's
   new_do_write and _IO_file_sync do: the buffer is emptied whether or not
   the write succeeded (a failed write's bytes are dropped, as a plain
   stream drops them), a short write is the stream's error, and the cached
   offset is unknown afterwards (before, too, for an appending stream).
   Returns 0 or EOF, or 1 when glibc's path must do it. */
static int flush_directly(FILE *fp, bool locked)
{
    struct wb_stream *s = wrapped(fp);
    if (!s)
        return 1;
    if (locked)
        flockfile(fp);
    int result = 1;
    if ((fp->_flags & WB_IO_CURRENTLY_PUTTING) && fp->_IO_read_ptr == fp->_IO_read_end &&
        fp->_IO_read_end == fp->_IO_write_base && fp->_IO_write_base == fp->_IO_buf_base &&
        fp->_IO_buf_base && wrapped(fp)) {
        size_t n = (size_t)(fp->_IO_write_ptr - fp->_IO_write_base);
        result = 0;
        if (n) {
            if (fp->_flags & WB_IO_IS_APPENDING)
                fp->_offset = -1;
            int saved = errno;
            size_t done = (size_t)cookie_write(s, fp->_IO_write_base, n);
            if (done < n) {
                fp->_flags |= WB_IO_ERR_SEEN;
                result = EOF;
            } else {
                errno = saved;
            }
            char *base = fp->_IO_buf_base;
            fp->_IO_read_base = fp->_IO_read_ptr = fp->_IO_read_end = base;
            fp->_IO_write_base = fp->_IO_write_ptr = base;
            fp->_IO_write_end = (fp->_flags & (WB_IO_LINE_BUF | WB_IO_UNBUFFERED)) ? base
                                                                                   : fp->_IO_buf_end;
        }
        if (result == 0)
            fp->_offset = -1;
    }
    if (locked)
        funlockfile(fp);
    return result;
}

int wb_stream_flush(FILE *stream, bool locked)
{
    if (stream) {
        int r = flush_directly(stream, locked);
        if (r != 1)
            return r;
    }
    before_flush(stream);
    return locked ? REAL(fflush)(stream) : REAL(fflush_unlocked)(stream);
}

/* ---- positions and reads: glibc's file operations -----------------------------
 *
 * A cookie stream positions itself differently from a file stream: glibc's
 * cookie seekoff forgets the cached offset (_offset) at every call, so
 * ftell asks the kernel where a file stream answers from its cache (they
 * differ once another descriptor moved the shared offset), fseek never
 * seeks within its buffer, and SEEK_END goes without the file's size; its
 * fread (_IO_default_xsgetn) reads ahead where the file stream's reads
 * into the caller's buffer.  So the calls that position or read in bulk
 * run glibc's own file-stream code on the wrapped stream: its vtable is
 * glibc's _IO_file_jumps for the length of the call (glibc validates
 * vtables against its own, which that is), under the stream's lock, after
 * the file has landed, so glibc's internal lseek, read, fstat and write
 * see what a plain run's would.  The cached offset they use is kept as a
 * file stream keeps it: cookie_write moves it, flush_directly forgets it.
 */
extern const char _IO_file_jumps[];   /* glibc's (GLIBC_2.2.5): a struct _IO_jump_t */

bool wb_stream_borrow_file_ops(FILE *fp)
{
    if (!wrapped(fp))
        return false;
    flockfile(fp);
    if (!wrapped(fp)) {   /* it became wide meanwhile */
        funlockfile(fp);
        return false;
    }
    wb_observe_fd(fp->_fileno);
    __atomic_store_n((const void **)(fp + 1), (const void *)_IO_file_jumps, __ATOMIC_RELAXED);
    return true;
}

void wb_stream_return_file_ops(FILE *fp)
{
    __atomic_store_n((const void **)(fp + 1), cookie_vtable, __ATOMIC_RELAXED);
    funlockfile(fp);
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

/* ---- wide output ----------------------------------------------------------------
 *
 * A fopencookie() stream has no wide data of its own; a wrapped stream
 * borrows its shadow's (wb_stream_wrap) and starts unoriented, as a file
 * stream does.  Byte output orients it as glibc orients any stream.  Wide
 * output or fwide(fp, 1) orients it wide, and glibc then switches its
 * vtable to the wide file operations (_IO_fwide): from there on it is a
 * plain glibc stream, with glibc's own conversion, buffers, error rules and
 * positions, whose system calls are glibc's internal ones — an unwrapped
 * stream on a tagged fd, which every stdio call lands first (LAND_FILE;
 * wb_observe_stream lands for a wrapped stream that is not yet
 * byte-oriented, as the call may orient it).  fclose of such a stream
 * detaches its fd like a real stream's (wb_stream_close).
 */
