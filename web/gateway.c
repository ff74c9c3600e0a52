/*  gateway.c: collab-web's loop, its bus calls and the lives of its web sessions
    (gateway.h). */
#include "gateway.h"
#include "agent_stop.h"
#include "api.h"
#include "collab_clock.h"
#include "http.h"
#include "login.h"
#include "sse.h"
#include "bearer.h"

#include <czmq.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGINS_MAX  64   /* logins waiting for the login thread */
#define TICK_MS     1000 /* timeouts, keep-alives and idle sessions are looked at this often */
#define POLL_MAX_MS 1000

typedef struct web_call {
    struct web_call *next;
    uint64_t id;
    int64_t deadline;
    web_call_fn fn;
    void *arg;
} web_call_t;

typedef struct pending_login {
    struct pending_login *next;
    uint64_t id;
    webreq_t *req;
} pending_login_t;

struct gateway {
    web_settings_t set;
    collab_creds_t *creds;
    struct MHD_Daemon *mhd;
    int epoll_fd;
    login_t *login;
    websess_table_t sessions;
    web_rate_t *rate, *login_rate;
    pending_login_t *logins;
    size_t login_count;
    uint64_t next_login;
    uint32_t streams;
    struct web_bearer *bearer; /* control 21's tokens */
    int64_t next_tick, next_keepalive;
    zmq_pollitem_t *items;
    size_t items_cap;
};

const web_settings_t *gw_settings(const gateway_t *gw)
{
    return &gw->set;
}

const collab_creds_t *gw_creds(const gateway_t *gw)
{
    return gw->creds;
}

struct websess_table *gw_sessions(gateway_t *gw)
{
    return &gw->sessions;
}

web_rate_t *gw_rate(gateway_t *gw)
{
    return gw->rate;
}

web_rate_t *gw_login_rate(gateway_t *gw)
{
    return gw->login_rate;
}

struct web_bearer *gw_bearer(gateway_t *gw)
{
    return gw->bearer;
}

uint32_t *gw_stream_count(gateway_t *gw)
{
    return &gw->streams;
}

int gw_call(gateway_t *gw, websess_t *s, const char *action, const void *payload, size_t len,
            web_call_fn fn, void *arg)
{
    if (!s || s->dead)
        return COLLAB_E_SESSION_INVALID;
    web_call_t *c = calloc(1, sizeof *c);
    if (!c)
        return COLLAB_E_NOMEM;
    c->id = collab_client_send(s->client, action, payload, len);
    if (c->id == 0) {
        free(c);
        return COLLAB_E_IO;
    }
    c->deadline = collab_mono_ms() + gw->set.timeout_ms;
    c->fn = fn;
    c->arg = arg;
    c->next = s->calls;
    s->calls = c;
    s->last_used_ms = collab_mono_ms();
    return 0;
}

void gw_cancel(gateway_t *gw, void *arg)
{
    for (websess_t *s = gw->sessions.head; s; s = s->next)
        for (web_call_t **pp = &s->calls; *pp;) {
            web_call_t *c = *pp;
            if (c->arg == arg) {
                *pp = c->next;
                free(c);
            } else
                pp = &c->next;
        }
    for (pending_login_t **pp = &gw->logins; *pp; pp = &(*pp)->next)
        if ((*pp)->req == arg)
            (*pp)->req = NULL; /* its job still comes back, and is dropped then */
}

/*  Under strong transport with --curve-dir the bus speaks CURVE: the agent's client uses the
    broker's public key (transport.server_cert) and that agent's own secret certificate from
    --curve-dir, as the agent itself would (its session is bound to that key). Returns 0, or
    -1 logged. */
static int curve_opts(gateway_t *gw, login_job_t *job)
{
    char cert[COLLAB_PATH_MAX + COLLAB_MAX_AGENT_ID + 16], err[256];
    snprintf(cert, sizeof cert, "%s/%s.cert_secret", gw->set.curve_dir, job->agent_id);
    if (collab_client_load_curve(&job->opts, gw->set.cfg.curve_server_cert, cert, err,
                                 sizeof err) != 0) {
        fprintf(stderr, "collab-web: login of %s refused: %s\n", job->agent_id, err);
        return -1;
    }
    return 0;
}

