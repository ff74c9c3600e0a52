/*  store_atrest.c: the store's migrations between settings (see store.h): a state written
    with plaintext tokens and secrets is sealed in place; sessions minted by the weak id
    generator are dropped. Both run inside the batch transaction the caller commits. Rows
    are read into memory first and rewritten after: updating a primary key while a SELECT
    walks the same table could visit a moved row twice (and hash a hash). */
#include "store.h"

#include "collab_error.h"
#include "store_schema.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/*  Two text columns of each row of a query, in two heap arrays. */
typedef struct {
    char (*a)[COLLAB_MAX_SESSION_ID + 1];
    char (*b)[512];
    size_t n, cap;
} pairs_t;

static void pairs_free(pairs_t *p)
{
    if (p->b)
        memset(p->b, 0, p->cap * sizeof *p->b); /* they held secrets */
    free(p->a);
    free(p->b);
    memset(p, 0, sizeof *p);
}

static int pairs_add(pairs_t *p, const unsigned char *a, const unsigned char *b)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        void *na = realloc(p->a, cap * sizeof *p->a),
             *nb = na ? realloc(p->b, cap * sizeof *p->b) : NULL;
        if (na)
            p->a = na;
        if (!na || !nb)
            return COLLAB_E_NOMEM;
        p->b = nb;
        p->cap = cap;
    }
    size_t la = a ? strlen((const char *)a) : 0, lb = b ? strlen((const char *)b) : 0;
    if (la >= sizeof *p->a || lb >= sizeof *p->b)
        return COLLAB_E_IO; /* not a row this broker wrote */
    memcpy(p->a[p->n], a ? (const char *)a : "", la + 1);
    memcpy(p->b[p->n], b ? (const char *)b : "", lb + 1);
    p->n++;
    return 0;
}

static int read_pairs(sqlite3 *db, const char *sql, pairs_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK ? 0 : COLLAB_E_IO, step;
    while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW)
        rc = pairs_add(out, sqlite3_column_text(st, 0), sqlite3_column_text(st, 1));
    if (rc == 0 && step != SQLITE_DONE)
        rc = COLLAB_E_IO;
    sqlite3_finalize(st);
    return rc;
}

/*  Runs sql with two text parameters for each pair, as rewritten by fn. */
static int rewrite(sqlite3 *db, const char *sql, pairs_t *rows,
                   int (*fn)(const collab_vault_t *v, char *a, char *b, char *out, size_t cap),
                   const collab_vault_t *vault, uint32_t *changed)
{
    sqlite3_stmt *st = NULL;
    char out[512];
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK ? 0 : COLLAB_E_IO;
    for (size_t i = 0; rc == 0 && i < rows->n; i++) {
        int r = fn(vault, rows->a[i], rows->b[i], out, sizeof out);
        if (r > 0)
            continue; /* nothing to change in this row */
        if ((rc = r) != 0)
            break;
        if (sqlite3_bind_text(st, 1, out, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
            sqlite3_bind_text(st, 2, rows->a[i], -1, SQLITE_STATIC) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_DONE)
            rc = COLLAB_E_IO;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        (*changed)++;
    }
    memset(out, 0, sizeof out);
    sqlite3_finalize(st);
    return rc;
}

static int hash_token(const collab_vault_t *v, char *token, char *unused, char *out, size_t cap)
{
    (void)unused;
    collab_vault_token_hash(v, token, strlen(token), out, cap);
    return 0;
}

static int seal_hash(const collab_vault_t *v, char *agent_id, char *hash, char *out, size_t cap)
{
    if (!hash[0] || collab_vault_is_sealed(hash))
        return 1;
    return collab_vault_seal(v, agent_id, hash, out, cap);
}

int collab_store_seal_at_rest(collab_store_t *self, const collab_vault_t *vault, uint32_t *sessions,
                              uint32_t *secrets)
{
    sqlite3 *db = collab_store_db(self);
    pairs_t tokens = {0}, hashes = {0};
    *sessions = *secrets = 0;
    if (!db)
        return COLLAB_E_INTERNAL; /* a start-up migration, not for a running broker */
    int rc = collab_store_begin(self);
    if (rc == 0)
        rc = read_pairs(db, "SELECT token, '' FROM sessions", &tokens);
    if (rc == 0)
        rc = rewrite(db, "UPDATE sessions SET token = ?1 WHERE token = ?2", &tokens, hash_token,
                     vault, sessions);
    if (rc == 0)
        rc = read_pairs(db, "SELECT agent_id, pw_hash FROM agents", &hashes);
    if (rc == 0)
        rc = rewrite(db, "UPDATE agents SET pw_hash = ?1 WHERE agent_id = ?2", &hashes, seal_hash,
                     vault, secrets);
    pairs_free(&tokens);
    pairs_free(&hashes);
    return rc;
}

int collab_store_drop_sessions(collab_store_t *self, uint32_t *dropped)
{
    sqlite3 *db = collab_store_db(self);
    *dropped = 0;
    if (!db)
        return COLLAB_E_INTERNAL;
    if (collab_store_begin(self) != 0 ||
        sqlite3_exec(db, "DELETE FROM sessions", NULL, NULL, NULL) != SQLITE_OK)
        return COLLAB_E_IO;
    *dropped = (uint32_t)sqlite3_changes(db);
    return 0;
}

int collab_store_scrub(collab_store_t *self)
{
    if (!collab_store_db(self))
        return COLLAB_E_INTERNAL;
    if (collab_store_in_batch(self))
        return COLLAB_E_IO;
    /* VACUUM rebuilds the file from the live rows only: no stale copy in a free block */
    return sqlite3_exec(collab_store_db(self), "VACUUM; PRAGMA wal_checkpoint(TRUNCATE)", NULL,
                        NULL, NULL) == SQLITE_OK
               ? 0
               : COLLAB_E_IO;
}
