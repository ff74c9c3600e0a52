/*  unavail.c: the requests refused during a shared store's outage (see unavail.h). */
#include "unavail.h"

uint32_t collab_outage_retry_ms(collab_ctx_t *ctx)
{
    collab_store_outage_t info;
    collab_store_outage(ctx->store, &info);
    return info.retry_after_ms > 50 ? info.retry_after_ms : 50;
}

int collab_outage_refuse(collab_ctx_t *ctx, const req_t *req)
{
    if (collab_store_available(ctx->store) || req->action == COLLAB_ACT_HEARTBEAT ||
        req->action == COLLAB_ACT_GET_STATS)
        return 0;
    ctx->stats.store_unavailable++;
    return COLLAB_E_UNAVAILABLE;
}
