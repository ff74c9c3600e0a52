/*  collab_client.c: an agent's connection to the broker (see collab_client.h). */
#include "collab_client.h"
#include "collab_clock.h"
#include "agent_stop.h"
#include "client_monitor.h"

#include <cJSON.h>
#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENT_QUEUE_MAX 10000

typedef struct event_node {
    collab_event_msg_t ev;
    struct event_node *next;
} event_node_t;

struct collab_client {
    collab_client_opts_t opts;
    char endpoint[512], agent_id[COLLAB_MAX_AGENT_ID + 1];
    char password[COLLAB_PASSWORD_MAX + 1];
    zsock_t *sock;
    void *raw;
    client_monitor_t *mon; /* the first connection, watched until the first login */
    uint64_t next_id;
    char session[COLLAB_MAX_SESSION_ID + 1];
    char role[16];
    collab_controls_t controls;
    uint64_t last_seq;
    uint64_t gap_asked; /* the event whose gap a catch-up was asked for, once */
    bool subscribed, subscribed_all;
    event_node_t *head, *tail;
    size_t queued;
    bool farewell; /* the logout at exit: waits (bounded) even after a stop signal */
    uint8_t frame[COLLAB_MAX_FRAME];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*  Whether a SIGINT or SIGTERM asked the process to stop: every wait then ends at once
    (COLLAB_E_TIMEOUT) and is not retried, except the bounded farewell logout. */
static bool stopped(const collab_client_t *self)
{
    return agent_stop_signal() != 0 && !self->farewell;
}

/*  Makes the DEALER a CURVE client of the broker's key; the socket keeps its own copy of
    the secret key, so ours is wiped at once. */
static int apply_curve(collab_client_t *self)
{
    collab_client_opts_t *o = &self->opts;
    zcert_t *cert = zsys_has_curve() ? zcert_new_from(o->curve_public, o->curve_secret) : NULL;
    sodium_memzero(o->curve_secret, sizeof o->curve_secret);
    if (!cert)
        return -1;
    zcert_apply(cert, self->sock);
    zsock_set_curve_serverkey_bin(self->sock, o->curve_server);
    /* CZMQ lends its buffers as const; they are the cert's, wiped before it is freed */
    sodium_memzero((void *)zcert_secret_key(cert), COLLAB_CURVE_KEY_LEN);
    sodium_memzero((void *)zcert_secret_txt(cert), strlen(zcert_secret_txt(cert)));
    zcert_destroy(&cert);
    return 0;
}

collab_client_t *collab_client_new(const collab_client_opts_t *opts)
{
    if (!opts->endpoint || !opts->agent_id || strlen(opts->endpoint) >= 512 ||
        strlen(opts->agent_id) > COLLAB_MAX_AGENT_ID ||
        (opts->password && strlen(opts->password) > COLLAB_PASSWORD_MAX) || sodium_init() < 0)
        return NULL;
    collab_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    snprintf(self->endpoint, sizeof self->endpoint, "%s", opts->endpoint);
    snprintf(self->agent_id, sizeof self->agent_id, "%s", opts->agent_id);
    snprintf(self->password, sizeof self->password, "%s", opts->password ? opts->password : "");
    self->opts.endpoint = self->endpoint;
    self->opts.agent_id = self->agent_id;
    self->opts.password = self->password;
    if (self->opts.timeout_ms <= 0)
        self->opts.timeout_ms = 3000;
    if (self->opts.retries < 0)
        self->opts.retries = 0;
    self->next_id = 1;
    self->controls.scope = COLLAB_SCOPE_WEAK;
    self->sock = zsock_new(ZMQ_DEALER);
    if (!self->sock) {
        collab_client_destroy(&self);
        return NULL;
    }
    zsock_set_linger(self->sock, 0);
    zsock_set_maxmsgsize(self->sock, 2 * COLLAB_MAX_FRAME);
    if (self->opts.connect_timeout_ms > 0)
        self->mon = client_monitor_new(zsock_resolve(self->sock));
    if ((self->opts.curve && apply_curve(self) != 0) ||
        zsock_connect(self->sock, "%s", self->endpoint) != 0) {
        collab_client_destroy(&self);
        return NULL;
    }
    self->raw = zsock_resolve(self->sock);
    return self;
}

void collab_event_free(collab_event_msg_t *ev)
{
    free(ev->data);
    ev->data = NULL;
}

void collab_reply_free(collab_reply_t *reply)
{
    free(reply->data);
    reply->data = NULL;
}

void collab_client_destroy(collab_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_client_t *self = *self_p;
    while (self->head) {
        event_node_t *n = self->head;
        self->head = n->next;
        collab_event_free(&n->ev);
        free(n);
    }
    client_monitor_destroy(&self->mon);
    zsock_destroy(&self->sock);
    sodium_memzero(self->password, sizeof self->password);
    sodium_memzero(&self->opts.key, sizeof self->opts.key);
    sodium_memzero(self->opts.curve_secret, sizeof self->opts.curve_secret);
    free(self);
    *self_p = NULL;
}

/*  Copies a data map into heap memory and parses the view over the copy. */
static int own_map(collab_span_t src, uint8_t **data, size_t *len, collab_map_t *map)
{
    *data = malloc(src.len ? src.len : 1);
    if (!*data)
        return COLLAB_E_NOMEM;
    memcpy(*data, src.ptr, src.len);
    *len = src.len;
    return collab_map_parse(*data, *len, map);
}

/*  Queues an event in sequence order, once: a catch-up (subscribe since the last event
    seen) replays older events after a newer one may have been pushed live. */
static void queue_event(collab_client_t *self, const collab_envelope_t *env)
{
    if (env->seq <= self->last_seq || self->queued >= EVENT_QUEUE_MAX)
        return; /* already handled (catch-up overlap) or beyond the queue: asked again later */
    event_node_t *prev = NULL, *next = self->head;
    while (next && next->ev.seq < env->seq) {
        prev = next;
        next = next->next;
    }
    if (next && next->ev.seq == env->seq)
        return; /* queued already */
    event_node_t *n = calloc(1, sizeof *n);
    if (!n)
        return;
    snprintf(n->ev.name, sizeof n->ev.name, "%.*s", (int)env->event.len, env->event.ptr);
    n->ev.seq = env->seq;
    n->ev.timestamp = env->timestamp;
    if (own_map(env->data, &n->ev.data, &n->ev.data_len, &n->ev.map) != 0) {
        collab_event_free(&n->ev);
        free(n);
        return;
    }
    n->next = next;
    if (prev)
        prev->next = n;
    else
        self->head = n;
    if (!next)
        self->tail = n;
    self->queued++;
}

/*  Receives one frame (already known readable) and sorts it: an event is queued; a reply
    is returned through *env when its id is `want`. Returns 1 for the awaited reply. */
static int receive_one(collab_client_t *self, uint64_t want, collab_envelope_t *env, zmq_msg_t *msg)
{
    if (zmq_msg_recv(msg, self->raw, ZMQ_DONTWAIT) < 0)
        return 0;
    if (collab_envelope_decode(zmq_msg_data(msg), zmq_msg_size(msg), env) != 0)
        return 0;
    if (env->kind == COLLAB_KIND_EVENT) {
        queue_event(self, env);
        return 0;
    }
    return env->kind == COLLAB_KIND_REPLY && env->request_id == want && want != 0;
}

static int build_and_send(collab_client_t *self, const char *action, const void *payload,
                          size_t len, uint64_t *id_out)
{
    uint8_t nonce[COLLAB_NONCE_LEN], sig[COLLAB_SIGNATURE_LEN];
    collab_envelope_t env = {.kind = COLLAB_KIND_REQUEST,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = self->next_id++,
                             .action = {action, strlen(action)},
                             .agent_id = {self->agent_id, strlen(self->agent_id)},
                             .session_id = {self->session, strlen(self->session)},
                             .timestamp = now_ms(),
                             .payload = {payload, payload ? len : 0}};
    int act = collab_action_lookup(action, strlen(action));
    bool sign =
        act >= 0 && self->opts.has_key && collab_action_needs_signature(act, self->controls.scope);
    if (sign && self->controls.replay_protection) {
        randombytes_buf(nonce, sizeof nonce);
        env.nonce = (collab_span_t){(const char *)nonce, sizeof nonce};
    }
    if (sign) {
        collab_sign(&env, self->controls.scope, self->opts.key, sig);
        env.signature = (collab_span_t){(const char *)sig, sizeof sig};
    }
    size_t flen;
    int rc = collab_envelope_encode(&env, self->frame, sizeof self->frame, &flen);
    if (rc)
        return rc;
    if (zmq_send(self->raw, self->frame, flen, ZMQ_DONTWAIT) < 0)
        return COLLAB_E_IO;
    *id_out = env.request_id;
    return 0;
}

uint64_t collab_client_send(collab_client_t *self, const char *action, const void *payload,
                            size_t len)
{
    uint64_t id = 0;
    return build_and_send(self, action, payload, len, &id) == 0 ? id : 0;
}

static int fill_reply(const collab_envelope_t *env, collab_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    reply->ok = env->ok;
    reply->code = -(int)env->error_code;
    snprintf(reply->error, sizeof reply->error, "%.*s", (int)env->error.len, env->error.ptr);
    return own_map(env->data, &reply->data, &reply->data_len, &reply->map);
}

/*  One attempt: send, then wait for the matching reply until the attempt's deadline. */
static int attempt(collab_client_t *self, const char *action, const void *payload, size_t len,
                   collab_reply_t *reply)
{
    uint64_t id;
    int rc = build_and_send(self, action, payload, len, &id);
    if (rc)
        return rc;
    int64_t deadline = collab_mono_ms() + self->opts.timeout_ms;
    zmq_pollitem_t item = {self->raw, 0, ZMQ_POLLIN, 0};
    for (int64_t left; !stopped(self) && (left = deadline - collab_mono_ms()) > 0;) {
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        zmq_msg_t msg;
        collab_envelope_t env;
        zmq_msg_init(&msg);
        int got = receive_one(self, id, &env, &msg);
        rc = got ? fill_reply(&env, reply) : 0;
        zmq_msg_close(&msg);
        if (got)
            return rc;
    }
    return COLLAB_E_TIMEOUT;
}

static bool session_gone(const collab_reply_t *r)
{
    return !r->ok && (r->code == COLLAB_E_SESSION_INVALID || r->code == COLLAB_E_SESSION_EXPIRED);
}

int collab_client_request(collab_client_t *self, const char *action, const void *payload,
                          size_t len, collab_reply_t *reply)
{
    int rc = COLLAB_E_TIMEOUT;
    memset(reply, 0, sizeof *reply);
    for (int i = 0; i <= self->opts.retries && rc == COLLAB_E_TIMEOUT && !stopped(self); i++)
        rc = attempt(self, action, payload, len, reply);
    if (rc == 0 && session_gone(reply) && self->opts.auto_relogin && strcmp(action, "login") != 0 &&
        !stopped(self) && collab_client_login(self) == 0) {
        if (self->subscribed)
            collab_client_subscribe(self, self->subscribed_all);
        collab_reply_free(reply);
        return collab_client_request(self, action, payload, len, reply);
    }
    return rc;
}

static void read_controls(collab_client_t *self, const collab_map_t *data)
{
    collab_map_t c;
    collab_span_t scope;
    uint64_t window = 0;
    if (collab_map_submap(data, "controls", &c) != 0)
        return;
    if (collab_map_str(&c, "signature_scope", &scope) == 0)
        self->controls.scope =
            collab_span_eq(scope, "full") ? COLLAB_SCOPE_FULL : COLLAB_SCOPE_WEAK;
    collab_map_bool(&c, "replay_protection", &self->controls.replay_protection);
    collab_map_bool(&c, "sanitize_output", &self->controls.sanitize_output);
    if (collab_map_uint(&c, "timestamp_window_s", &window) == 0)
        self->controls.window_s = (uint32_t)window;
}

int collab_client_login(collab_client_t *self)
{
    uint8_t buf[COLLAB_PASSWORD_MAX + 32];
    collab_pack_t p;
    size_t len;
    if (self->mon) { /* the first login: is anyone there at all? */
        int up = client_monitor_wait(self->mon, self->opts.connect_timeout_ms, agent_stop_signal);
        client_monitor_destroy(&self->mon);
        if (up != 0)
            return up;
    }
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_kv_str(&p, "password", self->password);
    if (collab_pack_finish(&p, &len) != 0)
        return COLLAB_E_TOO_LARGE;
    self->session[0] = '\0';
    collab_reply_t r;
    /* a login is slow by design (bcrypt cost 12 is ~0.25 s, more on a loaded broker):
       it may get more time per attempt rather than retry, since each retry hashes again */
    int timeout = self->opts.timeout_ms;
    if (self->opts.login_timeout_ms > 0)
        self->opts.timeout_ms = self->opts.login_timeout_ms;
    int rc = collab_client_request(self, "login", buf, len, &r);
    self->opts.timeout_ms = timeout;
    sodium_memzero(buf, sizeof buf);
    if (rc)
        return rc;
    collab_span_t sid, role;
    uint64_t seq = 0;
    if (!r.ok)
        rc = r.code;
    else if (collab_map_str(&r.map, "session_id", &sid) != 0 || sid.len > COLLAB_MAX_SESSION_ID)
        rc = COLLAB_E_MALFORMED;
    if (rc == 0) {
        snprintf(self->session, sizeof self->session, "%.*s", (int)sid.len, sid.ptr);
        if (collab_map_str(&r.map, "role", &role) == 0)
            snprintf(self->role, sizeof self->role, "%.*s", (int)role.len, role.ptr);
        read_controls(self, &r.map);
        if (self->last_seq == 0 && collab_map_uint(&r.map, "event_seq", &seq) == 0)
            self->last_seq = seq; /* a fresh client starts from now */
    }
    collab_reply_free(&r);
    return rc;
}

int collab_client_subscribe(collab_client_t *self, bool all)
{
    uint8_t buf[64];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 2);
    collab_pack_kv_uint(&p, "since", self->last_seq);
    collab_pack_kv_bool(&p, "all", all);
    collab_pack_finish(&p, &len);
    collab_reply_t r;
    bool relogin = self->opts.auto_relogin;
    self->opts.auto_relogin = false; /* no recursion through request's re-login */
    int rc = collab_client_request(self, "subscribe", buf, len, &r);
    self->opts.auto_relogin = relogin;
    if (rc)
        return rc;
    rc = r.ok ? 0 : r.code;
    if (rc == 0) {
        self->subscribed = true;
        self->subscribed_all = all;
    }
    collab_reply_free(&r);
    return rc;
}

