/*  format.c: messages as readable lines and as JSON capture records (see sniff.h). Every
    text that came off the wire is escaped before it is printed. */
#include "sniff.h"
#include "collab_hex.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STR_SHOWN 64 /* bytes of a string field shown */
#define BIN_SHOWN 8  /* bytes of a bin field shown in hex */
#define FIELDS    6  /* fields of a payload or data map shown */

__attribute__((format(printf, 4, 5))) static void appendf(char *out, size_t cap, size_t *o,
                                                          const char *fmt, ...)
{
    va_list ap;
    if (*o + 1 >= cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(out + *o, cap - *o, fmt, ap);
    va_end(ap);
    *o = n < 0 || (size_t)n >= cap - *o ? cap - 1 : *o + (size_t)n;
}

/*  Escaped text of at most max bytes, with "..." when cut. */
static const char *esc(const char *p, size_t n, size_t max, char *out, size_t cap)
{
    size_t o = collab_text_escape(p, n < max ? n : max, out, cap);
    if (n > max && o + 4 <= cap)
        memcpy(out + o, "...", 4);
    return out;
}

static void hex(const void *p, size_t n, char *out)
{
    collab_hex_encode(p, n, out, 2 * n + 1);
}

static void value(const collab_mp_value_t *v, char *out, size_t cap, size_t *o)
{
    char buf[4 * STR_SHOWN + 8];
    switch (v->type) {
    case COLLAB_MP_STR:
        appendf(out, cap, o, "\"%s\"", esc(v->ptr, v->len, STR_SHOWN, buf, sizeof buf));
        break;
    case COLLAB_MP_BIN:
        hex(v->ptr, v->len < BIN_SHOWN ? v->len : BIN_SHOWN, buf);
        appendf(out, cap, o, v->len > BIN_SHOWN ? "%s..(%u bytes)" : "0x%s", buf, v->len);
        break;
    case COLLAB_MP_UINT:
        appendf(out, cap, o, "%llu", (unsigned long long)v->u);
        break;
    case COLLAB_MP_INT:
        appendf(out, cap, o, "%lld", (long long)v->i);
        break;
    case COLLAB_MP_BOOL:
        appendf(out, cap, o, "%s", v->b ? "true" : "false");
        break;
    case COLLAB_MP_FLOAT:
        appendf(out, cap, o, "%g", v->f);
        break;
    case COLLAB_MP_ARRAY:
        appendf(out, cap, o, "[%u]", v->len);
        break;
    case COLLAB_MP_MAP:
        appendf(out, cap, o, "{%u}", v->len);
        break;
    default:
        appendf(out, cap, o, "nil");
    }
}

size_t collab_sniff_format_map(const void *bytes, size_t len, int max_fields, char *out, size_t cap)
{
    collab_map_t m;
    size_t o = 0;
    char key[4 * COLLAB_MAX_KEY_BYTES + 8];
    if (cap == 0)
        return 0;
    out[0] = '\0';
    int rc = collab_map_parse(bytes, len, &m);
    if (rc != 0) {
        appendf(out, cap, &o, "<not a map: %s>", collab_errname(rc));
        return o;
    }
    for (uint32_t i = 0; i < m.count && (int)i < max_fields; i++) {
        appendf(out, cap, &o, "%s%s=", i ? " " : "",
                esc(m.e[i].key.ptr, m.e[i].key.len, COLLAB_MAX_KEY_BYTES, key, sizeof key));
        value(&m.e[i].val, out, cap, &o);
    }
    if ((int)m.count > max_fields)
        appendf(out, cap, &o, " (+%d more)", (int)m.count - max_fields);
    return o;
}

static const char *arrow(collab_sniff_dir_t d)
{
    return d == COLLAB_SNIFF_TO_BROKER     ? "-> broker"
           : d == COLLAB_SNIFF_FROM_BROKER ? "<- broker"
                                           : "?";
}

static void format_request(const collab_envelope_t *e, char *out, size_t cap, size_t *o)
{
    char agent[4 * COLLAB_MAX_AGENT_ID + 8], sid[4 * COLLAB_MAX_SESSION_ID + 8], act[140];
    char map[1024], sig[2 * BIN_SHOWN + 1] = "";
    hex(e->signature.ptr, e->signature.len < 4 ? e->signature.len : 4, sig);
    collab_sniff_format_map(e->payload.ptr, e->payload.len, FIELDS, map, sizeof map);
    appendf(out, cap, o, "request %s #%llu agent=%s session=\"%s\"%s%s%s%s payload{%s}",
            esc(e->action.ptr, e->action.len, COLLAB_MAX_ACTION, act, sizeof act),
            (unsigned long long)e->request_id,
            esc(e->agent_id.ptr, e->agent_id.len, COLLAB_MAX_AGENT_ID, agent, sizeof agent),
            esc(e->session_id.ptr, e->session_id.len, COLLAB_MAX_SESSION_ID, sid, sizeof sid),
            e->signature.len ? " sig=" : " unsigned", sig, e->signature.len ? ".." : "",
            e->nonce.len ? " nonce" : "", map);
}

static void format_reply(const collab_sniff_msg_t *m, char *out, size_t cap, size_t *o)
{
    const collab_envelope_t *e = &m->env;
    char map[1024], err[4 * COLLAB_MAX_ERROR_TEXT + 8];
    appendf(out, cap, o, "reply #%llu%s%s%s ", (unsigned long long)e->request_id,
            m->reply_to[0] ? " (" : "", m->reply_to, m->reply_to[0] ? ")" : "");
    if (!e->ok)
        appendf(out, cap, o, "error %s (%u) \"%s\" ", collab_errname(-(int)e->error_code),
                e->error_code, esc(e->error.ptr, e->error.len, 200, err, sizeof err));
    else
        appendf(out, cap, o, "ok ");
    collab_sniff_format_map(e->data.ptr, e->data.len, FIELDS, map, sizeof map);
    appendf(out, cap, o, "data{%s}", map);
}

static void format_event(const collab_envelope_t *e, char *out, size_t cap, size_t *o)
{
    char map[1024], name[140];
    collab_sniff_format_map(e->data.ptr, e->data.len, FIELDS, map, sizeof map);
    appendf(out, cap, o, "event %s seq=%llu data{%s}",
            esc(e->event.ptr, e->event.len, COLLAB_MAX_EVENT_NAME, name, sizeof name),
            (unsigned long long)e->seq, map);
}

static size_t total_bytes(const collab_sniff_msg_t *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nframes; i++)
        n += m->frames[i].len;
    return n;
}

