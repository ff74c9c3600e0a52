/*  lg_many.c: thousands of connections at once (see lg_many.h). */
#include "lg_many.h"
#include "collab_clock.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* ---------------------------------------------------------------------------------------
   Keys */

#define CONNECT_SCAN_MS 10           /* between scans for connections up */
#define CREDS_MAX_BYTES (256u << 20) /* a credentials file of a million agents, at most */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t cap = 0, n;
    *len = 0;
    char buf[65536];
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (*len + n + 1 > cap) {
            cap = (*len + n + 1) * 2;
            char *t = cap <= CREDS_MAX_BYTES ? realloc(text, cap) : NULL;
            if (!t) {
                free(text);
                fclose(f);
                return NULL;
            }
            text = t;
        }
        memcpy(text + *len, buf, n);
        *len += n;
    }
    fclose(f);
    return text;
}

int lg_keys_load(const char *path, const char *prefix, size_t max, lg_agent_key_t **out)
{
    size_t len = 0;
    char *text = read_all(path, &len);
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL, *a;
    free(text);
    lg_agent_key_t *keys = max ? calloc(max, sizeof *keys) : NULL;
    int n = root && keys ? 0 : -1;
    cJSON_ArrayForEach(a, cJSON_GetObjectItem(root, "agents"))
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(a, "agent_id"));
        const char *hex = cJSON_GetStringValue(cJSON_GetObjectItem(a, "hmac_key"));
        if (n < 0 || (size_t)n == max)
            break;
        if (!id || strncmp(id, prefix, strlen(prefix)) != 0 || strlen(id) > COLLAB_MAX_AGENT_ID)
            continue;
        if (!hex || collab_key_from_hex(hex, strlen(hex), keys[n].key) != 0) {
            fprintf(stderr, "loadgen: %s: %s has no usable hmac_key\n", path, id);
            n = -1;
            break;
        }
        snprintf(keys[n].id, sizeof keys[n].id, "%s", id);
        n++;
    }
    cJSON_Delete(root);
    if (n < 0)
        free(keys);
    else
        *out = keys;
    return n;
}

/* ---------------------------------------------------------------------------------------
   Requests on many connections, a window of them at a time */

enum { ST_WAIT, ST_FIRST, ST_SECOND, ST_DONE, ST_FAILED };

typedef struct {
    uint8_t state;
    uint64_t t_ns; /* when the request in flight was sent */
    uint64_t rid;  /* its request id */
} slot_t;

typedef struct {
    lg_conn_t *cs;
    size_t n;
    const lg_agent_key_t *keys;
    const lg_many_opts_t *o;
    lg_hist_t *hist;
    lg_many_stats_t *st;
    slot_t *slots;
    size_t *queue, qhead, qtail; /* connections waiting to send their first request (a ring) */
    size_t *flight, nflight;     /* connections with a request in flight */
    lg_pool_t scratch;
    uint64_t next_rid;
} many_t;

static size_t pack_payload(const many_t *m, unsigned state, uint8_t *out, size_t cap)
{
    collab_pack_t pk;
    size_t len = 0;
    collab_pack_init(&pk, out, cap);
    if (state == ST_FIRST && (m->o->kind == LG_MANY_JOIN || m->o->echo))
        return lg_payload_login(out, cap, m->o->password);
    bool all = state == ST_SECOND && m->o->all;
    collab_pack_map(&pk, all ? 1 : 0);
    if (all)
        collab_pack_kv_bool(&pk, "all", true);
    return collab_pack_finish(&pk, &len) == 0 ? len : 0;
}

/*  Sends connection i's request of the given state. Returns 0 or -1. */
static int send_step(many_t *m, size_t i, uint8_t state)
{
    lg_conn_t *c = &m->cs[i];
    uint8_t pl[512];
    int action = COLLAB_ACT_HEARTBEAT;
    if (state == ST_FIRST && m->o->kind == LG_MANY_JOIN) {
        memset(&c->id, 0, sizeof c->id);
        snprintf(c->id.agent_id, sizeof c->id.agent_id, "%s", m->keys[i].id);
        memcpy(c->id.key, m->keys[i].key, COLLAB_KEY_LEN);
        action = COLLAB_ACT_LOGIN;
    } else if (state == ST_FIRST && m->o->echo)
        action = COLLAB_ACT_LOGIN; /* the size of the broker run's first request */
    else if (state == ST_SECOND)
        action = COLLAB_ACT_SUBSCRIBE;
    size_t plen = pack_payload(m, state, pl, sizeof pl);
    uint64_t rid = ++m->next_rid;
    lg_pool_clear(&m->scratch);
    if (plen == 0 || lg_pool_add(&m->scratch, &c->id, action, pl, plen, rid) != 0)
        return -1;
    uint64_t t = (uint64_t)collab_mono_ns();
    if (zmq_send(c->sock, m->scratch.arena, m->scratch.frames[0].len, 0) < 0)
        return -1;
    if (m->st->first_ns == 0)
        m->st->first_ns = t;
    m->slots[i] = (slot_t){state, t, rid};
    return 0;
}

