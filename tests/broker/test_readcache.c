/*  test_readcache.c: the cache of packed get_project replies. The cache alone (a hit only
    at the key and version it was kept at, bounded slots and size); then on a handler
    context that reads through it as the broker does: the same reply twice, then after
    every kind of change to a project or its tasks (status, reassignment, a new task,
    closing, deletion) the reply the tables give now, never the one kept; and the store's
    records version that keys it. A cluster's applied change and a rolled-back batch are
    read through it in test_handlers_shared and test_handlers_conflict. */
#include "handlers_fixture.h"
#include "readcache.h"
#include "testutil.h"

#include <string.h>

static void test_slots(void)
{
    collab_readcache_t *c = collab_readcache_new();
    CHECK(c != NULL);
    size_t len = 0;
    uint64_t hits, misses;
    CHECK(collab_readcache_get(c, 1, 0, 5, &len) == NULL); /* empty */
    collab_readcache_put(c, 1, 0, 5, "abc", 3);
    const char *got = collab_readcache_get(c, 1, 0, 5, &len);
    CHECK(got && len == 3 && memcmp(got, "abc", 3) == 0);
    CHECK(collab_readcache_get(c, 1, 0, 6, &len) == NULL);              /* another version */
    CHECK(collab_readcache_get(c, 1, 3, 5, &len) == NULL);              /* another offset */
    CHECK(collab_readcache_get(c, 2, 0, 5, &len) == NULL);              /* another project */
    CHECK(collab_readcache_get(c, 1, 0, 0, &len) == NULL);              /* version 0: never */
    collab_readcache_put(c, 1 + COLLAB_READCACHE_SLOTS, 0, 5, "xy", 2); /* the same slot */
    CHECK(collab_readcache_get(c, 1, 0, 5, &len) == NULL);              /* replaced */
    got = collab_readcache_get(c, 1 + COLLAB_READCACHE_SLOTS, 0, 5, &len);
    CHECK(got && len == 2 && memcmp(got, "xy", 2) == 0);
    static char big[COLLAB_READCACHE_BYTES + 1];
    collab_readcache_put(c, 9, 0, 5, big, sizeof big); /* too long: not kept */
    CHECK(collab_readcache_get(c, 9, 0, 5, &len) == NULL);
    collab_readcache_put(c, 9, 0, 5, big, sizeof big - 1); /* a slot's size: kept */
    CHECK(collab_readcache_get(c, 9, 0, 5, &len) != NULL && len == sizeof big - 1);
    collab_readcache_stats(c, &hits, &misses);
    CHECK_EQ_U64(hits, 3);
    CHECK_EQ_U64(misses, 7);
    collab_readcache_destroy(&c);
    CHECK(c == NULL);
    collab_readcache_destroy(&c); /* NULL-safe */
}

static fx_t *fx;

static void setup(void)
{
    fx = fx_new();
    fx_agent(fx, "coord", COLLAB_ROLE_COORDINATOR);
    fx_agent(fx, "w1", COLLAB_ROLE_WORKER);
    fx_agent(fx, "w2", COLLAB_ROLE_WORKER);
    fx_agent(fx, "obs", COLLAB_ROLE_OBSERVER);
    size_t n = fx_payload_str(fx, "name", "cached", NULL, NULL);
    CHECK_OK(fx_call(fx, collab_h_create_project, "coord", fx->payload, n));
    CHECK_OK(fx_assign(fx, "coord", 1, "w1"));
}

/*  get_project of project 1 from `offset`, as the observer: its rc; the reply's data bytes
    into buf (their length in *len). */
static int read_project(uint64_t offset, uint8_t *buf, size_t *len)
{
    size_t n = fx_payload_uint(fx, "project_id", 1, "task_offset", offset);
    int rc = fx_call(fx, collab_h_get_project, "obs", fx->payload, n);
    collab_envelope_t env;
    collab_map_t data;
    *len = 0;
    if (rc == 0 && fx_last_reply(fx, &env, &data) == 0 && env.data.len <= 4096) {
        memcpy(buf, env.data.ptr, env.data.len);
        *len = env.data.len;
    }
    return rc;
}

