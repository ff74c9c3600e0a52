/*  redis_passfile.c: the Redis password file (see redis_passfile.h). The bytes read are wiped
    before return, whatever the outcome; a reason names the file, never its content. */
#include "redis_passfile.h"
#include "collab_error.h"
#include "collab_ownerfile.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    int rc = collab_ownerfile_read("password file", path, buf, sizeof buf, err, errlen);
    if (rc < 0)
        rc = rc == COLLAB_OWNERFILE_NOT_FOUND ? COLLAB_E_NOT_FOUND : COLLAB_E_IO;
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
