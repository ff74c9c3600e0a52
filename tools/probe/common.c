/*  common.c: verdicts, narration, the probe's login, and requests sent through the client
    library or built by hand (see probe.h). */
#include "probe.h"
#include "collab_clock.h"

#include "collab_pack.h"
#include "collab_sign.h"

#include <cJSON.h>
#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

/* hand-built requests carry ids far above the client library's own counter */
#define RAW_ID_BASE (UINT64_C(1) << 40)

uint64_t probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int verdict(verdict_t *v, int outcome, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->evidence, sizeof v->evidence, fmt, ap);
    va_end(ap);
    v->outcome = outcome;
    return outcome;
}

static const char *outcome_name(int outcome)
{
    return outcome == PROBE_HOLDS ? "HOLDS" : outcome == PROBE_FAILS ? "FAILS" : "ERROR";
}

int verdict_print(const char *probe, const verdict_t *v, bool json)
{
    lab_verdict_print("probe", probe, outcome_name(v->outcome), v->evidence, false, NULL, json);
    return v->outcome;
}

collab_client_t *probe_login(const probe_opts_t *o, verdict_t *v)
{
    int code;
    lab_say("log in as %s at %s", o->cli.agent_id, o->cli.endpoint);
    collab_client_t *c = agent_cli_connect(&o->cli, "collab-probe", &code);
    if (!c) {
        int out = code == AGENT_EXIT_UNREACHABLE ? PROBE_UNREACHABLE
                  : code == AGENT_EXIT_AUTH      ? PROBE_LOGIN
                                                 : PROBE_USAGE;
        verdict(v, out, "the probe's own login as %s failed (exit %d)", o->cli.agent_id, out);
        return NULL;
    }
    collab_client_set_relogin(c, false); /* a probe watches what happens to its session */
    return c;
}

size_t probe_pack(uint8_t *buf, size_t cap, ...)
{
    va_list ap;
    va_start(ap, cap);
    size_t len = lab_pack_args(buf, cap, ap);
    va_end(ap);
    return len;
}

static void take_reply(probe_reply_t *out, collab_reply_t *r)
{
    out->r = *r;
    out->code = r->ok ? 0 : (r->code ? r->code : COLLAB_E_INTERNAL);
    snprintf(out->text, sizeof out->text, "%s", r->error);
}

int probe_call(collab_client_t *c, probe_reply_t *out, const char *action, const void *payload,
               size_t len)
{
    collab_reply_t r;
    memset(out, 0, sizeof *out);
    int rc = collab_client_request(c, action, payload, len, &r);
    if (rc) {
        out->code = rc;
        snprintf(out->text, sizeof out->text, "%s", collab_strerror(rc));
        return rc;
    }
    take_reply(out, &r);
    return out->code;
}

void probe_reply_free(probe_reply_t *out)
{
    collab_reply_free(&out->r);
}

/*  Packs the envelope field by field (collab_envelope_encode would refuse the malformed
    session ids some probes send on purpose). */
static int pack_request(const collab_envelope_t *e, uint8_t *out, size_t cap, size_t *len)
{
    collab_pack_t p;
    collab_pack_init(&p, out, cap);
    collab_pack_map(&p, 8 + (e->nonce.len > 0) + (e->signature.len > 0));
    collab_pack_kv_str(&p, "type", "request");
    collab_pack_kv_uint(&p, "version", e->version);
    collab_pack_kv_uint(&p, "request_id", e->request_id);
    collab_pack_kv_strn(&p, "action", e->action.ptr, e->action.len);
    collab_pack_kv_strn(&p, "agent_id", e->agent_id.ptr, e->agent_id.len);
    collab_pack_kv_strn(&p, "session_id", e->session_id.ptr, e->session_id.len);
    collab_pack_kv_uint(&p, "timestamp", e->timestamp);
    if (e->nonce.len) {
        collab_pack_str(&p, "nonce");
        collab_pack_bin(&p, e->nonce.ptr, e->nonce.len);
    }
    collab_pack_str(&p, "payload");
    collab_pack_bin(&p, e->payload.ptr, e->payload.len);
    if (e->signature.len) {
        collab_pack_str(&p, "signature");
        collab_pack_bin(&p, e->signature.ptr, e->signature.len);
    }
    return collab_pack_finish(&p, len);
}

/*  Waits for the reply to id (or to id 0: a request refused before its id was read). */
static int await_reply(collab_client_t *c, uint64_t id, probe_reply_t *out, int timeout_ms)
{
    int64_t deadline = collab_mono_ms() + timeout_ms;
    for (int64_t left; (left = deadline - collab_mono_ms()) > 0;) {
        uint64_t got = 0;
        collab_reply_t r;
        if (collab_client_next_reply(c, &got, &r, (int)left) != 0)
            break;
        if (got == id || got == 0) {
            take_reply(out, &r);
            return out->code;
        }
        collab_reply_free(&r);
    }
    out->code = COLLAB_E_TIMEOUT;
    snprintf(out->text, sizeof out->text, "%s", collab_strerror(COLLAB_E_TIMEOUT));
    return out->code;
}

