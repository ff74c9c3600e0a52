/*  lg_req.c: building, signing and pooling the benchmark's request frames, and reading the
    few replies that setup needs (see lg_req.h). */
#include "lg_req.h"

#include <cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t lg_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void lg_pool_clear(lg_pool_t *p)
{
    p->used = p->n = p->next = 0;
}

void lg_pool_free(lg_pool_t *p)
{
    free(p->arena);
    free(p->frames);
    memset(p, 0, sizeof *p);
}

/*  Makes room for one more frame of up to need bytes. */
static int reserve(lg_pool_t *p, size_t need)
{
    if (p->used + need > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        while (p->used + need > cap)
            cap *= 2;
        uint8_t *a = realloc(p->arena, cap);
        if (!a)
            return COLLAB_E_NOMEM;
        p->arena = a;
        p->cap = cap;
    }
    if (p->n == p->frames_cap) {
        size_t cap = p->frames_cap ? p->frames_cap * 2 : 16;
        lg_frame_t *f = realloc(p->frames, cap * sizeof *f);
        if (!f)
            return COLLAB_E_NOMEM;
        p->frames = f;
        p->frames_cap = cap;
    }
    return 0;
}

int lg_pool_add(lg_pool_t *p, const lg_ident_t *id, int action, const uint8_t *payload, size_t plen,
                uint64_t request_id)
{
    uint8_t nonce[COLLAB_NONCE_LEN], sig[COLLAB_SIGNATURE_LEN];
    const char *name = collab_action_name(action);
    collab_envelope_t env = {.kind = COLLAB_KIND_REQUEST, .version = COLLAB_PROTOCOL_VERSION};
    env.request_id = request_id;
    env.action = (collab_span_t){name, strlen(name)};
    env.agent_id = (collab_span_t){id->agent_id, strlen(id->agent_id)};
    env.session_id = (collab_span_t){id->session, strlen(id->session)};
    env.timestamp = lg_now_ms();
    env.payload = (collab_span_t){(const char *)payload, plen};
    bool sign = collab_action_needs_signature(action, id->scope);
    if (sign && id->nonce) {
        randombytes_buf(nonce, sizeof nonce);
        env.nonce = (collab_span_t){(const char *)nonce, sizeof nonce};
    }
    if (sign) {
        collab_sign(&env, id->scope, id->key, sig);
        env.signature = (collab_span_t){(const char *)sig, sizeof sig};
    }
    int rc = reserve(p, COLLAB_MAX_FRAME);
    size_t len = 0;
    if (rc == 0)
        rc = collab_envelope_encode(&env, p->arena + p->used, COLLAB_MAX_FRAME, &len);
    if (rc)
        return rc;
    p->frames[p->n++] = (lg_frame_t){p->used, (uint32_t)len, request_id};
    p->used += len;
    return 0;
}

const lg_frame_t *lg_pool_take(lg_pool_t *p)
{
    if (p->next == p->n) {
        if (!p->cycle || p->n == 0)
            return NULL;
        p->next = 0;
    }
    return &p->frames[p->next++];
}

/* ---------------------------------------------------------------------------------------
   Payloads */

static size_t finish(collab_pack_t *pk)
{
    size_t len = 0;
    return collab_pack_finish(pk, &len) == 0 ? len : 0;
}

size_t lg_payload_login(uint8_t *out, size_t cap, const char *password)
{
    collab_pack_t pk;
    collab_pack_init(&pk, out, cap);
    collab_pack_map(&pk, 1);
    collab_pack_kv_str(&pk, "password", password);
    return finish(&pk);
}

size_t lg_payload_get_project(uint8_t *out, size_t cap, uint64_t project_id)
{
    collab_pack_t pk;
    collab_pack_init(&pk, out, cap);
    collab_pack_map(&pk, 1);
    collab_pack_kv_uint(&pk, "project_id", project_id);
    return finish(&pk);
}

size_t lg_payload_create_project(uint8_t *out, size_t cap, const char *name, const char *desc)
{
    collab_pack_t pk;
    collab_pack_init(&pk, out, cap);
    collab_pack_map(&pk, 2);
    collab_pack_kv_str(&pk, "name", name);
    collab_pack_kv_str(&pk, "description", desc);
    return finish(&pk);
}

