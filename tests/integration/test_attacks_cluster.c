/*  test_attacks_cluster.c: the attacks that only a cluster has (LAB.md controls 15 and 16),
    each against two real brokers on a fresh real redis-server: collab-attack must report
    SUCCEEDED under the weak setting and BLOCKED (decided by the control) under the strong
    one, and the evidence is checked independently through broker B (the replayed twin
    project exists or not; the revoked session's project exists or not).
    cross-broker-replay captures on lo (root or CAP_NET_RAW): where that is not possible it
    is reported as skipped, never as passed.
    argv: collab-broker, the test credentials, collab-attack. Needs redis-server. */
#include "agentproc.h"
#include "itest.h"
#include "redisproc.h"

#include <sys/stat.h>
#include <unistd.h>

static const char *broker_exe, *creds, *attack_exe;
static char pwdir[300];

static void write_passwords(const char *dir)
{
    static const char *const agents[] = {"admin", "coordinator1", "coordinator2"};
    snprintf(pwdir, sizeof pwdir, "%s/pw", dir);
    mkdir(pwdir, 0700);
    for (size_t i = 0; i < sizeof agents / sizeof agents[0]; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s.pw", pwdir, agents[i]);
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "%s\n", it_password(agents[i]));
            fclose(f);
        }
    }
}

typedef struct {
    redisproc_t *redis;
    broker_proc_t a, b;
} cluster_t;

/*  A fresh redis-server and brokers a and b on it, each with the settings given ("--set",
    "X=strong", ...; NULL-terminated, at most 8 pairs). */
static bool cluster_start(cluster_t *cl, const char *const *sets)
{
    memset(cl, 0, sizeof *cl);
    if (!(cl->redis = redisproc_start(NULL)))
        return false;
    const char *args[2][24];
    for (int k = 0; k < 2; k++) {
        int n = 0;
        args[k][n++] = "--store";
        args[k][n++] = redisproc_url(cl->redis);
        args[k][n++] = "--node";
        args[k][n++] = k == 0 ? "a" : "b";
        for (int i = 0; sets && sets[i] && n < 22; i++)
            args[k][n++] = sets[i];
        args[k][n] = NULL;
    }
    return broker_init(&cl->a, broker_exe, creds) == 0 &&
           broker_init(&cl->b, broker_exe, creds) == 0 && broker_start(&cl->a, args[0]) == 0 &&
           broker_start(&cl->b, args[1]) == 0;
}

static void cluster_stop(cluster_t *cl)
{
    broker_cleanup(&cl->a);
    broker_cleanup(&cl->b);
    redisproc_stop(&cl->redis);
}

/*  Runs one attack against a (and b as --broker2) with --json; returns its exit code. */
static int run(cluster_t *cl, agent_proc_t *p, const char *attack, bool own_agent)
{
    char own_pw[400];
    char *argv[32];
    int n = 0;
    argv[n++] = (char *)attack_exe;
    argv[n++] = (char *)attack;
    argv[n++] = "--broker";
    argv[n++] = cl->a.endpoint;
    argv[n++] = "--broker2";
    argv[n++] = cl->b.endpoint;
    argv[n++] = "--victim-passwords";
    argv[n++] = pwdir;
    argv[n++] = "--victim-credentials";
    argv[n++] = (char *)creds;
    argv[n++] = "--json";
    if (own_agent) {
        snprintf(own_pw, sizeof own_pw, "%s/coordinator2.pw", pwdir);
        argv[n++] = "--agent";
        argv[n++] = "coordinator2";
        argv[n++] = "--password-file";
        argv[n++] = own_pw;
        argv[n++] = "--credentials";
        argv[n++] = (char *)creds;
    }
    argv[n] = NULL;
    if (agent_spawn(p, argv) != 0)
        return -1;
    return agent_wait_exit(p, 60000);
}

