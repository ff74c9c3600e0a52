/*  verdict.c: refused change sets rolled back in the tables and answered conflict (see
    verdict.h). The tables take the store's records through apply.c, as a load would. */
#include "verdict.h"
#include "apply.h"

#include <stdio.h>
#include <string.h>

/*  The refused request's reply (PROTOCOL.md 9: conflict; or replay, session_invalid for a
    cluster's nonce or revocation check), the code's sentence alone. arg: the int code. */
static size_t refusal_reply(void *arg, uint64_t request_id, uint8_t *buf, size_t cap)
{
    int code = *(const int *)arg;
    const char *text = collab_strerror(code);
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = request_id,
                             .ok = false,
                             .error_code = (uint32_t)-code,
                             .error = {text, strlen(text)}};
    size_t len = 0;
    return collab_envelope_encode(&rep, buf, cap, &len) == 0 ? len : 0;
}

/*  The reply code of a refusal (a callback's error: a conflict), counted: replays and
    sessions as the guards count theirs, and audited, since the guards let them pass. */
static int count_refusal(collab_ctx_t *ctx, int why)
{
    switch (why) {
    case COLLAB_STORE_REFUSED_REPLAY:
        ctx->stats.replays++;
        collab_seclog_emit(ctx->seclog, collab_ctx_now(ctx), "replay", "seen", "cluster_nonce",
                           NULL);
        return COLLAB_E_REPLAY;
    case COLLAB_STORE_REFUSED_SESSION:
        ctx->stats.refused_session++;
        collab_seclog_emit(ctx->seclog, collab_ctx_now(ctx), "request_refused", "reason",
                           "session_revoked_in_cluster", NULL);
        return COLLAB_E_SESSION_INVALID;
    default:
        ctx->stats.refused_conflict++;
        return COLLAB_E_CONFLICT;
    }
}

int collab_verdict_release(collab_ctx_t *ctx, uint64_t committed)
{
    uint64_t cs;
    int got, rc = 0;
    while ((got = collab_store_take_refused(ctx->store, &cs, &collab_apply_records,
                                            collab_apply_gone, ctx)) != 0) {
        if (got < 0)
            rc = got; /* the change set is taken all the same: answer it */
        int code = count_refusal(ctx, got);
        if (cs == 0)
            continue; /* no request's: a write-back of activity, put back, nobody to answer */
        bool was_ok = false;
        if (collab_outbox_refuse(ctx->outbox, cs, refusal_reply, &code, &was_ok) == 1) {
            ctx->stats.replies_error++; /* what the agent gets now is a refusal */
            if (was_ok)
                ctx->stats.replies_ok--;
        }
    }
    collab_outbox_release(ctx->outbox, committed);
    return rc;
}
