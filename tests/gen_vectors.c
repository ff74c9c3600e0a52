/*  gen_vectors.c: writes protocol/test-vectors.json (to stdout) and, with --corpus DIR, one
    binary fuzz seed per vector. Built, never run by ctest: its output is committed and then
    checked by test_vectors.c and tests/interop/check_vectors.py.
    Usage: gen_vectors [--corpus DIR] > protocol/test-vectors.json */
#include "gen_vectors.h"
#include "testmsg.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static cJSON *vectors;
static const char *corpus_dir;

void gv_die(const char *what, const char *name)
{
    fprintf(stderr, "gen_vectors: %s: %s\n", name, what);
    exit(1);
}

static void add_hex(cJSON *obj, const char *key, const void *b, size_t len)
{
    char *hex = malloc(2 * len + 1);
    tm_hex(b, len, hex);
    cJSON_AddStringToObject(obj, key, hex);
    free(hex);
}

static void add_span_str(cJSON *obj, const char *key, collab_span_t s)
{
    char *copy = malloc(s.len + 1);
    memcpy(copy, s.ptr, s.len);
    copy[s.len] = '\0';
    cJSON_AddStringToObject(obj, key, copy);
    free(copy);
}

/*  ---- a MessagePack map rendered as JSON (the subset vectors use: no bin, no float) ---- */

static cJSON *render(collab_mp_reader_t *r, const char *name);

static cJSON *render_container(collab_mp_reader_t *r, const collab_mp_value_t *v, const char *name)
{
    bool is_map = v->type == COLLAB_MP_MAP;
    cJSON *c = is_map ? cJSON_CreateObject() : cJSON_CreateArray();
    for (uint32_t i = 0; i < v->len; i++) {
        char key[COLLAB_MAX_KEY_BYTES + 1] = "";
        collab_mp_value_t k;
        if (is_map) {
            if (collab_mp_read(r, &k) || k.type != COLLAB_MP_STR || k.len > COLLAB_MAX_KEY_BYTES)
                gv_die("payload key is not a short str", name);
            memcpy(key, k.ptr, k.len);
            key[k.len] = '\0';
        }
        cJSON *item = render(r, name);
        if (is_map)
            cJSON_AddItemToObject(c, key, item);
        else
            cJSON_AddItemToArray(c, item);
    }
    return c;
}

static cJSON *render(collab_mp_reader_t *r, const char *name)
{
    collab_mp_value_t v;
    if (collab_mp_read(r, &v))
        gv_die("payload does not parse", name);
    switch (v.type) {
    case COLLAB_MP_NIL:
        return cJSON_CreateNull();
    case COLLAB_MP_BOOL:
        return cJSON_CreateBool(v.b);
    case COLLAB_MP_UINT:
        if (v.u > (1ull << 53))
            gv_die("integer too large for JSON", name);
        return cJSON_CreateNumber((double)v.u);
    case COLLAB_MP_INT:
        if (v.i < -(1ll << 53))
            gv_die("integer too small for JSON", name);
        return cJSON_CreateNumber((double)v.i);
    case COLLAB_MP_STR: {
        char *s = malloc(v.len + 1);
        memcpy(s, v.ptr, v.len);
        s[v.len] = '\0';
        if (strlen(s) != v.len)
            gv_die("NUL inside a str", name);
        cJSON *j = cJSON_CreateString(s);
        free(s);
        return j;
    }
    case COLLAB_MP_ARRAY:
    case COLLAB_MP_MAP:
        return render_container(r, &v, name);
    default:
        gv_die("payload holds a type JSON cannot show", name);
        return NULL;
    }
}

static void add_map(cJSON *obj, const char *key, const char *dkey, collab_span_t map,
                    const char *name)
{
    collab_mp_reader_t r;
    add_hex(obj, key, map.ptr, map.len);
    collab_mp_reader_init(&r, map.ptr, map.len);
    cJSON_AddItemToObject(obj, dkey, render(&r, name));
}

/*  ---- well-formed vectors ---- */

