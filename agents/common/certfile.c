/*  certfile.c: CURVE certificate files (see certfile.h). */
#include "certfile.h"

#include <czmq.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  40 Z85 characters into 32 bytes. */
static bool z85_key(const char *txt, uint8_t key[32])
{
    return txt && strlen(txt) == 40 && zmq_z85_decode(key, txt) != NULL;
}

int collab_cert_parse(const char *text, size_t len, collab_cert_keys_t *keys)
{
    memset(keys, 0, sizeof *keys);
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    zconfig_t *root = zconfig_str_load(copy);
    sodium_memzero(copy, len);
    free(copy);
    if (!root)
        return -1;
    int rc = z85_key(zconfig_get(root, "curve/public-key", NULL), keys->public_key) ? 0 : -1;
    zconfig_t *secret = zconfig_locate(root, "curve/secret-key");
    char *stxt = secret ? zconfig_value(secret) : NULL;
    if (rc == 0 && z85_key(stxt, keys->secret_key))
        keys->has_secret = true;
    else
        sodium_memzero(keys->secret_key, sizeof keys->secret_key);
    if (stxt)
        sodium_memzero(stxt, strlen(stxt)); /* the tree's own copy of the secret's text */
    zconfig_destroy(&root);
    return rc;
}

/*  The file at path, NUL-terminated, at most COLLAB_CERT_FILE_MAX bytes; NULL otherwise. */
static char *read_small(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(COLLAB_CERT_FILE_MAX + 1) : NULL;
    size_t n = buf ? fread(buf, 1, COLLAB_CERT_FILE_MAX + 1, f) : 0;
    bool ok = buf && !ferror(f) && n <= COLLAB_CERT_FILE_MAX;
    if (f)
        fclose(f);
    if (!ok) {
        if (buf)
            sodium_memzero(buf, n);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/*  Reads and parses one file; -1 when it cannot be read or is not a certificate. */
static int load_one(const char *path, collab_cert_keys_t *keys)
{
    size_t len = 0;
    char *text = read_small(path, &len);
    if (!text)
        return -1;
    int rc = collab_cert_parse(text, len, keys);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

int collab_cert_load(const char *path, bool pair, collab_cert_keys_t *keys)
{
    memset(keys, 0, sizeof *keys);
    if (pair) { /* as zcert_load: the secret file, else the file itself */
        char *secret = malloc(strlen(path) + sizeof "_secret");
        int rc = -1;
        if (secret) {
            sprintf(secret, "%s_secret", path);
            rc = load_one(secret, keys);
            free(secret);
        }
        if (rc == 0)
            return 0;
    }
    return load_one(path, keys);
}
