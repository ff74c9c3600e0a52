/*  gw_self.h: collab-web's private half, shared by the files of the gateway (gateway.c: the
    loop and the bus calls; http.c: libmicrohttpd; websess.c: web sessions; sse.c: event
    streams; login.c: the login thread; api_*.c: the routes). Nothing outside web/ includes
    it. One thread, the loop's, touches every object here; the login thread owns only the
    jobs it is handed (login.h). */
#ifndef GW_SELF_H
#define GW_SELF_H

#include "collab_client.h"
#include "config.h"
#include "creds.h"
#include "webparse.h"
#include "webrate.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct gateway gateway_t;
typedef struct websess websess_t;
typedef struct webreq webreq_t;
typedef struct sse sse_t;
typedef struct login login_t;

#define WEB_SESSIONS_MAX     1024 /* web sessions held at once */
#define WEB_STREAMS_PER_SESS 4    /* event streams of one web session */
#define WEB_KEEPALIVE_MS     15000
#define WEB_LOGIN_BURST      10 /* failed logins per client address, then ... */
#define WEB_LOGIN_PER_S      0.2
#define WEB_CSRF_HEADER      "X-CSRF-Token"
#define WEB_COOKIE_STRONG    "__Host-tc"
#define WEB_COOKIE_WEAK      "tc_session"
#define WEB_ORIGIN_MAX       (COLLAB_PATH_MAX + 80)
#define WEB_ADDR_MAX         64

/*  What collab-web runs with: the broker's configuration (controls, credentials, idle
    timeout) and the web settings taken from it and from the command line (webcfg.c). */
typedef struct {
    collab_config_t cfg;
    char broker[COLLAB_ENDPOINTS_MAX]; /* the swarm's broker(s): tcp://a[,tcp://b] */
    char bind_host[WEB_ADDR_MAX];
    uint16_t bind_port;
    char static_dir[COLLAB_PATH_MAX];
    char origin[WEB_ORIGIN_MAX]; /* "" until bound: then http://HOST:PORT */
    uint32_t rate_per_s, rate_burst, max_streams;
    bool strong_session, strong_csrf, strong_output, strong_token;
    int timeout_ms;                  /* one bus request, then 504 */
    int login_timeout_ms;            /* one login (bcrypt on the broker) */
    char curve_dir[COLLAB_PATH_MAX]; /* --curve-dir: the agents' CURVE secret certificates,
                                        DIR/AGENT.cert_secret, used under strong transport */
} web_settings_t;

/*  A bus call's end: reply is the broker's answer (rc 0), or NULL with rc
    COLLAB_E_TIMEOUT (no reply in time) or COLLAB_E_SESSION_INVALID (the web session
    ended meanwhile). arg is what gw_call was given. */
typedef void (*web_call_fn)(void *arg, const collab_reply_t *reply, int rc);

/*  gateway.c: sends action on the session's bus client without waiting; fn(arg, ...) is
    called once, from the loop, when the reply comes or the timeout passes. Returns 0, or
    COLLAB_E_IO / COLLAB_E_NOMEM (fn is then never called). */
int gw_call(gateway_t *gw, websess_t *s, const char *action, const void *payload, size_t len,
            web_call_fn fn, void *arg);
/*  Forgets every call whose arg is arg (its owner is going away): fn is not called. */
void gw_cancel(gateway_t *gw, void *arg);
/*  The settings (lent). */
const web_settings_t *gw_settings(const gateway_t *gw);
/*  The credentials file as loaded at start (lent). */
const collab_creds_t *gw_creds(const gateway_t *gw);
/*  Starts a login (login.c) for req; the answer comes to web_login_done. Returns 0 or
    COLLAB_E_BUSY when too many logins wait. */
int gw_login(gateway_t *gw, webreq_t *req, const char *agent_id, const char *password);
/*  The web sessions table and the rate limits (lent). */
struct websess_table *gw_sessions(gateway_t *gw);
web_rate_t *gw_rate(gateway_t *gw);
web_rate_t *gw_login_rate(gateway_t *gw);
/*  Bearer tokens (bearer.h). */
struct web_bearer *gw_bearer(gateway_t *gw);
/*  The streams open in all (sse.c counts them). */
uint32_t *gw_stream_count(gateway_t *gw);

#endif
