/*  transport.h: the transport control (LAB.md #12). Weak: ZMTP's NULL mechanism, nothing
    to set up. Strong: the ROUTER is a CURVE server, and every client's public key is checked
    over ZAP (RFC 27) by CZMQ's zauth actor against a directory of allowed certificates. */
#ifndef COLLAB_TRANSPORT_H
#define COLLAB_TRANSPORT_H

#include "config.h"
#include "model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct collab_transport collab_transport_t;

/*  Prepares router (a zsock_t *, not yet bound) as cfg's transport control says. Under the
    strong setting it starts zauth in CZMQ's context (the one every zsock lives in), allows
    the certificates of cfg->curve_clients_dir, and applies the certificate pair at
    cfg->curve_server_cert ("X" and "X_secret") with the CURVE server role. zauth (CZMQ
    4.2) answers ZAP with User-Id = the client's Z85 public key, which every message from
    that connection then carries (collab_transport_peer_key). Returns a new object, which
    the caller destroys after closing the socket, or NULL with the reason in err. */
collab_transport_t *collab_transport_new(const collab_config_t *cfg, void *router, char *err,
                                         size_t errlen);

/*  Loads the certificate pair at path as collab_transport_new does (zcert_load: "X_secret",
    else "X"), checks that it holds a secret key, and wipes that again: 0 with the public
    key's Z85 text in public_txt, or -1 with the reason in err. */
int collab_transport_check_cert(const char *path, char public_txt[COLLAB_CURVE_KEY_TXT], char *err,
                                size_t errlen);

/*  Stops zauth and wipes the server's secret key. NULL-safe, idempotent. */
void collab_transport_destroy(collab_transport_t **self_p);

/*  True when connections use CURVE. */
bool collab_transport_curve(const collab_transport_t *self);

/*  The socket-monitor events (ZMQ_EVENT_*) through which refused handshakes show; 0 when
    weak. */
int collab_transport_monitor_events(const collab_transport_t *self);

/*  Interprets one socket-monitor event. A refused handshake is counted and its reason
    returned ("key_not_allowed", "mechanism_mismatch", "cryptographic_error",
    "handshake_failed"); anything else gives NULL. *log_due is set for at most one refusal
    a second for each reason, so that a refused client, which libzmq reconnects every
    100 ms, cannot flood the security log. */
const char *collab_transport_on_event(collab_transport_t *self, uint16_t event, uint32_t value,
                                      uint64_t now_ms, bool *log_due);

/*  Handshakes refused since the start. */
uint64_t collab_transport_refused(const collab_transport_t *self);

/*  Copies the CURVE public key of the connection a message came from (its "User-Id"
    property) into key, or "" when there is none (NULL mechanism) or it is not 40 Z85
    characters. msg is a zmq_msg_t *. */
void collab_transport_peer_key(void *msg, char key[COLLAB_CURVE_KEY_TXT]);

#endif
