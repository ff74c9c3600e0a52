/*  test_broker_seclog_flood.c: issue 13, defect 2. Under stage2, anyone who could connect
    could erase the security log: one line per request with a bogus session, one rotated
    file kept. Here a victim logs in, then three source addresses (the victim's own among
    them) send requests with a bogus session and logins of an agent that does not exist,
    with no login at all, many times what the log holds (LOG_MAX_BYTES, two files). After the
    broker stops, broker_started and the victim's login_ok are still in the log, and the
    refusals are all accounted for: the lines written in full plus the counts of the
    refusals_aggregated lines equal what was sent. Under audit = strong the same flood
    leaves a chain that collab-audit verify accepts.
    Usage: test_broker_seclog_flood BROKER CREDS COLLAB-AUDIT */
#include "childproc.h"
#include "collab_clock.h"
#include "itest.h"

#include <cJSON.h>
#include <sys/stat.h>

#define LOG_MAX_BYTES                                                                              \
    262144         /* per file: the log holds at most twice this; at the cap's                     \
                       40 lines a second, a loaded machine's slow flood still fits */
#define WINDOW 500 /* requests in flight per socket */
#define NPEERS 3

static const char *AUDIT_EXE;
static const char *const PEERS[NPEERS] = {"127.0.0.1", "127.0.0.2", "127.0.0.3"};

/*  What the log files say, both of them. */
typedef struct {
    int started, victim_login, lines;
    uint64_t bytes;
    uint64_t refused_full, refused_counted; /* request_refused (session_invalid) */
    uint64_t failed_full, failed_counted;   /* login_failed (unknown_agent) */
} tally_t;

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void tally_line(tally_t *t, const char *line, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    if (!CHECK(o != NULL)) /* every line is whole JSON */
        return;
    const char *ev = str_of(o, "event");
    t->lines++;
    if (strcmp(ev, "broker_started") == 0)
        t->started++;
    else if (strcmp(ev, "login_ok") == 0 && strcmp(str_of(o, "agent_id"), "coordinator1") == 0)
        t->victim_login++;
    else if (strcmp(ev, "request_refused") == 0 &&
             strcmp(str_of(o, "reason"), "session_invalid") == 0)
        t->refused_full++;
    else if (strcmp(ev, "login_failed") == 0 && strcmp(str_of(o, "agent_id"), "nobody") == 0)
        t->failed_full++;
    else if (strcmp(ev, "refusals_aggregated") == 0) {
        uint64_t n = strtoull(str_of(o, "count"), NULL, 10);
        CHECK(n > 0);
        if (strcmp(str_of(o, "aggregated_event"), "request_refused") == 0)
            t->refused_counted += n;
        else if (strcmp(str_of(o, "aggregated_event"), "login_failed") == 0)
            t->failed_counted += n;
    }
    cJSON_Delete(o);
}

static void tally_file(tally_t *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    static char line[65536];
    while (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        t->bytes += n;
        if (CHECK(n > 0 && line[n - 1] == '\n'))
            tally_line(t, line, n - 1);
    }
    fclose(f);
}

static void tally(const broker_proc_t *b, tally_t *t, char *older, size_t cap)
{
    memset(t, 0, sizeof *t);
    snprintf(older, cap, "%s.1", b->seclog);
    tally_file(t, older);
    tally_file(t, b->seclog);
    fprintf(stderr,
            "  log: %d lines, %llu bytes; broker_started %d, victim login_ok %d; "
            "request_refused %llu in full + %llu counted, login_failed %llu + %llu\n",
            t->lines, (unsigned long long)t->bytes, t->started, t->victim_login,
            (unsigned long long)t->refused_full, (unsigned long long)t->refused_counted,
            (unsigned long long)t->failed_full, (unsigned long long)t->failed_counted);
}

/*  Sends frame n times on s, at most WINDOW unanswered, and counts the replies refused
    with code want. Returns that count (n when every request was refused so). */
static int flood(zsock_t *s, const uint8_t *frame, size_t len, int n, int want)
{
    static it_msg_t m;
    int sent = 0, got = 0, refused = 0;
    while (got < n) {
        while (sent < n && sent - got < WINDOW && it_raw_send(s, frame, len, false) == 0)
            sent++;
        if (it_raw_recv(s, &m, 10000) != 0)
            break; /* no reply within 10 s: the count below fails */
        got++;
        refused += m.env.kind == COLLAB_KIND_REPLY && !m.env.ok && -(int)m.env.error_code == want;
    }
    return refused;
}

/*  The victim logs in; each peer sends bogus requests and bad logins; the victim is still
    served. Returns 0 when every request got the refusal it should. */
