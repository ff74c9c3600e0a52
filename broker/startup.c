/*  startup.c: settings recorded in the state, and the state-side migrations (startup.h).
    state_at_rest: weak to strong seals in place (tokens hashed, secrets sealed, in one
    transaction with the record of it); strong to weak is refused, since a hashed token
    cannot be turned back into one that works. session_ids: weak to strong ends the sessions
    the predictable generator minted. Nothing is half done: every change, its audit lines'
    head and the new record commit together, or the broker stops with nothing changed. */
#include "startup.h"

#include "log.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int refuse(char *err, size_t errlen, const char *fmt,
                                                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return COLLAB_E_BAD_REQUEST;
}

static void meta_text(collab_store_t *store, const char *key, char *out, size_t cap)
{
    int n = collab_store_get_meta(store, key, out, cap - 1);
    out[n > 0 ? n : 0] = '\0';
}

static int put_text(collab_store_t *store, const char *key, const char *value)
{
    return collab_store_put_meta(store, key, value, strlen(value));
}

static int read_prior(collab_ctx_t *ctx, collab_prior_t *p, char *err, size_t errlen)
{
    char head[COLLAB_AUDIT_HEAD_TEXT + 1];
    memset(p, 0, sizeof *p);
    meta_text(ctx->store, "state_at_rest", p->at_rest, sizeof p->at_rest);
    meta_text(ctx->store, "state_key_check", p->key_check, sizeof p->key_check);
    meta_text(ctx->store, "session_ids", p->session_ids, sizeof p->session_ids);
    meta_text(ctx->store, "audit", p->audit, sizeof p->audit);
    meta_text(ctx->store, "audit_head", head, sizeof head);
    if (head[0] && collab_audit_head_parse(head, strlen(head), &p->head) != 0)
        return refuse(err, errlen, "%s: the audit head in its meta table is malformed",
                      ctx->cfg.state_path);
    return 0;
}

/*  The vault under the strong control, after the checks that the state allows it. */
static int open_vault(collab_ctx_t *ctx, const collab_prior_t *p, char *err, size_t errlen)
{
    const collab_config_t *c = &ctx->cfg;
    bool sealed = strcmp(p->at_rest, "sealed") == 0;
    if (!c->strong[COLLAB_CTL_STATE_AT_REST])
        return !sealed ? 0
                       : refuse(err, errlen,
                                "%s was written with state_at_rest = strong: its session tokens "
                                "are keyed hashes and its secrets are sealed, which a weak "
                                "broker cannot use. Run with --set state_at_rest=strong and the "
                                "key file it was sealed with, or start afresh with --reset-state",
                                c->state_path);
    uint8_t key[COLLAB_VAULT_KEY_LEN];
    char why[COLLAB_PATH_MAX + 160];
    int rc = collab_vault_key_file(c->state_key_file, !sealed, key, why, sizeof why);
    if (rc)
        return refuse(err, errlen, "state_at_rest.key_file %s%s", why,
                      sealed && rc == COLLAB_E_NOT_FOUND
                          ? " (the state file was sealed with it: restore it, or start afresh "
                            "with --reset-state)"
                          : "");
    ctx->vault = collab_vault_new(key);
    sodium_memzero(key, sizeof key);
    if (!ctx->vault)
        return refuse(err, errlen, "cannot set up the state key: out of memory");
    char check[COLLAB_VAULT_HASH_HEX + 1];
    collab_vault_key_check(ctx->vault, check, sizeof check);
    if (sealed && sodium_memcmp(check, p->key_check, sizeof check) != 0)
        return refuse(err, errlen,
                      "%s was sealed with another key than %s (the key check differs): use the "
                      "key file it was written with, or start afresh with --reset-state",
                      c->state_path, c->state_key_file);
    return 0;
}

