/*  routes.c: the one table of collab-web's HTTP API (docs/WEB.md 3), one row per route. */
#include "api.h"
#include "bearer.h"

#include <string.h>

const web_field_t api_login_body[2] = {
    {"agent_id", WEB_F_AGENT, true, 0, 0},
    {"password", WEB_F_SECRET, true, 0, 0},
};
const web_field_t api_project_body[2] = {
    {"name", WEB_F_TEXT, true, 1, COLLAB_NAME_MAX_CP},
    {"description", WEB_F_TEXT, false, 0, COLLAB_DESC_MAX_CP},
};
const web_field_t api_task_body[5] = {
    {"project_id", WEB_F_UINT, true, 1, 0},
    {"worker", WEB_F_AGENT, true, 0, 0},
    {"title", WEB_F_TEXT, true, 1, COLLAB_NAME_MAX_CP},
    {"description", WEB_F_TEXT, false, 0, COLLAB_DESC_MAX_CP},
    {"type", WEB_F_IDENT, false, 0, 0},
};
const web_field_t api_status_body[3] = {
    {"task_id", WEB_F_UINT, true, 1, 0},
    {"status", WEB_F_IDENT, true, 0, 0},
    {"result", WEB_F_TEXT, false, 0, COLLAB_DESC_MAX_CP},
};
const web_field_t api_revoke_body[2] = {
    {"handle", WEB_F_UINT, false, 1, 0},
    {"agent_id", WEB_F_AGENT, false, 0, 0},
};
const web_field_t api_role_body[2] = {
    {"agent_id", WEB_F_AGENT, true, 0, 0},
    {"role", WEB_F_IDENT, true, 0, 0},
};

#define BODY(spec) spec, sizeof spec / sizeof spec[0]

static const web_route_t routes[] = {
    {"POST", "/api/login", false, BODY(api_login_body), api_login},
    {"POST", "/api/logout", true, NULL, 0, api_logout},
    {"GET", "/api/me", true, NULL, 0, api_me},
    {"GET", "/api/board", true, NULL, 0, api_board},
    {"POST", "/api/projects", true, BODY(api_project_body), api_projects},
    {"POST", "/api/tasks", true, BODY(api_task_body), api_tasks},
    {"POST", "/api/tasks/status", true, BODY(api_status_body), api_task_status},
    {"GET", "/api/events", true, NULL, 0, api_events},
    {"GET", "/api/admin/sessions", true, NULL, 0, api_admin_sessions},
    {"POST", "/api/admin/revoke", true, BODY(api_revoke_body), api_admin_revoke},
    {"POST", "/api/admin/role", true, BODY(api_role_body), api_admin_role},
    {"GET", "/api/admin/stats", true, NULL, 0, api_admin_stats},
    {"GET", "/api/lab/controls", true, NULL, 0, api_lab_controls},
    {"POST", "/api/token", true, NULL, 0, api_token},
};

const web_route_t *api_route(const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(routes[i].path, path) == 0)
            return &routes[i];
    return NULL;
}