static void format_undecoded(const collab_sniff_msg_t *m, char *out, size_t cap, size_t *o)
{
    char start[2 * 8 + 1] = "";
    if (m->nframes && m->frames[0].len)
        hex(m->frames[0].ptr, m->frames[0].len < 8 ? m->frames[0].len : 8, start);
    appendf(out, cap, o, "undecoded (%s): %zu frame%s, %zu bytes, starts %s",
            collab_errname(m->decode_rc), m->nframes, m->nframes == 1 ? "" : "s", total_bytes(m),
            start);
}

/*  The command line option that raises a limit, by the limit's name. */
static const char *limit_option(const char *limit)
{
    return strcmp(limit, "frames") == 0          ? "--max-frames"
           : strcmp(limit, "message_bytes") == 0 ? "--max-message-bytes"
           : strcmp(limit, "frame_bytes") == 0   ? "--max-frame-bytes"
                                                 : NULL;
}

static void format_dropped(const collab_sniff_msg_t *m, char *out, size_t cap, size_t *o)
{
    const char *opt = limit_option(m->drop.limit);
    appendf(out, cap, o, "dropped%s: %zu frame%s, %llu bytes%s, ",
            m->encrypted ? " (encrypted)" : "", m->drop.frames, m->drop.frames == 1 ? "" : "s",
            (unsigned long long)m->drop.bytes, m->drop.complete ? "" : " (cut short)");
    if (opt)
        appendf(out, cap, o, "over the sniffer's limit of %zu %s (raise it with %s)", m->drop.max,
                strcmp(m->drop.limit, "frames") == 0 ? "frames" : "bytes", opt);
    else
        appendf(out, cap, o, "out of memory");
}

size_t collab_sniff_format(const collab_sniff_msg_t *m, char *out, size_t cap)
{
    size_t o = 0;
    time_t secs = (time_t)m->ts;
    struct tm tm;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    localtime_r(&secs, &tm);
    appendf(out, cap, &o, "%02d:%02d:%02d.%06ld conn %u %s > %s %s ", tm.tm_hour, tm.tm_min,
            tm.tm_sec, (long)((m->ts - (double)secs) * 1e6), m->conn, m->src, m->dst,
            arrow(m->dir));
    if (m->dropped)
        format_dropped(m, out, cap, &o);
    else if (m->encrypted)
        appendf(out, cap, &o, "encrypted (%s): %zu bytes", m->mechanism, total_bytes(m));
    else if (m->decode_rc != 0)
        format_undecoded(m, out, cap, &o);
    else if (m->env.kind == COLLAB_KIND_REQUEST)
        format_request(&m->env, out, cap, &o);
    else if (m->env.kind == COLLAB_KIND_REPLY)
        format_reply(m, out, cap, &o);
    else
        format_event(&m->env, out, cap, &o);
    if (m->nframes > 1)
        appendf(out, cap, &o, " [%zu frames]", m->nframes);
    return o;
}

