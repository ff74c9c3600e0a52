/*  collab_client.h: one agent's connection to the broker. A DEALER socket, login, signing
    as the login reply's controls say (a retry is signed again), requests with a timeout and
    retries, re-login after the broker restarts or the session ends, heartbeats, pushed
    events queued for the caller with catch-up after a reconnect, and failover between the
    brokers of a cluster.

    Several endpoints ("tcp://a:5555,tcp://b:5556", at most COLLAB_CLIENT_MAX_ENDPOINTS).
    The client uses the first. A session is cluster-wide (docs/DISTRIBUTED.md 6), so a move
    to another endpoint keeps the session id and the last event seq: no new login.
    - An attempt that times out, or a reply `unavailable` (65), moves the client to the next
      endpoint (round robin) at once: a timeout says that broker may be dead, and another is
      there. The request's budget is still 1 + retries attempts in all, spread over the
      endpoints.
    - A request that changes no state (collab_action_state_changing false: list_*, get_*,
      heartbeat, subscribe, login, logout) is sent again on the new endpoint. A second
      login leaves at worst an unused session to its idle timeout.
    - A state-changing request (create_project, assign_task, update_task_status, ...) that
      timed out is NOT sent again anywhere: its broker may have done it before dying, and
      no broker de-duplicates (only control 8 does). The call returns COLLAB_E_TIMEOUT with
      the client on the next endpoint; the caller reads the state and sends only what is
      missing. After `unavailable` it is sent again, since that reply means nothing was
      changed (PROTOCOL.md 9).
    - When every endpoint has answered `unavailable` in turn, the client waits the last
      reply's retry_after_ms (bounded to COLLAB_CLIENT_UNAVAILABLE_MIN_MS..MAX_MS) before
      the next attempt. The last attempt's `unavailable` is returned as the reply.
    - After a move, a client that had subscribed subscribes again on the new broker,
      `since` its last event, before its next request or event wait. `session_invalid`
      from the new broker is handled as from any broker: re-login when auto_relogin is on.
    - The first login's wait for a connection (connect_timeout_ms) is given to each
      endpoint in turn until one completes its handshake.
    - The connection in use is watched (a libzmq socket monitor). When it is lost (the
      broker died: its TCP connection closed), the reply being waited for cannot come, so
      the attempt ends then, as a timeout would, rather than at timeout_ms; and a client
      whose connection was lost while it was idle moves before its next request instead
      of sending it into the dead link. A broker killed with -9 thus costs a request about
      one round trip, not its timeout.
    One socket at a time, not one per endpoint: a move closes the old DEALER (linger 0) and
    connects a new one. A reply or event that the old broker sends late dies with the old
    socket, and a request still queued in it (its broker was down) is dropped instead of
    reaching that broker when it comes back, after the caller may have done it elsewhere.
    Request ids keep increasing across sockets, so even a stray reply could not match.
    With one endpoint nothing moves: a timeout is retried on it, writes included, as
    before; only `unavailable` is waited out and retried.
    The fire-and-forget pair (collab_client_send, _next_reply or _take) does not fail over
    by itself: a caller that drives it from its own poll loop (collab-web) does, with
    collab_client_monitor_socket, _link_lost and _move below, as collab_client_request
    does (docs/WEB.md 2). */
#ifndef COLLAB_CLIENT_H
#define COLLAB_CLIENT_H

#include "client_endpoints.h"
#include "collab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct collab_client collab_client_t;

#define COLLAB_CURVE_KEY_LEN 32 /* a CURVE key in binary; 40 characters in Z85 */

