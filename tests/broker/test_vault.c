/*  test_vault.c: the state-at-rest vault: key files (created owner-only with 32 random
    bytes, published whole even when several processes race to create one; refused when
    readable by others, of the wrong size or not a file), keyed token hashes, and sealed
    values (round trip, a fresh nonce each time, wrong key, wrong context, altered or cut
    bytes, buffers too small). */
#include "collab_spawn.h"
#include "testutil.h"
#include "vault.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_vault.XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[4][600];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static void write_bytes(const char *path, const void *p, size_t n, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n);
    if (fd >= 0)
        close(fd);
    CHECK(chmod(path, mode) == 0);
}

static void test_key_file_created(void)
{
    uint8_t k1[32], k2[32], zero[32] = {0};
    char err[600] = "";
    const char *path = tmp_path("new.key");
    CHECK_RC(collab_vault_key_file(path, false, k1, err, sizeof err), COLLAB_E_NOT_FOUND);
    CHECK(strstr(err, path) != NULL);
    CHECK_OK(collab_vault_key_file(path, true, k1, err, sizeof err));
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode));
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(st.st_size, 32);
    CHECK(memcmp(k1, zero, sizeof zero) != 0);
    /* an existing key is read, never replaced */
    CHECK_OK(collab_vault_key_file(path, true, k2, err, sizeof err));
    CHECK_MEM(k1, 32, k2, 32);
    /* no temporary file left beside it */
    char tmpl[700];
    snprintf(tmpl, sizeof tmpl, "ls %s | grep -c tmp- > /dev/null", tmpdir);
    CHECK(system(tmpl) != 0);
    unlink(path);
}

/*  In a child: creates (or reads) the key file at path and writes the key to fd. */
static int race_one(void *path, int fd)
{
    uint8_t k[32];
    char err[600];
    int rc = collab_vault_key_file(path, true, k, err, sizeof err);
    if (rc == 0 && write(fd, k, sizeof k) != (ssize_t)sizeof k)
        rc = -1;
    return rc == 0 ? 0 : 1;
}

/*  Eight processes create the same key file at once: all of them read the one key. */
static void test_key_file_race(void)
{
    const char *path = tmp_path("race.key");
    enum { N = 8 };
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE};
    collab_proc_t kids[N];
    for (int i = 0; i < N; i++)
        CHECK(collab_spawn_fn(&kids[i], race_one, (void *)path, &opts) == 0);
    uint8_t first[32], k[32];
    for (int i = 0; i < N; i++) {
        CHECK(collab_spawn_wait(&kids[i], -1) == 0 && collab_spawn_code(&kids[i]) == 0);
        CHECK(read(kids[i].out, i ? k : first, 32) == 32);
        if (i)
            CHECK_MEM(k, 32, first, 32);
        collab_spawn_close(&kids[i]);
    }
    unlink(path);
}

static void test_key_file_refused(void)
{
    uint8_t k[32], bytes[33] = {1, 2, 3};
    char err[600];
    const char *path = tmp_path("bad.key");
    write_bytes(path, bytes, 32, 0640);
    CHECK_RC(collab_vault_key_file(path, true, k, err, sizeof err), COLLAB_E_IO);
    CHECK(strstr(err, path) && strstr(err, "permissions") && strstr(err, "0640"));
    write_bytes(path, bytes, 32, 0604);
    CHECK_RC(collab_vault_key_file(path, false, k, err, sizeof err), COLLAB_E_IO);
    write_bytes(path, bytes, 31, 0600);
    CHECK_RC(collab_vault_key_file(path, true, k, err, sizeof err), COLLAB_E_IO);
    CHECK(strstr(err, "31 bytes") && strstr(err, "32"));
    write_bytes(path, bytes, 33, 0600);
    CHECK_RC(collab_vault_key_file(path, true, k, err, sizeof err), COLLAB_E_IO);
    write_bytes(path, bytes, 0, 0600);
    CHECK_RC(collab_vault_key_file(path, true, k, err, sizeof err), COLLAB_E_IO);
    unlink(path);
    CHECK_RC(collab_vault_key_file(tmpdir, true, k, err, sizeof err), COLLAB_E_IO); /* a dir */
    CHECK(strstr(err, "not a regular file") != NULL);
    CHECK_RC(collab_vault_key_file(tmp_path("no/dir/x.key"), true, k, err, sizeof err),
             COLLAB_E_IO);
    write_bytes(path, bytes, 32, 0400); /* read-only for its owner: fine */
    CHECK_OK(collab_vault_key_file(path, false, k, err, sizeof err));
    unlink(path);
}

static collab_vault_t *vault_of(uint8_t fill)
{
    uint8_t key[32];
    memset(key, fill, sizeof key);
    return collab_vault_new(key);
}

