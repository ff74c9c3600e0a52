/*  lab.c: the demo agents' passwords and putting the lab back (see lab.h). */
#include "lab.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*  The projects an attack makes: the victim's and the demoted coordinator's. Only these,
    created during the demonstration by one of its agents, are deleted: a swarm's own
    coordinator (coordinator1 too) keeps creating projects meanwhile. */
static const char *const attack_projects[] = {"victim project", "created after demotion"};

#define MAX_FOUND 64

struct lab {
    collab_client_t *c;
    const char *agents[LAB_MAX_AGENTS];
    size_t n;
    /* roles[0]: before the demonstration, roles[1]: after it */
    char roles[2][LAB_MAX_AGENTS][COLLAB_IDENT_MAX + 1];
    int phase;
    uint64_t max_handle, max_project;
    uint64_t found[MAX_FOUND]; /* after: the sessions or projects to remove */
    size_t nfound;
};

static int read_line(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    bool ok = f && fgets(out, (int)cap, f);
    if (f)
        fclose(f);
    out[ok ? strcspn(out, "\r\n") : 0] = '\0';
    return ok && out[0] ? 0 : -1;
}

int lab_password(const char *src, const char *agent, char *out, size_t cap, char *err,
                 size_t errlen)
{
    struct stat st;
    char line[512];
    int rc = -1;
    if (stat(src, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(line, sizeof line, "%s/%s.pw", src, agent);
        rc = read_line(line, out, cap);
    } else {
        FILE *f = fopen(src, "r");
        size_t n = strlen(agent);
        while (rc != 0 && f && fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (strncmp(line, agent, n) == 0 && line[n] == ' ' && strlen(line + n + 1) < cap) {
                snprintf(out, cap, "%s", line + n + 1);
                rc = 0;
            }
        }
        if (f)
            fclose(f);
        sodium_memzero(line, sizeof line);
    }
    if (rc)
        snprintf(err, errlen, "no password for %s in %s", agent, src);
    return rc;
}

/*  One request; 0 with *r (to free) when the broker accepted it, else a negative code. */
static int call(collab_client_t *c, const char *action, collab_pack_t *pk, collab_reply_t *r)
{
    size_t len = 0;
    if (pk && collab_pack_finish(pk, &len) != 0)
        return COLLAB_E_TOO_LARGE;
    int rc = collab_client_request(c, action, pk ? pk->data : NULL, len, r);
    if (rc == 0 && !r->ok) {
        rc = r->code;
        collab_reply_free(r);
    }
    return rc;
}

/*  Calls fn on every item of a paged list (action, optionally filtered by agent_id). */
static int each(lab_t *self, const char *action, const char *agent, const char *key,
                void (*fn)(lab_t *self, const collab_map_t *item))
{
    uint64_t off = 0, next;
    for (;;) {
        uint8_t buf[128];
        collab_pack_t pk;
        collab_reply_t r;
        collab_mp_reader_t rd;
        uint32_t n = 0;
        collab_pack_init(&pk, buf, sizeof buf);
        collab_pack_map(&pk, (off > 0) + (agent != NULL)); /* only the keys the action takes */
        if (off > 0)
            collab_pack_kv_uint(&pk, "offset", off);
        if (agent)
            collab_pack_kv_str(&pk, "agent_id", agent);
        int rc = call(self->c, action, &pk, &r);
        if (rc)
            return rc;
        collab_map_t item;
        if (collab_map_array(&r.map, key, &rd, &n) == 0)
            for (uint32_t i = 0; i < n && collab_map_array_next(&rd, &item) == 0; i++)
                fn(self, &item);
        bool more = collab_map_uint(&r.map, "next_offset", &next) == 0 && next > off;
        collab_reply_free(&r);
        if (!more)
            return 0;
        off = next;
    }
}

static void note_role(lab_t *self, const collab_map_t *a)
{
    collab_span_t id, role;
    if (collab_map_str(a, "agent_id", &id) != 0 || collab_map_str(a, "role", &role) != 0 ||
        role.len > COLLAB_IDENT_MAX)
        return;
    for (size_t i = 0; i < self->n; i++)
        if (collab_span_eq(id, self->agents[i]))
            snprintf(self->roles[self->phase][i], sizeof self->roles[0][i], "%.*s", (int)role.len,
                     role.ptr);
}

/*  Handles and project ids only grow: what is above the noted maximum is new. */
static void note_handle(lab_t *self, const collab_map_t *s)
{
    uint64_t h = 0;
    if (collab_map_uint(s, "handle", &h) == 0 && h > self->max_handle)
        self->max_handle = h;
}

static void note_project(lab_t *self, const collab_map_t *p)
{
    uint64_t id = 0;
    if (collab_map_uint(p, "project_id", &id) == 0 && id > self->max_project)
        self->max_project = id;
}

static void find_session(lab_t *self, const collab_map_t *s)
{
    uint64_t h = 0;
    if (collab_map_uint(s, "handle", &h) == 0 && h > self->max_handle && self->nfound < MAX_FOUND)
        self->found[self->nfound++] = h;
}

/*  A project made during the demonstration by one of its agents, named as the attacks
    name theirs. */
static void find_project(lab_t *self, const collab_map_t *p)
{
    uint64_t id = 0;
    collab_span_t owner, name;
    bool ours = false, attack = false;
    if (collab_map_uint(p, "project_id", &id) != 0 || id <= self->max_project ||
        collab_map_str(p, "owner", &owner) != 0 || collab_map_str(p, "name", &name) != 0)
        return;
    for (size_t i = 0; i < self->n; i++)
        ours |= collab_span_eq(owner, self->agents[i]);
    for (size_t i = 0; i < sizeof attack_projects / sizeof attack_projects[0]; i++)
        attack |= collab_span_eq(name, attack_projects[i]);
    if (ours && attack && self->nfound < MAX_FOUND)
        self->found[self->nfound++] = id;
}

static void lab_end(lab_t **self_p)
{
    lab_t *self = *self_p;
    collab_reply_t r;
    collab_client_set_timeout(self->c, 1000, 0);
    if (collab_client_request(self->c, "logout", NULL, 0, &r) == 0)
        collab_reply_free(&r);
    collab_client_destroy(&self->c);
    free(self);
    *self_p = NULL;
}

static collab_client_t *admin_client(const session_t *s, const char *curve_dir, char *err,
                                     size_t errlen)
{
    char pw[COLLAB_PASSWORD_MAX + 2], server[600], cert[600];
    collab_client_opts_t o = {.endpoint = s->cli->endpoint,
                              .agent_id = "admin",
                              .password = pw,
                              .timeout_ms = s->cli->timeout_ms,
                              .retries = s->cli->retries,
                              .login_timeout_ms = 3 * s->cli->timeout_ms,
                              .connect_timeout_ms = s->cli->connect_timeout_ms};
    collab_client_t *c = NULL;
    if (!s->cli->credentials[0]) {
        snprintf(err, errlen, "no --credentials to sign the admin's clean-up with");
        return NULL;
    }
    snprintf(server, sizeof server, "%s/broker.cert", curve_dir);
    snprintf(cert, sizeof cert, "%s/admin.cert_secret", curve_dir);
    if (lab_password(s->victim_passwords, "admin", pw, sizeof pw, err, errlen) == 0 &&
        collab_client_load_key(s->cli->credentials, "admin", o.key, err, errlen) == 0 &&
        (!curve_dir[0] || collab_client_load_curve(&o, server, cert, err, errlen) == 0)) {
        o.has_key = true;
        c = collab_client_new(&o);
        int rc = c ? collab_client_login(c) : COLLAB_E_BAD_REQUEST;
        if (rc) {
            snprintf(err, errlen, "the admin's login failed: %s", collab_strerror(rc));
            collab_client_destroy(&c);
        }
    }
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(o.key, sizeof o.key);
    sodium_memzero(o.curve_secret, sizeof o.curve_secret);
    return c;
}

lab_t *lab_begin(const session_t *s, const char *curve_dir, const char *const *agents, size_t n,
                 char *err, size_t errlen)
{
    lab_t *self = calloc(1, sizeof *self);
    if (!self || n > LAB_MAX_AGENTS || !(self->c = admin_client(s, curve_dir, err, errlen))) {
        if (self && n > LAB_MAX_AGENTS)
            snprintf(err, errlen, "too many agents");
        free(self);
        return NULL;
    }
    self->n = n;
    memcpy(self->agents, agents, n * sizeof *agents);
    int rc = each(self, "list_agents", NULL, "agents", note_role);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = each(self, "list_sessions", agents[i], "sessions", note_handle);
    if (rc == 0)
        rc = each(self, "list_projects", NULL, "projects", note_project);
    if (rc) {
        snprintf(err, errlen, "the admin cannot read the lab's state: %s", collab_strerror(rc));
        lab_end(&self);
    }
    return self;
}

/*  One signed admin request with one key/value; returns 0 or a negative code. */
static int admin_do(lab_t *self, const char *action, const char *k1, const char *v1, const char *k2,
                    const char *v2, uint64_t id)
{
    uint8_t buf[256];
    collab_pack_t pk;
    collab_reply_t r;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, k2 ? 2 : 1);
    if (v1)
        collab_pack_kv_str(&pk, k1, v1);
    else
        collab_pack_kv_uint(&pk, k1, id);
    if (k2)
        collab_pack_kv_str(&pk, k2, v2);
    int rc = call(self->c, action, &pk, &r);
    if (rc == 0)
        collab_reply_free(&r);
    return rc;
}

