/*  test_seclog.c: the security log: one valid JSON object per line with ts, time, event and
    the given pairs (NULL values skipped), rotation at the size limit keeping one old file,
    the discarding log; refusals counted into refusals_aggregated lines (per peer and
    second, failed logins past N a minute, a fixed table with "*" beyond it, a per-second
    cap on such lines), kept events always written, the counts written on destroy, and a
    chained log with aggregates that verifies. */
#include "seclog.h"
#include "testutil.h"

#include <cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_seclog.XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/*  Reads a whole small file into a NUL-terminated heap buffer, or NULL. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (; text && *text; text++)
        n += *text == '\n';
    return n;
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/*  The n-th line (0-based) parsed as JSON, or NULL. */
static cJSON *parse_line(const char *text, size_t n)
{
    for (size_t i = 0; i < n && text; i++) {
        text = strchr(text, '\n');
        text = text ? text + 1 : NULL;
    }
    if (!text)
        return NULL;
    const char *end = strchr(text, '\n');
    if (!end)
        return NULL;
    return cJSON_ParseWithLength(text, (size_t)(end - text));
}

/*  The line at *line parsed as JSON (NULL if it is not), *line moved past it; false at the
    end. One pass over a long log (memchr: no string function rescans what follows). */
static bool next_line(const char **line, const char *end, cJSON **o)
{
    const char *nl = memchr(*line, '\n', (size_t)(end - *line));
    if (!nl)
        return false;
    *o = cJSON_ParseWithLength(*line, (size_t)(nl - *line));
    *line = nl + 1;
    return true;
}

static const char *str_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_lines(void)
{
    char err[256];
    const char *path = tmp_path("sec.log");
    collab_seclog_t *log = collab_seclog_open(path, 1 << 20, err, sizeof err);
    if (!CHECK(log != NULL))
        return;
    CHECK_EQ_U64(collab_seclog_lines(log), 0);
    CHECK_OK(collab_seclog_emit(log, 1714566896789ULL, "login_failed", "agent", "worker1", "peer",
                                "127.0.0.2", "reason", NULL, "detail", "bad \"password\"\n\x1b[2J",
                                NULL));
    CHECK_OK(collab_seclog_emit(log, 0, "started", NULL));
    CHECK_OK(collab_seclog_emit(log, 5, "dup", "event", "spoofed", "ts", "x", "k", "v", NULL));
    CHECK_EQ_U64(collab_seclog_lines(log), 3);
    collab_seclog_destroy(&log);
    CHECK(log == NULL);
    collab_seclog_destroy(&log);

    char *text = slurp(path);
    CHECK_EQ_U64(count_lines(text), 3);
    cJSON *o = parse_line(text, 0);
    if (CHECK(cJSON_IsObject(o))) {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
        CHECK(cJSON_IsNumber(ts) && ts->valuedouble == 1714566896789.0);
        CHECK_STR(str_field(o, "time"), "2024-05-01T12:34:56.789Z");
        CHECK_STR(str_field(o, "event"), "login_failed");
        CHECK_STR(str_field(o, "agent"), "worker1");
        CHECK_STR(str_field(o, "peer"), "127.0.0.2");
        CHECK(cJSON_GetObjectItemCaseSensitive(o, "reason") == NULL); /* NULL value skipped */
        CHECK_STR(str_field(o, "detail"), "bad \"password\"\n\x1b[2J");
        CHECK_EQ_INT(cJSON_GetArraySize(o), 6);
        /* ts, time and event come first */
        CHECK_STR(o->child->string, "ts");
        CHECK_STR(o->child->next->string, "time");
        CHECK_STR(o->child->next->next->string, "event");
    }
    cJSON_Delete(o);
    o = parse_line(text, 1);
    CHECK(cJSON_IsObject(o) && cJSON_GetArraySize(o) == 3);
    CHECK_STR(str_field(o, "time"), "1970-01-01T00:00:00.000Z");
    cJSON_Delete(o);
    o = parse_line(text, 2); /* a caller's key cannot overwrite ts or event */
    CHECK_STR(str_field(o, "event"), "dup");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "ts")));
    CHECK_STR(str_field(o, "k"), "v");
    cJSON_Delete(o);
    /* escapes keep raw control bytes out of the file */
    CHECK(text && strchr(text, '\x1b') == NULL);
    free(text);

    /* reopening appends */
    log = collab_seclog_open(path, 1 << 20, err, sizeof err);
    CHECK_OK(collab_seclog_emit(log, 1, "again", NULL));
    CHECK_EQ_U64(collab_seclog_lines(log), 1);
    collab_seclog_destroy(&log);
    text = slurp(path);
    CHECK_EQ_U64(count_lines(text), 4);
    free(text);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 077) == 0); /* owner-only */
    unlink(path);
}

