/*  certfile.h: CURVE certificate files, in CZMQ's format (what collab-keygen and zcert_save
    write: a "curve" section with "public-key" and, in the "_secret" file, "secret-key", 40
    Z85 characters each), read for the agents and the broker. Not with zcert_load or
    zconfig_load: CZMQ 4.2.1's zconfig_load leaks its file object on every file it cannot
    parse, which fuzzing found; this reads the file itself, bounded, and parses it in memory
    (zconfig_str_load), wiping the secret key's text on the way. */
#ifndef COLLAB_CERTFILE_H
#define COLLAB_CERTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLLAB_CERT_FILE_MAX (64 * 1024) /* a certificate is a few hundred bytes */

typedef struct {
    uint8_t public_key[32];
    uint8_t secret_key[32]; /* all zero when the certificate holds none */
    bool has_secret;
} collab_cert_keys_t;

/*  Parses len bytes of certificate text (no NUL needed; a NUL ends the text). Returns 0 with
    the keys when it holds a valid public key (a secret key only counts when it is valid
    too), -1 otherwise. The caller wipes keys->secret_key when done. */
int collab_cert_parse(const char *text, size_t len, collab_cert_keys_t *keys);

/*  Loads the certificate file at path; with pair, "PATH_secret" first when it exists, as
    zcert_load does ("X" and "X_secret", or "X_secret" itself). Returns 0, or -1 when no
    file could be read or none holds a valid public key. */
int collab_cert_load(const char *path, bool pair, collab_cert_keys_t *keys);

#endif