int collab_client_next_event(collab_client_t *self, collab_event_msg_t *ev, int timeout_ms)
{
    int64_t deadline = collab_mono_ms() + timeout_ms;
    zmq_pollitem_t item = {self->raw, 0, ZMQ_POLLIN, 0};
    for (;;) {
        if (self->head && self->subscribed && self->last_seq &&
            self->head->ev.seq > self->last_seq + 1 && self->gap_asked < self->head->ev.seq) {
            /* a gap before the next event (pushed to a connection that a broker restart or a
               failover cut): ask once for what is missing, which the queue sorts in front.
               What is still missing after that is gone (retention): handed over as is. */
            self->gap_asked = self->head->ev.seq;
            int rc = collab_client_subscribe(self, self->subscribed_all);
            if (rc == COLLAB_E_TIMEOUT && stopped(self))
                return rc;
            continue;
        }
        if (self->head) {
            event_node_t *n = self->head;
            self->head = n->next;
            if (!self->head)
                self->tail = NULL;
            self->queued--;
            *ev = n->ev;
            free(n);
            if (ev->seq > self->last_seq)
                self->last_seq = ev->seq;
            return 0;
        }
        int64_t left = deadline - collab_mono_ms();
        if (stopped(self))
            return COLLAB_E_TIMEOUT;
        if (left <= 0 || zmq_poll(&item, 1, (long)left) <= 0) {
            if (collab_mono_ms() >= deadline)
                return COLLAB_E_TIMEOUT;
            continue;
        }
        zmq_msg_t msg;
        collab_envelope_t env;
        zmq_msg_init(&msg);
        receive_one(self, 0, &env, &msg);
        zmq_msg_close(&msg);
    }
}

