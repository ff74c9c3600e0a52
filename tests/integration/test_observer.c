/*  test_observer.c: collab-observer run as a child process against a live broker: the
    line log of a coordinator's and a worker's work, in order, with exit 0 after
    --max-events; proof that it changed nothing; --until-idle-ms; SIGTERM and SIGINT; the
    live table on a pseudo-terminal; text printed raw under stage2 and escaped when the
    login reply asks for sanitized output. */
#include "childproc.h"
#include "itest.h"

#include <cJSON.h>
#include <czmq.h>
#include <signal.h>
#include <stdlib.h>

#define WAIT_MS 15000

static broker_proc_t B;
static const char *OBSERVER, *ADMIN;

/*  Starts the observer as viewer1 (no key: it could not sign a change even if it tried)
    with the extra arguments, and waits until it is subscribed. */
static int start_observer(child_t *c, bool pty, const char *const *extra)
{
    const char *argv[32] = {OBSERVER,     "--broker",  B.endpoint,     "--agent", "viewer1",
                            "--password", "viewer123", "--timeout-ms", "5000"};
    int n = 9;
    for (int i = 0; extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    if (!CHECK((pty ? child_start_pty(c, argv, 40, 120) : child_start(c, argv)) == 0))
        return -1;
    if (!CHECK(child_expect(c, !pty, "watching every project and task event", 0, WAIT_MS) >= 0)) {
        fprintf(stderr, "observer did not start:\n%s%s", c->out, c->err);
        return -1;
    }
    return 0;
}

/*  The n-th line (from 0) of text, copied into line. */
static bool nth_line(const char *text, int n, char *line, size_t cap)
{
    const char *p = text;
    for (int i = 0; i < n && p; i++)
        if ((p = strchr(p, '\n')) != NULL)
            p++;
    if (!p || !*p)
        return false;
    size_t len = strcspn(p, "\n");
    snprintf(line, cap, "%.*s", (int)(len < cap ? len : cap - 1), p);
    return true;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        n++;
    return n;
}

/*  Checks that line n of the output holds every needle (NULL-terminated). */
static void line_has(const child_t *c, int n, const char *const *needles)
{
    char line[4096];
    if (!CHECK(nth_line(c->out, n, line, sizeof line))) {
        fprintf(stderr, "no line %d in:\n%s", n, c->out);
        return;
    }
    int hh, mm, ss, ms;
    unsigned long long seq;
    CHECK(sscanf(line, "%2d:%2d:%2d.%3d #%llu", &hh, &mm, &ss, &ms, &seq) == 5);
    for (int i = 0; needles[i]; i++)
        if (!CHECK(strstr(line, needles[i]) != NULL))
            fprintf(stderr, "line %d lacks '%s': %s\n", n, needles[i], line);
}

#define LINE_HAS(c, n, ...) line_has((c), (n), (const char *const[]){__VA_ARGS__, NULL})

static uint64_t P1, T1, T2;

/*  The coordinator's and the worker's work that the first test watches: 5 events. */
static void do_work(void)
{
    collab_client_t *co = it_client(&B, "coordinator1", true), *w = it_client(&B, "worker1", true);
    collab_reply_t r;
    char p[32], t[32];
    if (!co || !w)
        return;
    CHECK_OK(it_call(co, &r, "create_project", "name", "Alpha", "description", "watched", NULL));
    P1 = it_u64(&r, "project_id");
    collab_reply_free(&r);
    snprintf(p, sizeof p, "u:%llu", (unsigned long long)P1);
    CHECK_OK(it_call(co, &r, "assign_task", "project_id", p, "type", "testing", "title",
                     "write tests", "worker", "worker1", NULL));
    T1 = it_u64(&r, "task_id");
    collab_reply_free(&r);
    CHECK_OK(it_call(co, &r, "assign_task", "project_id", p, "type", "review", "title",
                     "review \x1b[31mred\x1b[0m", "worker", "worker2", NULL));
    T2 = it_u64(&r, "task_id");
    collab_reply_free(&r);
    snprintf(t, sizeof t, "u:%llu", (unsigned long long)T1);
    CHECK_OK(it_call(w, NULL, "update_task_status", "task_id", t, "status", "in_progress", NULL));
    CHECK_OK(it_call(w, NULL, "update_task_status", "task_id", t, "status", "completed", "result",
                     "42 tests", NULL));
    collab_client_destroy(&w);
    collab_client_destroy(&co);
}

/*  Every security-log line about viewer1 is its login or the end of its session. */
static void check_seclog_quiet(void)
{
    FILE *f = fopen(B.seclog, "r");
    char line[4096];
    int mine = 0;
    if (!CHECK(f != NULL))
        return;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "\"viewer1\"")) {
            mine++;
            if (!CHECK(strstr(line, "login_ok") || strstr(line, "session_created") ||
                       strstr(line, "session_ended")))
                fprintf(stderr, "observer in the security log: %s", line);
        }
    fclose(f);
    CHECK(mine >= 1);
    CHECK_EQ_INT(broker_seclog_count(&B, "request_refused"), 0);
}

