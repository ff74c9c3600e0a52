/*  ops.c: the interactive client's operations (see ops.h). */
#include "ops.h"
#include "view.h"

#include <sodium.h>
#include <string.h>

static bool sanitize(const session_t *s)
{
    return s->c && collab_client_controls(s->c)->sanitize_output;
}

/*  Sends one request and prints why it failed. Returns 0 with *r (to free) when the broker
    accepted it, 1 otherwise. */
static int call(session_t *s, const char *action, collab_pack_t *pk, collab_reply_t *r)
{
    size_t len = 0;
    int act = collab_action_lookup(action, strlen(action));
    if (pk && collab_pack_finish(pk, &len) != 0) {
        fprintf(s->out, "Error: the answers are too long to send.\n");
        return 1;
    }
    if (!s->has_key && collab_action_needs_signature(act, collab_client_controls(s->c)->scope)) {
        fprintf(s->out,
                "Error: %s must be signed with %s's key, and this client has none.\n"
                "Start it with --credentials FILE (a credentials file holding the key)"
                " or --key-file FILE (64 hex digits).\n",
                action, s->agent);
        return 1;
    }
    int rc = collab_client_request(s->c, action, pk ? pk->data : NULL, len, r);
    if (rc) {
        fprintf(s->out, "Error: %s.\n", collab_strerror(rc));
        return 1;
    }
    if (r->ok)
        return 0;
    fputs("Error from the broker: ", s->out);
    agent_print_text(s->out, r->error, strlen(r->error), sanitize(s));
    fprintf(s->out, " [%s]\n", collab_errname(r->code));
    collab_reply_free(r);
    return 1;
}

static bool need_login(session_t *s)
{
    if (!s->c)
        fprintf(s->out, "Not logged in: choose 1 to log in first.\n");
    return !s->c;
}

/*  The password: the configured one when this is the configured agent, else asked. */
static int get_password(session_t *s, char *pw, size_t cap)
{
    const agent_cli_t *cli = s->cli;
    if (strcmp(s->agent, cli->agent_id) == 0 && cli->password_file[0]) {
        FILE *f = fopen(cli->password_file, "r");
        bool ok = f && fgets(pw, (int)cap, f);
        if (f)
            fclose(f);
        if (ok) {
            pw[strcspn(pw, "\r\n")] = '\0';
            return 0;
        }
        fprintf(s->out, "Cannot read the password file %s.\n", cli->password_file);
    } else if (strcmp(s->agent, cli->agent_id) == 0 && cli->password[0]) {
        snprintf(pw, cap, "%s", cli->password);
        return 0;
    }
    const char *a = prompt_secret(s->p, "Password: ");
    if (!a)
        return -1;
    snprintf(pw, cap, "%s", a);
    prompt_wipe(s->p);
    return 0;
}

/*  Loads the agent's key from --key-file or --credentials; err says why there is none. */
static void load_key(session_t *s, collab_client_opts_t *o, char *err, size_t errlen)
{
    const char *src = s->cli->key_file[0] ? s->cli->key_file : s->cli->credentials;
    snprintf(err, errlen, "no --credentials or --key-file given");
    o->has_key = src[0] && collab_client_load_key(src, s->agent, o->key, err, errlen) == 0;
}

static void say_logged_in(session_t *s, const char *key_err)
{
    const collab_controls_t *ctl = collab_client_controls(s->c);
    fprintf(s->out, "Logged in as %s (role %s).\n", s->agent, collab_client_role(s->c));
    fprintf(s->out,
            "Broker controls: signature scope %s, replay protection %s, output "
            "sanitization %s.\n",
            collab_scope_name(ctl->scope), ctl->replay_protection ? "on" : "off",
            ctl->sanitize_output ? "on" : "off");
    if (!s->has_key)
        fprintf(s->out,
                "No signing key for %s (%s): signed actions (create, assign, update) "
                "will be refused here.\n",
                s->agent, key_err);
}

static void report_login_failure(session_t *s, int rc)
{
    if (rc == COLLAB_E_AUTH_FAILED)
        fprintf(s->out, "Login failed: wrong agent id or password.\n");
    else if (rc == COLLAB_E_TIMEOUT)
        fprintf(s->out, "Login failed: the broker at %s did not answer.\n", s->cli->endpoint);
    else
        fprintf(s->out, "Login failed: %s.\n", collab_strerror(rc));
}

/*  s->c for s->agent with the configured HMAC key and CURVE settings (NULL for a bad
    endpoint). Returns 0, or 1 after saying why there is none. */
