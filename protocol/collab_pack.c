/*  collab_pack.c: msgpack-c's packer writing into a bounded buffer, counting the values
    each map and array receives against the count its header declared. */
#include "collab_pack.h"
#include "collab_error.h"

#include <string.h>

static int buf_write(void *data, const char *buf, size_t len)
{
    collab_pack_t *p = (collab_pack_t *)data;
    if (len == 0)
        return 0; /* empty str/bin bodies may come from {NULL, 0}: memcpy(NULL) is undefined */
    if (p->overflow || len > p->cap - p->len) {
        p->overflow = true;
        return -1;
    }
    memcpy(p->data + p->len, buf, len);
    p->len += len;
    return 0;
}

void collab_pack_init(collab_pack_t *p, void *mem, size_t cap)
{
    p->data = (char *)mem;
    p->len = 0;
    p->cap = cap;
    p->overflow = false;
    p->depth = p->top_values = 0;
    p->top_container = p->miscounted = p->unchecked = false;
    msgpack_packer_init(&p->pk, p, buf_write);
}

void collab_pack_unchecked(collab_pack_t *p)
{
    p->unchecked = true;
}

/*  Counts n complete values toward the innermost open container, closing each container
    its last value completes (which is itself one value of its parent). */
static void count_values(collab_pack_t *p, uint64_t n)
{
    while (n > 0) {
        if (p->depth == 0) {
            /* a value after a complete top-level container: more than it declared */
            if (p->top_container && p->top_values > 0)
                p->miscounted = true;
            p->top_values += (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n);
            return;
        }
        uint64_t *owed = &p->owed[p->depth - 1];
        uint64_t take = n < *owed ? n : *owed;
        *owed -= take;
        n -= take;
        if (*owed > 0)
            return;
        p->depth--; /* complete: one value of its parent */
        n++;
    }
}

/*  One complete value: the common case of count_values, inside a container it does not
    complete. */
static inline void count_one(collab_pack_t *p)
{
    if (p->depth > 0 && p->owed[p->depth - 1] > 1)
        p->owed[p->depth - 1]--;
    else
        count_values(p, 1);
}

/*  A container header: it opens, or with no entries is at once one complete value. */
static void open_container(collab_pack_t *p, uint64_t values)
{
    if (p->depth == 0 && p->top_values == 0)
        p->top_container = true;
    if (values == 0) {
        count_values(p, 1);
        return;
    }
    if (p->depth == COLLAB_PACK_DEPTH) {
        p->unchecked = true; /* deeper than followed: not checked */
        return;
    }
    p->owed[p->depth++] = values;
}

int collab_pack_finish(const collab_pack_t *p, size_t *len)
{
    if (p->overflow)
        return COLLAB_E_TOO_LARGE;
    if (!p->unchecked && (p->miscounted || p->depth > 0))
        return COLLAB_E_INTERNAL;
    *len = p->len;
    return 0;
}

void collab_pack_map(collab_pack_t *p, uint32_t n)
{
    open_container(p, (uint64_t)n * 2);
    msgpack_pack_map(&p->pk, n);
}

void collab_pack_array(collab_pack_t *p, uint32_t n)
{
    open_container(p, n);
    msgpack_pack_array(&p->pk, n);
}

void collab_pack_strn(collab_pack_t *p, const char *s, size_t len)
{
    if (len > UINT32_MAX) {
        p->overflow = true;
        return;
    }
    count_one(p);
    /* most strings (every key) are under 32 bytes: a fixstr, whose one header byte is the
       format of MessagePack's spec, written here in one copy with its body rather than in
       two calls through msgpack-c's write callback (the same bytes it writes) */
    if (len < 32 && !p->overflow && len < p->cap - p->len) {
        p->data[p->len] = (char)(0xa0u | (unsigned)len);
        if (len)
            memcpy(p->data + p->len + 1, s, len);
        p->len += len + 1;
        return;
    }
    msgpack_pack_str(&p->pk, len);
    msgpack_pack_str_body(&p->pk, s, len);
}

void collab_pack_bin(collab_pack_t *p, const void *b, size_t len)
{
    if (len > UINT32_MAX) {
        p->overflow = true;
        return;
    }
    count_values(p, 1);
    msgpack_pack_bin(&p->pk, len);
    msgpack_pack_bin_body(&p->pk, b, len);
}

void collab_pack_uint(collab_pack_t *p, uint64_t v)
{
    count_one(p);
    msgpack_pack_uint64(&p->pk, v);
}

void collab_pack_int(collab_pack_t *p, int64_t v)
{
    count_values(p, 1);
    msgpack_pack_int64(&p->pk, v);
}

void collab_pack_bool(collab_pack_t *p, bool v)
{
    count_values(p, 1);
    if (v)
        msgpack_pack_true(&p->pk);
    else
        msgpack_pack_false(&p->pk);
}

void collab_pack_nil(collab_pack_t *p)
{
    count_values(p, 1);
    msgpack_pack_nil(&p->pk);
}

void collab_pack_raw(collab_pack_t *p, const void *b, size_t len, uint32_t values)
{
    count_values(p, values);
    buf_write(p, (const char *)b, len);
}
