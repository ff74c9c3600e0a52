/*  collab_map.c: validated map views over MessagePack bytes (see collab_map.h). */
#include "collab_map.h"
#include "collab_error.h"
#include "collab_text.h"

#include <stdlib.h>
#include <string.h>

char *collab_strndup(const char *ptr, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        if (len)
            memcpy(copy, ptr, len);
        copy[len] = '\0';
    }
    return copy;
}

bool collab_span_eq(collab_span_t s, const char *cstr)
{
    size_t n = strlen(cstr);
    return s.len == n && (n == 0 || memcmp(s.ptr, cstr, n) == 0);
}

/*  Walks one value at nesting level `depth` (1 = inside the top map), validating limits. */
static int check_value(collab_mp_reader_t *r, int depth, collab_mp_value_t *out)
{
    collab_mp_value_t v;
    int rc = collab_mp_read(r, &v);
    if (rc)
        return rc;
    if (out)
        *out = v;
    switch (v.type) {
    case COLLAB_MP_STR: /* its UTF-8, then its size (PROTOCOL.md 2.4) */
        if ((rc = collab_utf8_check(v.ptr, v.len, NULL)) != 0)
            return rc;
        return v.len > COLLAB_MAX_STR_BYTES ? COLLAB_E_TOO_LARGE : 0;
    case COLLAB_MP_EXT:
        return COLLAB_E_MALFORMED; /* no extension types in this protocol */
    case COLLAB_MP_ARRAY:
    case COLLAB_MP_MAP:
        break;
    default:
        return 0;
    }
    if (depth >= COLLAB_MAX_DEPTH)
        return COLLAB_E_LIMIT;
    bool is_map = v.type == COLLAB_MP_MAP;
    if (v.len > (is_map ? COLLAB_MAX_MAP_ENTRIES : COLLAB_MAX_LIST_ENTRIES))
        return COLLAB_E_LIMIT;
    collab_span_t keys[COLLAB_MAX_MAP_ENTRIES];
    for (uint32_t k = 0; k < v.len; k++) {
        if (is_map) {
            collab_mp_value_t key;
            if ((rc = check_value(r, depth + 1, &key)) != 0)
                return rc;
            if (key.type != COLLAB_MP_STR)
                return COLLAB_E_MALFORMED;
            if (key.len > COLLAB_MAX_KEY_BYTES)
                return COLLAB_E_LIMIT;
            keys[k] = (collab_span_t){key.ptr, key.len};
            for (uint32_t j = 0; j < k; j++) /* no key twice, at any depth */
                if (keys[j].len == key.len && memcmp(keys[j].ptr, key.ptr, key.len) == 0)
                    return COLLAB_E_MALFORMED;
        }
        if ((rc = check_value(r, depth + 1, NULL)) != 0)
            return rc;
    }
    return 0;
}

static bool has_key(const collab_map_t *m, uint32_t upto, collab_span_t key)
{
    for (uint32_t i = 0; i < upto; i++)
        if (m->e[i].key.len == key.len && memcmp(m->e[i].key.ptr, key.ptr, key.len) == 0)
            return true;
    return false;
}

int collab_map_parse(const void *bytes, size_t len, collab_map_t *m)
{
    collab_mp_reader_t r;
    collab_mp_value_t hdr;
    int rc;
    if (len > COLLAB_MAX_PAYLOAD)
        return COLLAB_E_TOO_LARGE;
    collab_mp_reader_init(&r, bytes, len);
    if ((rc = collab_mp_read(&r, &hdr)) != 0)
        return rc;
    if (hdr.type != COLLAB_MP_MAP)
        return COLLAB_E_MALFORMED;
    if (hdr.len > COLLAB_MAX_MAP_ENTRIES)
        return COLLAB_E_LIMIT;
    m->count = 0;
    for (uint32_t i = 0; i < hdr.len; i++) {
        collab_map_entry_t *e = &m->e[i];
        collab_mp_value_t key;
        if ((rc = check_value(&r, 1, &key)) != 0)
            return rc;
        if (key.type != COLLAB_MP_STR)
            return COLLAB_E_MALFORMED;
        if (key.len > COLLAB_MAX_KEY_BYTES)
            return COLLAB_E_LIMIT;
        e->key.ptr = key.ptr;
        e->key.len = key.len;
        if (has_key(m, i, e->key))
            return COLLAB_E_MALFORMED;
        const uint8_t *start = r.p;
        if ((rc = check_value(&r, 1, &e->val)) != 0)
            return rc;
        e->raw.ptr = (const char *)start;
        e->raw.len = (size_t)(r.p - start);
        m->count = i + 1;
    }
    return collab_mp_at_end(&r) ? 0 : COLLAB_E_MALFORMED;
}

