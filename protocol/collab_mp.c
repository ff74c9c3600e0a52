/*  collab_mp.c: the bounded MessagePack cursor (see collab_mp.h).
    Every length is checked as `n > (size_t)(end - p)` before the bytes are touched. */
#include "collab_mp.h"
#include "collab_error.h"

#include <string.h>

void collab_mp_reader_init(collab_mp_reader_t *r, const void *data, size_t len)
{
    r->p = (const uint8_t *)data;
    r->end = len ? r->p + len : r->p; /* NULL + 0 is undefined in C: empty spans are {NULL, 0} */
}

bool collab_mp_at_end(const collab_mp_reader_t *r)
{
    return r->p == r->end;
}

static int take(collab_mp_reader_t *r, size_t n, const uint8_t **out)
{
    if (n > (size_t)(r->end - r->p))
        return COLLAB_E_MALFORMED;
    *out = r->p;
    r->p += n;
    return 0;
}

static uint64_t be(const uint8_t *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | b[i];
    return v;
}

/*  Reads an unsigned big-endian integer of n bytes. */
static int take_be(collab_mp_reader_t *r, size_t n, uint64_t *out)
{
    const uint8_t *b;
    int rc = take(r, n, &b);
    if (rc == 0)
        *out = be(b, n);
    return rc;
}

/*  str/bin/ext body of len bytes follows. */
static int take_body(collab_mp_reader_t *r, collab_mp_value_t *v, uint64_t len)
{
    const uint8_t *b;
    int rc = take(r, (size_t)len, &b);
    if (rc == 0) {
        v->ptr = (const char *)b;
        v->len = (uint32_t)len;
    }
    return rc;
}

static int read_sized(collab_mp_reader_t *r, collab_mp_value_t *v, collab_mp_type_t t,
                      size_t lenbytes)
{
    uint64_t n;
    int rc = take_be(r, lenbytes, &n);
    if (rc)
        return rc;
    v->type = t;
    if (t == COLLAB_MP_ARRAY || t == COLLAB_MP_MAP) {
        v->len = (uint32_t)n;
        return 0;
    }
    return take_body(r, v, n);
}

static int read_ext(collab_mp_reader_t *r, collab_mp_value_t *v, size_t lenbytes, uint64_t fixed)
{
    uint64_t n = fixed;
    const uint8_t *tb;
    int rc = lenbytes ? take_be(r, lenbytes, &n) : 0;
    if (rc == 0)
        rc = take(r, 1, &tb);
    v->type = COLLAB_MP_EXT;
    return rc ? rc : take_body(r, v, n);
}

static int read_int(collab_mp_reader_t *r, collab_mp_value_t *v, size_t n, bool is_signed)
{
    uint64_t raw;
    int rc = take_be(r, n, &raw);
    if (rc)
        return rc;
    if (!is_signed) {
        v->type = COLLAB_MP_UINT;
        v->u = raw;
        return 0;
    }
    int64_t s;
    if (n == 1)
        s = (int8_t)raw;
    else if (n == 2)
        s = (int16_t)raw;
    else if (n == 4)
        s = (int32_t)raw;
    else
        s = (int64_t)raw;
    if (s >= 0) {
        v->type = COLLAB_MP_UINT;
        v->u = (uint64_t)s;
    } else {
        v->type = COLLAB_MP_INT;
        v->i = s;
    }
    return 0;
}

static int read_float(collab_mp_reader_t *r, collab_mp_value_t *v, size_t n)
{
    uint64_t raw;
    int rc = take_be(r, n, &raw);
    if (rc)
        return rc;
    v->type = COLLAB_MP_FLOAT;
    if (n == 4) {
        uint32_t w = (uint32_t)raw;
        float f;
        memcpy(&f, &w, sizeof f);
        v->f = f;
    } else {
        memcpy(&v->f, &raw, sizeof v->f);
    }
    return 0;
}

