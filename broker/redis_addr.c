/*  redis_addr.c: the pure parser of a Redis address (see redis_addr.h). Every reason names
    the part that is wrong; quoted input is printable ASCII by then, and cut to 64 bytes. */
#include "redis_addr.h"
#include "collab_error.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define QUOTE_MAX 64 /* bytes of the input quoted in a reason */

static const char usage[] = "expected redis://HOST:PORT[/DB] or unix:///path/to.sock[?db=N]";

__attribute__((format(printf, 4, 5))) static int bad(collab_redis_addr_t *out, char *err,
                                                     size_t errlen, const char *fmt, ...)
{
    memset(out, 0, sizeof *out);
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return COLLAB_E_BAD_REQUEST;
}

static int quoted(size_t len)
{
    return (int)(len < QUOTE_MAX ? len : QUOTE_MAX);
}

/*  The decimal number s[0..len-1] (digits only) into *v, which must be in min..max; what
    names it in a reason. */
static int parse_number(const char *what, const char *s, size_t len, long min, long max, long *v,
                        collab_redis_addr_t *out, char *err, size_t errlen)
{
    if (len == 0)
        return bad(out, err, errlen, "the %s is missing (%s)", what, usage);
    if (strspn(s, "0123456789") < len)
        return bad(out, err, errlen, "%s '%.*s' is not a number", what, quoted(len), s);
    *v = 0;
    for (size_t i = 0; i < len && *v <= max; i++)
        *v = *v * 10 + (s[i] - '0');
    if (*v < min || *v > max)
        return bad(out, err, errlen, "%s %.*s is outside %ld..%ld", what, quoted(len), s, min, max);
    return 0;
}

static int parse_db(const char *s, size_t len, collab_redis_addr_t *out, char *err, size_t errlen)
{
    long v;
    int rc = parse_number("database number", s, len, 0, COLLAB_REDIS_DB_MAX, &v, out, err, errlen);
    if (rc == 0)
        out->db = (int)v;
    return rc;
}

static int parse_port(const char *s, size_t len, collab_redis_addr_t *out, char *err, size_t errlen)
{
    long v;
    int rc = parse_number("port", s, len, 1, 65535, &v, out, err, errlen);
    if (rc == 0)
        out->port = (uint16_t)v;
    return rc;
}

/*  A DNS name (letters, digits, '-', '_' for container names; labels of 1..63 bytes, not
    starting or ending with '-'), or a dotted IPv4 address when it is only digits and dots. */
static int check_name(const char *h, size_t len, collab_redis_addr_t *out, char *err, size_t errlen)
{
    if (strspn(h, "0123456789.") == len) {
        struct in_addr a;
        if (inet_pton(AF_INET, h, &a) != 1)
            return bad(out, err, errlen, "'%.*s' is not an IPv4 address", quoted(len), h);
        return 0;
    }
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? h[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || h[i - label] == '-' || h[i - 1] == '-')
                return bad(out, err, errlen,
                           "host '%.*s' is not a valid name (labels of 1 to 63 letters, "
                           "digits, '-' or '_', not starting or ending with '-')",
                           quoted(len), h);
            label = 0;
        } else if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", c) ==
                   NULL) {
            return bad(out, err, errlen, "host '%.*s' has '%c', not allowed in a host name",
                       quoted(len), h, c);
        } else {
            label++;
        }
    }
    return 0;
}

/*  The host of a redis:// authority (before its ':PORT'), into out->host. */
static int parse_host(const char *h, size_t len, bool bracketed, collab_redis_addr_t *out,
                      char *err, size_t errlen)
{
    if (len == 0)
        return bad(out, err, errlen, "the host is missing (%s)", usage);
    if (len > COLLAB_REDIS_HOST_MAX)
        return bad(out, err, errlen, "the host is %zu bytes long; at most %d", len,
                   COLLAB_REDIS_HOST_MAX);
    memcpy(out->host, h, len);
    out->host[len] = '\0';
    if (bracketed) {
        struct in6_addr a;
        if (inet_pton(AF_INET6, out->host, &a) != 1)
            return bad(out, err, errlen, "'[%.*s]' is not an IPv6 address", quoted(len), h);
        return 0;
    }
    return check_name(out->host, len, out, err, errlen);
}

