/*  collab_client.c: an agent's requests to the broker: login, signing, the timeout and
    retries, failover to the next endpoint, re-login (see collab_client.h). */
#include "client_self.h"
#include "collab_clock.h"
#include "agent_stop.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool client_stopped(const collab_client_t *self)
{
    return agent_stop_signal() != 0 && !self->farewell;
}

collab_client_t *collab_client_new(const collab_client_opts_t *opts)
{
    char err[COLLAB_ENDPOINT_MAX + 128];
    if (!opts->endpoint || !opts->agent_id || strlen(opts->agent_id) > COLLAB_MAX_AGENT_ID ||
        (opts->password && strlen(opts->password) > COLLAB_PASSWORD_MAX) || sodium_init() < 0)
        return NULL;
    collab_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->opts = *opts;
    if (collab_endpoints_parse(opts->endpoint, &self->eps, err, sizeof err) != 0) {
        collab_client_destroy(&self);
        return NULL;
    }
    snprintf(self->agent_id, sizeof self->agent_id, "%s", opts->agent_id);
    snprintf(self->password, sizeof self->password, "%s", opts->password ? opts->password : "");
    self->opts.endpoint = NULL; /* the caller's; eps holds the list */
    self->opts.agent_id = self->agent_id;
    self->opts.password = self->password;
    if (self->opts.timeout_ms <= 0)
        self->opts.timeout_ms = 3000;
    if (self->opts.retries < 0)
        self->opts.retries = 0;
    self->next_id = 1;
    self->controls.scope = COLLAB_SCOPE_WEAK;
    if (client_link_open(self, self->opts.connect_timeout_ms > 0) != 0)
        collab_client_destroy(&self);
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
    client_drop_events(self);
    client_monitor_destroy(&self->mon);
    zsock_destroy(&self->sock);
    sodium_memzero(self->password, sizeof self->password);
    sodium_memzero(&self->opts.key, sizeof self->opts.key);
    sodium_memzero(self->opts.curve_secret, sizeof self->opts.curve_secret);
    free(self);
    *self_p = NULL;
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

/*  One attempt: send, then wait for the matching reply until the attempt's deadline. */
static int attempt(collab_client_t *self, const char *action, const void *payload, size_t len,
                   collab_reply_t *reply)
{
    uint64_t id;
    int rc = build_and_send(self, action, payload, len, &id);
    if (rc)
        return rc;
    return client_await(self, collab_mono_ms() + self->opts.timeout_ms, id, reply, NULL);
}

static bool session_gone(const collab_reply_t *r)
{
    return !r->ok && (r->code == COLLAB_E_SESSION_INVALID || r->code == COLLAB_E_SESSION_EXPIRED);
}

static bool unavailable(const collab_reply_t *r)
{
    return !r->ok && r->code == COLLAB_E_UNAVAILABLE;
}

/*  The wait after every endpoint said `unavailable`: the last one's retry_after_ms, bounded
    both ways, so that the client neither spins nor sleeps for a broker's whim. */
static int unavailable_wait(const collab_reply_t *r)
{
    uint64_t ms = COLLAB_CLIENT_UNAVAILABLE_MIN_MS;
    collab_map_uint(&r->map, "retry_after_ms", &ms);
    return ms < COLLAB_CLIENT_UNAVAILABLE_MIN_MS   ? COLLAB_CLIENT_UNAVAILABLE_MIN_MS
           : ms > COLLAB_CLIENT_UNAVAILABLE_MAX_MS ? COLLAB_CLIENT_UNAVAILABLE_MAX_MS
                                                   : (int)ms;
}

/*  Whether a request that timed out may be sent again to another broker: an action that
    changes no state (actions.def's weak_signs column marks the ones that do), login and
    logout included. An action the table does not know counts as a change. */
static bool resendable(const char *action)
{
    int act = collab_action_lookup(action, strlen(action));
    return act >= 0 && !collab_action_state_changing(act);
}

/*  The attempts of one request on the endpoints, as collab_client.h's "Several endpoints"
    says. Returns what the last attempt returned (a reply is kept in *reply). */
static int send_with_failover(collab_client_t *self, const char *action, const void *payload,
                              size_t len, collab_reply_t *reply)
{
    bool several = self->eps.n > 1, again = resendable(action);
    bool renews = strcmp(action, "subscribe") != 0 && strcmp(action, "login") != 0 &&
                  strcmp(action, "logout") != 0;
    size_t asked = 0; /* endpoints asked since the last wait */
    for (int i = 0;; i++) {
        client_link_check(self);
        if (renews)
            client_renew_subscription(self);
        int rc = attempt(self, action, payload, len, reply);
        bool down = rc == COLLAB_E_TIMEOUT, busy = rc == 0 && unavailable(reply);
        if ((!down && !busy) || client_stopped(self))
            return rc;
        int wait = busy ? unavailable_wait(reply) : 0;
        asked++;
        if (several)
            client_link_move(self, false);
        if ((down && several && !again) || i >= self->opts.retries)
            return rc; /* a write that timed out is not sent again: the caller reads first */
        if (busy) {
            collab_reply_free(reply);
            memset(reply, 0, sizeof *reply);
            if (asked >= self->eps.n) { /* every endpoint said so: wait as asked */
                client_await(self, collab_mono_ms() + wait, 0, NULL, NULL);
                asked = 0;
            }
        }
    }
}

int collab_client_request(collab_client_t *self, const char *action, const void *payload,
                          size_t len, collab_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    int rc = client_stopped(self) ? COLLAB_E_TIMEOUT
                                  : send_with_failover(self, action, payload, len, reply);
    if (rc == 0 && session_gone(reply) && self->opts.auto_relogin && strcmp(action, "login") != 0 &&
        !client_stopped(self) && collab_client_login(self) == 0) {
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

/*  The first login's wait for a connection: each endpoint in turn gets connect_timeout_ms
    to complete its handshake, until one does. Returns 0 or the last endpoint's failure. */
static int first_connection(collab_client_t *self)
{
    int up = 0;
    for (size_t tried = 1; !self->first_done && self->opts.connect_timeout_ms > 0 && self->mon;
         tried++) {
        up = client_monitor_wait(self->mon, self->opts.connect_timeout_ms, agent_stop_signal);
        if (up == 0 || tried >= self->eps.n || agent_stop_signal())
            break;
        unsigned moves = self->moves;
        client_link_move(self, true);
        if (self->moves == moves)
            break; /* no other endpoint opens */
        up = 0;    /* the next one: its monitor decides, or, without one, the login's timeouts */
    }
    self->first_done = true;
    if (self->eps.n < 2)
        client_monitor_destroy(&self->mon); /* one endpoint: nothing more to watch for */
    return up;
}

int collab_client_login(collab_client_t *self)
{
    uint8_t buf[COLLAB_PASSWORD_MAX + 32];
    collab_pack_t p;
    size_t len;
    int up = first_connection(self);
    if (up != 0)
        return up;
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

const char *collab_client_endpoint(const collab_client_t *self)
{
    return self->eps.ep[self->current];
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

void collab_client_set_timeout(collab_client_t *self, int timeout_ms, int retries)
{
    self->opts.timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    self->opts.retries = retries > 0 ? retries : 0;
}

int collab_client_next_reply(collab_client_t *self, uint64_t *id, collab_reply_t *reply,
                             int timeout_ms)
{
    return client_await(self, collab_mono_ms() + timeout_ms, CLIENT_ANY_REPLY, reply, id);
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
