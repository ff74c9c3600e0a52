/*  test_broker_at_rest.c: LAB.md control 5 (steal-state) against a live broker. The test
    reads the state file as the attacker would (SQLite, read-only, WAL included, and its raw
    bytes): under state_at_rest = strong no row holds the live token or a password hash in
    clear, a token column's value used as a session id is refused, the key file is 0600, and
    a restart keeps every session and the sealed password working. Under stage2 the same
    read yields the live token, which works (the deliberate weakness). Then item 15:
    weak to strong migrates (the old sessions keep working, nothing in clear is left),
    strong to weak or another key file is refused with exit 2, and session_ids turned
    strong ends the sessions the predictable generator minted. */
#include "itest.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <sys/stat.h>

static broker_proc_t S, W;
static char OUT[16384], ERR[16384];
static char KEY[400], KEY2[400];

/*  What the steal-state attacker gets from one read of the state file. */
typedef struct {
    const char *needle; /* a secret that must (not) be found */
    int hits;           /* values that contain it */
    int rows;
    char tokens[8][COLLAB_MAX_SESSION_ID + 1]; /* the sessions' token column */
    int ntokens;
    int sealed, clear_hashes; /* agents' pw_hash values */
} loot_t;

static void scan_value(loot_t *l, const char *table, const char *col, const void *v, size_t n)
{
    if (l->needle && n && memmem(v, n, l->needle, strlen(l->needle)))
        l->hits++;
    if (n && memmem(v, n, "$2", 2) && strcmp(table, "events") != 0)
        l->clear_hashes++; /* a bcrypt hash ($2b$...) in clear */
    if (strcmp(table, "sessions") == 0 && strcmp(col, "token") == 0 && l->ntokens < 8 &&
        n < sizeof l->tokens[0]) {
        memcpy(l->tokens[l->ntokens], v, n);
        l->tokens[l->ntokens++][n] = '\0';
    }
    if (strcmp(table, "agents") == 0 && strcmp(col, "pw_hash") == 0 && n)
        l->sealed += strncmp(v, "sb1:", 4) == 0;
}

/*  Every value of every table, through SQLite opened read-only (WAL included). */
static void steal(const broker_proc_t *b, loot_t *l)
{
    char uri[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *tables = NULL;
    snprintf(uri, sizeof uri, "file:%s?mode=ro", b->state);
    if (!CHECK(sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) ==
               SQLITE_OK) ||
        !CHECK(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1,
                                  &tables, NULL) == SQLITE_OK))
        goto out;
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[200], table[64];
        snprintf(table, sizeof table, "%s", (const char *)sqlite3_column_text(tables, 0));
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\"", table);
        sqlite3_stmt *st = NULL;
        if (!CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK))
            continue;
        while (sqlite3_step(st) == SQLITE_ROW) {
            l->rows++;
            for (int i = 0; i < sqlite3_column_count(st); i++) {
                const void *v = sqlite3_column_blob(st, i);
                scan_value(l, table, sqlite3_column_name(st, i), v,
                           (size_t)sqlite3_column_bytes(st, i));
            }
        }
        sqlite3_finalize(st);
    }
out:
    sqlite3_finalize(tables);
    sqlite3_close(db);
}