static void test_rotation(void)
{
    char err[256];
    const char *p = tmp_path("rot.log");
    char path[600], old[610];
    snprintf(path, sizeof path, "%s", p);
    snprintf(old, sizeof old, "%s.1", path);

    /* measure one line: every line below has the same length */
    collab_seclog_t *log = collab_seclog_open(path, 0, err, sizeof err);
    if (!CHECK(log != NULL))
        return;
    CHECK_OK(collab_seclog_emit(log, 1000, "e", "n", "00", NULL));
    collab_seclog_destroy(&log);
    uint64_t line = file_size(path);
    CHECK(line > 20);
    unlink(path);

    /* room for exactly three lines */
    log = collab_seclog_open(path, 3 * line, err, sizeof err);
    char n[8];
    for (int i = 0; i < 3; i++) {
        snprintf(n, sizeof n, "%02d", i);
        CHECK_OK(collab_seclog_emit(log, 1000, "e", "n", n, NULL));
    }
    CHECK_EQ_U64(file_size(path), 3 * line);
    CHECK(access(old, F_OK) != 0); /* not yet rotated: exactly at the limit */
    CHECK_OK(collab_seclog_emit(log, 1000, "e", "n", "03", NULL));
    CHECK_EQ_U64(file_size(path), line);
    CHECK_EQ_U64(file_size(old), 3 * line);
    char *text = slurp(old);
    CHECK(text && strstr(text, "\"n\":\"00\"") && strstr(text, "\"n\":\"02\""));
    free(text);

    /* the next rotation replaces the older file: one old file kept */
    for (int i = 4; i < 7; i++) {
        snprintf(n, sizeof n, "%02d", i);
        CHECK_OK(collab_seclog_emit(log, 1000, "e", "n", n, NULL));
    }
    CHECK_EQ_U64(file_size(old), 3 * line);
    text = slurp(old);
    CHECK(text && strstr(text, "\"n\":\"03\"") && !strstr(text, "\"n\":\"00\""));
    free(text);
    text = slurp(path);
    CHECK(text && strstr(text, "\"n\":\"06\"") && count_lines(text) == 1);
    free(text);
    CHECK_EQ_U64(collab_seclog_lines(log), 7);
    collab_seclog_destroy(&log);

    char name[620];
    snprintf(name, sizeof name, "%s.2", path);
    CHECK(access(name, F_OK) != 0);
    unlink(path);
    unlink(old);
}

static void test_discard_and_errors(void)
{
    char err[256] = "";
    collab_seclog_t *log = collab_seclog_open(NULL, 0, err, sizeof err);
    if (CHECK(log != NULL)) {
        CHECK_OK(collab_seclog_emit(log, 1, "nothing", "agent", "a", NULL));
        CHECK_OK(collab_seclog_emit(log, 2, "nothing", NULL));
        CHECK_EQ_U64(collab_seclog_lines(log), 2);
    }
    collab_seclog_destroy(&log);

    const char *bad = tmp_path("no/such/dir/sec.log");
    log = collab_seclog_open(bad, 0, err, sizeof err);
    CHECK(log == NULL);
    CHECK(strstr(err, bad) == err && strstr(err, "No such file") != NULL);
}

/*  Sums over text's lines: full lines of event (any peer when peer is NULL) and the counts
    of the refusals_aggregated lines for it. */
typedef struct {
    uint64_t full, counted, aggregates, star;
} sums_t;

