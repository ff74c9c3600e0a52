/*  test_creds.c: the credentials loader (sample files, every refused shape naming its
    element) and password hashing (bcrypt, argon2id, the dummy hash).
    Usage: test_creds PATH/TO/sample_data */
#include "creds.h"
#include "testutil.h"

#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

static const char *sample_dir;
static char tmpdir[] = "/tmp/test_creds.XXXXXX";

#define HASH4 "$2b$04$abcdefghijklmnopqrstuOabcdefghijklmnopqrstuvwxyz01234"
#define KEY   "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define ENTRY(id, role)                                                                            \
    "{\"agent_id\":\"" id "\",\"role\":\"" role "\",\"password_hash\":\"" HASH4                    \
    "\",\"hmac_key\":\"" KEY "\"}"

typedef struct {
    const char *agent, *role, *password;
} demo_t;

static const demo_t demo[] = {
    {"admin", "admin", "admin123"},       {"coordinator1", "coordinator", "coord123"},
    {"worker1", "worker", "worker123"},   {"worker2", "worker", "worker234"},
    {"worker3", "worker", "worker345"},   {"viewer1", "observer", "viewer123"},
    {"worker4", "worker", "worker456"},   {"worker5", "worker", "worker567"},
    {"worker6", "worker", "worker678"},   {"worker7", "worker", "worker789"},
    {"worker8", "worker", "worker890"},   {"coordinator2", "coordinator", "coord234"},
    {"viewer2", "observer", "viewer234"},
};

static const char *tmp_path(const char *name)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static const char *write_file(const char *name, const char *data, size_t len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (CHECK(f != NULL)) {
        CHECK(fwrite(data, 1, len, f) == len);
        fclose(f);
    }
    return path;
}

static collab_creds_t *load_sample(const char *name, char *err, size_t errlen)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", sample_dir ? sample_dir : ".", name);
    collab_creds_t *c = collab_creds_load(path, err, errlen);
    if (!c)
        fprintf(stderr, "  %s\n", err);
    return c;
}

/*  The file's entries are demo[order[i]] in that order (order NULL: demo's own order). */
static void check_sample(const collab_creds_t *c, size_t count, const size_t *order)
{
    static const uint8_t zero[COLLAB_KEY_LEN];
    CHECK_EQ_U64(collab_creds_count(c), count);
    for (size_t i = 0; i < count && i < collab_creds_count(c); i++) {
        const collab_agent_t *a = collab_creds_at(c, i);
        const demo_t *d = &demo[order ? order[i] : i];
        CHECK_STR(a->id, d->agent);
        CHECK_STR(collab_role_name(a->role), d->role);
        CHECK(memcmp(a->key, zero, sizeof zero) != 0);
        CHECK(!a->registered && a->failures == 0 && a->locked_until == 0);
        if (i > 0)
            CHECK(memcmp(a->key, collab_creds_at(c, i - 1)->key, COLLAB_KEY_LEN) != 0);
    }
    CHECK(collab_creds_at(c, count) == NULL);
}

static void test_sample_files(void)
{
    char err[512];
    collab_creds_t *c = load_sample("valid_credentials.json", err, sizeof err);
    if (CHECK(c != NULL)) {
        /* the learner's agents: the swarm's six, then coordinator2 and viewer2 */
        static const size_t learner[] = {0, 1, 2, 3, 4, 5, 11, 12};
        size_t n = sizeof learner / sizeof learner[0];
        check_sample(c, n, learner);
        for (size_t i = 0; i < n && i < collab_creds_count(c); i++)
            CHECK(strncmp(collab_creds_at(c, i)->pw_hash, "$2b$12$", 7) == 0);
        /* one cost-12 verify only: it takes about a quarter of a second */
        const collab_agent_t *w1 = collab_creds_at(c, 2);
        CHECK_OK(collab_password_verify(w1->pw_hash, "worker123", 9));
    }
    collab_creds_destroy(&c);
    CHECK(c == NULL);
    collab_creds_destroy(&c); /* idempotent */

    c = load_sample("test_credentials.json", err, sizeof err);
    size_t n = sizeof demo / sizeof demo[0];
    if (CHECK(c != NULL)) {
        check_sample(c, n, NULL);
        for (size_t i = 0; i < n && i < collab_creds_count(c); i++) {
            const collab_agent_t *a = collab_creds_at(c, i);
            CHECK(strncmp(a->pw_hash, "$2b$04$", 7) == 0);
            CHECK_OK(
                collab_password_verify(a->pw_hash, demo[i].password, strlen(demo[i].password)));
            CHECK_RC(collab_password_verify(a->pw_hash, "admin1234", 9), COLLAB_E_AUTH_FAILED);
        }
    }
    collab_creds_destroy(&c);
}

