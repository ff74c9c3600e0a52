/*  collab_ownerfile.c: an owner-only secret file, read (collab_ownerfile.h). Not named after
    secrets: .dockerignore keeps every *secret* file out of the image. */
#include "collab_ownerfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 6, 7))) static int
refuse(char *err, size_t errlen, int code, const char *what, const char *path, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "%s %s: ", what, path);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
                         : "not a regular file";
}

/*  Checks what fd is and reads it: at most cap - 1 bytes (one more is tried, so that a file
    that grew since the fstat is seen). */
static int read_checked(int fd, const char *what, const char *path, char *buf, size_t cap,
                        char *err, size_t errlen)
{
    const int no = COLLAB_OWNERFILE_REFUSED;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return refuse(err, errlen, no, what, path, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return refuse(err, errlen, no, what, path, "is %s; it must be a regular file",
                      kind_of(st.st_mode));
    if (st.st_mode & 077)
        return refuse(err, errlen, no, what, path,
                      "mode 0%03o lets group or others at it; it must be owner-only "
                      "(chmod 600 %s)",
                      (unsigned)(st.st_mode & 0777), path);
    if (st.st_size > (off_t)(cap - 1))
        return refuse(err, errlen, no, what, path, "is %lld bytes long; at most %zu",
                      (long long)st.st_size, cap - 1);
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return refuse(err, errlen, no, what, path, "%s", strerror(errno));
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got > cap - 1)
        return refuse(err, errlen, no, what, path, "is longer than %zu bytes", cap - 1);
    buf[got] = '\0';
    return (int)got;
}

int collab_ownerfile_read(const char *what, const char *path, char *buf, size_t cap, char *err,
                          size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!buf || cap < 2 || cap > (size_t)1 << 30)
        return refuse(err, errlen, COLLAB_OWNERFILE_REFUSED, what, path ? path : "(none)",
                      "no room to read it");
    buf[0] = '\0';
    if (!path || !path[0])
        return refuse(err, errlen, COLLAB_OWNERFILE_NOT_FOUND, what, "(none)", "no path given");
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return refuse(err, errlen,
                      errno == ENOENT ? COLLAB_OWNERFILE_NOT_FOUND : COLLAB_OWNERFILE_REFUSED, what,
                      path, "%s", strerror(errno));
    int rc = read_checked(fd, what, path, buf, cap, err, errlen);
    close(fd);
    return rc;
}
