/*  client_curve.c: an agent's CURVE settings (see collab_client_load_curve): the broker's
    public key, given as Z85 text or a certificate file, and the agent's own key pair. */
#include "collab_client.h"
#include "certfile.h"

#include <czmq.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>

/*  A certificate file's public key, read from that file only: a pair's loader would read a
    "_secret" file beside it first, and the broker's secret key has no business here. */
static int public_from_file(const char *path, uint8_t key[COLLAB_CURVE_KEY_LEN], char *err,
                            size_t errlen)
{
    collab_cert_keys_t k;
    int rc = collab_cert_load(path, false, &k) == 0 ? 0 : COLLAB_E_MALFORMED;
    if (rc)
        snprintf(err, errlen, "%s: %s", path,
                 "cannot read it, or no curve public-key in this certificate");
    else
        memcpy(key, k.public_key, COLLAB_CURVE_KEY_LEN);
    sodium_memzero(&k, sizeof k);
    return rc;
}

static int server_key(const char *server, uint8_t key[COLLAB_CURVE_KEY_LEN], char *err,
                      size_t errlen)
{
    struct stat st;
    if (stat(server, &st) == 0)
        return public_from_file(server, key, err, errlen);
    if (strlen(server) == 40 && zmq_z85_decode(key, server))
        return 0;
    snprintf(err, errlen, "broker key '%s': neither a certificate file nor 40 Z85 characters",
             server);
    return COLLAB_E_MALFORMED;
}

static int own_pair(collab_client_opts_t *o, const char *path, char *err, size_t errlen)
{
    collab_cert_keys_t k; /* "X_secret" itself, or the one beside "X" */
    if (collab_cert_load(path, true, &k) != 0) {
        snprintf(err, errlen, "%s: cannot read this certificate", path);
        return COLLAB_E_IO;
    }
    int rc = 0;
    if (!k.has_secret) {
        snprintf(err, errlen, "%s: no secret key (give the agent's _secret certificate)", path);
        rc = COLLAB_E_MALFORMED;
    } else {
        memcpy(o->curve_public, k.public_key, COLLAB_CURVE_KEY_LEN);
        memcpy(o->curve_secret, k.secret_key, COLLAB_CURVE_KEY_LEN);
    }
    sodium_memzero(&k, sizeof k);
    return rc;
}

int collab_client_load_curve(collab_client_opts_t *o, const char *server, const char *cert,
                             char *err, size_t errlen)
{
    o->curve = false;
    if (!zsys_has_curve()) {
        snprintf(err, errlen, "this libzmq has no CURVE support");
        return COLLAB_E_BAD_REQUEST;
    }
    int rc = server_key(server, o->curve_server, err, errlen);
    if (rc == 0)
        rc = own_pair(o, cert, err, errlen);
    o->curve = rc == 0;
    return rc;
}
