/*  ops.c: the interactive client's operations (see ops.h). */
#include "ops.h"
#include "view.h"

#include <sodium.h>
#include <string.h>

bool ops_sanitize(const session_t *s)
{
    return s->c && collab_client_controls(s->c)->sanitize_output;
}

/*  The broker ended the session (idle timeout, lifetime, logout elsewhere, revocation):
    the client says so, drops it, and the menu asks for a new login (no silent re-login). */
static void session_ended(session_t *s, int code)
{
    if (code == COLLAB_E_SESSION_EXPIRED)
        fprintf(s->out, "Your session has expired (the broker's idle timeout or lifetime): "
                        "you must re-authenticate.\n");
    else
        fprintf(s->out, "Your session is no longer valid (ended or revoked by the broker): "
                        "you must re-authenticate.\n");
    collab_client_destroy(&s->c);
    s->relogin = true;
}

int ops_call(session_t *s, const char *action, collab_pack_t *pk, collab_reply_t *r)
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
    if (r->code == COLLAB_E_SESSION_EXPIRED || r->code == COLLAB_E_SESSION_INVALID) {
        session_ended(s, r->code);
        collab_reply_free(r);
        return 1;
    }
    fputs("Error from the broker: ", s->out);
    agent_print_text(s->out, r->error, strlen(r->error), ops_sanitize(s));
    fprintf(s->out, " [%s]\n", collab_errname(r->code));
    collab_reply_free(r);
    return 1;
}

bool ops_need_login(session_t *s)
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

/*  The login reply announces only weak controls: the broker runs Stage 2. */
static bool stage2(const collab_controls_t *ctl)
{
    return ctl->scope == COLLAB_SCOPE_WEAK && !ctl->replay_protection && !ctl->sanitize_output;
}

static void say_logged_in(session_t *s, const char *key_err)
{
    const collab_controls_t *ctl = collab_client_controls(s->c);
    fprintf(s->out, "Logged in as %s (role %s).\n", s->agent, collab_client_role(s->c));
    if (stage2(ctl)) { /* the seed's Stage 2 client shows it: a bearer token on screen */
        const char *sid = collab_client_session(s->c);
        fputs("Session ID: ", s->out);
        agent_print_text(s->out, sid, strlen(sid), false);
        fputs(" (Stage 2 shows it: whoever holds it is this session)\n", s->out);
    }
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
        fprintf(s->out,
                "Login failed: the broker at %s did not answer (is it running? the first "
                "connection may take --connect-timeout-ms, %d ms).\n",
                s->cli->endpoint, s->cli->connect_timeout_ms);
    else if (rc == COLLAB_E_IO)
        fprintf(s->out,
                "Login failed: the broker at %s refused the connection: it speaks CURVE "
                "(start the client with --curve-dir DIR) or does not allow %s's key.\n",
                s->cli->endpoint, s->agent);
    else
        fprintf(s->out, "Login failed: %s.\n", collab_strerror(rc));
}

/*  The CURVE settings: the common options when given, else --curve-dir's certificates
    for the agent logging in. */
static int load_curve(session_t *s, collab_client_opts_t *o, char *err, size_t errlen)
{
    const agent_cli_t *cli = s->cli;
    char server[600], cert[700];
    if (cli->curve_server[0] || cli->curve_cert[0] || !s->curve_dir || !s->curve_dir[0])
        return agent_cli_load_curve(cli, o, err, errlen);
    snprintf(server, sizeof server, "%s/broker.cert", s->curve_dir);
    snprintf(cert, sizeof cert, "%s/%s.cert_secret", s->curve_dir, s->agent);
    return collab_client_load_curve(o, server, cert, err, errlen);
}

/*  s->c for s->agent with the configured HMAC key and CURVE settings (NULL for a bad
    endpoint). Returns 0, or 1 after saying why there is none. */
static int new_client(session_t *s, const char *pw, char *key_err, size_t errlen)
{
    const agent_cli_t *cli = s->cli;
    char curve_err[800];
    collab_client_opts_t o = {.endpoint = cli->endpoint,
                              .agent_id = s->agent,
                              .password = pw,
                              .timeout_ms = cli->timeout_ms,
                              .retries = cli->retries,
                              .login_timeout_ms = cli->login_timeout_ms ? cli->login_timeout_ms
                                                                        : 3 * cli->timeout_ms,
                              .connect_timeout_ms = cli->connect_timeout_ms,
                              .auto_relogin = false}; /* an ended session is said, not hidden */
    load_key(s, &o, key_err, errlen);
    s->has_key = o.has_key;
    int rc = load_curve(s, &o, curve_err, sizeof curve_err);
    if (rc == 0)
        s->c = collab_client_new(&o);
    else
        fprintf(s->out, "Cannot use CURVE: %s.\n", curve_err);
    sodium_memzero(o.key, sizeof o.key);
    sodium_memzero(o.curve_secret, sizeof o.curve_secret);
    return rc == 0 ? 0 : 1;
}

/*  The agent to log in as: --agent when given (no question), else asked; after the broker
    ended a session, that agent is offered as the default. Returns 0, 1 (a bad answer,
    said), or -1 at end of input. */
