/*  fuzz_web_request.c: libFuzzer target for collab-web's pure parsers (web/webparse.c):
    the first byte picks a body's field table (the API's own shapes: login, project, task,
    status, revoke), the rest is the JSON body; the same bytes, up to their first NUL, are
    also a Cookie header, a Last-Event-ID, a session id and a static path. What a parser
    accepts must keep its promises (bounds, kinds, no NUL in a value); a broken promise
    aborts, so the fuzzer reports it. */
#include "collab.h"
#include "webparse.h"

#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

static const web_field_t login[] = {{"agent_id", WEB_F_AGENT, true, 0, 0},
                                    {"password", WEB_F_SECRET, true, 0, 0}};
static const web_field_t project[] = {{"name", WEB_F_TEXT, true, 1, COLLAB_NAME_MAX_CP},
                                      {"description", WEB_F_TEXT, false, 0, COLLAB_DESC_MAX_CP}};
static const web_field_t task[] = {{"project_id", WEB_F_UINT, true, 1, 0},
                                   {"worker", WEB_F_AGENT, true, 0, 0},
                                   {"title", WEB_F_TEXT, true, 1, COLLAB_NAME_MAX_CP},
                                   {"description", WEB_F_TEXT, false, 0, COLLAB_DESC_MAX_CP},
                                   {"type", WEB_F_IDENT, false, 0, 0}};
static const web_field_t status[] = {{"task_id", WEB_F_UINT, true, 1, 0},
                                     {"status", WEB_F_IDENT, true, 0, 0},
                                     {"result", WEB_F_TEXT, false, 0, COLLAB_DESC_MAX_CP}};
static const web_field_t revoke[] = {{"handle", WEB_F_UINT, false, 1, 0},
                                     {"agent_id", WEB_F_AGENT, false, 0, 0}};

static const struct {
    const web_field_t *spec;
    size_t n;
} specs[] = {{login, 2}, {project, 2}, {task, 5}, {status, 3}, {revoke, 2}};

static void check_values(const web_field_t *spec, size_t n, const web_values_t *v)
{
    for (size_t i = 0; i < n; i++) {
        require(!spec[i].required || v->v[i].present);
        if (!v->v[i].present)
            continue;
        if (spec[i].kind == WEB_F_UINT) {
            require(v->v[i].u >= spec[i].min && v->v[i].u <= ((uint64_t)1 << 53));
            continue;
        }
        require(v->v[i].str && strlen(v->v[i].str) == v->v[i].len);
        require(v->v[i].str >= v->buf && v->v[i].str + v->v[i].len < v->buf + sizeof v->buf);
        if (spec[i].kind == WEB_F_AGENT)
            require(v->v[i].len >= 1 && v->v[i].len <= COLLAB_MAX_AGENT_ID);
        if (spec[i].kind == WEB_F_IDENT)
            require(v->v[i].len >= 1 && v->v[i].len <= COLLAB_IDENT_MAX);
        if (spec[i].kind == WEB_F_TEXT)
            require(collab_utf8_check(v->v[i].str, v->v[i].len, NULL) == 0);
    }
}

static void text_parsers(const char *s)
{
    char out[COLLAB_MAX_SESSION_ID + 1];
    if (web_cookie_get(s, "tc_session", out, sizeof out))
        require(strlen(out) < sizeof out);
    uint64_t seq;
    if (web_parse_event_id(s, &seq) == 0)
        require(seq >= 1 && seq <= ((uint64_t)1 << 53));
    if (web_session_id_ok(s))
        require(strlen(s) <= COLLAB_MAX_SESSION_ID && !strchr(s, ';') && !strchr(s, ' '));
    if (web_static_path_ok(s))
        require(s[0] == '/' && !strstr(s, "..") && !strstr(s, "//") && !strstr(s, "/."));
    require(web_content_type(s) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static web_values_t values;
    char err[160];
    if (size < 1)
        return 0;
    size_t k = data[0] % (sizeof specs / sizeof specs[0]);
    const char *body = (const char *)data + 1;
    if (web_parse_body(body, size - 1, specs[k].spec, specs[k].n, &values, err, sizeof err) == 0)
        check_values(specs[k].spec, specs[k].n, &values);
    char *text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, body, size - 1);
    text[size - 1] = '\0';
    text_parsers(text);
    free(text);
    return 0;
}
