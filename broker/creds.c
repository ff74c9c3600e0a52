/*  creds.c: the credentials file and password hashing (see creds.h). The loader trusts
    nothing in the file: every field is checked and every error names its element. */
#include "creds.h"

#include "collab_error.h"
#include "collab_hex.h"

#include <cJSON.h>
#include <crypt.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CREDS_AGENTS_MAX 10000
/*  Room for CREDS_AGENTS_MAX entries of the longest fields (id 64, hash 128, key 64 bytes,
    their names and some indentation): at 1 MiB, 10,000 entries as collab-passwd writes
    them (about 200 bytes each) did not fit, so the agent limit could not be reached. */
#define CREDS_ENTRY_MAX 800
#define CREDS_FILE_MAX  (CREDS_AGENTS_MAX * CREDS_ENTRY_MAX)
#define BCRYPT_LEN      60

struct collab_creds {
    collab_agent_t *agents;
    size_t count;
};

/*  A bcrypt cost-12 hash of 32 random bytes that were thrown away: no password matches. */
static const char dummy_hash[] = "$2b$12$rUAd.6ThtMgxWtmItkv/nu0PloMZN19/q5KTHs2Q7jIpCq944Ix9O";

/*  Error context of one load: the file and the first error seen. */
typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} ctx_t;