int collab_map_validate(const void *bytes, size_t len)
{
    collab_map_t m;
    return collab_map_parse(bytes, len, &m);
}

const collab_map_entry_t *collab_map_find(const collab_map_t *m, const char *key)
{
    for (uint32_t i = 0; i < m->count; i++)
        if (collab_span_eq(m->e[i].key, key))
            return &m->e[i];
    return NULL;
}

static int find_typed(const collab_map_t *m, const char *key, collab_mp_type_t t,
                      const collab_map_entry_t **out)
{
    const collab_map_entry_t *e = collab_map_find(m, key);
    if (!e)
        return COLLAB_E_FIELD_MISSING;
    if (e->val.type != t)
        return COLLAB_E_FIELD_TYPE;
    *out = e;
    return 0;
}

int collab_map_str(const collab_map_t *m, const char *key, collab_span_t *out)
{
    const collab_map_entry_t *e;
    int rc = find_typed(m, key, COLLAB_MP_STR, &e);
    if (rc == 0)
        *out = (collab_span_t){e->val.ptr, e->val.len};
    return rc;
}

int collab_map_bin(const collab_map_t *m, const char *key, collab_span_t *out)
{
    const collab_map_entry_t *e;
    int rc = find_typed(m, key, COLLAB_MP_BIN, &e);
    if (rc == 0)
        *out = (collab_span_t){e->val.ptr, e->val.len};
    return rc;
}

int collab_map_uint(const collab_map_t *m, const char *key, uint64_t *out)
{
    const collab_map_entry_t *e;
    int rc = find_typed(m, key, COLLAB_MP_UINT, &e);
    if (rc == 0)
        *out = e->val.u;
    return rc;
}

int collab_map_int(const collab_map_t *m, const char *key, int64_t *out)
{
    const collab_map_entry_t *e = collab_map_find(m, key);
    if (!e)
        return COLLAB_E_FIELD_MISSING;
    if (e->val.type == COLLAB_MP_INT) {
        *out = e->val.i;
        return 0;
    }
    if (e->val.type != COLLAB_MP_UINT || e->val.u > INT64_MAX)
        return COLLAB_E_FIELD_TYPE;
    *out = (int64_t)e->val.u;
    return 0;
}

int collab_map_bool(const collab_map_t *m, const char *key, bool *out)
{
    const collab_map_entry_t *e;
    int rc = find_typed(m, key, COLLAB_MP_BOOL, &e);
    if (rc == 0)
        *out = e->val.b;
    return rc;
}

int collab_map_array(const collab_map_t *m, const char *key, collab_mp_reader_t *r, uint32_t *n)
{
    const collab_map_entry_t *e;
    int rc = find_typed(m, key, COLLAB_MP_ARRAY, &e);
    if (rc)
        return rc;
    collab_mp_reader_init(r, e->raw.ptr, e->raw.len);
    collab_mp_value_t hdr;
    if (collab_mp_read(r, &hdr) != 0)
        return COLLAB_E_MALFORMED;
    *n = hdr.len;
    return 0;
}

int collab_map_array_next(collab_mp_reader_t *r, collab_map_t *out)
{
    const uint8_t *start = r->p;
    int rc = collab_mp_skip(r, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES);
    return rc ? rc : collab_map_parse(start, (size_t)(r->p - start), out);
}

int collab_map_submap(const collab_map_t *m, const char *key, collab_map_t *sub)
{
    const collab_map_entry_t *e;
    int rc = find_typed(m, key, COLLAB_MP_MAP, &e);
    return rc ? rc : collab_map_parse(e->raw.ptr, e->raw.len, sub);
}
