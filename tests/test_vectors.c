/*  test_vectors.c: checks protocol/test-vectors.json byte for byte. Well-formed vectors:
    payload_decoded packs to the payload bytes, encode(fields) == hex, decode(hex) == fields,
    signed bytes, signature and verification match. Malformed vectors: decode returns exactly
    the named error. Every proper prefix of every vector is refused (but a well-formed frame
    followed by junk has that frame as a prefix).
    Usage: test_vectors path/to/test-vectors.json */
#include "testmsg.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>

/*  Everything one vector needs, decoded from its JSON. */
typedef struct {
    const char *name;
    uint8_t frame[COLLAB_MAX_FRAME];
    size_t frame_len;
    uint8_t map[COLLAB_MAX_PAYLOAD]; /* payload or data */
    uint8_t nonce[64], sig[64];
    collab_envelope_t env;
} vec_t;

static vec_t vec;

static const char *jstr(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

/*  A JSON integer (all vector numbers are below 2^53, so doubles hold them exactly). */
static uint64_t jnum(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!CHECK(cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 9007199254740992.0 &&
               floor(it->valuedouble) == it->valuedouble))
        return 0;
    return (uint64_t)it->valuedouble;
}

static collab_span_t jtext(const cJSON *obj, const char *key)
{
    const char *s = jstr(obj, key);
    CHECK(s != NULL);
    return tm_span(s ? s : "");
}

/*  A hex field into buf; an absent optional field gives the empty span. */
static collab_span_t jhex(const cJSON *obj, const char *key, uint8_t *buf, size_t cap,
                          bool required)
{
    const char *hex = jstr(obj, key);
    if (!hex) {
        CHECK(!required);
        return (collab_span_t){0};
    }
    long n = tm_unhex(hex, buf, cap);
    CHECK(n >= 0);
    return (collab_span_t){(const char *)buf, n > 0 ? (size_t)n : 0};
}

/*  ---- JSON back to MessagePack, independently of the generator's renderer ---- */

static void pack_json(collab_pack_t *p, const cJSON *j)
{
    if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
        uint32_t n = (uint32_t)cJSON_GetArraySize(j);
        if (cJSON_IsObject(j))
            collab_pack_map(p, n);
        else
            collab_pack_array(p, n);
        for (const cJSON *c = j->child; c; c = c->next) {
            if (cJSON_IsObject(j))
                collab_pack_str(p, c->string);
            pack_json(p, c);
        }
    } else if (cJSON_IsString(j)) {
        collab_pack_str(p, j->valuestring);
    } else if (cJSON_IsBool(j)) {
        collab_pack_bool(p, cJSON_IsTrue(j));
    } else if (cJSON_IsNull(j)) {
        collab_pack_nil(p);
    } else if (CHECK(cJSON_IsNumber(j) && floor(j->valuedouble) == j->valuedouble)) {
        if (j->valuedouble < 0)
            collab_pack_int(p, (int64_t)j->valuedouble);
        else
            collab_pack_uint(p, (uint64_t)j->valuedouble);
    }
}

/*  The *_decoded rendering packs to exactly the bytes of the bin. */
static void check_decoded(const cJSON *fields, const char *key, collab_span_t map)
{
    static uint8_t packed[COLLAB_MAX_PAYLOAD];
    char dkey[32];
    collab_pack_t p;
    size_t len = 0;
    snprintf(dkey, sizeof dkey, "%s_decoded", key);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(fields, dkey);
    if (!CHECK(cJSON_IsObject(d)))
        return;
    collab_pack_init(&p, packed, sizeof packed);
    pack_json(&p, d);
    CHECK_OK(collab_pack_finish(&p, &len));
    CHECK_MEM(packed, len, map.ptr, map.len);
}

/*  Builds vec.env from a well-formed vector's "fields". */
static void env_from_fields(const cJSON *f, const char *kind)
{
    collab_envelope_t *e = &vec.env;
    memset(e, 0, sizeof *e);
    CHECK_STR(jstr(f, "type"), kind);
    e->kind = !strcmp(kind, "request") ? COLLAB_KIND_REQUEST
              : !strcmp(kind, "reply") ? COLLAB_KIND_REPLY
                                       : COLLAB_KIND_EVENT;
    e->version = (uint32_t)jnum(f, "version");
    if (e->kind == COLLAB_KIND_REQUEST) {
        e->request_id = jnum(f, "request_id");
        e->action = jtext(f, "action");
        e->agent_id = jtext(f, "agent_id");
        e->session_id = jtext(f, "session_id");
        e->timestamp = jnum(f, "timestamp");
        e->nonce = jhex(f, "nonce", vec.nonce, sizeof vec.nonce, false);
        e->payload = jhex(f, "payload", vec.map, sizeof vec.map, true);
        e->signature = jhex(f, "signature", vec.sig, sizeof vec.sig, false);
        check_decoded(f, "payload", e->payload);
    } else if (e->kind == COLLAB_KIND_REPLY) {
        e->request_id = jnum(f, "request_id");
        const char *status = jstr(f, "status");
        CHECK(status && (!strcmp(status, "ok") || !strcmp(status, "error")));
        e->ok = status && !strcmp(status, "ok");
        e->error_code = (uint32_t)jnum(f, "error_code");
        e->error = jtext(f, "error");
        e->data = jhex(f, "data", vec.map, sizeof vec.map, true);
        check_decoded(f, "data", e->data);
    } else {
        e->event = jtext(f, "event");
        e->seq = jnum(f, "seq");
        e->timestamp = jnum(f, "timestamp");
        e->data = jhex(f, "data", vec.map, sizeof vec.map, true);
        check_decoded(f, "data", e->data);
    }
}

