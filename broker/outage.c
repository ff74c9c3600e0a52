/*  outage.c: the broker through an outage of its shared store (see outage.h). The reload
    takes every record through apply.c, as a verdict's restore does, marks what it was
    given, and removes from the tables what it was not (a change never committed). */
#include "outage.h"

#include "apply.h"
#include "unavail.h"
#include "verdict.h"
#include "log.h"

#include <stdio.h>

/*  How often a lasting outage is said again in the log, with why the store cannot reconnect
    (a restarted server that is refused, a wrong password...). */
#define OUTAGE_SAY_MS 5000
#include <stdlib.h>
#include <string.h>

/*  A held reply replaced by `unavailable` (PROTOCOL.md 9). */
static size_t unavailable_reply(void *arg, uint64_t request_id, uint8_t *buf, size_t cap)
{
    uint8_t data[32];
    collab_pack_t p;
    size_t dlen = 0, len = 0;
    collab_pack_init(&p, data, sizeof data);
    collab_pack_map(&p, 1);
    collab_pack_kv_uint(&p, "retry_after_ms", collab_outage_retry_ms(arg));
    if (collab_pack_finish(&p, &dlen) != 0)
        return 0;
    const char *text = collab_strerror(COLLAB_E_UNAVAILABLE);
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = request_id,
                             .ok = false,
                             .error_code = (uint32_t)-COLLAB_E_UNAVAILABLE,
                             .error = {text, strlen(text)},
                             .data = {(const char *)data, dlen}};
    return collab_envelope_encode(&rep, buf, cap, &len) == 0 ? len : 0;
}

/* ---------------------------------------------------------------------------------------
   The reload: every record given, the rest removed */

#define KEY_MAX (COLLAB_MAX_SESSION_ID + 4) /* "s:" token, "p:N", "t:N", NUL */

typedef struct {
    collab_ctx_t *ctx;
    char (*seen)[KEY_MAX]; /* the keys given, sorted once the load is over */
    size_t n, cap;
} reload_t;

static void key_of(char out[KEY_MAX], char kind, const char *id, uint64_t num)
{
    if (id)
        snprintf(out, KEY_MAX, "%c:%s", kind, id);
    else
        snprintf(out, KEY_MAX, "%c:%llu", kind, (unsigned long long)num);
}

static int mark(reload_t *r, char kind, const char *id, uint64_t num)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        void *grown = realloc(r->seen, cap * sizeof *r->seen);
        if (!grown)
            return COLLAB_E_NOMEM;
        r->seen = grown;
        r->cap = cap;
    }
    key_of(r->seen[r->n++], kind, id, num);
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool seen(const reload_t *r, char kind, const char *id, uint64_t num)
{
    char key[KEY_MAX];
    key_of(key, kind, id, num);
    return r->n && bsearch(key, r->seen, r->n, sizeof *r->seen, cmp_key) != NULL;
}

static int reload_agent(void *arg, const collab_agent_t *row)
{
    reload_t *r = arg;
    return collab_apply_records.agent(r->ctx, row);
}

/*  A session keeps its connection (apply.c) and the activity this broker saw during the
    outage, which its write-back could not store. */
static int reload_session(void *arg, const collab_session_t *row)
{
    reload_t *r = arg;
    collab_session_t s = *row;
    const collab_session_t *old =
        collab_tables_session(r->ctx->tables, row->token, strlen(row->token));
    if (old && old->last_activity > s.last_activity)
        s.last_activity = old->last_activity;
    int rc = mark(r, 's', row->token, 0);
    return rc ? rc : collab_apply_records.session(r->ctx, &s);
}

static int reload_project(void *arg, const collab_project_t *row)
{
    reload_t *r = arg;
    int rc = mark(r, 'p', NULL, row->id);
    return rc ? rc : collab_apply_records.project(r->ctx, row);
}

static int reload_task(void *arg, const collab_task_t *row)
{
    reload_t *r = arg;
    int rc = mark(r, 't', NULL, row->id);
    return rc ? rc : collab_apply_records.task(r->ctx, row);
}

static const collab_store_loader_t reload_loader = {reload_agent, reload_session, reload_project,
                                                    reload_task};