static int new_client(session_t *s, const char *pw, char *key_err, size_t errlen)
{
    const agent_cli_t *cli = s->cli;
    char curve_err[600];
    collab_client_opts_t o = {.endpoint = cli->endpoint,
                              .agent_id = s->agent,
                              .password = pw,
                              .timeout_ms = cli->timeout_ms,
                              .retries = cli->retries,
                              .auto_relogin = true};
    load_key(s, &o, key_err, errlen);
    s->has_key = o.has_key;
    int rc = agent_cli_load_curve(cli, &o, curve_err, sizeof curve_err);
    if (rc == 0)
        s->c = collab_client_new(&o);
    else
        fprintf(s->out, "Cannot use CURVE: %s.\n", curve_err);
    sodium_memzero(o.key, sizeof o.key);
    sodium_memzero(o.curve_secret, sizeof o.curve_secret);
    return rc == 0 ? 0 : 1;
}

int ops_login(session_t *s)
{
    char question[128], pw[COLLAB_PASSWORD_MAX + 2], key_err[512];
    const agent_cli_t *cli = s->cli;
    if (s->c) {
        fprintf(s->out, "Logging out %s first.\n", s->agent);
        ops_end(s);
    }
    snprintf(question, sizeof question,
             cli->agent_id[0] ? "Agent ID [%s]: " : "Agent ID: ", cli->agent_id);
    const char *a = prompt_word(s->p, question);
    if (!a)
        return -1;
    snprintf(s->agent, sizeof s->agent, "%s", a[0] ? a : cli->agent_id);
    if (!s->agent[0] || strlen(a) > COLLAB_MAX_AGENT_ID) {
        fprintf(s->out, "An agent id of 1 to %d characters is needed.\n", COLLAB_MAX_AGENT_ID);
        return 0;
    }
    if (get_password(s, pw, sizeof pw) != 0)
        return -1;
    int rc = new_client(s, pw, key_err, sizeof key_err);
    sodium_memzero(pw, sizeof pw);
    if (rc == 1)
        return 0; /* said why already */
    rc = s->c ? collab_client_login(s->c) : COLLAB_E_BAD_REQUEST;
    if (rc == 0) {
        say_logged_in(s, key_err);
        return 0;
    }
    report_login_failure(s, rc);
    collab_client_destroy(&s->c);
    return 0;
}

void ops_end(session_t *s)
{
    collab_reply_t r;
    if (s->c && collab_client_request(s->c, "logout", NULL, 0, &r) == 0)
        collab_reply_free(&r);
    collab_client_destroy(&s->c);
}

int ops_logout(session_t *s)
{
    if (need_login(s))
        return 0;
    collab_reply_t r;
    if (call(s, "logout", NULL, &r) == 0) {
        collab_reply_free(&r);
        fprintf(s->out, "Logged out %s.\n", s->agent);
    } else {
        fprintf(s->out, "The session of %s is dropped here all the same.\n", s->agent);
    }
    collab_client_destroy(&s->c);
    return 0;
}

static unsigned long long u64(const collab_reply_t *r, const char *key)
{
    uint64_t v = 0;
    collab_map_uint(&r->map, key, &v);
    return (unsigned long long)v;
}

int ops_create_project(session_t *s)
{
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    char name[COLLAB_MAX_STR_BYTES + 1];
    collab_pack_t pk;
    collab_reply_t r;
    if (need_login(s))
        return 0;
    const char *a = prompt_ask(s->p, "Project name: ");
    if (!a)
        return -1;
    snprintf(name, sizeof name, "%s", a);
    if (!(a = prompt_ask(s->p, "Description (optional): ")))
        return -1;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, a[0] ? 2 : 1);
    collab_pack_kv_str(&pk, "name", name);
    if (a[0])
        collab_pack_kv_str(&pk, "description", a);
    if (call(s, "create_project", &pk, &r) != 0)
        return 0;
    fprintf(s->out, "Project created: #%llu \"", u64(&r, "project_id"));
    view_field(s->out, &r.map, "name", "", sanitize(s));
    fputs("\" (status ", s->out);
    view_field(s->out, &r.map, "status", "?", sanitize(s));
    fputs(")\n", s->out);
    collab_reply_free(&r);
    return 0;
}

/*  Requests one page of a read action keyed by up to two uints. */
static int read_page(session_t *s, const char *action, const char *k1, uint64_t v1, const char *k2,
                     uint64_t v2, collab_reply_t *r)
{
    uint8_t buf[128];
    collab_pack_t pk;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, k2 ? 2 : 1);
    collab_pack_kv_uint(&pk, k1, v1);
    if (k2)
        collab_pack_kv_uint(&pk, k2, v2);
    return call(s, action, &pk, r);
}

/*  The next page's offset from data[key], or 0 when there is none (or no progress). */
static uint64_t next_offset(const collab_reply_t *r, const char *key, uint64_t off)
{
    uint64_t next = 0;
    collab_map_uint(&r->map, key, &next);
    return next > off ? next : 0;
}

