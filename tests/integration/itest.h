/*  itest.h: small helpers shared by the integration tests: a logged-in client in one
    call, and requests whose payload is given as a packing function. */
#ifndef ITEST_H
#define ITEST_H

#include "brokerproc.h"
#include "collab_client.h"
#include "testutil.h"

#include <czmq.h>

/*  testutil.h keeps its counters in statics, so the checks made inside itest.c are
    counted apart from the test program's: it_begin names the test case for both, and
    it_exit adds the helpers' failures to the program's before printing the summary. */
void it_set_current(const char *name);
int it_helper_checks(void);
int it_helper_failures(void);

static inline void it_begin(const char *name)
{
    tu_current = name;
    it_set_current(name);
}

/*  Stops a running broker and checks that it exits 0: a clean shutdown, and under the
    sanitizers no leak or error report on the way out. */
static inline void it_stop(broker_proc_t *b)
{
    if (b->pid > 0) {
        int status = broker_stop(b);
        CHECK_EQ_INT(status, 0);
    }
}

static inline int it_exit(const char *program)
{
    tu_checks += it_helper_checks();
    tu_failures += it_helper_failures();
    return tu_exit(program);
}

/*  A client for agent_id with the test credentials file's password and key; logged in
    when login is true (a failed login is a test failure and returns NULL). */
collab_client_t *it_client(const broker_proc_t *b, const char *agent_id, bool login);

/*  The demo password of an agent in test_credentials.json. */
const char *it_password(const char *agent_id);

/*  Sends action with a payload made of NULL-terminated "key", "s:string" / "u:123" /
    "b:true" pairs, and returns the reply's code (0 when ok), or COLLAB_E_TIMEOUT. An ok
    reply is kept in *reply when reply is not NULL (the caller frees it); after an error
    *reply is empty (freeing it anyway is harmless). */
int it_call(collab_client_t *c, collab_reply_t *reply, const char *action, ...);

/*  Reads an unsigned field of a reply's data (0 when absent). */
uint64_t it_u64(const collab_reply_t *r, const char *key);

/*  True when the map's field key is a str equal to want. */
bool it_str_is(const collab_map_t *m, const char *key, const char *want);

/*  Arrays of maps in a reply (sessions, agents, workers, projects): the length, the i-th
    element parsed into *out, and the first element whose str field equals value.
    Return 0 or a negative code (COLLAB_E_NOT_FOUND past the end / when absent). */
uint32_t it_array_len(const collab_map_t *m, const char *key);
int it_array_map_at(const collab_map_t *m, const char *key, uint32_t i, collab_map_t *out);
int it_find_in_array(const collab_map_t *m, const char *key, const char *field, const char *value,
                     collab_map_t *out);

/*  Packs a payload map from NULL-terminated pairs as it_call takes them. Returns the
    length, or 0 when it does not fit in cap. */
size_t it_pack(uint8_t *buf, size_t cap, ...);

/*  "u:123" for an id, in a caller's buffer of at least 24 bytes (for it_call's pairs). */
const char *it_u(char *buf, uint64_t v);

/*  Conveniences over it_call that return the new id, or 0 after recording a failure. */
uint64_t it_create_project(collab_client_t *c, const char *name);
uint64_t it_assign_task(collab_client_t *c, uint64_t project_id, const char *worker,
                        const char *title);
/*  list_projects' total as this client sees it (UINT64_MAX when the call fails). */
uint64_t it_project_total(collab_client_t *c);
/*  The session's handle, from get_session_info (0 when the call fails). */
uint64_t it_handle(collab_client_t *c);

/*  Waits up to timeout_ms for the next event and checks its name; returns its seq or 0. */
uint64_t it_expect_event(collab_client_t *c, const char *name, int timeout_ms,
                         collab_event_msg_t *keep);

/*  The agent's HMAC key from the test credentials file (a failure is a test failure). */
void it_key(const broker_proc_t *b, const char *agent_id, uint8_t key[COLLAB_KEY_LEN]);

uint64_t it_now_ms(void);

/* ---- Raw sockets: requests encoded by hand, for everything the client library is too
   polite to send (garbage, extra frames, forged signatures, stale timestamps, another
   agent's session, another source address). ---- */

/*  A DEALER connected to endpoint ("tcp://SRC:0;HOST:PORT" sends from SRC). */
zsock_t *it_raw_new(const char *endpoint);

/*  One request as the wire carries it. Zero fields take defaults: version 1, timestamp
    now, payload {}. With key set it is signed under the weak scope (PROTOCOL.md 4.1). */
typedef struct {
    uint64_t request_id;
    uint32_t version; /* 0: 1 */
    const char *action, *agent_id, *session_id;
    uint64_t timestamp; /* 0: now */
    const void *payload;
    size_t payload_len;
    const uint8_t *key;
} it_req_t;

/*  Encodes (and signs) r into out. Returns the frame's length, or 0. */
size_t it_encode(const it_req_t *r, uint8_t *out, size_t cap);

/*  Sends one frame, with ZMQ_SNDMORE when more. Returns 0 or -1. */
int it_raw_send(zsock_t *s, const void *bytes, size_t len, bool more);

/*  One message received on a raw socket: its bytes, the envelope viewing them and the
    data map of a reply or event. Large: allocate it statically or on the heap. */
typedef struct {
    uint8_t bytes[2 * COLLAB_MAX_FRAME];
    size_t len;
    collab_envelope_t env;
    collab_map_t data;
} it_msg_t;

/*  Receives the next frame within timeout_ms and decodes it: 0, COLLAB_E_TIMEOUT, or the
    decoding error. */
int it_raw_recv(zsock_t *s, it_msg_t *m, int timeout_ms);

/*  Waits for the reply carrying request_id, skipping events and other replies. Returns
    the reply's code (0 for ok, else the negative error) or COLLAB_E_TIMEOUT. */
int it_raw_reply(zsock_t *s, uint64_t request_id, it_msg_t *m, int timeout_ms);

/*  Encodes r, sends it and waits (5 s) for its reply; m may be NULL. Returns its code. */
int it_raw_call(zsock_t *s, const it_req_t *r, it_msg_t *m);

/*  Sends arbitrary bytes as one frame and waits for the next reply, whatever its id;
    returns its code. m may be NULL. */
int it_raw_bytes(zsock_t *s, const void *bytes, size_t len, it_msg_t *m);

#endif