static int ask_agent(session_t *s, bool again)
{
    char question[128];
    const char *last = again ? s->agent : "";
    if (s->cli->agent_id[0]) {
        snprintf(s->agent, sizeof s->agent, "%s", s->cli->agent_id);
        fprintf(s->out, "Agent ID: %s (--agent)\n", s->agent);
        return 0;
    }
    snprintf(question, sizeof question, last[0] ? "Agent ID [%s]: " : "Agent ID: ", last);
    const char *a = prompt_word(s->p, question);
    if (!a)
        return -1;
    if (!a[0] && !last[0]) {
        fprintf(s->out, "An agent id of 1 to %d characters is needed.\n", COLLAB_MAX_AGENT_ID);
        return 1;
    }
    if (strlen(a) > COLLAB_MAX_AGENT_ID) {
        fprintf(s->out, "An agent id has 1 to %d characters.\n", COLLAB_MAX_AGENT_ID);
        return 1;
    }
    if (a[0])
        snprintf(s->agent, sizeof s->agent, "%s", a);
    return 0;
}

int ops_login(session_t *s)
{
    char pw[COLLAB_PASSWORD_MAX + 2], key_err[512];
    bool again = s->relogin;
    s->relogin = false;
    if (s->c) {
        fprintf(s->out, "Logging out %s first.\n", s->agent);
        ops_end(s);
    }
    int rc = ask_agent(s, again);
    if (rc)
        return rc < 0 ? -1 : 0;
    if (get_password(s, pw, sizeof pw) != 0)
        return -1;
    rc = new_client(s, pw, key_err, sizeof key_err);
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
    if (s->c)
        collab_client_logout(s->c);
    collab_client_destroy(&s->c);
}

int ops_logout(session_t *s)
{
    if (ops_need_login(s))
        return 0;
    collab_reply_t r;
    if (ops_call(s, "logout", NULL, &r) == 0) {
        collab_reply_free(&r);
        fprintf(s->out, "Logged out %s.\n", s->agent);
    } else {
        fprintf(s->out, "The session of %s is dropped here all the same.\n", s->agent);
    }
    collab_client_destroy(&s->c);
    s->relogin = false; /* logging out of a session that had ended asks for nothing */
    return 0;
}

unsigned long long ops_u64(const collab_reply_t *r, const char *key)
{
    uint64_t v = 0;
    collab_map_uint(&r->map, key, &v);
    return (unsigned long long)v;
}

int ops_create_project(session_t *s)
{
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    char name[COLLAB_MAX_STR_BYTES + 1], desc[COLLAB_MAX_STR_BYTES + 1];
    collab_pack_t pk;
    collab_reply_t r;
    if (ops_need_login(s))
        return 0;
    int rc = prompt_text(s->p, "Project name: ", "A project name", 1, COLLAB_NAME_MAX_CP, name,
                         sizeof name);
    if (rc == 0)
        rc = prompt_text(s->p, "Description (optional): ", "A description", 0, COLLAB_DESC_MAX_CP,
                         desc, sizeof desc);
    if (rc)
        return rc < 0 ? -1 : 0;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, desc[0] ? 2 : 1);
    collab_pack_kv_str(&pk, "name", name);
    if (desc[0])
        collab_pack_kv_str(&pk, "description", desc);
    if (ops_call(s, "create_project", &pk, &r) != 0)
        return 0;
    fprintf(s->out, "Project created: #%llu \"", ops_u64(&r, "project_id"));
    view_field(s->out, &r.map, "name", "", ops_sanitize(s));
    fputs("\" (status ", s->out);
    view_field(s->out, &r.map, "status", "?", ops_sanitize(s));
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
    return ops_call(s, action, &pk, r);
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
    if (ops_need_login(s))
        return 0;
    do {
        collab_reply_t r;
        if (read_page(s, "list_projects", "offset", off, NULL, 0, &r) != 0)
            return 0;
        if (off == 0)
            view_project_heading(s->out);
        view_each(&r.map, "projects", view_project_row, s->out, ops_sanitize(s));
        total = ops_u64(&r, "total");
        off = next_offset(&r, "next_offset", off);
        collab_reply_free(&r);
    } while (off);
    fprintf(s->out, "%llu project%s in all.\n", (unsigned long long)total, total == 1 ? "" : "s");
    return 0;
}

int ops_project_details(session_t *s)
{
    uint64_t id, off = 0;
    if (ops_need_login(s))
        return 0;
    int rc = prompt_number(s->p, "Project ID: ", &id);
    if (rc)
        return rc < 0 ? -1 : 0;
    do {
        collab_reply_t r;
        if (read_page(s, "get_project", "project_id", id, off ? "task_offset" : NULL, off, &r))
            return 0;
        if (off == 0) {
            view_project_head(s->out, &r.map, ops_sanitize(s));
            view_task_heading(s->out);
        }
        view_each(&r.map, "tasks", view_task_row, s->out, ops_sanitize(s));
        off = next_offset(&r, "next_task_offset", off);
        collab_reply_free(&r);
    } while (off);
    return 0;
}
