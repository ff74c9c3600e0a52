/*  jwt_key.c: the web token keys (see jwt_key.h). A key file is checked as the broker checks
    its Redis password file: regular, owner-only, small; its bytes are wiped before return. */
#include "jwt_key.h"
#include "collab_error.h"
#include "collab_ownerfile.h"
#include "collab_hex.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    int rc = collab_ownerfile_read("web token key file", path, buf, sizeof buf, err, errlen);
    if (rc < 0)
        rc = rc == COLLAB_OWNERFILE_NOT_FOUND ? COLLAB_E_NOT_FOUND : COLLAB_E_IO;
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