int gw_login(gateway_t *gw, webreq_t *req, const char *agent_id, const char *password)
{
    if (gw->login_count >= LOGINS_MAX)
        return COLLAB_E_BUSY;
    login_job_t *job = calloc(1, sizeof *job);
    pending_login_t *p = calloc(1, sizeof *p);
    if (!job || !p) {
        free(job);
        free(p);
        return COLLAB_E_NOMEM;
    }
    job->id = p->id = ++gw->next_login;
    p->req = req;
    snprintf(job->endpoint, sizeof job->endpoint, "%s", gw->set.broker);
    snprintf(job->agent_id, sizeof job->agent_id, "%s", agent_id);
    snprintf(job->password, sizeof job->password, "%s", password);
    job->opts.timeout_ms = gw->set.timeout_ms;
    job->opts.login_timeout_ms = gw->set.login_timeout_ms;
    job->opts.connect_timeout_ms = gw->set.timeout_ms;
    job->opts.retries = 0;
    for (size_t i = 0; i < collab_creds_count(gw->creds); i++) {
        const collab_agent_t *a = collab_creds_at(gw->creds, i);
        if (strcmp(a->id, agent_id) == 0) {
            memcpy(job->opts.key, a->key, COLLAB_KEY_LEN);
            job->opts.has_key = true;
        }
    }
    if (gw->set.cfg.strong[COLLAB_CTL_TRANSPORT] && gw->set.curve_dir[0] &&
        curve_opts(gw, job) != 0) {
        login_job_free(&job);
        free(p);
        return COLLAB_E_IO;
    }
    if (login_submit(gw->login, &job) != 0) {
        login_job_free(&job);
        free(p);
        return COLLAB_E_IO;
    }
    p->next = gw->logins;
    gw->logins = p;
    gw->login_count++;
    return 0;
}

/*  A login the thread finished: to the request that asked, if it is still there. */
static void take_logins(gateway_t *gw)
{
    for (login_job_t *job; (job = login_take(gw->login)) != NULL;) {
        webreq_t *req = NULL;
        for (pending_login_t **pp = &gw->logins; *pp; pp = &(*pp)->next)
            if ((*pp)->id == job->id) {
                pending_login_t *p = *pp;
                req = p->req;
                *pp = p->next;
                free(p);
                gw->login_count--;
                break;
            }
        if (req)
            api_login_done(req, job);
        login_job_free(&job);
    }
}

static web_call_t *unlink_call(websess_t *s, uint64_t id)
{
    for (web_call_t **pp = &s->calls; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            web_call_t *c = *pp;
            *pp = c->next;
            return c;
        }
    return NULL;
}

static bool session_gone(int code)
{
    return code == COLLAB_E_SESSION_INVALID || code == COLLAB_E_SESSION_EXPIRED;
}

static bool ends_session(const char *event)
{
    return strcmp(event, "session_revoked") == 0 || strcmp(event, "session_expired") == 0 ||
           strcmp(event, "session_evicted") == 0;
}

/*  What arrived on s's bus client: replies to their calls, events to its streams. */
static void pump(websess_t *s)
{
    uint64_t id;
    collab_reply_t r;
    while (!s->dead && collab_client_take(s->client, &id, &r) == 1) {
        web_call_t *c = unlink_call(s, id);
        if (!r.ok && session_gone(r.code))
            s->dead = true;
        if (c)
            c->fn(c->arg, &r, 0);
        free(c);
        collab_reply_free(&r);
    }
    collab_event_msg_t ev;
    while (collab_client_next_event(s->client, &ev, 0) == 0) {
        sse_deliver(s, &ev);
        if (ends_session(ev.name))
            s->dead = true;
        collab_event_free(&ev);
    }
}

/*  Ends every call of s, each with rc (its fn may answer its request). */
static void end_calls(websess_t *s, int rc, int64_t before)
{
    web_call_t *done = NULL;
    for (web_call_t **pp = &s->calls; *pp;) {
        web_call_t *c = *pp;
        if (c->deadline <= before) {
            *pp = c->next;
            c->next = done;
            done = c;
        } else
            pp = &c->next;
    }
    while (done) {
        web_call_t *c = done;
        done = c->next;
        c->fn(c->arg, NULL, rc);
        free(c);
    }
}

