/*  lg_setup.h: what the load generator does before timing starts, one synchronous request
    at a time: logging connections in and creating the objects the loads work on. */
#ifndef LG_SETUP_H
#define LG_SETUP_H

#include "lg_conn.h"

/*  Logs connection c in as agent (key: its HMAC key) and keeps the session and the
    controls the reply announced in c->id. Returns 0 or a negative collab_err_t. */
int lg_login(lg_conn_t *c, const char *agent, const char *password,
             const uint8_t key[COLLAB_KEY_LEN]);

/*  Sends one request as c->id (signed as its controls say) and waits for the reply; when
    key is not NULL, reads that uint field of the reply's data into *out. Returns 0, the
    reply's error code or COLLAB_E_TIMEOUT. */
int lg_rpc(lg_conn_t *c, int action, const uint8_t *payload, size_t plen, const char *key,
           uint64_t *out);

/*  A session id of the given length for runs against the echo server (never checked). */
void lg_fake_session(char *out, size_t len);

#endif
