/*  test_jwt_check.c: the web token check (web/jwt_check.c, control 21) and the jwt-forge
    cracker (web/jwt_crack.c). Tokens the gateway would never issue (alg none, HS512, no exp,
    a repeated alg, tampered parts) are crafted here with libsodium and base64url by hand, so
    the checks are tested against the attacks and not only against libjwt's own output.
    argv[1]: sample_data/wordlist.txt; argv[2]: collab-keygen (its --web-token-key). */
#include "collab_spawn.h"
#include "jwt_check.h"
#include "jwt_crack.h"
#include "testutil.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW      1800000000LL
#define TTL      900
#define TOKEN_SZ (WEB_JWT_TOKEN_MAX + 1)

static web_jwt_key_t strong, other, weak;
static const char *wordlist_path, *keygen_path;
static char tmpdir[] = "/tmp/test_jwt_check.XXXXXX";

#define CHECK_JWT(expr, want)                                                                      \
    do {                                                                                           \
        int r_ = (expr), w_ = (want);                                                              \
        if (!CHECK(r_ == w_))                                                                      \
            fprintf(stderr, "   %s: got %s (%d), want %s (%d)\n", #expr, web_jwt_errname(r_), r_,  \
                    web_jwt_errname(w_), w_);                                                      \
    } while (0)

