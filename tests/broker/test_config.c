/*  test_config.c: the broker configuration: defaults, profiles, every switch, strict numbers,
    file errors with FILE:LINE, the sample broker.cfg, print/load round trip, validation.
    Usage: test_config PATH/TO/sample_data/broker.cfg */
#include "config.h"
#include "testutil.h"

#include <stdlib.h>
#include <unistd.h>

static const char *sample_cfg;
static char tmpdir[] = "/tmp/test_config.XXXXXX";

static bool configs_equal(const collab_config_t *a, const collab_config_t *b)
{
    /* both filled by collab_config_defaults first, so padding and path tails are zero */
    return memcmp(a, b, sizeof *a) == 0;
}

/*  Writes text to a file in the temporary directory; returns its path (static buffer). */
static const char *write_cfg(const char *name, const char *text)
{
    static char path[600];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!CHECK(f != NULL))
        return path;
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_defaults(void)
{
    collab_config_t c;
    char err[256];
    collab_config_defaults(&c);
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        CHECK(!c.strong[i]);
    CHECK_EQ_INT(c.absolute_lifetime_s, 28800);
    CHECK_EQ_INT(c.sessions_per_agent, 3);
    CHECK_STR(c.state_key_file, "state.key");
    CHECK_EQ_INT(c.replay_window_s, 60);
    CHECK_EQ_INT(c.weak_window_s, 1800);
    CHECK_EQ_INT(c.nonce_cache_max, 100000);
    CHECK(c.rate_agent_per_s == 20.0 && c.rate_peer_per_s == 50.0);
    CHECK_EQ_INT(c.rate_agent_burst, 40);
    CHECK_EQ_INT(c.rate_peer_burst, 100);
    /* the login and anonymous budgets: 0, that is the per-address (peer) values */
    CHECK(c.rate_login_per_s == 0.0 && c.rate_anon_per_s == 0.0);
    CHECK_EQ_INT(c.rate_login_burst, 0);
    CHECK_EQ_INT(c.rate_anon_burst, 0);
    CHECK_EQ_INT(c.lockout_failures, 5);
    CHECK_EQ_INT(c.lockout_s, 900);
    CHECK_EQ_INT(c.password_min_len, 12);
    CHECK_STR(c.curve_server_cert, "sample_data/curve/broker.cert");
    CHECK_STR(c.curve_clients_dir, "sample_data/curve/clients");
    CHECK_STR(c.audit_key_file, "audit.key");
    CHECK_STR(c.bind, "tcp://127.0.0.1:5555");
    CHECK_STR(c.state_path, "taskcollab.db");
    CHECK_STR(c.credentials_path, "sample_data/valid_credentials.json");
    CHECK_STR(c.security_log_path, "security.log");
    CHECK_EQ_INT(c.idle_timeout_s, 1800);
    CHECK_EQ_INT(c.max_sessions, 20000);
    CHECK_EQ_INT(c.max_projects_per_agent, 100);
    CHECK_EQ_INT(c.max_tasks_per_project, 1000);
    CHECK_EQ_INT(c.event_retention, 1000);
    CHECK_EQ_INT(c.hash_threads, 0);
    CHECK_EQ_INT(c.hash_queue_max, 256);
    CHECK_EQ_INT(c.hash_budget_ms, 0);
    CHECK_EQ_INT(c.hash_slice_us, 500);
    CHECK_EQ_INT(c.batch_max, 256);
    CHECK_EQ_INT(c.activity_flush_s, 5);
    CHECK_EQ_INT(c.stats_interval_s, 60);
    CHECK_EQ_U64(c.transport_max_msg, 131072);
    CHECK_EQ_INT(c.transport_backlog, 1024);
    CHECK_EQ_U64(c.security_log_max_bytes, 10485760);
    CHECK_STR(c.store_url, ""); /* a broker alone, on the SQLite file of state */
    CHECK_STR(c.store_node, "");
    CHECK_STR(c.store_password_file, "");
    CHECK_STR(c.store_prefix, "tc:");
    CHECK_EQ_INT(c.store_timeout_ms, 500);
    CHECK_EQ_INT(c.store_log_bound, 100000);
    CHECK_OK(collab_config_validate(&c, err, sizeof err));
}

