/*  collab_pack.c: msgpack-c's packer writing into a bounded buffer. */
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
    msgpack_packer_init(&p->pk, p, buf_write);
}

int collab_pack_finish(const collab_pack_t *p, size_t *len)
{
    if (p->overflow)
        return COLLAB_E_TOO_LARGE;
    *len = p->len;
    return 0;
}

void collab_pack_map(collab_pack_t *p, uint32_t n)
{
    msgpack_pack_map(&p->pk, n);
}

void collab_pack_array(collab_pack_t *p, uint32_t n)
{
    msgpack_pack_array(&p->pk, n);
}

void collab_pack_strn(collab_pack_t *p, const char *s, size_t len)
{
    if (len > UINT32_MAX) {
        p->overflow = true;
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
    msgpack_pack_bin(&p->pk, len);
    msgpack_pack_bin_body(&p->pk, b, len);
}

void collab_pack_uint(collab_pack_t *p, uint64_t v)
{
    msgpack_pack_uint64(&p->pk, v);
}

void collab_pack_int(collab_pack_t *p, int64_t v)
{
    msgpack_pack_int64(&p->pk, v);
}

void collab_pack_bool(collab_pack_t *p, bool v)
{
    if (v)
        msgpack_pack_true(&p->pk);
    else
        msgpack_pack_false(&p->pk);
}

void collab_pack_nil(collab_pack_t *p)
{
    msgpack_pack_nil(&p->pk);
}

void collab_pack_raw(collab_pack_t *p, const void *b, size_t len)
{
    buf_write(p, (const char *)b, len);
}