static bool span_same(collab_span_t a, collab_span_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_same(const collab_envelope_t *a, const collab_envelope_t *b)
{
    CHECK(a->kind == b->kind && a->version == b->version && a->request_id == b->request_id);
    CHECK(span_same(a->action, b->action) && span_same(a->agent_id, b->agent_id));
    CHECK(span_same(a->session_id, b->session_id) && a->timestamp == b->timestamp);
    CHECK(span_same(a->nonce, b->nonce) && span_same(a->payload, b->payload));
    CHECK(span_same(a->signature, b->signature) && a->ok == b->ok);
    CHECK(a->error_code == b->error_code && span_same(a->error, b->error));
    CHECK(span_same(a->data, b->data) && span_same(a->event, b->event) && a->seq == b->seq);
}

/*  key_hex, scope, signed_bytes_hex and signature_hex of a signed request. */
static void check_signature(const cJSON *v, const collab_envelope_t *decoded)
{
    static uint8_t want_sb[COLLAB_MAX_FRAME], got_sb[COLLAB_MAX_FRAME];
    uint8_t key[COLLAB_KEY_LEN], want_sig[64], sig[COLLAB_SIGNATURE_LEN];
    const char *key_hex = jstr(v, "key_hex"), *scope_name = jstr(v, "scope");
    if (!CHECK(key_hex && scope_name))
        return;
    CHECK_OK(collab_key_from_hex(key_hex, strlen(key_hex), key));
    CHECK(!strcmp(scope_name, "weak") || !strcmp(scope_name, "full"));
    collab_scope_t scope = !strcmp(scope_name, "full") ? COLLAB_SCOPE_FULL : COLLAB_SCOPE_WEAK;
    collab_span_t sb = jhex(v, "signed_bytes_hex", want_sb, sizeof want_sb, true);
    size_t n = collab_signed_bytes(&vec.env, scope, got_sb, sizeof got_sb);
    CHECK_MEM(got_sb, n, sb.ptr, sb.len);
    collab_span_t ws = jhex(v, "signature_hex", want_sig, sizeof want_sig, true);
    collab_sign(&vec.env, scope, key, sig);
    CHECK_MEM(sig, sizeof sig, ws.ptr, ws.len);
    CHECK_MEM(vec.env.signature.ptr, vec.env.signature.len, ws.ptr, ws.len);
    CHECK_OK(collab_verify(decoded, scope, key));
    CHECK_RC(collab_verify(decoded, 1 - scope, key), COLLAB_E_BAD_SIGNATURE);
}

static void check_wellformed(const cJSON *v, const char *kind)
{
    static uint8_t out[COLLAB_MAX_FRAME];
    collab_envelope_t decoded;
    size_t len = 0;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "fields");
    if (!CHECK(cJSON_IsObject(f)))
        return;
    env_from_fields(f, kind);
    CHECK_OK(collab_envelope_encode(&vec.env, out, sizeof out, &len));
    CHECK_MEM(out, len, vec.frame, vec.frame_len);
    CHECK_OK(collab_envelope_decode(vec.frame, vec.frame_len, &decoded));
    check_same(&decoded, &vec.env);
    bool signed_req = vec.env.signature.len > 0;
    CHECK(signed_req == (cJSON_GetObjectItemCaseSensitive(v, "signature_hex") != NULL));
    if (signed_req)
        check_signature(v, &decoded);
    else if (vec.env.kind == COLLAB_KIND_REQUEST)
        CHECK_RC(collab_verify(&decoded, COLLAB_SCOPE_WEAK, TM_KEY), COLLAB_E_SIGNATURE_MISSING);
}

static void check_malformed(const cJSON *v)
{
    collab_envelope_t env;
    const char *want = jstr(v, "error");
    int rc = collab_envelope_decode(vec.frame, vec.frame_len, &env);
    CHECK(want != NULL);
    if (!CHECK(rc != 0 && want && strcmp(collab_errname(rc), want) == 0))
        fprintf(stderr, "  %s: decoded to %s, vector says %s\n", vec.name, collab_errname(rc),
                want ? want : "(none)");
    /* the request_id an error reply carries: read whenever it can be (PROTOCOL.md 2.4) */
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "request_id");
    if (!CHECK(cJSON_IsNumber(id) && (double)env.request_id == id->valuedouble))
        fprintf(stderr, "  %s: request_id read %llu\n", vec.name,
                (unsigned long long)env.request_id);
}

