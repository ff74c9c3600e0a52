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
    /* CURVE (control 12): the broker's public key (a certificate file or 40 Z85
       characters) and the gateway's own secret certificate, one key pair for every bus
       client it holds (docs/WEB.md 1); both empty: ZMTP NULL */
    char curve_server[COLLAB_PATH_MAX];
    char curve_cert[COLLAB_PATH_MAX];
    bool curve_test_pair;            /* the defaults under strong transport: the TEST-ONLY pair */
    int timeout_ms;                  /* one bus request, then 504 */
    int login_timeout_ms;            /* one login (bcrypt on the broker) */
    char curve_dir[COLLAB_PATH_MAX]; /* --curve-dir: the agents' own CURVE secret certificates,
                                        DIR/AGENT.cert_secret, under strong transport
                                        when no key pair is given */
    /* the lab page (lab.h): the catalogue, the programs it runs, their bounds */
    char catalogue[COLLAB_PATH_MAX];  /* --catalogue: sample_data/attack_scenarios.json */
    char attack_bin[COLLAB_PATH_MAX]; /* --attack-bin: collab-attack */
    char sniff_bin[COLLAB_PATH_MAX];  /* --sniff-bin: collab-sniff */
    uint32_t lab_timeout_s;           /* web.lab_timeout_s: one run at most */
    bool capture;                     /* web.capture: the bus view may run collab-sniff */
} web_settings_t;

/*  A bus call's end: reply is the broker's answer (rc 0), or NULL with rc
    COLLAB_E_TIMEOUT (no reply in time) or COLLAB_E_SESSION_INVALID (the web session
    ended meanwhile). arg is what gw_call was given. */
typedef void (*web_call_fn)(void *arg, const collab_reply_t *reply, int rc);

/*  A bus call under way (one of its session's list, s->calls). A read (an action that
    changes no state) keeps its payload, to be sent again on the next endpoint when the
    client moves (busmove.c); a write is never sent twice. */
typedef struct web_call {
    struct web_call *next;
    uint64_t id;
    int64_t deadline;
    web_call_fn fn;
    void *arg;
    unsigned attempts; /* sends so far: at most one per endpoint */
    bool resendable;
    bool lost; /* its reply cannot come (a move): ends with COLLAB_E_TIMEOUT this turn */
    char action[COLLAB_MAX_ACTION + 1];
    uint8_t *payload; /* a read's copy (NULL for a write, or an empty payload) */
    size_t len;
} web_call_t;

/*  busmove.c: s's bus client moves to its next endpoint (its connection was lost, or a
    call timed out) and its calls follow: a read is sent again there, a write ends with
    COLLAB_E_TIMEOUT (504: it may or may not have been done), and a session that had
    subscribed subscribes again `since` its last event, so its streams see no gap. Returns
    true when the client moved (it has several endpoints and another one opens), which is
    logged with why. */
bool gw_failover(gateway_t *gw, websess_t *s, const char *why);
/*  The calls of s past their deadline (at now): with several endpoints, a move
    (gw_failover); else each ends with COLLAB_E_TIMEOUT (504). */
void gw_expire_calls(gateway_t *gw, websess_t *s, int64_t now);
/*  Frees a call and its payload. */
void gw_call_free(web_call_t *c);

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
/*  The lab page's runs and streams (lab.h). */
struct web_lab *gw_lab(gateway_t *gw);

#endif
