/*  test_broker_vectors.c: every vector of protocol/test-vectors.json against a live broker.
    Malformed vectors get exactly their error and the request_id they name; request vectors
    are accepted as messages (they reach the session or password check); reply and event
    vectors have the shapes of what the broker really sends (the same keys in the same
    order with the same MessagePack types), and error_reply is byte for byte the broker's. */
#include "itest.h"
#include "collab_hex.h"

#include <cjson/cJSON.h>

static broker_proc_t B;
static it_msg_t M;
static cJSON *root;

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static const cJSON *vector(const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors"))
    {
        const char *n = jstr(v, "name");
        if (n && strcmp(n, name) == 0)
            return v;
    }
    tu_fail(__FILE__, __LINE__, "no vector %s", name);
    return NULL;
}

/*  Hex into out; returns the length, or 0 (a test failure) when it is not hex or too long. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    long n = hex ? collab_hex_decode(hex, strlen(hex), out, cap) : -1;
    return CHECK(n >= 0) ? (size_t)n : 0;
}

/*  ---- shapes: the same keys in the same order with the same types, recursively ---- */

static bool same_shape(collab_mp_reader_t *a, collab_mp_reader_t *b, int depth);

static bool same_items(collab_mp_reader_t *a, collab_mp_reader_t *b, uint32_t na, uint32_t nb,
                       bool is_map, int depth)
{
    if (is_map && na != nb)
        return false;
    if (!is_map) { /* lists: the first items compare, the rest are skipped */
        if (na && nb && !same_shape(a, b, depth + 1))
            return false;
        for (uint32_t i = na ? 1 : 0; i < na; i++)
            collab_mp_skip(a, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES);
        for (uint32_t i = nb ? 1 : 0; i < nb; i++)
            collab_mp_skip(b, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES);
        return true;
    }
    for (uint32_t i = 0; i < na; i++) {
        collab_mp_value_t ka, kb;
        if (collab_mp_read(a, &ka) || collab_mp_read(b, &kb) || ka.type != COLLAB_MP_STR ||
            kb.type != COLLAB_MP_STR || ka.len != kb.len || memcmp(ka.ptr, kb.ptr, ka.len) != 0) {
            fprintf(stderr, "  key %.*s where the broker sends %.*s\n", (int)ka.len, ka.ptr,
                    (int)kb.len, kb.ptr);
            return false;
        }
        if (!same_shape(a, b, depth + 1)) {
            fprintf(stderr, "  under key %.*s\n", (int)ka.len, ka.ptr);
            return false;
        }
    }
    return true;
}

static bool same_shape(collab_mp_reader_t *a, collab_mp_reader_t *b, int depth)
{
    collab_mp_value_t va, vb;
    if (depth > COLLAB_MAX_DEPTH || collab_mp_read(a, &va) || collab_mp_read(b, &vb))
        return false;
    if (va.type != vb.type) {
        fprintf(stderr, "  MessagePack type %d where the broker sends %d\n", va.type, vb.type);
        return false;
    }
    if (va.type != COLLAB_MP_MAP && va.type != COLLAB_MP_ARRAY)
        return true;
    return same_items(a, b, va.len, vb.len, va.type == COLLAB_MP_MAP, depth);
}

/*  The vector's data map (its fields.data) against the data of a message the broker sent. */
static void check_data_shape(const char *name, const collab_envelope_t *sent)
{
    static uint8_t want[COLLAB_MAX_PAYLOAD];
    const cJSON *v = vector(name);
    const cJSON *f = v ? cJSON_GetObjectItemCaseSensitive(v, "fields") : NULL;
    size_t n = unhex(jstr(f, "data"), want, sizeof want);
    collab_mp_reader_t a, b;
    collab_mp_reader_init(&a, want, n);
    collab_mp_reader_init(&b, sent->data.ptr, sent->data.len);
    if (!CHECK(n > 0 && same_shape(&a, &b, 0) && collab_mp_at_end(&a) && collab_mp_at_end(&b)))
        fprintf(stderr, "  %s: not the shape the broker sends\n", name);
}