static sums_t sums(const char *text, const char *event, const char *peer)
{
    sums_t r = {0};
    const char *line = text, *end = text + strlen(text);
    cJSON *o;
    while (next_line(&line, end, &o)) {
        const char *ev = str_field(o, "event"), *p = str_field(o, "peer");
        bool peer_ok = !peer || (p && strcmp(p, peer) == 0);
        if (ev && strcmp(ev, event) == 0 && peer_ok)
            r.full++;
        const char *of = str_field(o, "aggregated_event");
        if (ev && strcmp(ev, "refusals_aggregated") == 0 && of &&
            (strcmp(of, event) == 0 || strcmp(of, "*") == 0) && peer_ok) {
            r.counted += strtoull(str_field(o, "count"), NULL, 10);
            r.aggregates++;
            r.star += p && strcmp(p, "*") == 0;
        }
        cJSON_Delete(o);
    }
    return r;
}

static collab_seclog_t *fresh(const char *path)
{
    char err[256];
    unlink(path);
    collab_seclog_t *log = collab_seclog_open(path, 0, err, sizeof err);
    CHECK(log != NULL);
    return log;
}

static void refuse(collab_seclog_t *log, uint64_t now, const char *peer)
{
    CHECK_OK(collab_seclog_emit(log, now, "request_refused", "agent_id", "x", "peer", peer,
                                "reason", "session_invalid", NULL));
}

static void test_aggregation(void)
{
    const char *path = tmp_path("agg.log");
    collab_seclog_t *log = fresh(path);
    if (!log)
        return;
    CHECK(collab_seclog_is_refusal("request_refused") && collab_seclog_is_refusal("replay"));
    CHECK(!collab_seclog_is_refusal("login_ok") && !collab_seclog_is_refusal("login_failed"));
    CHECK_OK(collab_seclog_emit(log, 1000, "broker_started", NULL));
    for (int i = 0; i < 100; i++) /* one peer, one second: one line, 99 counted */
        refuse(log, 1000 + (uint64_t)i, "10.0.0.1");
    refuse(log, 1050, "10.0.0.2"); /* another peer has its own line */
    CHECK_OK(collab_seclog_emit(log, 1060, "login_ok", "agent_id", "a", "peer", "10.0.0.1", NULL));
    CHECK_OK(collab_seclog_emit(log, 1061, "login_ok", "agent_id", "a", "peer", "10.0.0.1", NULL));
    CHECK_EQ_U64(collab_seclog_lines(log), 5);
    CHECK_EQ_U64(collab_seclog_aggregated(log), 99);
    collab_seclog_tick(log, 1500); /* the second of the first count is not over */
    CHECK_EQ_U64(collab_seclog_lines(log), 5);
    collab_seclog_tick(log, 2001);
    CHECK_EQ_U64(collab_seclog_lines(log), 6);
    collab_seclog_tick(log, 2100); /* nothing left, and not 250 ms since */
    refuse(log, 2600, "10.0.0.1"); /* a new second: in full again */
    CHECK_EQ_U64(collab_seclog_lines(log), 7);
    collab_seclog_destroy(&log);
    char *text = slurp(path);
    sums_t a = sums(text, "request_refused", "10.0.0.1");
    CHECK_EQ_U64(a.full, 2);
    CHECK_EQ_U64(a.counted, 99);
    CHECK_EQ_U64(a.aggregates, 1);
    CHECK_EQ_U64(sums(text, "login_ok", NULL).full, 2);
    CHECK_EQ_U64(sums(text, "broker_started", NULL).full, 1);
    cJSON *o = parse_line(text, 5);
    CHECK_STR(str_field(o, "event"), "refusals_aggregated");
    CHECK_STR(str_field(o, "peer"), "10.0.0.1");
    CHECK_STR(str_field(o, "aggregated_event"), "request_refused");
    CHECK_STR(str_field(o, "count"), "99");
    CHECK_STR(str_field(o, "from"), "1970-01-01T00:00:01.001Z");
    CHECK_STR(str_field(o, "to"), "1970-01-01T00:00:01.099Z");
    CHECK_STR(str_field(o, "interval_ms"), "1000");
    cJSON_Delete(o);
    free(text);
    unlink(path);
}