/*  Every field of a decoded envelope, in canonical order. */
static cJSON *fields_json(const collab_envelope_t *e, const char *name)
{
    static const char *const kinds[] = {"", "request", "reply", "event"};
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "type", kinds[e->kind]);
    cJSON_AddNumberToObject(f, "version", e->version);
    if (e->kind == COLLAB_KIND_EVENT) {
        add_span_str(f, "event", e->event);
        cJSON_AddNumberToObject(f, "seq", (double)e->seq);
        cJSON_AddNumberToObject(f, "timestamp", (double)e->timestamp);
        add_map(f, "data", "data_decoded", e->data, name);
        return f;
    }
    cJSON_AddNumberToObject(f, "request_id", (double)e->request_id);
    if (e->kind == COLLAB_KIND_REPLY) {
        cJSON_AddStringToObject(f, "status", e->ok ? "ok" : "error");
        cJSON_AddNumberToObject(f, "error_code", e->error_code);
        add_span_str(f, "error", e->error);
        add_map(f, "data", "data_decoded", e->data, name);
        return f;
    }
    add_span_str(f, "action", e->action);
    add_span_str(f, "agent_id", e->agent_id);
    add_span_str(f, "session_id", e->session_id);
    cJSON_AddNumberToObject(f, "timestamp", (double)e->timestamp);
    if (e->nonce.len)
        add_hex(f, "nonce", e->nonce.ptr, e->nonce.len);
    add_map(f, "payload", "payload_decoded", e->payload, name);
    if (e->signature.len)
        add_hex(f, "signature", e->signature.ptr, e->signature.len);
    return f;
}

static void write_seed(const char *name, const uint8_t *b, size_t len)
{
    char path[512];
    if (!corpus_dir)
        return;
    snprintf(path, sizeof path, "%s/%s.bin", corpus_dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(b, 1, len, fp) != len || fclose(fp) != 0)
        gv_die("cannot write the seed", path);
}

cJSON *gv_new_vector(const char *name, const char *kind, const char *desc, const uint8_t *b,
                     size_t len)
{
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "name", name);
    cJSON_AddStringToObject(v, "kind", kind);
    cJSON_AddStringToObject(v, "description", desc);
    add_hex(v, "hex", b, len);
    cJSON_AddItemToArray(vectors, v);
    write_seed(name, b, len);
    return v;
}

static void add_signature(cJSON *v, const collab_envelope_t *req, collab_scope_t scope)
{
    uint8_t sb[COLLAB_MAX_FRAME];
    size_t n = collab_signed_bytes(req, scope, sb, sizeof sb);
    add_hex(v, "key_hex", TM_KEY, sizeof TM_KEY);
    cJSON_AddStringToObject(v, "scope", collab_scope_name(scope));
    add_hex(v, "signed_bytes_hex", sb, n);
    add_hex(v, "signature_hex", req->signature.ptr, req->signature.len);
}

/*  Signs (scope >= 0) and encodes *env, then records what decoding the frame yields. */
static void add_wellformed(const char *name, const char *desc, collab_envelope_t *env, int scope)
{
    static const char *const kinds[] = {"", "request", "reply", "event"};
    static uint8_t sig[COLLAB_SIGNATURE_LEN], frame[COLLAB_MAX_FRAME];
    collab_envelope_t got;
    size_t len;
    if (scope >= 0) {
        collab_sign(env, (collab_scope_t)scope, TM_KEY, sig);
        env->signature = (collab_span_t){(const char *)sig, sizeof sig};
    }
    if (collab_envelope_encode(env, frame, sizeof frame, &len) ||
        collab_envelope_decode(frame, len, &got))
        gv_die("does not round-trip", name);
    if (scope >= 0 && collab_verify(&got, (collab_scope_t)scope, TM_KEY))
        gv_die("does not verify", name);
    cJSON *v = gv_new_vector(name, kinds[env->kind], desc, frame, len);
    cJSON_AddItemToObject(v, "fields", fields_json(&got, name));
    if (scope >= 0)
        add_signature(v, &got, (collab_scope_t)scope);
}

/*  Payloads are packed into a pool that lives until the program ends. */
static uint8_t pool[1 << 16];
static size_t pool_used;

collab_pack_t *gv_payload_begin(void)
{
    static collab_pack_t p;
    collab_pack_init(&p, pool + pool_used, sizeof pool - pool_used);
    return &p;
}

collab_span_t gv_payload_end(collab_pack_t *p)
{
    size_t len = 0;
    if (collab_pack_finish(p, &len))
        gv_die("pool exhausted", "payload");
    collab_span_t s = {(const char *)pool + pool_used, len};
    pool_used += len;
    return s;
}

void gv_request(collab_envelope_t *e, uint64_t id, const char *action, const char *session,
                uint64_t ts, collab_span_t payload)
{
    memset(e, 0, sizeof *e);
    e->kind = COLLAB_KIND_REQUEST;
    e->version = COLLAB_PROTOCOL_VERSION;
    e->request_id = id;
    e->action = tm_span(action);
    e->agent_id = tm_span("alice");
    e->session_id = tm_span(session);
    e->timestamp = ts;
    e->payload = payload;
}

#define SESSION "s-3f9a1c2e7b6d4058"
uint8_t gv_login_frame[256]; /* login_request's frame, spoilt by malformed vectors */
size_t gv_login_len;
static const uint8_t NONCE_B[16] = {0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
                                    0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};