static void restore_roles(lab_t *self, FILE *out)
{
    self->phase = 1;
    if (each(self, "list_agents", NULL, "agents", note_role) != 0)
        return;
    for (size_t i = 0; i < self->n; i++) {
        const char *was = self->roles[0][i], *now = self->roles[1][i];
        if (!was[0] || strcmp(was, now) == 0)
            continue;
        int rc = admin_do(self, "set_role", "agent_id", self->agents[i], "role", was, 0);
        fprintf(out, "  lab: %s %s %s (it was %s)\n", self->agents[i],
                rc == 0 ? "is back to" : "could not be put back to", was, now);
    }
}

static void remove_found(lab_t *self, FILE *out, const char *action, const char *key,
                         const char *what)
{
    size_t done = 0;
    for (size_t i = 0; i < self->nfound; i++)
        done += admin_do(self, action, key, NULL, NULL, NULL, self->found[i]) == 0;
    if (self->nfound)
        fprintf(out, "  lab: %zu %s%s of the demonstration removed (%s)\n", done, what,
                done == 1 ? "" : "s", action);
    self->nfound = 0;
}

void lab_restore(lab_t **self_p, FILE *out)
{
    lab_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    restore_roles(self, out);
    for (size_t i = 0; i < self->n; i++)
        each(self, "list_sessions", self->agents[i], "sessions", find_session);
    remove_found(self, out, "revoke_session", "handle", "session");
    each(self, "list_projects", NULL, "projects", find_project);
    remove_found(self, out, "delete_project", "project_id", "project");
    lab_end(self_p);
}
