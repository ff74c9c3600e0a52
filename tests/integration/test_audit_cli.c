/*  test_audit_cli.c: LAB.md control 14 (cover-tracks) against a live broker and
    collab-audit. Under audit = strong a run with failed logins, a lockout, refusals, a role
    change and a revocation leaves a log whose every line carries seq and mac and that
    collab-audit verify accepts; a copy with a line altered, a line deleted or the tail cut
    (seen with --head) is reported with the line's number. Rotation keeps the chain
    verifiable across files. On restart the broker accepts lines written after its last
    commit when they chain (written here by hand from the documented format), and a cut
    log is kept aside and reported in the new file, which continues the chain. A plain log
    under audit = strong, and a chained one under weak, are moved aside (item 15). */
#include "itest.h"
#include "childproc.h"

#include <dirent.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <sys/stat.h>

static broker_proc_t A, P, R;
static const char *AUDIT_EXE;
static char OUT[65536], ERR[65536];
static char AKEY[400];

/*  Runs collab-audit with NULL-terminated args; its exit code, stdout in OUT. */
static int audit(const char *first, ...)
{
    const char *argv[16] = {AUDIT_EXE};
    int n = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    child_t c;
    OUT[0] = ERR[0] = '\0';
    if (child_start(&c, argv) != 0)
        return -1;
    int rc = child_wait(&c, 20000);
    snprintf(OUT, sizeof OUT, "%s", c.out ? c.out : "");
    snprintf(ERR, sizeof ERR, "%s", c.err ? c.err : "");
    child_free(&c);
    return rc;
}

/*  The head the broker exports beside its security log (audit.h), for --head. */
static const char *head_of(const broker_proc_t *b)
{
    static char path[sizeof b->seclog + 8];
    snprintf(path, sizeof path, "%s.head", b->seclog);
    return path;
}

static bool has(const char *text, const char *needle)
{
    if (strstr(text, needle))
        return true;
    fprintf(stderr, "  missing \"%s\" in:\n%s\n", needle, text);
    return false;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 4 << 20);
    size_t n = f && buf ? fread(buf, 1, (4 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    *len = n;
    return buf;
}

static void spit(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(text, 1, len, f) == len);
    if (f)
        fclose(f);
}

/*  Offset of the start of line n (1-based). */
static size_t line_at(const char *text, int n)
{
    const char *p = text;
    for (int i = 1; i < n && p; i++) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return p ? (size_t)(p - text) : strlen(text);
}

/*  The number of the first line containing needle (1-based), or 0. */
static int find_line(const char *text, const char *needle)
{
    int n = 1;
    for (const char *p = text; *p; n++) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (memmem(p, len, needle, strlen(needle)))
            return n;
        p += len + (end != NULL);
    }
    return 0;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/*  How many files in dir have a name starting with prefix; the last one found into out. */
static int count_files(const char *dir, const char *prefix, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
            snprintf(out, cap, "%s/%s", dir, e->d_name);
            found++;
        }
    if (d)
        closedir(d);
    return found;
}

static bool find_file(const char *dir, const char *prefix, char *out, size_t cap)
{
    return count_files(dir, prefix, out, cap) > 0;
}

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

static void failed_login(const broker_proc_t *b, const char *agent, const char *pw, int want)
{
    collab_client_opts_t o = {
        .endpoint = b->endpoint, .agent_id = agent, .password = pw, .timeout_ms = 5000};
    collab_client_t *c = collab_client_new(&o);
    CHECK(c != NULL);
    if (c)
        CHECK_RC(collab_client_login(c), want);
    collab_client_destroy(&c);
}

