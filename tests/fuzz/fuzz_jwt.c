/*  fuzz_jwt.c: libFuzzer target for the gateway's web tokens (web/jwt_check.c, control 21):
    the same bytes, as a NUL-terminated token, go through web_jwt_verify under strong (a fixed
    256-bit key: bytes 0..31) and weak (the secret "letmein") rules, and through the cracker
    with a three-word list. The corpus (corpus_jwt/) holds tokens signed with these keys, so
    mutations reach the claims. A broken promise aborts:
    - a code is 0 or one of the WEB_JWT_E_* codes, and the claims are zeroed on refusal;
    - an accepted token names an agent id; under strong it is HS256 and unexpired;
    - strong never accepts what weak refuses for its algorithm;
    - the cracker finds only a word of its list, and only for a token it can check. */
#include "jwt_check.h"
#include "jwt_crack.h"

#include <stdlib.h>
#include <string.h>

#define NOW 1800000000LL

static void require(bool ok)
{
    if (!ok)
        abort();
}

static bool known(int rc)
{
    return rc == 0 || (rc <= WEB_JWT_E_MALFORMED && rc >= WEB_JWT_E_NOMEM);
}

static bool zeroed(const web_jwt_claims_t *c)
{
    static const web_jwt_claims_t zero;
    return memcmp(c, &zero, sizeof zero) == 0;
}

static int check(const web_jwt_key_t *key, bool strong, const char *token)
{
    web_jwt_claims_t c;
    memset(&c, 0x5a, sizeof c);
    int rc = web_jwt_verify(key, strong, token, NOW, &c);
    require(known(rc) && rc != WEB_JWT_E_NOMEM && rc != WEB_JWT_E_KEY);
    if (rc) {
        require(zeroed(&c));
        return rc;
    }
    require(web_jwt_agent_id_ok(c.sub) && strlen(token) <= WEB_JWT_TOKEN_MAX);
    require(memchr(c.role, '\0', sizeof c.role) && memchr(c.jti, '\0', sizeof c.jti));
    if (strong)
        require(c.has_exp && c.exp > NOW && !c.unsigned_token);
    else
        require(!c.has_exp || c.exp > NOW);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static web_jwt_key_t strong, weak;
    if (strong.len == 0) {
        for (size_t i = 0; i < WEB_JWT_KEY_LEN; i++)
            strong.bytes[i] = (uint8_t)i;
        strong.len = WEB_JWT_KEY_LEN;
        require(web_jwt_key_weak(&weak, "letmein") == 0);
    }
    char *token = malloc(size + 1);
    require(token != NULL);
    memcpy(token, data, size);
    token[size] = '\0';
    int s = check(&strong, true, token);
    int w = check(&weak, false, token);
    if (w == WEB_JWT_E_BAD_ALG || w == WEB_JWT_E_TOO_LONG)
        require(s == w);

    static const char words[] = "123456\nletmein\r\n\nadmin";
    char secret[WEB_JWT_SECRET_MAX + 1];
    size_t tried = 0;
    int rc = web_jwt_crack(token, words, sizeof words - 1, secret, sizeof secret, &tried);
    require(rc == 0 || rc == WEB_JWT_E_NOT_CRACKED || rc == WEB_JWT_E_MALFORMED ||
            rc == WEB_JWT_E_BAD_ALG);
    require(tried <= 3);
    if (rc == 0)
        require(strcmp(secret, "123456") == 0 || strcmp(secret, "letmein") == 0 ||
                strcmp(secret, "admin") == 0);
    else
        require(secret[0] == '\0');
    free(token);
    return 0;
}
