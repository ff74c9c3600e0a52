/*  test_client_menu.c: collab-client, the seed's interactive menu, driven through its
    standard input as a child process against a live broker: a coordinator creates and
    lists a project and assigns a task, logs out, a worker logs in and moves the task to
    completed, the details show it, and a separate client confirms the state. Also: end of
    input, a missing key, a wrong password, preset --agent/--password, answers checked as
    typed, the task types of the registered workers, an expired session that asks for a new
    login, an unreachable or invalid endpoint, and the attack demonstrations 8-11 in the
    order 8 9 10 11 11 10 9 8 (each the same verdict, the lab put back), also against a
    hardened broker over CURVE (the control that decided named from the attack's evidence):
    those are in test_client_menu_demos.c. */
#include "client_menu.h"
#include "collab_clock.h"
#include "itest.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

broker_proc_t B;
const char *CLIENT, *SAMPLE;
char PWDIR[400];
child_t C;
size_t mark;

/*  Starts the client with the broker endpoint and the extra arguments. */
static bool start_client(const char *const *extra)
{
    const char *argv[32] = {CLIENT, "--broker", B.endpoint, "--timeout-ms", "5000"};
    int n = 5;
    for (int i = 0; extra[i] && n < 31; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    mark = 0;
    return CHECK(child_start(&C, argv) == 0);
}

bool expect(const char *needle)
{
    long at = child_expect(&C, false, needle, mark, WAIT_MS);
    if (!CHECK(at >= 0)) {
        fprintf(stderr, "client output lacks '%s' after byte %zu:\n%s\n", needle, mark,
                C.out + (mark <= C.out_len ? mark : C.out_len));
        return false;
    }
    mark = (size_t)at;
    return true;
}

/*  Answers the question ending in prompt. */
static void ask(const char *prompt, const char *line)
{
    expect(prompt);
    child_write(&C, line);
    child_write(&C, "\n");
}

/*  The number printed right after the mark. */
static unsigned long long number_here(void)
{
    unsigned long long v = 0;
    CHECK(sscanf(C.out + mark, "%llu", &v) == 1);
    return v;
}

static void login(const char *agent, const char *password)
{
    char want[128];
    ask("Choice: ", "1");
    ask("Agent ID: ", agent);
    ask("Password: ", password);
    snprintf(want, sizeof want, "Logged in as %s (role ", agent);
    expect(want);
}

static unsigned long long P, T;

/*  Registers agent as a worker offering the capabilities (NULL-terminated). */
static void register_worker(broker_proc_t *b, const char *agent, const char *const *caps)
{
    uint8_t buf[256];
    size_t n = 0, len;
    collab_pack_t p;
    collab_reply_t r;
    collab_client_t *c = it_client(b, agent, true);
    while (caps[n])
        n++;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "capabilities");
    collab_pack_array(&p, (uint32_t)n);
    for (size_t i = 0; i < n; i++)
        collab_pack_str(&p, caps[i]);
    if (c && CHECK(collab_pack_finish(&p, &len) == 0) &&
        CHECK(collab_client_request(c, "register_worker", buf, len, &r) == 0)) {
        CHECK(r.ok);
        collab_reply_free(&r);
    }
    if (c && it_call(c, NULL, "logout", NULL) != 0) /* the menu's own login is checked */
        CHECK(false);
    collab_client_destroy(&c);
}

/*  Expects needle, then the menu again, with no `absent` question in between: an answer
    refused before the next question is asked. */
static void refused_before(const char *needle, const char *absent)
{
    expect(needle);
    long menu = child_expect(&C, false, "Choice: ", mark, WAIT_MS);
    const char *next = strstr(C.out + mark, absent);
    CHECK(menu >= 0 && (!next || next - C.out > menu));
}