static void fail(many_t *m, size_t i, int code)
{
    m->slots[i].state = ST_FAILED;
    m->st->errors++;
    m->st->last_error = code;
}

/*  Handles one frame on connection i; returns true when its request in flight is answered
    (the connection then leaves the flight list, or sends its next request). */
static bool on_frame(many_t *m, size_t i, const uint8_t *b, size_t len, uint64_t t, bool *resent)
{
    slot_t *s = &m->slots[i];
    collab_envelope_t env;
    *resent = false;
    if (m->o->echo) { /* the echo sends the frame back, padded or cut: any frame answers it */
        if (s->state == ST_FIRST && m->hist)
            lg_hist_add(m->hist, t - s->t_ns);
        m->st->last_first_ns = m->st->last_ns = t;
        s->state = ST_DONE;
        m->st->done++;
        return true;
    }
    if (collab_envelope_decode(b, len, &env) != 0)
        return false; /* not a frame of the protocol: not what this connection waits for */
    if (env.kind == COLLAB_KIND_EVENT || env.request_id != s->rid) {
        m->st->events += env.kind == COLLAB_KIND_EVENT;
        return false; /* an event, or a stray */
    }
    int code = env.ok ? 0 : -(int)env.error_code;
    if (code == COLLAB_E_BUSY && s->state == ST_FIRST) { /* the hashing queue is full: later */
        m->st->retries++;
        m->queue[m->qtail++ % m->n] = i;
        s->state = ST_WAIT;
        return true;
    }
    if (s->state == ST_FIRST) {
        if (m->hist)
            lg_hist_add(m->hist, t - s->t_ns);
        m->st->last_first_ns = t;
    }
    m->st->last_ns = t;
    if (code == 0 && s->state == ST_FIRST && m->o->kind == LG_MANY_JOIN)
        code = lg_login_reply(b, len, &m->cs[i].id);
    if (code) {
        fail(m, i, code);
        return true;
    }
    if (s->state == ST_FIRST && m->o->kind == LG_MANY_JOIN && m->o->subscribe) {
        if (send_step(m, i, ST_SECOND) != 0)
            fail(m, i, COLLAB_E_IO);
        *resent = m->slots[i].state == ST_SECOND;
        return true;
    }
    s->state = ST_DONE;
    m->st->done++;
    return true;
}

/*  Reads what waits on the i-th connection of the flight list; drops it from the list when
    it has nothing more in flight. Returns true when it was dropped. */
static bool read_flight(many_t *m, size_t k)
{
    size_t i = m->flight[k];
    bool answered = false, resent = false;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, m->cs[i].sock, ZMQ_DONTWAIT) >= 0) {
        uint64_t t = (uint64_t)collab_mono_ns();
        if (on_frame(m, i, zmq_msg_data(&msg), zmq_msg_size(&msg), t, &resent) && !resent)
            answered = true;
        zmq_msg_close(&msg);
        zmq_msg_init(&msg);
    }
    zmq_msg_close(&msg);
    if (answered)
        m->flight[k] = m->flight[--m->nflight];
    return answered;
}

/*  Fills the flight list from the queue, up to the window. Returns 0 or -1. */
static int refill(many_t *m)
{
    while (m->nflight < m->o->window && m->qhead < m->qtail) {
        size_t i = m->queue[m->qhead++ % m->n];
        if (send_step(m, i, ST_FIRST) != 0)
            return -1;
        m->flight[m->nflight++] = i;
    }
    return 0;
}

