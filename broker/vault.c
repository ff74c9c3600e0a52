/*  vault.c: key files, keyed token hashes and sealed values (see vault.h). Subkeys come
    from the master key through crypto_kdf (context "collabst"): 1 hashes tokens
    (BLAKE2b-256, keyed), 2 seals (crypto_secretbox), 3 is the key check stored in the
    state. A sealed value's plaintext is context || 0x00 || value. */
#include "vault.h"

#include "collab_error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_KDF_CONTEXT  "collabst"
#define VAULT_SUBKEY_HASH  1
#define VAULT_SUBKEY_SEAL  2
#define VAULT_SUBKEY_CHECK 3
#define VAULT_B64          sodium_base64_VARIANT_URLSAFE_NO_PADDING

struct collab_vault {
    uint8_t hash_key[crypto_generichash_KEYBYTES];
    uint8_t seal_key[crypto_secretbox_KEYBYTES];
    uint8_t check[32];
};

/* ---------------------------------------------------------------------------------------
   Key files */

static int fail(char *err, size_t errlen, int code, const char *path, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path, what);
    return code;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*  Makes the key's directory entry durable: a state sealed under a key that a power cut
    then loses would be unreadable. */
static void sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

/*  Writes 32 random bytes into a private temporary file and links it into place: link
    fails with EEXIST rather than replace a key someone else published meanwhile. */
static int create_key_file(const char *path, char *err, size_t errlen)
{
    char tmp[4200];
    uint8_t key[COLLAB_VAULT_KEY_LEN];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%08x", path, (long)getpid(),
                     (unsigned)randombytes_random());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return fail(err, errlen, COLLAB_E_IO, path, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return fail(err, errlen, COLLAB_E_IO, path, strerror(errno));
    randombytes_buf(key, sizeof key);
    int rc = write_all(fd, key, sizeof key) == 0 && fsync(fd) == 0 ? 0 : COLLAB_E_IO;
    sodium_memzero(key, sizeof key);
    int saved = errno;
    close(fd);
    if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST) {
        saved = errno;
        rc = COLLAB_E_IO;
    }
    unlink(tmp);
    if (rc)
        return fail(err, errlen, rc, path, strerror(saved));
    sync_dir(path);
    return 0;
}

