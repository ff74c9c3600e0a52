/*  busmove.c: the failover of a web session's bus client between the brokers of a cluster
    (gw_self.h; docs/WEB.md 2), the loop's version of what collab_client_request does
    (collab_client.h): a lost connection (the socket monitor) or a call that timed out
    moves the client to the next endpoint; a read is sent again there, a write is not (its
    broker may have done it before dying: the user gets 504 and reads the board); the
    session is cluster-wide, so nobody logs in again; the event streams resume `since` the
    last event handed over. Nothing here waits. */
#include "collab_clock.h"
#include "gw_self.h"
#include "sse.h"
#include "websess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_call_free(web_call_t *c)
{
    if (c)
        free(c->payload);
    free(c);
}

/*  The reply to a session's renewed subscription. Refused or unanswered on every endpoint:
    the streams are closed, and the browsers' EventSource reconnects with Last-Event-ID,
    which subscribes `since` it (sse.c). */
static void resubscribed(void *arg, const collab_reply_t *reply, int rc)
{
    websess_t *s = arg;
    if (rc == COLLAB_E_SESSION_INVALID)
        return; /* the session is being removed: its streams with it */
    if (rc != 0 || !reply->ok) {
        s->subscribed = false;
        sse_close_session(s);
    }
}

static int resubscribe(gateway_t *gw, websess_t *s)
{
    uint8_t buf[64];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 2);
    collab_pack_kv_uint(&p, "since", collab_client_last_seq(s->client));
    collab_pack_kv_bool(&p, "all", true);
    if (collab_pack_finish(&p, &len) != 0)
        return COLLAB_E_INTERNAL;
    return gw_call(gw, s, "subscribe", buf, len, resubscribed, s);
}

/*  Ends the calls marked lost with COLLAB_E_TIMEOUT (their fn answers 504). */
static void end_lost(websess_t *s)
{
    web_call_t *done = NULL;
    for (web_call_t **pp = &s->calls; *pp;) {
        web_call_t *c = *pp;
        if (c->lost) {
            *pp = c->next;
            c->next = done;
            done = c;
        } else
            pp = &c->next;
    }
    while (done) { /* a fn may call gw_call on s: the list above is whole again */
        web_call_t *c = done;
        done = c->next;
        c->fn(c->arg, NULL, COLLAB_E_TIMEOUT);
        gw_call_free(c);
    }
}

bool gw_failover(gateway_t *gw, websess_t *s, const char *why)
{
    if (!collab_client_move(s->client))
        return false;
    fprintf(stderr, "collab-web: %s's bus client moved to %s (%s)\n", s->agent_id,
            collab_client_endpoint(s->client), why);
    const int64_t now = collab_mono_ms();
    const size_t endpoints = collab_client_endpoint_count(s->client);
    web_call_t *old = NULL;
    while (s->calls) { /* the list is newest first: reversed, the oldest is sent first */
        web_call_t *c = s->calls;
        s->calls = c->next;
        c->next = old;
        old = c;
    }
    while (old) { /* each back onto the list's head: the newest first again */
        web_call_t *c = old;
        old = c->next;
        if (!c->lost && c->resendable && c->attempts < endpoints) {
            c->id = collab_client_send(s->client, c->action, c->payload, c->len);
            c->attempts++;
            c->deadline = now + gw_settings(gw)->timeout_ms;
            c->lost = c->id == 0;
        } else
            c->lost = true; /* a write, or a read that had its turn on every endpoint */
        c->next = s->calls;
        s->calls = c;
    }
    if (s->subscribed && resubscribe(gw, s) != 0) {
        s->subscribed = false;
        sse_close_session(s);
    }
    return true;
}

void gw_expire_calls(gateway_t *gw, websess_t *s, int64_t now)
{
    bool expired = false;
    for (web_call_t *c = s->calls; c && !expired; c = c->next)
        expired = !c->lost && c->deadline <= now;
    if (expired && !gw_failover(gw, s, "a request timed out"))
        for (web_call_t *c = s->calls; c; c = c->next)
            c->lost = c->lost || c->deadline <= now; /* one endpoint: 504, as before */
    end_lost(s);
}