/*  Removes the sessions that ended: their calls answered, their streams closed. */
static void reap(gateway_t *gw)
{
    for (websess_t *s = gw->sessions.head, *next; s; s = next) {
        next = s->next;
        if (!s->dead)
            continue;
        end_calls(s, COLLAB_E_SESSION_INVALID, INT64_MAX);
        sse_close_session(s);
        websess_remove(&gw->sessions, s);
    }
}

/*  Once a TICK_MS: keep-alives, sessions idle too long. */
static void tick(gateway_t *gw, int64_t now)
{
    if (now < gw->next_tick)
        return;
    gw->next_tick = now + TICK_MS;
    bool keepalive = now >= gw->next_keepalive;
    if (keepalive)
        gw->next_keepalive = now + WEB_KEEPALIVE_MS;
    int64_t idle_ms = (int64_t)gw->set.cfg.idle_timeout_s * 1000;
    for (websess_t *s = gw->sessions.head; s; s = s->next) {
        if (keepalive && s->stream_count > 0) {
            sse_keepalive(s);
            collab_client_send(s->client, "heartbeat", NULL, 0); /* its reply is dropped */
        }
        if (!s->calls && s->stream_count == 0 && now - s->last_used_ms > idle_ms)
            s->dead = true; /* the broker ended its bus session by now */
    }
}

static int poll_timeout(gateway_t *gw, int64_t now)
{
    int64_t ms = gw->next_tick - now;
    MHD_UNSIGNED_LONG_LONG mhd_ms;
    if (MHD_get_timeout(gw->mhd, &mhd_ms) == MHD_YES && (int64_t)mhd_ms < ms)
        ms = (int64_t)mhd_ms;
    for (websess_t *s = gw->sessions.head; s; s = s->next)
        for (web_call_t *c = s->calls; c; c = c->next)
            if (c->deadline - now < ms)
                ms = c->deadline - now;
    return ms < 0 ? 0 : ms > POLL_MAX_MS ? POLL_MAX_MS : (int)ms;
}

/*  The poll set of this turn: the daemon, the login pipe, each live session's socket
    (items[i + 2] for the i-th session). Returns its size, or 0 on memory. */
static size_t poll_set(gateway_t *gw)
{
    size_t n = gw->sessions.count + 2;
    if (n > gw->items_cap) {
        zmq_pollitem_t *grown = realloc(gw->items, n * sizeof *grown);
        if (!grown)
            return 0;
        gw->items = grown;
        gw->items_cap = n;
    }
    gw->items[0] = (zmq_pollitem_t){NULL, gw->epoll_fd, ZMQ_POLLIN, 0};
    gw->items[1] = (zmq_pollitem_t){login_socket(gw->login), 0, ZMQ_POLLIN, 0};
    size_t i = 2;
    for (websess_t *s = gw->sessions.head; s; s = s->next)
        gw->items[i++] = (zmq_pollitem_t){collab_client_socket(s->client), 0, ZMQ_POLLIN, 0};
    return i;
}

int gateway_run(gateway_t *gw)
{
    while (!agent_stop_signal()) {
        size_t n = poll_set(gw);
        int64_t now = collab_mono_ms();
        if (n == 0 || (zmq_poll(gw->items, (int)n, poll_timeout(gw, now)) < 0 && errno != EINTR))
            break;
        MHD_run(gw->mhd); /* adds no session and removes none: the items still match */
        size_t i = 2;
        for (websess_t *s = gw->sessions.head; s && i < n; s = s->next, i++)
            if (gw->items[i].revents & ZMQ_POLLIN)
                pump(s);
        take_logins(gw); /* after the pumps: a new session goes to the list's head */
        now = collab_mono_ms();
        for (websess_t *s = gw->sessions.head; s; s = s->next)
            end_calls(s, COLLAB_E_TIMEOUT, now); /* past their deadline: 504 */
        tick(gw, now);
        reap(gw);
        MHD_run(gw->mhd); /* the connections resumed above: their answers go out now */
    }
    return 0;
}

