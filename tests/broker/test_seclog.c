/*  test_seclog.c: the security log: one valid JSON object per line with ts, time, event and
    the given pairs (NULL values skipped), rotation at the size limit keeping one old file,
    the discarding log. */
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

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TU_RUN(test_lines);
    TU_RUN(test_rotation);
    TU_RUN(test_discard_and_errors);
    rmdir(tmpdir);
    return tu_exit("test_seclog");
}