/*  A migration, into the security log (its head joins the batch) and onto stderr. */
static void note(collab_ctx_t *ctx, const char *event, const char *detail, uint32_t sessions,
                 const char *k2, uint32_t n2)
{
    char a[16], b[16];
    snprintf(a, sizeof a, "%u", sessions);
    snprintf(b, sizeof b, "%u", n2);
    collab_seclog_emit(ctx->seclog, ctx->started_ms, event, "detail", detail, "sessions", a, k2, b,
                       NULL); /* k2 NULL: no second count */
    log_warning("%s: %s (%u sessions)", event, detail, sessions);
}

/*  Seals a plaintext state in place, or records that it stays plain. */
static int migrate_at_rest(collab_ctx_t *ctx, const collab_prior_t *p)
{
    char check[COLLAB_VAULT_HASH_HEX + 1];
    uint32_t sessions = 0, secrets = 0;
    if (!ctx->vault)
        return put_text(ctx->store, "state_at_rest", "plain");
    int rc = 0;
    collab_store_set_vault(ctx->store, ctx->vault); /* first: it turns on secure_delete */
    if (strcmp(p->at_rest, "sealed") != 0 && collab_store_is_shared(ctx->store)) {
        /* a cluster's state is written sealed from its first record; another broker's
           plaintext is not rewritten under it (docs/DISTRIBUTED.md: one profile per state) */
        collab_vault_key_check(ctx->vault, check, sizeof check);
        rc = put_text(ctx->store, "state_key_check", check);
    } else if (strcmp(p->at_rest, "sealed") != 0) {
        rc = collab_store_seal_at_rest(ctx->store, ctx->vault, &sessions, &secrets);
        if (rc == 0 && (p->at_rest[0] || sessions || secrets))
            note(ctx, "state_migrated",
                 "state_at_rest weak to strong: session tokens replaced by keyed hashes, "
                 "secrets sealed",
                 sessions, "secrets", secrets);
        collab_vault_key_check(ctx->vault, check, sizeof check);
        if (rc == 0)
            rc = put_text(ctx->store, "state_key_check", check);
    }
    return rc ? rc : put_text(ctx->store, "state_at_rest", "sealed");
}

/*  Strong session ids: a session the predictable generator minted must not outlive it. */
static int migrate_session_ids(collab_ctx_t *ctx, const collab_prior_t *p)
{
    bool strong = ctx->cfg.strong[COLLAB_CTL_SESSION_IDS];
    uint32_t dropped = 0;
    int rc = 0;
    if (strong && strcmp(p->session_ids, "strong") != 0 && !collab_store_is_shared(ctx->store)) {
        rc = collab_store_drop_sessions(ctx->store, &dropped);
        if (rc == 0 && dropped)
            note(ctx, "sessions_dropped",
                 "session_ids weak to strong: sessions from the predictable generator end", dropped,
                 NULL, 0);
    }
    return rc ? rc : put_text(ctx->store, "session_ids", strong ? "strong" : "weak");
}

int collab_startup(collab_ctx_t *ctx, char *err, size_t errlen)
{
    collab_prior_t prior;
    int rc = read_prior(ctx, &prior, err, errlen);
    if (rc == 0)
        rc = open_vault(ctx, &prior, err, errlen);
    if (rc == 0)
        rc = collab_auditlog_open(ctx, &prior, err, errlen);
    if (rc) {
        collab_store_rollback(ctx->store); /* the broker stops: nothing of it is kept */
        return rc;
    }
    if ((rc = migrate_at_rest(ctx, &prior)) == 0)
        rc = migrate_session_ids(ctx, &prior);
    if (rc == 0)
        rc = collab_store_commit(ctx->store);
    if (rc) {
        collab_store_rollback(ctx->store);
        return refuse(err, errlen, "%s: cannot record the settings or migrate (%s)",
                      ctx->cfg.state_path, collab_strerror(rc));
    }
    if (strcmp(prior.at_rest, "sealed") != 0 && ctx->vault && !collab_store_is_shared(ctx->store))
        collab_store_scrub(ctx->store); /* the plaintext's old pages out of the WAL */
    return 0;
}
