/*  store_ops.c: recorded batches of writes (see store_ops.h). A record is
    [stmt u8][nvals u8] then each value as 'i' + 8 bytes, or 't'/'b' + u32 length + bytes,
    in host byte order: records never leave the process. */
#include "store_ops.h"

#include <stdlib.h>
#include <string.h>

#define OPS_MAX_LEN 0x7fffffffu /* what SQLite binds */

void collab_ops_reset(collab_ops_t *o)
{
    o->len = o->mark = 0;
    o->count = 0;
    o->failed = false;
}

void collab_ops_free(collab_ops_t *o)
{
    free(o->data);
    memset(o, 0, sizeof *o);
}

static bool reserve(collab_ops_t *o, size_t more)
{
    if (o->failed)
        return false;
    if (more <= o->cap - o->len)
        return true;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->len < more) {
        if (cap > SIZE_MAX / 2)
            goto fail;
        cap *= 2;
    }
    uint8_t *p = realloc(o->data, cap);
    if (!p)
        goto fail;
    o->data = p;
    o->cap = cap;
    return true;
fail:
    o->failed = true;
    return false;
}

static void put(collab_ops_t *o, const void *p, size_t n)
{
    memcpy(o->data + o->len, p, n);
    o->len += n;
}

void collab_ops_begin(collab_ops_t *o, unsigned stmt)
{
    if (stmt > 255) {
        o->failed = true;
        return;
    }
    if (!reserve(o, 2))
        return;
    o->mark = o->len;
    uint8_t head[2] = {(uint8_t)stmt, 0};
    put(o, head, 2);
}

/*  Counts one more value in the open record; false when the record is full. */
static bool count_value(collab_ops_t *o)
{
    if (o->failed)
        return false;
    uint8_t *n = o->data + o->mark + 1;
    if (*n >= COLLAB_OPS_MAX_VALUES) {
        o->failed = true;
        return false;
    }
    (*n)++;
    return true;
}

void collab_ops_int(collab_ops_t *o, int64_t v)
{
    if (!reserve(o, 9) || !count_value(o))
        return;
    uint8_t kind = COLLAB_OPV_INT;
    put(o, &kind, 1);
    put(o, &v, sizeof v);
}

static void bytes(collab_ops_t *o, uint8_t kind, const void *p, size_t len)
{
    if (len > OPS_MAX_LEN) {
        o->failed = true;
        return;
    }
    if (!reserve(o, 5 + len) || !count_value(o))
        return;
    uint32_t n = (uint32_t)len;
    put(o, &kind, 1);
    put(o, &n, sizeof n);
    if (len)
        put(o, p, len);
}

void collab_ops_text(collab_ops_t *o, const char *s, size_t len)
{
    bytes(o, COLLAB_OPV_TEXT, s, s ? len : 0);
}

void collab_ops_blob(collab_ops_t *o, const void *p, size_t len)
{
    bytes(o, COLLAB_OPV_BLOB, p, p ? len : 0);
}

bool collab_ops_end(collab_ops_t *o)
{
    if (o->failed)
        return false;
    o->count++;
    return true;
}

bool collab_ops_next(const collab_ops_t *o, size_t *pos, unsigned *stmt, collab_opv_t *vals,
                     unsigned *nvals)
{
    size_t at = *pos;
    if (o->failed || at >= o->len || o->len - at < 2)
        return false;
    unsigned n = o->data[at + 1];
    if (n > COLLAB_OPS_MAX_VALUES)
        return false;
    *stmt = o->data[at];
    at += 2;
    for (unsigned i = 0; i < n; i++) {
        if (o->len - at < 1)
            return false;
        collab_opv_t *v = &vals[i];
        v->kind = (collab_opv_kind_t)o->data[at++];
        v->i = 0;
        v->p = NULL;
        v->len = 0;
        if (v->kind == COLLAB_OPV_INT) {
            if (o->len - at < sizeof v->i)
                return false;
            memcpy(&v->i, o->data + at, sizeof v->i);
            at += sizeof v->i;
        } else if (v->kind == COLLAB_OPV_TEXT || v->kind == COLLAB_OPV_BLOB) {
            if (o->len - at < sizeof v->len)
                return false;
            memcpy(&v->len, o->data + at, sizeof v->len);
            at += sizeof v->len;
            if (o->len - at < v->len)
                return false;
            v->p = o->data + at;
            at += v->len;
        } else {
            return false;
        }
    }
    *nvals = n;
    *pos = at;
    return true;
}
