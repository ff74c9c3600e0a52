/*  jwt_check.c: issuing and checking the gateway's JWTs (see jwt_check.h). The token's shape,
    its header's algorithm and (for HS256) its signature are checked here before libjwt
    decodes it; libjwt's view of the algorithm must then agree with ours, so that a header
    that two JSON parsers read differently (a repeated "alg") cannot slip between them. */
#include "jwt_check.h"
#include "collab_hex.h"
#include "collab_text.h"

#include <cJSON.h>
#include <errno.h>
#include <limits.h>
#include <jwt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIG_B64_LEN 43 /* base64url without padding of a 32-byte HMAC-SHA256 */
#define MAX_TTL_S   86400
#define DECODED_MAX (WEB_JWT_TOKEN_MAX / 4 * 3 + 3)
#define B64URL      sodium_base64_VARIANT_URLSAFE_NO_PADDING

typedef enum { ALG_HS256, ALG_NONE, ALG_OTHER } alg_kind_t;

/*  Where the three parts of a token are: header [0, dot1), payload (dot1, dot2), signature
    (dot2, len). */
typedef struct {
    const char *s;
    size_t len, dot1, dot2;
} parts_t;

bool web_jwt_agent_id_ok(const char *s)
{
    static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-";
    size_t n = s ? strnlen(s, COLLAB_MAX_AGENT_ID + 1) : 0;
    return n >= 1 && n <= COLLAB_MAX_AGENT_ID && strspn(s, ok) == n;
}

static bool ident_ok(const char *s)
{
    size_t n = s ? strnlen(s, COLLAB_IDENT_MAX + 1) : 0;
    return n >= 1 && n <= COLLAB_IDENT_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

static bool jti_ok(const char *s)
{
    size_t n = s ? strnlen(s, WEB_JWT_JTI_MAX + 1) : 0;
    if (n < 1 || n > WEB_JWT_JTI_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f)
            return false;
    return true;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/*  Bounded, then exactly two dots between base64url characters, header and payload not empty. */
static int split(const char *token, parts_t *p)
{
    if (!token)
        return WEB_JWT_E_MALFORMED;
    p->s = token;
    p->len = strnlen(token, WEB_JWT_TOKEN_MAX + 1);
    if (p->len > WEB_JWT_TOKEN_MAX)
        return WEB_JWT_E_TOO_LONG;
    size_t dots = 0;
    for (size_t i = 0; i < p->len; i++) {
        if (token[i] == '.') {
            if (++dots > 2)
                return WEB_JWT_E_MALFORMED;
            *(dots == 1 ? &p->dot1 : &p->dot2) = i;
        } else if (!b64url_char(token[i])) {
            return WEB_JWT_E_MALFORMED;
        }
    }
    if (dots != 2 || p->dot1 == 0 || p->dot2 == p->dot1 + 1)
        return WEB_JWT_E_MALFORMED;
    return 0;
}

/*  Strict base64url (no padding, no stray bits) of [from, to) into out; its length or -1. */
static long b64_decode(const parts_t *p, size_t from, size_t to, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (sodium_base642bin(out, cap, p->s + from, to - from, NULL, &n, NULL, B64URL) != 0)
        return -1;
    return (long)n;
}

/*  The header's "alg", read with our own JSON parser (cJSON), before libjwt sees anything. */
static int header_alg(const parts_t *p, alg_kind_t *alg)
{
    uint8_t buf[DECODED_MAX];
    long n = b64_decode(p, 0, p->dot1, buf, sizeof buf);
    if (n < 0 || b64_decode(p, p->dot1 + 1, p->dot2, buf + n, sizeof buf - (size_t)n) < 0)
        return WEB_JWT_E_MALFORMED; /* the payload is only checked for strict base64url here */
    cJSON *head = cJSON_ParseWithLength((const char *)buf, (size_t)n);
    if (!cJSON_IsObject(head)) {
        cJSON_Delete(head);
        return WEB_JWT_E_MALFORMED;
    }
    const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(head, "alg"));
    *alg = !a                           ? ALG_OTHER
           : strcmp(a, "HS256") == 0    ? ALG_HS256
           : strcasecmp(a, "none") == 0 ? ALG_NONE /* libjwt reads "None" and "NONE" too */
                                        : ALG_OTHER;
    cJSON_Delete(head);
    return 0;
}

/*  HMAC-SHA256 of header.payload under key, compared in constant time with the signature. */
static int signature_ok(const web_jwt_key_t *key, const parts_t *p)
{
    uint8_t got[crypto_auth_hmacsha256_BYTES], want[crypto_auth_hmacsha256_BYTES];
    if (p->len - p->dot2 - 1 != SIG_B64_LEN ||
        b64_decode(p, p->dot2 + 1, p->len, got, sizeof got) != (long)sizeof got)
        return WEB_JWT_E_BAD_SIGNATURE;
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)p->s, p->dot2);
    crypto_auth_hmacsha256_final(&st, want);
    int rc = sodium_memcmp(got, want, sizeof want) == 0 ? 0 : WEB_JWT_E_BAD_SIGNATURE;
    sodium_memzero(&st, sizeof st);
    sodium_memzero(want, sizeof want);
    return rc;
}

