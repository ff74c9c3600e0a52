/*  probe_session.c: the seed's session improvements: the idle timeout forces a new login,
    unknown and malformed session ids are refused before any handler, and logout destroys
    the session. */
#include "privbroker.h"
#include "collab_clock.h"
#include "probe.h"

#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PROBE_IDLE_S 2 /* the private broker's sessions.idle_timeout_s */

static bool session_code(int code)
{
    return code == COLLAB_E_SESSION_INVALID || code == COLLAB_E_SESSION_EXPIRED;
}

/*  Waits until the deadline without sending anything (the session must stay idle), taking
    the events pushed meanwhile; notes the broker's word that it ended the session. */
static void stay_idle(collab_client_t *c, int64_t deadline, char *told, size_t cap)
{
    collab_event_msg_t ev;
    for (int64_t left; (left = deadline - collab_mono_ms()) > 0;) {
        if (collab_client_next_event(c, &ev, (int)left) != 0)
            continue;
        collab_span_t why = {"", 0};
        collab_map_str(&ev.map, "reason", &why);
        if (strcmp(ev.name, "session_expired") == 0)
            snprintf(told, cap, "session_expired (reason %.*s)", (int)why.len, why.ptr);
        collab_event_free(&ev);
    }
}

static int idle_steps(const probe_opts_t *o, verdict_t *v)
{
    char d1[700], d2[200], told[128] = "";
    probe_reply_t r;
    collab_client_t *c = probe_login(o, v);
    if (!c)
        return v->outcome;
    uint64_t idle_s = 0;
    if (collab_client_subscribe(c, false) == 0 &&
        probe_call(c, &r, "get_session_info", NULL, 0) == 0)
        collab_map_uint(&r.r.map, "idle_timeout_s", &idle_s);
    probe_reply_free(&r);
    if (idle_s == 0) {
        collab_client_destroy(&c);
        return verdict(v, PROBE_ERROR, "subscribe or get_session_info failed");
    }
    int64_t wait_ms = (int64_t)idle_s * 1000 + 1000;
    lab_say("session open, idle timeout %llu s; stay idle for %.1f s", (unsigned long long)idle_s,
            wait_ms / 1000.0);
    stay_idle(c, collab_mono_ms() + wait_ms, told, sizeof told);
    if (told[0])
        lab_say("the broker told the session's holder: %s", told);
    int expired = probe_call(c, &r, "heartbeat", NULL, 0);
    probe_describe(&r, d1, sizeof d1);
    probe_reply_free(&r);
    lab_say("heartbeat after the idle period: %s", d1);
    int relogin = collab_client_login(c);
    int after = relogin == 0 ? probe_call(c, &r, "heartbeat", NULL, 0) : relogin;
    if (relogin == 0)
        probe_reply_free(&r);
    snprintf(d2, sizeof d2, "%s", relogin ? collab_strerror(relogin) : after ? "refused" : "ok");
    lab_say("new login and heartbeat: %s", d2);
    probe_call(c, &r, "logout", NULL, 0);
    probe_reply_free(&r);
    collab_client_destroy(&c);
    bool holds = expired == COLLAB_E_SESSION_EXPIRED && relogin == 0 && after == 0;
    char pushed[200] = "";
    if (told[0])
        snprintf(pushed, sizeof pushed, " the broker pushed %s;", told);
    return verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
                   "after %.1f s idle (idle timeout %llu s)%s the next request got: %s; a new "
                   "login and heartbeat: %s",
                   wait_ms / 1000.0, (unsigned long long)idle_s, pushed, d1, d2);
}

int probe_idle_timeout(const probe_opts_t *o, verdict_t *v)
{
    privbroker_t b;
    char err[700], set[64];
    snprintf(set, sizeof set, "sessions.idle_timeout_s=%d", PROBE_IDLE_S);
    const char *sets[] = {set, NULL};
    if (!o->cli.credentials[0])
        return verdict(v, PROBE_USAGE, "the private broker needs a credentials file");
    lab_say("start a private broker %s with %s (the swarm's is 30 min)", o->broker_exe, set);
    if (privbroker_start(&b, o->broker_exe, o->cli.credentials, sets, err, sizeof err) != 0)
        return verdict(v, PROBE_ERROR, "%s", err);
    lab_say("private broker at %s, its files in %s", b.endpoint, b.dir);
    probe_opts_t mine = *o;
    snprintf(mine.cli.endpoint, sizeof mine.cli.endpoint, "%s", b.endpoint);
    mine.cli.curve_server[0] = mine.cli.curve_cert[0] = '\0'; /* it speaks ZMTP NULL */
    idle_steps(&mine, v);
    privbroker_stop(&b);
    lab_say("private broker stopped, its directory removed");
    return v->outcome;
}

