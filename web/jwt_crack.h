/*  jwt_crack.h: the pure part of the `jwt-forge` attack on control 21 (docs/WEB.md 5): find
    the HS256 secret of a token in a word list, then forge an admin token, signed with that
    secret or unsigned (`alg: none`). No socket, no file, no clock: tools/attack reads the word
    list and sends the result; the tests call it directly. */
#ifndef WEB_JWT_CRACK_H
#define WEB_JWT_CRACK_H

#include "jwt_key.h"

#include <stddef.h>
#include <stdint.h>

#define WEB_JWT_CRACK_MAX_WORDS 100000 /* words tried at most */

enum {
    WEB_JWT_E_NOT_CRACKED = -120, /* no word of the list signs the token */
};

/*  Tries each line of words (words_len bytes, "\n" or "\r\n" separated; empty lines and lines
    longer than WEB_JWT_SECRET_MAX are skipped) as the HS256 secret of token: one HMAC of the
    token's signed part per word, compared in constant time, so each word costs the same. At
    most WEB_JWT_CRACK_MAX_WORDS words are tried; *tried (may be NULL) gets how many were.
    Returns 0 with the word in secret (NUL-terminated; secret_cap > WEB_JWT_SECRET_MAX),
    WEB_JWT_E_NOT_CRACKED, WEB_JWT_E_MALFORMED (token not three base64url parts or too long,
    words NULL), WEB_JWT_E_BAD_ALG (not an HS256 token) or WEB_JWT_E_TOO_LONG (secret_cap too
    small). The secret buffer is wiped on failure. */
int web_jwt_crack(const char *token, const char *words, size_t words_len, char *secret,
                  size_t secret_cap, size_t *tried);

/*  Makes a token for sub (an agent id; the attack uses "admin1") with role "admin", iat now and
    exp now + 3600, into out: signed HS256 with secret when secret is not NULL, else unsigned
    (`{"alg":"none"}`, an empty signature). Returns 0, or WEB_JWT_E_NO_SUB, WEB_JWT_E_KEY (secret
    empty or longer than WEB_JWT_SECRET_MAX), WEB_JWT_E_TOO_LONG, WEB_JWT_E_NOMEM. */
int web_jwt_forge(const char *secret, const char *sub, int64_t now, char *out, size_t out_len);

#endif