int probe_raw(collab_client_t *c, const probe_raw_t *req, probe_reply_t *out)
{
    static uint64_t next_id = RAW_ID_BASE;
    static uint8_t frame[COLLAB_MAX_FRAME];
    uint8_t nonce[COLLAB_NONCE_LEN], sig[COLLAB_SIGNATURE_LEN];
    const collab_controls_t *ctl = collab_client_controls(c);
    const char *sid = req->session_id ? req->session_id : collab_client_session(c);
    memset(out, 0, sizeof *out);
    collab_envelope_t env = {.kind = COLLAB_KIND_REQUEST,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = next_id++,
                             .action = {req->action, strlen(req->action)},
                             .agent_id = {req->agent_id, strlen(req->agent_id)},
                             .session_id = {sid, strlen(sid)},
                             .timestamp = req->timestamp ? req->timestamp : probe_now_ms(),
                             .payload = {req->payload, req->payload_len}};
    if (!req->payload)
        env.payload = COLLAB_EMPTY_MAP;
    if (req->key && ctl->replay_protection) {
        randombytes_buf(nonce, sizeof nonce);
        env.nonce = (collab_span_t){(const char *)nonce, sizeof nonce};
    }
    if (req->key) {
        collab_sign(&env, ctl->scope, req->key, sig);
        env.signature = (collab_span_t){(const char *)sig, sizeof sig};
    }
    size_t len;
    if (pack_request(&env, frame, sizeof frame, &len) != 0 ||
        zmq_send(collab_client_socket(c), frame, len, 0) < 0) {
        out->code = COLLAB_E_IO;
        snprintf(out->text, sizeof out->text, "the request could not be sent");
        return out->code;
    }
    return await_reply(c, env.request_id, out, 5000);
}

const char *probe_describe(const probe_reply_t *r, char *buf, size_t cap)
{
    if (r->code == 0)
        snprintf(buf, cap, "ok");
    else if (r->code == COLLAB_E_TIMEOUT)
        snprintf(buf, cap, "no reply");
    else
        snprintf(buf, cap, "%s (%d) \"%s\"", collab_errname(r->code), -r->code, r->text);
    return buf;
}

bool probe_blocked(int code)
{
    switch (code) {
    case COLLAB_E_FORBIDDEN:
    case COLLAB_E_QUOTA:
    case COLLAB_E_RATE_LIMITED:
    case COLLAB_E_BUSY:
    case COLLAB_E_INTERNAL:
    case COLLAB_E_NOMEM:
    case COLLAB_E_IO:
    case COLLAB_E_TIMEOUT:
        return true;
    default:
        return false;
    }
}

bool probe_blocked_step(verdict_t *v, const char *agent, const char *what, int code)
{
    if (!probe_blocked(code))
        return false;
    verdict(v, code == COLLAB_E_TIMEOUT ? PROBE_UNREACHABLE : PROBE_ERROR,
            "%s as %s: %s (%d) \"%s\"; the probe could not run this step%s", what, agent,
            collab_errname(code), -code, collab_strerror(code),
            code == COLLAB_E_FORBIDDEN ? " (log in as an agent with the role, --agent)"
            : code == COLLAB_E_QUOTA   ? " (the agent owns too many projects)"
                                       : "");
    return true;
}

static bool ident_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

bool probe_names(const char *text, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = strstr(text, field); p; p = strstr(p + 1, field))
        if ((p == text || !ident_char(p[-1])) && !ident_char(p[n]))
            return true;
    return false;
}

int probe_create_project(collab_client_t *c, const char *name, uint64_t *id)
{
    char made[64];
    uint8_t buf[COLLAB_MAX_STR_BYTES + 64];
    if (!name) {
        snprintf(made, sizeof made, "probe-%08x", randombytes_random());
        name = made;
    }
    size_t len = probe_pack(buf, sizeof buf, "name", name, NULL);
    probe_reply_t r;
    int rc = probe_call(c, &r, "create_project", buf, len);
    *id = 0;
    if (rc == 0 && collab_map_uint(&r.r.map, "project_id", id) != 0)
        rc = COLLAB_E_MALFORMED;
    probe_reply_free(&r);
    return rc;
}

int probe_delete_project(collab_client_t *c, uint64_t id)
{
    char v[32];
    uint8_t buf[64];
    snprintf(v, sizeof v, "u:%llu", (unsigned long long)id);
    size_t len = probe_pack(buf, sizeof buf, "project_id", v, NULL);
    probe_reply_t r;
    int rc = probe_call(c, &r, "delete_project", buf, len);
    probe_reply_free(&r);
    if (rc == 0)
        lab_say("deleted project %llu (cleanup)", (unsigned long long)id);
    return rc;
}
