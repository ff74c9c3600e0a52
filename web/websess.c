/*  websess.c: the web sessions table (websess.h). */
#include "websess.h"
#include "gw_self.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void random_hex(char out[WEB_TOKEN_HEX + 1])
{
    uint8_t raw[WEB_TOKEN_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, WEB_TOKEN_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

websess_t *websess_add(websess_table_t *t, collab_client_t **client_p, const char *agent_id,
                       const char *role, bool strong, int64_t now_ms)
{
    if (t->count >= WEB_SESSIONS_MAX)
        return NULL;
    websess_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (strong)
        random_hex(s->id);
    else
        snprintf(s->id, sizeof s->id, "%s", collab_client_session(*client_p));
    random_hex(s->csrf);
    snprintf(s->agent_id, sizeof s->agent_id, "%s", agent_id);
    snprintf(s->role, sizeof s->role, "%s", role);
    s->client = *client_p;
    *client_p = NULL;
    s->last_used_ms = now_ms;
    s->next = t->head;
    t->head = s;
    t->count++;
    return s;
}

/*  Equal strings, in time that depends on the lengths only. */
static bool same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    return la == lb && la > 0 && sodium_memcmp(a, b, la) == 0;
}

websess_t *websess_find(websess_table_t *t, const char *id)
{
    for (websess_t *s = t->head; s && id; s = s->next)
        if (!s->dead && same(s->id, id))
            return s;
    return NULL;
}

websess_t *websess_latest(websess_table_t *t, const char *agent_id)
{
    for (websess_t *s = t->head; s; s = s->next) /* newest first */
        if (!s->dead && strcmp(s->agent_id, agent_id) == 0)
            return s;
    return NULL;
}

bool websess_csrf_ok(const websess_t *s, const char *token)
{
    return token && same(s->csrf, token);
}

void websess_remove(websess_table_t *t, websess_t *s)
{
    for (websess_t **pp = &t->head; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            t->count--;
            break;
        }
    collab_client_destroy(&s->client);
    sodium_memzero(s->id, sizeof s->id);
    sodium_memzero(s->csrf, sizeof s->csrf);
    free(s);
}
