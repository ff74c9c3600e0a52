/*  att_cluster.c: the attacks that only a cluster of brokers has, with one agent's
    credentials: stale-revocation (control 16). cross-broker-replay, a wire attack, is in
    att_wire.c. */
#include "attack.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool session_ended(int rc)
{
    return rc == COLLAB_E_SESSION_EXPIRED || rc == COLLAB_E_SESSION_INVALID;
}

/*  The admin (a scripted victim) revokes every session of agent through broker A; returns
    how many it revoked, or -1 when it could not. */
static long revoke_on_a(const attack_opts_t *o, const char *agent)
{
    victim_t adm;
    char n[32] = "";
    const char *args[] = {"--target", agent, NULL};
    long revoked = -1;
    if (victim_start(&adm, o, "admin", "revoke", args) == 0 &&
        victim_expect(&adm, "revoked=", n, sizeof n, o->timeout_ms * 3))
        revoked = strtol(n, NULL, 10);
    victim_wait(&adm, o->timeout_ms);
    victim_stop(&adm);
    return revoked;
}

/*  Logs in as the attacker's own agent through broker B and checks the session there; the
    admin revokes it through broker A; then, through B, a read (get_session_info) and a
    write (create_project). */
int attack_stale_revocation(const attack_opts_t *o, verdict_t *v)
{
    static attack_opts_t b; /* the attacker's own agent, on broker B */
    if (!o->broker2[0])
        return verdict(v, ATTACK_ERROR,
                       "no second broker: stale-revocation needs --broker2 (a cluster of two)");
    b = *o;
    snprintf(b.own.endpoint, sizeof b.own.endpoint, "%s", o->broker2);
    collab_client_t *c = own_client(&b, v);
    if (!c)
        return v->outcome;
    int rc = att_call(c, NULL, "get_session_info", NULL);
    if (rc) {
        collab_client_destroy(&c);
        return verdict(v, ATTACK_ERROR, "the new session of %s failed on B: %s", o->own.agent_id,
                       collab_strerror(rc));
    }
    lab_say("logged in as %s through B (%s); the admin now revokes its sessions through A (%s)",
            o->own.agent_id, o->broker2, o->broker);
    long revoked = revoke_on_a(o, o->own.agent_id);
    if (revoked < 1) {
        collab_client_destroy(&c);
        return verdict(v, ATTACK_ERROR, "the admin could not revoke %s's session through A (%s)",
                       o->own.agent_id, revoked < 0 ? "no answer" : "A knew no session of it");
    }
    int rc_read = att_call(c, NULL, "get_session_info", NULL);
    collab_reply_t r;
    uint64_t id = 0;
    int rc_write = att_call(c, &r, "create_project", "name", "created after revocation", NULL);
    if (rc_write == 0) {
        collab_map_uint(&r.map, "project_id", &id);
        collab_reply_free(&r);
    }
    collab_client_destroy(&c);
    if (rc_write == 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "after the admin revoked %s's session through A (acknowledged), B still "
                       "answered it: get_session_info %s, and create_project made project %llu",
                       o->own.agent_id, rc_read == 0 ? "ok" : collab_errname(rc_read),
                       (unsigned long long)id);
    if (session_ended(rc_read) && session_ended(rc_write))
        return blocked(v, "revocation",
                       "B refused the revoked session at once: get_session_info (%s), "
                       "create_project (%s)",
                       collab_errname(rc_read), collab_errname(rc_write));
    return verdict(v, ATTACK_ERROR,
                   "refused, but not as a revoked session: get_session_info (%s), "
                   "create_project (%s)",
                   collab_errname(rc_read), collab_errname(rc_write));
}