static int read_fix(uint8_t c, collab_mp_reader_t *r, collab_mp_value_t *v)
{
    if (c <= 0x7f) {
        v->type = COLLAB_MP_UINT;
        v->u = c;
        return 0;
    }
    if (c >= 0xe0) {
        v->type = COLLAB_MP_INT;
        v->i = (int8_t)c;
        return 0;
    }
    if (c <= 0x8f) {
        v->type = COLLAB_MP_MAP;
        v->len = c & 0x0f;
        return 0;
    }
    if (c <= 0x9f) {
        v->type = COLLAB_MP_ARRAY;
        v->len = c & 0x0f;
        return 0;
    }
    v->type = COLLAB_MP_STR; /* 0xa0..0xbf */
    return take_body(r, v, c & 0x1f);
}

int collab_mp_read(collab_mp_reader_t *r, collab_mp_value_t *v)
{
    const uint8_t *cp;
    if (take(r, 1, &cp))
        return COLLAB_E_MALFORMED;
    uint8_t c = *cp;
    memset(v, 0, sizeof *v);
    if (c <= 0xbf || c >= 0xe0)
        return read_fix(c, r, v);
    switch (c) {
    case 0xc0:
        v->type = COLLAB_MP_NIL;
        return 0;
    case 0xc2:
        v->type = COLLAB_MP_BOOL;
        v->b = false;
        return 0;
    case 0xc3:
        v->type = COLLAB_MP_BOOL;
        v->b = true;
        return 0;
    case 0xc4:
        return read_sized(r, v, COLLAB_MP_BIN, 1);
    case 0xc5:
        return read_sized(r, v, COLLAB_MP_BIN, 2);
    case 0xc6:
        return read_sized(r, v, COLLAB_MP_BIN, 4);
    case 0xc7:
        return read_ext(r, v, 1, 0);
    case 0xc8:
        return read_ext(r, v, 2, 0);
    case 0xc9:
        return read_ext(r, v, 4, 0);
    case 0xca:
        return read_float(r, v, 4);
    case 0xcb:
        return read_float(r, v, 8);
    case 0xcc:
        return read_int(r, v, 1, false);
    case 0xcd:
        return read_int(r, v, 2, false);
    case 0xce:
        return read_int(r, v, 4, false);
    case 0xcf:
        return read_int(r, v, 8, false);
    case 0xd0:
        return read_int(r, v, 1, true);
    case 0xd1:
        return read_int(r, v, 2, true);
    case 0xd2:
        return read_int(r, v, 4, true);
    case 0xd3:
        return read_int(r, v, 8, true);
    case 0xd4:
        return read_ext(r, v, 0, 1);
    case 0xd5:
        return read_ext(r, v, 0, 2);
    case 0xd6:
        return read_ext(r, v, 0, 4);
    case 0xd7:
        return read_ext(r, v, 0, 8);
    case 0xd8:
        return read_ext(r, v, 0, 16);
    case 0xd9:
        return read_sized(r, v, COLLAB_MP_STR, 1);
    case 0xda:
        return read_sized(r, v, COLLAB_MP_STR, 2);
    case 0xdb:
        return read_sized(r, v, COLLAB_MP_STR, 4);
    case 0xdc:
        return read_sized(r, v, COLLAB_MP_ARRAY, 2);
    case 0xdd:
        return read_sized(r, v, COLLAB_MP_ARRAY, 4);
    case 0xde:
        return read_sized(r, v, COLLAB_MP_MAP, 2);
    case 0xdf:
        return read_sized(r, v, COLLAB_MP_MAP, 4);
    default:
        return COLLAB_E_MALFORMED; /* 0xc1 is never used */
    }
}

int collab_mp_skip(collab_mp_reader_t *r, int max_depth, uint32_t max_entries)
{
    collab_mp_value_t v;
    int rc = collab_mp_read(r, &v);
    if (rc)
        return rc;
    if (v.type != COLLAB_MP_ARRAY && v.type != COLLAB_MP_MAP)
        return 0;
    if (max_depth < 1)
        return COLLAB_E_LIMIT;
    if (v.len > max_entries)
        return COLLAB_E_LIMIT;
    uint64_t items = v.type == COLLAB_MP_MAP ? 2ull * v.len : v.len;
    for (uint64_t k = 0; k < items; k++)
        if ((rc = collab_mp_skip(r, max_depth - 1, max_entries)) != 0)
            return rc;
    return 0;
}
