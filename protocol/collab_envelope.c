/*  collab_envelope.c: envelope codec (see collab_envelope.h, PROTOCOL.md "Envelope"). */
#include "collab_envelope.h"
#include "collab_error.h"
#include "collab_limits.h"
#include "collab_pack.h"
#include "collab_text.h"

#include <string.h>

const collab_span_t COLLAB_EMPTY_MAP = {"\x80", 1};

typedef enum {
    F_TYPE,
    F_VERSION,
    F_REQUEST_ID,
    F_ACTION,
    F_AGENT_ID,
    F_SESSION_ID,
    F_TIMESTAMP,
    F_NONCE,
    F_PAYLOAD,
    F_SIGNATURE,
    F_STATUS,
    F_ERROR_CODE,
    F_ERROR,
    F_DATA,
    F_EVENT,
    F_SEQ,
    F_COUNT
} field_t;

#define T_STR  "must be a str"
#define T_UINT "must be an unsigned integer"
#define T_BIN  "must be a bin"
#define MAP_LIMIT                                                                                  \
    "breaks a limit of PROTOCOL.md 3 (64 entries, 1000 items, depth 8, keys of 64 bytes)"
#define MAP_SHAPE "must hold exactly one MessagePack map, without extension types"

/*  One row per field: its key, then what the error text says (PROTOCOL.md 9) when the field
    has the wrong type, breaks its limit, or (malformed) is not one of its words. */
static const struct {
    const char *name, *type, *limit, *word;
} fields[F_COUNT] = {
    [F_TYPE] = {"type", T_STR, NULL, "must be request, reply or event"},
    [F_VERSION] = {"version", T_UINT, NULL, NULL},
    [F_REQUEST_ID] = {"request_id", T_UINT, NULL, NULL},
    [F_ACTION] = {"action", T_STR, "must be 1 to 32 bytes of a-z and _", NULL},
    [F_AGENT_ID] = {"agent_id", T_STR, "must be 1 to 64 bytes of A-Z, a-z, 0-9, _, . and -", NULL},
    [F_SESSION_ID] = {"session_id", T_STR, "must be 0 to 128 bytes of 0x21 to 0x7e", NULL},
    [F_TIMESTAMP] = {"timestamp", T_UINT, "must be at most 2^63 - 1", NULL},
    [F_NONCE] = {"nonce", T_BIN, "must be 16 bytes", NULL},
    [F_PAYLOAD] = {"payload", T_BIN, MAP_LIMIT, MAP_SHAPE},
    [F_SIGNATURE] = {"signature", T_BIN, "must be 32 bytes", NULL},
    [F_STATUS] = {"status", T_STR, NULL, "must be ok or error"},
    [F_ERROR_CODE] = {"error_code", T_UINT, "must be at most 65535", NULL},
    [F_ERROR] = {"error", T_STR, "must be at most 512 bytes", NULL},
    [F_DATA] = {"data", T_BIN, MAP_LIMIT, MAP_SHAPE},
    [F_EVENT] = {"event", T_STR, "must be 1 to 32 bytes of a-z and _", NULL},
    [F_SEQ] = {"seq", T_UINT, NULL, NULL},
};

#define BIT(f) (1u << (f))
#define COMMON (BIT(F_TYPE) | BIT(F_VERSION))
static const unsigned required[4] = {
    [COLLAB_KIND_REQUEST] = COMMON | BIT(F_REQUEST_ID) | BIT(F_ACTION) | BIT(F_AGENT_ID) |
                            BIT(F_SESSION_ID) | BIT(F_TIMESTAMP) | BIT(F_PAYLOAD),
    [COLLAB_KIND_REPLY] =
        COMMON | BIT(F_REQUEST_ID) | BIT(F_STATUS) | BIT(F_ERROR_CODE) | BIT(F_ERROR) | BIT(F_DATA),
    [COLLAB_KIND_EVENT] = COMMON | BIT(F_EVENT) | BIT(F_SEQ) | BIT(F_TIMESTAMP) | BIT(F_DATA),
};
static const unsigned optional[4] = {
    [COLLAB_KIND_REQUEST] = BIT(F_NONCE) | BIT(F_SIGNATURE),
};