/*  A random session id of the same shape as a real one: a UUID 4 like the stage2 ids, or
    base64url like the strong ones. */
static void made_up_id(const char *real, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    bool uuid = strlen(real) == 36 && real[8] == '-' && real[13] == '-';
    size_t n = strlen(real) < cap ? strlen(real) : cap - 1;
    for (size_t i = 0; i < n; i++) {
        bool keep = uuid && (real[i] == '-' || i == 14 || i == 19); /* version, variant */
        out[i] = keep   ? real[i]
                 : uuid ? hex[randombytes_uniform(16)]
                        : b64[randombytes_uniform(64)];
    }
    out[n] = '\0';
}

int probe_session_validation(const probe_opts_t *o, verdict_t *v)
{
    char fake[COLLAB_MAX_SESSION_ID + 1], d[3][700];
    const char *bad = "not a session id";
    uint8_t key[COLLAB_KEY_LEN];
    probe_reply_t r;
    collab_client_t *c = probe_login(o, v);
    if (!c)
        return v->outcome;
    bool signing = collab_client_load_key(o->cli.key_file[0] ? o->cli.key_file : o->cli.credentials,
                                          o->cli.agent_id, key, d[0], sizeof d[0]) == 0;
    made_up_id(collab_client_session(c), fake, sizeof fake);
    probe_raw_t req = {
        .action = "create_project", .agent_id = o->cli.agent_id, .key = signing ? key : NULL};
    lab_say("create_project {} (no name) with the real session: reaches its handler?");
    int real = probe_call(c, &r, "create_project", NULL, 0);
    probe_describe(&r, d[0], sizeof d[0]);
    probe_reply_free(&r);
    lab_say("  %s", d[0]);
    req.session_id = fake;
    lab_say("the same with a made-up, well-formed id %.8s... (%s)", fake,
            signing ? "correctly signed" : "unsigned");
    int made = probe_raw(c, &req, &r);
    probe_describe(&r, d[1], sizeof d[1]);
    probe_reply_free(&r);
    lab_say("  %s", d[1]);
    req.session_id = bad;
    lab_say("the same with a malformed id \"%s\" (spaces are outside 0x21-0x7e)", bad);
    int malformed = probe_raw(c, &req, &r);
    probe_describe(&r, d[2], sizeof d[2]);
    probe_reply_free(&r);
    lab_say("  %s", d[2]);
    sodium_memzero(key, sizeof key);
    probe_call(c, &r, "logout", NULL, 0);
    probe_reply_free(&r);
    collab_client_destroy(&c);
    if (real == COLLAB_E_TIMEOUT || session_code(real) || real == 0)
        return verdict(v, PROBE_ERROR,
                       "the baseline create_project {} with the real session "
                       "gave %s",
                       d[0]);
    bool holds = made == COLLAB_E_SESSION_INVALID && malformed == COLLAB_E_LIMIT;
    return verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
                   "made-up session id: %s; malformed id \"%s\": %s; the same create_project "
                   "with the real session reached its handler (%s), the unknown id never did",
                   d[1], bad, d[2], d[0]);
}

int probe_logout(const probe_opts_t *o, verdict_t *v)
{
    char sid[COLLAB_MAX_SESSION_ID + 1], d[3][700];
    probe_reply_t r;
    collab_client_t *c = probe_login(o, v);
    if (!c)
        return v->outcome;
    snprintf(sid, sizeof sid, "%s", collab_client_session(c));
    int before = probe_call(c, &r, "heartbeat", NULL, 0);
    probe_describe(&r, d[0], sizeof d[0]);
    probe_reply_free(&r);
    lab_say("heartbeat with session %.8s...: %s", sid, d[0]);
    int out = probe_call(c, &r, "logout", NULL, 0);
    probe_describe(&r, d[1], sizeof d[1]);
    probe_reply_free(&r);
    lab_say("logout: %s", d[1]);
    probe_raw_t req = {.action = "heartbeat", .agent_id = o->cli.agent_id, .session_id = sid};
    int after = probe_raw(c, &req, &r);
    probe_describe(&r, d[2], sizeof d[2]);
    probe_reply_free(&r);
    lab_say("heartbeat with the same id after logout: %s", d[2]);
    collab_client_destroy(&c);
    if (before != 0 || out != 0)
        return verdict(v, PROBE_ERROR, "heartbeat before logout: %s; logout: %s", d[0], d[1]);
    if (after == 0)
        return verdict(v, PROBE_FAILS, "session %.8s... still accepted after logout", sid);
    return verdict(v, after == COLLAB_E_SESSION_INVALID ? PROBE_HOLDS : PROBE_FAILS,
                   "session %.8s... worked (heartbeat ok), logout ok, then the same id was "
                   "refused: %s",
                   sid, d[2]);
}