typedef struct {
    const char *name;
    const char *json;
    const char *want; /* expected in err after "PATH: " */
} broken_t;

static const broken_t broken[] = {
    {"syntax", "{\"agents\": [\n" ENTRY("a", "admin") ",\n]}", "line 3: not valid JSON"},
    {"trailing", "{\"agents\": [" ENTRY("a", "admin") "]} junk", "not valid JSON"},
    {"array_top", "[" ENTRY("a", "admin") "]", "top level must be an object"},
    {"no_agents", "{\"_comment\": \"x\"}", "agents: missing"},
    {"agents_object", "{\"agents\": {}}", "agents: must be an array"},
    {"agents_empty", "{\"agents\": []}", "agents: 0 entries"},
    {"top_unknown", "{\"agents\": [" ENTRY("a", "admin") "], \"users\": []}",
     "unknown key 'users'"},
    {"top_repeated", "{\"agents\": [" ENTRY("a", "admin") "], \"agents\": []}",
     "repeated key 'agents'"},
    {"not_object", "{\"agents\": [" ENTRY("a", "admin") ", 5]}", "agents[1]: must be an object"},
    {"role",
     "{\"agents\": [" ENTRY("a", "admin") "," ENTRY("b", "worker") "," ENTRY("c", "boss") "]}",
     "agents[2].role: unknown role 'boss'"},
    {"role_type",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":1,\"password_hash\":\"" HASH4
     "\",\"hmac_key\":\"" KEY "\"}]}",
     "agents[0].role: must be a string"},
    {"id_chars", "{\"agents\": [" ENTRY("bad id", "admin") "]}", "agents[0].agent_id: 'bad id'"},
    {"id_empty", "{\"agents\": [" ENTRY("", "admin") "]}", "agents[0].agent_id: ''"},
    {"id_long",
     "{\"agents\": [" ENTRY("a123456789b123456789c123456789d123456789e123456789f123456789g1234",
                            "admin") "]}",
     "agents[0].agent_id:"},
    {"id_escape", "{\"agents\": [" ENTRY("a\\u001b[2J", "admin") "]}",
     "agents[0].agent_id: 'a?[2J'"},
    {"duplicate",
     "{\"agents\": [" ENTRY("x", "admin") "," ENTRY("y", "worker") "," ENTRY("x", "worker") "]}",
     "agents[2].agent_id: 'x' repeats agents[0]"},
    {"plain_password",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":\"admin\",\"password_hash\":\"admin123\","
     "\"hmac_key\":\"" KEY "\"}]}",
     "agents[0].password_hash:"},
    {"bcrypt_short",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":\"admin\",\"password_hash\":\"$2b$04$abc\","
     "\"hmac_key\":\"" KEY "\"}]}",
     "agents[0].password_hash:"},
    {"md5crypt",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":\"admin\",\"password_hash\":\"$1$abc$def\","
     "\"hmac_key\":\"" KEY "\"}]}",
     "agents[0].password_hash:"},
    {"key_short",
     "{\"agents\": [" ENTRY("a", "admin") ",{\"agent_id\":\"b\",\"role\":\"admin\","
                                          "\"password_hash\":\"" HASH4
                                          "\",\"hmac_key\":\"0011\"}]}",
     "agents[1].hmac_key: must be 64 hex digits"},
    {"key_nonhex",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":\"admin\",\"password_hash\":\"" HASH4
     "\",\"hmac_key\":\"zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}]}",
     "agents[0].hmac_key: must be 64 hex digits"},
    {"missing_key",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":\"admin\",\"password_hash\":\"" HASH4 "\"}]}",
     "agents[0].hmac_key: missing"},
    {"unknown_field",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":\"admin\",\"password\":\"admin123\","
     "\"password_hash\":\"" HASH4 "\",\"hmac_key\":\"" KEY "\"}]}",
     "agents[0]: unknown key 'password'"},
    {"repeated_field",
     "{\"agents\": [{\"agent_id\":\"a\",\"role\":\"admin\",\"role\":\"worker\","
     "\"password_hash\":\"" HASH4 "\",\"hmac_key\":\"" KEY "\"}]}",
     "agents[0].role: repeated"},
};