/*  The meta value of key as text ("" when absent). */
static const char *meta(const broker_proc_t *b, const char *key)
{
    static char out[256];
    char uri[400];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    out[0] = '\0';
    snprintf(uri, sizeof uri, "file:%s?mode=ro", b->state);
    if (sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, sizeof out, "%.*s", sqlite3_column_bytes(st, 0),
                 (const char *)sqlite3_column_blob(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

/*  How many times needle is in the raw bytes of path (the database or its WAL). */
static int raw_hits(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static char buf[8 << 20];
    size_t n = fread(buf, 1, sizeof buf, f), k = strlen(needle);
    fclose(f);
    int hits = 0;
    for (const char *p = buf; (p = memmem(p, n - (size_t)(p - buf), needle, k)) != NULL; p++)
        hits++;
    return hits;
}

static int raw_state_hits(const broker_proc_t *b, const char *needle)
{
    char wal[400];
    snprintf(wal, sizeof wal, "%s-wal", b->state);
    return raw_hits(b->state, needle) + raw_hits(wal, needle);
}

/*  A client of agent that will present session_id without logging in. */
static int use_session(const broker_proc_t *b, const char *agent, const char *session_id)
{
    collab_client_t *c = it_client(b, agent, false);
    if (!c)
        return COLLAB_E_INTERNAL;
    collab_client_set_session(c, session_id);
    int rc = it_call(c, NULL, "get_session_info", NULL);
    collab_client_destroy(&c);
    return rc;
}

static collab_client_t *client_pw(const broker_proc_t *b, const char *agent, const char *pw)
{
    char err[256];
    collab_client_opts_t o = {
        .endpoint = b->endpoint, .agent_id = agent, .password = pw, .timeout_ms = 5000};
    o.has_key = collab_client_load_key(b->creds, agent, o.key, err, sizeof err) == 0;
    return collab_client_new(&o);
}

/*  Runs the broker once on b's files plus the NULL-terminated args; its exit code. */
static int run_once(const broker_proc_t *b, const char *first, ...)
{
    const char *args[24] = {"--state",        b->state,  "--credentials", b->creds,
                            "--security-log", b->seclog, "--bind",        "tcp://127.0.0.1:*"};
    int n = 8;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 23; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return broker_run_capture(b, args, OUT, sizeof OUT, ERR, sizeof ERR, 10000);
}

static bool has(const char *text, const char *needle)
{
    if (strstr(text, needle))
        return true;
    fprintf(stderr, "  missing \"%s\" in:\n%s\n", needle, text);
    return false;
}

static void test_strong_steal(void)
{
    it_begin("state_at_rest=strong: the stolen state yields nothing usable");
    collab_client_t *c = it_client(&S, "worker1", true);
    collab_client_t *p = it_client(&S, "worker2", true);
    if (!c || !p)
        goto out;
    char token[COLLAB_MAX_SESSION_ID + 1];
    snprintf(token, sizeof token, "%s", collab_client_session(c));
    CHECK_OK(it_call(p, NULL, "change_password", "old_password", "worker234", "new_password",
                     "Fresh-Pass-42", NULL));
    loot_t l = {.needle = token};
    steal(&S, &l); /* while the broker runs: its WAL is read too */
    CHECK(l.rows > 5);
    CHECK_EQ_INT(l.hits, 0);
    CHECK_EQ_INT(l.clear_hashes, 0);
    CHECK(l.sealed >= 2); /* the logged-in agents' hashes, worker2's new one among them */
    CHECK(l.ntokens >= 2);
    for (int i = 0; i < l.ntokens; i++) {
        CHECK_EQ_INT(strlen(l.tokens[i]), 64);
        CHECK_RC(use_session(&S, "worker1", l.tokens[i]), COLLAB_E_SESSION_INVALID);
    }
    CHECK_EQ_INT(raw_state_hits(&S, token), 0);
    CHECK_EQ_INT(raw_state_hits(&S, "$2b$"), 0);
    struct stat st;
    CHECK(stat(KEY, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 32);
    CHECK(strcmp(meta(&S, "state_at_rest"), "sealed") == 0);
    CHECK_EQ_INT(strlen(meta(&S, "state_key_check")), 64);

    it_begin("state_at_rest=strong: a restart keeps sessions and the sealed password");
    CHECK_EQ_INT(broker_stop(&S), 0);
    if (!CHECK(broker_restart(&S) == 0))
        goto out;
    CHECK_OK(it_call(c, NULL, "heartbeat", NULL)); /* the same token, hashed again */
    CHECK_RC(use_session(&S, "worker1", token), 0);
    collab_client_t *q = client_pw(&S, "worker2", "Fresh-Pass-42");
    CHECK(q && collab_client_login(q) == 0);
    collab_client_destroy(&q);
    q = client_pw(&S, "worker2", "worker234");
    CHECK(q && collab_client_login(q) == COLLAB_E_AUTH_FAILED);
    collab_client_destroy(&q);
out:
    collab_client_destroy(&p);
    collab_client_destroy(&c);
}

static void test_weak_steal(void)
{
    it_begin("stage2: the stolen state yields the live token, which works");
    collab_client_t *c = it_client(&W, "worker1", true);
    if (!c)
        return;
    char token[COLLAB_MAX_SESSION_ID + 1];
    snprintf(token, sizeof token, "%s", collab_client_session(c));
    loot_t l = {.needle = token};
    steal(&W, &l);
    CHECK_EQ_INT(l.hits, 1);
    bool found = false;
    for (int i = 0; i < l.ntokens; i++)
        if (strcmp(l.tokens[i], token) == 0) {
            found = true;
            CHECK_OK(use_session(&W, "worker1", l.tokens[i])); /* the weakness */
        }
    CHECK(found);
    CHECK(strcmp(meta(&W, "state_at_rest"), "plain") == 0);
    collab_client_destroy(&c);
}

/*  The weak state of W, its session still open, turned strong: migrated in place. */
static void test_migration(void)
{
    it_begin("weak to strong: migrated in place");
    collab_client_t *c = it_client(&W, "coordinator1", true);
    collab_client_t *p = it_client(&W, "worker3", true);
    if (!c || !p)
        goto out;
    CHECK_OK(it_call(p, NULL, "change_password", "old_password", "worker345", "new_password",
                     "Other-Pass-77", NULL));
    char token[COLLAB_MAX_SESSION_ID + 1], set[480];
    snprintf(token, sizeof token, "%s", collab_client_session(c));
    CHECK_EQ_INT(broker_stop(&W), 0);
    loot_t before = {.needle = token};
    steal(&W, &before);
    CHECK(before.hits == 1 && before.clear_hashes >= 1);
    snprintf(set, sizeof set, "state_at_rest.key_file=%s", KEY2);
    const char *const strong[] = {"--set", "state_at_rest=strong", "--set", set, NULL};
    if (!CHECK(broker_restart_with(&W, strong) == 0))
        goto out;
    loot_t after = {.needle = token};
    steal(&W, &after);
    CHECK_EQ_INT(after.hits, 0);
    CHECK_EQ_INT(after.clear_hashes, 0);
    CHECK_EQ_INT(raw_state_hits(&W, token), 0);
    CHECK_EQ_INT(raw_state_hits(&W, "$2b$"), 0);
    CHECK_OK(it_call(c, NULL, "heartbeat", NULL)); /* its session survived the migration */
    collab_client_t *q = client_pw(&W, "worker3", "Other-Pass-77");
    CHECK(q && collab_client_login(q) == 0);
    collab_client_destroy(&q);
    CHECK(broker_seclog_count(&W, "\"state_migrated\"") == 1);
    CHECK(strcmp(meta(&W, "state_at_rest"), "sealed") == 0);
    CHECK_EQ_INT(broker_stop(&W), 0);

    it_begin("strong to weak, another key, no key: refused");
    CHECK_EQ_INT(run_once(&W, NULL), 2);
    CHECK(has(ERR, "state_at_rest = strong") && has(ERR, "--reset-state"));
    char other[480];
    snprintf(other, sizeof other, "state_at_rest.key_file=%s", KEY);
    CHECK_EQ_INT(run_once(&W, "--set", "state_at_rest=strong", "--set", other, NULL), 2);
    CHECK(has(ERR, "another key") && has(ERR, KEY));
    char missing[420];
    snprintf(missing, sizeof missing, "state_at_rest.key_file=%s/gone.key", W.dir);
    CHECK_EQ_INT(run_once(&W, "--set", "state_at_rest=strong", "--set", missing, NULL), 2);
    CHECK(has(ERR, "gone.key") && has(ERR, "restore it"));
    char gone[420];
    snprintf(gone, sizeof gone, "%s/gone.key", W.dir);
    struct stat st;
    CHECK(stat(gone, &st) != 0); /* not created for a sealed state */
    /* refused means untouched: the right key still opens it, sessions included */
    if (CHECK(broker_restart_with(&W, strong) == 0))
        CHECK_OK(it_call(c, NULL, "heartbeat", NULL));
    CHECK_EQ_INT(broker_stop(&W), 0);
    const char *const reset[] = {"--reset-state", NULL};
    if (CHECK(broker_restart_with(&W, reset) == 0)) /* the way out it names */
        CHECK(strcmp(meta(&W, "state_at_rest"), "plain") == 0);
out:
    collab_client_destroy(&p);
    collab_client_destroy(&c);
}

static void test_session_ids_upgrade(void)
{
    it_begin("session_ids weak to strong: the predictable sessions end");
    collab_client_t *c = it_client(&W, "worker4", true);
    if (!c)
        return;
    CHECK_EQ_INT(strlen(collab_client_session(c)), 36); /* a UUID */
    CHECK(strcmp(meta(&W, "session_ids"), "weak") == 0);
    CHECK_EQ_INT(broker_stop(&W), 0);
    const char *const strong[] = {"--set", "session_ids=strong", NULL};
    if (!CHECK(broker_restart_with(&W, strong) == 0))
        goto out;
    CHECK_RC(it_call(c, NULL, "heartbeat", NULL), COLLAB_E_SESSION_INVALID);
    CHECK(broker_seclog_count(&W, "\"sessions_dropped\"") == 1);
    CHECK(strcmp(meta(&W, "session_ids"), "strong") == 0);
    CHECK_OK(collab_client_login(c));
    CHECK_EQ_INT(strlen(collab_client_session(c)), 43);
    /* strong sessions survive a restart under strong ids */
    CHECK_EQ_INT(broker_stop(&W), 0);
    if (CHECK(broker_restart(&W) == 0))
        CHECK_OK(it_call(c, NULL, "heartbeat", NULL));
out:
    collab_client_destroy(&c);
}

int main(int argc, char **argv)
{
    if (argc < 3 || broker_init(&S, argv[1], argv[2]) != 0 || broker_init(&W, argv[1], argv[2]))
        return 2;
    char set[480];
    snprintf(KEY, sizeof KEY, "%s/state.key", S.dir);
    snprintf(KEY2, sizeof KEY2, "%s/state.key", W.dir);
    snprintf(set, sizeof set, "state_at_rest.key_file=%s", KEY);
    const char *const strong[] = {"--set", "state_at_rest=strong", "--set", set, NULL};
    if (CHECK(broker_start(&S, strong) == 0))
        test_strong_steal();
    it_stop(&S);
    if (CHECK(broker_start(&W, NULL) == 0)) {
        test_weak_steal();
        test_migration();
        test_session_ids_upgrade();
    }
    it_stop(&W);
    broker_cleanup(&S);
    broker_cleanup(&W);
    zsys_shutdown();
    return it_exit("test_broker_at_rest");
}
