/*  test_broker_vectors.c: every vector of protocol/test-vectors.json against a live broker.
    Malformed vectors get exactly their error and the request_id they name; request vectors
    are accepted as messages (they reach the session or password check); reply and event
    vectors have the shapes of what the broker really sends (the same keys in the same
    order with the same MessagePack types), and error_reply is byte for byte the broker's. */
#include "itest.h"

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
    size_t n = hex ? strlen(hex) / 2 : 0;
    if (!CHECK(hex && strlen(hex) % 2 == 0 && n <= cap))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        if (sscanf(hex + 2 * i, "%2x", &b) != 1)
            return 0;
        out[i] = (uint8_t)b;
    }
    return n;
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
    }
    CHECK(n >= 20);
}

static void test_requests(zsock_t *raw)
{
    it_begin("request vectors: accepted as messages by the broker");
    static uint8_t frame[COLLAB_MAX_FRAME];
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "vectors"))
    {
        const char *kind = jstr(v, "kind"), *name = jstr(v, "name");
        if (!kind || strcmp(kind, "request") != 0)
            continue;
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, "fields");
        const char *action = jstr(f, "action");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(f, "request_id");
        size_t len = unhex(jstr(v, "hex"), frame, sizeof frame);
        int rc = it_raw_bytes(raw, frame, len, &M);
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
    if (CHECK(rc == 0) && CHECK(collab_span_eq(M.env.event, "task_assigned")))
        check_data_shape("event_task_assigned", &M.env);

    q = (it_req_t){
        .request_id = 9, .action = "list_projects", .agent_id = "worker1", .session_id = sid};
    rc = it_raw_call(raw, &q, &M);
    CHECK_OK(rc);
    if (rc == 0)
        check_data_shape("list_projects_reply_ok", &M.env);

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
    }
    zsock_destroy(&raw);
    cJSON_Delete(root);
    it_stop(&B);
    broker_cleanup(&B);
    return it_exit("test_broker_vectors");
}
