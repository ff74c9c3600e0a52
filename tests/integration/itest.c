/*  itest.c: integration-test helpers (see itest.h). */
#include "itest.h"
#include "collab_clock.h"
#include "labtool.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

void it_set_current(const char *name)
{
    tu_current = name;
}

int it_helper_checks(void)
{
    return tu_checks;
}

int it_helper_failures(void)
{
    return tu_failures;
}

static const char *const passwords[][2] = {
    {"admin", "admin123"},    {"coordinator1", "coord123"}, {"worker1", "worker123"},
    {"worker2", "worker234"}, {"worker3", "worker345"},     {"viewer1", "viewer123"},
    {"worker4", "worker456"}, {"worker5", "worker567"},     {"worker6", "worker678"},
    {"worker7", "worker789"}, {"worker8", "worker890"},     {"coordinator2", "coord234"},
    {"viewer2", "viewer234"},
};

const char *it_password(const char *agent_id)
{
    for (size_t i = 0; i < sizeof passwords / sizeof passwords[0]; i++)
        if (strcmp(passwords[i][0], agent_id) == 0)
            return passwords[i][1];
    return "nope";
}

collab_client_t *it_client(const broker_proc_t *b, const char *agent_id, bool login)
{
    char err[256];
    collab_client_opts_t o = {.endpoint = b->endpoint,
                              .agent_id = agent_id,
                              .password = it_password(agent_id),
                              .timeout_ms = 5000};
    o.has_key = collab_client_load_key(b->creds, agent_id, o.key, err, sizeof err) == 0;
    collab_client_t *c = collab_client_new(&o);
    int rc = c && login ? collab_client_login(c) : 0;
    if (!CHECK(rc == 0)) { /* say why: a timeout, unavailable, rate_limited ... */
        fprintf(stderr, "  %s's login on %s: %s\n", agent_id, b->endpoint, collab_errname(rc));
        collab_client_destroy(&c);
    }
    return c;
}

size_t it_pack(uint8_t *buf, size_t cap, ...)
{
    va_list ap;
    va_start(ap, cap);
    size_t len = lab_pack_args(buf, cap, ap);
    va_end(ap);
    return len;
}

int it_call(collab_client_t *c, collab_reply_t *reply, const char *action, ...)
{
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    if (reply)
        memset(reply, 0, sizeof *reply);
    va_list ap;
    va_start(ap, action);
    size_t len = lab_pack_args(buf, sizeof buf, ap);
    va_end(ap);
    if (len == 0)
        return COLLAB_E_TOO_LARGE;
    collab_reply_t r;
    int rc = collab_client_request(c, action, buf, len, &r);
    if (rc)
        return rc;
    rc = r.ok ? 0 : r.code;
    if (reply && rc == 0)
        *reply = r;
    else
        collab_reply_free(&r); /* an error reply's data is the empty map: nothing to keep */
    return rc;
}

uint64_t it_u64(const collab_reply_t *r, const char *key)
{
    uint64_t v = 0;
    collab_map_uint(&r->map, key, &v);
    return v;
}

bool it_str_is(const collab_map_t *m, const char *key, const char *want)
{
    collab_span_t s;
    return collab_map_str(m, key, &s) == 0 && collab_span_eq(s, want);
}

const char *it_u(char *buf, uint64_t v)
{
    snprintf(buf, 24, "u:%llu", (unsigned long long)v);
    return buf;
}

uint64_t it_create_project(collab_client_t *c, const char *name)
{
    collab_reply_t r;
    uint64_t id = 0;
    int rc = it_call(c, &r, "create_project", "name", name, NULL);
    CHECK_OK(rc);
    if (rc == 0) {
        id = it_u64(&r, "project_id");
        collab_reply_free(&r);
    }
    return id;
}

