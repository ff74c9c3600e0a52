/*  store_schema.c: opening the state file for store.c: recognise ours, refuse anyone
    else's without writing a byte, create the schema in a new file, configure WAL. */
#include "store_schema.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STORE_SCHEMA_MARK "taskcollab-1"
#define STORE_BUSY_MS     1000

/* events in insertion order, every agent's in one log (see evindex.h) */
#define EVENT_LOG_SQL                                                                              \
    "CREATE TABLE IF NOT EXISTS event_log(id INTEGER PRIMARY KEY, agent_id TEXT NOT NULL,"         \
    " seq INT NOT NULL, name TEXT, ts INT, data BLOB);"

/* IF NOT EXISTS: two brokers racing to create the same new file both end up with one schema. */
static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value BLOB);"
    "CREATE TABLE IF NOT EXISTS agents(agent_id TEXT PRIMARY KEY, role INT, pw_hash TEXT,"
    " registered INT, caps TEXT, last_seen INT, event_seq INT, failures INT, locked_until INT);"
    "CREATE TABLE IF NOT EXISTS sessions(token TEXT PRIMARY KEY, handle INT, agent_id TEXT,"
    " role INT, created INT, last_activity INT, peer TEXT, rid BLOB, subscribed INT,"
    " subscribed_all INT, curve_key TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE IF NOT EXISTS projects(id INTEGER PRIMARY KEY, name TEXT, description TEXT,"
    " owner TEXT, closed INT, created INT, task_count INT);"
    "CREATE TABLE IF NOT EXISTS tasks(id INTEGER PRIMARY KEY, project_id INT, type TEXT,"
    " title TEXT, description TEXT, result TEXT, status INT, assigned_to TEXT,"
    " assigned_by TEXT, created INT, updated INT);"
    "CREATE INDEX IF NOT EXISTS tasks_project ON tasks(project_id);" EVENT_LOG_SQL
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '" STORE_SCHEMA_MARK "');";

static const char reset_sql[] = "DELETE FROM agents; DELETE FROM sessions; DELETE FROM projects;"
                                "DELETE FROM tasks; DELETE FROM event_log;"
                                "DELETE FROM meta WHERE key <> 'schema';";

