/*  api_session.c: POST /api/login, POST /api/logout, GET /api/me, and the forwarding of a
    bus reply as the answer (api.h). */
#include "api.h"
#include "collab_clock.h"
#include "json.h"
#include "sse.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void forwarded(void *arg, const collab_reply_t *reply, int rc)
{
    webreq_t *req = arg;
    if (rc != 0 || !reply->ok) {
        web_answer_bus(req, reply, rc);
        return;
    }
    web_answer(req, 200, collab_json_from_map(&reply->map));
}

int api_forward(webreq_t *req, const char *action, const void *payload, size_t len)
{
    int rc = gw_call(req->gw, req->sess, action, payload, len, forwarded, req);
    if (rc)
        web_answer_bus(req, NULL, rc);
    return 0;
}

int api_login(webreq_t *req)
{
    gateway_t *gw = req->gw;
    const web_values_t *v = req->values;
    /* failed logins per address are bounded (a guess costs a token when it fails): many
       people behind one address logging in rightly are not */
    int64_t wait = web_rate_peek(gw_login_rate(gw), req->addr, collab_mono_ms());
    int rc = wait ? COLLAB_E_RATE_LIMITED : gw_login(gw, req, v->v[0].str, v->v[1].str);
    sodium_memzero(req->values, sizeof *req->values); /* the password, in both copies */
    sodium_memzero(req->body, req->body_len);
    req->retry_after_s = (unsigned)((wait + 999) / 1000);
    if (rc == COLLAB_E_RATE_LIMITED)
        web_answer_error(req, 429, "rate_limited", "too many login attempts: retry later");
    else if (rc)
        web_answer_error(req, 503, "busy", "too many logins under way: retry later");
    return 0;
}

void api_login_done(webreq_t *req, login_job_t *job)
{
    if (job->rc == COLLAB_E_AUTH_FAILED || job->rc == COLLAB_E_LOCKED_OUT)
        web_rate_take(gw_login_rate(req->gw), req->addr, collab_mono_ms());
    if (job->rc != 0) {
        web_answer_error(req, web_status_for(job->rc), collab_errname(job->rc),
                         collab_strerror(job->rc));
        return;
    }
    const web_settings_t *set = gw_settings(req->gw);
    char role[16];
    snprintf(role, sizeof role, "%s", collab_client_role(job->client));
    websess_t *s = websess_add(gw_sessions(req->gw), &job->client, job->agent_id, role,
                               set->strong_session, collab_mono_ms());
    if (!s) {
        web_answer_error(req, 503, "session_limit", "too many web sessions open");
        return;
    }
    web_set_session_cookie(req, s);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "agent_id", s->agent_id);
    cJSON_AddStringToObject(o, "role", s->role);
    web_answer(req, 200, o);
}

static void logged_out(void *arg, const collab_reply_t *reply, int rc)
{
    (void)reply;
    (void)rc; /* ended either way: a session the broker no longer knows is gone too */
    webreq_t *req = arg;
    if (req->sess)
        req->sess->dead = true;
    web_set_session_cookie(req, NULL);
    web_answer(req, 200, cJSON_CreateObject());
}

int api_logout(webreq_t *req)
{
    if (gw_call(req->gw, req->sess, "logout", NULL, 0, logged_out, req) != 0)
        logged_out(req, NULL, COLLAB_E_IO);
    return 0;
}

/*  The controls in force as the pages need them: {name: "weak"|"strong"} for 18 to 21. */
static cJSON *web_controls(const web_settings_t *set)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "web_session", set->strong_session ? "strong" : "weak");
    cJSON_AddStringToObject(c, "csrf", set->strong_csrf ? "strong" : "weak");
    cJSON_AddStringToObject(c, "web_output", set->strong_output ? "strong" : "weak");
    cJSON_AddStringToObject(c, "web_token", set->strong_token ? "strong" : "weak");
    return c;
}

static void me_answer(void *arg, const collab_reply_t *reply, int rc)
{
    webreq_t *req = arg;
    websess_t *s = req->sess;
    if (rc != 0 || !reply->ok || !s) {
        web_answer_bus(req, reply, rc ? rc : s ? 0 : COLLAB_E_SESSION_INVALID);
        return;
    }
    const web_settings_t *set = gw_settings(req->gw);
    uint64_t handle = 0;
    collab_map_uint(&reply->map, "handle", &handle);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "agent_id", s->agent_id);
    cJSON_AddStringToObject(o, "role", s->role);
    cJSON_AddNumberToObject(o, "handle", (double)handle);
    cJSON_AddItemToObject(o, "controls", web_controls(set));
    if (set->strong_csrf)
        cJSON_AddStringToObject(o, "csrf", s->csrf);
    if (!set->strong_session) /* stage2: predicting such ids is the point (WEB.md 3) */
        cJSON_AddStringToObject(o, "session_id", collab_client_session(s->client));
    web_answer(req, 200, o);
}

int api_me(webreq_t *req)
{
    int rc = gw_call(req->gw, req->sess, "get_session_info", NULL, 0, me_answer, req);
    if (rc)
        web_answer_bus(req, NULL, rc);
    return 0;
}

int api_events(webreq_t *req)
{
    return sse_open(req);
}

int api_lab_controls(webreq_t *req)
{
    const web_settings_t *set = gw_settings(req->gw);
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(o, "controls");
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        const collab_control_info_t *c = collab_control_info(i);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "number", c->number);
        cJSON_AddStringToObject(e, "name", c->name);
        cJSON_AddStringToObject(e, "setting", set->cfg.strong[i] ? "strong" : "weak");
        cJSON_AddStringToObject(e, "weak", c->weak);
        cJSON_AddStringToObject(e, "strong", c->strong);
        cJSON_AddItemToArray(list, e);
    }
    cJSON_AddItemToObject(o, "web", web_controls(set));
    web_answer(req, 200, o);
    return 0;
}