/*  ---- the canonical encoding (PROTOCOL.md 2.5): every integer, str, bin, array and map
    header in its smallest form, no floats or extension types; bins holding maps (payload,
    data) are canonical inside too ---- */

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static bool canonical_value(const uint8_t **pp, const uint8_t *end, int depth, bool map_bin);

/*  A header of width w (1, 2, 4 or 8 bytes) after the type byte, holding n: smallest? */
static bool smallest(uint64_t n, int w, uint64_t below_1, uint64_t below_2, uint64_t below_4)
{
    return (w == 1 && n >= below_1) || (w == 2 && n >= below_2) || (w == 4 && n >= below_4) ||
           (w == 8 && n > 0xffffffffu);
}

/*  n items, or n key/value pairs; in the envelope (depth 0) the values of payload and data
    are bins holding maps, checked inside too. */
static bool canonical_items(const uint8_t **pp, const uint8_t *end, uint64_t n, bool pairs,
                            int depth)
{
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *key = *pp;
        if (!canonical_value(pp, end, depth + 1, false))
            return false;
        if (!pairs)
            continue;
        bool inner = depth == 0 && ((*pp - key == 8 && memcmp(key, "\xa7payload", 8) == 0) ||
                                    (*pp - key == 5 && memcmp(key,
                                                              "\xa4"
                                                              "data",
                                                              5) == 0));
        if (!canonical_value(pp, end, depth + 1, inner))
            return false;
    }
    return true;
}

static bool canonical_value(const uint8_t **pp, const uint8_t *end, int depth, bool map_bin)
{
    const uint8_t *p = *pp;
    if (p >= end || depth > 2 * COLLAB_MAX_DEPTH + 4)
        return false;
    uint8_t t = *p++;
    int w;
    uint64_t n;
    *pp = p;
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
        return true; /* fixints, nil, booleans */
    if (t >= 0x80 && t <= 0x9f)
        return canonical_items(pp, end, t & 0x0f, t < 0x90, depth);
    if (t >= 0xcc && t <= 0xd3) { /* uint 8..64, then int 8..64 (negatives only) */
        w = 1 << ((t - 0xcc) & 3);
        if ((size_t)(end - p) < (size_t)w)
            return false;
        *pp = p + w;
        if (t <= 0xcf)
            return smallest(be(p, w), w, 0x80, 0x100, 0x10000);
        int64_t v = (int64_t)(be(p, w) << (64 - 8 * w)) >> (64 - 8 * w);
        return v < -32 && (w == 1 || v < (w == 2 ? -128 : w == 4 ? -32768 : -2147483648LL));
    }
    if (t >= 0xdc && t <= 0xdf) { /* array16/32, map16/32 */
        w = t == 0xdc || t == 0xde ? 2 : 4;
        if ((size_t)(end - p) < (size_t)w)
            return false;
        n = be(p, w);
        *pp = p + w;
        return smallest(n, w, 0, 16, 0x10000) && canonical_items(pp, end, n, t >= 0xde, depth);
    }
    bool str = t >= 0xa0 && t <= 0xbf, bin = t >= 0xc4 && t <= 0xc6;
    if (str) {
        n = t & 0x1f;
    } else if ((t >= 0xd9 && t <= 0xdb) || bin) {
        w = 1 << (t - (bin ? 0xc4 : 0xd9));
        if ((size_t)(end - p) < (size_t)w)
            return false;
        n = be(p, w);
        if (!smallest(n, w, bin ? 0 : 32, 0x100, 0x10000))
            return false;
        p += w;
    } else {
        return false; /* floats, extension types, 0xc1 */
    }
    if (n > (uint64_t)(end - p))
        return false;
    *pp = p + n;
    if (!(bin && map_bin))
        return true;
    const uint8_t *q = p;
    return canonical_value(&q, p + n, depth + 1, false) && q == p + n;
}