static const uint8_t NONCE_C[16] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
                                    0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};

static collab_span_t nonce(const uint8_t *n)
{
    return (collab_span_t){(const char *)n, COLLAB_NONCE_LEN};
}

static collab_span_t project_payload(void)
{
    collab_pack_t *p = gv_payload_begin();
    collab_pack_map(p, 2);
    collab_pack_kv_str(p, "name", "Apollo");
    collab_pack_kv_str(p, "description", "Moon landing tasks");
    return gv_payload_end(p);
}

static collab_span_t unicode_payload(void)
{
    collab_pack_t *p = gv_payload_begin();
    collab_pack_map(p, 6);
    collab_pack_kv_str(p, "name", "Caf\xc3\xa9 \xe2\x9c\x93");
    collab_pack_str(p, "tags");
    collab_pack_array(p, 2);
    collab_pack_str(p, "\xce\xb1");
    collab_pack_str(p, "\xce\xb2");
    collab_pack_kv_int(p, "priority", -2);
    collab_pack_kv_bool(p, "public", false);
    collab_pack_str(p, "parent");
    collab_pack_nil(p);
    collab_pack_str(p, "meta");
    collab_pack_map(p, 1);
    collab_pack_kv_uint(p, "depth", 2);
    return gv_payload_end(p);
}

static void requests(void)
{
    collab_envelope_t e;
    collab_pack_t *p = gv_payload_begin();
    collab_pack_map(p, 1);
    collab_pack_kv_str(p, "password", "correct horse battery staple");
    gv_request(&e, 1, "login", "", T0, gv_payload_end(p));
    add_wellformed("login_request", "login: empty session_id, never signed", &e, -1);
    collab_envelope_encode(&e, gv_login_frame, sizeof gv_login_frame, &gv_login_len);

    gv_request(&e, 2, "create_project", SESSION, T0 + 100, project_payload());
    add_wellformed("create_project_weak", "weak scope, no nonce", &e, COLLAB_SCOPE_WEAK);
    gv_request(&e, 3, "create_project", SESSION, T0 + 200, project_payload());
    e.nonce = nonce(TM_NONCE);
    add_wellformed("create_project_weak_nonce", "weak scope with a nonce", &e, COLLAB_SCOPE_WEAK);
    gv_request(&e, 4, "create_project", SESSION, T0 + 300, unicode_payload());
    e.nonce = nonce(NONCE_C);
    add_wellformed("create_project_unicode_weak",
                   "non-ASCII text, a list, a negative int, false, nil and a nested map", &e,
                   COLLAB_SCOPE_WEAK);
}

static void more_requests(void)
{
    collab_envelope_t e;
    collab_pack_t *p = gv_payload_begin();
    collab_pack_map(p, 3);
    collab_pack_kv_uint(p, "task_id", 42);
    collab_pack_kv_str(p, "status", "completed");
    collab_pack_kv_str(p, "result", "built 14 artifacts, 0 warnings; checksums verified");
    gv_request(&e, 5, "update_task_status", SESSION, T0 + 400, gv_payload_end(p));
    e.nonce = nonce(NONCE_B);
    add_wellformed("update_task_status_full_nonce", "full scope with a nonce", &e,
                   COLLAB_SCOPE_FULL);

    gv_request(&e, 6, "heartbeat", SESSION, T0 + 500, COLLAB_EMPTY_MAP);
    add_wellformed("heartbeat_full", "full scope signs even read-only actions", &e,
                   COLLAB_SCOPE_FULL);

    p = gv_payload_begin();
    collab_pack_map(p, 1);
    collab_pack_kv_uint(p, "project_id", 7);
    collab_span_t pid = gv_payload_end(p);
    gv_request(&e, 7, "close_project", SESSION, T0 + 600, pid);
    add_wellformed("close_project_weak",
                   "weak scope: same payload, agent and timestamp as "
                   "delete_project_weak, so the same signature",
                   &e, COLLAB_SCOPE_WEAK);
    gv_request(&e, 8, "delete_project", SESSION, T0 + 600, pid);
    add_wellformed("delete_project_weak",
                   "the weak scope does not sign the action: this "
                   "signature equals close_project_weak's",
                   &e, COLLAB_SCOPE_WEAK);
}

/*  The vectors below have the shapes the broker's own encoders write (PROTOCOL.md 5-7):
    test_broker_vectors drives a live broker and compares every reply and event it gets
    with them, key by key and type by type. */
