/*  test_broker_config.c: collab-broker's options as a user meets them: --show-config,
    profiles and single switches (a strong switch whose key file is not right refuses to
    start rather than run weak), configuration files, credentials and state files that are not right
   (exit 2, naming the file, leaving it untouched), --reset-state, and one strong switch that is
    built (session_ids) taking effect. */
#include "collab_controls.h"
#include "itest.h"

#include <stdarg.h>
#include <sys/stat.h>

static broker_proc_t B;
static char OUT[65536], ERR[65536];
static char PATH_STATE[400], PATH_LOG[400], PATH_TMP[400];

/*  Runs the broker once with the test's own files and an ephemeral port, then the
    NULL-terminated args; its exit code (-1 if it had to be killed: it did not exit). */
static int run(const char *first, ...)
{
    const char *args[24] = {"--state",        PATH_STATE, "--credentials", B.creds,
                            "--security-log", PATH_LOG,   "--bind",        "tcp://127.0.0.1:*"};
    int n = 8;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 23; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return broker_run_capture(&B, args, OUT, sizeof OUT, ERR, sizeof ERR, 10000);
}

static void write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(bytes, 1, len, f) == len);
    if (f)
        fclose(f);
}

static bool has(const char *text, const char *needle)
{
    if (strstr(text, needle))
        return true;
    fprintf(stderr, "  missing \"%s\" in:\n%s\n", needle, text);
    return false;
}

/*  A whole line of the output: "key = value\n" at the start or after a newline. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, line, n) == 0 && p[n] == '\n')
            return true;
    fprintf(stderr, "  missing the line \"%s\" in:\n%s\n", line, text);
    return false;
}

static void test_show_config(void)
{
    it_begin("--show-config");
    char line[64];
    CHECK_EQ_INT(run("--show-config", NULL), 0);
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        snprintf(line, sizeof line, "%s = weak", collab_control_name(i));
        CHECK(has_line(OUT, line));
    }
    CHECK(has_line(OUT, "sessions.idle_timeout_s = 1800"));
    CHECK(has_line(OUT, "session_lifetime.max_s = 28800"));
    CHECK(has_line(OUT, "transport.max_msg_bytes = 131072"));
    CHECK(has_line(OUT, "limits.projects_per_agent = 100"));
    CHECK(has_line(OUT, "replay.weak_window_s = 1800"));
    CHECK(has_line(OUT, "sessions.max_open = 20000"));
    CHECK_EQ_INT(run("--set", "sessions.idle_timeout_s=77", "--show-config", NULL), 0);
    CHECK(has_line(OUT, "sessions.idle_timeout_s = 77"));
    CHECK_EQ_INT(run("--profile", "hardened", "--show-config", NULL), 0);
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        snprintf(line, sizeof line, "%s = strong", collab_control_name(i));
        CHECK(has_line(OUT, line));
    }
    /* precedence: the file's profile line, then its later lines, then each --set */
    const char cfg[] = "profile = hardened   # every switch strong\n"
                       "replay = weak\n"
                       "sessions.idle_timeout_s = 60\n";
    write_file(PATH_TMP, cfg, sizeof cfg - 1);
    CHECK_EQ_INT(
        run("--config", PATH_TMP, "--set", "sessions.idle_timeout_s=90", "--show-config", NULL), 0);
    CHECK(has_line(OUT, "replay = weak") && has_line(OUT, "audit = strong"));
    CHECK(has_line(OUT, "sessions.idle_timeout_s = 90"));
}

static void test_refusals(void)
{
    it_begin("refused configurations");
    /* key files that are not right: readable by others, or not 32 bytes */
    char key[420], set[480];
    snprintf(key, sizeof key, "%s/open.key", B.dir);
    write_file(key, "0123456789abcdef0123456789abcdef", 32);
    CHECK(chmod(key, 0644) == 0);
    snprintf(set, sizeof set, "state_at_rest.key_file=%s", key);
    CHECK_EQ_INT(run("--set", "state_at_rest=strong", "--set", set, NULL), 2);
    CHECK(has(ERR, key) && has(ERR, "permissions"));
    CHECK(chmod(key, 0600) == 0);
    write_file(key, "short", 5);
    snprintf(set, sizeof set, "audit.key_file=%s", key);
    CHECK_EQ_INT(run("--set", "audit=strong", "--set", set, NULL), 2);
    CHECK(has(ERR, key) && has(ERR, "32"));
    CHECK_EQ_INT(run("--profile", "bogus", NULL), 2);
    CHECK(has(ERR, "bogus"));
    CHECK_EQ_INT(run("--set", "replay=sometimes", NULL), 2);
    CHECK_EQ_INT(run("--set", "sessions.idle_timeout_s=abc", NULL), 2);
    CHECK_EQ_INT(run("--set", "transport.max_msg_bytes=1000", NULL), 2);
    CHECK_EQ_INT(
        run("--set", "sessions.idle_timeout_s=5000", "--set", "session_lifetime.max_s=100", NULL),
        2);
    CHECK(has(ERR, "must be below"));

    char where[480];
    const char cfg[] = "# a comment\nprofile = stage2\nno_such_key = 1\n";
    write_file(PATH_TMP, cfg, sizeof cfg - 1);
    CHECK_EQ_INT(run("--config", PATH_TMP, NULL), 2);
    snprintf(where, sizeof where, "%s:3:", PATH_TMP);
    CHECK(has(ERR, where) && has(ERR, "no_such_key"));
    const char cfg2[] = "sessions.idle_timeout_s = soon\n";
    write_file(PATH_TMP, cfg2, sizeof cfg2 - 1);
    CHECK_EQ_INT(run("--config", PATH_TMP, NULL), 2);
    snprintf(where, sizeof where, "%s:1:", PATH_TMP);
    CHECK(has(ERR, where));
}

