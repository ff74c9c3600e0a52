/*  api_lab.c: the lab page's routes (api.h, docs/WEB.md 3-4). GET /api/lab/matrix: the
    catalogue's expected matrix, read with collab-attack matrix's own catalogue logic
    (tools/catalogue). POST /api/lab/run and its stream GET /api/lab/run: one attack against
    the gateway's own broker (lab.h), a remote command runner, so admin only, strong csrf's
    check in every profile, no bearer token, a catalogue row that runs with the gateway's
    own endpoints only. GET /api/lab/bus: collab-sniff's records while an admin watches,
    when web.capture allows it. The broker has no say in these: the gateway checks the role
    of the web session's bus login. */
#include "api.h"
#include "catalogue.h"
#include "lab.h"
#include "readfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CATALOGUE_FILE_MAX (1024 * 1024)

/*  The catalogue, or -1 after answering 500 with why. */
static int load(webreq_t *req, catalogue_t *cat)
{
    const web_settings_t *set = gw_settings(req->gw);
    char err[600], why[400];
    char *text = agent_read_file(set->catalogue, CATALOGUE_FILE_MAX, NULL, why, sizeof why);
    if (text && catalogue_parse(cat, text, NULL, NULL, why, sizeof why) == 0) {
        free(text);
        return 0;
    }
    free(text);
    snprintf(err, sizeof err, "the catalogue %.180s: %s", set->catalogue, why);
    web_answer_error(req, 500, "no_catalogue", err);
    return -1;
}

static const char *verdict_name(int v)
{
    return v == CATALOGUE_SUCCEEDED        ? "SUCCEEDED"
           : v == CATALOGUE_BLOCKED        ? "BLOCKED"
           : v == CATALOGUE_NOT_APPLICABLE ? "-"
                                           : "unknown";
}

/*  Why the gateway cannot run row a with its own broker and URL only (writes the reason),
    or NULL when it can: a cluster row, arguments that need the broker's files or a second
    broker, or an attacker's own password (collab-attack matrix gives those to its own
    brokers). The victims' passwords and keys are collab-attack's own defaults. */
static const char *not_runnable(const cJSON *a, char *why, size_t cap)
{
    static const char *const needs[] = {"{state}", "{log}", "{store}", "{broker2}", "{dir}"};
    if (catalogue_is_cluster(a)) {
        snprintf(why, cap,
                 "runs on a cluster (two brokers and a Redis): the lab page runs an "
                 "attack against the gateway's own broker only (collab-attack matrix "
                 "runs this row)");
        return why;
    }
    const cJSON *arg;
    cJSON_ArrayForEach(arg, cJSON_GetObjectItemCaseSensitive(a, "args"))
    {
        const char *s = cJSON_GetStringValue(arg);
        if (s && strcmp(s, "--password-file") == 0) {
            snprintf(why, cap,
                     "needs the attacker's own password (--password-file), which the "
                     "gateway does not hold (collab-attack matrix runs this row)");
            return why;
        }
        for (size_t k = 0; s && k < sizeof needs / sizeof needs[0]; k++)
            if (strstr(s, needs[k])) {
                snprintf(why, cap,
                         "needs %s, which the gateway does not give: the lab page runs an "
                         "attack with the gateway's own broker and URL only (collab-attack "
                         "matrix runs this row)",
                         needs[k]);
                return why;
            }
    }
    return NULL;
}