static void test_failed_logins(void)
{
    const char *path = tmp_path("fail.log");
    collab_seclog_t *log = fresh(path);
    if (!log)
        return;
    collab_seclog_set_failed_login_lines(log, 3);
    for (int i = 0; i < 10; i++) /* 3 a minute in full, then a count each second */
        CHECK_OK(collab_seclog_emit(log, 1000 + 400 * (uint64_t)i, "login_failed", "agent_id",
                                    "nobody", "peer", "10.0.0.9", "reason", "unknown_agent", NULL));
    CHECK_EQ_U64(collab_seclog_lines(log), 5); /* and the counts from 2200 and 3400 */
    collab_seclog_tick(log, 5000);             /* the one from 4600 is not due */
    CHECK_EQ_U64(collab_seclog_lines(log), 5);
    collab_seclog_tick(log, 5600);
    CHECK_EQ_U64(collab_seclog_lines(log), 6);
    /* a minute after the first: three more in full */
    for (int i = 0; i < 4; i++)
        CHECK_OK(collab_seclog_emit(log, 61000 + (uint64_t)i, "login_failed", "agent_id", "nobody",
                                    "peer", "10.0.0.9", NULL));
    collab_seclog_destroy(&log); /* the last one, counted, is written on the way out */
    char *text = slurp(path);
    sums_t a = sums(text, "login_failed", "10.0.0.9");
    CHECK_EQ_U64(a.full, 6);
    CHECK_EQ_U64(a.counted, 8);
    CHECK_EQ_U64(a.aggregates, 4);
    free(text);
    unlink(path);

    log = fresh(path); /* 0: every failed login counted */
    collab_seclog_set_failed_login_lines(log, 0);
    CHECK_OK(collab_seclog_emit(log, 1000, "login_failed", "peer", "10.0.0.9", NULL));
    CHECK_EQ_U64(collab_seclog_lines(log), 0);
    collab_seclog_destroy(&log);
    text = slurp(path);
    CHECK_EQ_U64(sums(text, "login_failed", NULL).counted, 1);
    free(text);
    unlink(path);
}

/*  Many peers at once: past the table they are counted under "*"; every refusal is in a
    line or a count, and no second holds more than the cap's lines of refusals. */
static void test_table_and_cap(void)
{
    const char *path = tmp_path("cap.log");
    collab_seclog_t *log = fresh(path);
    if (!log)
        return;
    CHECK_OK(collab_seclog_emit(log, 1000, "broker_started", NULL));
    uint64_t sent = 0;
    char peer[32];
    for (uint64_t t = 1000; t < 11000; t += 50) { /* ten seconds of 1000 peers, 20 a second */
        for (int p = 0; p < 1000; p++) {
            snprintf(peer, sizeof peer, "10.1.%d.%d", p / 250, p % 250);
            refuse(log, t, peer);
            sent++;
        }
        CHECK_OK(collab_seclog_emit(log, t, "login_ok", "peer", "10.9.9.9", NULL)); /* kept */
        collab_seclog_tick(log, t);
    }
    collab_seclog_destroy(&log);
    char *text = slurp(path);
    sums_t a = sums(text, "request_refused", NULL);
    CHECK_EQ_U64(a.full + a.counted, sent);
    CHECK(a.star > 0);
    CHECK_EQ_U64(sums(text, "login_ok", NULL).full, 200);
    CHECK_EQ_U64(sums(text, "broker_started", NULL).full, 1);
    /* lines of refusals per second (the last, 10, has the uncapped ones of destroy) */
    uint64_t per_s[12] = {0};
    size_t n = count_lines(text);
    const char *line = text, *end = text + strlen(text);
    cJSON *o;
    while (next_line(&line, end, &o)) {
        const char *ev = str_field(o, "event");
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
        if (ev && (strcmp(ev, "request_refused") == 0 || strcmp(ev, "refusals_aggregated") == 0))
            per_s[(uint64_t)ts->valuedouble / 1000 < 12 ? (uint64_t)ts->valuedouble / 1000 : 11]++;
        cJSON_Delete(o);
    }
    for (int s = 1; s < 10; s++) {
        CHECK(per_s[s] <= COLLAB_SECLOG_REFUSAL_LINES_PER_S);
        CHECK(per_s[s] >= COLLAB_SECLOG_REFUSAL_LINES_PER_S / 2);
    }
    fprintf(stderr, "  1000 peers, 10 s: %zu lines, %llu refusals in full, %llu aggregates\n", n,
            (unsigned long long)a.full, (unsigned long long)a.aggregates);
    free(text);
    unlink(path);
}