/*  Every kind of security event the broker logs, in one run. */
static void make_events(void)
{
    for (int i = 0; i < 3; i++)
        failed_login(&A, "worker3", "guess", COLLAB_E_AUTH_FAILED);
    failed_login(&A, "worker3", "worker345", COLLAB_E_AUTH_FAILED); /* locked: logged only */
    failed_login(&A, "nobody", "guess", COLLAB_E_AUTH_FAILED);
    collab_client_t *a = it_client(&A, "admin", true);
    collab_client_t *v = it_client(&A, "viewer1", true);
    collab_client_t *c = it_client(&A, "coordinator1", true);
    zsock_t *raw = it_raw_new(A.endpoint);
    if (!a || !v || !c || !raw)
        goto out;
    CHECK_RC(it_call(v, NULL, "create_project", "name", "not mine to make", NULL),
             COLLAB_E_FORBIDDEN);
    uint8_t wrong[COLLAB_KEY_LEN] = {1}, pay[64];
    it_req_t q = {.request_id = 7,
                  .action = "create_project",
                  .agent_id = "coordinator1",
                  .session_id = collab_client_session(c),
                  .key = wrong};
    q.payload = pay;
    q.payload_len = it_pack(pay, sizeof pay, "name", "forged", NULL);
    CHECK_RC(it_raw_call(raw, &q, NULL), COLLAB_E_BAD_SIGNATURE);
    CHECK_OK(it_call(a, NULL, "set_role", "agent_id", "viewer2", "role", "coordinator", NULL));
    CHECK_OK(it_call(a, NULL, "revoke_session", "agent_id", "coordinator1", NULL));
out:
    zsock_destroy(&raw);
    collab_client_destroy(&c);
    collab_client_destroy(&v);
    collab_client_destroy(&a);
}

static void test_verify_run(void)
{
    it_begin("audit=strong: every event chained, collab-audit verify accepts");
    make_events();
    CHECK_EQ_INT(broker_stop(&A), 0);
    size_t len;
    char *text = slurp(A.seclog, &len);
    static const char *const events[] = {"\"login_failed\"",
                                         "\"lockout\"",
                                         "\"login_locked_out\"",
                                         "\"login_ok\"",
                                         "\"session_created\"",
                                         "\"reason\":\"forbidden\"",
                                         "\"reason\":\"bad_signature\"",
                                         "\"role_changed\"",
                                         "\"reason\":\"revoked\"",
                                         "\"sessions_revoked\"",
                                         "\"broker_started\""};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++)
        CHECK(find_line(text, events[i]) > 0 || !has(text, events[i]));
    int n = count_lines(text);
    CHECK(n >= 15);
    for (int i = 1; i <= n; i++) {
        char seq[32];
        snprintf(seq, sizeof seq, "{\"seq\":%d,", i);
        const char *line = text + line_at(text, i);
        CHECK(strncmp(line, seq, strlen(seq)) == 0 && strstr(line, "\"mac\":\"") != NULL);
    }
    CHECK_EQ_INT(audit("verify", A.seclog, "--key-file", AKEY, "--head", head_of(&A), NULL), 0);
    CHECK(has(OUT, "OK") && has(OUT, "is there"));
    CHECK_EQ_INT(audit("verify", "--key-file", AKEY, A.seclog, NULL), 0);
    CHECK(has(OUT, "no --head"));
    char head[32];
    snprintf(head, sizeof head, "%d:", n);
    CHECK(strncmp(meta(&A, "audit_head"), head, strlen(head)) == 0);
    CHECK(strcmp(meta(&A, "audit"), "chained") == 0);
    char *exported = slurp(head_of(&A), &len); /* the same head, in its file, one line */
    CHECK(len > 0 && exported[len - 1] == '\n');
    CHECK(strncmp(exported, meta(&A, "audit_head"), len - 1) == 0 && len > 66);
    free(exported);
    free(text);
}