static void test_broken_files(void)
{
    char err[512], want[1024];
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        const broken_t *b = &broken[i];
        const char *path = write_file(b->name, b->json, strlen(b->json));
        err[0] = '\0';
        collab_creds_t *c = collab_creds_load(path, err, sizeof err);
        snprintf(want, sizeof want, "%s: ", path);
        if (c || strncmp(err, want, strlen(want)) != 0 || !strstr(err, b->want))
            tu_fail(__FILE__, __LINE__, "%s: loaded=%d err=\"%s\", want \"%s\"", b->name, c != NULL,
                    err, b->want);
        CHECK(strstr(err, KEY) == NULL); /* never echo a key */
        collab_creds_destroy(&c);
        unlink(path);
    }
}

static void test_limits_and_io(void)
{
    char err[512];
    /* 10001 entries (their content is never reached) */
    size_t n = 10001, len = 0;
    char *big = malloc(16 + n * 3);
    if (!CHECK(big != NULL))
        return;
    len += (size_t)sprintf(big, "{\"agents\":[");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(big + len, "%s{}", i ? "," : "");
    len += (size_t)sprintf(big + len, "]}");
    const char *path = write_file("many", big, len);
    CHECK(collab_creds_load(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "agents: 10001 entries") != NULL);
    unlink(path);
    free(big);

    /* over 8,000,000 bytes (10,000 entries of 800) */
    size_t huge = 8000000 + 1;
    char *pad = malloc(huge);
    if (CHECK(pad != NULL)) {
        memset(pad, ' ', huge);
        path = write_file("huge", pad, huge);
        CHECK(collab_creds_load(path, err, sizeof err) == NULL);
        CHECK(strstr(err, "larger than") != NULL);
        unlink(path);
        free(pad);
    }

    /* a NUL byte inside the text */
    static const char nul[] = "{\"agents\":[" ENTRY("a", "admin") "]}\0{}";
    path = write_file("nul", nul, sizeof nul - 1);
    CHECK(collab_creds_load(path, err, sizeof err) == NULL);
    CHECK(strstr(err, "NUL byte") != NULL);
    unlink(path);

    path = tmp_path("absent.json");
    CHECK(collab_creds_load(path, err, sizeof err) == NULL);
    CHECK(strstr(err, path) == err && strstr(err, "No such file") != NULL);

    /* '_' keys are comments, at the top and inside an entry */
    static const char ok[] =
        "{\"_comment\":\"x\",\"agents\":[{\"_note\":1,\"agent_id\":\"a.b-c_D9\","
        "\"role\":\"observer\",\"password_hash\":\"" HASH4 "\",\"hmac_key\":\"" KEY "\"}]}";
    path = write_file("ok", ok, sizeof ok - 1);
    collab_creds_t *c = collab_creds_load(path, err, sizeof err);
    if (CHECK(c != NULL)) {
        const collab_agent_t *a = collab_creds_at(c, 0);
        CHECK_STR(a->id, "a.b-c_D9");
        CHECK(a->role == COLLAB_ROLE_OBSERVER);
        CHECK_STR(a->pw_hash, HASH4);
        CHECK(a->key[0] == 0x00 && a->key[1] == 0x11 && a->key[31] == 0xff);
    }
    collab_creds_destroy(&c);
    unlink(path);
}

static void check_scheme(const char *scheme, int cost, const char *prefix)
{
    char hash[COLLAB_HASH_MAX], again[COLLAB_HASH_MAX];
    CHECK_OK(collab_password_hash("correct horse", 13, scheme, cost, hash, sizeof hash));
    CHECK(strncmp(hash, prefix, strlen(prefix)) == 0);
    CHECK_OK(collab_password_verify(hash, "correct horse", 13));
    CHECK_RC(collab_password_verify(hash, "correct horsf", 13), COLLAB_E_AUTH_FAILED);
    CHECK_RC(collab_password_verify(hash, "correct hors", 12), COLLAB_E_AUTH_FAILED);
    CHECK_RC(collab_password_verify(hash, "", 0), COLLAB_E_AUTH_FAILED);
    CHECK_RC(collab_password_verify(hash, "correct\0horse", 13), COLLAB_E_AUTH_FAILED);
    /* a fresh salt every time */
    CHECK_OK(collab_password_hash("correct horse", 13, scheme, cost, again, sizeof again));
    CHECK(strcmp(hash, again) != 0);
    CHECK_OK(collab_password_verify(again, "correct horse", 13));
}