int api_lab_matrix(webreq_t *req)
{
    catalogue_t cat;
    if (load(req, &cat) != 0)
        return 0;
    cJSON *o = cJSON_CreateObject(), *cols = cJSON_AddArrayToObject(o, "columns");
    cJSON *rows = cJSON_AddArrayToObject(o, "attacks");
    for (int c = 0; c < cat.ncols; c++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(cat.cols[c]));
    for (int i = 0; i < cat.nattacks; i++) {
        const cJSON *a = cat.attacks[i];
        cJSON *r = cJSON_CreateObject(), *exp;
        char why[300];
        static const char *const keep[] = {"attack", "control", "attacker_holds"};
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, keep[k]);
            if (v)
                cJSON_AddItemToObject(r, keep[k], cJSON_Duplicate(v, true));
        }
        exp = cJSON_AddObjectToObject(r, "expected");
        for (int c = 0; c < cat.ncols; c++)
            cJSON_AddStringToObject(exp, cat.cols[c],
                                    verdict_name(catalogue_expected(a, cat.cols[c])));
        cJSON_AddBoolToObject(r, "runnable", !not_runnable(a, why, sizeof why));
        cJSON_AddItemToArray(rows, r);
    }
    catalogue_free(&cat);
    web_answer(req, 200, o);
    return 0;
}

/*  Whether req's web session is an admin's; answers 403 when not. */
static bool admin(webreq_t *req)
{
    if (req->sess && strcmp(req->sess->role, "admin") == 0)
        return true;
    web_answer_error(req, 403, "forbidden", "the lab's runs are for administrators only");
    return false;
}

int api_lab_run(webreq_t *req)
{
    if (!admin(req))
        return 0;
    if (req->bearer) {
        web_answer_error(req, 403, "forbidden",
                         "an attack runs from the lab page's own session, not a bearer token");
        return 0;
    }
    if (!web_csrf_strict_ok(req)) { /* in every profile: it is a remote command runner */
        web_answer_error(req, 403, "csrf",
                         "cross-site request refused (Origin or token): the lab's run takes "
                         "the exact Origin and the X-CSRF-Token of /api/me in every profile");
        return 0;
    }
    const char *attack = req->values->v[0].str;
    catalogue_t cat;
    if (load(req, &cat) != 0)
        return 0;
    const cJSON *row = NULL;
    for (int i = 0; i < cat.nattacks && !row; i++) {
        const char *name =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cat.attacks[i], "attack"));
        if (name && strcmp(name, attack) == 0)
            row = cat.attacks[i];
    }
    char why[300], msg[400];
    int rc = 0;
    if (!row) {
        snprintf(msg, sizeof msg, "'%.64s' is no attack of the catalogue", attack);
        web_answer_error(req, 400, "unknown_attack", msg);
    } else if (not_runnable(row, why, sizeof why)) {
        snprintf(msg, sizeof msg, "%.64s %s", attack, why);
        web_answer_error(req, 400, "not_runnable", msg);
    } else if ((rc = lab_run_start(gw_lab(req->gw), attack, catalogue_is_web(row),
                                   req->sess->agent_id, why, sizeof why)) == COLLAB_E_BUSY)
        web_answer_error(req, 409, "busy", "an attack is running: one at a time");
    else if (rc != 0)
        web_answer_error(req, 503, "unavailable", why);
    else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "attack", attack);
        cJSON_AddStringToObject(o, "stream", "/api/lab/run");
        cJSON_AddNumberToObject(o, "timeout_s", gw_settings(req->gw)->lab_timeout_s);
        web_answer(req, 202, o);
    }
    catalogue_free(&cat);
    return 0;
}

int api_lab_run_stream(webreq_t *req)
{
    if (admin(req))
        lab_feed_open(lab_run_feed(gw_lab(req->gw)), req);
    return 0;
}

int api_lab_bus(webreq_t *req)
{
    if (!gw_settings(req->gw)->capture) {
        web_answer_error(req, 404, "no_capture", "the gateway does not capture (web.capture = 0)");
        return 0;
    }
    if (!admin(req))
        return 0;
    web_lab_t *lab = gw_lab(req->gw);
    char why[300];
    if (lab_feed_viewers(lab_bus_feed(lab)) >= LAB_FEED_VIEWERS_MAX)
        web_answer_error(req, 429, "too_many_streams", "too many viewers of the bus");
    else if (lab_bus_start(lab, why, sizeof why) != 0)
        web_answer_error(req, 503, "unavailable", why);
    else
        lab_feed_open(lab_bus_feed(lab), req);
    return 0;
}
