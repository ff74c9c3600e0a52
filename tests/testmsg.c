/*  testmsg.c: shared test helpers (see testmsg.h). Test-only code: it may pack anything,
    including messages the protocol forbids, because that is what the tests feed the decoder. */
#include "testmsg.h"
#include "collab_hex.h"

#include <string.h>

const uint8_t TM_KEY[COLLAB_KEY_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

const uint8_t TM_NONCE[COLLAB_NONCE_LEN] = {
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

void tm_hex(const void *bytes, size_t len, char *out)
{
    collab_hex_encode(bytes, len, out, 2 * len + 1);
}

long tm_unhex(const char *hex, uint8_t *out, size_t cap)
{
    return collab_hex_decode(hex, strlen(hex), out, cap);
}

collab_span_t tm_span(const char *s)
{
    return (collab_span_t){s, strlen(s)};
}

void tm_request(collab_envelope_t *req, const char *action, const void *payload, size_t len)
{
    memset(req, 0, sizeof *req);
    req->kind = COLLAB_KIND_REQUEST;
    req->version = COLLAB_PROTOCOL_VERSION;
    req->request_id = 7;
    req->action = tm_span(action);
    req->agent_id = tm_span("alice");
    req->session_id = tm_span("sess-0001");
    req->timestamp = TM_TIMESTAMP;
    req->payload = (collab_span_t){(const char *)payload, len};
}

size_t tm_payload_task(uint8_t *out, size_t cap)
{
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, out, cap);
    collab_pack_map(&p, 3);
    collab_pack_kv_uint(&p, "task_id", 4242);
    collab_pack_kv_str(&p, "status", "done");
    collab_pack_kv_str(&p, "result",
                       "built 14 artifacts, 0 warnings; checksums verified and "
                       "uploaded to the project store for review");
    return collab_pack_finish(&p, &len) == 0 ? len : 0;
}

size_t tm_payload_bin(uint8_t *out, size_t cap, size_t n)
{
    static const uint8_t zeros[COLLAB_MAX_FRAME];
    collab_pack_t p;
    size_t len;
    if (n > sizeof zeros)
        return 0;
    collab_pack_init(&p, out, cap);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "b");
    collab_pack_bin(&p, zeros, n);
    return collab_pack_finish(&p, &len) == 0 ? len : 0;
}

static tm_field_t f_str(const char *key, collab_span_t s)
{
    return (tm_field_t){.key = key, .kind = TM_STR, .ptr = s.ptr, .len = s.len};
}

static tm_field_t f_bin(const char *key, collab_span_t s)
{
    return (tm_field_t){.key = key, .kind = TM_BIN, .ptr = s.ptr, .len = s.len};
}

static tm_field_t f_uint(const char *key, uint64_t u)
{
    return (tm_field_t){.key = key, .kind = TM_UINT, .u = u};
}

static collab_span_t or_empty_map(collab_span_t s)
{
    return s.len ? s : COLLAB_EMPTY_MAP;
}

static void request_fields(const collab_envelope_t *env, tm_fields_t *fs)
{
    tm_fields_add(fs, f_uint("request_id", env->request_id));
    tm_fields_add(fs, f_str("action", env->action));
    tm_fields_add(fs, f_str("agent_id", env->agent_id));
    tm_fields_add(fs, f_str("session_id", env->session_id));
    tm_fields_add(fs, f_uint("timestamp", env->timestamp));
    if (env->nonce.len)
        tm_fields_add(fs, f_bin("nonce", env->nonce));
    tm_fields_add(fs, f_bin("payload", or_empty_map(env->payload)));
    if (env->signature.len)
        tm_fields_add(fs, f_bin("signature", env->signature));
}

void tm_fields_from_env(const collab_envelope_t *env, tm_fields_t *fs)
{
    static const char *const kinds[] = {"", "request", "reply", "event"};
    fs->n = 0;
    tm_fields_add(fs, f_str("type", tm_span(kinds[env->kind & 3])));
    tm_fields_add(fs, f_uint("version", env->version));
    if (env->kind == COLLAB_KIND_REQUEST) {
        request_fields(env, fs);
    } else if (env->kind == COLLAB_KIND_REPLY) {
        tm_fields_add(fs, f_uint("request_id", env->request_id));
        tm_fields_add(fs, f_str("status", tm_span(env->ok ? "ok" : "error")));
        tm_fields_add(fs, f_uint("error_code", env->error_code));
        tm_fields_add(fs, f_str("error", env->error));
        tm_fields_add(fs, f_bin("data", or_empty_map(env->data)));
    } else {
        tm_fields_add(fs, f_str("event", env->event));
        tm_fields_add(fs, f_uint("seq", env->seq));
        tm_fields_add(fs, f_uint("timestamp", env->timestamp));
        tm_fields_add(fs, f_bin("data", or_empty_map(env->data)));
    }
}

tm_field_t *tm_fields_find(tm_fields_t *fs, const char *key)
{
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->f[i].key, key) == 0)
            return &fs->f[i];
    return NULL;
}

void tm_fields_remove(tm_fields_t *fs, const char *key)
{
    size_t o = 0;
    for (size_t i = 0; i < fs->n; i++)
        if (strcmp(fs->f[i].key, key) != 0)
            fs->f[o++] = fs->f[i];
    fs->n = o;
}

void tm_fields_add(tm_fields_t *fs, tm_field_t f)
{
    if (fs->n < TM_MAX_FIELDS)
        fs->f[fs->n++] = f;
}

size_t tm_fields_pack(const tm_fields_t *fs, uint8_t *out, size_t cap)
{
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, out, cap);
    collab_pack_map(&p, (uint32_t)fs->n);
    for (size_t i = 0; i < fs->n; i++) {
        const tm_field_t *f = &fs->f[i];
        collab_pack_str(&p, f->key);
        switch (f->kind) {
        case TM_STR:
            collab_pack_strn(&p, f->ptr, f->len);
            break;
        case TM_BIN:
            collab_pack_bin(&p, f->ptr, f->len);
            break;
        case TM_UINT:
            collab_pack_uint(&p, f->u);
            break;
        case TM_INT:
            collab_pack_int(&p, f->i);
            break;
        case TM_RAW:
            collab_pack_unchecked(&p); /* forged bytes: not always one whole value */
            collab_pack_raw(&p, f->ptr, f->len, 1);
            break;
        }
    }
    return collab_pack_finish(&p, &len) == 0 ? len : 0;
}