/* ---- JSON ---- */

static void add_span(cJSON *o, const char *key, collab_span_t s, bool present)
{
    char *text = present ? collab_strndup(s.ptr, s.len) : NULL;
    if (text)
        cJSON_AddStringToObject(o, key, text);
    else
        cJSON_AddNullToObject(o, key);
    free(text);
}

static const char *kind_name(const collab_sniff_msg_t *m)
{
    if (m->dropped)
        return "dropped";
    if (m->decode_rc != 0)
        return "unknown";
    return m->env.kind == COLLAB_KIND_REQUEST ? "request"
           : m->env.kind == COLLAB_KIND_REPLY ? "reply"
                                              : "event";
}

static void add_envelope(cJSON *o, const collab_sniff_msg_t *m)
{
    const collab_envelope_t *e = &m->env;
    bool req = m->decode_rc == 0 && e->kind == COLLAB_KIND_REQUEST;
    bool rep = m->decode_rc == 0 && e->kind == COLLAB_KIND_REPLY;
    collab_span_t to = {m->reply_to, strlen(m->reply_to)};
    if (rep)
        add_span(o, "action", to, to.len > 0);
    else
        add_span(o, "action", e->action, req);
    add_span(o, "agent_id", e->agent_id, req);
    add_span(o, "session_id", e->session_id, req);
    if (req || rep)
        cJSON_AddNumberToObject(o, "request_id", (double)e->request_id);
    if (rep) {
        cJSON_AddStringToObject(o, "status", e->ok ? "ok" : "error");
        cJSON_AddStringToObject(o, "error", e->ok ? "" : collab_errname(-(int)e->error_code));
        cJSON_AddNumberToObject(o, "error_code", e->ok ? 0 : e->error_code);
    }
    if (m->decode_rc == 0 && e->kind == COLLAB_KIND_EVENT)
        add_span(o, "event", e->event, true);
}

static cJSON *frames_array(const collab_sniff_msg_t *m)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < m->nframes; i++) {
        char *h = malloc(2 * m->frames[i].len + 1);
        if (!h)
            break;
        hex(m->frames[i].ptr, m->frames[i].len, h);
        cJSON_AddItemToArray(a, cJSON_CreateString(h));
        free(h);
    }
    return a;
}

static const char *direction_name(collab_sniff_dir_t d)
{
    return d == COLLAB_SNIFF_TO_BROKER     ? "to_broker"
           : d == COLLAB_SNIFF_FROM_BROKER ? "from_broker"
                                           : "unknown";
}

/*  Why nothing was decoded: the decoder's error, or the limit the message broke. */
static void add_failure(cJSON *o, const collab_sniff_msg_t *m)
{
    if (m->dropped) {
        cJSON *d = cJSON_AddObjectToObject(o, "dropped");
        cJSON_AddStringToObject(d, "limit", m->drop.limit);
        cJSON_AddNumberToObject(d, "max", (double)m->drop.max);
        cJSON_AddNumberToObject(d, "frames", (double)m->drop.frames);
        cJSON_AddNumberToObject(d, "bytes", (double)m->drop.bytes);
        cJSON_AddBoolToObject(d, "complete", m->drop.complete);
    } else if (!m->encrypted && m->decode_rc != 0) {
        cJSON *d = cJSON_AddObjectToObject(o, "decode_error");
        cJSON_AddNumberToObject(d, "code", -m->decode_rc);
        cJSON_AddStringToObject(d, "name", collab_errname(m->decode_rc));
        cJSON_AddStringToObject(d, "text", collab_strerror(m->decode_rc));
    }
}

char *collab_sniff_json(const collab_sniff_msg_t *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "index", (double)m->index);
    cJSON_AddNumberToObject(o, "ts", m->ts);
    cJSON_AddNumberToObject(o, "conn", m->conn);
    cJSON_AddStringToObject(o, "src", m->src);
    cJSON_AddStringToObject(o, "dst", m->dst);
    cJSON_AddStringToObject(o, "dir", kind_name(m));
    cJSON_AddStringToObject(o, "direction", direction_name(m->dir));
    add_envelope(o, m);
    cJSON_AddBoolToObject(o, "encrypted", m->encrypted);
    add_failure(o, m);
    cJSON_AddItemToObject(o, "frames", frames_array(m));
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}