static double stat_of(const char *counter)
{
    child_t c;
    const char *argv[] = {ADMIN,        "--broker", B.endpoint, "--agent", "admin",
                          "--password", "admin123", "--json",   "stats",   NULL};
    double v = -1;
    if (CHECK(child_run(&c, argv, NULL, WAIT_MS) == 0)) {
        cJSON *j = cJSON_Parse(c.out);
        cJSON *n = cJSON_GetObjectItemCaseSensitive(j, counter);
        if (CHECK(cJSON_IsNumber(n)))
            v = n->valuedouble;
        cJSON_Delete(j);
    }
    child_free(&c);
    return v;
}

static void test_line_log(void)
{
    child_t c;
    if (start_observer(&c, false, (const char *const[]){"--lines", "--max-events", "5", NULL}))
        goto out;
    CHECK(strstr(c.err, "printed raw") != NULL); /* stage2: the deliberate weakness */
    do_work();
    CHECK_EQ_INT(child_wait(&c, WAIT_MS), 0);
    CHECK_EQ_INT(count_lines(c.out), 5);
    char p[32], t1[32], t2[32];
    snprintf(p, sizeof p, "project=%llu", (unsigned long long)P1);
    snprintf(t1, sizeof t1, "task=%llu", (unsigned long long)T1);
    snprintf(t2, sizeof t2, "task=%llu", (unsigned long long)T2);
    LINE_HAS(&c, 0, "#1 project_created", p, "name=\"Alpha\"", "owner=coordinator1");
    LINE_HAS(&c, 1, "#2 task_assigned", t1, p, "type=testing", "title=\"write tests\"",
             "to=worker1", "by=coordinator1");
    LINE_HAS(&c, 2, "#3 task_assigned", t2, "title=\"review \x1b[31mred\x1b[0m\"", "to=worker2");
    LINE_HAS(&c, 3, "#4 task_status_changed", t1, "status=in_progress", "was=assigned",
             "by=worker1");
    LINE_HAS(&c, 4, "#5 task_status_changed", t1, "status=completed", "was=in_progress",
             "result=\"42 tests\"");
    /* it changed nothing: no refusal, nothing of its own in the log, one project in all */
    check_seclog_quiet();
    CHECK_EQ_INT(stat_of("refused_signature"), 0);
    CHECK_EQ_INT(stat_of("refused_forbidden"), 0);
    collab_client_t *co = it_client(&B, "coordinator1", true);
    collab_reply_t r;
    if (co && CHECK(it_call(co, &r, "list_projects", NULL) == 0)) {
        CHECK_EQ_U64(it_u64(&r, "total"), 1);
        collab_reply_free(&r);
    }
    collab_client_destroy(&co);
out:
    child_free(&c);
}

static void test_idle_and_signals(void)
{
    child_t c;
    if (start_observer(&c, false,
                       (const char *const[]){"--lines", "--until-idle-ms", "300", NULL}) == 0) {
        CHECK_EQ_INT(child_wait(&c, WAIT_MS), 0);
        CHECK_EQ_INT(c.out_len, 0);
    }
    child_free(&c);
    int sigs[] = {SIGTERM, SIGINT};
    for (int i = 0; i < 2; i++) {
        if (start_observer(&c, false, (const char *const[]){"--lines", NULL}) == 0) {
            child_signal(&c, sigs[i]);
            CHECK_EQ_INT(child_wait(&c, WAIT_MS), 0);
        }
        child_free(&c);
    }
    child_t bad;
    const char *argv[] = {OBSERVER, "--max-events", "many", NULL};
    CHECK_EQ_INT(child_run(&bad, argv, NULL, WAIT_MS), 2);
    child_free(&bad);
}