uint64_t it_assign_task(collab_client_t *c, uint64_t project_id, const char *worker,
                        const char *title)
{
    collab_reply_t r;
    char pid[24];
    uint64_t id = 0;
    int rc = it_call(c, &r, "assign_task", "project_id", it_u(pid, project_id), "type", "testing",
                     "title", title, "worker", worker, NULL);
    CHECK_OK(rc);
    if (rc == 0) {
        id = it_u64(&r, "task_id");
        collab_reply_free(&r);
    }
    return id;
}

uint64_t it_project_total(collab_client_t *c)
{
    collab_reply_t r;
    if (it_call(c, &r, "list_projects", NULL) != 0)
        return UINT64_MAX;
    uint64_t total = UINT64_MAX;
    collab_map_uint(&r.map, "total", &total);
    collab_reply_free(&r);
    return total;
}

uint64_t it_handle(collab_client_t *c)
{
    collab_reply_t r;
    if (it_call(c, &r, "get_session_info", NULL) != 0)
        return 0;
    uint64_t h = it_u64(&r, "handle");
    collab_reply_free(&r);
    return h;
}

uint64_t it_expect_event(collab_client_t *c, const char *name, int timeout_ms,
                         collab_event_msg_t *keep)
{
    collab_event_msg_t ev;
    int rc = collab_client_next_event(c, &ev, timeout_ms);
    CHECK_OK(rc);
    if (rc)
        return 0;
    CHECK_STR(ev.name, name);
    uint64_t seq = strcmp(ev.name, name) == 0 ? ev.seq : 0;
    if (keep)
        *keep = ev;
    else
        collab_event_free(&ev);
    return seq;
}

void it_key(const broker_proc_t *b, const char *agent_id, uint8_t key[COLLAB_KEY_LEN])
{
    char err[256];
    if (!CHECK(collab_client_load_key(b->creds, agent_id, key, err, sizeof err) == 0))
        fprintf(stderr, "  %s\n", err);
}

uint64_t it_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

zsock_t *it_raw_new(const char *endpoint)
{
    zsock_t *s = zsock_new(ZMQ_DEALER);
    if (!s)
        return NULL;
    zsock_set_linger(s, 0);
    zsock_set_sndhwm(s, 0); /* pipelined bursts must not be cut short by the HWM */
    zsock_set_rcvhwm(s, 0);
    if (zsock_connect(s, "%s", endpoint) != 0)
        zsock_destroy(&s);
    return s;
}

size_t it_encode(const it_req_t *r, uint8_t *out, size_t cap)
{
    uint8_t sig[COLLAB_SIGNATURE_LEN];
    const char *sid = r->session_id ? r->session_id : "";
    collab_envelope_t env = {.kind = COLLAB_KIND_REQUEST,
                             .version = r->version ? r->version : COLLAB_PROTOCOL_VERSION,
                             .request_id = r->request_id,
                             .action = {r->action, strlen(r->action)},
                             .agent_id = {r->agent_id, strlen(r->agent_id)},
                             .session_id = {sid, strlen(sid)},
                             .timestamp = r->timestamp ? r->timestamp : it_now_ms(),
                             .payload = {r->payload, r->payload ? r->payload_len : 0}};
    if (r->key) {
        collab_sign(&env, COLLAB_SCOPE_WEAK, r->key, sig);
        env.signature = (collab_span_t){(const char *)sig, sizeof sig};
    }
    size_t len = 0;
    return collab_envelope_encode(&env, out, cap, &len) == 0 ? len : 0;
}