static int field_lookup(const collab_mp_value_t *key)
{
    for (int f = 0; f < F_COUNT; f++)
        if (strlen(fields[f].name) == key->len && memcmp(fields[f].name, key->ptr, key->len) == 0)
            return f;
    return -1;
}

typedef enum { ALPHA_ACTION, ALPHA_AGENT, ALPHA_SESSION } alphabet_t;

static bool in_alphabet(char c, alphabet_t a)
{
    if (a == ALPHA_ACTION)
        return (c >= 'a' && c <= 'z') || c == '_';
    if (a == ALPHA_SESSION)
        return c >= 0x21 && c <= 0x7e;
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/*  Within one str field: its UTF-8 first, then its limits (PROTOCOL.md 2.4). The UTF-8 scan
    runs only when the cheaper checks already failed: an identifier inside its alphabet
    is ASCII, so valid UTF-8. */
static int utf8_or(const collab_mp_value_t *v, int rc)
{
    return collab_utf8_check(v->ptr, v->len, NULL) != 0 ? COLLAB_E_UTF8 : rc;
}

/*  An identifier: str of min..max bytes from one alphabet. */
static int get_ident(const collab_mp_value_t *v, size_t min, size_t max, alphabet_t a,
                     collab_span_t *out)
{
    if (v->type != COLLAB_MP_STR)
        return COLLAB_E_FIELD_TYPE;
    for (uint32_t i = 0; i < v->len; i++)
        if (!in_alphabet(v->ptr[i], a))
            return utf8_or(v, COLLAB_E_LIMIT);
    if (v->len < min || v->len > max)
        return COLLAB_E_LIMIT;
    *out = (collab_span_t){v->ptr, v->len};
    return 0;
}

static int get_uint(const collab_mp_value_t *v, uint64_t max, uint64_t *out)
{
    if (v->type != COLLAB_MP_UINT)
        return COLLAB_E_FIELD_TYPE;
    if (v->u > max)
        return COLLAB_E_LIMIT;
    *out = v->u;
    return 0;
}

static int get_bin_exact(const collab_mp_value_t *v, size_t n, collab_span_t *out)
{
    if (v->type != COLLAB_MP_BIN)
        return COLLAB_E_FIELD_TYPE;
    if (v->len != n)
        return COLLAB_E_LIMIT;
    *out = (collab_span_t){v->ptr, v->len};
    return 0;
}

/*  payload and data: a bin holding exactly one valid map. */
static int get_map_bin(const collab_mp_value_t *v, collab_span_t *out, collab_map_t *body)
{
    if (v->type != COLLAB_MP_BIN)
        return COLLAB_E_FIELD_TYPE;
    if (v->len > COLLAB_MAX_PAYLOAD)
        return COLLAB_E_TOO_LARGE;
    /* validating is parsing: keep the view when the caller wants it, not walk twice */
    int rc = body ? collab_map_parse(v->ptr, v->len, body) : collab_map_validate(v->ptr, v->len);
    if (rc == 0)
        *out = (collab_span_t){v->ptr, v->len};
    return rc;
}

static int get_kind(const collab_mp_value_t *v, collab_kind_t *kind)
{
    if (v->type != COLLAB_MP_STR)
        return COLLAB_E_FIELD_TYPE;
    collab_span_t s = {v->ptr, v->len};
    if (collab_span_eq(s, "request"))
        *kind = COLLAB_KIND_REQUEST;
    else if (collab_span_eq(s, "reply"))
        *kind = COLLAB_KIND_REPLY;
    else if (collab_span_eq(s, "event"))
        *kind = COLLAB_KIND_EVENT;
    else
        return utf8_or(v, COLLAB_E_MALFORMED);
    return 0;
}

static int get_status(const collab_mp_value_t *v, bool *ok)
{
    if (v->type != COLLAB_MP_STR)
        return COLLAB_E_FIELD_TYPE;
    collab_span_t s = {v->ptr, v->len};
    if (!collab_span_eq(s, "ok") && !collab_span_eq(s, "error"))
        return utf8_or(v, COLLAB_E_MALFORMED);
    *ok = collab_span_eq(s, "ok");
    return 0;
}

static int get_text(const collab_mp_value_t *v, size_t max_bytes, collab_span_t *out)
{
    if (v->type != COLLAB_MP_STR)
        return COLLAB_E_FIELD_TYPE;
    if (v->len > max_bytes)
        return utf8_or(v, COLLAB_E_LIMIT);
    int rc = collab_utf8_check(v->ptr, v->len, NULL);
    if (rc == 0)
        *out = (collab_span_t){v->ptr, v->len};
    return rc;
}

static int get_field(field_t f, const collab_mp_value_t *v, collab_envelope_t *env,
                     collab_map_t *body)
{
    uint64_t u = 0;
    int rc;
    switch (f) {
    case F_TYPE:
        return get_kind(v, &env->kind);
    case F_VERSION: /* any other uint, however large, is a version we do not speak */
        if ((rc = get_uint(v, UINT64_MAX, &u)) != 0)
            return rc;
        if (u != COLLAB_PROTOCOL_VERSION)
            return COLLAB_E_VERSION;
        env->version = (uint32_t)u;
        return 0;
    case F_REQUEST_ID:
        return get_uint(v, UINT64_MAX, &env->request_id);
    case F_ACTION:
        return get_ident(v, 1, COLLAB_MAX_ACTION, ALPHA_ACTION, &env->action);
    case F_AGENT_ID:
        return get_ident(v, 1, COLLAB_MAX_AGENT_ID, ALPHA_AGENT, &env->agent_id);
    case F_SESSION_ID:
        return get_ident(v, 0, COLLAB_MAX_SESSION_ID, ALPHA_SESSION, &env->session_id);
    case F_TIMESTAMP:
        return get_uint(v, INT64_MAX, &env->timestamp);
    case F_NONCE:
        return get_bin_exact(v, COLLAB_NONCE_LEN, &env->nonce);
    case F_PAYLOAD:
        return get_map_bin(v, &env->payload, body);
    case F_SIGNATURE:
        return get_bin_exact(v, COLLAB_SIGNATURE_LEN, &env->signature);
    case F_STATUS:
        return get_status(v, &env->ok);
    case F_ERROR_CODE:
        if ((rc = get_uint(v, 65535, &u)) != 0)
            return rc;
        env->error_code = (uint32_t)u;
        return 0;
    case F_ERROR:
        return get_text(v, COLLAB_MAX_ERROR_TEXT, &env->error);
    case F_DATA:
        return get_map_bin(v, &env->data, body);
    case F_EVENT:
        return get_ident(v, 1, COLLAB_MAX_EVENT_NAME, ALPHA_ACTION, &env->event);
    case F_SEQ:
        return get_uint(v, UINT64_MAX, &env->seq);
    default:
        return COLLAB_E_MALFORMED;
    }
}

int collab_envelope_decode(const void *bytes, size_t len, collab_envelope_t *env)
{
    return collab_envelope_decode_why(bytes, len, env, NULL, NULL);
}

int collab_envelope_decode_map(const void *bytes, size_t len, collab_envelope_t *env,
                               collab_map_t *body)
{
    return collab_envelope_decode_why(bytes, len, env, body, NULL);
}

/*  The error to report, by PROTOCOL.md 2.4: the lowest rank wins, so decoding goes on past
    a bad field (reading request_id wherever it stands) while the bytes still parse. */
typedef struct {
    int rc;
    unsigned rank;
} verdict_t;

#define RANK_STRUCTURE 0u                   /* the envelope map itself */
#define RANK_FIELD(f)  (1u + (unsigned)(f)) /* a field, in canonical order */

static void note(verdict_t *v, unsigned rank, int rc)
{
    if (rc && (v->rc == 0 || rank < v->rank)) {
        v->rc = rc;
        v->rank = rank;
    }
}

/*  Reads one value of the envelope map; a container (never a field's type) is skipped
    whole. Returns 0, or COLLAB_E_MALFORMED when the bytes cannot be walked further. */
static int read_value(collab_mp_reader_t *r, collab_mp_value_t *v)
{
    collab_mp_reader_t at = *r;
    if (collab_mp_read(r, v) != 0)
        return COLLAB_E_MALFORMED;
    if (v->type != COLLAB_MP_ARRAY && v->type != COLLAB_MP_MAP)
        return 0;
    *r = at;
    return collab_mp_skip(r, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES) ? COLLAB_E_MALFORMED : 0;
}

/*  What error rc of field f says about it (PROTOCOL.md 9); NULL: nothing more. */
static const char *rule_of(field_t f, int rc)
{
    bool map = f == F_PAYLOAD || f == F_DATA;
    switch (rc) {
    case COLLAB_E_FIELD_TYPE:
        return fields[f].type;
    case COLLAB_E_LIMIT:
        return fields[f].limit;
    case COLLAB_E_MALFORMED:
        return fields[f].word;
    case COLLAB_E_UTF8:
        return map ? "holds a str that is not valid UTF-8" : "is not valid UTF-8";
    case COLLAB_E_VERSION:
        return "must be 1";
    case COLLAB_E_TOO_LARGE:
        return map ? "is above 61440 bytes, or holds a str above 8192 bytes" : NULL;
    default:
        return NULL;
    }
}

/*  Names field f and its rule in *why (when the caller asked), and returns rc. */
static int say(collab_envelope_why_t *why, int f, const char *rule, int rc)
{
    if (why && rule) {
        why->field = fields[f].name;
        why->rule = rule;
    }
    return rc;
}

/*  The first field of mask, in canonical order. */
static int first_of(unsigned mask)
{
    int f = 0;
    while (f < F_COUNT - 1 && !(mask & BIT(f)))
        f++;
    return f;
}

int collab_envelope_decode_why(const void *bytes, size_t len, collab_envelope_t *env,
                               collab_map_t *body, collab_envelope_why_t *why)
{
    collab_mp_reader_t r;
    collab_mp_value_t hdr, key, val;
    verdict_t v = {0, 0};
    unsigned seen = 0;
    int rc;

    memset(env, 0, sizeof *env);
    if (why)
        *why = (collab_envelope_why_t){NULL, NULL};
    if (len > COLLAB_MAX_FRAME)
        return COLLAB_E_TOO_LARGE;
    collab_mp_reader_init(&r, bytes, len);
    if ((rc = collab_mp_read(&r, &hdr)) != 0)
        return rc;
    if (hdr.type != COLLAB_MP_MAP)
        return COLLAB_E_MALFORMED;
    if (hdr.len > COLLAB_MAX_ENVELOPE_KEYS)
        return COLLAB_E_LIMIT; /* refused by count, unread */
    for (uint32_t i = 0; i < hdr.len; i++) {
        if (read_value(&r, &key) != 0 || read_value(&r, &val) != 0) {
            note(&v, RANK_STRUCTURE, COLLAB_E_MALFORMED);
            return v.rc; /* the bytes end here: what was read so far stays in *env */
        }
        int f = key.type == COLLAB_MP_STR ? field_lookup(&key) : -1;
        if (f < 0 || (seen & BIT(f))) {
            note(&v, RANK_STRUCTURE, COLLAB_E_MALFORMED); /* unknown or duplicate key */
            continue;
        }
        seen |= BIT(f);
        note(&v, RANK_FIELD(f), get_field((field_t)f, &val, env, body));
    }
    if (!collab_mp_at_end(&r))
        note(&v, RANK_STRUCTURE, COLLAB_E_MALFORMED);
    if (v.rc && v.rank == RANK_STRUCTURE)
        return v.rc;
    if (v.rc)
        return say(why, (int)v.rank - 1, rule_of((field_t)(v.rank - 1), v.rc), v.rc);
    if (!(seen & BIT(F_TYPE)))
        return say(why, F_TYPE, "is missing", COLLAB_E_FIELD_MISSING);
    unsigned missing = required[env->kind] & ~seen;
    if (missing)
        return say(why, first_of(missing), "is missing", COLLAB_E_FIELD_MISSING);
    unsigned foreign = seen & ~(required[env->kind] | optional[env->kind]);
    if (foreign) /* a field of another kind */
        return say(why, first_of(foreign), "does not belong to this type of message",
                   COLLAB_E_MALFORMED);
    return 0;
}

static void kv_span_str(collab_pack_t *p, field_t f, collab_span_t s)
{
    collab_pack_str(p, fields[f].name);
    collab_pack_strn(p, s.ptr, s.len);
}

static void kv_span_bin(collab_pack_t *p, field_t f, collab_span_t s)
{
    collab_pack_str(p, fields[f].name);
    collab_pack_bin(p, s.ptr, s.len);
}

static const char *const kind_names[4] = {NULL, "request", "reply", "event"};

static collab_span_t map_or_empty(collab_span_t s)
{
    return s.len ? s : COLLAB_EMPTY_MAP;
}

static void encode_request(collab_pack_t *p, const collab_envelope_t *env)
{
    collab_pack_map(p, 8 + (env->nonce.len > 0) + (env->signature.len > 0));
    collab_pack_kv_str(p, "type", kind_names[env->kind]);
    collab_pack_kv_uint(p, "version", env->version);
    collab_pack_kv_uint(p, "request_id", env->request_id);
    kv_span_str(p, F_ACTION, env->action);
    kv_span_str(p, F_AGENT_ID, env->agent_id);
    kv_span_str(p, F_SESSION_ID, env->session_id);
    collab_pack_kv_uint(p, "timestamp", env->timestamp);
    if (env->nonce.len)
        kv_span_bin(p, F_NONCE, env->nonce);
    kv_span_bin(p, F_PAYLOAD, map_or_empty(env->payload));
    if (env->signature.len)
        kv_span_bin(p, F_SIGNATURE, env->signature);
}

static void encode_reply(collab_pack_t *p, const collab_envelope_t *env)
{
    collab_pack_map(p, 7);
    collab_pack_kv_str(p, "type", kind_names[env->kind]);
    collab_pack_kv_uint(p, "version", env->version);
    collab_pack_kv_uint(p, "request_id", env->request_id);
    collab_pack_kv_str(p, "status", env->ok ? "ok" : "error");
    collab_pack_kv_uint(p, "error_code", env->error_code);
    kv_span_str(p, F_ERROR, env->error);
    kv_span_bin(p, F_DATA, map_or_empty(env->data));
}

static void encode_event(collab_pack_t *p, const collab_envelope_t *env)
{
    collab_pack_map(p, 6);
    collab_pack_kv_str(p, "type", kind_names[env->kind]);
    collab_pack_kv_uint(p, "version", env->version);
    kv_span_str(p, F_EVENT, env->event);
    collab_pack_kv_uint(p, "seq", env->seq);
    collab_pack_kv_uint(p, "timestamp", env->timestamp);
    kv_span_bin(p, F_DATA, map_or_empty(env->data));
}

int collab_envelope_encode(const collab_envelope_t *env, void *out, size_t cap, size_t *len)
{
    collab_pack_t p;
    if (env->kind < COLLAB_KIND_REQUEST || env->kind > COLLAB_KIND_EVENT)
        return COLLAB_E_MALFORMED;
    if (env->payload.len > COLLAB_MAX_PAYLOAD || env->data.len > COLLAB_MAX_PAYLOAD ||
        env->error.len > COLLAB_MAX_ERROR_TEXT)
        return COLLAB_E_TOO_LARGE;
    if (cap > COLLAB_MAX_FRAME)
        cap = COLLAB_MAX_FRAME;
    collab_pack_init(&p, out, cap);
    if (env->kind == COLLAB_KIND_REQUEST)
        encode_request(&p, env);
    else if (env->kind == COLLAB_KIND_REPLY)
        encode_reply(&p, env);
    else
        encode_event(&p, env);
    return collab_pack_finish(&p, len);
}
