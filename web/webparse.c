/*  webparse.c: collab-web's pure parsers (see webparse.h). The JSON grammar is cJSON's;
    what this file adds is the bounds: the field table, the protocol's limits, and the
    refusal of anything it does not name. */
#include "webparse.h"
#include "collab.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define WEB_UINT_MAX ((uint64_t)1 << 53) /* exact in a JSON number (a double) */

static int fail(int code, char *err, size_t errlen, const char *fmt, const char *name)
{
    snprintf(err, errlen, fmt, name);
    return code;
}

static bool agent_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static bool all_chars(const char *s, size_t len, bool (*ok)(char))
{
    for (size_t i = 0; i < len; i++)
        if (!ok(s[i]))
            return false;
    return true;
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

/*  A string member checked for its kind. Returns 0 or a negative code (err filled). */
static int check_string(const web_field_t *f, const char *s, size_t len, char *err, size_t errlen)
{
    switch (f->kind) {
    case WEB_F_AGENT:
        if (len < 1 || len > COLLAB_MAX_AGENT_ID || !all_chars(s, len, agent_char))
            return fail(COLLAB_E_BAD_REQUEST, err, errlen, "'%s' is not an agent id", f->name);
        return 0;
    case WEB_F_IDENT:
        if (len < 1 || len > COLLAB_IDENT_MAX || !all_chars(s, len, ident_char))
            return fail(COLLAB_E_BAD_REQUEST, err, errlen, "'%s' is not an identifier", f->name);
        return 0;
    case WEB_F_SECRET:
        if (len < 1 || len > COLLAB_PASSWORD_MAX || collab_utf8_check(s, len, NULL) != 0)
            return fail(COLLAB_E_LIMIT, err, errlen, "'%s' must be 1 to 256 bytes of UTF-8",
                        f->name);
        return 0;
    case WEB_F_TEXT: {
        size_t max = f->max ? (size_t)f->max : COLLAB_DESC_MAX_CP;
        int rc = collab_text_check(s, len, (size_t)f->min, max, false);
        if (rc == 0 && collab_text_has_controls(s, len, true))
            rc = COLLAB_E_BAD_TEXT;
        if (rc)
            return fail(rc, err, errlen, "'%s': text out of bounds or not valid", f->name);
        return 0;
    }
    case WEB_F_UINT:
        break;
    }
    return fail(COLLAB_E_FIELD_TYPE, err, errlen, "'%s' must be a number", f->name);
}

/*  Stores one member's value into slot i of out. */
static int take_member(const web_field_t *f, const cJSON *m, web_values_t *out, size_t i, char *err,
                       size_t errlen)
{
    if (f->kind == WEB_F_UINT) {
        uint64_t max = f->max ? f->max : WEB_UINT_MAX;
        if (!cJSON_IsNumber(m))
            return fail(COLLAB_E_FIELD_TYPE, err, errlen, "'%s' must be a number", f->name);
        double d = m->valuedouble;
        if (!(d >= (double)f->min && d <= (double)max) || d != (double)(uint64_t)d)
            return fail(COLLAB_E_LIMIT, err, errlen, "'%s' is out of range", f->name);
        out->v[i].u = (uint64_t)d;
        out->v[i].present = true;
        return 0;
    }
    if (!cJSON_IsString(m) || !m->valuestring)
        return fail(COLLAB_E_FIELD_TYPE, err, errlen, "'%s' must be a string", f->name);
    size_t len = strlen(m->valuestring);
    int rc = check_string(f, m->valuestring, len, err, errlen);
    if (rc)
        return rc;
    if (len + 1 > sizeof out->buf - out->used)
        return fail(COLLAB_E_TOO_LARGE, err, errlen, "'%s' is too large", f->name);
    char *dst = out->buf + out->used;
    memcpy(dst, m->valuestring, len + 1);
    out->used += len + 1;
    out->v[i].str = dst;
    out->v[i].len = len;
    out->v[i].present = true;
    return 0;
}

/*  A \u0000 escape would reach us as a string cut short at its NUL: refused outright
    (conservatively: an escaped backslash before "u0000" is refused too). */
static bool has_nul_escape(const char *body, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++)
        if (body[i] == '\\' && strncasecmp(body + i + 1, "u0000", 5) == 0)
            return true;
    return memchr(body, '\0', len) != NULL;
}

static int members(const cJSON *root, const web_field_t *spec, size_t n, web_values_t *out,
                   char *err, size_t errlen)
{
    for (const cJSON *m = root->child; m; m = m->next) {
        size_t i = 0;
        while (i < n && strcmp(spec[i].name, m->string) != 0)
            i++;
        if (i == n)
            return fail(COLLAB_E_MALFORMED, err, errlen, "unknown field '%.64s'", m->string);
        if (out->v[i].present)
            return fail(COLLAB_E_MALFORMED, err, errlen, "field '%s' given twice", spec[i].name);
        int rc = take_member(&spec[i], m, out, i, err, errlen);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++)
        if (spec[i].required && !out->v[i].present)
            return fail(COLLAB_E_FIELD_MISSING, err, errlen, "field '%s' is required",
                        spec[i].name);
    return 0;
}

int web_parse_body(const char *body, size_t len, const web_field_t *spec, size_t n,
                   web_values_t *out, char *err, size_t errlen)
{
    memset(out->v, 0, sizeof out->v);
    out->used = 0;
    if (n > WEB_FIELDS_MAX || len > WEB_BODY_MAX)
        return fail(COLLAB_E_TOO_LARGE, err, errlen, "%s", "the body is too large");
    if (len == 0 || has_nul_escape(body, len))
        return fail(COLLAB_E_MALFORMED, err, errlen, "%s", "the body must be a JSON object");
    cJSON *root = cJSON_ParseWithLength(body, len);
    int rc;
    if (!root || !cJSON_IsObject(root))
        rc = fail(COLLAB_E_MALFORMED, err, errlen, "%s", "the body must be a JSON object");
    else
        rc = members(root, spec, n, out, err, errlen);
    cJSON_Delete(root);
    return rc;
}

bool web_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = header;
    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t seg = end ? (size_t)(end - p) : strlen(p);
        if (seg > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = seg - nlen - 1;
            while (vlen > 0 && (p[nlen + 1 + vlen - 1] == ' ' || p[nlen + 1 + vlen - 1] == '\t'))
                vlen--;
            if (vlen >= cap)
                return false;
            memcpy(out, p + nlen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p = end;
    }
    return false;
}

int web_parse_event_id(const char *text, uint64_t *seq)
{
    uint64_t v;
    if (!text || collab_parse_u64(text, 1, WEB_UINT_MAX, &v) != 0)
        return -1;
    *seq = v;
    return 0;
}

bool web_session_id_ok(const char *id)
{
    size_t len = id ? strlen(id) : 0;
    if (len < 1 || len > COLLAB_MAX_SESSION_ID)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c <= ' ' || c >= 0x7f || c == '"' || c == ';' || c == ',' || c == '\\')
            return false;
    }
    return true;
}

bool web_static_path_ok(const char *path)
{
    size_t len = path ? strlen(path) : 0;
    if (len < 1 || len > 256 || path[0] != '/')
        return false;
    const char *p = path + 1;
    while (*p) {
        const char *end = strchr(p, '/');
        size_t seg = end ? (size_t)(end - p) : strlen(p);
        if (seg < 1 || seg > 64 || p[0] == '.' || !all_chars(p, seg, agent_char) ||
            memmem(p, seg, "..", 2))
            return false;
        if (!end)
            break;
        p = end + 1;
    }
    return true;
}

const char *web_content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = name ? strrchr(name, '.') : NULL;
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}