static void test_live_table(void)
{
    child_t c;
    collab_client_t *co = it_client(&B, "coordinator1", true);
    if (start_observer(&c, true, (const char *const[]){"--max-events", "1", NULL}) == 0) {
        /* the table was filled from list_projects and get_project before any event */
        CHECK(child_expect(&c, false, "\x1b[2J", 0, WAIT_MS) >= 0);
        CHECK(child_expect(&c, false, "Alpha", 0, WAIT_MS) >= 0);
        CHECK(child_expect(&c, false, "write tests", 0, WAIT_MS) >= 0);
        CHECK(child_expect(&c, false, "completed", 0, WAIT_MS) >= 0);
        size_t mark = c.out_len;
        CHECK(co && it_call(co, NULL, "create_project", "name", "Beta", NULL) == 0);
        long at = child_expect(&c, false, "\x1b[2J", mark, WAIT_MS); /* redrawn in place */
        CHECK(at >= 0);
        CHECK(at >= 0 && child_expect(&c, false, "Beta", (size_t)at, WAIT_MS) >= 0);
        CHECK(at >= 0 && child_expect(&c, false, "project_created", (size_t)at, WAIT_MS) >= 0);
        CHECK(at >= 0 && child_expect(&c, false, "2 projects, 2 tasks", (size_t)at, WAIT_MS) >= 0);
        CHECK_EQ_INT(child_wait(&c, WAIT_MS), 0);
    }
    child_free(&c);
    collab_client_destroy(&co);
}

/*  An admin revokes the observer's session: it shows the event, logs in again by itself
    and goes on watching. */
static void test_revoked(void)
{
    child_t c;
    collab_client_t *admin = it_client(&B, "admin", true);
    collab_client_t *co = it_client(&B, "coordinator1", true);
    if (!admin || !co)
        goto out;
    if (start_observer(&c, false, (const char *const[]){"--lines", "--max-events", "2", NULL}) ==
        0) {
        CHECK_OK(it_call(admin, NULL, "revoke_session", "agent_id", "viewer1", NULL));
        CHECK(child_expect(&c, true, "logged in again and re-subscribed", 0, WAIT_MS) >= 0);
        CHECK_OK(it_call(co, NULL, "create_project", "name", "Delta", NULL));
        CHECK_EQ_INT(child_wait(&c, WAIT_MS), 0);
        LINE_HAS(&c, 0, "session_revoked", "by=admin");
        LINE_HAS(&c, 1, "project_created", "name=\"Delta\"");
    }
    child_free(&c);
out:
    collab_client_destroy(&co);
    collab_client_destroy(&admin);
}

/*  Text stored under stage2 reaches an observer of a broker that now sanitizes: the
    observer escapes it. */
static void test_sanitized(void)
{
    collab_client_t *co = it_client(&B, "coordinator1", true);
    collab_reply_t r;
    char p[32];
    if (!co ||
        !CHECK(it_call(co, &r, "create_project", "name", "Evil \x1b[2J\x1b[Hname", NULL) == 0)) {
        collab_client_destroy(&co);
        return;
    }
    snprintf(p, sizeof p, "u:%llu", (unsigned long long)it_u64(&r, "project_id"));
    collab_reply_free(&r);
    collab_client_destroy(&co);
    CHECK_EQ_INT(broker_stop(&B), 0);
    B.extra[0] = strdup("--set");
    B.extra[1] = strdup("text_fields=strong");
    if (!CHECK(broker_restart(&B) == 0))
        return;
    child_t c;
    if (start_observer(&c, false, (const char *const[]){"--lines", "--max-events", "1", NULL})) {
        child_free(&c);
        return;
    }
    CHECK(strstr(c.err, "escaped") != NULL);
    co = it_client(&B, "coordinator1", true);
    CHECK(co && it_call(co, NULL, "close_project", "project_id", p, NULL) == 0);
    CHECK_EQ_INT(child_wait(&c, WAIT_MS), 0);
    LINE_HAS(&c, 0, "project_closed", "name=\"Evil \\x1b[2J\\x1b[Hname\"", "by=coordinator1");
    CHECK(memchr(c.out, 0x1b, c.out_len) == NULL);
    child_free(&c);
    collab_client_destroy(&co);
}

int main(int argc, char **argv)
{
    if (argc < 5 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    OBSERVER = argv[3];
    ADMIN = argv[4];
    if (!CHECK(broker_start(&B, NULL) == 0))
        return 1;
    TU_RUN(test_line_log);
    TU_RUN(test_idle_and_signals);
    TU_RUN(test_live_table);
    TU_RUN(test_revoked);
    TU_RUN(test_sanitized);
    broker_cleanup(&B);
    zsys_shutdown();
    return it_exit("test_observer");
}
