/*  jwt_key.h: the keys of the web token control (21, docs/WEB.md 5). Strong: a 256-bit
    random key from an owner-only file. Weak: a word of the demo word list. */
#ifndef WEB_JWT_KEY_H
#define WEB_JWT_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_JWT_KEY_LEN     32  /* bytes of the strong key (HS256's own block of security) */
#define WEB_JWT_SECRET_MAX  64  /* bytes of a weak secret: one word */
#define WEB_JWT_KEYFILE_MAX 128 /* bytes read from a key file at most */

/*  An HMAC key: len bytes of bytes. Strong keys hold WEB_JWT_KEY_LEN random bytes, weak
    ones the secret's characters. The owner wipes it with web_jwt_key_clear. */
typedef struct {
    uint8_t bytes[WEB_JWT_SECRET_MAX > WEB_JWT_KEY_LEN ? WEB_JWT_SECRET_MAX : WEB_JWT_KEY_LEN];
    size_t len;
    bool weak; /* from web_jwt_key_weak */
} web_jwt_key_t;

/*  Reads the strong key from path (web.token_key_file). The file holds exactly 64 hex digits
    (either case; 32 bytes), optionally followed by blanks or a newline, as written by
    `collab-keygen --web-token-key FILE` or by
        head -c 32 /dev/urandom | xxd -p -c 64 > FILE; chmod 600 FILE
    It is refused, with a sentence in err naming the file and why (its mode in octal when that
    is why; never its bytes), when it is not a regular file, when group or others have any
    permission on it (the broker's rule for its Redis password file), when it is longer than
    WEB_JWT_KEYFILE_MAX bytes, or when it is not of that form. Returns 0, or
    COLLAB_E_NOT_FOUND (no such file), COLLAB_E_IO (unreadable, or refused for its type, mode
    or size), COLLAB_E_BAD_REQUEST (refused for its content); on error *key is wiped. */
int web_jwt_key_load(web_jwt_key_t *key, const char *path, char *err, size_t errlen);

/*  The weak key: secret's bytes (1..WEB_JWT_SECRET_MAX, web.token_weak_secret). Returns 0, or
    COLLAB_E_BAD_REQUEST (NULL, empty or too long: *key is then wiped). */
int web_jwt_key_weak(web_jwt_key_t *key, const char *secret);

/*  Wipes the key (sodium_memzero). NULL-safe, idempotent. */
void web_jwt_key_clear(web_jwt_key_t *key);

#endif