/*  An integer claim: 0 and *v, 1 when absent, WEB_JWT_E_BAD_CLAIM when not an integer. The
    claim's JSON as libjwt holds it (jansson's text) is read, since jwt_get_grant_int gives a
    number for a string or a real too. */
static int int_claim(jwt_t *jwt, const char *name, int64_t *v)
{
    char *json = jwt_get_grants_json(jwt, name);
    if (!json)
        return 1;
    long x = 0;
    bool digits = json[json[0] == '-'] >= '0' && json[json[0] == '-'] <= '9';
    int rc =
        digits && collab_parse_long(json, LONG_MIN, LONG_MAX, &x) == 0 ? 0 : WEB_JWT_E_BAD_CLAIM;
    free(json);
    *v = rc == 0 ? x : 0;
    return rc;
}

/*  A string claim of at most cap - 1 bytes that passes ok: 0, 1 when absent, or bad. */
static int str_claim(jwt_t *jwt, const char *name, bool (*ok)(const char *), char *out, size_t cap,
                     int bad)
{
    char *json = jwt_get_grants_json(jwt, name);
    if (!json)
        return 1;
    free(json);
    const char *s = jwt_get_grant(jwt, name);
    if (!s || !ok(s) || strlen(s) >= cap)
        return bad;
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

static int read_claims(jwt_t *jwt, bool strong, int64_t now, web_jwt_claims_t *c)
{
    char *all = jwt_get_grants_json(jwt, NULL);
    bool object = all && all[0] == '{';
    free(all);
    if (!object)
        return WEB_JWT_E_MALFORMED; /* libjwt takes any JSON value as the claims */
    int rc = str_claim(jwt, "sub", web_jwt_agent_id_ok, c->sub, sizeof c->sub, WEB_JWT_E_NO_SUB);
    if (rc)
        return rc > 0 ? WEB_JWT_E_NO_SUB : rc;
    if ((rc = str_claim(jwt, "role", ident_ok, c->role, sizeof c->role, WEB_JWT_E_BAD_CLAIM)) < 0)
        return rc;
    if ((rc = str_claim(jwt, "jti", jti_ok, c->jti, sizeof c->jti, WEB_JWT_E_BAD_CLAIM)) < 0)
        return rc;
    if ((rc = int_claim(jwt, "iat", &c->iat)) < 0)
        return rc;
    rc = int_claim(jwt, "exp", &c->exp);
    if (rc < 0)
        return strong ? WEB_JWT_E_NO_EXP : rc;
    if (rc > 0)
        return strong ? WEB_JWT_E_NO_EXP : 0;
    c->has_exp = true;
    return c->exp <= now ? WEB_JWT_E_EXPIRED : 0;
}

/*  The checks up to libjwt: shape, algorithm, key, signature. */
static int precheck(const web_jwt_key_t *key, bool strong, const parts_t *p, alg_kind_t *alg)
{
    int rc = header_alg(p, alg);
    if (rc)
        return rc;
    if (*alg == ALG_OTHER)
        return WEB_JWT_E_BAD_ALG;
    if (*alg == ALG_NONE)
        return strong ? WEB_JWT_E_ALG_NONE : 0;
    if (!key || key->len == 0 || key->len > sizeof key->bytes ||
        (strong && key->len != WEB_JWT_KEY_LEN))
        return WEB_JWT_E_KEY;
    return signature_ok(key, p);
}

int web_jwt_verify(const web_jwt_key_t *key, bool strong, const char *token, int64_t now,
                   web_jwt_claims_t *claims)
{
    parts_t p;
    alg_kind_t alg = ALG_OTHER;
    memset(claims, 0, sizeof *claims);
    int rc = split(token, &p);
    if (rc == 0)
        rc = precheck(key, strong, &p, &alg);
    if (rc)
        return rc;
    jwt_t *jwt = NULL;
    /* alg none is decoded without a key: libjwt refuses a key for it, and checks nothing */
    int jrc = alg == ALG_NONE ? jwt_decode(&jwt, token, NULL, 0)
                              : jwt_decode(&jwt, token, key->bytes, (int)key->len);
    if (jrc != 0 || !jwt)
        rc = jrc == ENOMEM ? WEB_JWT_E_NOMEM : WEB_JWT_E_MALFORMED;
    else if (jwt_get_alg(jwt) != (alg == ALG_NONE ? JWT_ALG_NONE : JWT_ALG_HS256))
        rc = WEB_JWT_E_BAD_ALG;
    else
        rc = read_claims(jwt, strong, now, claims);
    jwt_free(jwt);
    if (rc == 0)
        claims->unsigned_token = alg == ALG_NONE;
    else
        memset(claims, 0, sizeof *claims);
    return rc;
}

int web_jwt_issue(const web_jwt_key_t *key, const char *sub, const char *role, int64_t now,
                  uint32_t ttl_s, char *out, size_t out_len)
{
    uint8_t rnd[16];
    char jti[2 * sizeof rnd + 1];
    if (out && out_len)
        out[0] = '\0';
    if (!key || key->len == 0 || key->len > sizeof key->bytes)
        return WEB_JWT_E_KEY;
    if (!web_jwt_agent_id_ok(sub))
        return WEB_JWT_E_NO_SUB;
    if (!ident_ok(role) || ttl_s == 0 || ttl_s > MAX_TTL_S)
        return WEB_JWT_E_BAD_CLAIM;
    if (!out || out_len == 0)
        return WEB_JWT_E_TOO_LONG;
    if (sodium_init() < 0)
        return WEB_JWT_E_NOMEM;
    randombytes_buf(rnd, sizeof rnd);
    collab_hex_encode(rnd, sizeof rnd, jti, sizeof jti);
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return WEB_JWT_E_NOMEM;
    int rc = WEB_JWT_E_NOMEM;
    char *s = NULL;
    if (jwt_add_grant(jwt, "sub", sub) == 0 && jwt_add_grant(jwt, "role", role) == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now + ttl_s)) == 0 &&
        jwt_add_grant(jwt, "jti", jti) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, key->bytes, (int)key->len) == 0)
        s = jwt_encode_str(jwt);
    if (s) {
        size_t n = strlen(s);
        rc = n < out_len && n <= WEB_JWT_TOKEN_MAX ? 0 : WEB_JWT_E_TOO_LONG;
        if (rc == 0)
            memcpy(out, s, n + 1);
        free(s);
    }
    jwt_free(jwt);
    return rc;
}

