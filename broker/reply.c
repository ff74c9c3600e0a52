/*  reply.c: a reply envelope built from a handled request, and any frame, put into the
    outbox behind the store's open batch (a reply or event waits for the commit of the
    batch it reflects). */
#include "reply.h"
#include "unavail.h"

#include <stdio.h>
#include <string.h>

void collab_send_to(collab_ctx_t *ctx, const uint8_t *rid, size_t rid_len, const uint8_t *bytes,
                    size_t len)
{
    uint64_t batch = collab_store_pending(ctx->store);
    if (collab_outbox_put(ctx->outbox, rid, rid_len, bytes, len, batch, ctx->changeset) != 0)
        ctx->stats.dropped++;
}

/*  An error reply's text (PROTOCOL.md 9): the code's sentence, then, when the refusal is
    about a field, ": " and what about it, in buf (COLLAB_MAX_ERROR_TEXT bytes and a NUL). */
static const char *error_text(const collab_why_t *why, int rc, char *buf, size_t cap)
{
    if (!why->field)
        return collab_strerror(rc);
    if (why->unit)
        snprintf(buf, cap, "%s: %s %s %lu %s", collab_strerror(rc), why->field, why->rule,
                 (unsigned long)why->n, why->unit);
    else
        snprintf(buf, cap, "%s: %s %s", collab_strerror(rc), why->field, why->rule);
    return buf;
}

void collab_reply(collab_ctx_t *ctx, const req_t *req, int rc)
{
    char text[COLLAB_MAX_ERROR_TEXT + 1];
    collab_why_t why = rc ? req->why : (collab_why_t){0};
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = req->env.request_id,
                             .ok = rc == 0,
                             .error_code = (uint32_t)(rc < 0 ? -rc : 0)};
    size_t data_len = 0, len = 0;
    if (rc == 0 && collab_outage_refuse(ctx, req)) /* done during an outage: never stored */
        rep = (collab_envelope_t){.kind = COLLAB_KIND_REPLY,
                                  .version = COLLAB_PROTOCOL_VERSION,
                                  .request_id = req->env.request_id,
                                  .error_code = (uint32_t) - (rc = COLLAB_E_UNAVAILABLE)};
    if (collab_pack_finish(&req->out, &data_len) != 0) {
        rc = COLLAB_E_INTERNAL; /* a reply that outgrew its buffer, or miscounted: a bug */
        rep.ok = false;
        rep.error_code = (uint32_t)-rc;
        data_len = 0;
        why = (collab_why_t){0};
    }
    rep.error.ptr = rc ? error_text(&why, rc, text, sizeof text) : "";
    rep.error.len = strlen(rep.error.ptr);
    uint8_t retry[32];
    if (rc == 0 || rc == COLLAB_E_RATE_LIMITED)
        rep.data = (collab_span_t){(const char *)req->out.data, data_len};
    else if (rc == COLLAB_E_UNAVAILABLE) { /* PROTOCOL.md 9: {retry_after_ms} */
        collab_pack_t p;
        collab_pack_init(&p, retry, sizeof retry);
        collab_pack_map(&p, 1);
        collab_pack_kv_uint(&p, "retry_after_ms", collab_outage_retry_ms(ctx));
        if (collab_pack_finish(&p, &data_len) == 0)
            rep.data = (collab_span_t){(const char *)retry, data_len};
    }
    if (rc == 0)
        ctx->stats.replies_ok++;
    else
        ctx->stats.replies_error++;
    uint8_t *frame = collab_outbox_frame_buf(ctx->outbox);
    if (collab_envelope_encode(&rep, frame, COLLAB_MAX_FRAME, &len) != 0)
        return;
    uint64_t batch = collab_store_pending(ctx->store);
    if (collab_outbox_put_reply(ctx->outbox, req->rid, req->rid_len, frame, len, batch,
                                ctx->changeset, rep.request_id, rc == 0) != 0)
        ctx->stats.dropped++;
}

void collab_changeset_begin(collab_ctx_t *ctx)
{
    ctx->changeset = ++ctx->next_changeset;
    collab_store_set_changeset(ctx->store, ctx->changeset);
}

void collab_changeset_end(collab_ctx_t *ctx)
{
    ctx->changeset = 0;
    collab_store_set_changeset(ctx->store, 0);
}