__attribute__((format(printf, 4, 5))) static void set_err(char *err, size_t errlen,
                                                          const char *path, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    int n = snprintf(err, errlen, "%s: ", path);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/*  Copies at most 40 bytes of text from someone else's file, printable ASCII only, so an
    error message never carries terminal escapes. */
static void printable(char *dst, size_t cap, const unsigned char *src)
{
    size_t n = 0;
    for (; src && *src && n + 1 < cap && n < 40; src++)
        dst[n++] = (*src >= 0x20 && *src < 0x7f) ? (char)*src : '?';
    dst[n] = '\0';
}

typedef enum { FILE_EMPTY, FILE_OURS, FILE_FOREIGN, FILE_ERROR } file_kind_t;

/*  Names the database's first object, tables first; *found is false in an empty database.
    Returns an SQLite code (SQLITE_NOTADB for a file that is not SQLite at all). */
static int first_object(sqlite3 *db, bool *found, char *name, size_t cap)
{
    sqlite3_stmt *st = NULL;
    /* any object at all (a lone view or index too) makes the file someone's */
    int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master ORDER BY type <> 'table'", -1,
                                &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (*found)
        printable(name, cap, sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*  A database with objects is ours only if its meta table carries our exact marker. */
static file_kind_t check_marker(sqlite3 *db, const char *object, char *why, size_t len)
{
    sqlite3_stmt *st = NULL;
    file_kind_t kind = FILE_FOREIGN;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(why, len, "not a taskcollab state file (no schema marker; it has '%s')", object);
    } else if (sqlite3_column_bytes(st, 0) == (int)strlen(STORE_SCHEMA_MARK) &&
               memcmp(sqlite3_column_blob(st, 0), STORE_SCHEMA_MARK, strlen(STORE_SCHEMA_MARK)) ==
                   0) {
        kind = FILE_OURS;
    } else {
        char seen[48];
        printable(seen, sizeof seen, sqlite3_column_text(st, 0));
        snprintf(why, len, "not a taskcollab state file (schema '%s', expected '%s')", seen,
                 STORE_SCHEMA_MARK);
    }
    sqlite3_finalize(st);
    return kind;
}

/*  Reads the schema and the marker without writing anything. */
static file_kind_t inspect(sqlite3 *db, char *why, size_t len)
{
    char object[48];
    bool found;
    int rc = first_object(db, &found, object, sizeof object);
    if (rc == SQLITE_NOTADB) {
        snprintf(why, len, "not a taskcollab state file (%s)", sqlite3_errstr(rc));
        return FILE_FOREIGN;
    }
    if (rc != SQLITE_OK) {
        snprintf(why, len, "cannot read (%s)", sqlite3_errmsg(db));
        return FILE_ERROR;
    }
    return found ? check_marker(db, object, why, len) : FILE_EMPTY;
}

/*  Runs a PRAGMA that answers with one text row, e.g. journal_mode. */
static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t ? (const char *)t : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/*  Runs a script inside one write transaction, or nothing of it. */
static int exec_transaction(sqlite3 *db, const char *script)
{
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_exec(db, script, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*  Process-wide, before SQLite's first use: no allocation statistics (they take a global
    mutex on every malloc; nothing here reads them). Refused harmlessly when something else
    has initialised SQLite first. */
static void configure_sqlite(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/*  Opens an existing file read-write without creating it; only a missing file is created.
    NOMUTEX: the store serialises every use of its connection itself (one thread, or the
    loop and the writer under the store's mutex), so SQLite's own per-call locking is
    pure cost. */
static sqlite3 *open_db(const char *path, char *err, size_t errlen)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, configure_sqlite);
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc == SQLITE_CANTOPEN) {
        sqlite3_close(db);
        db = NULL;
        rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_CREATE, NULL);
    }
    if (rc != SQLITE_OK) {
        set_err(err, errlen, path, "cannot open (%s)", db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return NULL;
    }
    if (sqlite3_db_readonly(db, "main") == 1) {
        set_err(err, errlen, path, "cannot open for writing (read-only)");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, STORE_BUSY_MS);
    return db;
}

/*  Columns added since the first schema, added to a file that predates them. */
static int add_new_columns(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT curve_key FROM sessions LIMIT 0", -1, &st, NULL);
    sqlite3_finalize(st);
    if (rc == SQLITE_OK)
        return SQLITE_OK;
    return exec_transaction(db,
                            "ALTER TABLE sessions ADD COLUMN curve_key TEXT NOT NULL DEFAULT ''");
}

/*  Files written before the event log kept events in a table keyed by (agent, seq), whose
    every insert and trim dirtied a page per agent; their events move into the log, each
    agent's in order. */
static int move_events_to_log(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT 1 FROM events LIMIT 0", -1, &st, NULL);
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return SQLITE_OK; /* no old table */
    return exec_transaction(db, EVENT_LOG_SQL "INSERT INTO event_log(agent_id, seq, name, ts, data)"
                                              " SELECT agent_id, seq, name, ts, data FROM events"
                                              " ORDER BY agent_id, seq;"
                                              "DROP TABLE events;");
}

/*  Recognises or creates the schema, then switches to WAL. */
static int prepare_file(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    char why[160];
    file_kind_t kind = inspect(db, why, sizeof why);
    if (kind == FILE_EMPTY) {
        int rc = exec_transaction(db, schema_sql);
        if (rc != SQLITE_OK) {
            set_err(err, errlen, path, "cannot create the schema (%s)", sqlite3_errmsg(db));
            return -1;
        }
        kind = inspect(db, why, sizeof why); /* someone else's tables may have won a race */
    }
    if (kind != FILE_OURS) {
        set_err(err, errlen, path, "%s", why);
        return -1;
    }
    if (add_new_columns(db) != SQLITE_OK) {
        set_err(err, errlen, path, "cannot add the new columns (%s)", sqlite3_errmsg(db));
        return -1;
    }
    if (move_events_to_log(db) != SQLITE_OK) {
        set_err(err, errlen, path, "cannot move events into the event log (%s)",
                sqlite3_errmsg(db));
        return -1;
    }
    char mode[16] = "";
    if (pragma_text(db, "PRAGMA journal_mode=WAL", mode, sizeof mode) != SQLITE_OK ||
        strcmp(mode, "wal") != 0) {
        set_err(err, errlen, path, "cannot switch to WAL mode (%s)",
                mode[0] ? mode : sqlite3_errmsg(db));
        return -1;
    }
    /* FULL: in WAL mode NORMAL may lose the last commits on power loss; we promised replies
       only for what is on disk. */
    /* cache: 8 MiB rather than SQLite's 2, so the log's and the tasks' hot pages stay
       in memory while the writer commits (scripts/bench: writes 0.41 -> 0.48 of echo) */
    if (sqlite3_exec(db,
                     "PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF; PRAGMA cache_size=-8192",
                     NULL, NULL, NULL) != SQLITE_OK) {
        set_err(err, errlen, path, "cannot configure (%s)", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

sqlite3 *collab_store_schema_open(const char *path, bool reset, char *err, size_t errlen)
{
    sqlite3 *db = open_db(path, err, errlen);
    if (!db)
        return NULL;
    if (prepare_file(db, path, err, errlen) != 0)
        goto fail;
    if (reset && exec_transaction(db, reset_sql) != SQLITE_OK) {
        set_err(err, errlen, path, "cannot reset (%s)", sqlite3_errmsg(db));
        goto fail;
    }
    return db;
fail:
    sqlite3_close(db);
    return NULL;
}
