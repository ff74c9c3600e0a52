/*  redis_passfile.c: the Redis password file (see redis_passfile.h). The bytes read are wiped
    before return, whatever the outcome; a reason names the file, never its content. */
#include "redis_passfile.h"
#include "collab_error.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__((format(printf, 5, 6))) static int refuse(char *err, size_t errlen, int code,
                                                        const char *path, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "password file %s: ", path);
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

/*  Checks what fd is (a regular, owner-only, small file) and reads it into buf, at most
    cap - 1 bytes (one more is tried, so that a file that grew is seen). Returns the length
    or a negative code. */
static int read_checked(int fd, const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return refuse(err, errlen, COLLAB_E_IO, path, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return refuse(err, errlen, COLLAB_E_IO, path, "is %s; it must be a regular file",
                      kind_of(st.st_mode));
    if (st.st_mode & 077)
        return refuse(err, errlen, COLLAB_E_IO, path,
                      "mode 0%03o lets group or others at it; it must be owner-only "
                      "(chmod 600 %s)",
                      (unsigned)(st.st_mode & 0777), path);
    if (st.st_size > (off_t)(cap - 1))
        return refuse(err, errlen, COLLAB_E_IO, path, "is %lld bytes long; at most %zu",
                      (long long)st.st_size, cap - 1);
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return refuse(err, errlen, COLLAB_E_IO, path, "%s", strerror(errno));
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got > cap - 1)
        return refuse(err, errlen, COLLAB_E_IO, path, "is longer than %zu bytes", cap - 1);
    return (int)got;
}

/*  One line, "user password" or "password", into out. */
static int parse_line(const char *s, size_t len, const char *path, collab_redis_auth_t *out,
                      char *err, size_t errlen)
{
    if (len >= 1 && s[len - 1] == '\n')
        len--;
    if (len >= 1 && s[len - 1] == '\r')
        len--;
    if (len == 0)
        return refuse(err, errlen, COLLAB_E_BAD_REQUEST, path, "is empty");
    size_t spaces = 0, at = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || c == '\r')
            return refuse(err, errlen, COLLAB_E_BAD_REQUEST, path,
                          "holds more than one line; it holds `user password` or `password`");
        if (c < ' ' || c >= 0x7f)
            return refuse(err, errlen, COLLAB_E_BAD_REQUEST, path,
                          "holds a control character or a byte that is not ASCII");
        if (c == ' ') {
            spaces++;
            at = i;
        }
    }
    if (spaces > 1 || (spaces == 1 && (at == 0 || at == len - 1)))
        return refuse(err, errlen, COLLAB_E_BAD_REQUEST, path,
                      "expected `user password` (one space between) or `password`");
    size_t ulen = spaces ? at : 0, plen = spaces ? len - at - 1 : len;
    if (ulen > COLLAB_REDIS_USER_MAX || plen > COLLAB_REDIS_PASSWORD_MAX)
        return refuse(err, errlen, COLLAB_E_BAD_REQUEST, path,
                      "the user is longer than %d bytes or the password than %d",
                      COLLAB_REDIS_USER_MAX, COLLAB_REDIS_PASSWORD_MAX);
    memcpy(out->user, s, ulen);
    out->user[ulen] = '\0';
    memcpy(out->password, s + len - plen, plen);
    out->password[plen] = '\0';
    return 0;
}

int collab_redis_passfile_load(const char *path, collab_redis_auth_t *out, char *err, size_t errlen)
{
    char buf[COLLAB_REDIS_PASSFILE_MAX + 1];
    if (err && errlen)
        err[0] = '\0';
    memset(out, 0, sizeof *out);
    if (!path || !path[0])
        return refuse(err, errlen, COLLAB_E_NOT_FOUND, "(none)", "no path given");
    /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then refused) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return refuse(err, errlen, errno == ENOENT ? COLLAB_E_NOT_FOUND : COLLAB_E_IO, path, "%s",
                      strerror(errno));
    int rc = read_checked(fd, path, buf, sizeof buf, err, errlen);
    close(fd);
    if (rc >= 0)
        rc = parse_line(buf, (size_t)rc, path, out, err, errlen);
    sodium_memzero(buf, sizeof buf);
    if (rc)
        collab_redis_auth_wipe(out);
    return rc;
}

void collab_redis_auth_wipe(collab_redis_auth_t *auth)
{
    if (auth)
        sodium_memzero(auth, sizeof *auth);
}
