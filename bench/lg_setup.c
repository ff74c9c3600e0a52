/*  lg_setup.c: logins and setup requests (see lg_setup.h). */
#include "lg_setup.h"

#include <stdio.h>
#include <string.h>

#define SETUP_TIMEOUT_MS 10000

int lg_login(lg_conn_t *c, const char *agent, const char *password,
             const uint8_t key[COLLAB_KEY_LEN])
{
    uint8_t payload[512], reply[COLLAB_MAX_FRAME];
    size_t plen = lg_payload_login(payload, sizeof payload, password), rlen = 0;
    lg_pool_t tmp = {0};
    memset(&c->id, 0, sizeof c->id);
    snprintf(c->id.agent_id, sizeof c->id.agent_id, "%s", agent);
    memcpy(c->id.key, key, COLLAB_KEY_LEN);
    int rc = lg_pool_add(&tmp, &c->id, COLLAB_ACT_LOGIN, payload, plen, c->setup_id++);
    if (rc == 0)
        rc = lg_conn_call(c, tmp.arena, tmp.frames[0].len, SETUP_TIMEOUT_MS, reply, sizeof reply,
                          &rlen);
    if (rc == 0)
        rc = lg_login_reply(reply, rlen, &c->id);
    lg_pool_free(&tmp);
    return rc;
}

int lg_rpc(lg_conn_t *c, int action, const uint8_t *payload, size_t plen, const char *key,
           uint64_t *out)
{
    uint8_t reply[COLLAB_MAX_FRAME];
    size_t rlen = 0;
    lg_pool_t tmp = {0};
    int rc = lg_pool_add(&tmp, &c->id, action, payload, plen, c->setup_id++);
    if (rc == 0)
        rc = lg_conn_call(c, tmp.arena, tmp.frames[0].len, SETUP_TIMEOUT_MS, reply, sizeof reply,
                          &rlen);
    lg_pool_free(&tmp);
    if (rc)
        return rc;
    uint64_t ignored;
    if (!key) {
        key = "none";
        out = &ignored;
        rc = lg_reply_uint(reply, rlen, key, out);
        return rc == COLLAB_E_FIELD_MISSING ? 0 : rc;
    }
    return lg_reply_uint(reply, rlen, key, out);
}

void lg_fake_session(char *out, size_t len)
{
    static const char uuid[] = "3f9a1c2e-7b6d-4058-a1b2-c3d4e5f60718";
    for (size_t i = 0; i < len; i++)
        out[i] = uuid[i % (sizeof uuid - 1)];
    out[len] = '\0';
}
