/*  redis_access.h: the start-up check of control 17 (store_access strong): the shared store
    lets in only its brokers, each as a least-privilege ACL user. Read-only probes, no
    change to the server. */
#ifndef COLLAB_REDIS_ACCESS_H
#define COLLAB_REDIS_ACCESS_H

#include "collab_redis_acl.h"
#include "redis_conn.h"

#include <stddef.h>

/*  The commands a broker's ACL user needs: COLLAB_REDIS_BROKER_ACL (collab_redis_acl.h). */

/*  Checks, on the connection self (already authenticated as user), that:
      - user is an ACL user of its own: neither "" (requirepass, which is the default user)
        nor "default";
      - a client that does not authenticate is refused: a second connection to addr,
        without AUTH, gets NOAUTH for PING (the server has `user default off`, or a
        password on the default user);
      - the user cannot run admin commands: ACL USERS and CONFIG GET are refused (NOPERM);
      - the user cannot reach keys outside its prefix (when prefix is not ""): EXISTS of a
        key outside it is refused (NOPERM).
    Returns 0; COLLAB_E_FORBIDDEN with a sentence in why (what is wrong, and the line of
    redis.conf that fixes it) when one does not hold; or a code of collab_redis_connect /
    collab_redis_read when a probe could not be run (why says which). */
int collab_redis_check_access(collab_redis_t *self, const collab_redis_addr_t *addr,
                              const char *user, const char *prefix, char *why, size_t whylen);

#endif