static void test_token_hash(void)
{
    collab_vault_t *a = vault_of(1), *b = vault_of(2);
    if (!CHECK(a && b))
        goto out;
    char h1[65], h2[65], h3[65], h4[65];
    const char *tok = "b3c9a6f2-0d4e-4f5a-8a7b-1c2d3e4f5a6b";
    collab_vault_token_hash(a, tok, strlen(tok), h1, sizeof h1);
    collab_vault_token_hash(a, tok, strlen(tok), h2, sizeof h2);
    collab_vault_token_hash(b, tok, strlen(tok), h3, sizeof h3);
    collab_vault_token_hash(a, tok, strlen(tok) - 1, h4, sizeof h4);
    CHECK_EQ_INT(strlen(h1), 64);
    CHECK(strspn(h1, "0123456789abcdef") == 64);
    CHECK_STR(h1, h2);                                    /* deterministic */
    CHECK(strcmp(h1, h3) != 0);                           /* keyed */
    CHECK(strcmp(h1, h4) != 0);                           /* the whole token counts */
    CHECK(strstr(h1, "b3c9") != h1);                      /* not the token */
    collab_vault_token_hash(a, tok, strlen(tok), h4, 64); /* too small: "" */
    CHECK_STR(h4, "");
    char c1[65], c2[65];
    collab_vault_key_check(a, c1, sizeof c1);
    collab_vault_key_check(b, c2, sizeof c2);
    CHECK(strlen(c1) == 64 && strcmp(c1, c2) != 0 && strcmp(c1, h1) != 0);
out:
    collab_vault_destroy(&a);
    collab_vault_destroy(&b);
    CHECK(a == NULL);
    collab_vault_destroy(&a);
}

static void test_seal(void)
{
    collab_vault_t *a = vault_of(7), *b = vault_of(8);
    const char *hash = "$2b$12$abcdefghijklmnopqrstuuJ6gm9lDU5uM0mYvZ3lYn3iWbY7N1eK.";
    char s1[512], s2[512], out[256];
    if (!CHECK(a && b))
        goto out;
    CHECK(collab_vault_sealed_size(7, strlen(hash)) <= sizeof s1);
    CHECK_OK(collab_vault_seal(a, "worker1", hash, s1, sizeof s1));
    CHECK_OK(collab_vault_seal(a, "worker1", hash, s2, sizeof s2));
    CHECK(collab_vault_is_sealed(s1) && strncmp(s1, "sb1:", 4) == 0);
    CHECK(strcmp(s1, s2) != 0);        /* a fresh nonce per value */
    CHECK(strstr(s1, "$2b$") == NULL); /* nothing of it in clear */
    CHECK(!collab_vault_is_sealed(hash));
    CHECK_OK(collab_vault_unseal(a, "worker1", s1, out, sizeof out));
    CHECK_STR(out, hash);
    CHECK_OK(collab_vault_unseal(a, "worker1", s2, out, sizeof out));
    CHECK_STR(out, hash);
    /* the wrong key, the wrong row */
    CHECK_RC(collab_vault_unseal(b, "worker1", s1, out, sizeof out), COLLAB_E_AUTH_FAILED);
    CHECK_STR(out, "");
    CHECK_RC(collab_vault_unseal(a, "worker2", s1, out, sizeof out), COLLAB_E_AUTH_FAILED);
    CHECK_RC(collab_vault_unseal(a, "worker", s1, out, sizeof out), COLLAB_E_AUTH_FAILED);
    /* altered: every position of the base64 */
    int opened = 0;
    for (size_t i = 4; i < strlen(s1); i++) {
        char t[512];
        snprintf(t, sizeof t, "%s", s1);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        opened += collab_vault_unseal(a, "worker1", t, out, sizeof out) == 0;
    }
    CHECK_EQ_INT(opened, 0);
    char cut[512];
    snprintf(cut, sizeof cut, "%.*s", (int)strlen(s1) - 3, s1);
    CHECK(collab_vault_unseal(a, "worker1", cut, out, sizeof out) != 0);
    CHECK_RC(collab_vault_unseal(a, "worker1", "sb1:", out, sizeof out), COLLAB_E_MALFORMED);
    CHECK_RC(collab_vault_unseal(a, "worker1", "sb1:!!!!", out, sizeof out), COLLAB_E_MALFORMED);
    CHECK_RC(collab_vault_unseal(a, "worker1", hash, out, sizeof out), COLLAB_E_MALFORMED);
    /* buffers too small */
    CHECK_RC(collab_vault_unseal(a, "worker1", s1, out, strlen(hash)), COLLAB_E_TOO_LARGE);
    CHECK_RC(collab_vault_seal(a, "worker1", hash, s2, 40), COLLAB_E_TOO_LARGE);
    /* empty values and contexts seal too */
    CHECK_OK(collab_vault_seal(a, "", "", s2, sizeof s2));
    CHECK_OK(collab_vault_unseal(a, "", s2, out, sizeof out));
    CHECK_STR(out, "");
out:
    collab_vault_destroy(&a);
    collab_vault_destroy(&b);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TU_RUN(test_key_file_created);
    TU_RUN(test_key_file_race);
    TU_RUN(test_key_file_refused);
    TU_RUN(test_token_hash);
    TU_RUN(test_seal);
    rmdir(tmpdir);
    return tu_exit("test_vault");
}