static void fail(ctx_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(ctx_t *c, const char *fmt, ...)
{
    if (!c->err || c->errlen == 0)
        return;
    int n = snprintf(c->err, c->errlen, "%s: ", c->path);
    if (n < 0 || (size_t)n >= c->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/*  A value from the file, safe to echo in an error: printable ASCII, at most 40 bytes. */
static const char *shown(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap && i < 40; i++)
        buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    buf[i] = '\0';
    return buf;
}

static bool agent_id_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= COLLAB_MAX_AGENT_ID &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/*  $2b$NN$ then 53 characters of bcrypt's base64; $2a$ and $2y$ are read the same way. */
static bool bcrypt_hash_valid(const char *s)
{
    static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    if (strlen(s) != BCRYPT_LEN || s[0] != '$' || s[1] != '2' || !strchr("aby", s[2]) ||
        s[3] != '$' || s[6] != '$')
        return false;
    if (s[4] < '0' || s[4] > '3' || s[5] < '0' || s[5] > '9')
        return false;
    int cost = (s[4] - '0') * 10 + (s[5] - '0');
    return cost >= 4 && cost <= 31 && strspn(s + 7, b64) == BCRYPT_LEN - 7;
}

static bool argon2id_hash_valid(const char *s)
{
    size_t n = strlen(s);
    if (strncmp(s, "$argon2id$", 10) != 0 || n >= COLLAB_HASH_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

static bool is_bcrypt(const char *h)
{
    return strncmp(h, "$2b$", 4) == 0 || strncmp(h, "$2a$", 4) == 0 || strncmp(h, "$2y$", 4) == 0;
}

static const char *const fields[] = {"agent_id", "role", "password_hash", "hmac_key"};
#define FIELD_COUNT 4

/*  Finds the four fields of agents[i], refusing unknown and repeated keys ('_' ones ignored). */
static int agent_fields(ctx_t *c, size_t i, const cJSON *obj, const cJSON *out[FIELD_COUNT])
{
    char buf[48];
    memset(out, 0, sizeof(const cJSON *) * FIELD_COUNT);
    for (const cJSON *it = obj->child; it; it = it->next) {
        if (it->string[0] == '_')
            continue;
        int f = 0;
        while (f < FIELD_COUNT && strcmp(it->string, fields[f]) != 0)
            f++;
        if (f == FIELD_COUNT)
            fail(c, "agents[%zu]: unknown key '%s'", i, shown(it->string, buf, sizeof buf));
        else if (out[f])
            fail(c, "agents[%zu].%s: repeated", i, fields[f]);
        else if (!cJSON_IsString(it))
            fail(c, "agents[%zu].%s: must be a string", i, fields[f]);
        else {
            out[f] = it;
            continue;
        }
        return -1;
    }
    for (int f = 0; f < FIELD_COUNT; f++)
        if (!out[f]) {
            fail(c, "agents[%zu].%s: missing", i, fields[f]);
            return -1;
        }
    return 0;
}

static int parse_agent(ctx_t *c, size_t i, const cJSON *obj, collab_agent_t *a)
{
    const cJSON *f[FIELD_COUNT];
    char buf[48];
    if (!cJSON_IsObject(obj)) {
        fail(c, "agents[%zu]: must be an object", i);
        return -1;
    }
    if (agent_fields(c, i, obj, f))
        return -1;
    const char *id = f[0]->valuestring, *role = f[1]->valuestring;
    const char *hash = f[2]->valuestring, *key = f[3]->valuestring;
    if (!agent_id_valid(id)) {
        fail(c, "agents[%zu].agent_id: '%s' is not 1..64 of [A-Za-z0-9_.-]", i,
             shown(id, buf, sizeof buf));
        return -1;
    }
    int r = collab_role_lookup(role, strlen(role));
    if (r < 0) {
        fail(c, "agents[%zu].role: unknown role '%s'", i, shown(role, buf, sizeof buf));
        return -1;
    }
    if (is_bcrypt(hash) ? !bcrypt_hash_valid(hash) : !argon2id_hash_valid(hash)) {
        fail(c, "agents[%zu].password_hash: not a bcrypt ($2b$) or $argon2id$ hash", i);
        return -1;
    }
    if (strlen(key) != 2 * COLLAB_KEY_LEN ||
        collab_hex_decode(key, strlen(key), a->key, sizeof a->key) != COLLAB_KEY_LEN) {
        fail(c, "agents[%zu].hmac_key: must be %d hex digits", i, 2 * COLLAB_KEY_LEN);
        return -1;
    }
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->pw_hash, sizeof a->pw_hash, "%s", hash);
    a->role = (collab_role_t)r;
    return 0;
}

static int by_id(const void *x, const void *y)
{
    const collab_agent_t *a = *(const collab_agent_t *const *)x;
    const collab_agent_t *b = *(const collab_agent_t *const *)y;
    int d = strcmp(a->id, b->id);
    return d ? d : (a < b ? -1 : a > b);
}

/*  Agent ids are unique: sort pointers by (id, position) and compare neighbours. */
static int check_unique(ctx_t *c, const collab_creds_t *self)
{
    const collab_agent_t **order = malloc(self->count * sizeof *order);
    if (!order) {
        fail(c, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < self->count; i++)
        order[i] = &self->agents[i];
    qsort(order, self->count, sizeof *order, by_id);
    int rc = 0;
    for (size_t i = 1; i < self->count && rc == 0; i++)
        if (strcmp(order[i - 1]->id, order[i]->id) == 0) {
            fail(c, "agents[%zu].agent_id: '%s' repeats agents[%zu]",
                 (size_t)(order[i] - self->agents), order[i]->id,
                 (size_t)(order[i - 1] - self->agents));
            rc = -1;
        }
    free(order);
    return rc;
}

/*  The top level: {"agents": [...]} plus ignored "_..." keys. Returns the array or NULL. */
static const cJSON *top_agents(ctx_t *c, const cJSON *root)
{
    char buf[48];
    const cJSON *agents = NULL;
    if (!cJSON_IsObject(root)) {
        fail(c, "top level must be an object");
        return NULL;
    }
    for (const cJSON *it = root->child; it; it = it->next) {
        if (it->string[0] == '_')
            continue;
        bool known = strcmp(it->string, "agents") == 0;
        if (!known || agents) {
            fail(c, "%s key '%s'", known ? "repeated" : "unknown",
                 shown(it->string, buf, sizeof buf));
            return NULL;
        }
        agents = it;
    }
    if (!cJSON_IsArray(agents)) {
        fail(c, "%s", agents ? "agents: must be an array" : "agents: missing");
        return NULL;
    }
    int n = cJSON_GetArraySize(agents);
    if (n < 1 || n > CREDS_AGENTS_MAX) {
        fail(c, "agents: %d entries, must be 1..%d", n, CREDS_AGENTS_MAX);
        return NULL;
    }
    return agents;
}

static collab_creds_t *from_json(ctx_t *c, const cJSON *root)
{
    const cJSON *agents = top_agents(c, root);
    if (!agents)
        return NULL;
    collab_creds_t *self = calloc(1, sizeof *self);
    size_t n = (size_t)cJSON_GetArraySize(agents);
    if (self)
        self->agents = calloc(n, sizeof *self->agents);
    if (!self || !self->agents) {
        fail(c, "out of memory");
        collab_creds_destroy(&self);
        return NULL;
    }
    const cJSON *it = agents->child;
    for (size_t i = 0; i < n; i++, it = it->next, self->count++)
        if (parse_agent(c, i, it, &self->agents[i])) {
            collab_creds_destroy(&self);
            return NULL;
        }
    if (check_unique(c, self))
        collab_creds_destroy(&self);
    return self;
}

/*  Reads the whole file (at most CREDS_FILE_MAX bytes) into a NUL-terminated buffer. */
static char *read_file(ctx_t *c, size_t *len)
{
    FILE *f = fopen(c->path, "rbe");
    if (!f) {
        fail(c, "%s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(CREDS_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, CREDS_FILE_MAX + 1, f) : 0;
    int bad = !buf ? ENOMEM : ferror(f) ? EIO : 0;
    fclose(f);
    if (bad || n > CREDS_FILE_MAX) {
        if (bad)
            fail(c, "%s", strerror(bad));
        else
            fail(c, "larger than %d bytes", CREDS_FILE_MAX);
        if (buf)
            sodium_memzero(buf, n);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/*  Overwrites the key strings in the parse tree before it is freed. */
static void wipe_keys(cJSON *root)
{
    const cJSON *agents = cJSON_GetObjectItemCaseSensitive(root, "agents");
    const cJSON *a;
    cJSON_ArrayForEach(a, agents)
    {
        for (const cJSON *it = cJSON_IsObject(a) ? a->child : NULL; it; it = it->next)
            if (cJSON_IsString(it) && it->valuestring)
                sodium_memzero(it->valuestring, strlen(it->valuestring));
    }
}

static unsigned line_of(const char *buf, const char *at)
{
    unsigned line = 1;
    for (const char *p = buf; p < at && *p; p++)
        line += *p == '\n';
    return line;
}

/*  Parses buf, len bytes with a NUL after them, then wipes and frees it. */
static collab_creds_t *parse_owned(ctx_t *c, char *buf, size_t len)
{
    collab_creds_t *self = NULL;
    const char *end = NULL;
    cJSON *root = NULL;
    if (strlen(buf) != len)
        fail(c, "NUL byte at offset %zu", strlen(buf));
    else if (!(root = cJSON_ParseWithOpts(buf, &end, 1)))
        fail(c, "line %u: not valid JSON", line_of(buf, end ? end : buf));
    else
        self = from_json(c, root);
    if (root)
        wipe_keys(root);
    cJSON_Delete(root);
    sodium_memzero(buf, len);
    free(buf);
    return self;
}

collab_creds_t *collab_creds_load(const char *path, char *err, size_t errlen)
{
    ctx_t c = {path, err, errlen};
    if (sodium_init() < 0) {
        fail(&c, "libsodium failed to initialise");
        return NULL;
    }
    size_t len = 0;
    char *buf = read_file(&c, &len);
    return buf ? parse_owned(&c, buf, len) : NULL;
}

collab_creds_t *collab_creds_parse(const char *name, const char *text, size_t len, char *err,
                                   size_t errlen)
{
    ctx_t c = {name, err, errlen};
    if (sodium_init() < 0) {
        fail(&c, "libsodium failed to initialise");
        return NULL;
    }
    if (len > CREDS_FILE_MAX) {
        fail(&c, "larger than %d bytes", CREDS_FILE_MAX);
        return NULL;
    }
    char *buf = malloc(len + 1);
    if (!buf) {
        fail(&c, "out of memory");
        return NULL;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    return parse_owned(&c, buf, len);
}

void collab_creds_destroy(collab_creds_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_creds_t *self = *self_p;
    if (self->agents) {
        sodium_memzero(self->agents, self->count * sizeof *self->agents);
        free(self->agents);
    }
    free(self);
    *self_p = NULL;
}

size_t collab_creds_count(const collab_creds_t *self)
{
    return self ? self->count : 0;
}

const collab_agent_t *collab_creds_at(const collab_creds_t *self, size_t i)
{
    return self && i < self->count ? &self->agents[i] : NULL;
}

/*  A NUL-terminated copy of the password, or NULL when it holds a NUL byte (crypt(3) could
    not see past it) or is too long. Free with password_free. */
static char *password_copy(const char *password, size_t len)
{
    if (len > COLLAB_PASSWORD_MAX || memchr(password, '\0', len))
        return NULL;
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, password, len);
        copy[len] = '\0';
    }
    return copy;
}

static void password_free(char *pw)
{
    sodium_memzero(pw, strlen(pw));
    free(pw);
}

/*  crypt_r into a zeroed heap crypt_data; returns the result copied into out, or -1. */
static int bcrypt_run(const char *pw, const char *setting, char *out, size_t cap)
{
    struct crypt_data *data = calloc(1, sizeof *data);
    if (!data)
        return -1;
    const char *r = crypt_r(pw, setting, data);
    int rc = -1;
    if (r && r[0] == '$' && strlen(r) < cap) {
        memcpy(out, r, strlen(r) + 1);
        rc = 0;
    }
    sodium_memzero(data, sizeof *data);
    free(data);
    return rc;
}

static int bcrypt_verify(const char *hash, const char *pw)
{
    char computed[CRYPT_OUTPUT_SIZE];
    if (bcrypt_run(pw, hash, computed, sizeof computed) != 0)
        return COLLAB_E_INTERNAL;
    size_t n = strlen(hash);
    int ok = strlen(computed) == n && sodium_memcmp(computed, hash, n) == 0;
    sodium_memzero(computed, sizeof computed);
    return ok ? 0 : COLLAB_E_AUTH_FAILED;
}

int collab_password_verify(const char *hash, const char *password, size_t len)
{
    if (sodium_init() < 0)
        return COLLAB_E_INTERNAL;
    if (!hash || strnlen(hash, COLLAB_HASH_MAX) >= COLLAB_HASH_MAX)
        return COLLAB_E_INTERNAL;
    bool bcrypt = is_bcrypt(hash);
    if (!bcrypt && strncmp(hash, "$argon2id$", 10) != 0)
        return COLLAB_E_INTERNAL;
    char *pw = password_copy(password, len);
    if (!pw)
        return COLLAB_E_AUTH_FAILED;
    int rc;
    if (bcrypt)
        rc = bcrypt_verify(hash, pw);
    else
        rc = crypto_pwhash_str_verify(hash, pw, len) == 0 ? 0 : COLLAB_E_AUTH_FAILED;
    password_free(pw);
    return rc;
}

static int bcrypt_hash(const char *pw, int cost, char *out, size_t cap)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, setting, sizeof setting))
        return COLLAB_E_INTERNAL;
    char result[CRYPT_OUTPUT_SIZE];
    if (bcrypt_run(pw, setting, result, sizeof result) != 0)
        return COLLAB_E_INTERNAL;
    int rc = strlen(result) < cap ? 0 : COLLAB_E_LIMIT;
    if (rc == 0)
        memcpy(out, result, strlen(result) + 1);
    return rc;
}

static int argon2id_hash(const char *pw, size_t len, int cost, char *out, size_t cap)
{
    char result[crypto_pwhash_STRBYTES];
    unsigned long long ops = cost ? crypto_pwhash_OPSLIMIT_INTERACTIVE : crypto_pwhash_OPSLIMIT_MIN;
    size_t mem = cost ? crypto_pwhash_MEMLIMIT_INTERACTIVE : crypto_pwhash_MEMLIMIT_MIN;
    if (crypto_pwhash_str_alg(result, pw, len, ops, mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return COLLAB_E_NOMEM;
    int rc = strlen(result) < cap ? 0 : COLLAB_E_LIMIT;
    if (rc == 0)
        memcpy(out, result, strlen(result) + 1);
    return rc;
}

int collab_password_hash(const char *password, size_t len, const char *scheme, int cost, char *out,
                         size_t cap)
{
    if (sodium_init() < 0)
        return COLLAB_E_INTERNAL;
    bool bcrypt = strcmp(scheme, "bcrypt") == 0;
    if (bcrypt ? (cost < 4 || cost > 31) : (strcmp(scheme, "argon2id") != 0 || cost < 0))
        return COLLAB_E_BAD_REQUEST;
    if (len > COLLAB_PASSWORD_MAX)
        return COLLAB_E_TOO_LARGE;
    char *pw = password_copy(password, len);
    if (!pw)
        return COLLAB_E_BAD_REQUEST;
    int rc = bcrypt ? bcrypt_hash(pw, cost, out, cap) : argon2id_hash(pw, len, cost, out, cap);
    password_free(pw);
    return rc;
}

const char *collab_password_dummy_hash(void)
{
    return dummy_hash;
}

void collab_password_dummy_like(const char *like, char *out, size_t cap)
{
    size_t n = like ? strnlen(like, COLLAB_HASH_MAX) : 0;
    bool bcrypt = n == BCRYPT_LEN && is_bcrypt(like) && bcrypt_hash_valid(like);
    bool argon = !bcrypt && n > 10 && n < COLLAB_HASH_MAX && argon2id_hash_valid(like);
    const char *digest = bcrypt ? like + BCRYPT_LEN - 31 : argon ? strrchr(like, '$') + 1 : NULL;
    if (!digest || n >= cap) {
        snprintf(out, cap, "%s", dummy_hash);
        return;
    }
    /* the setting (scheme, cost, salt) decides the work; a digest of zero bits ('.' in
       bcrypt's alphabet, 'A' in base64) is one no password produces in practice */
    memcpy(out, like, n + 1);
    memset(out + (digest - like), bcrypt ? '.' : 'A', n - (size_t)(digest - like));
}
