/*  ctx.c: the parts of a handler context that are the same for the broker and a unit test. */
#include "ctx.h"

#include <sodium.h>
#include <string.h>

int collab_ctx_take_id(collab_ctx_t *ctx, collab_id_kind_t kind, uint64_t *id)
{
    uint64_t *next = kind == COLLAB_ID_PROJECT ? &ctx->next_project_id
                     : kind == COLLAB_ID_TASK  ? &ctx->next_task_id
                                               : &ctx->next_handle;
    if (*next >= ctx->id_end[kind] && collab_store_is_shared(ctx->store)) {
        uint64_t first = 0;
        int rc = collab_store_reserve_ids(ctx->store, kind, COLLAB_ID_BLOCK, &first);
        if (rc)
            return rc;
        if (first) {
            *next = first;
            ctx->id_end[kind] = first + COLLAB_ID_BLOCK;
        }
    }
    *id = (*next)++;
    return 0;
}

void collab_ctx_init(collab_ctx_t *ctx)
{
    randombytes_buf(ctx->expired.key, sizeof ctx->expired.key);
    memset(ctx->expired.head, 0xff, sizeof ctx->expired.head); /* empty chains */
    ctx->next_project_id = ctx->next_task_id = ctx->next_handle = 1;
}
