/*  soak_conn.c: the synchronous requests every mode makes, through bench's connections and
    frame builder (lg_conn.c, lg_req.c, lg_setup.c), and the broker's descriptor count. */
#include "soak.h"

#include "../lg_setup.h"

#include <dirent.h>
#include <stdio.h>

int soak_connect_login(soak_t *s, void *ctx, lg_conn_t *c, const char *agent)
{
    uint8_t key[COLLAB_KEY_LEN];
    if (lg_load_key(s->creds, agent, key) != 0) {
        fprintf(stderr, "soak: no key for %s in %s\n", agent, s->creds);
        return COLLAB_E_NOT_FOUND;
    }
    if (lg_conn_open(c, ctx, s->endpoint, &s->curve, 1) != 0)
        return COLLAB_E_IO;
    return lg_login(c, agent, s->password, key);
}

int soak_call(soak_t *s, lg_conn_t *c, int action, const uint8_t *payload, size_t plen,
              const char *key, uint64_t *out)
{
    uint8_t reply[COLLAB_MAX_FRAME];
    size_t rlen = 0;
    uint64_t ignored;
    lg_pool_t tmp = {0};
    int rc = lg_pool_add(&tmp, &c->id, action, payload, plen, c->setup_id++);
    if (rc == 0)
        rc = lg_conn_call(c, tmp.arena, tmp.frames[0].len, s->timeout_ms, reply, sizeof reply,
                          &rlen);
    lg_pool_free(&tmp);
    if (rc)
        return rc;
    rc = lg_reply_uint(reply, rlen, key ? key : "-", out ? out : &ignored);
    return !key && rc == COLLAB_E_FIELD_MISSING ? 0 : rc;
}

int soak_fds(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}
