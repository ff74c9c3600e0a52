/*  verdict.c: refused change sets rolled back in the tables and answered conflict (see
    verdict.h). The tables take the store's records through apply.c, as a load would. */
#include "verdict.h"
#include "apply.h"

#include <stdio.h>
#include <string.h>

/*  The refused request's reply (PROTOCOL.md 9: conflict, the code's sentence alone). */
static size_t conflict_reply(void *arg, uint64_t request_id, uint8_t *buf, size_t cap)
{
    (void)arg;
    const char *text = collab_strerror(COLLAB_E_CONFLICT);
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = request_id,
                             .ok = false,
                             .error_code = (uint32_t)-COLLAB_E_CONFLICT,
                             .error = {text, strlen(text)}};
    size_t len = 0;
    return collab_envelope_encode(&rep, buf, cap, &len) == 0 ? len : 0;
}

int collab_verdict_release(collab_ctx_t *ctx, uint64_t committed)
{
    uint64_t cs;
    int got, rc = 0;
    while ((got = collab_store_take_refused(ctx->store, &cs, &collab_apply_records,
                                            collab_apply_gone, ctx)) != 0) {
        if (got < 0)
            rc = got; /* the change set is taken all the same: answer it */
        ctx->stats.refused_conflict++;
        if (cs == 0)
            continue; /* no request's: a write-back of activity, put back, nobody to answer */
        bool was_ok = false;
        if (collab_outbox_refuse(ctx->outbox, cs, conflict_reply, NULL, &was_ok) == 1) {
            ctx->stats.replies_error++; /* what the agent gets now is a refusal */
            if (was_ok)
                ctx->stats.replies_ok--;
        }
    }
    collab_outbox_release(ctx->outbox, committed);
    return rc;
}