static void b64(const char *in, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, (const unsigned char *)in, n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/*  header.payload.signature from two JSON texts; sig_bits 256 or 512 (HMAC-SHA2 under key),
    or 0 for an empty signature. */
static void craft(const char *head, const char *body, const web_jwt_key_t *key, int sig_bits,
                  char *out)
{
    char h[1024], b[2048];
    b64(head, strlen(head), h, sizeof h);
    b64(body, strlen(body), b, sizeof b);
    snprintf(out, TOKEN_SZ, "%s.%s.", h, b);
    size_t signed_len = strlen(out) - 1;
    unsigned char mac[64];
    size_t mlen = 0;
    if (sig_bits == 256) {
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, signed_len);
        crypto_auth_hmacsha256_final(&st, mac);
        mlen = 32;
    } else if (sig_bits == 512) {
        crypto_auth_hmacsha512_state st;
        crypto_auth_hmacsha512_init(&st, key->bytes, key->len);
        crypto_auth_hmacsha512_update(&st, (const unsigned char *)out, signed_len);
        crypto_auth_hmacsha512_final(&st, mac);
        mlen = 64;
    }
    if (mlen)
        sodium_bin2base64(out + strlen(out), TOKEN_SZ - strlen(out), mac, mlen,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static const char *HS256 = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
static const char *BODY = "{\"sub\":\"worker1\",\"role\":\"worker\",\"exp\":1800000900}";

/*  Writes text to a file of the temporary folder with mode; returns its path (static). */
static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    if (fd < 0)
        return path;
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK(fchmod(fd, mode) == 0);
    close(fd);
    return path;
}

static void test_key_file(void)
{
    char err[300];
    const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    const char *p = write_file("open.key", hex, 0644);
    web_jwt_key_t k;
    CHECK_RC(web_jwt_key_load(&k, p, err, sizeof err), COLLAB_E_IO);
    CHECK(strstr(err, "0644") && strstr(err, "owner-only") && strstr(err, p));
    CHECK(k.len == 0);
    p = write_file("group.key", hex, 0640);
    CHECK_RC(web_jwt_key_load(&k, p, err, sizeof err), COLLAB_E_IO);
    p = write_file("good.key", hex, 0600);
    CHECK_OK(web_jwt_key_load(&k, p, err, sizeof err));
    CHECK(k.len == WEB_JWT_KEY_LEN && !k.weak && k.bytes[0] == 0 && k.bytes[31] == 0x1f);
    web_jwt_key_clear(&k);
    CHECK(k.len == 0 && k.bytes[31] == 0);
    p = write_file("short.key", "000102\n", 0600);
    CHECK_RC(web_jwt_key_load(&k, p, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(!strstr(err, "000102"));
    p = write_file("junk.key",
                   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00\n", 0600);
    CHECK_RC(web_jwt_key_load(&k, p, err, sizeof err), COLLAB_E_BAD_REQUEST);
    p = write_file("nothex.key",
                   "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 0600);
    CHECK_RC(web_jwt_key_load(&k, p, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_RC(web_jwt_key_load(&k, "/nonexistent/web.key", err, sizeof err), COLLAB_E_NOT_FOUND);
    CHECK_RC(web_jwt_key_load(&k, tmpdir, err, sizeof err), COLLAB_E_IO);
    CHECK_RC(web_jwt_key_weak(&k, ""), COLLAB_E_BAD_REQUEST);
    CHECK_OK(web_jwt_key_weak(&k, "letmein"));
    CHECK(k.len == 7 && k.weak);
}

/*  collab-keygen --web-token-key FILE: exit status (10 s at most), output to /dev/null. */
static int run_keygen(const char *path, bool force)
{
    const char *argv[] = {keygen_path, force ? "--force" : "--web-token-key",
                          force ? "--web-token-key" : path, force ? path : NULL, NULL};
    collab_spawn_opts_t o = {.out = COLLAB_SPAWN_NULL, .err = COLLAB_SPAWN_NULL};
    collab_proc_t proc;
    if (!CHECK(collab_spawn(&proc, argv, &o) == 0))
        return -1;
    CHECK(collab_spawn_wait(&proc, 10000) == 0);
    return collab_spawn_code(&proc);
}

static void test_keygen(void)
{
    char path[256], err[300], tok[TOKEN_SZ];
    snprintf(path, sizeof path, "%s/keygen.key", tmpdir);
    CHECK_EQ_INT(run_keygen(path, false), 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 65);
    web_jwt_key_t k, k2;
    web_jwt_claims_t c;
    CHECK_OK(web_jwt_key_load(&k, path, err, sizeof err));
    CHECK_JWT(web_jwt_issue(&k, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_verify(&k, true, tok, NOW, &c), 0);
    /* kept unless --force; --force makes a new one, owner-only again */
    CHECK(run_keygen(path, false) != 0);
    CHECK_OK(web_jwt_key_load(&k2, path, err, sizeof err));
    CHECK(memcmp(k.bytes, k2.bytes, WEB_JWT_KEY_LEN) == 0);
    CHECK(chmod(path, 0644) == 0);
    CHECK_EQ_INT(run_keygen(path, true), 0);
    CHECK_OK(web_jwt_key_load(&k2, path, err, sizeof err));
    CHECK(memcmp(k.bytes, k2.bytes, WEB_JWT_KEY_LEN) != 0);
    CHECK_JWT(web_jwt_verify(&k2, true, tok, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    web_jwt_key_clear(&k);
    web_jwt_key_clear(&k2);
    unlink(path);
}

static void test_round_trip(void)
{
    char tok[TOKEN_SZ];
    web_jwt_claims_t c;
    CHECK_JWT(web_jwt_issue(&strong, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), 0);
    CHECK_STR(c.sub, "worker1");
    CHECK_STR(c.role, "worker");
    CHECK(c.has_exp && c.exp == NOW + TTL && c.iat == NOW && strlen(c.jti) == 32);
    CHECK(!c.unsigned_token);
    char tok2[TOKEN_SZ];
    web_jwt_claims_t c2;
    CHECK_JWT(web_jwt_issue(&strong, "worker1", "worker", NOW, TTL, tok2, sizeof tok2), 0);
    CHECK_JWT(web_jwt_verify(&strong, true, tok2, NOW, &c2), 0);
    CHECK(strcmp(c.jti, c2.jti) != 0);
    /* weak: signed with the word */
    CHECK_JWT(web_jwt_issue(&weak, "coord1", "coordinator", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), 0);
    CHECK_STR(c.sub, "coord1");
    /* what issue refuses */
    CHECK_JWT(web_jwt_issue(&strong, "", "worker", NOW, TTL, tok, sizeof tok), WEB_JWT_E_NO_SUB);
    CHECK_JWT(web_jwt_issue(&strong, "a/b", "worker", NOW, TTL, tok, sizeof tok), WEB_JWT_E_NO_SUB);
    CHECK_JWT(web_jwt_issue(&strong, "w", "Admin", NOW, TTL, tok, sizeof tok), WEB_JWT_E_BAD_CLAIM);
    CHECK_JWT(web_jwt_issue(&strong, "w", "worker", NOW, 0, tok, sizeof tok), WEB_JWT_E_BAD_CLAIM);
    CHECK_JWT(web_jwt_issue(&strong, "w", "worker", NOW, TTL, tok, 20), WEB_JWT_E_TOO_LONG);
    CHECK(tok[0] == '\0');
}

static void test_expiry(void)
{
    char tok[TOKEN_SZ];
    web_jwt_claims_t c;
    CHECK_JWT(web_jwt_issue(&strong, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW + TTL - 1, &c), 0);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW + TTL, &c), WEB_JWT_E_EXPIRED);
    CHECK(c.sub[0] == '\0');
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW + 100000, &c), WEB_JWT_E_EXPIRED);
    CHECK_JWT(web_jwt_issue(&weak, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW + TTL, &c), WEB_JWT_E_EXPIRED);
    /* no exp: strong refuses, weak takes it */
    const char *noexp = "{\"sub\":\"worker1\",\"role\":\"worker\"}";
    craft(HS256, noexp, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_NO_EXP);
    craft(HS256, noexp, &weak, 256, tok);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), 0);
    CHECK(!c.has_exp && strcmp(c.sub, "worker1") == 0);
    /* exp not an integer */
    const char *strexp = "{\"sub\":\"worker1\",\"exp\":\"1800000900\"}";
    craft(HS256, strexp, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_NO_EXP);
    craft(HS256, strexp, &weak, 256, tok);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), WEB_JWT_E_BAD_CLAIM);
    craft(HS256, "{\"sub\":\"worker1\",\"exp\":1800000900.5}", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_NO_EXP);
}

static void test_alg_none(void)
{
    char tok[TOKEN_SZ];
    web_jwt_claims_t c;
    const char *heads[] = {"{\"alg\":\"none\"}", "{\"alg\":\"None\",\"typ\":\"JWT\"}",
                           "{\"alg\":\"NONE\"}"};
    for (size_t i = 0; i < 3; i++) {
        craft(heads[i], BODY, NULL, 0, tok);
        CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_ALG_NONE);
        CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), 0);
        CHECK(c.unsigned_token && strcmp(c.sub, "worker1") == 0);
    }
    /* a none token with a signature left on: still unsigned, still refused by strong */
    craft("{\"alg\":\"none\"}", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_ALG_NONE);
    /* a repeated alg: cJSON reads the first, libjwt (jansson) the last; neither way passes */
    craft("{\"alg\":\"HS256\",\"alg\":\"none\"}", BODY, &strong, 256, tok);
    CHECK(web_jwt_verify(&strong, true, tok, NOW, &c) < 0);
    craft("{\"alg\":\"HS256\",\"alg\":\"none\"}", BODY, &weak, 256, tok);
    CHECK(web_jwt_verify(&weak, false, tok, NOW, &c) < 0);
    craft("{\"alg\":\"none\",\"alg\":\"HS256\"}", BODY, NULL, 0, tok);
    CHECK(web_jwt_verify(&strong, true, tok, NOW, &c) < 0);
    /* ours says none, jansson's last says HS256: decoded without a key, libjwt checks no HMAC
       and reports none as well, so weak takes it unsigned, as any none token */
    craft("{\"alg\":\"none\",\"alg\":\"HS256\"}", BODY, &(web_jwt_key_t){.len = 0}, 256, tok);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), 0);
    CHECK(c.unsigned_token);
    /* no alg at all, or not a string */
    craft("{\"typ\":\"JWT\"}", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_ALG);
    craft("{\"alg\":256}", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_ALG);
}