static void test_bad_files(void)
{
    it_begin("bad credentials and state files");
    char creds[400], state[400], probe[420];
    snprintf(creds, sizeof creds, "%s/creds.json", B.dir);
    write_file(creds, "{ \"agents\": [ not json", 22);
    const char *args[] = {"--state", PATH_STATE, "--credentials",     creds, "--security-log",
                          PATH_LOG,  "--bind",   "tcp://127.0.0.1:*", NULL};
    CHECK_EQ_INT(broker_run_capture(&B, args, OUT, sizeof OUT, ERR, sizeof ERR, 10000), 2);
    CHECK(has(ERR, creds));
    snprintf(creds, sizeof creds, "%s/no-such-file.json", B.dir);
    args[3] = creds;
    CHECK_EQ_INT(broker_run_capture(&B, args, OUT, sizeof OUT, ERR, sizeof ERR, 10000), 2);
    CHECK(has(ERR, creds));

    /* random bytes where the state file should be: refused, and not a byte written */
    static uint8_t garbage[8192], after[8192 + 1];
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < sizeof garbage; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        garbage[i] = (uint8_t)x;
    }
    snprintf(state, sizeof state, "%s/garbage.db", B.dir);
    write_file(state, garbage, sizeof garbage);
    args[1] = state;
    args[3] = B.creds;
    CHECK_EQ_INT(broker_run_capture(&B, args, OUT, sizeof OUT, ERR, sizeof ERR, 10000), 2);
    CHECK(has(ERR, state));
    FILE *f = fopen(state, "rb");
    size_t n = f ? fread(after, 1, sizeof after, f) : 0;
    if (f)
        fclose(f);
    CHECK_MEM(after, n, garbage, sizeof garbage);
    struct stat st;
    snprintf(probe, sizeof probe, "%s-wal", state);
    CHECK(stat(probe, &st) != 0);
    snprintf(probe, sizeof probe, "%s-journal", state);
    CHECK(stat(probe, &st) != 0);
}

/*  --reset-state empties the lab: projects, sessions and changed roles are gone. */
static void test_reset_state(void)
{
    it_begin("--reset-state");
    if (!CHECK(broker_start(&B, NULL) == 0))
        return;
    collab_client_t *c = it_client(&B, "coordinator1", true);
    collab_client_t *a = it_client(&B, "admin", true);
    collab_reply_t r;
    collab_map_t m;
    if (!c || !a)
        goto out;
    it_create_project(c, "kept by a plain restart");
    CHECK_OK(it_call(a, NULL, "set_role", "agent_id", "worker1", "role", "observer", NULL));
    CHECK_EQ_INT(broker_stop(&B), 0);
    CHECK_OK(broker_restart(&B));
    CHECK_EQ_U64(it_project_total(c), 1);
    CHECK_OK(it_call(a, &r, "list_agents", NULL));
    CHECK(it_find_in_array(&r.map, "agents", "agent_id", "worker1", &m) == 0 &&
          it_str_is(&m, "role", "observer"));
    collab_reply_free(&r);
    CHECK_EQ_INT(broker_stop(&B), 0);
    const char *const reset[] = {"--reset-state", NULL};
    CHECK_OK(broker_restart_with(&B, reset));
    CHECK_RC(it_call(c, NULL, "heartbeat", NULL), COLLAB_E_SESSION_INVALID);
    CHECK_OK(collab_client_login(c));
    CHECK_EQ_U64(it_project_total(c), 0);
    CHECK_OK(it_call(c, &r, "list_agents", NULL));
    CHECK(it_find_in_array(&r.map, "agents", "agent_id", "worker1", &m) == 0 &&
          it_str_is(&m, "role", "worker")); /* from the credentials file again */
    collab_reply_free(&r);
out:
    collab_client_destroy(&a);
    collab_client_destroy(&c);
    broker_stop(&B);
}

/*  A built strong switch takes effect: session ids become 43 base64url characters. */
static void test_strong_session_ids(void)
{
    it_begin("session_ids=strong");
    const char *const strong[] = {"--reset-state", "--set", "session_ids=strong", NULL};
    if (!CHECK(broker_restart_with(&B, strong) == 0))
        return;
    collab_client_t *c = it_client(&B, "worker2", true);
    const char *sid = c ? collab_client_session(c) : "";
    CHECK_EQ_INT(strlen(sid), 43);
    CHECK(strspn(sid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
    collab_client_destroy(&c);
    CHECK_EQ_INT(broker_stop(&B), 0);
}

int main(int argc, char **argv)
{
    if (argc < 3 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    snprintf(PATH_STATE, sizeof PATH_STATE, "%s/once.db", B.dir);
    snprintf(PATH_LOG, sizeof PATH_LOG, "%s/once.log", B.dir);
    snprintf(PATH_TMP, sizeof PATH_TMP, "%s/broker.cfg", B.dir);
    test_show_config();
    test_refusals();
    test_bad_files();
    test_reset_state();
    test_strong_session_ids();
    broker_cleanup(&B);
    zsys_shutdown();
    return it_exit("test_broker_config");
}
