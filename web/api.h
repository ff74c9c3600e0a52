/*  api.h: collab-web's routes (docs/WEB.md 3): the table (routes.c) and the handlers
    (api_session.c: login, logout, me; api_board.c: the board and its actions;
    api_admin.c: admin and lab). A handler answers at once or after its bus calls. */
#ifndef WEB_API_H
#define WEB_API_H

#include "http.h"
#include "login.h"

/*  The route of method and path (or of path under another method: the caller answers 405),
    or NULL (a static file, or 404 under /api/). */
const web_route_t *api_route(const char *method, const char *path);

/*  The login thread's answer for req (the job stays the caller's; its client may be
    taken). */
void api_login_done(webreq_t *req, login_job_t *job);

/*  A bus call whose reply's data is the answer as it is (JSON of the data map). */
int api_forward(webreq_t *req, const char *action, const void *payload, size_t len);
/*  The route's body sent as action under the same field names (plus "type" =
    default_type when given and absent); the reply's data is the answer. */
int api_send_body(webreq_t *req, const char *action, const char *default_type);

int api_login(webreq_t *req);
int api_logout(webreq_t *req);
int api_me(webreq_t *req);
int api_board(webreq_t *req);
int api_projects(webreq_t *req);
int api_tasks(webreq_t *req);
int api_task_status(webreq_t *req);
int api_events(webreq_t *req);
int api_admin_sessions(webreq_t *req);
int api_admin_revoke(webreq_t *req);
int api_admin_role(webreq_t *req);
int api_admin_stats(webreq_t *req);
int api_lab_controls(webreq_t *req);
/*  api_lab.c: the lab page's matrix, runs and bus view. */
int api_lab_matrix(webreq_t *req);
int api_lab_run(webreq_t *req);
int api_lab_run_stream(webreq_t *req);
int api_lab_bus(webreq_t *req);

/*  The body fields of the routes that take one. */
extern const web_field_t api_login_body[2];
extern const web_field_t api_project_body[2];
extern const web_field_t api_task_body[5];
extern const web_field_t api_status_body[3];
extern const web_field_t api_revoke_body[2];
extern const web_field_t api_role_body[2];
extern const web_field_t api_lab_run_body[1];

#endif
