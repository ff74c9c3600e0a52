/*  redis_access.c: the store_access check at start (see redis_access.h): one probe per rule,
    each a command that reads nothing of the state, judged by whether Redis refuses it. */
#include "redis_access.h"
#include "collab_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 5))) static int say(char *why, size_t whylen, int rc,
                                                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return rc;
}

/*  A second client, without AUTH: 0 when PING is refused with NOAUTH; FORBIDDEN when it is
    answered. */
static int anonymous_refused(const collab_redis_addr_t *addr, char *why, size_t whylen)
{
    const collab_redis_opts_t o = {.addr = *addr};
    collab_redis_t *anon = collab_redis_new(&o);
    if (!anon)
        return say(why, whylen, COLLAB_E_NOMEM, "out of memory");
    int rc = collab_redis_connect(anon);
    collab_redis_reply_t *r = NULL;
    if (rc == 0)
        rc = collab_redis_callf(anon, &r, "PING");
    collab_redis_reply_free(&r);
    if (rc == 0)
        rc = say(why, whylen, COLLAB_E_FORBIDDEN,
                 "store_access is strong, but the store answers a client that did not "
                 "authenticate (PING answered without AUTH): set `user default off` in "
                 "redis.conf and give each broker its own ACL user");
    else if (rc == COLLAB_E_AUTH_FAILED)
        rc = 0; /* NOAUTH: refused, as it must be */
    else
        say(why, whylen, rc, "cannot probe the store without AUTH: %s", collab_redis_why(anon));
    collab_redis_destroy(&anon);
    return rc;
}

/*  One command that the broker's user must not be allowed: 0 when refused with NOPERM. */
static int must_refuse(collab_redis_t *self, const char *what, const char *fix, char *why,
                       size_t whylen, const char *fmt, const char *arg)
{
    collab_redis_reply_t *r = NULL;
    int rc = collab_redis_callf(self, &r, fmt, arg);
    collab_redis_reply_free(&r);
    if (rc == COLLAB_E_FORBIDDEN)
        return 0;
    if (rc == 0 || rc == COLLAB_E_BAD_REQUEST)
        return say(why, whylen, COLLAB_E_FORBIDDEN,
                   "store_access is strong, but this broker's ACL user %s: %s", what, fix);
    return say(why, whylen, rc, "cannot probe the store's ACL: %s", collab_redis_why(self));
}

int collab_redis_check_access(collab_redis_t *self, const collab_redis_addr_t *addr,
                              const char *user, const char *prefix, char *why, size_t whylen)
{
    why[0] = '\0';
    if (!user || !user[0] || strcmp(user, "default") == 0)
        return say(why, whylen, COLLAB_E_FORBIDDEN,
                   "store_access is strong, but this broker logs in to the store as the default "
                   "user: give it an ACL user of its own (`user NAME on >PASSWORD ...` in "
                   "redis.conf, `NAME PASSWORD` in store.password_file)");
    int rc = anonymous_refused(addr, why, whylen);
    if (rc)
        return rc;
    const char *least = "allow only the commands it needs (`" COLLAB_REDIS_BROKER_ACL "`)";
    if ((rc = must_refuse(self, "may run admin commands (ACL USERS is answered)", least, why,
                          whylen, "ACL %s", "USERS")) != 0 ||
        (rc = must_refuse(self, "may change the server's configuration (CONFIG SET is answered)",
                          least, why, whylen, "CONFIG SET appendfsync %s", "always")) != 0)
        return rc;
    if (prefix && prefix[0]) {
        /* a key that cannot start with the prefix: the prefix's first byte changed */
        char key[80];
        snprintf(key, sizeof key, "%c%s", prefix[0] == '#' ? '!' : '#', "collab-access-probe");
        rc = must_refuse(self,
                         "may read keys outside its prefix (EXISTS of another key is answered)",
                         "restrict its keys to the prefix (`resetkeys ~PREFIX*`)", why, whylen,
                         "EXISTS %s", key);
    }
    return rc;
}
