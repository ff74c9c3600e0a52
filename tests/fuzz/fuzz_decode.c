/*  fuzz_decode.c: libFuzzer target for the pure decoders: collab_envelope_decode on the input,
    collab_map_parse on the payload/data it yields (and on the raw input), plus the invariants a
    successful decode promises. A broken invariant aborts, so the fuzzer reports it. */
#include "collab.h"

#include <stdlib.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

/*  A span lies inside the input. */
static bool inside(collab_span_t s, const uint8_t *data, size_t size)
{
    return s.len == 0 || ((const uint8_t *)s.ptr >= data && s.len <= size &&
                          (const uint8_t *)s.ptr - data <= (ptrdiff_t)(size - s.len));
}

/*  Walks every entry of a validated map, nested maps and arrays included. */
static void walk(const collab_map_t *m, int depth)
{
    require(depth <= COLLAB_MAX_DEPTH && m->count <= COLLAB_MAX_MAP_ENTRIES);
    for (uint32_t i = 0; i < m->count; i++) {
        const collab_map_entry_t *e = &m->e[i];
        require(e->key.len <= COLLAB_MAX_KEY_BYTES);
        require(collab_utf8_check(e->key.ptr, e->key.len, NULL) == 0);
        char key[COLLAB_MAX_KEY_BYTES + 1];
        memcpy(key, e->key.ptr, e->key.len);
        key[e->key.len] = '\0';
        if (strlen(key) != e->key.len)
            continue; /* a key with a NUL cannot be looked up by C string */
        require(collab_map_find(m, key) == e); /* top-level keys are unique */
        collab_map_t sub;
        collab_mp_reader_t r;
        uint32_t n;
        if (e->val.type == COLLAB_MP_MAP) {
            /* nested maps may repeat a key (only the top level is checked); the submap
               getter, which parses them as a top level, refuses that */
            int rc = collab_map_submap(m, key, &sub);
            require(rc == 0 || rc == COLLAB_E_MALFORMED);
            if (rc == 0)
                walk(&sub, depth + 1);
        } else if (e->val.type == COLLAB_MP_ARRAY) {
            require(collab_map_array(m, key, &r, &n) == 0 && n <= COLLAB_MAX_LIST_ENTRIES);
            for (uint32_t k = 0; k < n; k++)
                require(collab_mp_skip(&r, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES) == 0);
            require(collab_mp_at_end(&r));
        }
    }
}

static void check_envelope(const collab_envelope_t *env, const uint8_t *data, size_t size)
{
    require(env->version == COLLAB_PROTOCOL_VERSION);
    require(env->action.len <= COLLAB_MAX_ACTION && env->agent_id.len <= COLLAB_MAX_AGENT_ID);
    require(env->session_id.len <= COLLAB_MAX_SESSION_ID);
    require(env->nonce.len == 0 || env->nonce.len == COLLAB_NONCE_LEN);
    require(env->signature.len == 0 || env->signature.len == COLLAB_SIGNATURE_LEN);
    require(env->error.len <= COLLAB_MAX_ERROR_TEXT && env->event.len <= COLLAB_MAX_EVENT_NAME);
    require(env->timestamp <= INT64_MAX && env->error_code <= 65535);
    require(inside(env->action, data, size) && inside(env->agent_id, data, size));
    require(inside(env->session_id, data, size) && inside(env->nonce, data, size));
    require(inside(env->payload, data, size) && inside(env->signature, data, size));
    require(inside(env->error, data, size) && inside(env->data, data, size));
    require(inside(env->event, data, size));
    collab_span_t map = env->kind == COLLAB_KIND_REQUEST ? env->payload : env->data;
    require(map.len >= 1 && map.len <= COLLAB_MAX_PAYLOAD);
    collab_map_t m;
    require(collab_map_parse(map.ptr, map.len, &m) == 0);
    walk(&m, 1);
    char out[256];
    collab_text_escape(env->error.ptr, env->error.len, out, sizeof out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    collab_envelope_t env;
    collab_map_t m;
    collab_envelope_why_t why;
    int rc = collab_envelope_decode(data, size, &env);
    require(rc <= 0);
    if (rc == 0)
        check_envelope(&env, data, size);
    /* the same verdict, and what it names is one of the spec's static words: a field with
       its rule, or nothing (error texts never carry the input's bytes) */
    require(collab_envelope_decode_why(data, size, &env, NULL, &why) == rc);
    require((why.field == NULL) == (why.rule == NULL));
    require(rc != 0 || why.field == NULL);
    require(!why.field || (strlen(why.field) <= 16 && strlen(why.rule) < 128));
    if (collab_map_parse(data, size, &m) == 0)
        walk(&m, 1);
    size_t cps;
    if (collab_utf8_check((const char *)data, size, &cps) == 0)
        require(cps <= size);
    return 0;
}