int ops_list_projects(session_t *s)
{
    uint64_t off = 0, total = 0;
    if (need_login(s))
        return 0;
    do {
        collab_reply_t r;
        if (read_page(s, "list_projects", "offset", off, NULL, 0, &r) != 0)
            return 0;
        if (off == 0)
            view_project_heading(s->out);
        view_each(&r.map, "projects", view_project_row, s->out, sanitize(s));
        total = u64(&r, "total");
        off = next_offset(&r, "next_offset", off);
        collab_reply_free(&r);
    } while (off);
    fprintf(s->out, "%llu project%s in all.\n", (unsigned long long)total, total == 1 ? "" : "s");
    return 0;
}

/*  Asks the questions of assign_task into a packed payload. Returns 0, 1 to give up
    (already said why), or -1 at end of input. */
static int ask_task(session_t *s, collab_pack_t *pk)
{
    uint64_t project;
    int rc = prompt_number(s->p, "Project ID: ", &project);
    if (rc)
        return rc;
    const char *a = prompt_word(s->p, "Task type [general]: ");
    if (!a)
        return -1;
    char type[COLLAB_MAX_STR_BYTES + 1], title[COLLAB_MAX_STR_BYTES + 1];
    char desc[COLLAB_MAX_STR_BYTES + 1];
    snprintf(type, sizeof type, "%s", a[0] ? a : "general");
    if (!(a = prompt_ask(s->p, "Task title: ")))
        return -1;
    snprintf(title, sizeof title, "%s", a);
    if (!(a = prompt_ask(s->p, "Description (optional): ")))
        return -1;
    snprintf(desc, sizeof desc, "%s", a);
    if (!(a = prompt_word(s->p, "Worker agent ID: ")))
        return -1;
    collab_pack_map(pk, desc[0] ? 5 : 4);
    collab_pack_kv_uint(pk, "project_id", project);
    collab_pack_kv_str(pk, "type", type);
    collab_pack_kv_str(pk, "title", title);
    if (desc[0])
        collab_pack_kv_str(pk, "description", desc);
    collab_pack_kv_str(pk, "worker", a);
    return 0;
}

int ops_assign_task(session_t *s)
{
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    collab_pack_t pk;
    collab_reply_t r;
    if (need_login(s))
        return 0;
    collab_pack_init(&pk, buf, sizeof buf);
    int rc = ask_task(s, &pk);
    if (rc || call(s, "assign_task", &pk, &r) != 0)
        return rc < 0 ? -1 : 0;
    fprintf(s->out, "Task #%llu assigned to ", u64(&r, "task_id"));
    view_field(s->out, &r.map, "assigned_to", "?", sanitize(s));
    fputs(" (status ", s->out);
    view_field(s->out, &r.map, "status", "?", sanitize(s));
    fputs(")\n", s->out);
    collab_reply_free(&r);
    return 0;
}

int ops_update_task(session_t *s)
{
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    char status[COLLAB_MAX_STR_BYTES + 1];
    collab_pack_t pk;
    collab_reply_t r;
    uint64_t task;
    if (need_login(s))
        return 0;
    int rc = prompt_number(s->p, "Task ID: ", &task);
    if (rc)
        return rc < 0 ? -1 : 0;
    const char *a = prompt_word(s->p, "New status (in_progress, completed, failed, cancelled): ");
    if (!a)
        return -1;
    snprintf(status, sizeof status, "%s", a);
    if (!(a = prompt_ask(s->p, "Result (optional): ")))
        return -1;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, a[0] ? 3 : 2);
    collab_pack_kv_uint(&pk, "task_id", task);
    collab_pack_kv_str(&pk, "status", status);
    if (a[0])
        collab_pack_kv_str(&pk, "result", a);
    if (call(s, "update_task_status", &pk, &r) != 0)
        return 0;
    fprintf(s->out, "Task #%llu is now ", u64(&r, "task_id"));
    view_field(s->out, &r.map, "status", "?", sanitize(s));
    fputc('\n', s->out);
    collab_reply_free(&r);
    return 0;
}

int ops_project_details(session_t *s)
{
    uint64_t id, off = 0;
    if (need_login(s))
        return 0;
    int rc = prompt_number(s->p, "Project ID: ", &id);
    if (rc)
        return rc < 0 ? -1 : 0;
    do {
        collab_reply_t r;
        if (read_page(s, "get_project", "project_id", id, off ? "task_offset" : NULL, off, &r))
            return 0;
        if (off == 0) {
            view_project_head(s->out, &r.map, sanitize(s));
            view_task_heading(s->out);
        }
        view_each(&r.map, "tasks", view_task_row, s->out, sanitize(s));
        off = next_offset(&r, "next_task_offset", off);
        collab_reply_free(&r);
    } while (off);
    return 0;
}