static void test_tampered_copies(void)
{
    it_begin("collab-audit names the altered line, the deleted line, the cut tail");
    char copy[400], want[64];
    size_t len;
    char *text = slurp(A.seclog, &len);
    int n = find_line(text, "\"login_failed\""), total = count_lines(text);
    snprintf(copy, sizeof copy, "%s/copy.log", A.dir);
    /* altered: another agent named on the first failed login */
    char *edited = malloc(len + 1);
    memcpy(edited, text, len + 1);
    char *hit = strstr(edited + line_at(edited, n), "worker3");
    if (CHECK(hit))
        hit[6] = '9';
    spit(copy, edited, len);
    free(edited);
    CHECK_EQ_INT(audit("verify", copy, "--key-file", AKEY, "--head", head_of(&A), NULL), 1);
    snprintf(want, sizeof want, "line %d (seq %d)", n, n);
    CHECK(has(OUT, "TAMPERED") && has(OUT, want) && has(OUT, "altered"));
    /* deleted: the failed login is gone, the next line takes its number */
    size_t a = line_at(text, n), b = line_at(text, n + 1);
    char *cut = malloc(len);
    memcpy(cut, text, a);
    memcpy(cut + a, text + b, len - b);
    spit(copy, cut, len - (b - a));
    CHECK_EQ_INT(audit("verify", copy, "--key-file", AKEY, "--head", head_of(&A), NULL), 1);
    snprintf(want, sizeof want, "line %d (seq %d)", n, n + 1);
    CHECK(has(OUT, want) && has(OUT, "missing"));
    /* the tail cut: a valid chain on its own, caught by the head exported beside the log */
    spit(copy, text, line_at(text, total - 1));
    CHECK_EQ_INT(audit("verify", copy, "--key-file", AKEY, NULL), 0);
    CHECK_EQ_INT(audit("verify", copy, "--key-file", AKEY, "--head", head_of(&A), NULL), 1);
    snprintf(want, sizeof want, "ends at seq %d", total - 2);
    CHECK(has(OUT, "tail cut") && has(OUT, want));
    /* a partial last line shows even without the head */
    spit(copy, text, line_at(text, total) + 20);
    CHECK_EQ_INT(audit("verify", copy, "--key-file", AKEY, NULL), 1);
    CHECK(has(OUT, "partial"));
    /* the wrong key, and usage */
    char other[400];
    snprintf(other, sizeof other, "%s/other.key", A.dir);
    uint8_t k[32] = {3};
    spit(other, (const char *)k, sizeof k);
    chmod(other, 0600);
    CHECK_EQ_INT(audit("verify", A.seclog, "--key-file", other, NULL), 1);
    CHECK(has(OUT, "line 1 (seq 1)"));
    chmod(other, 0644);
    CHECK_EQ_INT(audit("verify", A.seclog, "--key-file", other, NULL), 2);
    CHECK(has(ERR, "permissions"));
    snprintf(other, sizeof other, "%s/absent.key", A.dir);
    CHECK_EQ_INT(audit("verify", A.seclog, "--key-file", other, NULL), 2);
    CHECK_EQ_INT(audit(NULL), 2);
    CHECK_EQ_INT(audit("check", A.seclog, NULL), 2);
    CHECK_EQ_INT(audit("verify", NULL), 2);
    CHECK_EQ_INT(audit("verify", "--help", NULL), 0);
    CHECK(has(OUT, "--head") && has(OUT, "cut tail"));
    free(cut);
    free(text);
}

/*  Appends one line chained by hand from audit.h's definition, as the broker would have
    written it just before a kill -9. Returns its seq. */
static int append_by_hand(const char *log, const char *key_path)
{
    size_t len, klen;
    char *text = slurp(log, &len), *key = slurp(key_path, &klen);
    int n = count_lines(text), seq = n + 1;
    const char *last = text + line_at(text, n);
    const char *mac_hex = strstr(last, "\"mac\":\"") + 7;
    uint8_t prev[32], mac[32];
    CHECK(sodium_hex2bin(prev, 32, mac_hex, 64, NULL, NULL, NULL) == 0 && klen == 32);
    char canon[200], line[300], hex[65];
    snprintf(canon, sizeof canon,
             "{\"seq\":%d,\"ts\":1,\"time\":\"1970-01-01T00:00:00.001Z\",\"event\":\"by_hand\"}",
             seq);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)key, 32);
    crypto_auth_hmacsha256_update(&st, prev, 32);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)canon, strlen(canon));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, sizeof hex, mac, 32);
    snprintf(line, sizeof line, "%.*s,\"mac\":\"%s\"}\n", (int)strlen(canon) - 1, canon, hex);
    FILE *f = fopen(log, "ab");
    CHECK(f && fputs(line, f) >= 0);
    if (f)
        fclose(f);
    free(text);
    free(key);
    return seq;
}