/*  The verdict line: exit code and JSON verdict as expected, and decided_by when BLOCKED. */
static void expect(agent_proc_t *p, int rc, bool blocked, const char *control)
{
    char by[64];
    snprintf(by, sizeof by, "\"decided_by\":\"%s\"", control);
    bool ok = blocked ? CHECK(rc == 10) && CHECK(strstr(p->buf, "\"verdict\":\"BLOCKED\"")) &&
                            CHECK(strstr(p->buf, by))
                      : CHECK(rc == 0) && CHECK(strstr(p->buf, "\"verdict\":\"SUCCEEDED\""));
    if (!ok)
        fprintf(stderr, "attack output:\n%s\n", p->buf);
}

/*  Projects in the cluster, as broker B's admin reads them. */
static uint64_t projects_on_b(cluster_t *cl)
{
    collab_client_t *c = it_client(&cl->b, "admin", true);
    uint64_t n = c ? it_project_total(c) : UINT64_MAX;
    collab_client_destroy(&c);
    return n;
}

/*  Replay strong on both brokers, each with its own nonce cache (replay_scope weak): the
    request captured on A creates a second project on B. With replay_scope strong too, B
    refuses it: one project. */
static void test_cross_broker_replay(void)
{
    it_begin("cross-broker-replay: SUCCEEDED with replay strong, BLOCKED with replay_scope too");
    if (geteuid() != 0) { /* libpcap on lo needs root (or CAP_NET_RAW) */
        fprintf(stderr, "SKIPPED cross-broker-replay: cannot capture on lo here\n");
        return;
    }
    static const char *const weak[] = {"--set", "replay=strong", NULL};
    static const char *const strong[] = {"--set", "replay=strong", "--set", "replay_scope=strong",
                                         NULL};
    cluster_t cl;
    agent_proc_t p;
    if (CHECK(cluster_start(&cl, weak))) {
        expect(&p, run(&cl, &p, "cross-broker-replay", false), false, NULL);
        CHECK_EQ_U64(projects_on_b(&cl), 2); /* the victim's on A, and its twin made by B */
    }
    cluster_stop(&cl);
    if (CHECK(cluster_start(&cl, strong))) {
        expect(&p, run(&cl, &p, "cross-broker-replay", false), true, "replay_scope");
        CHECK_EQ_U64(projects_on_b(&cl), 1); /* the victim's own only */
        CHECK(broker_seclog_count(&cl.b, "cluster_nonce") == 1);
    }
    cluster_stop(&cl);
}

/*  The admin revokes coordinator2's session through A. Weak: B trusts it from its cache and
    creates its project. Strong: B refuses both the read and the write, at once. */
static void test_stale_revocation(void)
{
    it_begin("stale-revocation: SUCCEEDED with revocation weak, BLOCKED strong");
    static const char *const strong[] = {"--set", "revocation=strong", NULL};
    cluster_t cl;
    agent_proc_t p;
    if (CHECK(cluster_start(&cl, NULL))) {
        expect(&p, run(&cl, &p, "stale-revocation", true), false, NULL);
        CHECK_EQ_U64(projects_on_b(&cl), 1); /* made by the revoked session */
    }
    cluster_stop(&cl);
    if (CHECK(cluster_start(&cl, strong))) {
        expect(&p, run(&cl, &p, "stale-revocation", true), true, "revocation");
        CHECK_EQ_U64(projects_on_b(&cl), 0);
    }
    cluster_stop(&cl);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_attacks_cluster COLLAB_BROKER CREDENTIALS COLLAB_ATTACK\n");
        return 2;
    }
    broker_exe = argv[1];
    creds = argv[2];
    attack_exe = argv[3];
    char dir[] = "/tmp/collab_attacks_cluster_XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    write_passwords(dir);
    test_cross_broker_replay();
    test_stale_revocation();
    char pw[400];
    static const char *const agents[] = {"admin", "coordinator1", "coordinator2"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(pw, sizeof pw, "%s/%s.pw", pwdir, agents[i]);
        unlink(pw);
    }
    rmdir(pwdir);
    rmdir(dir);
    return it_exit("test_attacks_cluster");
}