/*  The string value of key in the first task of the last reply; "" when none. */
static const char *first_task(const char *key)
{
    static char out[128];
    collab_envelope_t env;
    collab_map_t data, task;
    collab_mp_reader_t r;
    collab_span_t v;
    uint32_t n = 0;
    out[0] = '\0';
    if (fx_last_reply(fx, &env, &data) == 0 && collab_map_array(&data, "tasks", &r, &n) == 0 &&
        n > 0 && collab_map_array_next(&r, &task) == 0 && collab_map_str(&task, key, &v) == 0 &&
        v.len < sizeof out) {
        memcpy(out, v.ptr, v.len);
        out[v.len] = '\0';
    }
    return out;
}

static uint64_t hits(void)
{
    uint64_t h, m;
    collab_readcache_stats(fx->ctx->readcache, &h, &m);
    return h;
}

static void test_changes_seen(void)
{
    setup();
    uint8_t a[4096], b[4096];
    size_t alen, blen;
    CHECK_OK(read_project(0, a, &alen));
    uint64_t h0 = hits();
    CHECK_OK(read_project(0, b, &blen));
    CHECK_EQ_U64(hits(), h0 + 1); /* unchanged: answered from the cache */
    CHECK_MEM(b, blen, a, alen);  /* the same bytes */

    CHECK_OK(fx_set_status(fx, "w1", 1, "in_progress"));
    CHECK_OK(read_project(0, b, &blen));
    CHECK_EQ_U64(hits(), h0 + 1); /* changed: packed again */
    CHECK(strcmp(first_task("status"), "in_progress") == 0);
    CHECK_OK(read_project(0, b, &blen));
    CHECK_EQ_U64(hits(), h0 + 2);
    CHECK(strcmp(first_task("status"), "in_progress") == 0);

    CHECK_OK(fx_reassign(fx, "coord", 1, "w2"));
    CHECK_OK(read_project(0, b, &blen));
    CHECK(strcmp(first_task("assigned_to"), "w2") == 0);

    uint64_t total = 0;
    collab_envelope_t env;
    collab_map_t data;
    CHECK_OK(fx_assign(fx, "coord", 1, "w1")); /* a second task */
    CHECK_OK(read_project(0, b, &blen));
    CHECK_OK(fx_last_reply(fx, &env, &data));
    CHECK_OK(collab_map_uint(&data, "task_total", &total));
    CHECK_EQ_U64(total, 2);
    CHECK_OK(read_project(1, b, &blen)); /* from the second task: a key of its own */
    CHECK(strcmp(first_task("assigned_to"), "w1") == 0);
    CHECK_OK(read_project(0, b, &blen));
    CHECK(strcmp(first_task("assigned_to"), "w2") == 0);

    size_t n = fx_payload_uint(fx, "project_id", 1, NULL, 0);
    CHECK_OK(fx_call(fx, collab_h_close_project, "coord", fx->payload, n));
    CHECK_OK(read_project(0, b, &blen));
    collab_span_t status;
    CHECK_OK(fx_last_reply(fx, &env, &data));
    CHECK_OK(collab_map_str(&data, "status", &status));
    CHECK(collab_span_eq(status, "closed"));

    n = fx_payload_uint(fx, "project_id", 1, NULL, 0);
    CHECK_OK(fx_call(fx, collab_h_delete_project, "coord", fx->payload, n));
    CHECK_RC(read_project(0, b, &blen), COLLAB_E_NOT_FOUND);
    fx_destroy(&fx);
}

/*  The version moves with every project or task change recorded, and with every call that
    hands records to the tables; not with a session's or an agent's. */
static void test_records_version(void)
{
    setup();
    collab_store_t *st = fx->ctx->store;
    uint64_t v = collab_store_records_version(st);
    CHECK(v >= 1);
    collab_session_t *s = fx_session(fx, "obs", 77);
    CHECK_OK(collab_store_put_session(st, s));
    CHECK_OK(collab_store_put_agent(st, collab_tables_agent(fx->ctx->tables, "obs", 3)));
    CHECK_EQ_U64(collab_store_records_version(st), v);
    CHECK_OK(collab_store_put_task(st, collab_tables_task(fx->ctx->tables, 1)));
    CHECK_EQ_U64(collab_store_records_version(st), v + 1);
    CHECK_OK(collab_store_put_project(st, collab_tables_project(fx->ctx->tables, 1)));
    CHECK_EQ_U64(collab_store_records_version(st), v + 2);
    fx_destroy(&fx);
}

int main(void)
{
    TU_RUN(test_slots);
    TU_RUN(test_changes_seen);
    TU_RUN(test_records_version);
    return tu_exit("test_readcache");
}