static void menu_part_coordinator(void)
{
    char buf[64];
    ask("Choice: ", "3");
    expect("Not logged in");
    login("coordinator1", "coord123");
    expect("Session ID: "); /* Stage 2 shows it */
    CHECK(strchr(" \n", C.out[mark]) == NULL);
    expect("signature scope weak, replay protection off, output sanitization off");

    ask("Choice: ", "3"); /* an empty name is refused before the description is asked */
    ask("Project name: ", "");
    refused_before("A project name is needed: it cannot be empty.", "Description");

    ask("Choice: ", "3");
    ask("Project name: ", "Menu Project");
    ask("Description (optional): ", "made from the menu");
    expect("Project created: #");
    P = number_here();
    expect("\"Menu Project\" (status open)");

    ask("Choice: ", "4");
    expect("NAME");
    snprintf(buf, sizeof buf, "\n%llu ", P);
    expect(buf);
    expect("Menu Project");
    expect("1 project in all.");

    ask("Choice: ", "5");
    ask("Project ID: ", "twelve");
    expect("'twelve' is not a number.");
    ask("Choice: ", "5");
    snprintf(buf, sizeof buf, "%llu", P);
    ask("Project ID: ", buf); /* the types offered are the registered workers' */
    ask("Task type (testing, documentation): ", "general");
    refused_before("'general' is not one of: testing, documentation.", "Task title");
    ask("Choice: ", "5");
    ask("Project ID: ", buf);
    ask("Task type (testing, documentation): ", "testing");
    ask("Task title: ", "menu task");
    ask("Description (optional): ", "");
    ask("Worker agent ID: ", "worker1");
    expect("Task #");
    T = number_here();
    expect(" assigned to worker1 (status assigned)");

    ask("Choice: ", "2");
    expect("Logged out coordinator1.");
}

static void menu_part_worker(void)
{
    char buf[64], want[64];
    login("worker1", "worker123");
    snprintf(buf, sizeof buf, "%llu", T);
    ask("Choice: ", "6"); /* an unknown status is refused before the result is asked */
    ask("Task ID: ", buf);
    ask("New status (in_progress, completed, failed, cancelled): ", "done");
    refused_before("'done' is not one of: in_progress, completed, failed, cancelled.", "Result");
    const char *steps[][3] = {{"in_progress", "", "is now in_progress"},
                              {"completed", "done via the menu", "is now completed"},
                              {"in_progress", "", "[conflict]"}};
    for (int i = 0; i < 3; i++) {
        ask("Choice: ", "6");
        ask("Task ID: ", buf);
        ask("New status (in_progress, completed, failed, cancelled): ", steps[i][0]);
        ask("Result (optional): ", steps[i][1]);
        expect(steps[i][2]);
    }
    ask("Choice: ", "7");
    snprintf(buf, sizeof buf, "%llu", P);
    ask("Project ID: ", buf);
    snprintf(want, sizeof want, "Project #%llu: Menu Project", P);
    expect(want);
    expect("owner: coordinator1");
    expect("description: made from the menu");
    expect("completed");
    expect("worker1");
    expect("menu task");
    expect("result: done via the menu");
    ask("Choice: ", "12");
    expect("Unknown choice '12'");
    ask("Choice: ", "0");
    expect("Goodbye.");
}

/*  What the menu did, seen by a separate client. */
static void check_state(void)
{
    collab_client_t *c = it_client(&B, "admin", true);
    collab_reply_t r;
    collab_span_t s;
    char id[32];
    if (!c)
        return;
    snprintf(id, sizeof id, "u:%llu", T);
    if (CHECK(it_call(c, &r, "get_task", "task_id", id, NULL) == 0)) {
        CHECK(collab_map_str(&r.map, "status", &s) == 0 && collab_span_eq(s, "completed"));
        CHECK(collab_map_str(&r.map, "result", &s) == 0 && collab_span_eq(s, "done via the menu"));
        CHECK(collab_map_str(&r.map, "assigned_to", &s) == 0 && collab_span_eq(s, "worker1"));
        CHECK(collab_map_str(&r.map, "title", &s) == 0 && collab_span_eq(s, "menu task"));
        CHECK_EQ_U64(it_u64(&r, "project_id"), P);
        collab_reply_free(&r);
    }
    snprintf(id, sizeof id, "u:%llu", P);
    if (CHECK(it_call(c, &r, "get_project", "project_id", id, NULL) == 0)) {
        CHECK(collab_map_str(&r.map, "name", &s) == 0 && collab_span_eq(s, "Menu Project"));
        CHECK(collab_map_str(&r.map, "owner", &s) == 0 && collab_span_eq(s, "coordinator1"));
        CHECK_EQ_U64(it_u64(&r, "task_total"), 1);
        collab_reply_free(&r);
    }
    /* quitting logged the worker out; the logout of option 2 ended the coordinator's */
    const char *who[] = {"worker1", "coordinator1"};
    for (int i = 0; i < 2; i++)
        if (CHECK(it_call(c, &r, "list_sessions", "agent_id", who[i], NULL) == 0)) {
            CHECK_EQ_U64(it_u64(&r, "total"), 0);
            collab_reply_free(&r);
        }
    collab_client_destroy(&c);
}