typedef struct {
    const char *endpoint; /* tcp://127.0.0.1:5555; "tcp://SRC:0;HOST:PORT" sends from SRC;
                             several, separated by commas (see above) */
    const char *agent_id;
    const char *password;
    uint8_t key[COLLAB_KEY_LEN];
    bool has_key;           /* false: the agent cannot sign (it can still log in and read) */
    int timeout_ms;         /* per attempt (default 3000) */
    int retries;            /* further attempts after a timeout (default 2) */
    int login_timeout_ms;   /* per login attempt (0: timeout_ms): logins hash slowly */
    bool auto_relogin;      /* log in again on session_invalid/expired and retry once */
    int connect_timeout_ms; /* > 0: the first login first waits this long for the connection
                               (the ZMTP handshake), failing fast when no broker answers */
    /* CURVE, the strong transport control (false: ZMTP NULL, plaintext): the broker's
       public key and this agent's key pair (see collab_client_load_curve) */
    bool curve;
    uint8_t curve_server[COLLAB_CURVE_KEY_LEN];
    uint8_t curve_public[COLLAB_CURVE_KEY_LEN];
    uint8_t curve_secret[COLLAB_CURVE_KEY_LEN]; /* the client wipes its copy once applied,
                                                   or in destroy when it may move */
} collab_client_opts_t;

/*  A decoded reply: data is a copy the reply owns; args views it. */
typedef struct {
    bool ok;
    int code; /* 0 or a negative collab_err_t */
    char error[COLLAB_MAX_ERROR_TEXT + 1];
    uint8_t *data;
    size_t data_len;
    collab_map_t map;
} collab_reply_t;

/*  A pushed event, owned likewise. */
typedef struct {
    char name[COLLAB_MAX_EVENT_NAME + 1];
    uint64_t seq;
    uint64_t timestamp;
    uint8_t *data;
    size_t data_len;
    collab_map_t map;
} collab_event_msg_t;

/*  The controls a login reply announced. */
typedef struct {
    collab_scope_t scope;
    bool replay_protection;
    bool sanitize_output;
    uint32_t window_s;
} collab_controls_t;

/*  The bounds of the wait after `unavailable` from every endpoint. */
#define COLLAB_CLIENT_UNAVAILABLE_MIN_MS 50
#define COLLAB_CLIENT_UNAVAILABLE_MAX_MS 2000

/*  Connects to the first endpoint (lazily: ZeroMQ connects in the background). NULL on bad
    options, a bad endpoint list (collab_endpoints_parse) included. */
collab_client_t *collab_client_new(const collab_client_opts_t *opts);
void collab_client_destroy(collab_client_t **self_p);

/*  Logs in. Returns 0, or a negative code: COLLAB_E_TIMEOUT when the broker does not
    answer (within connect_timeout_ms when no connection came up at all), COLLAB_E_IO when
    the broker refused the connection's handshake (a CURVE key it does not allow),
    COLLAB_E_AUTH_FAILED for a wrong password, ... */
int collab_client_login(collab_client_t *self);

/*  Sends one request with a packed payload map (NULL/0 for {}), signing it when the
    controls require, waiting for its reply. Events that arrive meanwhile are queued.
    Returns 0 when a reply came (reply->ok tells the outcome) or COLLAB_E_TIMEOUT (for a
    state-changing action with several endpoints: it may or may not have been done; read
    before sending it again). The caller frees the reply with collab_reply_free. */
int collab_client_request(collab_client_t *self, const char *action, const void *payload,
                          size_t len, collab_reply_t *reply);

/*  Sends a request without waiting (fire-and-forget), returning its request id or 0. */
uint64_t collab_client_send(collab_client_t *self, const char *action, const void *payload,
                            size_t len);

/*  Receives the next reply, whatever request it answers (after collab_client_send), in
    *id and *reply (to free), queueing events that arrive meanwhile. Returns 0 or
    COLLAB_E_TIMEOUT. */
int collab_client_next_reply(collab_client_t *self, uint64_t *id, collab_reply_t *reply,
                             int timeout_ms);

/*  Takes what has already arrived on the socket, without waiting (for a caller that polls
    collab_client_socket in its own loop): events are queued (collab_client_next_event with
    timeout 0 hands them over), and the first reply found is returned. Reads at most 64
    messages. Returns 1 with *id and *reply (to free), 0 when no reply is there (yet), or
    a negative code when a reply could not be copied. */
int collab_client_take(collab_client_t *self, uint64_t *id, collab_reply_t *reply);

/*  Takes the next event: from the queue, or waiting up to timeout_ms for one. Returns 0,
    or COLLAB_E_TIMEOUT. Replies that arrive are dropped (none is awaited). */
int collab_client_next_event(collab_client_t *self, collab_event_msg_t *ev, int timeout_ms);

