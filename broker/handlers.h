/*  handlers.h: the action handlers (one per row of protocol/actions.def, in handlers_*.c)
    and what they share (handlers_util.c): payload field validation, the paged lists, the
    audit line of a request, the authorization table (authz.c). */
#ifndef COLLAB_HANDLERS_H
#define COLLAB_HANDLERS_H

#include "ctx.h"
#include "req.h"

#include <stdbool.h>
#include <stdint.h>

/*  Every handler has this shape: it validates, changes state (recording each change in
    the store), writes its data map into req->out, and returns 0, COLLAB_DEFERRED, or a
    negative code; on error it must have changed nothing. */
typedef int (*collab_handler_fn)(collab_ctx_t *ctx, req_t *req);

/*  One handler per row of protocol/actions.def: a row without its collab_h_<name> fails
    the link of the dispatch table. */
#define ACTION(ID, name, weak_signs, keys, weak_roles, strong_roles)                               \
    int collab_h_##name(collab_ctx_t *ctx, req_t *req);
#include "actions.def"
#undef ACTION

/*  authz.c: may this role call this action under the configured role enforcement?
    Object-level rules (task assignee, project owner) are checked by the handlers through
    collab_authz_strong(). */
bool collab_authz_allowed(const collab_ctx_t *ctx, int action, collab_role_t role);
bool collab_authz_strong(const collab_ctx_t *ctx);

/*  handlers_util.c: shared validation of payload fields. Each returns 0, or the refusal
    (field_missing, field_type, limit, utf8, bad_text) with req->why naming the field and,
    for a limit, the limit. An optional field that is absent returns 0 and leaves *out
    untouched (collab_arg_text: "" instead). */
/*  A text field of min_cp..max_cp code points, checked by the text-fields control. */
int collab_arg_text(const collab_ctx_t *ctx, req_t *req, const char *key, size_t min_cp,
                    size_t max_cp, bool required, collab_span_t *out);
/*  An identifier: 1..COLLAB_IDENT_MAX bytes of [a-z_]. */
int collab_arg_ident(req_t *req, const char *key, collab_span_t *out);
/*  A required unsigned integer (an object's id). */
int collab_arg_id(req_t *req, const char *key, uint64_t *out);
/*  Any str (its value is checked by the caller), an unsigned integer, a boolean. */
int collab_arg_str(req_t *req, const char *key, bool required, collab_span_t *out);
int collab_arg_uint(req_t *req, const char *key, bool required, uint64_t *out);
int collab_arg_bool(req_t *req, const char *key, bool required, bool *out);
/*  A secret: a str of 1..max bytes (never echoed, nor its length). */
int collab_arg_secret(req_t *req, const char *key, size_t max, collab_span_t *out);
/*  Records what refusal rc is about (static strings only; unit NULL: no number) and returns
    rc; does nothing and returns 0 when rc is 0. */
int collab_why(req_t *req, int rc, const char *field, const char *rule, uint32_t n,
               const char *unit);
/*  Persists the id counters (projects, tasks, session handles) with the batch. */
int collab_save_ids(collab_ctx_t *ctx);
/*  Packs a task as PROTOCOL.md's task object. */
void collab_pack_task(collab_pack_t *p, const collab_task_t *t);
/*  Logs a security event with the request's agent and peer. */
void collab_audit(collab_ctx_t *ctx, const req_t *req, const char *event, const char *k1,
                  const char *v1);

/*  Paged lists: items are packed one by one into ctx->list_buf until the next one would
    not fit in the reply; then the array is written into req->out. */
typedef struct {
    collab_pack_t items;
    uint32_t count;
    size_t mark;
} collab_pager_t;
/*  reserve: bytes the rest of the reply's map may take besides the list. */
void collab_pager_init(collab_ctx_t *ctx, collab_pager_t *pg, size_t reserve);
/*  Call before packing an item into pg->items; then collab_pager_end_item. */
void collab_pager_begin_item(collab_pager_t *pg);
/*  Returns false (and drops the item) when it did not fit: the list is full. */
bool collab_pager_end_item(collab_pager_t *pg);
/*  Writes "key": [items] into out. */
void collab_pager_emit(collab_pager_t *pg, collab_pack_t *out, const char *key);

#endif