/*  The table's slots are found by probing from each key's hash; the tick frees the slots
    whose counts are written and whose window is over, and rehashes the rest. A peer must
    find its own slot again after that, however crowded the table was when it took it: B's
    second refusal, in the window of its first (written in full), is counted, never written
    in full from a second slot. Per round: a crowd A (150 peers) takes slots first, B (10)
    takes slots among them in the next second, the ticks free A's slots while B's window
    lasts, and B comes back in a second whose cap has room. */
static void test_slots_found_after_rehash(void)
{
    const char *path = tmp_path("rehash.log");
    collab_seclog_t *log = fresh(path);
    if (!log)
        return;
    char peer[32];
    const int rounds = 3;
    for (int r = 0; r < rounds; r++) {
        uint64_t base = 1000 + (uint64_t)r * 20000;
        for (int p = 0; p < 150; p++) {
            snprintf(peer, sizeof peer, "10.5.%d.%d", r, p);
            refuse(log, base, peer); /* A */
        }
        for (int p = 0; p < 10; p++) {
            snprintf(peer, sizeof peer, "10.6.%d.%d", r, p);
            refuse(log, base + 1010, peer); /* B, in full */
        }
        for (uint64_t t = base + 1020; t < base + 2000; t += 250)
            collab_seclog_tick(log, t); /* A's counts written, A's slots freed, rehashed */
        for (int p = 0; p < 10; p++) {
            snprintf(peer, sizeof peer, "10.6.%d.%d", r, p);
            refuse(log, base + 2005, peer); /* B again, in its window */
        }
        for (uint64_t t = base + 2250; t < base + 20000; t += 250)
            collab_seclog_tick(log, t); /* every count written, every slot freed */
    }
    collab_seclog_destroy(&log);
    char *text = slurp(path);
    for (int r = 0; r < rounds; r++)
        for (int p = 0; p < 10; p++) {
            snprintf(peer, sizeof peer, "10.6.%d.%d", r, p);
            sums_t b = sums(text, "request_refused", peer);
            CHECK_EQ_U64(b.full, 1);
            CHECK_EQ_U64(b.full + b.counted, 2);
        }
    sums_t all = sums(text, "request_refused", NULL);
    CHECK_EQ_U64(all.full + all.counted, (uint64_t)rounds * 170);
    free(text);
    unlink(path);
}

/*  Aggregates are chained like any line: the log verifies, across a rotation too. */
static void test_chained(void)
{
    static const uint8_t key[COLLAB_AUDIT_KEY_LEN] = {7};
    const char *p = tmp_path("chain.log");
    char path[600], old[610], err[256];
    snprintf(path, sizeof path, "%s", p);
    snprintf(old, sizeof old, "%s.1", path);
    unlink(path);
    unlink(old);
    collab_seclog_t *log = collab_seclog_open(path, 8192, err, sizeof err);
    collab_audit_head_t zero = {0};
    if (!CHECK(log != NULL) || !CHECK(collab_seclog_chain(log, key, &zero, NULL, NULL) == 0))
        return;
    for (uint64_t t = 1000; t < 8000; t += 10) {
        refuse(log, t, t % 20 ? "10.0.0.1" : "10.0.0.2");
        CHECK_OK(collab_seclog_emit(log, t, "login_failed", "peer", "10.0.0.3", NULL));
        collab_seclog_tick(log, t);
    }
    collab_seclog_destroy(&log);
    const char *paths[2] = {old, path};
    collab_audit_report_t rep;
    CHECK_EQ_INT(collab_audit_verify(key, paths, 2, NULL, &rep), COLLAB_AUDIT_OK);
    char *text = slurp(path);
    CHECK(text && strstr(text, "\"refusals_aggregated\"") != NULL);
    free(text);
    unlink(path);
    unlink(old);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TU_RUN(test_lines);
    TU_RUN(test_rotation);
    TU_RUN(test_discard_and_errors);
    TU_RUN(test_aggregation);
    TU_RUN(test_failed_logins);
    TU_RUN(test_table_and_cap);
    TU_RUN(test_slots_found_after_rehash);
    TU_RUN(test_chained);
    rmdir(tmpdir);
    return tu_exit("test_seclog");
}
