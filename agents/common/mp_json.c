/*  mp_json.c: a reply's or event's MessagePack data as JSON (mp_json.h). */
#include "mp_json.h"
#include "collab_hex.h"

#include <stdlib.h>

static cJSON *value(collab_mp_reader_t *r, int depth);

static cJSON *str(const char *s, size_t len)
{
    char *z = collab_strndup(s, len);
    cJSON *j = z ? cJSON_CreateString(z) : NULL;
    free(z);
    return j;
}

static cJSON *bin(const char *b, size_t len)
{
    char *hex = malloc(2 * len + 1);
    if (!hex)
        return NULL;
    collab_hex_encode((const uint8_t *)b, len, hex, 2 * len + 1);
    cJSON *j = cJSON_CreateString(hex);
    free(hex);
    return j;
}

static cJSON *container(collab_mp_reader_t *r, const collab_mp_value_t *v, int depth)
{
    bool map = v->type == COLLAB_MP_MAP;
    cJSON *j = map ? cJSON_CreateObject() : cJSON_CreateArray();
    for (uint32_t i = 0; j && i < v->len; i++) {
        collab_mp_value_t k;
        char *key = NULL;
        if (map && (collab_mp_read(r, &k) != 0 || k.type != COLLAB_MP_STR ||
                    !(key = collab_strndup(k.ptr, k.len)))) {
            cJSON_Delete(j);
            return NULL;
        }
        cJSON *item = value(r, depth + 1);
        if (!item) {
            free(key);
            cJSON_Delete(j);
            return NULL;
        }
        if (map)
            cJSON_AddItemToObject(j, key, item);
        else
            cJSON_AddItemToArray(j, item);
        free(key);
    }
    return j;
}

static cJSON *value(collab_mp_reader_t *r, int depth)
{
    collab_mp_value_t v;
    if (depth > COLLAB_MAX_DEPTH || collab_mp_read(r, &v) != 0)
        return NULL;
    switch (v.type) {
    case COLLAB_MP_NIL:
        return cJSON_CreateNull();
    case COLLAB_MP_BOOL:
        return cJSON_CreateBool(v.b);
    case COLLAB_MP_UINT:
        return cJSON_CreateNumber((double)v.u);
    case COLLAB_MP_INT:
        return cJSON_CreateNumber((double)v.i);
    case COLLAB_MP_FLOAT:
        return cJSON_CreateNumber(v.f);
    case COLLAB_MP_STR:
        return str(v.ptr, v.len);
    case COLLAB_MP_BIN:
        return bin(v.ptr, v.len);
    case COLLAB_MP_ARRAY:
    case COLLAB_MP_MAP:
        return container(r, &v, depth);
    case COLLAB_MP_EXT:
        return cJSON_CreateNull();
    }
    return NULL;
}

cJSON *collab_json_from_map(const collab_map_t *m)
{
    cJSON *obj = cJSON_CreateObject();
    for (uint32_t i = 0; obj && i < m->count; i++) {
        collab_mp_reader_t r;
        char *key = collab_strndup(m->e[i].key.ptr, m->e[i].key.len);
        collab_mp_reader_init(&r, m->e[i].raw.ptr, m->e[i].raw.len);
        cJSON *item = key ? value(&r, 2) : NULL;
        if (!item) {
            free(key);
            cJSON_Delete(obj);
            return NULL;
        }
        cJSON_AddItemToObject(obj, key, item);
        free(key);
    }
    return obj;
}