static int attack(const broker_proc_t *b, int bogus, int logins)
{
    collab_client_t *victim = it_client(b, "coordinator1", true);
    uint8_t req[1024], login[1024], payload[256];
    it_req_t q = {.request_id = 7,
                  .action = "heartbeat",
                  .agent_id = "coordinator1",
                  .session_id = "no-such-session"};
    size_t qlen = it_encode(&q, req, sizeof req);
    size_t plen = it_pack(payload, sizeof payload, "password", "s:not-the-password", NULL);
    it_req_t l = {.request_id = 8,
                  .action = "login",
                  .agent_id = "nobody",
                  .payload = payload,
                  .payload_len = plen};
    size_t llen = it_encode(&l, login, sizeof login);
    int bad = !victim || !qlen || !llen;
    int64_t t0 = collab_mono_ms();
    for (int i = 0; i < NPEERS && !bad; i++) {
        char ep[128];
        snprintf(ep, sizeof ep, "tcp://%s:0;127.0.0.1:%d", PEERS[i], b->port);
        zsock_t *s = it_raw_new(ep);
        int share = bogus / NPEERS + (i == 0 ? bogus % NPEERS : 0);
        int lshare = logins / NPEERS + (i == 0 ? logins % NPEERS : 0);
        int refused = s ? flood(s, req, qlen, share, COLLAB_E_SESSION_INVALID) : -1;
        int failed = s ? flood(s, login, llen, lshare, COLLAB_E_AUTH_FAILED) : -1;
        CHECK_EQ_INT(refused, share);
        CHECK_EQ_INT(failed, lshare);
        bad |= refused != share || failed != lshare;
        zsock_destroy(&s);
    }
    fprintf(stderr, "  %d bogus-session requests and %d bad logins from %d addresses in %lld ms\n",
            bogus, logins, NPEERS, (long long)(collab_mono_ms() - t0));
    if (victim)
        CHECK_OK(it_call(victim, NULL, "heartbeat", NULL)); /* still served */
    collab_client_destroy(&victim);
    return bad;
}

/*  What the stopped broker left: the lines that matter, and every refusal counted. */
static void check_log(const broker_proc_t *b, int bogus, int logins, uint64_t line_bytes)
{
    tally_t t;
    char older[400];
    tally(b, &t, older, sizeof older);
    /* what the flood would have written line by line: many times what the log holds */
    CHECK((uint64_t)(bogus + logins) * line_bytes > 5 * 2 * LOG_MAX_BYTES);
    CHECK(t.bytes <= 2 * LOG_MAX_BYTES);
    CHECK_EQ_INT(t.started, 1);
    CHECK_EQ_INT(t.victim_login, 1);
    CHECK_EQ_U64(t.refused_full + t.refused_counted, (uint64_t)bogus);
    CHECK_EQ_U64(t.failed_full + t.failed_counted, (uint64_t)logins);
    /* one per address and second in full; failed logins 20 per address and minute */
    CHECK(t.refused_full >= 1 && t.refused_counted > 0);
    CHECK(t.failed_full >= 1 && t.failed_full <= 2 * 20 * NPEERS);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    AUDIT_EXE = argv[3];
    const int bogus = 30000, logins = 3000;
    char max[64];
    snprintf(max, sizeof max, "security_log.max_bytes=%d", LOG_MAX_BYTES);

    it_begin("stage2: a refusal flood keeps broker_started and the victim's login_ok");
    broker_proc_t b;
    const char *const plain[] = {"--set", max, NULL};
    if (CHECK(broker_init(&b, argv[1], argv[2]) == 0 && broker_start(&b, plain) == 0)) {
        attack(&b, bogus, logins);
        CHECK_EQ_INT(broker_stop(&b), 0); /* the last counts are written on the way out */
        check_log(&b, bogus, logins, 170);
    }
    broker_cleanup(&b);

    it_begin("audit=strong: the same flood, and the chain verifies");
    char key[400], set[480], older[400], head[420];
    if (CHECK(broker_init(&b, argv[1], argv[2]) == 0)) {
        snprintf(key, sizeof key, "%s/audit.key", b.dir);
        snprintf(set, sizeof set, "audit.key_file=%s", key);
        const char *const strong[] = {"--set", max, "--set", "audit=strong", "--set", set, NULL};
        if (CHECK(broker_start(&b, strong) == 0)) {
            attack(&b, bogus, logins);
            CHECK_EQ_INT(broker_stop(&b), 0);
            check_log(&b, bogus, logins, 260);
            struct stat st;
            snprintf(older, sizeof older, "%s.1", b.seclog);
            snprintf(head, sizeof head, "%s.head", b.seclog);
            const char *argv_v[12] = {AUDIT_EXE, "verify", "--key-file", key, "--head", head};
            int n = 6;
            if (stat(older, &st) == 0)
                argv_v[n++] = older;
            argv_v[n++] = b.seclog;
            argv_v[n] = NULL;
            child_t c;
            if (CHECK(child_start(&c, argv_v) == 0)) {
                int rc = child_wait(&c, 20000);
                CHECK_EQ_INT(rc, 0);
                if (rc != 0)
                    fprintf(stderr, "collab-audit verify:\n%s%s\n", c.out ? c.out : "",
                            c.err ? c.err : "");
                child_free(&c);
            }
        }
    }
    broker_cleanup(&b);
    zsys_shutdown();
    return it_exit("test_broker_seclog_flood");
}
