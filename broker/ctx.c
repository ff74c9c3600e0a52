/*  ctx.c: the parts of a handler context that are the same for the broker and a unit test. */
#include "ctx.h"

#include <sodium.h>
#include <string.h>

void collab_ctx_init(collab_ctx_t *ctx)
{
    randombytes_buf(ctx->expired.key, sizeof ctx->expired.key);
    memset(ctx->expired.head, 0xff, sizeof ctx->expired.head); /* empty chains */
    ctx->next_project_id = ctx->next_task_id = ctx->next_handle = 1;
}