static void test_hashing(void)
{
    char hash[COLLAB_HASH_MAX];
    check_scheme("bcrypt", 4, "$2b$04$");
    check_scheme("argon2id", 0, "$argon2id$");

    /* the hash the loader accepts is what the hasher makes */
    CHECK_OK(collab_password_hash("pw", 2, "bcrypt", 4, hash, sizeof hash));
    CHECK_EQ_U64(strlen(hash), 60);

    CHECK_RC(collab_password_hash("pw", 2, "bcrypt", 3, hash, sizeof hash), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_password_hash("pw", 2, "bcrypt", 32, hash, sizeof hash), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_password_hash("pw", 2, "md5", 4, hash, sizeof hash), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_password_hash("pw", 2, "argon2id", -1, hash, sizeof hash),
             COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_password_hash("p\0w", 3, "bcrypt", 4, hash, sizeof hash), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_password_hash("pw", 2, "bcrypt", 4, hash, 60), COLLAB_E_LIMIT);
    char longpw[COLLAB_PASSWORD_MAX + 1];
    memset(longpw, 'a', sizeof longpw);
    CHECK_RC(collab_password_hash(longpw, sizeof longpw, "bcrypt", 4, hash, sizeof hash),
             COLLAB_E_TOO_LARGE);

    CHECK_RC(collab_password_verify("$1$abc$def", "pw", 2), COLLAB_E_INTERNAL);
    CHECK_RC(collab_password_verify("admin123", "admin123", 8), COLLAB_E_INTERNAL);
    CHECK_RC(collab_password_verify("$2b$04$tooshort", "pw", 2), COLLAB_E_INTERNAL);
}

static void test_dummy_hash(void)
{
    const char *d = collab_password_dummy_hash();
    CHECK(d != NULL && strncmp(d, "$2b$12$", 7) == 0 && strlen(d) == 60);
    CHECK(collab_password_dummy_hash() == d);
    /* cost 12: two verifies only */
    CHECK_RC(collab_password_verify(d, "admin123", 8), COLLAB_E_AUTH_FAILED);
    CHECK_RC(collab_password_verify(d, "", 0), COLLAB_E_AUTH_FAILED);

    /* a dummy like a real entry: its scheme, cost and salt, a digest nothing matches */
    char h[COLLAB_HASH_MAX], like[COLLAB_HASH_MAX];
    static const char *const schemes[] = {"bcrypt", "argon2id"};
    for (int i = 0; i < 2; i++) {
        CHECK_OK(collab_password_hash("pw", 2, schemes[i], i == 0 ? 4 : 0, h, sizeof h));
        collab_password_dummy_like(h, like, sizeof like);
        size_t setting = (size_t)(strrchr(h, '$') - h);
        if (i == 0)
            setting = 29; /* $2b$04$ and 22 characters of salt */
        CHECK(strlen(like) == strlen(h) && strncmp(like, h, setting) == 0 && strcmp(like, h) != 0);
        CHECK_RC(collab_password_verify(like, "pw", 2), COLLAB_E_AUTH_FAILED);
    }
    collab_password_dummy_like(NULL, like, sizeof like);
    CHECK_STR(like, d);
    collab_password_dummy_like("$1$not$ours", like, sizeof like);
    CHECK_STR(like, d);
}

int main(int argc, char **argv)
{
    sample_dir = argc > 1 ? argv[1] : NULL;
    if (sodium_init() < 0 || !mkdtemp(tmpdir)) {
        perror("setup");
        return 1;
    }
    TU_RUN(test_sample_files);
    TU_RUN(test_broken_files);
    TU_RUN(test_limits_and_io);
    TU_RUN(test_hashing);
    TU_RUN(test_dummy_hash);
    rmdir(tmpdir);
    return tu_exit("test_creds");
}
