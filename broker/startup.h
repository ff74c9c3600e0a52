/*  startup.h: what the broker does before it serves, between opening the state file and
    loading it, so that controls 5 (state at rest), 1 (session ids) and 14 (audit) hold for
    a state and a log written under other settings (LAB.md item 15). The state's meta
    records which settings wrote it:

        state_at_rest    "plain" | "sealed"      (the setting that wrote the tokens/secrets)
        state_key_check  64 hex digits           (identifies the key of a sealed state)
        session_ids      "weak" | "strong"       (the generator of the sessions stored)
        audit            "plain" | "chained"     (how the security log is written)
        audit_head       "SEQ:MACHEX"            (the chain's head, audit.h)

    A change is migrated where it can be done completely, and refused (exit 2, with what to
    do) where it cannot: see startup.c and auditlog.c. */
#ifndef COLLAB_STARTUP_H
#define COLLAB_STARTUP_H

#include "ctx.h"

/*  The settings the state's meta says wrote it ("" when it does not say: a new state, or
    one written before the settings were recorded). */
typedef struct {
    char at_rest[16];
    char key_check[COLLAB_VAULT_HASH_HEX + 1];
    char session_ids[16];
    char audit[16];
    collab_audit_head_t head; /* seq 0: none */
} collab_prior_t;

/*  Reads the prior settings, refuses what cannot be honoured, opens the security log
    (self->seclog) and the vault (self->vault), migrates, records the settings in force and
    commits all of it in one transaction. Returns 0, or a negative code with a message for
    people in err (the broker then exits 2). Call before the state is loaded. */
int collab_startup(collab_ctx_t *self, char *err, size_t errlen);

/*  auditlog.c: opens self->seclog under the audit control: plain, or chained after the
    head in the state (lines beyond it accepted when they chain; a damaged or cut log kept
    aside and reported in the new file's first lines); a plain log under strong, or a
    chained one under weak, is moved aside and a new file started. Records "audit" and
    "audit_head" in the open batch. Returns 0 or a negative code with err filled. */
int collab_auditlog_open(collab_ctx_t *self, const collab_prior_t *prior, char *err, size_t errlen);

#endif