/*  A frame that is the complete frame of a well-formed vector of the file. */
static bool is_wellformed_frame(const cJSON *vectors, const uint8_t *b, size_t len)
{
    char *hex = malloc(2 * len + 1);
    const cJSON *v;
    bool found = false;
    tm_hex(b, len, hex);
    cJSON_ArrayForEach(v, vectors)
    {
        const char *kind = jstr(v, "kind"), *h = jstr(v, "hex");
        found |= kind && h && strcmp(kind, "malformed") != 0 && strcmp(h, hex) == 0;
    }
    free(hex);
    return found;
}

/*  Every proper prefix is refused (read from an exact-size copy, so ASan sees overreads).
    The one exception: a malformed vector made by appending to a well-formed frame
    (trailing_byte) has that frame as a prefix. */
static void check_truncations(const cJSON *vectors)
{
    int accepted = 0;
    for (size_t cut = 0; cut < vec.frame_len; cut++) {
        collab_envelope_t env;
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, vec.frame, cut);
        if (collab_envelope_decode(copy, cut, &env) == 0 &&
            !is_wellformed_frame(vectors, copy, cut))
            accepted++;
        free(copy);
    }
    if (!CHECK(accepted == 0))
        fprintf(stderr, "  %s: %d prefixes accepted\n", vec.name, accepted);
}

static void check_vector(const cJSON *v, const cJSON *vectors)
{
    const char *kind = jstr(v, "kind"), *hex = jstr(v, "hex");
    vec.name = jstr(v, "name");
    tu_current = vec.name ? vec.name : "(unnamed)";
    if (!CHECK(vec.name && kind && hex && jstr(v, "description")))
        return;
    long n = tm_unhex(hex, vec.frame, sizeof vec.frame);
    if (!CHECK(n > 0))
        return;
    vec.frame_len = (size_t)n;
    if (!strcmp(kind, "malformed"))
        check_malformed(v);
    else if (CHECK(!strcmp(kind, "request") || !strcmp(kind, "reply") || !strcmp(kind, "event")))
        check_wellformed(v, kind);
    check_truncations(vectors);
}

static const cJSON *find_vector(const cJSON *vectors, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors)
    {
        const char *n = jstr(v, "name");
        if (n && !strcmp(n, name))
            return v;
    }
    return NULL;
}

/*  What the file must contain, beyond being right. */
static void check_coverage(const cJSON *vectors)
{
    static const char *const required[] = {
        "login_request",
        "create_project_weak",
        "create_project_weak_nonce",
        "update_task_status_full_nonce",
        "heartbeat_full",
        "close_project_weak",
        "delete_project_weak",
        "login_reply_ok",
        "error_reply",
        "event_task_assigned",
    };
    tu_current = "coverage";
    int malformed = 0, total = cJSON_GetArraySize(vectors);
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!CHECK(find_vector(vectors, required[i]) != NULL))
            fprintf(stderr, "  missing vector %s\n", required[i]);
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors)
    {
        const char *kind = jstr(v, "kind");
        malformed += kind && !strcmp(kind, "malformed");
        const char *name = jstr(v, "name");
        CHECK(name && find_vector(vectors, name) == v); /* names are unique */
    }
    CHECK(total >= 16);
    CHECK(malformed >= 6);
    /* The weak scope's flaw, shown: close and delete of one project share a signature. */
    const cJSON *c = find_vector(vectors, "close_project_weak");
    const cJSON *d = find_vector(vectors, "delete_project_weak");
    if (c && d) {
        const char *cs = jstr(c, "signature_hex"), *ds = jstr(d, "signature_hex");
        CHECK(cs && ds && !strcmp(cs, ds));
    }
}

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *text = malloc((size_t)n + 1);
    size_t got = fread(text, 1, (size_t)n, fp);
    fclose(fp);
    text[got] = '\0';
    return text;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_vectors test-vectors.json\n");
        return 2;
    }
    char *text = read_file(argv[1]);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    if (!CHECK(root != NULL)) {
        fprintf(stderr, "cannot read or parse %s\n", argv[1]);
        return tu_exit("test_vectors");
    }
    CHECK(jstr(root, "description") != NULL);
    const cJSON *vectors = cJSON_GetObjectItemCaseSensitive(root, "vectors");
    if (CHECK(cJSON_IsArray(vectors))) {
        const cJSON *v;
        cJSON_ArrayForEach(v, vectors) check_vector(v, vectors);
        check_coverage(vectors);
        fprintf(stderr, "test_vectors: %d vectors\n", cJSON_GetArraySize(vectors));
    }
    cJSON_Delete(root);
    free(text);
    return tu_exit("test_vectors");
}
