/*  jwt_check.h: the gateway's JSON Web Tokens (control 21 `web_token`, docs/WEB.md 3 and 5).
    Pure: a token and a key in, claims or an error out; no socket, no log, no clock (the caller
    gives `now`). libjwt 1.10 encodes, decodes and checks signatures but validates nothing, so
    the algorithm, `exp` and the claims' bounds are checked here, the algorithm before libjwt
    sees the token.
      strong: HS256 only, signed with the 256-bit key; `exp` required and enforced; sub an
              agent id.
      weak:   HS256 signed with the weak secret (a dictionary word), or `alg: none` (unsigned,
              taken at its word); `exp` not required (enforced when present). */
#ifndef WEB_JWT_CHECK_H
#define WEB_JWT_CHECK_H

#include "collab_limits.h"
#include "jwt_key.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_JWT_TOKEN_MAX 4096 /* bytes of a token (without its NUL); longer ones are refused */
#define WEB_JWT_JTI_MAX   64   /* bytes of a jti (ours: 32 hex digits) */

/*  Why a token was refused (or could not be made): one code per reason, outside the range of
    collab_error.h's codes so that both can travel through one int. */
enum {
    WEB_JWT_E_MALFORMED = -100,     /* not header.payload.signature of base64url JSON objects */
    WEB_JWT_E_TOO_LONG = -101,      /* longer than WEB_JWT_TOKEN_MAX (or the output buffer) */
    WEB_JWT_E_BAD_ALG = -102,       /* an algorithm other than HS256 (and none, when weak) */
    WEB_JWT_E_ALG_NONE = -103,      /* `alg: none` under strong */
    WEB_JWT_E_BAD_SIGNATURE = -104, /* HS256 signature not made with the key */
    WEB_JWT_E_EXPIRED = -105,       /* exp <= now */
    WEB_JWT_E_NO_EXP = -106,        /* strong: exp missing or not an integer */
    WEB_JWT_E_NO_SUB = -107,        /* sub missing or not an agent id (1..64 [A-Za-z0-9_.-]) */
    WEB_JWT_E_BAD_CLAIM = -108,     /* role, iat or jti present but not of its shape */
    WEB_JWT_E_KEY = -109,           /* no key, or strong without the 256-bit key */
    WEB_JWT_E_NOMEM = -110,         /* libjwt could not allocate */
};

/*  What a token that passed says. Strings are NUL-terminated copies. */
typedef struct {
    char sub[COLLAB_MAX_AGENT_ID + 1];
    char role[COLLAB_IDENT_MAX + 1]; /* "" when absent */
    char jti[WEB_JWT_JTI_MAX + 1];   /* "" when absent */
    int64_t iat;                     /* 0 when absent */
    int64_t exp;                     /* 0 when absent (has_exp false: weak only) */
    bool has_exp;
    bool unsigned_token; /* alg none: nobody vouches for it (weak only) */
} web_jwt_claims_t;

/*  Makes an HS256 token {sub, role, iat: now, exp: now + ttl_s, jti: 128 random bits in hex}
    signed with key, into out (NUL-terminated). sub must be an agent id, role 1..32 of [a-z_],
    ttl_s 1..86400. Returns 0, or WEB_JWT_E_KEY (empty key), WEB_JWT_E_NO_SUB, WEB_JWT_E_BAD_CLAIM
    (role, ttl), WEB_JWT_E_TOO_LONG (out_len too small: out is then ""), WEB_JWT_E_NOMEM. */
int web_jwt_issue(const web_jwt_key_t *key, const char *sub, const char *role, int64_t now,
                  uint32_t ttl_s, char *out, size_t out_len);

/*  Checks token (NUL-terminated; at most WEB_JWT_TOKEN_MAX bytes are looked at before it is
    refused as too long) under the strong or weak rules above, at time now (Unix seconds).
    Returns 0 with *claims filled, or one WEB_JWT_E_* code (*claims is then zeroed). Strong
    needs a key of WEB_JWT_KEY_LEN bytes (WEB_JWT_E_KEY otherwise). The HS256 signature is
    compared in constant time (libsodium) before libjwt decodes the token; libjwt then checks
    it again and must agree on the algorithm. */
int web_jwt_verify(const web_jwt_key_t *key, bool strong, const char *token, int64_t now,
                   web_jwt_claims_t *claims);

/*  A short sentence for a WEB_JWT_E_* code (or "ok"); never NULL. */
const char *web_jwt_strerror(int code);

/*  The code's short name ("expired", "alg_none", ...) for logs and JSON errors; never NULL. */
const char *web_jwt_errname(int code);

/*  Internal to web/jwt_*: true when s is 1..COLLAB_MAX_AGENT_ID bytes of [A-Za-z0-9_.-]. */
bool web_jwt_agent_id_ok(const char *s);

#endif