static int many_loop(many_t *m, uint64_t deadline)
{
    zmq_pollitem_t *items = calloc(m->o->window, sizeof *items);
    int rc = items ? refill(m) : -1;
    while (rc == 0 && m->nflight > 0) {
        uint64_t now = (uint64_t)collab_mono_ns();
        if (now >= deadline) {
            fprintf(stderr, "loadgen: %zu connections still waiting after the deadline\n",
                    m->nflight + (m->qtail - m->qhead));
            rc = -1;
            break;
        }
        for (size_t k = 0; k < m->nflight; k++)
            items[k] = (zmq_pollitem_t){m->cs[m->flight[k]].sock, 0, ZMQ_POLLIN, 0};
        size_t nitems = m->nflight;
        if (zmq_poll(items, (int)nitems, 100) < 0 && errno != EINTR) {
            rc = -1;
            break;
        }
        /* backwards: a dropped entry is replaced by the last one, already looked at */
        for (size_t k = nitems; k-- > 0;)
            if (items[k].revents & ZMQ_POLLIN)
                read_flight(m, k);
        rc = refill(m);
    }
    free(items);
    return rc;
}

int lg_many_run(lg_conn_t *cs, size_t n, const lg_agent_key_t *keys, const lg_many_opts_t *opts,
                lg_hist_t *hist, lg_many_stats_t *st)
{
    many_t m = {.cs = cs, .n = n, .keys = keys, .o = opts, .hist = hist, .st = st};
    *st = (lg_many_stats_t){0};
    if (n == 0)
        return 0;
    if (opts->window == 0 || (opts->kind == LG_MANY_JOIN && !keys))
        return -1;
    m.slots = calloc(n, sizeof *m.slots);
    m.queue = calloc(n, sizeof *m.queue);
    m.flight = calloc(opts->window, sizeof *m.flight);
    int rc = m.slots && m.queue && m.flight ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        m.queue[m.qtail++] = i;
    if (rc == 0)
        rc = many_loop(&m, (uint64_t)collab_mono_ns() + (uint64_t)opts->timeout_ms * 1000000u);
    if (rc == 0 && st->done != n)
        rc = -1;
    lg_pool_free(&m.scratch);
    free(m.slots);
    free(m.queue);
    free(m.flight);
    return rc;
}

uint64_t lg_many_sweep(lg_conn_t *cs, size_t n, size_t skip)
{
    uint64_t events = 0;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (size_t i = 0; i < n; i++) {
        if (i == skip)
            continue;
        while (zmq_msg_recv(&msg, cs[i].sock, ZMQ_DONTWAIT) >= 0) {
            collab_envelope_t env;
            if (collab_envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env) == 0 &&
                env.kind == COLLAB_KIND_EVENT) {
                cs[i].done++;
                events++;
            }
            zmq_msg_close(&msg);
            zmq_msg_init(&msg);
        }
    }
    zmq_msg_close(&msg);
    return events;
}

int lg_many_open(lg_conn_t *cs, size_t n, void *ctx, const char *endpoint, const lg_curve_t *curve,
                 int timeout_ms, double *connect_s)
{
    uint64_t t0 = (uint64_t)collab_mono_ns(), deadline = t0 + (uint64_t)timeout_ms * 1000000u;
    *connect_s = 0;
    for (size_t i = 0; i < n; i++)
        if (lg_conn_open_opts(&cs[i], ctx, endpoint, curve, 1, true) != 0) {
            fprintf(stderr, "loadgen: connection %zu of %zu to %s: %s\n", i + 1, n, endpoint,
                    zmq_strerror(zmq_errno()));
            return -1;
        }
    zmq_pollitem_t *items = calloc(n ? n : 1, sizeof *items);
    size_t *down = calloc(n ? n : 1, sizeof *down), ndown = n;
    int rc = items && down ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        down[i] = i;
    while (rc == 0 && ndown > 0) {
        uint64_t now = (uint64_t)collab_mono_ns();
        if (now >= deadline) {
            fprintf(stderr, "loadgen: %zu of %zu connections to %s still down after %d ms\n", ndown,
                    n, endpoint, timeout_ms);
            rc = -1;
            break;
        }
        for (size_t k = 0; k < ndown; k++)
            items[k] = (zmq_pollitem_t){cs[down[k]].sock, 0, ZMQ_POLLOUT, 0};
        if (zmq_poll(items, (int)ndown, 0) < 0 && errno != EINTR)
            rc = -1;
        size_t kept = 0;
        for (size_t k = 0; rc == 0 && k < ndown; k++)
            if (!(items[k].revents & ZMQ_POLLOUT))
                down[kept++] = down[k];
        ndown = rc == 0 ? kept : ndown;
        /* a scan of thousands of sockets costs milliseconds: between scans, let the
           connections come (the figure is then up to a period late) */
        if (ndown > 0)
            zmq_poll(NULL, 0, CONNECT_SCAN_MS);
    }
    *connect_s = (double)((uint64_t)collab_mono_ns() - t0) / 1e9;
    free(items);
    free(down);
    return rc;
}