static void test_restarts(void)
{
    it_begin("restart: lines after the head are accepted when they chain");
    char head[32], moved[600];
    int seq = append_by_hand(A.seclog, AKEY);
    if (!CHECK(broker_restart(&A) == 0))
        return;
    CHECK_EQ_INT(broker_stop(&A), 0);
    snprintf(head, sizeof head, "%d:", seq + 1); /* then broker_started */
    CHECK(strncmp(meta(&A, "audit_head"), head, strlen(head)) == 0);
    CHECK(!find_file(A.dir, "security.log.tampered", moved, sizeof moved));
    CHECK_EQ_INT(audit("verify", A.seclog, "--key-file", AKEY, "--head", head_of(&A), NULL), 0);

    it_begin("restart: a cut log is kept aside and reported, the chain goes on");
    size_t len;
    char *text = slurp(A.seclog, &len);
    int total = count_lines(text);
    spit(A.seclog, text, line_at(text, total - 2)); /* the cover-tracks attacker's cut */
    free(text);
    if (!CHECK(broker_restart(&A) == 0))
        return;
    CHECK_EQ_INT(broker_stop(&A), 0);
    CHECK(find_file(A.dir, "security.log.tampered-", moved, sizeof moved));
    text = slurp(A.seclog, &len);
    CHECK(find_line(text, "\"log_continued\"") == 1);
    CHECK(find_line(text, "\"audit_tamper_detected\"") == 2 && has(text, "tail cut") &&
          has(text, "\"moved_to\""));
    free(text);
    CHECK_EQ_INT(audit("verify", A.seclog, "--key-file", AKEY, "--head", head_of(&A), NULL), 0);
    CHECK_EQ_INT(audit("verify", moved, "--key-file", AKEY, "--head", head_of(&A), NULL), 1);

    it_begin("restart after kill -9: no false alarm");
    if (CHECK(broker_restart(&A) == 0)) {
        failed_login(&A, "worker1", "guess", COLLAB_E_AUTH_FAILED);
        broker_kill9(&A);
        if (CHECK(broker_restart(&A) == 0))
            CHECK_EQ_INT(broker_stop(&A), 0);
    }
    CHECK_EQ_INT(count_files(A.dir, "security.log.tampered-", moved, sizeof moved), 1);
    CHECK_EQ_INT(audit("verify", A.seclog, "--key-file", AKEY, "--head", head_of(&A), NULL), 0);

    it_begin("restart: a chained state without its audit key is refused");
    char gone[420];
    snprintf(gone, sizeof gone, "audit.key_file=%s/gone.key", A.dir);
    const char *args[] = {"--state",
                          A.state,
                          "--credentials",
                          A.creds,
                          "--security-log",
                          A.seclog,
                          "--bind",
                          "tcp://127.0.0.1:*",
                          "--set",
                          "audit=strong",
                          "--set",
                          gone,
                          NULL};
    CHECK_EQ_INT(broker_run_capture(&A, args, OUT, sizeof OUT, ERR, sizeof ERR, 10000), 2);
    CHECK(has(ERR, "gone.key") && has(ERR, "restore it"));
}

static void test_rotation(void)
{
    it_begin("rotation: the chain verifies across files");
    for (int i = 0; i < 60; i++)
        failed_login(&R, "no_such_agent", "guess", COLLAB_E_AUTH_FAILED);
    CHECK_EQ_INT(broker_stop(&R), 0);
    char old[400], gone[400];
    snprintf(old, sizeof old, "%s.1", R.seclog);
    CHECK_EQ_INT(audit("verify", old, R.seclog, "--key-file", AKEY, "--head", head_of(&R), NULL),
                 0);
    CHECK(has(OUT, "is there"));
    CHECK_EQ_INT(audit("verify", R.seclog, "--key-file", AKEY, "--head", head_of(&R), NULL), 0);
    CHECK(has(OUT, "continues an earlier file"));
    CHECK_EQ_INT(audit("verify", old, "--key-file", AKEY, NULL), 0);
    CHECK_EQ_INT(audit("verify", R.seclog, old, "--key-file", AKEY, NULL), 1); /* wrong order */
    if (CHECK(broker_restart(&R) == 0)) /* the head is found across the pair */
        CHECK_EQ_INT(broker_stop(&R), 0);
    CHECK(!find_file(R.dir, "security.log.tampered", gone, sizeof gone));
}