static const struct {
    int code;
    const char *name, *text;
} errors[] = {
    {0, "ok", "ok"},
    {WEB_JWT_E_MALFORMED, "malformed", "not a JWT: header.payload.signature of base64url JSON"},
    {WEB_JWT_E_TOO_LONG, "too_long", "the token is too long"},
    {WEB_JWT_E_BAD_ALG, "bad_alg", "the token's algorithm is not the one accepted (HS256)"},
    {WEB_JWT_E_ALG_NONE, "alg_none", "an unsigned token (alg none) is not accepted"},
    {WEB_JWT_E_BAD_SIGNATURE, "bad_signature", "the token's signature is not the gateway's"},
    {WEB_JWT_E_EXPIRED, "expired", "the token has expired"},
    {WEB_JWT_E_NO_EXP, "no_exp", "the token has no expiry (exp)"},
    {WEB_JWT_E_NO_SUB, "no_sub", "the token names no agent (sub)"},
    {WEB_JWT_E_BAD_CLAIM, "bad_claim", "a claim of the token is not of its shape"},
    {WEB_JWT_E_KEY, "key", "no usable key for this token"},
    {WEB_JWT_E_NOMEM, "nomem", "out of memory"},
};

const char *web_jwt_strerror(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code)
            return errors[i].text;
    return "unknown web token error";
}

const char *web_jwt_errname(int code)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
        if (errors[i].code == code)
            return errors[i].name;
    return "unknown";
}