static void test_other_algs(void)
{
    char tok[TOKEN_SZ];
    web_jwt_claims_t c;
    craft("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", BODY, &strong, 512, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_ALG);
    craft("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", BODY, &weak, 512, tok);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), WEB_JWT_E_BAD_ALG);
    craft("{\"alg\":\"HS384\"}", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_ALG);
    craft("{\"alg\":\"RS256\"}", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_ALG);
    craft("{\"alg\":\"hs256\"}", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_ALG);
    /* the crafted HS256 is accepted: the refusals above are for the algorithm alone */
    craft(HS256, BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), 0);
    /* strong needs the 256-bit key */
    CHECK_JWT(web_jwt_verify(&weak, true, tok, NOW, &c), WEB_JWT_E_KEY);
    CHECK_JWT(web_jwt_verify(NULL, false, tok, NOW, &c), WEB_JWT_E_KEY);
}

static void test_signature(void)
{
    char tok[TOKEN_SZ], evil[TOKEN_SZ];
    web_jwt_claims_t c;
    CHECK_JWT(web_jwt_issue(&strong, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_verify(&other, true, tok, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    /* the payload of another token under this one's signature */
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    char b[1024];
    const char *admin = "{\"sub\":\"admin1\",\"role\":\"admin\",\"exp\":1800000900}";
    b64(admin, strlen(admin), b, sizeof b);
    snprintf(evil, sizeof evil, "%.*s.%s%s", (int)(d1 - tok), tok, b, d2);
    CHECK_JWT(web_jwt_verify(&strong, true, evil, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    /* one signature character changed, the signature cut, the signature removed */
    strcpy(evil, tok);
    size_t n = strlen(evil);
    evil[n - 5] = evil[n - 5] == 'A' ? 'B' : 'A';
    CHECK_JWT(web_jwt_verify(&strong, true, evil, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    strcpy(evil, tok);
    evil[n - 1] = '\0';
    CHECK_JWT(web_jwt_verify(&strong, true, evil, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    strcpy(evil, tok);
    evil[d2 - tok + 1] = '\0';
    CHECK_JWT(web_jwt_verify(&strong, true, evil, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    /* the last character's unused low bits set: the same bytes, another text */
    strcpy(evil, tok);
    const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t v = (size_t)(strchr(alpha, evil[n - 1]) - alpha);
    evil[n - 1] = alpha[v ^ 1];
    CHECK_JWT(web_jwt_verify(&strong, true, evil, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
}

static void test_claims(void)
{
    char tok[TOKEN_SZ];
    web_jwt_claims_t c;
    craft(HS256, "{\"role\":\"admin\",\"exp\":1800000900}", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_NO_SUB);
    craft(HS256, "{\"sub\":\"\",\"exp\":1800000900}", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_NO_SUB);
    craft(HS256, "{\"sub\":7,\"exp\":1800000900}", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_NO_SUB);
    char body[256];
    snprintf(body, sizeof body, "{\"sub\":\"%065d\",\"exp\":1800000900}", 0);
    craft(HS256, body, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_NO_SUB);
    snprintf(body, sizeof body, "{\"sub\":\"%064d\",\"exp\":1800000900}", 0);
    craft(HS256, body, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), 0);
    CHECK(strlen(c.sub) == 64);
    craft(HS256, "{\"sub\":\"w\",\"role\":\"ADMIN\",\"exp\":1800000900}", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_CLAIM);
    craft(HS256, "{\"sub\":\"w\",\"iat\":\"x\",\"exp\":1800000900}", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_BAD_CLAIM);
    craft(HS256, "{\"sub\":\"w\",\"exp\":1800000900}", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), 0);
    CHECK(c.role[0] == '\0' && c.jti[0] == '\0' && c.iat == 0);
}

static void test_malformed(void)
{
    web_jwt_claims_t c;
    char tok[TOKEN_SZ];
    const char *bad[] = {"",     "abc",       "a.b",       "a.b.c.d",   "..",     ".b.c",
                         "a..c", "e30!.e30.", "e30.e30=.", "e30 .e30.", "e3.e30."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_JWT(web_jwt_verify(&strong, true, bad[i], NOW, &c), WEB_JWT_E_MALFORMED);
        CHECK_JWT(web_jwt_verify(&weak, false, bad[i], NOW, &c), WEB_JWT_E_MALFORMED);
    }
    CHECK_JWT(web_jwt_verify(&strong, true, NULL, NOW, &c), WEB_JWT_E_MALFORMED);
    /* a header that is not a JSON object */
    craft("[\"alg\",\"HS256\"]", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_MALFORMED);
    craft("{\"alg\":\"HS256\"", BODY, &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_MALFORMED);
    /* a payload that is not JSON, correctly signed: libjwt refuses it */
    craft(HS256, "not json", &strong, 256, tok);
    CHECK_JWT(web_jwt_verify(&strong, true, tok, NOW, &c), WEB_JWT_E_MALFORMED);
    craft("{\"alg\":\"none\"}", "[1,2]", NULL, 0, tok);
    CHECK_JWT(web_jwt_verify(&weak, false, tok, NOW, &c), WEB_JWT_E_MALFORMED);
    /* huge: refused before any parsing, whatever it holds */
    char *huge = malloc(WEB_JWT_TOKEN_MAX + 100);
    CHECK(huge != NULL);
    if (!huge)
        return;
    memset(huge, 'A', WEB_JWT_TOKEN_MAX + 99);
    huge[WEB_JWT_TOKEN_MAX + 99] = '\0';
    CHECK_JWT(web_jwt_verify(&strong, true, huge, NOW, &c), WEB_JWT_E_TOO_LONG);
    huge[WEB_JWT_TOKEN_MAX + 1] = '\0';
    CHECK_JWT(web_jwt_verify(&weak, false, huge, NOW, &c), WEB_JWT_E_TOO_LONG);
    huge[WEB_JWT_TOKEN_MAX] = '\0'; /* exactly the limit: looked at, malformed */
    CHECK_JWT(web_jwt_verify(&weak, false, huge, NOW, &c), WEB_JWT_E_MALFORMED);
    free(huge);
    CHECK_STR(web_jwt_errname(WEB_JWT_E_ALG_NONE), "alg_none");
    CHECK(strstr(web_jwt_strerror(WEB_JWT_E_EXPIRED), "expired") != NULL);
}

static char *read_words(size_t *len)
{
    FILE *fp = fopen(wordlist_path, "rb");
    CHECK(fp != NULL);
    if (!fp)
        return NULL;
    static char buf[65536];
    *len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    return buf;
}

static void test_crack_and_forge(void)
{
    size_t wlen = 0, tried = 0;
    const char *words = read_words(&wlen);
    if (!words)
        return;
    char tok[TOKEN_SZ], secret[WEB_JWT_SECRET_MAX + 1], forged[TOKEN_SZ];
    web_jwt_claims_t c;
    /* the worker's own weak token gives the secret away */
    CHECK_JWT(web_jwt_issue(&weak, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_crack(tok, words, wlen, secret, sizeof secret, &tried), 0);
    CHECK_STR(secret, "letmein");
    CHECK(tried == 5); /* the fifth line of sample_data/wordlist.txt */
    /* a strong token does not: every word tried, none signs it */
    CHECK_JWT(web_jwt_issue(&strong, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_crack(tok, words, wlen, secret, sizeof secret, &tried),
              WEB_JWT_E_NOT_CRACKED);
    CHECK(tried == 8 && secret[0] == '\0');
    CHECK_JWT(web_jwt_crack("e30.e30.", words, wlen, secret, sizeof secret, &tried),
              WEB_JWT_E_BAD_ALG);
    CHECK_JWT(web_jwt_crack("nonsense", words, wlen, secret, sizeof secret, &tried),
              WEB_JWT_E_MALFORMED);
    CHECK_JWT(web_jwt_crack(tok, words, wlen, secret, 8, &tried), WEB_JWT_E_TOO_LONG);
    /* CRLF lines and an empty line are read as words too */
    const char *crlf = "\r\nfoo\r\nletmein\r\n";
    CHECK_JWT(web_jwt_issue(&weak, "worker1", "worker", NOW, TTL, tok, sizeof tok), 0);
    CHECK_JWT(web_jwt_crack(tok, crlf, strlen(crlf), secret, sizeof secret, &tried), 0);
    CHECK_STR(secret, "letmein");
    CHECK(tried == 2);

    /* forged with the cracked secret: an admin under weak, nothing under strong */
    CHECK_JWT(web_jwt_forge("letmein", "admin1", NOW, forged, sizeof forged), 0);
    CHECK_JWT(web_jwt_verify(&weak, false, forged, NOW, &c), 0);
    CHECK(strcmp(c.sub, "admin1") == 0 && strcmp(c.role, "admin") == 0 && !c.unsigned_token);
    CHECK_JWT(web_jwt_verify(&strong, true, forged, NOW, &c), WEB_JWT_E_BAD_SIGNATURE);
    /* forged unsigned */
    CHECK_JWT(web_jwt_forge(NULL, "admin1", NOW, forged, sizeof forged), 0);
    CHECK(forged[strlen(forged) - 1] == '.');
    CHECK_JWT(web_jwt_verify(&weak, false, forged, NOW, &c), 0);
    CHECK(strcmp(c.sub, "admin1") == 0 && strcmp(c.role, "admin") == 0 && c.unsigned_token);
    CHECK_JWT(web_jwt_verify(&strong, true, forged, NOW, &c), WEB_JWT_E_ALG_NONE);
    CHECK_JWT(web_jwt_forge(NULL, "../x", NOW, forged, sizeof forged), WEB_JWT_E_NO_SUB);
    CHECK_JWT(web_jwt_forge("", "admin1", NOW, forged, sizeof forged), WEB_JWT_E_KEY);
}

int main(int argc, char **argv)
{
    if (argc != 3 || sodium_init() < 0 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "usage: test_jwt_check WORDLIST COLLAB-KEYGEN (and a /tmp folder)\n");
        return 2;
    }
    wordlist_path = argv[1];
    keygen_path = argv[2];
    strong.len = other.len = WEB_JWT_KEY_LEN;
    randombytes_buf(strong.bytes, WEB_JWT_KEY_LEN);
    randombytes_buf(other.bytes, WEB_JWT_KEY_LEN);
    web_jwt_key_weak(&weak, "letmein");

    TU_RUN(test_key_file);
    TU_RUN(test_keygen);
    TU_RUN(test_round_trip);
    TU_RUN(test_expiry);
    TU_RUN(test_alg_none);
    TU_RUN(test_other_algs);
    TU_RUN(test_signature);
    TU_RUN(test_claims);
    TU_RUN(test_malformed);
    TU_RUN(test_crack_and_forge);

    const char *names[] = {"open.key",  "group.key", "good.key",
                           "short.key", "junk.key",  "nothex.key"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    CHECK(rmdir(tmpdir) == 0);
    web_jwt_key_clear(&strong);
    web_jwt_key_clear(&other);
    web_jwt_key_clear(&weak);
    return tu_exit("test_jwt_check");
}