size_t lg_payload_assign_task(uint8_t *out, size_t cap, uint64_t project_id, const char *title,
                              const char *desc, const char *worker)
{
    collab_pack_t pk;
    collab_pack_init(&pk, out, cap);
    collab_pack_map(&pk, 5);
    collab_pack_kv_uint(&pk, "project_id", project_id);
    collab_pack_kv_str(&pk, "type", "bench");
    collab_pack_kv_str(&pk, "title", title);
    collab_pack_kv_str(&pk, "description", desc);
    collab_pack_kv_str(&pk, "worker", worker);
    return finish(&pk);
}

size_t lg_payload_update_status(uint8_t *out, size_t cap, uint64_t task_id, const char *status)
{
    collab_pack_t pk;
    collab_pack_init(&pk, out, cap);
    collab_pack_map(&pk, 2);
    collab_pack_kv_uint(&pk, "task_id", task_id);
    collab_pack_kv_str(&pk, "status", status);
    return finish(&pk);
}

size_t lg_payload_reassign(uint8_t *out, size_t cap, uint64_t task_id, const char *worker)
{
    collab_pack_t pk;
    collab_pack_init(&pk, out, cap);
    collab_pack_map(&pk, 2);
    collab_pack_kv_uint(&pk, "task_id", task_id);
    collab_pack_kv_str(&pk, "worker", worker);
    return finish(&pk);
}

/* ---------------------------------------------------------------------------------------
   Replies */

/*  Decodes a reply and parses its data map. Returns 0, the reply's error or a decode error. */
static int ok_data(const uint8_t *bytes, size_t len, collab_map_t *data)
{
    collab_envelope_t env;
    int rc = collab_envelope_decode(bytes, len, &env);
    if (rc == 0 && env.kind != COLLAB_KIND_REPLY)
        rc = COLLAB_E_MALFORMED;
    if (rc == 0 && !env.ok)
        rc = -(int)env.error_code;
    if (rc == 0)
        rc = collab_map_parse(env.data.ptr, env.data.len, data);
    return rc;
}

int lg_login_reply(const uint8_t *bytes, size_t len, lg_ident_t *id)
{
    collab_map_t data, controls;
    collab_span_t s, scope;
    bool replay = false;
    int rc = ok_data(bytes, len, &data);
    if (rc == 0)
        rc = collab_map_str(&data, "session_id", &s);
    if (rc == 0 && s.len > COLLAB_MAX_SESSION_ID)
        rc = COLLAB_E_MALFORMED;
    if (rc == 0)
        rc = collab_map_submap(&data, "controls", &controls);
    if (rc == 0)
        rc = collab_map_str(&controls, "signature_scope", &scope);
    if (rc == 0)
        rc = collab_map_bool(&controls, "replay_protection", &replay);
    if (rc)
        return rc;
    memcpy(id->session, s.ptr, s.len);
    id->session[s.len] = '\0';
    id->scope = collab_span_eq(scope, "full") ? COLLAB_SCOPE_FULL : COLLAB_SCOPE_WEAK;
    id->nonce = replay;
    return 0;
}

int lg_reply_uint(const uint8_t *bytes, size_t len, const char *key, uint64_t *out)
{
    collab_map_t data;
    int rc = ok_data(bytes, len, &data);
    return rc ? rc : collab_map_uint(&data, key, out);
}

/* ---------------------------------------------------------------------------------------
   Credentials */

static cJSON *load_json(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0, cap = 0, n;
    char buf[65536];
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            char *t = realloc(text, cap);
            if (!t)
                break;
            text = t;
        }
        memcpy(text + len, buf, n);
        len += n;
    }
    fclose(f);
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    return root;
}

int lg_load_key(const char *creds_path, const char *agent_id, uint8_t key[COLLAB_KEY_LEN])
{
    cJSON *root = load_json(creds_path), *a;
    int rc = -1;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(root, "agents"))
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(a, "agent_id"));
        const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(a, "hmac_key"));
        if (id && hex && strcmp(id, agent_id) == 0) {
            rc = collab_key_from_hex(hex, strlen(hex), key) == 0 ? 0 : -1;
            break;
        }
    }
    cJSON_Delete(root);
    return rc;
}

int lg_list_agents(const char *creds_path, const char *prefix, char (*ids)[COLLAB_MAX_AGENT_ID + 1],
                   int max)
{
    cJSON *root = load_json(creds_path), *a;
    if (!root)
        return -1;
    int n = 0;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(root, "agents"))
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(a, "agent_id"));
        if (n < max && id && strncmp(id, prefix, strlen(prefix)) == 0 &&
            strlen(id) <= COLLAB_MAX_AGENT_ID)
            snprintf(ids[n++], COLLAB_MAX_AGENT_ID + 1, "%s", id);
    }
    cJSON_Delete(root);
    return n;
}