static bool canonical(const uint8_t *b, size_t len)
{
    const uint8_t *p = b;
    return canonical_value(&p, b + len, 0, false) && p == b + len;
}

/*  ---- the vectors ---- */

static void test_malformed(zsock_t *raw)
{
    it_begin("malformed vectors: their error and request_id from the broker");
    static uint8_t frame[COLLAB_MAX_FRAME];
    const cJSON *v;
    int n = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors"))
    {
        const char *kind = jstr(v, "kind"), *name = jstr(v, "name"), *err = jstr(v, "error");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "request_id");
        if (!kind || strcmp(kind, "malformed") != 0)
            continue;
        n++;
        size_t len = unhex(jstr(v, "hex"), frame, sizeof frame);
        int rc = it_raw_bytes(raw, frame, len, &M);
        if (!CHECK(err && rc < 0 && strcmp(collab_errname(rc), err) == 0))
            fprintf(stderr, "  %s: the broker answers %s, the vector says %s\n", name,
                    collab_errname(rc), err ? err : "?");
        if (!CHECK(cJSON_IsNumber(id) && (double)M.env.request_id == id->valuedouble))
            fprintf(stderr, "  %s: reply request_id %llu\n", name,
                    (unsigned long long)M.env.request_id);
        CHECK(canonical(M.bytes, M.len)); /* the broker's error reply */
    }
    CHECK(n >= 20);
}

static void test_requests(zsock_t *raw)
{
    it_begin("request vectors: accepted as messages by the broker; all vectors canonical");
    static uint8_t frame[COLLAB_MAX_FRAME];
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors"))
    {
        const char *kind = jstr(v, "kind"), *name = jstr(v, "name");
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "fields");
        const char *action = jstr(f, "action");
        if (!kind || strcmp(kind, "malformed") == 0)
            continue;
        size_t flen = unhex(jstr(v, "hex"), frame, sizeof frame);
        if (!CHECK(canonical(frame, flen))) /* every well-formed vector is canonical */
            fprintf(stderr, "  %s: not in the canonical encoding\n", name);
        if (strcmp(kind, "request") != 0)
            continue;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "request_id");
        int rc = it_raw_bytes(raw, frame, flen, &M);
        /* decoded, dispatched: alice has no password here, and no session */
        int want = action && strcmp(action, "login") == 0 ? COLLAB_E_AUTH_FAILED
                                                          : COLLAB_E_SESSION_INVALID;
        if (!CHECK(rc == want))
            fprintf(stderr, "  %s: the broker answers %s\n", name, collab_errname(rc));
        CHECK(cJSON_IsNumber(id) && (double)M.env.request_id == id->valuedouble);
    }
}

