/*  ops_task.c: the interactive client's task operations, assign and update (see ops.h):
    each answer is checked before the next question, and the task types offered are the
    capabilities the registered workers really have (list_workers). */
#include "ops.h"
#include "view.h"

#include <string.h>

#define MAX_TYPES 64

typedef struct {
    char names[MAX_TYPES][COLLAB_IDENT_MAX + 1];
    const char *list[MAX_TYPES];
    size_t n;
} types_t;

static void add_type(types_t *t, const char *p, size_t len)
{
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->names[i]) == len && memcmp(t->names[i], p, len) == 0)
            return;
    if (t->n == MAX_TYPES || len == 0 || len > COLLAB_IDENT_MAX)
        return;
    memcpy(t->names[t->n], p, len);
    t->names[t->n][len] = '\0';
    t->list[t->n] = t->names[t->n];
    t->n++;
}

/*  The capabilities of the registered workers (first page of list_workers). Returns 0,
    or 1 when the broker refused (already said). */
static int worker_types(session_t *s, types_t *t)
{
    collab_reply_t r;
    collab_mp_reader_t rd;
    uint32_t n = 0;
    t->n = 0;
    if (ops_call(s, "list_workers", NULL, &r) != 0)
        return 1;
    if (collab_map_array(&r.map, "workers", &rd, &n) == 0) {
        collab_map_t w;
        for (uint32_t i = 0; i < n && collab_map_array_next(&rd, &w) == 0; i++) {
            collab_mp_reader_t caps;
            uint32_t nc = 0;
            if (collab_map_array(&w, "capabilities", &caps, &nc) != 0)
                continue;
            for (uint32_t k = 0; k < nc; k++) {
                collab_mp_value_t v;
                if (collab_mp_read(&caps, &v) == 0 && v.type == COLLAB_MP_STR)
                    add_type(t, v.ptr, v.len);
            }
        }
    }
    collab_reply_free(&r);
    return 0;
}

/*  The task type: one of the workers' capabilities. Returns 0, 1 (said why) or -1. */
static int ask_type(session_t *s, char *type, size_t cap)
{
    types_t t;
    char question[COLLAB_MAX_STR_BYTES + 64];
    if (worker_types(s, &t) != 0)
        return 1;
    if (t.n == 0) {
        fprintf(s->out, "No worker has registered yet, so no task type would find one: start a "
                        "worker (collab-worker) first.\n");
        return 1;
    }
    size_t off = (size_t)snprintf(question, sizeof question, "Task type (");
    for (size_t i = 0; i < t.n && off < sizeof question; i++)
        off += (size_t)snprintf(question + off, sizeof question - off, "%s%s", i ? ", " : "",
                                t.list[i]);
    if (off < sizeof question)
        snprintf(question + off, sizeof question - off, "): ");
    return prompt_choice(s->p, question, t.list, t.n, type, cap);
}

/*  Asks the questions of assign_task into a packed payload. Returns 0, 1 to give up
    (already said why), or -1 at end of input. */
static int ask_task(session_t *s, collab_pack_t *pk)
{
    uint64_t project;
    char type[COLLAB_IDENT_MAX + 1], title[COLLAB_MAX_STR_BYTES + 1];
    char desc[COLLAB_MAX_STR_BYTES + 1], worker[COLLAB_MAX_AGENT_ID + 1];
    int rc = prompt_number(s->p, "Project ID: ", &project);
    if (rc == 0)
        rc = ask_type(s, type, sizeof type);
    if (rc == 0)
        rc = prompt_text(s->p, "Task title: ", "A task title", 1, COLLAB_NAME_MAX_CP, title,
                         sizeof title);
    if (rc == 0)
        rc = prompt_text(s->p, "Description (optional): ", "A description", 0, COLLAB_DESC_MAX_CP,
                         desc, sizeof desc);
    if (rc == 0)
        rc = prompt_text(s->p, "Worker agent ID: ", "A worker agent id", 1, COLLAB_MAX_AGENT_ID,
                         worker, sizeof worker);
    if (rc)
        return rc;
    collab_pack_map(pk, desc[0] ? 5 : 4);
    collab_pack_kv_uint(pk, "project_id", project);
    collab_pack_kv_str(pk, "type", type);
    collab_pack_kv_str(pk, "title", title);
    if (desc[0])
        collab_pack_kv_str(pk, "description", desc);
    collab_pack_kv_str(pk, "worker", worker);
    return 0;
}

int ops_assign_task(session_t *s)
{
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    collab_pack_t pk;
    collab_reply_t r;
    if (ops_need_login(s))
        return 0;
    collab_pack_init(&pk, buf, sizeof buf);
    int rc = ask_task(s, &pk);
    if (rc || ops_call(s, "assign_task", &pk, &r) != 0)
        return rc < 0 ? -1 : 0;
    fprintf(s->out, "Task #%llu assigned to ", ops_u64(&r, "task_id"));
    view_field(s->out, &r.map, "assigned_to", "?", ops_sanitize(s));
    fputs(" (status ", s->out);
    view_field(s->out, &r.map, "status", "?", ops_sanitize(s));
    fputs(")\n", s->out);
    collab_reply_free(&r);
    return 0;
}

int ops_update_task(session_t *s)
{
    static const char *const statuses[] = {"in_progress", "completed", "failed", "cancelled"};
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    char status[COLLAB_IDENT_MAX + 1], result[COLLAB_MAX_STR_BYTES + 1];
    collab_pack_t pk;
    collab_reply_t r;
    uint64_t task;
    if (ops_need_login(s))
        return 0;
    int rc = prompt_number(s->p, "Task ID: ", &task);
    if (rc == 0)
        rc = prompt_choice(s->p,
                           "New status (in_progress, completed, failed, cancelled): ", statuses, 4,
                           status, sizeof status);
    if (rc == 0)
        rc = prompt_text(s->p, "Result (optional): ", "A result", 0, COLLAB_DESC_MAX_CP, result,
                         sizeof result);
    if (rc)
        return rc < 0 ? -1 : 0;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, result[0] ? 3 : 2);
    collab_pack_kv_uint(&pk, "task_id", task);
    collab_pack_kv_str(&pk, "status", status);
    if (result[0])
        collab_pack_kv_str(&pk, "result", result);
    if (ops_call(s, "update_task_status", &pk, &r) != 0)
        return 0;
    fprintf(s->out, "Task #%llu is now ", ops_u64(&r, "task_id"));
    view_field(s->out, &r.map, "status", "?", ops_sanitize(s));
    fputc('\n', s->out);
    collab_reply_free(&r);
    return 0;
}
