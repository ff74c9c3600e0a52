/*  sessions.c: the session life cycle: creation after a verified login, the end of a
    session (logout, revocation, idle expiry, absolute lifetime, eviction), the idle sweep,
    and the lazy write-back of activity times. */
#include "events.h"
#include "sessions.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

const char *collab_session_key(const collab_ctx_t *ctx, const char *token, size_t len, char *out)
{
    if (ctx->vault) {
        collab_vault_token_hash(ctx->vault, token, len, out, COLLAB_MAX_SESSION_ID + 1);
        return out;
    }
    size_t n = len <= COLLAB_MAX_SESSION_ID ? len : 0;
    memcpy(out, token, n);
    out[n] = '\0';
    return out;
}

static const char *end_event(const char *reason)
{
    if (strcmp(reason, "revoked") == 0)
        return "session_revoked";
    if (strcmp(reason, "evicted") == 0)
        return "session_evicted";
    return "session_expired";
}

/*  Tells the holder: into the agent's stream, and straight to the ending session's own
    connection, which is no longer in the agent's session list. */
static void tell_holder(collab_ctx_t *ctx, collab_agent_t *agent, const collab_session_t *s,
                        const char *reason, const char *by)
{
    collab_pack_t p;
    size_t len = 0;
    const char *event = end_event(reason);
    bool expired = strcmp(event, "session_expired") == 0;
    bool evicted = strcmp(event, "session_evicted") == 0; /* {handle} alone (PROTOCOL.md 7) */
    collab_pack_init(&p, ctx->event_buf, sizeof ctx->event_buf);
    collab_pack_map(&p, evicted ? 1 : 2);
    collab_pack_kv_uint(&p, "handle", s->handle);
    if (expired)
        collab_pack_kv_str(&p, "reason", reason);
    else if (!evicted)
        collab_pack_kv_str(&p, "by", by ? by : "broker");
    if (collab_pack_finish(&p, &len) != 0)
        return;
    collab_event_to_also(ctx, agent, event, ctx->event_buf, len, s->rid, s->rid_len);
}

static uint64_t expired_tag(const collab_ctx_t *ctx, const char *key)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t tag;
    crypto_shorthash(h, (const unsigned char *)key, strlen(key), ctx->expired.key);
    memcpy(&tag, h, sizeof tag);
    return tag;
}

_Static_assert((COLLAB_EXPIRED_MEMORY & (COLLAB_EXPIRED_MEMORY - 1)) == 0 &&
                   COLLAB_EXPIRED_MEMORY < COLLAB_EXPIRED_NONE,
               "the expired ring's index needs a power of two below its end marker");

/*  The chain a tag is in: its top bits (the tag is a keyed hash, uniform). */
static uint32_t expired_chain(uint64_t tag)
{
    return (uint32_t)(tag >> 32) & (COLLAB_EXPIRED_MEMORY - 1);
}

bool collab_session_was_expired(const collab_ctx_t *ctx, const char *key)
{
    uint64_t tag = expired_tag(ctx, key);
    for (uint32_t i = ctx->expired.head[expired_chain(tag)]; i != COLLAB_EXPIRED_NONE;
         i = ctx->expired.link[i])
        if (ctx->expired.tag[i] == tag)
            return true;
    return false;
}

static void remember_expired(collab_ctx_t *ctx, const char *key)
{
    uint32_t slot = ctx->expired.next;
    if (slot < ctx->expired.count) { /* the ring wraps: forget the oldest */
        uint16_t *p = &ctx->expired.head[expired_chain(ctx->expired.tag[slot])];
        while (*p != slot)
            p = &ctx->expired.link[*p];
        *p = ctx->expired.link[slot];
    }
    uint64_t tag = expired_tag(ctx, key);
    uint16_t *head = &ctx->expired.head[expired_chain(tag)];
    ctx->expired.tag[slot] = tag;
    ctx->expired.link[slot] = *head;
    *head = (uint16_t)slot;
    ctx->expired.next = (slot + 1) % COLLAB_EXPIRED_MEMORY;
    if (ctx->expired.count < COLLAB_EXPIRED_MEMORY)
        ctx->expired.count++;
}

int collab_session_end(collab_ctx_t *ctx, collab_session_t **s_p, const char *reason,
                       const char *by)
{
    collab_session_t *s = *s_p;
    collab_session_t copy = *s;
    collab_agent_t *agent = collab_tables_agent(ctx->tables, s->agent_id, strlen(s->agent_id));
    int rc = collab_store_delete_session(ctx->store, s->token);
    if (rc)
        return rc;
    char handle[24];
    snprintf(handle, sizeof handle, "%llu", (unsigned long long)s->handle);
    collab_seclog_emit(ctx->seclog, collab_ctx_now(ctx), "session_ended", "agent_id", s->agent_id,
                       "session", handle, "reason", reason, "by", by, NULL);
    if (strcmp(reason, "idle") == 0 || strcmp(reason, "lifetime") == 0)
        remember_expired(ctx, s->token);
    collab_tables_remove_session(ctx->tables, s_p);
    if (agent && strcmp(reason, "logout") != 0)
        tell_holder(ctx, agent, &copy, reason, by);
    return 0;
}

const char *collab_session_expiry_reason(const collab_config_t *cfg, const collab_session_t *s,
                                         uint64_t now)
{
    uint64_t idle = (uint64_t)cfg->idle_timeout_s * 1000u;
    uint64_t life = (uint64_t)cfg->absolute_lifetime_s * 1000u;
    /* guarded: a wall clock stepped back must not wrap the subtraction */
    if (now > s->last_activity && now - s->last_activity > idle)
        return "idle";
    if (collab_strong(cfg, COLLAB_CTL_SESSION_LIFETIME) && now > s->created &&
        now - s->created > life)
        return "lifetime";
    return NULL;
}

void collab_session_sweep(collab_ctx_t *ctx, uint64_t now)
{
    /* collect first: ending a session changes the table being walked, but frees only
       that session, so the other collected pointers stay valid */
    collab_session_t **victims = NULL;
    size_t n = 0, cap = 0;
    for (collab_session_t *s = collab_tables_session_first(ctx->tables); s;
         s = collab_tables_session_next(ctx->tables)) {
        if (!collab_session_expiry_reason(&ctx->cfg, s, now))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            collab_session_t **p = realloc(victims, ncap * sizeof *p);
            if (!p)
                break;
            victims = p;
            cap = ncap;
        }
        victims[n++] = s;
    }
    for (size_t i = 0; i < n; i++)
        collab_session_end(ctx, &victims[i],
                           collab_session_expiry_reason(&ctx->cfg, victims[i], now), NULL);
    free(victims);
}

void collab_session_flush_activity(collab_ctx_t *ctx)
{
    for (collab_session_t *s = collab_tables_session_first(ctx->tables); s;
         s = collab_tables_session_next(ctx->tables)) {
        if (s->last_activity != s->persisted_activity &&
            collab_store_put_session(ctx->store, s) == 0)
            s->persisted_activity = s->last_activity;
    }
    size_t n = collab_tables_agent_count(ctx->tables);
    for (size_t i = 0; i < n; i++) {
        collab_agent_t *a = collab_tables_agent_at(ctx->tables, i);
        if (a->dirty && collab_store_put_agent(ctx->store, a) == 0)
            a->dirty = false;
    }
}
