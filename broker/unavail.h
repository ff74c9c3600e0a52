/*  unavail.h: what a broker of a cluster does not do while its shared store is unreachable
    (outage.c handles the outage itself): every request but a heartbeat and get_stats
    (which reads only this broker's counters) is refused `unavailable`, with the
    retry_after_ms the reply carries (PROTOCOL.md 9). */
#ifndef COLLAB_UNAVAIL_H
#define COLLAB_UNAVAIL_H

#include "ctx.h"
#include "req.h"

#include <stdint.h>

/*  Whether the request must be refused now: the store is unavailable (as the loop has seen
    it) and the action is not one served without it. Then returns COLLAB_E_UNAVAILABLE,
    counted in stats.store_unavailable; else 0. */
int collab_outage_refuse(collab_ctx_t *ctx, const req_t *req);

/*  The retry_after_ms an `unavailable` reply carries: about when the store tries again,
    at least 50 ms. */
uint32_t collab_outage_retry_ms(collab_ctx_t *ctx);

#endif