int it_raw_send(zsock_t *s, const void *bytes, size_t len, bool more)
{
    return zmq_send(zsock_resolve(s), bytes, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

int it_raw_recv(zsock_t *s, it_msg_t *m, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve(s), 0, ZMQ_POLLIN, 0};
    int64_t deadline = collab_mono_ms() + timeout_ms;
    memset(&m->env, 0, sizeof m->env);
    m->data.count = 0;
    for (;;) {
        int64_t left = deadline - collab_mono_ms();
        if (left < 0)
            left = 0;
        if (zmq_poll(&item, 1, (long)left) > 0)
            break;
        if (collab_mono_ms() >= deadline)
            return COLLAB_E_TIMEOUT;
    }
    int n = zmq_recv(zsock_resolve(s), m->bytes, sizeof m->bytes, ZMQ_DONTWAIT);
    if (n < 0)
        return COLLAB_E_IO;
    m->len = (size_t)n < sizeof m->bytes ? (size_t)n : sizeof m->bytes;
    int rc = collab_envelope_decode(m->bytes, m->len, &m->env);
    if (rc == 0 && m->env.kind != COLLAB_KIND_REQUEST)
        rc = collab_map_parse(m->env.data.ptr, m->env.data.len, &m->data);
    return rc;
}

int it_raw_reply(zsock_t *s, uint64_t request_id, it_msg_t *m, int timeout_ms)
{
    int64_t deadline = collab_mono_ms() + timeout_ms;
    for (int64_t left; (left = deadline - collab_mono_ms()) > 0;) {
        int rc = it_raw_recv(s, m, (int)left);
        if (rc == COLLAB_E_TIMEOUT)
            break;
        if (rc == 0 && m->env.kind == COLLAB_KIND_REPLY && m->env.request_id == request_id)
            return m->env.ok ? 0 : -(int)m->env.error_code;
    }
    return COLLAB_E_TIMEOUT;
}

static it_msg_t scratch_msg;

int it_raw_call(zsock_t *s, const it_req_t *r, it_msg_t *m)
{
    uint8_t frame[COLLAB_MAX_FRAME];
    size_t len = it_encode(r, frame, sizeof frame);
    if (!CHECK(len > 0) || it_raw_send(s, frame, len, false) != 0)
        return COLLAB_E_IO;
    return it_raw_reply(s, r->request_id, m ? m : &scratch_msg, 5000);
}

int it_raw_bytes(zsock_t *s, const void *bytes, size_t len, it_msg_t *m)
{
    if (!m)
        m = &scratch_msg;
    if (it_raw_send(s, bytes, len, false) != 0)
        return COLLAB_E_IO;
    int64_t deadline = collab_mono_ms() + 5000;
    for (int64_t left; (left = deadline - collab_mono_ms()) > 0;) {
        int rc = it_raw_recv(s, m, (int)left);
        if (rc == COLLAB_E_TIMEOUT)
            break;
        if (rc == 0 && m->env.kind == COLLAB_KIND_REPLY)
            return m->env.ok ? 0 : -(int)m->env.error_code;
    }
    return COLLAB_E_TIMEOUT;
}

uint32_t it_array_len(const collab_map_t *m, const char *key)
{
    collab_mp_reader_t r;
    uint32_t n = 0;
    return collab_map_array(m, key, &r, &n) == 0 ? n : 0;
}

int it_array_map_at(const collab_map_t *m, const char *key, uint32_t i, collab_map_t *out)
{
    collab_mp_reader_t r;
    uint32_t n = 0;
    int rc = collab_map_array(m, key, &r, &n);
    if (rc)
        return rc;
    if (i >= n)
        return COLLAB_E_NOT_FOUND;
    for (uint32_t k = 0; k < i; k++)
        if ((rc = collab_mp_skip(&r, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES)) != 0)
            return rc;
    const uint8_t *start = r.p;
    if ((rc = collab_mp_skip(&r, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES)) != 0)
        return rc;
    return collab_map_parse(start, (size_t)(r.p - start), out);
}

int it_find_in_array(const collab_map_t *m, const char *key, const char *field, const char *value,
                     collab_map_t *out)
{
    uint32_t n = it_array_len(m, key);
    for (uint32_t i = 0; i < n; i++)
        if (it_array_map_at(m, key, i, out) == 0 && it_str_is(out, field, value))
            return 0;
    return COLLAB_E_NOT_FOUND;
}