/*  The cluster's settings: set, then emptied again (a broker alone), and bounded. */
static void test_store_settings(void)
{
    collab_config_t c;
    char err[256];
    collab_config_defaults(&c);
    CHECK_OK(collab_config_set(&c, "store = redis://127.0.0.1:6379/2", err, sizeof err));
    CHECK_OK(collab_config_set(&c, "store.node = b1", err, sizeof err));
    CHECK_OK(collab_config_set(&c, "store.password_file = /run/redis.pass", err, sizeof err));
    CHECK_STR(c.store_url, "redis://127.0.0.1:6379/2");
    CHECK_STR(c.store_node, "b1");
    CHECK_STR(c.store_password_file, "/run/redis.pass");
    CHECK_OK(collab_config_validate(&c, err, sizeof err));
    CHECK_OK(collab_config_set(&c, "store =", err, sizeof err));
    CHECK_STR(c.store_url, "");
    CHECK_OK(collab_config_validate(&c, err, sizeof err));
    CHECK_RC(collab_config_set(&c, "store.prefix =", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_config_set(&c, "store.timeout_ms = 5", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_config_set(&c, "state =", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_OK(collab_config_set(&c, "store.timeout_ms = 2000", err, sizeof err));
    CHECK_EQ_INT(c.store_timeout_ms, 2000);
    CHECK_RC(collab_config_set(&c, "store.log_bound = 9", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_OK(collab_config_set(&c, "store.log_bound = 50", err, sizeof err));
    CHECK_EQ_INT(c.store_log_bound, 50);
}

/*  collab_controls.def's list is well formed: LAB.md's numbers in order, distinct names
    that are configuration keys, a description of each setting. */
static void test_control_names(void)
{
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        const collab_control_info_t *c = collab_control_info(i);
        CHECK_EQ_INT(c->number, i + 1);
        CHECK(c->name[0] != '\0' &&
              strspn(c->name, "abcdefghijklmnopqrstuvwxyz_") == strlen(c->name));
        CHECK_EQ_INT(collab_control_find(c->name), i);
        CHECK(c->weak[0] != '\0' && c->strong[0] != '\0');
    }
    CHECK_STR(collab_control_name(COLLAB_CTL_SESSION_IDS), "session_ids");
    CHECK_STR(collab_control_name(COLLAB_CTL_REPLAY), "replay");
    CHECK_STR(collab_control_name(COLLAB_CTL_AUDIT), "audit");
    CHECK(collab_control_name(-1) == NULL);
    CHECK(collab_control_name(COLLAB_CONTROL_COUNT) == NULL);
    CHECK_EQ_INT(collab_control_find("Replay"), -1);
    CHECK_EQ_INT(collab_control_find(NULL), -1);
}

static void test_profiles(void)
{
    collab_config_t c;
    char err[256];
    collab_config_defaults(&c);
    CHECK_OK(collab_config_profile(&c, "hardened"));
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        CHECK(c.strong[i]);
    CHECK_OK(collab_config_profile(&c, "stage2"));
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        CHECK(!c.strong[i]);
    CHECK_RC(collab_config_profile(&c, "stage3"), COLLAB_E_BAD_REQUEST);
    CHECK_OK(collab_config_set(&c, "profile = hardened", err, sizeof err));
    CHECK(c.strong[0] && c.strong[13]);
    CHECK_RC(collab_config_set(&c, "profile=paranoid", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "paranoid") != NULL);
}

/*  Each switch key turns exactly its own control strong, and back. */
static void test_switches(void)
{
    char err[256], line[64];
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        collab_config_t c;
        collab_config_defaults(&c);
        snprintf(line, sizeof line, "%s=strong", collab_control_name(i));
        CHECK_OK(collab_config_set(&c, line, err, sizeof err));
        for (int j = 0; j < COLLAB_CONTROL_COUNT; j++)
            CHECK(c.strong[j] == (i == j));
        snprintf(line, sizeof line, "  %s   =  weak  ", collab_control_name(i));
        CHECK_OK(collab_config_set(&c, line, err, sizeof err));
        CHECK(!c.strong[i]);
        snprintf(line, sizeof line, "%s = on", collab_control_name(i));
        CHECK_RC(collab_config_set(&c, line, err, sizeof err), COLLAB_E_BAD_REQUEST);
        CHECK(strstr(err, "weak or strong") != NULL);
        snprintf(line, sizeof line, "%s = Strong", collab_control_name(i));
        CHECK_RC(collab_config_set(&c, line, err, sizeof err), COLLAB_E_BAD_REQUEST);
    }
}

static void test_numbers(void)
{
    collab_config_t c;
    char err[256];
    collab_config_defaults(&c);
    CHECK_OK(collab_config_set(&c, "replay.window_s = 90", err, sizeof err));
    CHECK_EQ_INT(c.replay_window_s, 90);
    CHECK_OK(collab_config_set(&c, "session_lifetime.max_s=4294967", err, sizeof err));
    CHECK_EQ_INT(c.absolute_lifetime_s, 4294967);
    CHECK_OK(collab_config_set(&c, "rate_limit.agent_per_s = 2.5", err, sizeof err));
    CHECK(c.rate_agent_per_s == 2.5);
    CHECK_OK(collab_config_set(&c, "rate_limit.peer_per_s = 1e3", err, sizeof err));
    CHECK(c.rate_peer_per_s == 1000.0);
    CHECK_OK(collab_config_set(&c, "rate_limit.login_per_s = 0.5", err, sizeof err));
    CHECK(c.rate_login_per_s == 0.5);
    CHECK_OK(collab_config_set(&c, "rate_limit.login_burst = 7", err, sizeof err));
    CHECK_EQ_INT(c.rate_login_burst, 7);
    CHECK_OK(collab_config_set(&c, "rate_limit.anon_per_s = 300", err, sizeof err));
    CHECK(c.rate_anon_per_s == 300.0);
    CHECK_OK(collab_config_set(&c, "rate_limit.anon_burst = 600", err, sizeof err));
    CHECK_EQ_INT(c.rate_anon_burst, 600);
    CHECK_OK(collab_config_set(&c, "rate_limit.anon_burst = 0", err, sizeof err)); /* default */
    CHECK_EQ_INT(c.rate_anon_burst, 0);
    CHECK_OK(collab_config_set(&c, "loop.stats_interval_s = 0", err, sizeof err));
    CHECK_EQ_INT(c.stats_interval_s, 0);
    CHECK_OK(collab_config_set(&c, "security_log.max_bytes = 1099511627776", err, sizeof err));
    CHECK_EQ_U64(c.security_log_max_bytes, 1099511627776ULL);

    static const char *const bad[] = {
        "replay.window_s = -1",
        "replay.window_s = abc",
        "replay.window_s = 60s",
        "replay.window_s = 6 0",
        "replay.window_s = +60",
        "replay.window_s = 0x3c",
        "replay.window_s = 0",                        /* below the range */
        "replay.cache_max = 4294967296",              /* above uint32 */
        "replay.cache_max = 99999999999999999999999", /* strtoull overflow */
        "transport.max_msg_bytes = 65536",            /* must exceed the frame limit */
        "rate_limit.agent_per_s = nan",
        "rate_limit.agent_per_s = inf",
        "rate_limit.agent_per_s = -2",
        "rate_limit.agent_per_s = 0x10",
        "rate_limit.agent_per_s = 1e999",
        "rate_limit.agent_per_s = 0",
        "rate_limit.agent_per_s = 2.5.1",
        "rate_limit.login_per_s = -1",
        "rate_limit.login_per_s = nan",
        "rate_limit.anon_per_s = 1e7",
        "rate_limit.anon_burst = 1000001",
        "rate_limit.login_burst = -1",
        "hash.threads = 65",
        "login.password_min_len = 257",
        "replay.window_s =",
        "replay.window_s =    ",
    };
    uint32_t before = c.replay_window_s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = collab_config_set(&c, bad[i], err, sizeof err);
        if (rc != COLLAB_E_BAD_REQUEST)
            tu_fail(__FILE__, __LINE__, "'%s' accepted (rc %d)", bad[i], rc);
        CHECK(err[0] != '\0');
    }
    CHECK_EQ_INT(c.replay_window_s, before);
    CHECK_RC(collab_config_set(&c, "replay.window_s = abc", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_STR(err, "replay.window_s: 'abc' is not a non-negative integer");
}

static void test_keys_and_paths(void)
{
    collab_config_t c;
    char err[256];
    collab_config_defaults(&c);
    CHECK_RC(collab_config_set(&c, "replay.windows = 5", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_STR(err, "unknown key 'replay.windows'");
    CHECK_RC(collab_config_set(&c, "replay strong", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "'='") != NULL);
    CHECK_RC(collab_config_set(&c, " = strong", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_OK(collab_config_set(&c, "bind = tcp://127.0.0.1:*", err, sizeof err));
    CHECK_STR(c.bind, "tcp://127.0.0.1:*");
    CHECK_OK(collab_config_set(&c, "state=/tmp/a b.db", err, sizeof err));
    CHECK_STR(c.state_path, "/tmp/a b.db");
    CHECK_RC(collab_config_set(&c, "state = x#y", err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_config_set(&c, "state = a\x1b[2Jb", err, sizeof err), COLLAB_E_BAD_REQUEST);
    char longline[COLLAB_PATH_MAX + 16];
    snprintf(longline, sizeof longline, "state=%0*d", COLLAB_PATH_MAX, 0);
    CHECK_RC(collab_config_set(&c, longline, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK_STR(c.state_path, "/tmp/a b.db");
}

static void test_file_errors(void)
{
    collab_config_t c;
    char err[512], want[700];
    collab_config_defaults(&c);
    const char *p = write_cfg("unknown.cfg", "# a comment\n\nreplay = strong\nbogus = 1\n");
    CHECK_RC(collab_config_load(&c, p, err, sizeof err), COLLAB_E_BAD_REQUEST);
    snprintf(want, sizeof want, "%s:4: unknown key 'bogus'", p);
    CHECK_STR(err, want);
    CHECK(c.strong[7]); /* lines before the error were applied */

    p = write_cfg("noeq.cfg", "replay = strong\n  rate_limit strong  # no equals\n");
    CHECK_RC(collab_config_load(&c, p, err, sizeof err), COLLAB_E_BAD_REQUEST);
    snprintf(want, sizeof want, "%s:2: ", p);
    CHECK(strncmp(err, want, strlen(want)) == 0 && strstr(err, "'='"));

    p = write_cfg("badnum.cfg", "\n\n\nsession_cap.max = 3x # trailing junk\n");
    CHECK_RC(collab_config_load(&c, p, err, sizeof err), COLLAB_E_BAD_REQUEST);
    snprintf(want, sizeof want, "%s:4: session_cap.max: '3x' is not a non-negative integer", p);
    CHECK_STR(err, want);

    snprintf(want, sizeof want, "%s/missing.cfg", tmpdir);
    CHECK_RC(collab_config_load(&c, want, err, sizeof err), COLLAB_E_IO);
    CHECK(strncmp(err, want, strlen(want)) == 0);

    collab_config_defaults(&c);
    p = write_cfg("ok.cfg", "profile = hardened   # all strong\n\t replay = weak\t\r\n"
                            "session_cap.max=7#no space before the comment\n");
    CHECK_OK(collab_config_load(&c, p, err, sizeof err));
    CHECK(c.strong[0] && !c.strong[7] && c.strong[13]);
    CHECK_EQ_INT(c.sessions_per_agent, 7);
}

static void test_sample_file(void)
{
    collab_config_t c, want;
    char err[512];
    collab_config_defaults(&c);
    collab_config_defaults(&want);
    c.strong[3] = true; /* the file's own profile line must reset this */
    if (!CHECK(sample_cfg != NULL))
        return;
    int rc = collab_config_load(&c, sample_cfg, err, sizeof err);
    CHECK_OK(rc);
    if (rc)
        fprintf(stderr, "  %s\n", err);
    CHECK(configs_equal(&c, &want));
    CHECK_OK(collab_config_validate(&c, err, sizeof err));
}

/*  A live line of text (at its start or after a newline) that starts with head and goes
    on with a blank, a comment or its end: "key = value   # why". */
static bool has_live_line(const char *text, const char *head)
{
    size_t n = strlen(head);
    for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, head, n) == 0 && strchr(" \t#\n", p[n]) && p[n] != '\0')
            return true;
    return false;
}

/*  The block of control number n in broker.cfg: from its "# --- Control n: " header to the
    next "# --- " header, copied into out (empty when there is no such header). */
static void control_block(const char *text, int n, char *out, size_t cap)
{
    char head[64];
    snprintf(head, sizeof head, "\n# --- Control %d: ", n);
    const char *p = strstr(text, head), *end = p ? strstr(p + 1, "\n# --- ") : NULL;
    size_t len = !p ? 0 : end ? (size_t)(end - p) + 1 : strlen(p);
    snprintf(out, cap, "%.*s", (int)len, p ? p : "");
}

/*  broker.cfg documents collab_controls.def: under "Control NUMBER:" the switch commented out
    at weak, the weak and strong descriptions starting with the def's short texts, and the
    control's parameters as live lines at their defaults; every other setting --show-config
    prints is there too, at its default. */
static void test_sample_documents_controls(void)
{
    static char text[65536], block[8192];
    char want[256];
    FILE *f = sample_cfg ? fopen(sample_cfg, "r") : NULL;
    if (!CHECK(f != NULL))
        return;
    text[0] = '\n'; /* so that a header on the first line has its newline too */
    text[1 + fread(text + 1, 1, sizeof text - 2, f)] = '\0';
    fclose(f);
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        const collab_control_info_t *c = collab_control_info(i);
        control_block(text, c->number, block, sizeof block);
        snprintf(want, sizeof want, "\n# %s = weak\n", c->name);
        if (!CHECK(strstr(block, want) != NULL))
            fprintf(stderr, "  control %d: no \"%s\"\n", c->number, want + 1);
        snprintf(want, sizeof want, "\n# weak:   %s", c->weak);
        if (!CHECK(strstr(block, want) != NULL))
            fprintf(stderr, "  control %d: no \"%s\"\n", c->number, want + 1);
        snprintf(want, sizeof want, "\n# strong: %s", c->strong);
        if (!CHECK(strstr(block, want) != NULL))
            fprintf(stderr, "  control %d: no \"%s\"\n", c->number, want + 1);
    }
#define COLLAB_CONTROL_PARAM(id, key, kind, field, def, min, max)                                  \
    control_block(text, COLLAB_CTL_##id + 1, block, sizeof block);                                 \
    if (!CHECK(has_live_line(block, key " = " def)))                                               \
        fprintf(stderr, "  control %d: no live line \"%s\"\n", COLLAB_CTL_##id + 1, key " = " def);
#include "collab_controls.def"

    collab_config_t c;
    collab_config_defaults(&c);
    char *printed = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&printed, &len);
    if (!CHECK(out != NULL))
        return;
    collab_config_print(&c, out);
    fclose(out);
    for (char *line = strtok(printed, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, " = weak") && !CHECK(has_live_line(text, line)))
            fprintf(stderr, "  broker.cfg: no live line \"%s\"\n", line);
    free(printed);
}

/*  Prints a non-default configuration, loads the text back and gets the same values. */
static void test_round_trip(void)
{
    collab_config_t a, b;
    char err[512];
    collab_config_defaults(&a);
    static const char *const sets[] = {"replay=strong",
                                       "transport=strong",
                                       "audit=strong",
                                       "rate_limit.agent_per_s=0.1",
                                       "rate_limit.peer_per_s=7.25",
                                       "rate_limit.anon_per_s=0.25",
                                       "rate_limit.login_burst=3",
                                       "security_log=/var/log/collab sec.log",
                                       "transport.max_msg_bytes=65537",
                                       "loop.stats_interval_s=0",
                                       "session_cap.max=9"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        CHECK_OK(collab_config_set(&a, sets[i], err, sizeof err));
    char path[600];
    snprintf(path, sizeof path, "%s/printed.cfg", tmpdir);
    FILE *f = fopen(path, "w");
    if (!CHECK(f != NULL))
        return;
    collab_config_print(&a, f);
    fclose(f);

    collab_config_defaults(&b);
    CHECK_OK(collab_config_profile(&b, "hardened")); /* the printed switches must win */
    b.sessions_per_agent = 1;
    CHECK_OK(collab_config_load(&b, path, err, sizeof err));
    CHECK(configs_equal(&a, &b));

    /* the text starts with the switches, in LAB.md order */
    f = fopen(path, "r");
    char line[256];
    for (int i = 0; f && i < COLLAB_CONTROL_COUNT; i++) {
        CHECK(fgets(line, sizeof line, f) != NULL);
        CHECK(strncmp(line, collab_control_name(i), strlen(collab_control_name(i))) == 0);
    }
    if (f)
        fclose(f);
}

static void test_validate(void)
{
    collab_config_t c;
    char err[512];
    collab_config_defaults(&c);
    c.idle_timeout_s = c.absolute_lifetime_s;
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "idle_timeout_s") && strstr(err, "below the absolute lifetime"));
    CHECK_OK(collab_config_set(&c, "sessions.idle_timeout_s = 28799", err, sizeof err));
    CHECK_OK(collab_config_validate(&c, err, sizeof err));
    CHECK_OK(collab_config_set(&c, "session_lifetime.max_s = 600", err, sizeof err));
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);

    collab_config_defaults(&c);
    c.transport_max_msg = 65536;
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "transport.max_msg_bytes") != NULL);

    collab_config_defaults(&c);
    c.hash_slice_us = 50; /* 0 (none) or at least 100 */
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "hash.slice_us") != NULL);
    c.hash_slice_us = 0;
    CHECK_OK(collab_config_validate(&c, err, sizeof err));
    c.hash_slice_us = 100;
    CHECK_OK(collab_config_validate(&c, err, sizeof err));

    collab_config_defaults(&c);
    c.hash_threads = 65; /* 0 means automatic; above 64 is refused */
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "hash.threads") != NULL);

    collab_config_defaults(&c);
    c.max_sessions = 0;
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);

    collab_config_defaults(&c);
    c.credentials_path[0] = '\0';
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "credentials") != NULL);

    collab_config_defaults(&c);
    c.rate_agent_per_s = -1;
    CHECK_RC(collab_config_validate(&c, err, sizeof err), COLLAB_E_BAD_REQUEST);
}

static void cleanup(void)
{
    static const char *const names[] = {"unknown.cfg", "noeq.cfg", "badnum.cfg", "ok.cfg",
                                        "printed.cfg"};
    char path[600];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

int main(int argc, char **argv)
{
    sample_cfg = argc > 1 ? argv[1] : NULL;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TU_RUN(test_defaults);
    TU_RUN(test_control_names);
    TU_RUN(test_store_settings);
    TU_RUN(test_profiles);
    TU_RUN(test_switches);
    TU_RUN(test_numbers);
    TU_RUN(test_keys_and_paths);
    TU_RUN(test_file_errors);
    TU_RUN(test_sample_file);
    TU_RUN(test_sample_documents_controls);
    TU_RUN(test_round_trip);
    TU_RUN(test_validate);
    cleanup();
    return tu_exit("test_config");
}
