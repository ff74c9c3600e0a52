/*  probe_sign.c: the seed's signature improvements: a signed request is refused outside the
    timestamp window and accepted inside it; one signed with another key is refused. Each
    request is a signed create_project, built by hand; a project made is deleted at once. */
#include "probe.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    collab_client_t *c;
    const probe_opts_t *o;
    uint8_t key[COLLAB_KEY_LEN];
} signer_t;

static collab_client_t *start(signer_t *s, const probe_opts_t *o, verdict_t *v)
{
    char err[512];
    s->o = o;
    s->c = probe_login(o, v);
    if (!s->c)
        return NULL;
    const char *src = o->cli.key_file[0] ? o->cli.key_file : o->cli.credentials;
    if (collab_client_load_key(src, o->cli.agent_id, s->key, err, sizeof err) != 0) {
        verdict(v, PROBE_USAGE, "no key for %s: %s", o->cli.agent_id, err);
        collab_client_destroy(&s->c);
        return NULL;
    }
    return s->c;
}

static void stop(signer_t *s)
{
    probe_reply_t r;
    probe_call(s->c, &r, "logout", NULL, 0);
    probe_reply_free(&r);
    collab_client_destroy(&s->c);
    sodium_memzero(s->key, sizeof s->key);
}

/*  A signed create_project at timestamp ts (0: now) with key; the reply described in desc.
    A project it made is deleted. Returns the reply's code. */
static int signed_create(signer_t *s, const char *what, uint64_t ts, const uint8_t *key, char *desc,
                         size_t cap)
{
    char name[64];
    uint8_t buf[128];
    snprintf(name, sizeof name, "probe-%08x", randombytes_random());
    size_t len = probe_pack(buf, sizeof buf, "name", name, NULL);
    probe_raw_t req = {.action = "create_project",
                       .agent_id = s->o->cli.agent_id,
                       .timestamp = ts,
                       .key = key,
                       .payload = buf,
                       .payload_len = len};
    probe_reply_t r;
    int rc = probe_raw(s->c, &req, &r);
    uint64_t project = 0;
    if (rc == 0)
        collab_map_uint(&r.r.map, "project_id", &project);
    if (rc == 0)
        snprintf(desc, cap, "accepted (project %llu)", (unsigned long long)project);
    else
        probe_describe(&r, desc, cap);
    probe_reply_free(&r);
    lab_say("%s: %s", what, desc);
    if (project)
        probe_delete_project(s->c, project);
    return rc;
}

static const char *span(char *buf, size_t cap, uint64_t ms)
{
    if (ms % 60000 == 0)
        snprintf(buf, cap, "%llu min", (unsigned long long)(ms / 60000));
    else
        snprintf(buf, cap, "%llu s", (unsigned long long)(ms / 1000));
    return buf;
}

int probe_timestamp(const probe_opts_t *o, verdict_t *v)
{
    signer_t s;
    char d[3][700], w[32], past[32], in[32];
    if (!start(&s, o, v))
        return v->outcome;
    const collab_controls_t *ctl = collab_client_controls(s.c);
    uint64_t window = (uint64_t)(o->window_s ? o->window_s : ctl->window_s) * 1000u;
    if (window == 0) {
        stop(&s);
        return verdict(v, PROBE_ERROR, "the login reply announced no timestamp window");
    }
    lab_say("window checked: +-%s (%s)", span(w, sizeof w, window),
            o->window_s ? "--window-s" : "announced at login");
    uint64_t now = probe_now_ms(), off = window + 60000;
    /* under replay protection a timestamp from before the broker started is refused too, so
       the accepted request is stamped now; otherwise half the window ago */
    uint64_t inside = ctl->replay_protection ? 0 : window / 2;
    span(past, sizeof past, off);
    span(in, sizeof in, inside);
    int old = signed_create(&s, "signed create_project stamped window + 1 min ago", now - off,
                            s.key, d[0], sizeof d[0]);
    int ahead = signed_create(&s, "signed create_project stamped window + 1 min ahead",
                              probe_now_ms() + off, s.key, d[1], sizeof d[1]);
    int ok = signed_create(&s, "signed create_project stamped inside the window",
                           inside ? probe_now_ms() - inside : 0, s.key, d[2], sizeof d[2]);
    stop(&s);
    if (probe_blocked_step(v, o->cli.agent_id, "create_project", ok))
        return v->outcome;
    bool holds = old == COLLAB_E_STALE_TIMESTAMP && ahead == COLLAB_E_STALE_TIMESTAMP && ok == 0;
    return verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
                   "window +-%s: signed %s old: %s; %s ahead: %s; %s old: %s", w, past, d[0], past,
                   d[1], inside ? in : "0 s", d[2]);
}

int probe_wrong_key(const probe_opts_t *o, verdict_t *v)
{
    signer_t s;
    char d[2][700];
    uint8_t wrong[COLLAB_KEY_LEN];
    if (!start(&s, o, v))
        return v->outcome;
    randombytes_buf(wrong, sizeof wrong);
    int bad =
        signed_create(&s, "create_project signed with a random key", 0, wrong, d[0], sizeof d[0]);
    int good =
        signed_create(&s, "the same signed with the agent's own key", 0, s.key, d[1], sizeof d[1]);
    sodium_memzero(wrong, sizeof wrong);
    stop(&s);
    if (probe_blocked_step(v, o->cli.agent_id, "create_project", good))
        return v->outcome;
    bool holds = bad == COLLAB_E_BAD_SIGNATURE && good == 0;
    return verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
                   "%s's create_project signed with a wrong key: %s; with its own key: %s",
                   o->cli.agent_id, d[0], d[1]);
}