static void test_replies_and_events(zsock_t *raw)
{
    it_begin("reply and event vectors: the broker's own shapes");
    uint8_t pay[128], want[512];
    it_req_t q = {.request_id = 1, .action = "login", .agent_id = "worker1", .session_id = ""};
    q.payload = pay;
    q.payload_len = it_pack(pay, sizeof pay, "password", it_password("worker1"), NULL);
    if (!CHECK(it_raw_call(raw, &q, &M) == 0))
        return;
    check_data_shape("login_reply_ok", &M.env);
    CHECK(canonical(M.bytes, M.len));
    char sid[COLLAB_MAX_SESSION_ID + 1] = "";
    collab_span_t s;
    if (collab_map_str(&M.data, "session_id", &s) == 0 && s.len < sizeof sid)
        memcpy(sid, s.ptr, s.len);
    q = (it_req_t){
        .request_id = 2, .action = "subscribe", .agent_id = "worker1", .session_id = sid};
    CHECK_OK(it_raw_call(raw, &q, NULL));

    collab_client_t *c = it_client(&B, "coordinator1", true);
    if (!c)
        return;
    uint64_t pid = it_create_project(c, "Apollo");
    CHECK(it_assign_task(c, pid, "worker1", "Build the lander") != 0);
    int rc;
    while ((rc = it_raw_recv(raw, &M, 5000)) == 0 && M.env.kind != COLLAB_KIND_EVENT)
        ;
    if (CHECK(rc == 0) && CHECK(collab_span_eq(M.env.event, "task_assigned"))) {
        check_data_shape("event_task_assigned", &M.env);
        CHECK(canonical(M.bytes, M.len));
    }

    q = (it_req_t){
        .request_id = 9, .action = "list_projects", .agent_id = "worker1", .session_id = sid};
    rc = it_raw_call(raw, &q, &M);
    CHECK_OK(rc);
    if (rc == 0) {
        check_data_shape("list_projects_reply_ok", &M.env);
        CHECK(canonical(M.bytes, M.len));
    }

    /* error_reply: the broker's refusal of a forged signature, byte for byte */
    uint8_t wrong[COLLAB_KEY_LEN] = {7};
    q = (it_req_t){.request_id = 8,
                   .action = "create_project",
                   .agent_id = "worker1",
                   .session_id = sid,
                   .key = wrong};
    q.payload_len = it_pack(pay, sizeof pay, "name", "forged", NULL);
    CHECK_RC(it_raw_call(raw, &q, &M), COLLAB_E_BAD_SIGNATURE);
    const cJSON *v = vector("error_reply");
    size_t n = unhex(v ? jstr(v, "hex") : NULL, want, sizeof want);
    CHECK(n > 0 && n == M.len && memcmp(want, M.bytes, n) == 0);
    collab_client_destroy(&c);
}

/*  ---- PROTOCOL.md 2.5: what the broker accepts beyond the canonical form ---- */

typedef struct {
    uint8_t b[512];
    size_t n;
} wbuf_t;

static void put(wbuf_t *w, const void *bytes, size_t len)
{
    if (len <= sizeof w->b - w->n) {
        memcpy(w->b + w->n, bytes, len);
        w->n += len;
    }
}

/*  A str with a str8 header, whatever its length: valid, not canonical. */
static void put_str8(wbuf_t *w, const char *s)
{
    uint8_t h[2] = {0xd9, (uint8_t)strlen(s)};
    put(w, h, 2);
    put(w, s, strlen(s));
}

/*  A heartbeat in the widest forms: uint64 and uint16 integers, str8 headers, and a
    payload holding the empty map as a map16. */
static size_t wide_heartbeat(wbuf_t *w, const char *sid, uint64_t request_id)
{
    w->n = 0;
    put(w, "\xde\x00\x08", 3);
    put_str8(w, "type");
    put_str8(w, "request");
    put_str8(w, "version");
    put(w, "\xcd\x00\x01", 3);
    put_str8(w, "request_id");
    uint8_t u64[9] = {0xcf};
    for (int i = 0; i < 8; i++)
        u64[1 + i] = (uint8_t)(request_id >> (56 - 8 * i));
    put(w, u64, 9);
    put_str8(w, "action");
    put_str8(w, "heartbeat");
    put_str8(w, "agent_id");
    put_str8(w, "worker2");
    put_str8(w, "session_id");
    put_str8(w, sid);
    put_str8(w, "timestamp");
    uint64_t now = it_now_ms();
    for (int i = 0; i < 8; i++)
        u64[1 + i] = (uint8_t)(now >> (56 - 8 * i));
    put(w, u64, 9);
    put_str8(w, "payload");
    put(w, "\xc5\x00\x03\xde\x00\x00", 6); /* bin16 holding a map16 of 0 entries */
    return w->n;
}

