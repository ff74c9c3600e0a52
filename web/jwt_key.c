/*  jwt_key.c: the web token keys (see jwt_key.h). A key file is checked as the broker checks
    its Redis password file: regular, owner-only, small; its bytes are wiped before return. */
#include "jwt_key.h"
#include "collab_error.h"
#include "collab_hex.h"

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
        int n = snprintf(err, errlen, "web token key file %s: ", path);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return code;
}

/*  Checks fd (regular, owner-only, small) and reads it into buf, at most cap - 1 bytes (one
    more is tried, so that a file that grew is seen). Returns the length or a negative code. */
static int read_checked(int fd, const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return refuse(err, errlen, COLLAB_E_IO, path, "%s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return refuse(err, errlen, COLLAB_E_IO, path, "is not a regular file");
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

/*  64 hex digits, then only blanks. */
static int parse_key(const char *s, size_t len, const char *path, web_jwt_key_t *key, char *err,
                     size_t errlen)
{
    const size_t digits = 2 * WEB_JWT_KEY_LEN;
    for (size_t i = digits; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return refuse(err, errlen, COLLAB_E_BAD_REQUEST, path,
                          "holds more than %zu hex digits and blanks after them", digits);
    if (len < digits ||
        collab_hex_decode(s, digits, key->bytes, WEB_JWT_KEY_LEN) != (long)WEB_JWT_KEY_LEN)
        return refuse(err, errlen, COLLAB_E_BAD_REQUEST, path,
                      "must hold exactly %zu hex digits (a 256-bit key)", digits);
    key->len = WEB_JWT_KEY_LEN;
    key->weak = false;
    return 0;
}

int web_jwt_key_load(web_jwt_key_t *key, const char *path, char *err, size_t errlen)
{
    char buf[WEB_JWT_KEYFILE_MAX + 1];
    if (err && errlen)
        err[0] = '\0';
    web_jwt_key_clear(key);
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
        rc = parse_key(buf, (size_t)rc, path, key, err, errlen);
    sodium_memzero(buf, sizeof buf);
    if (rc)
        web_jwt_key_clear(key);
    return rc;
}

int web_jwt_key_weak(web_jwt_key_t *key, const char *secret)
{
    web_jwt_key_clear(key);
    size_t n = secret ? strnlen(secret, WEB_JWT_SECRET_MAX + 1) : 0;
    if (n == 0 || n > WEB_JWT_SECRET_MAX)
        return COLLAB_E_BAD_REQUEST;
    memcpy(key->bytes, secret, n);
    key->len = n;
    key->weak = true;
    return 0;
}

void web_jwt_key_clear(web_jwt_key_t *key)
{
    if (key)
        sodium_memzero(key, sizeof *key);
}