/*  Subscribes (all: every project and task event), asking for events after the last one
    this client has seen, so nothing is missed across a reconnect. */
int collab_client_subscribe(collab_client_t *self, bool all);

/*  Sends a heartbeat; when the broker reports events this client has not seen (pushed to
    a connection that changed, say across a broker restart), subscribes again from the last
    one handled, so they are replayed. Returns 0 or a negative code. */
int collab_client_heartbeat(collab_client_t *self);

/*  Logs out at exit: one attempt of at most COLLAB_CLIENT_FAREWELL_MS (a broker that is
    gone does not hold the exit up), made even after a stop signal (agent_stop.h), which
    ends every other wait of this library at once. */
#define COLLAB_CLIENT_FAREWELL_MS 500
void collab_client_logout(collab_client_t *self);

void collab_reply_free(collab_reply_t *reply);
void collab_event_free(collab_event_msg_t *ev);

const char *collab_client_session(const collab_client_t *self);
const collab_controls_t *collab_client_controls(const collab_client_t *self);
const char *collab_client_role(const collab_client_t *self);
/*  The raw libzmq socket (for polling alongside other inputs): the current one, which a
    move to another endpoint replaces. */
void *collab_client_socket(collab_client_t *self);
/*  The failover of a caller that drives collab_client_send and _take from its own poll
    loop, without waiting. The monitor's socket (for polling beside collab_client_socket;
    a move replaces it too) is readable when the connection's state changed: NULL with one
    endpoint. collab_client_link_lost reads those changes without waiting: true when the
    connection in use was lost since the last call, or is down (lost, not back), so that no
    reply awaited on it can come; always false with one endpoint. collab_client_move moves
    to the next endpoint that opens (round robin), as a timeout does in
    collab_client_request: the old socket is closed with the replies and the requests it
    still held; the session and the last event seq stay (the caller subscribes again,
    `since` collab_client_last_seq, if it had subscribed). Returns true when it moved
    (false with one endpoint). collab_client_endpoint_count: how many endpoints. */
void *collab_client_monitor_socket(collab_client_t *self);
bool collab_client_link_lost(collab_client_t *self);
bool collab_client_move(collab_client_t *self);
size_t collab_client_endpoint_count(const collab_client_t *self);
/*  The endpoint in use (one of the list). */
const char *collab_client_endpoint(const collab_client_t *self);
/*  The last event sequence number handled. */
uint64_t collab_client_last_seq(const collab_client_t *self);
/*  Turns the automatic re-login on session_invalid/expired on or off. */
void collab_client_set_relogin(collab_client_t *self, bool on);
/*  Changes the per-attempt timeout and the retries (e.g. a short logout at shutdown). */
void collab_client_set_timeout(collab_client_t *self, int timeout_ms, int retries);
/*  Sets where event catch-up resumes (a restarted agent that kept its last seq). */
void collab_client_set_last_seq(collab_client_t *self, uint64_t seq);
/*  Uses a session id obtained elsewhere instead of logging in (used by the lab's
    hijack demonstrations, and by tests). */
void collab_client_set_session(collab_client_t *self, const char *session_id);

/*  Fills o's CURVE fields and sets o->curve. server is the broker's public key: 40 Z85
    characters, or a CZMQ certificate file holding it. cert is this agent's secret
    certificate file (CZMQ's "X_secret", or "X" with "X_secret" beside it). Returns 0 or a
    negative code with the reason in err. The caller wipes o->curve_secret when done. */
int collab_client_load_curve(collab_client_opts_t *o, const char *server, const char *cert,
                             char *err, size_t errlen);

/*  Reads an agent's key from a credentials JSON file (its own entry) or a file holding
    64 hex digits. Returns 0 or a negative code with the reason in err. */
int collab_client_load_key(const char *path, const char *agent_id, uint8_t key[COLLAB_KEY_LEN],
                           char *err, size_t errlen);
/*  The same for the file's text already in memory (len bytes, need not be NUL-terminated;
    name stands for the path in errors): what collab_client_load_key does after reading. */
int collab_client_parse_key(const char *name, const char *text, size_t len, const char *agent_id,
                            uint8_t key[COLLAB_KEY_LEN], char *err, size_t errlen);

#endif