static int raw_login(zsock_t *raw, const char *agent, const char *sid, bool nonce, bool sign,
                     const char *extra_key)
{
    static uint8_t frame[1024], pay[256], sig[COLLAB_SIGNATURE_LEN];
    uint8_t key[COLLAB_KEY_LEN];
    size_t len =
        extra_key ? it_pack(pay, sizeof pay, "password", it_password(agent), extra_key, "x", NULL)
                  : it_pack(pay, sizeof pay, "password", it_password(agent), NULL);
    collab_envelope_t e = {.kind = COLLAB_KIND_REQUEST,
                           .version = 1,
                           .request_id = 31,
                           .action = {"login", 5},
                           .agent_id = {agent, strlen(agent)},
                           .session_id = {sid, strlen(sid)},
                           .timestamp = it_now_ms(),
                           .payload = {(const char *)pay, len}};
    if (nonce)
        e.nonce = (collab_span_t){"0123456789abcdef", COLLAB_NONCE_LEN};
    if (sign) {
        it_key(&B, agent, key);
        collab_sign(&e, COLLAB_SCOPE_WEAK, key, sig);
        e.signature = (collab_span_t){(const char *)sig, sizeof sig};
    }
    if (!CHECK(collab_envelope_encode(&e, frame, sizeof frame, &len) == 0))
        return COLLAB_E_INTERNAL;
    return it_raw_bytes(raw, frame, len, &M);
}

static void test_encoding(zsock_t *raw)
{
    it_begin("non-canonical forms accepted; unknown payload keys and odd logins refused");
    wbuf_t w;
    CHECK_OK(raw_login(raw, "worker2", "", true, false, NULL)); /* a nonce: ignored */
    char sid[COLLAB_MAX_SESSION_ID + 1] = "";
    collab_span_t s;
    if (collab_map_str(&M.data, "session_id", &s) == 0 && s.len < sizeof sid)
        memcpy(sid, s.ptr, s.len);
    size_t len = wide_heartbeat(&w, sid, 77);
    CHECK(!canonical(w.b, len));
    CHECK_OK(it_raw_bytes(raw, w.b, len, &M));
    CHECK_EQ_U64(M.env.request_id, 77);
    CHECK(canonical(M.bytes, M.len)); /* answered canonically */

    CHECK_RC(raw_login(raw, "worker2", sid, false, false, NULL), COLLAB_E_MALFORMED);
    CHECK_RC(raw_login(raw, "worker2", "", false, true, NULL), COLLAB_E_MALFORMED);
    CHECK_RC(raw_login(raw, "worker2", "", false, false, "remember_me"), COLLAB_E_MALFORMED);

    collab_client_t *c = it_client(&B, "coordinator1", true);
    if (!c)
        return;
    uint64_t total = it_project_total(c);
    CHECK_RC(it_call(c, NULL, "create_project", "name", "extra", "priority", "u:1", NULL),
             COLLAB_E_MALFORMED);
    CHECK_RC(it_call(c, NULL, "heartbeat", "since", "u:1", NULL), COLLAB_E_MALFORMED);
    CHECK_EQ_U64(it_project_total(c), total); /* nothing was created */
    CHECK(it_create_project(c, "no extra") != 0);
    collab_client_destroy(&c);
}

static cJSON *load(const char *path)
{
    FILE *fp = fopen(path, "rb");
    static char text[1 << 20];
    size_t n = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
    if (fp)
        fclose(fp);
    text[n] = '\0';
    return n ? cJSON_Parse(text) : NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    root = load(argv[3]);
    zsock_t *raw = NULL;
    if (CHECK(root != NULL) && CHECK(broker_start(&B, NULL) == 0) &&
        CHECK((raw = it_raw_new(B.endpoint)) != NULL)) {
        test_malformed(raw);
        test_requests(raw);
        test_replies_and_events(raw);
        test_encoding(raw);
    }
    zsock_destroy(&raw);
    cJSON_Delete(root);
    it_stop(&B);
    broker_cleanup(&B);
    return it_exit("test_broker_vectors");
}