static void test_migrations(void)
{
    it_begin("audit weak to strong and back: the old log moved aside");
    collab_client_t *c = it_client(&P, "worker1", true);
    collab_client_destroy(&c);
    failed_login(&P, "worker1", "guess", COLLAB_E_AUTH_FAILED);
    CHECK_EQ_INT(broker_stop(&P), 0);
    CHECK_EQ_INT(audit("verify", P.seclog, "--key-file", AKEY, "--head", head_of(&P), NULL), 3);
    CHECK(has(OUT, "NOT CHAINED"));
    CHECK(strcmp(meta(&P, "audit"), "plain") == 0);
    char set[480], moved[600];
    snprintf(set, sizeof set, "audit.key_file=%s", AKEY);
    const char *const strong[] = {"--set", "audit=strong", "--set", set, NULL};
    if (!CHECK(broker_restart_with(&P, strong) == 0))
        return;
    CHECK_EQ_INT(broker_stop(&P), 0);
    CHECK(find_file(P.dir, "security.log.plain-", moved, sizeof moved));
    size_t len;
    char *text = slurp(moved, &len);
    CHECK(has(text, "\"login_failed\"")); /* the plain lines, kept */
    free(text);
    text = slurp(P.seclog, &len);
    CHECK(find_line(text, "\"audit_chain_started\"") == 1 && has(text, moved));
    free(text);
    CHECK_EQ_INT(audit("verify", P.seclog, "--key-file", AKEY, "--head", head_of(&P), NULL), 0);
    if (!CHECK(broker_restart_with(&P, NULL) == 0))
        return;
    CHECK_EQ_INT(broker_stop(&P), 0);
    CHECK(find_file(P.dir, "security.log.chained-", moved, sizeof moved));
    CHECK_EQ_INT(audit("verify", moved, "--key-file", AKEY, NULL), 0);
    CHECK_EQ_INT(audit("verify", P.seclog, "--key-file", AKEY, "--head", head_of(&P), NULL), 3);
    CHECK(strcmp(meta(&P, "audit"), "plain") == 0);
}

int main(int argc, char **argv)
{
    if (argc < 4 || broker_init(&A, argv[1], argv[2]) != 0 || broker_init(&P, argv[1], argv[2]) ||
        broker_init(&R, argv[1], argv[2]))
        return 2;
    AUDIT_EXE = argv[3];
    if (sodium_init() < 0)
        return 2;
    char set[480];
    snprintf(AKEY, sizeof AKEY, "%s/audit.key", A.dir);
    snprintf(set, sizeof set, "audit.key_file=%s", AKEY);
    const char *const strong[] = {"--set", "audit=strong", "--set", set,
                                  "--set", "login=strong", "--set", "login.lockout_failures=3",
                                  NULL};
    if (CHECK(broker_start(&A, strong) == 0)) {
        test_verify_run();
        test_tampered_copies();
        test_restarts();
    }
    const char *const rotating[] = {
        "--set", "audit=strong", "--set", set, "--set", "security_log.max_bytes=4096", NULL};
    if (CHECK(broker_start(&R, rotating) == 0))
        test_rotation();
    if (CHECK(broker_start(&P, NULL) == 0))
        test_migrations();
    it_stop(&A);
    it_stop(&R);
    it_stop(&P);
    broker_cleanup(&A);
    broker_cleanup(&R);
    broker_cleanup(&P);
    zsys_shutdown();
    return it_exit("test_audit_cli");
}
