/*  test_store_gc.c: the event log's garbage collection (store.c, collect_events). Evicted
    events are not deleted one by one; the log's head is collected by range, and an idle
    agent's old events are moved to the log's end so that they do not hold the head back.
    Checked: the log stays bounded, every retained event still replays with its data, in
    both store modes, and across a reopen. */
#include "collab_error.h"
#include "store.h"
#include "testutil.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { RETAIN = 10, BUSY_EVENTS = 30000, IDLE_EVENTS = 5 };

static int64_t log_rows(const char *path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM event_log", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

typedef struct {
    uint64_t seq[BUSY_EVENTS];
    char data[RETAIN + IDLE_EVENTS][32];
    size_t n;
} got_t;

static int on_event(void *arg, const collab_event_t *ev)
{
    got_t *g = arg;
    if (g->n < RETAIN + IDLE_EVENTS)
        snprintf(g->data[g->n], sizeof g->data[0], "%.*s", (int)ev->data_len,
                 (const char *)ev->data);
    g->seq[g->n++] = ev->seq;
    return 0;
}

static int put(collab_store_t *st, const char *agent, uint64_t seq)
{
    char data[32];
    snprintf(data, sizeof data, "%s#%llu", agent, (unsigned long long)seq);
    collab_event_t ev = {
        .seq = seq, .timestamp = seq, .data = (const uint8_t *)data, .data_len = strlen(data)};
    snprintf(ev.agent_id, sizeof ev.agent_id, "%s", agent);
    snprintf(ev.name, sizeof ev.name, "task_status_changed");
    return collab_store_put_event(st, &ev, RETAIN);
}

/*  The agent replays exactly seq first..last, with the data each was written with. */
static void check_replay(collab_store_t *st, const char *agent, uint64_t first, uint64_t last)
{
    got_t *g = calloc(1, sizeof *g);
    uint64_t oldest = 0;
    if (!CHECK(g))
        return;
    CHECK_OK(collab_store_events_since(st, agent, 0, on_event, g, &oldest));
    CHECK_EQ_U64(oldest, first);
    CHECK_EQ_U64(g->n, last - first + 1);
    for (size_t i = 0; i < g->n && i < RETAIN + IDLE_EVENTS; i++) {
        char want[32];
        snprintf(want, sizeof want, "%s#%llu", agent, (unsigned long long)(first + i));
        CHECK_EQ_U64(g->seq[i], first + i);
        CHECK_STR(g->data[i], want);
    }
    free(g);
}

static void run(const char *path, bool writer)
{
    char err[512];
    unlink(path);
    collab_store_t *st = collab_store_open(path, true, err, sizeof err);
    if (!CHECK(st))
        return;
    collab_agent_t busy = {.id = "busy", .role = COLLAB_ROLE_WORKER, .registered = true};
    CHECK_OK(collab_store_put_agent(st, &busy)); /* event_seq 0: the log has the latest */
    for (uint64_t s = 1; s <= IDLE_EVENTS; s++)
        CHECK_OK(put(st, "idle", s)); /* at the log's head, and never again */
    CHECK_OK(collab_store_commit(st));
    if (writer)
        CHECK_OK(collab_store_start_writer(st));
    for (uint64_t s = 1; s <= BUSY_EVENTS; s++) {
        if (put(st, "busy", s) != 0) {
            CHECK(!"put_event failed");
            break;
        }
        if (s % 1000 == 0)
            CHECK_OK(writer ? collab_store_submit(st) : collab_store_commit(st));
    }
    /* before the last commit: moved and new events from the batches not yet durable */
    check_replay(st, "busy", BUSY_EVENTS - RETAIN + 1, BUSY_EVENTS);
    check_replay(st, "idle", 1, IDLE_EVENTS);
    CHECK_OK(collab_store_commit(st));
    check_replay(st, "busy", BUSY_EVENTS - RETAIN + 1, BUSY_EVENTS);
    check_replay(st, "idle", 1, IDLE_EVENTS);
    collab_store_destroy(&st);

    /* without collection the log would hold every row (30,005); with it, about twice the
       retained events plus one collection period */
    int64_t rows = log_rows(path);
    CHECK(rows > 0 && rows < 3 * 4096);

    st = collab_store_open(path, false, err, sizeof err);
    if (!CHECK(st))
        return;
    collab_store_set_retention(st, RETAIN);
    check_replay(st, "busy", BUSY_EVENTS - RETAIN + 1, BUSY_EVENTS);
    check_replay(st, "idle", 1, IDLE_EVENTS);
    collab_store_destroy(&st);
}

static void test_gc_direct(void)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/test_store_gc.%d.direct.db", (int)getpid());
    run(path, false);
    unlink(path);
}

static void test_gc_writer(void)
{
    char path[256];
    snprintf(path, sizeof path, "/tmp/test_store_gc.%d.writer.db", (int)getpid());
    run(path, true);
    unlink(path);
}

int main(void)
{
    TU_RUN(test_gc_direct);
    TU_RUN(test_gc_writer);
    return tu_exit("test_store_gc");
}