const char *collab_client_session(const collab_client_t *self)
{
    return self->session;
}

const collab_controls_t *collab_client_controls(const collab_client_t *self)
{
    return &self->controls;
}

const char *collab_client_role(const collab_client_t *self)
{
    return self->role;
}

void *collab_client_socket(collab_client_t *self)
{
    return self->raw;
}

uint64_t collab_client_last_seq(const collab_client_t *self)
{
    return self->last_seq;
}

void collab_client_set_last_seq(collab_client_t *self, uint64_t seq)
{
    self->last_seq = seq;
}

void collab_client_set_session(collab_client_t *self, const char *session_id)
{
    snprintf(self->session, sizeof self->session, "%s", session_id);
}

/*  The newest event seq this client holds, handled or queued. */
static uint64_t newest_seq(const collab_client_t *self)
{
    return self->tail && self->tail->ev.seq > self->last_seq ? self->tail->ev.seq : self->last_seq;
}

int collab_client_heartbeat(collab_client_t *self)
{
    collab_reply_t r;
    int rc = collab_client_request(self, "heartbeat", NULL, 0, &r);
    if (rc)
        return rc;
    uint64_t seq = 0;
    rc = r.ok ? 0 : r.code;
    if (rc == 0 && collab_map_uint(&r.map, "event_seq", &seq) == 0 && self->subscribed &&
        seq > newest_seq(self))
        rc = collab_client_subscribe(self, self->subscribed_all);
    collab_reply_free(&r);
    return rc;
}