static void replies(void)
{
    collab_envelope_t e = {.kind = COLLAB_KIND_REPLY, .version = 1, .request_id = 1, .ok = true};
    collab_pack_t *p = gv_payload_begin();
    collab_pack_map(p, 8);
    collab_pack_kv_str(p, "session_id", SESSION);
    collab_pack_kv_str(p, "agent_id", "alice");
    collab_pack_kv_str(p, "role", "coordinator");
    collab_pack_kv_uint(p, "created", T0);
    collab_pack_kv_uint(p, "idle_timeout_s", 1800);
    collab_pack_kv_uint(p, "absolute_lifetime_s", 0);
    collab_pack_kv_uint(p, "event_seq", 4);
    collab_pack_str(p, "controls");
    collab_pack_map(p, 4);
    collab_pack_kv_str(p, "signature_scope", "weak");
    collab_pack_kv_bool(p, "replay_protection", false);
    collab_pack_kv_uint(p, "timestamp_window_s", 1800);
    collab_pack_kv_bool(p, "sanitize_output", false);
    e.data = gv_payload_end(p);
    e.error = tm_span("");
    add_wellformed("login_reply_ok", "the reply to login_request (stage2 controls)", &e, -1);

    p = gv_payload_begin();
    collab_pack_map(p, 2);
    collab_pack_str(p, "projects");
    collab_pack_array(p, 1);
    collab_pack_map(p, 6);
    collab_pack_kv_uint(p, "project_id", 7);
    collab_pack_kv_str(p, "name", "Apollo");
    collab_pack_kv_str(p, "owner", "alice");
    collab_pack_kv_str(p, "status", "open");
    collab_pack_kv_uint(p, "task_count", 1);
    collab_pack_kv_uint(p, "created", T0 + 100);
    collab_pack_kv_uint(p, "total", 1);
    e.request_id = 9;
    e.data = gv_payload_end(p);
    add_wellformed("list_projects_reply_ok", "data with a list of maps (the last page)", &e, -1);

    e = (collab_envelope_t){.kind = COLLAB_KIND_REPLY, .version = 1, .request_id = 8};
    e.error_code = (uint32_t)-COLLAB_E_BAD_SIGNATURE;
    e.error = tm_span(collab_strerror(COLLAB_E_BAD_SIGNATURE));
    e.data = COLLAB_EMPTY_MAP;
    add_wellformed("error_reply", "status error, error_code 26 (bad_signature), empty data", &e,
                   -1);
}

static void events(void)
{
    collab_envelope_t e = {.kind = COLLAB_KIND_EVENT, .version = 1, .seq = 5};
    collab_pack_t *p;
    e.event = tm_span("task_assigned");
    e.timestamp = T0 + 5000;
    p = gv_payload_begin();
    collab_pack_map(p, 7);
    collab_pack_kv_uint(p, "task_id", 42);
    collab_pack_kv_uint(p, "project_id", 7);
    collab_pack_kv_str(p, "type", "build");
    collab_pack_kv_str(p, "title", "Build the lander");
    collab_pack_kv_str(p, "description", "");
    collab_pack_kv_str(p, "assigned_to", "bob");
    collab_pack_kv_str(p, "assigned_by", "alice");
    e.data = gv_payload_end(p);
    add_wellformed("event_task_assigned", "an event pushed to bob, sequence number 5", &e, -1);
}

static const char DESCRIPTION[] =
    "taskcollab wire protocol v1 test vectors (see PROTOCOL.md). Each vector is one ZeroMQ "
    "frame in 'hex'. Well-formed ones (kind request/reply/event) list every envelope field in "
    "'fields' in canonical encoder order: str fields as JSON strings, bin fields (nonce, payload, "
    "signature, data) as lower-case hex, integers as JSON numbers (all below 2^53), and the "
    "payload/data map once more as JSON in payload_decoded/data_decoded (key order = encoding "
    "order). Signed requests give key_hex (the agent's HMAC-SHA256 key, bytes 0x00..0x1f), "
    "scope (weak|full), signed_bytes_hex (the exact HMAC input) and signature_hex. Malformed "
    "vectors give the snake_case error a decoder must return (PROTOCOL.md 2.4 decides which "
    "when several apply) and the request_id it can still read (0 when none), which the "
    "broker's error reply carries. Replies and events have the broker's own shapes. "
    "Generated by "
    "tests/gen_vectors.c; do not edit by hand.";

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--corpus") == 0)
        corpus_dir = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: gen_vectors [--corpus DIR] > test-vectors.json\n");
        return 2;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "description", DESCRIPTION);
    vectors = cJSON_AddArrayToObject(root, "vectors");
    requests();
    more_requests();
    replies();
    events();
    gv_malformed();
    char *text = cJSON_Print(root);
    puts(text);
    free(text);
    cJSON_Delete(root);
    return 0;
}