/*  Removes the sessions, projects and tasks the reload did not give. */
static int sweep(reload_t *r)
{
    collab_tables_t *t = r->ctx->tables;
    size_t n = collab_tables_session_count(t), k = 0;
    char(*gone)[COLLAB_MAX_SESSION_ID + 1] = calloc(n + 1, sizeof *gone);
    if (!gone)
        return COLLAB_E_NOMEM;
    if (r->n)
        qsort(r->seen, r->n, sizeof *r->seen, cmp_key);
    for (collab_session_t *s = collab_tables_session_first(t); s && k < n;
         s = collab_tables_session_next(t))
        if (!seen(r, 's', s->token, 0))
            snprintf(gone[k++], sizeof gone[0], "%s", s->token);
    for (size_t i = 0; i < k; i++) { /* not while iterating */
        collab_session_t *s = collab_tables_session(t, gone[i], strlen(gone[i]));
        collab_tables_remove_session(t, &s);
    }
    free(gone);
    for (size_t i = collab_tables_project_count(t); i-- > 0;) {
        collab_project_t *p = collab_tables_project_at(t, i);
        if (!seen(r, 'p', NULL, p->id)) {
            collab_tables_remove_project(t, p->id); /* and its tasks */
            continue;
        }
        size_t nt = 0;
        collab_task_t **tasks = collab_tables_project_tasks(t, p->id, &nt);
        for (size_t j = nt; j-- > 0;)
            if (!seen(r, 't', NULL, tasks[j]->id))
                collab_tables_remove_task(t, tasks[j]->id);
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
   The steps */

static void note(collab_ctx_t *ctx, collab_outage_t *o, const collab_store_outage_t *info)
{
    o->noted = true;
    o->since_ms = o->said_ms = collab_ctx_mono(ctx);
    ctx->stats.store_outages++;
    log_error("the shared store is unavailable: %s; requests are refused (unavailable) until "
              "it is back",
              info->why);
    collab_seclog_emit(ctx->seclog, collab_ctx_now(ctx), "store_unavailable", "reason", info->why,
                       NULL);
}

static void settle(collab_ctx_t *ctx, collab_outage_t *o, const collab_store_outage_t *info)
{
    size_t unanswered = 0, refused = 0;
    uint64_t committed = 0;
    o->settled = true;
    /* the writer may have finished a batch since the turn asked: settled, nothing more
       commits, so what did is released first, as a batch's own */
    collab_store_committed(ctx->store, &committed);
    if (collab_apply_committed(ctx) != 0 || collab_verdict_release(ctx, committed) != 0)
        log_error("what the shared store committed could not be fully applied in memory");
    collab_store_rollback(ctx->store); /* what the open batch holds will never commit */
    collab_outbox_fail(ctx->outbox, info->lost, info->nlost, unavailable_reply, ctx, &unanswered,
                       &refused);
    ctx->stats.store_unanswered += unanswered;
    ctx->stats.store_unavailable += refused;
    if (unanswered || refused)
        log_warning("shared store unavailable: %zu requests of the batch in flight left "
                    "unanswered (their outcome is unknown), %zu answered unavailable",
                    unanswered, refused);
}

static void recover(collab_ctx_t *ctx, collab_outage_t *o)
{
    reload_t r = {ctx, NULL, 0, 0};
    bool reloaded = false;
    int rc = collab_store_recover(ctx->store, &reload_loader, &r, &reloaded);
    if (rc) { /* down again: the store reconnects, and this is tried again */
        free(r.seen);
        if (rc != COLLAB_E_UNAVAILABLE)
            log_error("the tables could not be reloaded: %s", collab_strerror(rc));
        return;
    }
    if (reloaded && sweep(&r) != 0)
        log_error("the tables could not be fully brought up to date: out of memory");
    free(r.seen);
    uint64_t down_ms = collab_ctx_mono(ctx) - o->since_ms;
    char ms[24];
    snprintf(ms, sizeof ms, "%llu", (unsigned long long)down_ms);
    ctx->stats.store_reconnects++;
    ctx->stats.store_reloads += reloaded;
    log_info("the shared store is back after %llu ms; the tables were %s",
             (unsigned long long)down_ms,
             reloaded ? "reloaded from it" : "brought up to date from its log");
    collab_seclog_emit(ctx->seclog, collab_ctx_now(ctx), "store_available", "down_ms", ms,
                       "reloaded", reloaded ? "yes" : "no", NULL);
    *o = (collab_outage_t){0};
}

void collab_outage_step(collab_ctx_t *ctx, collab_outage_t *o)
{
    collab_store_outage_t info;
    if (collab_store_outage(ctx->store, &info) == 0)
        return;
    if (!o->noted)
        note(ctx, o, &info);
    if (info.settled && !o->settled)
        settle(ctx, o, &info);
    uint64_t now = collab_ctx_mono(ctx);
    if (info.attempts && now - o->said_ms >= OUTAGE_SAY_MS) { /* a server refused, say */
        o->said_ms = now;
        log_warning("the shared store is still unavailable after %llu ms and %llu attempts to "
                    "reconnect; the last: %s",
                    (unsigned long long)(now - o->since_ms), (unsigned long long)info.attempts,
                    info.attempt_why[0] ? info.attempt_why : "(no reason given)");
    }
    if (o->settled && info.ready)
        recover(ctx, o);
}