static void test_session(void)
{
    register_worker(&B, "worker1", (const char *const[]){"testing", "documentation", NULL});
    if (!start_client((const char *const[]){"--credentials", B.creds, NULL}))
        return;
    expect("Task Collaboration Client - Stage 2");
    expect("PARTIAL SECURITY - Still Vulnerable");
    const char *items[] = {"1. Login",
                           "2. Logout",
                           "3. Create new project",
                           "4. List projects",
                           "5. Assign task to worker",
                           "6. Update task status",
                           "7. Get project details",
                           "8. [ATTACK] Stale permissions demo",
                           "9. [ATTACK] Replay attack demo (STILL WORKS!)",
                           "10. [ATTACK] Session hijacking attempt",
                           "11. [ATTACK] Weak role enforcement",
                           "0. Quit"};
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        CHECK(child_expect(&C, false, items[i], 0, WAIT_MS) >= 0);
    CHECK(child_expect(&C, false, "Choice: ", 0, WAIT_MS) >= 0);
    menu_part_coordinator();
    menu_part_worker();
    CHECK_EQ_INT(child_wait(&C, WAIT_MS), 0);
    CHECK(strstr(C.out, "coord123") == NULL && strstr(C.out, "worker123") == NULL);
    child_free(&C);
    check_state();
}

static void test_end_of_input(void)
{
    const char *const inputs[] = {"", "1\ncoordinator1\n", "1\n", "5\n"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        const char *argv[] = {CLIENT, "--broker", B.endpoint, NULL};
        CHECK_EQ_INT(child_run(&C, argv, inputs[i], WAIT_MS), 0);
        CHECK(strstr(C.out, "End of input: quitting.") != NULL);
        child_free(&C);
    }
}

static void test_no_key(void)
{
    if (!start_client((const char *const[]){NULL}))
        return;
    login("coordinator1", "coord123");
    expect("No signing key for coordinator1");
    ask("Choice: ", "3");
    ask("Project name: ", "Unsigned");
    ask("Description (optional): ", "");
    expect("create_project must be signed with coordinator1's key");
    expect("--credentials FILE");
    ask("Choice: ", "4"); /* reads need no key */
    expect("1 project in all.");
    child_close_stdin(&C);
    CHECK_EQ_INT(child_wait(&C, WAIT_MS), 0);
    CHECK(strstr(C.out, "Project created") == NULL);
    child_free(&C);
}

static void test_login_failures_and_presets(void)
{
    /* --agent and --password answer the login's questions: none is asked */
    if (!start_client((const char *const[]){"--agent", "worker2", "--password", "worker234",
                                            "--credentials", B.creds, NULL}))
        return;
    ask("Choice: ", "1");
    expect("Agent ID: worker2 (--agent)");
    expect("Logged in as worker2 (role worker)");
    ask("Choice: ", "1");
    expect("Logging out worker2 first.");
    expect("Logged in as worker2 (role worker)");
    ask("Choice: ", "0");
    CHECK_EQ_INT(child_wait(&C, WAIT_MS), 0);
    CHECK(strstr(C.out, "Agent ID [") == NULL && strstr(C.out, "Agent ID: \n") == NULL);
    CHECK(strstr(C.out, "Password: ") == NULL);
    child_free(&C);

    if (!start_client((const char *const[]){"--credentials", B.creds, NULL}))
        return;
    ask("Choice: ", "1");
    ask("Agent ID: ", "");
    refused_before("An agent id of 1 to", "Password");
    ask("Choice: ", "1");
    ask("Agent ID: ", "worker3");
    ask("Password: ", "not-the-password");
    expect("Login failed: wrong agent id or password.");
    expect("[not logged in]");
    ask("Choice: ", "0");
    CHECK_EQ_INT(child_wait(&C, WAIT_MS), 0);
    child_free(&C);
}

/*  The session ends on the broker's idle timeout (1 s here): the next request says so and
    the client asks for a new login, offering the same agent. Not under Stage 2's
    announced controls (full signature scope), the session id is not shown. */