static int check_and_read(int fd, const char *path, uint8_t key[COLLAB_VAULT_KEY_LEN], char *err,
                          size_t errlen)
{
    struct stat st;
    char why[160];
    if (fstat(fd, &st) != 0)
        return fail(err, errlen, COLLAB_E_IO, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return fail(err, errlen, COLLAB_E_IO, path, "not a regular file");
    if (st.st_mode & 077) {
        snprintf(why, sizeof why,
                 "key file has group or other permissions (mode 0%03o); it must be "
                 "owner-only: chmod 600 it",
                 (unsigned)(st.st_mode & 0777));
        return fail(err, errlen, COLLAB_E_IO, path, why);
    }
    if (st.st_size != COLLAB_VAULT_KEY_LEN) {
        snprintf(why, sizeof why, "key file is %lld bytes; a key file holds exactly %d",
                 (long long)st.st_size, COLLAB_VAULT_KEY_LEN);
        return fail(err, errlen, COLLAB_E_IO, path, why);
    }
    size_t got = 0;
    while (got < COLLAB_VAULT_KEY_LEN) {
        ssize_t r = read(fd, key + got, COLLAB_VAULT_KEY_LEN - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return fail(err, errlen, COLLAB_E_IO, path, "short read");
        got += (size_t)r;
    }
    return 0;
}

int collab_vault_key_file(const char *path, bool create, uint8_t key[COLLAB_VAULT_KEY_LEN],
                          char *err, size_t errlen)
{
    if (sodium_init() < 0)
        return fail(err, errlen, COLLAB_E_INTERNAL, path, "libsodium does not initialise");
    if (!path || !path[0])
        return fail(err, errlen, COLLAB_E_NOT_FOUND, "(key file)", "no path configured");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        int rc = create_key_file(path, err, errlen);
        if (rc)
            return rc;
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0)
        return fail(err, errlen, errno == ENOENT ? COLLAB_E_NOT_FOUND : COLLAB_E_IO, path,
                    errno == ENOENT ? "no such key file" : strerror(errno));
    int rc = check_and_read(fd, path, key, err, errlen);
    close(fd);
    if (rc)
        sodium_memzero(key, COLLAB_VAULT_KEY_LEN);
    return rc;
}

/* ---------------------------------------------------------------------------------------
   The vault */

collab_vault_t *collab_vault_new(const uint8_t key[COLLAB_VAULT_KEY_LEN])
{
    if (sodium_init() < 0)
        return NULL;
    collab_vault_t *self = sodium_malloc(sizeof *self);
    if (!self)
        return NULL;
    crypto_kdf_derive_from_key(self->hash_key, sizeof self->hash_key, VAULT_SUBKEY_HASH,
                               VAULT_KDF_CONTEXT, key);
    crypto_kdf_derive_from_key(self->seal_key, sizeof self->seal_key, VAULT_SUBKEY_SEAL,
                               VAULT_KDF_CONTEXT, key);
    crypto_kdf_derive_from_key(self->check, sizeof self->check, VAULT_SUBKEY_CHECK,
                               VAULT_KDF_CONTEXT, key);
    return self;
}

void collab_vault_destroy(collab_vault_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_free(*self_p); /* sodium_free wipes before it frees */
    *self_p = NULL;
}

void collab_vault_token_hash(const collab_vault_t *self, const char *token, size_t len, char *out,
                             size_t cap)
{
    uint8_t h[32];
    if (!out || cap < COLLAB_VAULT_HASH_HEX + 1) {
        if (out && cap)
            out[0] = '\0';
        return;
    }
    crypto_generichash(h, sizeof h, (const uint8_t *)token, len, self->hash_key,
                       sizeof self->hash_key);
    sodium_bin2hex(out, cap, h, sizeof h);
}

void collab_vault_key_check(const collab_vault_t *self, char *out, size_t cap)
{
    if (cap < COLLAB_VAULT_HASH_HEX + 1) {
        if (cap)
            out[0] = '\0';
        return;
    }
    sodium_bin2hex(out, cap, self->check, sizeof self->check);
}

/*  nonce || MAC || ciphertext of the plaintext context || 0 || value. */
static size_t raw_size(size_t plain_len)
{
    return crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain_len;
}

size_t collab_vault_sealed_size(size_t ctx_len, size_t len)
{
    return strlen(COLLAB_VAULT_SEALED_PREFIX) +
           sodium_base64_ENCODED_LEN(raw_size(ctx_len + 1 + len), VAULT_B64);
}

int collab_vault_seal(const collab_vault_t *self, const char *context, const char *plain, char *out,
                      size_t cap)
{
    size_t clen = strlen(context), vlen = strlen(plain), mlen = clen + 1 + vlen;
    size_t prefix = strlen(COLLAB_VAULT_SEALED_PREFIX);
    if (cap < collab_vault_sealed_size(clen, vlen)) {
        if (cap)
            out[0] = '\0';
        return COLLAB_E_TOO_LARGE;
    }
    uint8_t *msg = malloc(mlen), *raw = malloc(raw_size(mlen));
    if (!msg || !raw) {
        free(msg);
        free(raw);
        return COLLAB_E_NOMEM;
    }
    memcpy(msg, context, clen);
    msg[clen] = 0;
    memcpy(msg + clen + 1, plain, vlen);
    randombytes_buf(raw, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(raw + crypto_secretbox_NONCEBYTES, msg, mlen, raw, self->seal_key);
    memcpy(out, COLLAB_VAULT_SEALED_PREFIX, prefix);
    sodium_bin2base64(out + prefix, cap - prefix, raw, raw_size(mlen), VAULT_B64);
    sodium_memzero(msg, mlen);
    free(msg);
    free(raw);
    return 0;
}

bool collab_vault_is_sealed(const char *s)
{
    return s && strncmp(s, COLLAB_VAULT_SEALED_PREFIX, strlen(COLLAB_VAULT_SEALED_PREFIX)) == 0;
}

/*  Decrypts raw into msg (mlen bytes) and checks the context; 0 or a negative code. */
static int open_raw(const collab_vault_t *self, const char *context, const uint8_t *raw,
                    size_t raw_len, uint8_t *msg, size_t *mlen)
{
    if (raw_len < raw_size(0))
        return COLLAB_E_MALFORMED;
    *mlen = raw_len - raw_size(0);
    if (crypto_secretbox_open_easy(msg, raw + crypto_secretbox_NONCEBYTES,
                                   raw_len - crypto_secretbox_NONCEBYTES, raw, self->seal_key) != 0)
        return COLLAB_E_AUTH_FAILED;
    size_t clen = strlen(context);
    if (*mlen < clen + 1 || memcmp(msg, context, clen) != 0 || msg[clen] != 0)
        return COLLAB_E_AUTH_FAILED;
    return 0;
}

int collab_vault_unseal(const collab_vault_t *self, const char *context, const char *sealed,
                        char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!collab_vault_is_sealed(sealed))
        return COLLAB_E_MALFORMED;
    const char *b64 = sealed + strlen(COLLAB_VAULT_SEALED_PREFIX);
    size_t b64_len = strlen(b64), raw_cap = b64_len / 4 * 3 + 3, raw_len = 0, mlen = 0;
    uint8_t *raw = malloc(raw_cap), *msg = malloc(raw_cap);
    int rc = raw && msg ? 0 : COLLAB_E_NOMEM;
    if (rc == 0 &&
        sodium_base642bin(raw, raw_cap, b64, b64_len, NULL, &raw_len, NULL, VAULT_B64) != 0)
        rc = COLLAB_E_MALFORMED;
    if (rc == 0)
        rc = open_raw(self, context, raw, raw_len, msg, &mlen);
    size_t skip = strlen(context) + 1;
    if (rc == 0 && mlen - skip + 1 > cap)
        rc = COLLAB_E_TOO_LARGE;
    if (rc == 0) {
        memcpy(out, msg + skip, mlen - skip);
        out[mlen - skip] = '\0';
    }
    if (msg)
        sodium_memzero(msg, raw_cap);
    free(msg);
    free(raw);
    return rc;
}
