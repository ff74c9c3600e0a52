/*  admin_cmds.c: collab-admin's commands (see admin_cmds.h). */
#include "admin_cmds.h"
#include "admin_out.h"
#include "agent_cli.h"

#include <stdlib.h>
#include <string.h>

/*  Sends one request. On success returns 0 with *r filled (the caller frees it); otherwise
    prints why on stderr and returns the exit code. */
static int call(admin_t *a, const char *action, const collab_pack_t *p, collab_reply_t *r)
{
    size_t len = 0;
    int act = collab_action_lookup(action, strlen(action));
    if (p && collab_pack_finish(p, &len) != 0) {
        fprintf(stderr, "%s: %s: arguments too long\n", a->prog, action);
        return AGENT_EXIT_USAGE;
    }
    if (!a->has_key && collab_action_needs_signature(act, collab_client_controls(a->c)->scope)) {
        fprintf(stderr,
                "%s: %s must be signed: give this agent's key with --credentials FILE "
                "or --key-file FILE\n",
                a->prog, action);
        return AGENT_EXIT_USAGE;
    }
    int rc = collab_client_request(a->c, action, p ? p->data : NULL, len, r);
    if (rc) {
        fprintf(stderr, "%s: %s: %s\n", a->prog, action, collab_strerror(rc));
        return agent_cli_exit_code(rc);
    }
    if (r->ok)
        return 0;
    fprintf(stderr, "%s: %s refused: ", a->prog, action);
    agent_print_text(stderr, r->error, strlen(r->error), a->sanitize);
    fprintf(stderr, " (%s)\n", collab_errname(r->code));
    rc = agent_cli_exit_code(r->code);
    collab_reply_free(r);
    return rc;
}

static int print_json(const collab_map_t *data)
{
    cJSON *j = collab_json_from_map(data);
    char *s = j ? cJSON_Print(j) : NULL;
    cJSON_Delete(j);
    if (!s)
        return AGENT_EXIT_FAILED;
    puts(s);
    cJSON_free(s);
    return AGENT_EXIT_OK;
}

/*  Runs a list action without arguments and prints data[key] as a table. */
static int list_cmd(admin_t *a, const char *action, const char *key, const out_col_t *cols,
                    size_t ncols)
{
    collab_reply_t r;
    int rc = call(a, action, NULL, &r);
    if (rc)
        return rc;
    if (a->json) {
        rc = print_json(&r.map);
    } else {
        out_table_t *t = out_table_new(cols, ncols, a->sanitize);
        rc = t && out_table_add(t, &r.map, key) == 0 ? AGENT_EXIT_OK : AGENT_EXIT_FAILED;
        if (rc == 0)
            out_table_print(t, stdout);
        out_table_destroy(&t);
    }
    collab_reply_free(&r);
    return rc;
}

static int cmd_list_agents(admin_t *a, char **args, int nargs)
{
    static const out_col_t cols[] = {
        {"AGENT", "agent_id", OUT_STR}, {"ROLE", "role", OUT_STR}, {"ONLINE", "online", OUT_BOOL}};
    (void)args, (void)nargs;
    return list_cmd(a, "list_agents", "agents", cols, 3);
}

static int cmd_list_workers(admin_t *a, char **args, int nargs)
{
    static const out_col_t cols[] = {{"WORKER", "agent_id", OUT_STR},
                                     {"ONLINE", "online", OUT_BOOL},
                                     {"ACTIVE", "active_tasks", OUT_UINT},
                                     {"LAST_SEEN", "last_seen", OUT_TIME},
                                     {"CAPABILITIES", "capabilities", OUT_STRLIST}};
    (void)args, (void)nargs;
    return list_cmd(a, "list_workers", "workers", cols, 5);
}

static int cmd_stats(admin_t *a, char **args, int nargs)
{
    collab_reply_t r;
    (void)args, (void)nargs;
    int rc = call(a, "get_stats", NULL, &r);
    if (rc)
        return rc;
    if (a->json)
        rc = print_json(&r.map);
    else
        out_fields_print(&r.map, a->sanitize, stdout);
    collab_reply_free(&r);
    return rc;
}

/*  set-role's ROLE is one of the four roles of PROTOCOL.md. */
static bool check_role(const char *prog, char **args, int nargs)
{
    static const char *const roles[] = {"admin", "coordinator", "worker", "observer"};
    for (size_t i = 0; nargs == 2 && i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(args[1], roles[i]) == 0)
            return true;
    fprintf(stderr, "%s: set-role: unknown role '%s' (admin, coordinator, worker or observer)\n",
            prog, nargs == 2 ? args[1] : "");
    return false;
}

static int cmd_set_role(admin_t *a, char **args, int nargs)
{
    uint8_t buf[256];
    collab_pack_t p;
    collab_reply_t r;
    collab_span_t prev = {"?", 1}, role = {"?", 1};
    (void)nargs;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 2);
    collab_pack_kv_str(&p, "agent_id", args[0]);
    collab_pack_kv_str(&p, "role", args[1]);
    int rc = call(a, "set_role", &p, &r);
    if (rc)
        return rc;
    if (a->json) {
        rc = print_json(&r.map);
    } else {
        collab_map_str(&r.map, "previous", &prev);
        collab_map_str(&r.map, "role", &role);
        printf("%s: ", args[0]);
        agent_print_text(stdout, prev.ptr, prev.len, a->sanitize);
        fputs(" -> ", stdout);
        agent_print_text(stdout, role.ptr, role.len, a->sanitize);
        fputc('\n', stdout);
    }
    collab_reply_free(&r);
    return rc;
}