static void test_session_expired(void)
{
    broker_proc_t b;
    collab_reply_t r;
    if (!CHECK(broker_init(&b, B.exe, B.creds) == 0) ||
        !CHECK(broker_start(&b, (const char *const[]){"--set", "sessions.idle_timeout_s=1", "--set",
                                                      "signature_scope=strong", NULL}) == 0))
        return;
    const char *argv[] = {CLIENT, "--broker", b.endpoint, "--credentials", b.creds, NULL};
    mark = 0;
    if (!CHECK(child_start(&C, argv) == 0))
        return;
    login("coordinator1", "coord123");
    expect("signature scope full");
    CHECK(strstr(C.out, "Session ID:") == NULL);
    expect("Choice: ");
    /* wait, polling the broker, until the session has been idle past the timeout */
    collab_client_t *adm = it_client(&b, "admin", true);
    int64_t deadline = collab_mono_ms() + WAIT_MS;
    bool idle = false;
    while (adm && !idle && collab_mono_ms() < deadline) {
        collab_map_t s;
        uint64_t last = 0;
        if (it_call(adm, &r, "list_sessions", "agent_id", "coordinator1", NULL) != 0)
            break;
        idle = it_array_map_at(&r.map, "sessions", 0, &s) != 0 || /* swept already */
               (collab_map_uint(&s, "last_activity", &last) == 0 && it_now_ms() > last + 1500);
        collab_reply_free(&r);
    }
    collab_client_destroy(&adm);
    CHECK(idle);
    child_write(&C, "4\n");
    expect("Your session ");
    expect("you must re-authenticate.");
    ask("Agent ID [coordinator1]: ", "");
    ask("Password: ", "coord123");
    expect("Logged in as coordinator1 (role coordinator)");
    ask("Choice: ", "4");
    expect("project");
    ask("Choice: ", "0");
    CHECK_EQ_INT(child_wait(&C, WAIT_MS), 0);
    child_free(&C);
    broker_cleanup(&b);
}

/*  On a terminal the password is read without echo (the agent id is echoed as typed). */
static void test_tty_password(void)
{
    const char *argv[] = {CLIENT, "--broker", B.endpoint, "--timeout-ms", "5000", NULL};
    mark = 0;
    if (!CHECK(child_start_pty(&C, argv, 40, 100) == 0))
        return;
    ask("Choice: ", "1");
    ask("Agent ID: ", "viewer1");
    expect("viewer1"); /* the terminal's echo */
    ask("Password: ", "viewer123");
    expect("Logged in as viewer1 (role observer)");
    ask("Choice: ", "0");
    expect("Goodbye.");
    CHECK_EQ_INT(child_wait(&C, WAIT_MS), 0);
    CHECK(strstr(C.out, "viewer123") == NULL);
    child_free(&C);
}

static void test_unreachable(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0); /* bound, never listening: refuses */
    char ep[64];
    if (!CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
               getsockname(fd, (struct sockaddr *)&a, &len) == 0))
        return;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", ntohs(a.sin_port));
    /* the default timeouts: the first connection is given 5 s, not every login retry */
    const char *argv[] = {CLIENT, "--broker", ep, NULL};
    int64_t t0 = collab_mono_ms();
    CHECK_EQ_INT(child_run(&C, argv, "1\nadmin\nadmin123\n0\n", WAIT_MS), 0);
    CHECK(collab_mono_ms() - t0 < 8000);
    CHECK(strstr(C.out, "Login failed: the broker at") && strstr(C.out, "did not answer"));
    child_free(&C);
    const char *fast[] = {CLIENT, "--broker", ep, "--connect-timeout-ms", "300", NULL};
    t0 = collab_mono_ms();
    CHECK_EQ_INT(child_run(&C, fast, "1\nadmin\nadmin123\n0\n", WAIT_MS), 0);
    CHECK(collab_mono_ms() - t0 < 4000);
    CHECK(strstr(C.out, "did not answer") != NULL);
    child_free(&C);
    close(fd);
    const char *bad[] = {CLIENT, "--broker", "notaurl", NULL};
    CHECK_EQ_INT(child_run(&C, bad, "0\n", WAIT_MS), 3);
    CHECK(strstr(C.err, "'notaurl' is not a broker endpoint: expected tcp://HOST:PORT") != NULL);
    child_free(&C);
}

int main(int argc, char **argv)
{
    if (argc < 6 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    CLIENT = argv[3];
    setenv("COLLAB_ATTACK", argv[4], 1);
    SAMPLE = argv[5];
    if (!CHECK(broker_start(&B, NULL) == 0))
        return 1;
    write_passwords();
    TU_RUN(test_session);
    TU_RUN(test_end_of_input);
    TU_RUN(test_no_key);
    TU_RUN(test_login_failures_and_presets);
    TU_RUN(test_session_expired);
    TU_RUN(test_tty_password);
    TU_RUN(test_unreachable);
    TU_RUN(test_attack_demos);
    TU_RUN(test_attack_demos_hardened);
    child_free(&C);
    broker_cleanup(&B);
    zsys_shutdown();
    return it_exit("test_client_menu");
}
