/*  probe.h: what the probes of collab-probe share. Each probe shows one of the seed's
    Stage 2 improvements with real requests to a live broker and ends with one line. */
#ifndef PROBE_H
#define PROBE_H

#include "agent_cli.h"
#include "collab_client.h"
#include "labtool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Exit codes: HOLDS 0, FAILS 1, usage 2, broker unreachable 3, login refused 4, and 5
    when the probe could not run (an unexpected refusal of one of its own steps). */
enum {
    PROBE_HOLDS = 0,
    PROBE_FAILS = 1,
    PROBE_USAGE = 2,
    PROBE_UNREACHABLE = 3,
    PROBE_LOGIN = 4,
    PROBE_ERROR = 5
};

typedef struct {
    agent_cli_t cli;      /* the probe's agent: endpoint, id, password, key, CURVE */
    char broker_exe[512]; /* idle-timeout: the collab-broker it starts */
    char worker[COLLAB_MAX_AGENT_ID + 1]; /* state-validation: the task's assignee */
    uint32_t window_s; /* timestamp: the window to check (0: the announced one) */
    bool json;
} probe_opts_t;

typedef struct {
    int outcome; /* PROBE_HOLDS, PROBE_FAILS, or an exit code of the error kinds */
    char evidence[1024];
} verdict_t;

typedef int (*probe_fn)(const probe_opts_t *o, verdict_t *v);

/*  Sets the verdict; returns its outcome. */
int verdict(verdict_t *v, int outcome, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*  Prints "HOLDS: evidence" / "FAILS: ..." / "ERROR: ..." (or JSON); returns the exit code. */
int verdict_print(const char *probe, const verdict_t *v, bool json);

/*  Connects and logs in as o's agent (no silent re-login), or returns NULL with v set to
    the exit code (3 unreachable, 4 refused, 2 bad options). */
collab_client_t *probe_login(const probe_opts_t *o, verdict_t *v);

/*  One reply as a probe looks at it: its code (0 when ok, a negative collab_err_t, or
    COLLAB_E_TIMEOUT when none came) and error text, with the reply kept for its data. */
typedef struct {
    int code;
    char text[COLLAB_MAX_ERROR_TEXT + 1];
    collab_reply_t r;
} probe_reply_t;

/*  Packs a payload from NULL-terminated "key", value pairs into buf: a value "u:123" is a
    uint, "b:true" a bool, "s:text" or any other string a str. Returns the length or 0. */
size_t probe_pack(uint8_t *buf, size_t cap, ...);

/*  Sends a request through the client library (signed as the login reply requires) and
    fills *out; returns out->code. The caller frees out with probe_reply_free. */
int probe_call(collab_client_t *c, probe_reply_t *out, const char *action, const void *payload,
               size_t len);

/*  A request built by hand, for what the client library will not send: another session
    id (any bytes), another timestamp, another key, or none. */
typedef struct {
    const char *action;
    const char *agent_id;
    const char *session_id; /* NULL: the client's own */
    uint64_t timestamp;     /* 0: now */
    const uint8_t *key;     /* NULL: unsigned */
    const void *payload;
    size_t payload_len;
} probe_raw_t;

/*  Encodes, signs (scope and nonce as the client's login reply announced), sends on the
    client's socket and waits for the reply. Returns out->code. */
int probe_raw(collab_client_t *c, const probe_raw_t *req, probe_reply_t *out);

void probe_reply_free(probe_reply_t *out);

/*  "name (N) \"text\"" for a reply, in buf. */
const char *probe_describe(const probe_reply_t *r, char *buf, size_t cap);

/*  True for a code that stops the probe's own step rather than showing the improvement:
    the agent lacks the role (forbidden), its quota is full, the broker is busy, limiting,
    failing or silent. The probe then says ERROR, never FAILS. */
bool probe_blocked(int code);

/*  Sets an ERROR verdict (exit 5) for a blocked step and returns true, or returns false. */
bool probe_blocked_step(verdict_t *v, const char *agent, const char *what, int code);

/*  True when text names field as a word of its own (not inside a longer identifier). */
bool probe_names(const char *text, const char *field);

/*  create_project with name (a unique, readable one when NULL) into *id; delete_project.
    Both return 0 or the reply's code. */
int probe_create_project(collab_client_t *c, const char *name, uint64_t *id);
int probe_delete_project(collab_client_t *c, uint64_t id);

/*  Clocks: Unix ms for envelope timestamps, monotonic ms for deadlines. */
uint64_t probe_now_ms(void);

/*  The probes, by subcommand. */
int probe_idle_timeout(const probe_opts_t *o, verdict_t *v);
int probe_session_validation(const probe_opts_t *o, verdict_t *v);
int probe_logout(const probe_opts_t *o, verdict_t *v);
int probe_state_validation(const probe_opts_t *o, verdict_t *v);
int probe_size_limits(const probe_opts_t *o, verdict_t *v);
int probe_timestamp(const probe_opts_t *o, verdict_t *v);
int probe_wrong_key(const probe_opts_t *o, verdict_t *v);
int probe_input_validation(const probe_opts_t *o, verdict_t *v);
int probe_error_messages(const probe_opts_t *o, verdict_t *v);

#endif
