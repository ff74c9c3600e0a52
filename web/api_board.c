/*  api_board.c: GET /api/board (list_projects, then get_project for each, one at a time),
    POST /api/projects, /api/tasks, /api/tasks/status (api.h). The broker decides who may
    do what; a refusal is answered with its own error. */
#include "api.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

#define BOARD_PROJECTS_MAX 200               /* projects on one board */
#define BOARD_BYTES_MAX    (4 * 1024 * 1024) /* data read for one board, then truncated */
#define TASK_TYPE_DEFAULT  "general"

typedef struct {
    uint64_t ids[BOARD_PROJECTS_MAX];
    size_t n, next;
    size_t bytes;
    bool truncated;
    cJSON *projects;
} board_t;

static void board_free(void *p)
{
    board_t *b = p;
    if (b)
        cJSON_Delete(b->projects);
    free(b);
}

static void board_step(webreq_t *req);

static void board_project(void *arg, const collab_reply_t *reply, int rc)
{
    webreq_t *req = arg;
    board_t *b = req->job;
    if (rc != 0 || (!reply->ok && reply->code != COLLAB_E_NOT_FOUND)) {
        web_answer_bus(req, reply, rc);
        return;
    }
    if (reply->ok) { /* not_found: deleted since the list was read */
        cJSON *p = collab_json_from_map(&reply->map);
        if (!p) {
            web_answer_error(req, 502, "malformed", "the broker's project could not be read");
            return;
        }
        cJSON_AddItemToArray(b->projects, p);
        b->bytes += reply->data_len;
    }
    board_step(req);
}

/*  The next project, or the answer when all are read. */
static void board_step(webreq_t *req)
{
    board_t *b = req->job;
    if (b->next >= b->n || b->bytes > BOARD_BYTES_MAX) {
        b->truncated = b->truncated || b->next < b->n;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "projects", b->projects);
        b->projects = NULL;
        cJSON_AddBoolToObject(o, "truncated", b->truncated);
        web_answer(req, 200, o);
        return;
    }
    uint8_t buf[32];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_kv_uint(&p, "project_id", b->ids[b->next++]);
    collab_pack_finish(&p, &len);
    int rc = gw_call(req->gw, req->sess, "get_project", buf, len, board_project, req);
    if (rc)
        web_answer_bus(req, NULL, rc);
}

static int board_list(webreq_t *req, uint64_t offset);

static void board_listed(void *arg, const collab_reply_t *reply, int rc)
{
    webreq_t *req = arg;
    board_t *b = req->job;
    if (rc != 0 || !reply->ok) {
        web_answer_bus(req, reply, rc);
        return;
    }
    collab_mp_reader_t r;
    collab_map_t m;
    uint32_t n = 0;
    uint64_t id, next = 0;
    if (collab_map_array(&reply->map, "projects", &r, &n) != 0)
        n = 0;
    for (uint32_t i = 0; i < n && collab_map_array_next(&r, &m) == 0; i++) {
        if (b->n >= BOARD_PROJECTS_MAX) {
            b->truncated = true;
            break;
        }
        if (collab_map_uint(&m, "project_id", &id) == 0)
            b->ids[b->n++] = id;
    }
    if (!b->truncated && collab_map_uint(&reply->map, "next_offset", &next) == 0 && next > 0) {
        if (board_list(req, next) != 0)
            web_answer_error(req, 502, "io", "the bus could not be reached");
        return;
    }
    board_step(req);
}

static int board_list(webreq_t *req, uint64_t offset)
{
    uint8_t buf[32];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_kv_uint(&p, "offset", offset);
    collab_pack_finish(&p, &len);
    return gw_call(req->gw, req->sess, "list_projects", buf, len, board_listed, req);
}

int api_board(webreq_t *req)
{
    board_t *b = calloc(1, sizeof *b);
    if (!b || !(b->projects = cJSON_CreateArray())) {
        free(b);
        web_answer_error(req, 503, "nomem", "out of memory");
        return 0;
    }
    req->job = b;
    req->job_free = board_free;
    int rc = board_list(req, 0);
    if (rc)
        web_answer_bus(req, NULL, rc);
    return 0;
}

/*  The body's fields as the action's payload, under the same names, plus "type" when
    default_type is given and the body has none. Returns 0 or COLLAB_E_TOO_LARGE. */
static int pack_body(const webreq_t *req, const char *default_type, uint8_t *buf, size_t cap,
                     size_t *len)
{
    const web_route_t *r = req->route;
    const web_values_t *v = req->values;
    uint32_t count = 0;
    bool has_type = false;
    for (size_t i = 0; i < r->nbody; i++)
        if (v->v[i].present) {
            count++;
            has_type = has_type || strcmp(r->body[i].name, "type") == 0;
        }
    bool add_type = default_type && !has_type;
    collab_pack_t p;
    collab_pack_init(&p, buf, cap);
    collab_pack_map(&p, count + (add_type ? 1 : 0));
    for (size_t i = 0; i < r->nbody; i++) {
        if (!v->v[i].present)
            continue;
        if (r->body[i].kind == WEB_F_UINT)
            collab_pack_kv_uint(&p, r->body[i].name, v->v[i].u);
        else
            collab_pack_kv_strn(&p, r->body[i].name, v->v[i].str, v->v[i].len);
    }
    if (add_type)
        collab_pack_kv_str(&p, "type", default_type);
    return collab_pack_finish(&p, len);
}

int api_send_body(webreq_t *req, const char *action, const char *default_type)
{
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    size_t len;
    if (pack_body(req, default_type, buf, sizeof buf, &len) != 0) {
        web_answer_error(req, 413, "too_large", "the request is too large for the bus");
        return 0;
    }
    return api_forward(req, action, buf, len);
}

int api_projects(webreq_t *req)
{
    return api_send_body(req, "create_project", NULL);
}

int api_tasks(webreq_t *req)
{
    return api_send_body(req, "assign_task", TASK_TYPE_DEFAULT);
}

int api_task_status(webreq_t *req)
{
    return api_send_body(req, "update_task_status", NULL);
}
