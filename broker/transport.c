/*  transport.c: CURVE and ZAP for the broker's ROUTER (see transport.h). zauth is CZMQ's own
    ZAP handler: CZMQ 4.2's answers a CURVE client it allows with User-Id = the client's
    Z85 public key, so the broker needs no handler of its own to learn who is connected. */
#include "transport.h"

#include "certfile.h"
#include "collab_error.h"
#include "log.h"

#include <czmq.h>
#include <dirent.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/*  Why a handshake was refused, and how the security log says it. */
enum { R_KEY, R_ZAP, R_MECHANISM, R_CRYPTO, R_PROTOCOL, R_OTHER, REASON_COUNT };
static const char *const reasons[REASON_COUNT] = {
    [R_KEY] = "key_not_allowed",          [R_ZAP] = "zap_error",
    [R_MECHANISM] = "mechanism_mismatch", [R_CRYPTO] = "cryptographic_error",
    [R_PROTOCOL] = "protocol_error",      [R_OTHER] = "handshake_failed"};

struct collab_transport {
    bool curve;
    zactor_t *auth;   /* zauth, bound to inproc://zeromq.zap.01 in CZMQ's context */
    uint64_t refused; /* handshakes refused */
    /* no security-log line about a refusal for this reason before this time */
    uint64_t next_log_ms[REASON_COUNT];
};

/*  Frees a certificate after wiping its secret key. CZMQ lends its buffers as const;
    they are the cert's own. */
static void drop_cert(zcert_t **cert_p)
{
    zcert_t *cert = *cert_p;
    if (!cert)
        return;
    sodium_memzero((void *)zcert_secret_key(cert), 32);
    sodium_memzero((void *)zcert_secret_txt(cert), strlen(zcert_secret_txt(cert)));
    zcert_destroy(cert_p);
}

/*  The broker's certificate pair ("X" and "X_secret"), or NULL with the reason in err. */
static zcert_t *load_server_cert(const char *path, char *err, size_t errlen)
{
    collab_cert_keys_t k;
    zcert_t *cert = NULL;
    if (collab_cert_load(path, true, &k) != 0)
        snprintf(err, errlen, "transport.server_cert: cannot load %s (a CZMQ certificate)", path);
    else if (!k.has_secret)
        snprintf(err, errlen, "transport.server_cert: %s_secret holds no secret key", path);
    else if (!(cert = zcert_new_from(k.public_key, k.secret_key)))
        snprintf(err, errlen, "transport.server_cert: out of memory");
    sodium_memzero(&k, sizeof k);
    return cert;
}

int collab_transport_check_cert(const char *path, char public_txt[COLLAB_CURVE_KEY_TXT], char *err,
                                size_t errlen)
{
    zcert_t *cert = load_server_cert(path, err, errlen);
    if (!cert)
        return -1;
    snprintf(public_txt, COLLAB_CURVE_KEY_TXT, "%s", zcert_public_txt(cert));
    drop_cert(&cert);
    return 0;
}

/*  Makes the socket a CURVE server with the pair; the secret key lives on in the socket. */
static void apply_server_cert(zcert_t *cert, zsock_t *sock)
{
    zcert_apply(cert, sock);
    zsock_set_curve_server(sock, 1);
    zsock_set_zap_domain(sock, "taskcollab");
    log_info("transport: CURVE server, public key %s", zcert_public_txt(cert));
}

/*  Counts the public certificates of the allowed directory, for the log, and warns about
    secret ones: zauth would allow those too, but the broker has no business holding an
    agent's secret key. */
static int count_clients(const char *dir, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "transport.clients_dir: cannot open %s", dir);
        return -1;
    }
    int n = 0;
    char path[COLLAB_PATH_MAX + 256];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (len > 7 && strcmp(e->d_name + len - 7, "_secret") == 0) {
            log_warning("transport: %s/%s is a secret certificate: it belongs to its agent only",
                        dir, e->d_name);
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        collab_cert_keys_t k;
        if (collab_cert_load(path, false, &k) == 0)
            n++;
        else
            log_warning("transport: %s is not a certificate: take it out of %s", path, dir);
        sodium_memzero(&k, sizeof k);
    }
    closedir(d);
    return n;
}

static int start_zauth(collab_transport_t *self, const char *dir, char *err, size_t errlen)
{
    int clients = count_clients(dir, err, errlen);
    if (clients < 0)
        return COLLAB_E_IO;
    if (clients == 0)
        log_warning("transport: no client certificate in %s: every agent will be refused", dir);
    self->auth = zactor_new(zauth, NULL);
    if (!self->auth || zstr_sendx(self->auth, "CURVE", dir, NULL) != 0 ||
        zsock_wait(self->auth) != 0) {
        snprintf(err, errlen, "transport: cannot start ZAP authentication (zauth)");
        return COLLAB_E_IO;
    }
    log_info("transport: %d allowed client certificate(s) in %s", clients, dir);
    return 0;
}

collab_transport_t *collab_transport_new(const collab_config_t *cfg, void *router, char *err,
                                         size_t errlen)
{
    collab_transport_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->curve = cfg->strong[COLLAB_CTL_TRANSPORT];
    if (!self->curve)
        return self;
    if (!zsys_has_curve()) {
        snprintf(err, errlen, "transport = strong needs a libzmq built with CURVE");
        goto fail;
    }
    /* zauth before the CURVE role: a CURVE server with no ZAP handler in its context
       would accept any client */
    zcert_t *cert = load_server_cert(cfg->curve_server_cert, err, errlen);
    if (!cert || start_zauth(self, cfg->curve_clients_dir, err, errlen) != 0) {
        drop_cert(&cert);
        goto fail;
    }
    apply_server_cert(cert, router);
    drop_cert(&cert);
    return self;
fail:
    collab_transport_destroy(&self);
    return NULL;
}

void collab_transport_destroy(collab_transport_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_transport_t *self = *self_p;
    zactor_destroy(&self->auth);
    free(self);
    *self_p = NULL;
}

bool collab_transport_curve(const collab_transport_t *self)
{
    return self && self->curve;
}

int collab_transport_monitor_events(const collab_transport_t *self)
{
    if (!collab_transport_curve(self))
        return 0;
    return ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
}

/*  The reason of a refused handshake's event, or -1 for another event. */
static int refusal_reason(uint16_t event, uint32_t value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) /* value: the ZAP status code */
        return value == 400 ? R_KEY : R_ZAP;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
            return R_MECHANISM; /* a plaintext (NULL) client */
        if (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC)
            return R_CRYPTO; /* e.g. a client with the wrong server key */
        return R_PROTOCOL;
    }
    return event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ? R_OTHER : -1;
}

const char *collab_transport_on_event(collab_transport_t *self, uint16_t event, uint32_t value,
                                      uint64_t now_ms, bool *log_due)
{
    *log_due = false;
    int why = self ? refusal_reason(event, value) : -1;
    if (why < 0)
        return NULL;
    self->refused++;
    if (now_ms >= self->next_log_ms[why]) {
        *log_due = true;
        self->next_log_ms[why] = now_ms + 1000;
    }
    return reasons[why];
}

uint64_t collab_transport_refused(const collab_transport_t *self)
{
    return self ? self->refused : 0;
}

void collab_transport_peer_key(void *msg, char key[COLLAB_CURVE_KEY_TXT])
{
    const char *id = zmq_msg_gets(msg, "User-Id");
    if (id && strlen(id) == COLLAB_CURVE_KEY_TXT - 1)
        memcpy(key, id, COLLAB_CURVE_KEY_TXT);
    else
        key[0] = '\0';
}