void collab_client_set_timeout(collab_client_t *self, int timeout_ms, int retries)
{
    self->opts.timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    self->opts.retries = retries > 0 ? retries : 0;
}

int collab_client_next_reply(collab_client_t *self, uint64_t *id, collab_reply_t *reply,
                             int timeout_ms)
{
    int64_t deadline = collab_mono_ms() + timeout_ms;
    zmq_pollitem_t item = {self->raw, 0, ZMQ_POLLIN, 0};
    for (int64_t left; !stopped(self) && (left = deadline - collab_mono_ms()) > 0;) {
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        zmq_msg_t msg;
        collab_envelope_t env;
        zmq_msg_init(&msg);
        int rc = 1;
        if (zmq_msg_recv(&msg, self->raw, ZMQ_DONTWAIT) >= 0 &&
            collab_envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env) == 0) {
            if (env.kind == COLLAB_KIND_EVENT)
                queue_event(self, &env);
            else if (env.kind == COLLAB_KIND_REPLY && (rc = fill_reply(&env, reply)) == 0)
                *id = env.request_id;
        }
        zmq_msg_close(&msg);
        if (rc <= 0)
            return rc;
    }
    return COLLAB_E_TIMEOUT;
}

void collab_client_set_relogin(collab_client_t *self, bool on)
{
    self->opts.auto_relogin = on;
}

void collab_client_logout(collab_client_t *self)
{
    collab_reply_t r;
    int timeout = self->opts.timeout_ms, retries = self->opts.retries;
    bool relogin = self->opts.auto_relogin;
    collab_client_set_timeout(self, COLLAB_CLIENT_FAREWELL_MS, 0);
    self->opts.auto_relogin = false;
    self->farewell = true;
    if (self->session[0] && collab_client_request(self, "logout", NULL, 0, &r) == 0)
        collab_reply_free(&r);
    self->farewell = false;
    self->opts.auto_relogin = relogin;
    collab_client_set_timeout(self, timeout, retries);
}