/*  After "redis://": HOST:PORT, then nothing or /DB. */
static int parse_tcp(const char *s, collab_redis_addr_t *out, char *err, size_t errlen)
{
    size_t auth = strcspn(s, "/");
    if (s[strcspn(s, "?#")])
        return bad(out, err, errlen,
                   "redis:// takes no query or fragment (the database is /DB): %s", usage);
    if (memchr(s, '@', auth))
        return bad(out, err, errlen,
                   "the address may not hold a user or password (they would show in ps and in "
                   "logs): put them in the password file");
    if (auth == 0)
        return bad(out, err, errlen, "the host is missing (%s)", usage);
    const char *host = s, *colon;
    size_t hlen;
    bool bracketed = s[0] == '[';
    if (bracketed) {
        const char *close = memchr(s, ']', auth);
        if (!close)
            return bad(out, err, errlen, "'[' opens an IPv6 address that no ']' closes");
        host = s + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
        if (colon >= s + auth || *colon != ':')
            return bad(out, err, errlen, "the port is missing: expected ':PORT' after ']'");
    } else {
        colon = memchr(s, ':', auth);
        if (!colon)
            return bad(out, err, errlen, "the port is missing (%s)", usage);
        if (memchr(colon + 1, ':', (size_t)(s + auth - colon - 1)))
            return bad(out, err, errlen,
                       "an IPv6 address goes in brackets, as in redis://[::1]:6379");
        hlen = (size_t)(colon - s);
    }
    int rc = parse_host(host, hlen, bracketed, out, err, errlen);
    if (rc == 0)
        rc = parse_port(colon + 1, (size_t)(s + auth - colon - 1), out, err, errlen);
    if (rc == 0 && s[auth] == '/')
        rc = parse_db(s + auth + 1, strlen(s + auth + 1), out, err, errlen);
    if (rc == 0)
        out->kind = COLLAB_REDIS_TCP;
    return rc;
}

/*  After "unix://": /PATH, then nothing or ?db=N. */
static int parse_unix(const char *s, collab_redis_addr_t *out, char *err, size_t errlen)
{
    if (s[0] != '/')
        return bad(out, err, errlen,
                   "unix:// takes an absolute path and no host: unix:///path/to.sock");
    if (strchr(s, '#'))
        return bad(out, err, errlen, "unix:// takes no fragment ('#')");
    size_t len = strcspn(s, "?");
    if (len > COLLAB_REDIS_PATH_MAX)
        return bad(out, err, errlen, "the socket path is %zu bytes long; at most %d", len,
                   COLLAB_REDIS_PATH_MAX);
    if (s[len - 1] == '/')
        return bad(out, err, errlen, "the socket path '%.*s' ends with '/': it names a folder",
                   quoted(len), s);
    memcpy(out->path, s, len);
    out->path[len] = '\0';
    int rc = 0;
    if (s[len] == '?') {
        const char *q = s + len + 1;
        if (strncmp(q, "db=", 3) != 0)
            return bad(out, err, errlen, "unknown parameter '%.*s': the only one is ?db=N",
                       quoted(strlen(q)), q);
        rc = parse_db(q + 3, strlen(q + 3), out, err, errlen);
    }
    if (rc == 0)
        out->kind = COLLAB_REDIS_UNIX;
    return rc;
}

int collab_redis_addr_parse(const char *text, collab_redis_addr_t *out, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!text || !text[0])
        return bad(out, err, errlen, "no Redis address given (%s)", usage);
    size_t n = strnlen(text, COLLAB_REDIS_ADDR_MAX + 1);
    if (n > COLLAB_REDIS_ADDR_MAX)
        return bad(out, err, errlen, "the address is longer than %d bytes", COLLAB_REDIS_ADDR_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= ' ' || c >= 0x7f)
            return bad(out, err, errlen,
                       "byte %zu of the address (0x%02x) is a blank, a control character or "
                       "not ASCII",
                       i, c);
    }
    if (strchr(text, '%'))
        return bad(out, err, errlen, "percent-escapes are not supported in the address");
    memset(out, 0, sizeof *out);
    if (strncmp(text, "redis://", 8) == 0)
        return parse_tcp(text + 8, out, err, errlen);
    if (strncmp(text, "unix://", 7) == 0)
        return parse_unix(text + 7, out, err, errlen);
    if (strncmp(text, "rediss://", 9) == 0)
        return bad(out, err, errlen, "TLS (rediss://) is not supported: %s", usage);
    return bad(out, err, errlen, "'%.*s' is not a Redis address: %s", quoted(n), text, usage);
}

int collab_redis_addr_format(const collab_redis_addr_t *addr, char *out, size_t cap)
{
    int n = -1;
    if (addr->kind == COLLAB_REDIS_TCP) {
        bool v6 = strchr(addr->host, ':') != NULL;
        n = snprintf(out, cap, "redis://%s%s%s:%u", v6 ? "[" : "", addr->host, v6 ? "]" : "",
                     (unsigned)addr->port);
        if (n >= 0 && (size_t)n < cap && addr->db)
            n += snprintf(out + n, cap - (size_t)n, "/%d", addr->db);
    } else if (addr->kind == COLLAB_REDIS_UNIX) {
        n = snprintf(out, cap, "unix://%s", addr->path);
        if (n >= 0 && (size_t)n < cap && addr->db)
            n += snprintf(out + n, cap - (size_t)n, "?db=%d", addr->db);
    }
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return COLLAB_E_TOO_LARGE;
    }
    return 0;
}
