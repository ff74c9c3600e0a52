/*  api_admin.c: the admin routes (api.h): GET /api/admin/sessions (handles, never tokens),
    POST /api/admin/revoke, /api/admin/role, GET /api/admin/stats. The broker refuses them
    to anyone but an admin; the gateway only forwards. */
#include "api.h"
#include "json.h"

#include <time.h>

/*  Unix ms now, for the sessions' ages. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
}

/*  A session as the admin page shows it: handle, agent, role, age, peer. Whatever else a
    broker might add is left out: in particular never a bearer token, in any profile. */
static cJSON *session_row(const cJSON *in, double now)
{
    static const char *const keep[] = {"handle",  "agent_id",      "role",
                                       "created", "last_activity", "peer_address"};
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < sizeof keep / sizeof keep[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, keep[i]);
        if (v)
            cJSON_AddItemToObject(o, keep[i], cJSON_Duplicate(v, true));
    }
    const cJSON *created = cJSON_GetObjectItemCaseSensitive(in, "created");
    if (o && cJSON_IsNumber(created))
        cJSON_AddNumberToObject(o, "age_s", (now - created->valuedouble) / 1000.0);
    return o;
}

static void sessions_listed(void *arg, const collab_reply_t *reply, int rc)
{
    webreq_t *req = arg;
    if (rc != 0 || !reply->ok) {
        web_answer_bus(req, reply, rc);
        return;
    }
    cJSON *data = collab_json_from_map(&reply->map);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(data, "sessions");
    cJSON *o = cJSON_CreateObject(), *rows = cJSON_AddArrayToObject(o, "sessions");
    double now = now_ms();
    const cJSON *e;
    cJSON_ArrayForEach(e, list) cJSON_AddItemToArray(rows, session_row(e, now));
    const cJSON *total = cJSON_GetObjectItemCaseSensitive(data, "total");
    if (cJSON_IsNumber(total))
        cJSON_AddNumberToObject(o, "total", total->valuedouble);
    cJSON_Delete(data);
    web_answer(req, 200, o);
}

int api_admin_sessions(webreq_t *req)
{
    int rc = gw_call(req->gw, req->sess, "list_sessions", NULL, 0, sessions_listed, req);
    if (rc)
        web_answer_bus(req, NULL, rc);
    return 0;
}

int api_admin_revoke(webreq_t *req)
{
    if (req->values->v[0].present == req->values->v[1].present) {
        web_answer_error(req, 400, "bad_request", "give exactly one of handle and agent_id");
        return 0;
    }
    return api_send_body(req, "revoke_session", NULL);
}

int api_admin_role(webreq_t *req)
{
    return api_send_body(req, "set_role", NULL);
}

int api_admin_stats(webreq_t *req)
{
    return api_forward(req, "get_stats", NULL, 0);
}
