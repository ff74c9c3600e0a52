/*  redis_passfile.h: the Redis password file. A broker's Redis password comes only from an
    owner-only file, never from a command line (`ps` shows it), a log or the environment. */
#ifndef COLLAB_REDIS_PASSFILE_H
#define COLLAB_REDIS_PASSFILE_H

#include <stddef.h>

/*  The longest file read, in bytes: one line of user and password. */
#define COLLAB_REDIS_PASSFILE_MAX 1024
#define COLLAB_REDIS_USER_MAX     128
#define COLLAB_REDIS_PASSWORD_MAX 512

/*  An ACL user and its password, or (user "") the password of `requirepass` / the default
    user. Wipe it with collab_redis_auth_wipe once the connection no longer needs it. */
typedef struct {
    char user[COLLAB_REDIS_USER_MAX + 1];
    char password[COLLAB_REDIS_PASSWORD_MAX + 1];
} collab_redis_auth_t;

/*  Reads path: one line, `user password` (one space between) or just `password`, a final
    "\n" or "\r\n" allowed; printable ASCII, no other line. The file is refused, with a
    sentence in err that names the file and why (its mode in octal when that is why), when
    it is not a regular file, when group or others have any permission on it (chmod 600),
    when it is longer than COLLAB_REDIS_PASSFILE_MAX bytes, or when its line is not of
    that form. err never holds any of the file's bytes. Returns 0, or COLLAB_E_NOT_FOUND
    (no such file), COLLAB_E_IO (cannot be read, or refused for its type or mode),
    COLLAB_E_BAD_REQUEST (refused for its content); on error *out is wiped. */
int collab_redis_passfile_load(const char *path, collab_redis_auth_t *out, char *err,
                               size_t errlen);

/*  Wipes the user and password (libsodium's sodium_memzero, which the compiler does not remove). */
void collab_redis_auth_wipe(collab_redis_auth_t *auth);

#endif