/*  Adds the sessions of one page to the table or to the JSON array; *next gets the next
    offset, 0 when this was the last page. */
static int sessions_page(admin_t *a, const char *agent, uint64_t offset, out_table_t *t, cJSON *arr,
                         uint64_t *next)
{
    uint8_t buf[256];
    collab_pack_t p;
    collab_reply_t r;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, agent ? 2 : 1);
    collab_pack_kv_uint(&p, "offset", offset);
    if (agent)
        collab_pack_kv_str(&p, "agent_id", agent);
    int rc = call(a, "list_sessions", &p, &r);
    if (rc)
        return rc;
    *next = 0;
    collab_map_uint(&r.map, "next_offset", next);
    if (*next <= offset)
        *next = 0; /* no progress: stop rather than loop */
    if (t) {
        rc = out_table_add(t, &r.map, "sessions") == 0 ? 0 : AGENT_EXIT_FAILED;
    } else {
        cJSON *page = collab_json_from_map(&r.map);
        cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "sessions");
        cJSON *s;
        rc = cJSON_IsArray(items) ? 0 : AGENT_EXIT_FAILED;
        while (rc == 0 && (s = cJSON_DetachItemFromArray(items, 0)) != NULL)
            cJSON_AddItemToArray(arr, s);
        cJSON_Delete(page);
    }
    collab_reply_free(&r);
    return rc;
}

static int cmd_list_sessions(admin_t *a, char **args, int nargs)
{
    static const out_col_t cols[] = {{"HANDLE", "handle", OUT_UINT},
                                     {"AGENT", "agent_id", OUT_STR},
                                     {"ROLE", "role", OUT_STR},
                                     {"CREATED", "created", OUT_TIME},
                                     {"LAST_ACTIVITY", "last_activity", OUT_TIME},
                                     {"PEER", "peer_address", OUT_STR}};
    const char *agent = nargs > 0 ? args[0] : NULL;
    out_table_t *t = a->json ? NULL : out_table_new(cols, 6, a->sanitize);
    cJSON *arr = a->json ? cJSON_CreateArray() : NULL;
    int rc = t || arr ? 0 : AGENT_EXIT_FAILED;
    uint64_t offset = 0, next;
    while (rc == 0 && (rc = sessions_page(a, agent, offset, t, arr, &next)) == 0 && next)
        offset = next;
    if (rc == 0 && t) {
        out_table_print(t, stdout);
    } else if (rc == 0) {
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddNumberToObject(obj, "total", cJSON_GetArraySize(arr));
        cJSON_AddItemToObject(obj, "sessions", arr);
        arr = NULL;
        char *s = cJSON_Print(obj);
        if (s)
            puts(s);
        cJSON_free(s);
        cJSON_Delete(obj);
    }
    cJSON_Delete(arr);
    out_table_destroy(&t);
    return rc;
}

static int cmd_revoke(admin_t *a, char **args, int nargs)
{
    uint8_t buf[256];
    collab_pack_t p;
    collab_reply_t r;
    uint64_t revoked = 0;
    uint64_t h = 0;
    bool handle = collab_parse_u64(args[0], 0, UINT64_MAX, &h) == 0;
    (void)nargs;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    if (handle)
        collab_pack_kv_uint(&p, "handle", h);
    else
        collab_pack_kv_str(&p, "agent_id", args[0]);
    int rc = call(a, "revoke_session", &p, &r);
    if (rc)
        return rc;
    if (a->json) {
        rc = print_json(&r.map);
    } else {
        collab_map_uint(&r.map, "revoked", &revoked);
        printf("revoked %llu session%s (%s %s)\n", (unsigned long long)revoked,
               revoked == 1 ? "" : "s", handle ? "handle" : "agent", args[0]);
    }
    collab_reply_free(&r);
    return rc;
}

static const admin_cmd_t cmds[] = {
    {"set-role", 2, 2, "AGENT ROLE", "give AGENT the role admin, coordinator, worker or observer",
     cmd_set_role, check_role},
    {"list-sessions", 0, 1, "[AGENT]", "open sessions (their handles, never their tokens)",
     cmd_list_sessions, NULL},
    {"revoke", 1, 1, "AGENT|HANDLE", "end one session (a number) or all of an agent's sessions",
     cmd_revoke, NULL},
    {"list-agents", 0, 0, "", "every agent, its role and whether it is online", cmd_list_agents,
     NULL},
    {"list-workers", 0, 0, "", "registered workers, capabilities and active tasks",
     cmd_list_workers, NULL},
    {"stats", 0, 0, "", "the broker's counters (get_stats)", cmd_stats, NULL},
};

const admin_cmd_t *admin_cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(cmds[i].name, name) == 0)
            return &cmds[i];
    return NULL;
}

void admin_usage(FILE *f)
{
    fprintf(f, "usage: collab-admin [options] COMMAND [ARGS]\n"
               "one admin action per run, logged in as an admin agent; --json for JSON output\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s %s", cmds[i].name, cmds[i].args);
        fprintf(f, "  %-28s %s\n", head, cmds[i].help);
    }
    fprintf(f, "set-role and revoke are signed: they need --credentials or --key-file.\n%s",
            agent_cli_help());
}
