/*  att_session.c: attacks on sessions that hold an agent's credentials or the state file:
    session-forever (V-003), concurrent-sessions (V-007), steal-state (V-008/V-010). */
#include "attack.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool session_ended(int rc)
{
    return rc == COLLAB_E_SESSION_EXPIRED || rc == COLLAB_E_SESSION_INVALID;
}

int attack_session_forever(const attack_opts_t *o, verdict_t *v)
{
    collab_client_t *c = own_client(o, v);
    if (!c)
        return v->outcome;
    uint64_t start = wall_ms(), end = start + (uint64_t)o->lifetime_s * 1000u + 1000u;
    lab_say("logged in as %s; keeping the session busy past the promised lifetime of %u s",
            o->own.agent_id, o->lifetime_s);
    int rc = 0;
    uint64_t requests = 0;
    while (rc == 0 && wall_ms() < end) {
        rc = att_call(c, NULL, "heartbeat", NULL);
        requests++;
        collab_event_msg_t ev; /* paces the loop: waits up to 200 ms for an event */
        if (rc == 0 && collab_client_next_event(c, &ev, 200) == 0)
            collab_event_free(&ev);
    }
    double held = (double)(wall_ms() - start) / 1000.0;
    if (rc == 0)
        rc = att_call(c, NULL, "get_session_info", NULL);
    collab_client_destroy(&c);
    if (rc == 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "the session of %s is still accepted after %.1f s (%llu requests), beyond "
                       "the %u s absolute lifetime: active sessions never expire",
                       o->own.agent_id, held, (unsigned long long)requests, o->lifetime_s);
    if (session_ended(rc))
        return blocked(v, rc == COLLAB_E_SESSION_EXPIRED ? "session_lifetime" : NULL,
                       "the session ended after %.1f s although it was busy (%s)", held,
                       collab_strerror(rc));
    return verdict(v, ATTACK_ERROR, "heartbeat failed: %s", collab_strerror(rc));
}

/*  Logs in one more time as the attacker's agent, subscribed so that an eviction event
    would reach it. */
static collab_client_t *one_more_session(const attack_opts_t *o, verdict_t *v)
{
    collab_client_t *c = own_client(o, v);
    if (c && collab_client_subscribe(c, false) != 0)
        collab_client_destroy(&c);
    return c;
}

int attack_concurrent_sessions(const attack_opts_t *o, verdict_t *v)
{
    uint32_t want = o->session_cap + 1;
    collab_client_t *c[65] = {0};
    if (want > 64)
        return verdict(v, ATTACK_ERROR, "--sessions must be below 64");
    for (uint32_t i = 0; i < want; i++)
        if (!(c[i] = one_more_session(o, v)))
            return v->outcome;
    lab_say("opened %u sessions of %s (the cap under test is %u)", want, o->own.agent_id,
            o->session_cap);
    uint32_t usable = 0, told = 0;
    for (uint32_t i = 0; i < want; i++) {
        usable += att_call(c[i], NULL, "heartbeat", NULL) == 0;
        collab_event_msg_t ev;
        while (collab_client_next_event(c[i], &ev, i == 0 ? 500 : 0) == 0) {
            told += strcmp(ev.name, "session_evicted") == 0;
            collab_event_free(&ev);
        }
    }
    for (uint32_t i = 0; i < want; i++)
        collab_client_destroy(&c[i]);
    if (usable > o->session_cap && told == 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "%u sessions of %s are usable at once (cap %u) and no holder was told",
                       usable, o->own.agent_id, o->session_cap);
    if (usable == 0) /* not even the newest session works: nothing was measured */
        return verdict(v, ATTACK_ERROR, "none of the %u sessions of %s answered a heartbeat", want,
                       o->own.agent_id);
    return blocked(v, "session_cap",
                   "only %u of %u sessions stayed usable; %u holder(s) told by "
                   "a session_evicted event",
                   usable, want, told);
}

typedef struct {
    const attack_opts_t *o;
    int tried, rows, unanswered;
    int code; /* a refusal that names a control of the lab, else the last one */
    char agent[COLLAB_MAX_AGENT_ID + 1];
    bool used;
} steal_t;

/*  Tries one value read from the file as a session id of the row's agent. */
static void try_token(steal_t *st, const char *agent, const char *value)
{
    if (st->used || st->unanswered || !agent || !value || strlen(value) > COLLAB_MAX_SESSION_ID ||
        !*value)
        return;
    collab_client_t *c = bare_client(st->o, agent, NULL);
    if (!c)
        return;
    collab_client_set_session(c, value);
    st->tried++;
    int rc = att_call(c, NULL, "get_session_info", NULL);
    st->unanswered += rc == COLLAB_E_TIMEOUT;
    if (rc != 0 && !control_of(st->code, NULL))
        st->code = rc;
    if (rc == 0) {
        st->used = true;
        snprintf(st->agent, sizeof st->agent, "%s", agent);
    }
    collab_client_destroy(&c);
}

static int each_row(void *arg, int ncol, char **vals, char **names)
{
    steal_t *st = arg;
    const char *agent = NULL;
    st->rows++;
    for (int i = 0; i < ncol; i++)
        if (strcmp(names[i], "agent_id") == 0)
            agent = vals[i];
    for (int i = 0; i < ncol; i++)
        try_token(st, agent, vals[i]);
    return 0;
}

int attack_steal_state(const attack_opts_t *o, verdict_t *v)
{
    victim_t vic;
    char line[64];
    if (!o->state_path[0])
        return verdict(v, ATTACK_ERROR, "steal-state needs --state PATH (read access to the file)");
    const char *args[] = {"--duration-ms", "20000", NULL};
    if (victim_start(&vic, o, "coordinator1", "busy", args) != 0 ||
        !victim_expect(&vic, "ready", line, sizeof line, o->timeout_ms * 3)) {
        victim_stop(&vic);
        return verdict(v, ATTACK_ERROR, "the victim did not start");
    }
    lab_say("victim coordinator1 is logged in and working; reading %s read-only", o->state_path);
    sqlite3 *db = NULL;
    steal_t st = {.o = o};
    char *err = NULL;
    char uri[600];
    snprintf(uri, sizeof uri, "file:%s?mode=ro", o->state_path);
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "SELECT * FROM sessions", each_row, &st, &err);
    sqlite3_free(err);
    sqlite3_close(db);
    victim_stop(&vic);
    if (rc != SQLITE_OK)
        return verdict(v, ATTACK_ERROR, "cannot read the sessions of %s", o->state_path);
    if (st.used)
        return verdict(v, ATTACK_SUCCEEDED,
                       "a live session token of %s read from the state file was accepted by the "
                       "broker (get_session_info ok)",
                       st.agent);
    if (st.tried > 0 && st.unanswered == st.tried)
        return unanswered(o, v, "request with a session id read from the state file");
    if (st.rows == 0) /* the victim is logged in: its session must be somewhere */
        return verdict(v, ATTACK_ERROR, "no session rows in %s", o->state_path);
    return blocked(v, control_of(st.code, "state_at_rest"),
                   "%d session rows, %d values tried: none is usable as a "
                   "session id (%s)",
                   st.rows, st.tried, st.code ? collab_errname(st.code) : "nothing tried");
}