gateway_t *gateway_new(const web_settings_t *set, char *err, size_t errlen)
{
    gateway_t *gw = calloc(1, sizeof *gw);
    if (!gw || sodium_init() < 0) {
        free(gw);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    gw->set = *set;
    gw->creds = collab_creds_load(set->cfg.credentials_path, err, errlen);
    gw->rate = web_rate_new(4096, set->rate_per_s, set->rate_burst);
    gw->login_rate = web_rate_new(4096, WEB_LOGIN_PER_S, WEB_LOGIN_BURST);
    gw->login = gw->creds ? login_new() : NULL;
    if (!gw->creds || !gw->rate || !gw->login_rate || !gw->login) {
        if (gw->creds)
            snprintf(err, errlen, "cannot start the login thread");
        gateway_destroy(&gw);
        return NULL;
    }
    char why[256];
    if (!(gw->bearer = web_bearer_new(&gw->set, why, sizeof why))) {
        snprintf(err, errlen, "out of memory");
        gateway_destroy(&gw);
        return NULL;
    }
    if (why[0])
        fprintf(stderr, "collab-web: warning: bearer tokens refused: %s\n", why);
    uint16_t port = 0;
    gw->mhd = http_start(gw, &gw->set, &port, err, errlen);
    if (!gw->mhd) {
        gateway_destroy(&gw);
        return NULL;
    }
    gw->set.bind_port = port;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(gw->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    gw->epoll_fd = info ? info->epoll_fd : -1;
    if (!gw->set.origin[0])
        snprintf(gw->set.origin, sizeof gw->set.origin, "http://%s:%u", gw->set.bind_host,
                 (unsigned)port);
    printf("collab-web: http://%s:%u/\n", gw->set.bind_host, (unsigned)port);
    fflush(stdout);
    return gw;
}

/*  Logs every bus session out at once and waits for the replies, COLLAB_CLIENT_FAREWELL_MS
    in all (not each: a stop signal's grace, AGENT_STOP_GRACE_MS, must cover them all). */
static void logout_all(gateway_t *gw)
{
    size_t waiting = 0;
    for (websess_t *s = gw->sessions.head; s; s = s->next)
        waiting += (s->logout_id = collab_client_send(s->client, "logout", NULL, 0)) != 0;
    int64_t end = collab_mono_ms() + COLLAB_CLIENT_FAREWELL_MS;
    for (int64_t left; waiting > 0 && (left = end - collab_mono_ms()) > 0;) {
        size_t n = poll_set(gw);
        if (n == 0 || zmq_poll(gw->items, (int)n, (long)left) < 0)
            break; /* interrupted (a second signal): the backstop decides */
        size_t i = 2;
        for (websess_t *s = gw->sessions.head; s && i < n; s = s->next, i++) {
            uint64_t id;
            collab_reply_t r;
            while (s->logout_id && (gw->items[i].revents & ZMQ_POLLIN) &&
                   collab_client_take(s->client, &id, &r) == 1) {
                collab_reply_free(&r);
                if (id == s->logout_id) {
                    s->logout_id = 0;
                    waiting--;
                }
            }
        }
    }
}

/*  At the end: every suspended request answered 503, every stream closed, so that the
    daemon may stop (it must not while a connection is suspended), and every bus session
    logged out. */
static void drain(gateway_t *gw)
{
    for (websess_t *s = gw->sessions.head; s; s = s->next) {
        end_calls(s, COLLAB_E_UNAVAILABLE, INT64_MAX);
        sse_close_session(s);
    }
    logout_all(gw);
    for (websess_t *s = gw->sessions.head; s; s = s->next)
        s->dead = true;
    for (pending_login_t *p = gw->logins; p; p = p->next)
        if (p->req)
            web_answer_error(p->req, 503, "unavailable", "collab-web is stopping");
    reap(gw);
    for (int i = 0; i < 4; i++)
        MHD_run(gw->mhd);
}

void gateway_destroy(gateway_t **gw_p)
{
    if (!gw_p || !*gw_p)
        return;
    gateway_t *gw = *gw_p;
    if (gw->mhd) {
        MHD_quiesce_daemon(gw->mhd);
        drain(gw);
        MHD_stop_daemon(gw->mhd);
    }
    while (gw->sessions.head)
        websess_remove(&gw->sessions, gw->sessions.head);
    login_destroy(&gw->login);
    while (gw->logins) {
        pending_login_t *p = gw->logins;
        gw->logins = p->next;
        free(p);
    }
    web_bearer_destroy(&gw->bearer);
    collab_creds_destroy(&gw->creds);
    web_rate_destroy(&gw->rate);
    web_rate_destroy(&gw->login_rate);
    free(gw->items);
    free(gw);
    *gw_p = NULL;
}
