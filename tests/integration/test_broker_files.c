/*  test_broker_files.c: the broker's files as a user meets them: one broker per state file
    (a second one refuses, exit 2, naming the holder), no new state file left by a broker
    that cannot bind, --security-log '' for no security log, and sample_data/broker.cfg
    whose `profile =` line decides the profile. */
#include "collab_controls.h"
#include "itest.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static broker_proc_t A;
static const char *sample_cfg;
static char OUT[65536] = "\n", ERR[65536]; /* OUT: every line, the first too, after a \n */

/*  Runs collab-broker once with the NULL-terminated args; its exit code (-1: killed). */
static int run(const char *first, ...)
{
    const char *args[32];
    int n = 0;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return broker_run_capture(&A, args, OUT + 1, sizeof OUT - 1, ERR, sizeof ERR, 10000);
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool has(const char *text, const char *needle)
{
    if (strstr(text, needle))
        return true;
    fprintf(stderr, "  missing \"%s\" in:\n%s\n", needle, text);
    return false;
}

static void test_second_broker_refused(void)
{
    it_begin("a second broker on a state in use refuses, naming the holder");
    char pid[32], log2[400];
    snprintf(pid, sizeof pid, "pid %ld", (long)A.pid);
    snprintf(log2, sizeof log2, "%s/second.log", A.dir);
    CHECK_EQ_INT(run("--bind", "tcp://127.0.0.1:*", "--state", A.state, "--credentials", A.creds,
                     "--security-log", log2, NULL),
                 2);
    CHECK(has(ERR, A.state) && has(ERR, "in use") && has(ERR, pid));
    CHECK(!exists(log2));                                /* it touched nothing */
    collab_client_t *c = it_client(&A, "worker1", true); /* the first one still serves */
    CHECK(c != NULL);
    collab_client_destroy(&c);
    CHECK_EQ_INT(broker_stop(&A), 0); /* released: a new broker takes the state */
    CHECK_OK(broker_restart(&A));
    c = it_client(&A, "worker1", true);
    CHECK(c != NULL);
    collab_client_destroy(&c);
}

static void test_bind_failure_leaves_nothing(void)
{
    it_begin("a broker that cannot bind leaves no new state file");
    char state[400], side[440], log[400], bind[64];
    snprintf(state, sizeof state, "%s/never.db", A.dir);
    snprintf(log, sizeof log, "%s/never.log", A.dir);
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", A.port); /* A's port: taken */
    CHECK_EQ_INT(run("--bind", bind, "--state", state, "--credentials", A.creds, "--security-log",
                     log, NULL),
                 2);
    CHECK(has(ERR, "cannot bind"));
    static const char *const suffix[] = {"", "-wal", "-shm", "-journal", ".lock"};
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(side, sizeof side, "%s%s", state, suffix[i]);
        if (!CHECK(!exists(side)))
            fprintf(stderr, "  %s was left behind\n", side);
    }
    CHECK(!exists(log));
}

static void test_no_security_log(void)
{
    it_begin("--security-log '' means no security log");
    broker_proc_t N;
    if (!CHECK(broker_init(&N, A.exe, A.creds) == 0))
        return;
    CHECK_EQ_INT(run("--security-log", "", "--show-config", NULL), 0);
    CHECK(has(OUT, "\nsecurity_log = \n"));
    const char *const none[] = {"--security-log", "", NULL}; /* after the default one: wins */
    if (CHECK(broker_start(&N, none) == 0)) {
        collab_client_t *c = it_client(&N, "worker1", true); /* a login is a security event */
        CHECK(c != NULL);
        collab_client_destroy(&c);
        it_stop(&N);
    }
    CHECK(!exists(N.seclog));
    CHECK_EQ_INT(run("--state", N.state, "--credentials", A.creds, "--security-log", "", "--set",
                     "audit=strong", NULL),
                 2); /* the chained log needs a file */
    CHECK(has(ERR, "security_log is empty"));
    broker_cleanup(&N);
}

/*  A copy of sample_data/broker.cfg with its profile line changed. */
static void test_sample_cfg_profile(void)
{
    it_begin("broker.cfg: the profile line decides");
    static char text[65536];
    char copy[400], line[64];
    FILE *in = fopen(sample_cfg, "rb");
    size_t n = in ? fread(text, 1, sizeof text - 1, in) : 0;
    if (in)
        fclose(in);
    text[n] = '\0';
    char *p = strstr(text, "\nprofile = stage2");
    if (!CHECK(p != NULL))
        return;
    snprintf(copy, sizeof copy, "%s/hardened.cfg", A.dir);
    FILE *out = fopen(copy, "wb");
    CHECK(out && fwrite(text, 1, (size_t)(p - text), out) == (size_t)(p - text));
    if (out) {
        fputs("\nprofile = hardened", out);
        fputs(p + strlen("\nprofile = stage2"), out);
        fclose(out);
    }
    CHECK_EQ_INT(run("--config", copy, "--show-config", NULL), 0);
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        snprintf(line, sizeof line, "\n%s = strong\n", collab_control_name(i));
        CHECK(has(OUT, line));
    }
    CHECK_EQ_INT(run("--config", sample_cfg, "--show-config", NULL), 0); /* as shipped */
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++) {
        snprintf(line, sizeof line, "\n%s = weak\n", collab_control_name(i));
        CHECK(has(OUT, line));
    }
}

int main(int argc, char **argv)
{
    if (argc < 4 || broker_init(&A, argv[1], argv[2]) != 0)
        return 2;
    sample_cfg = argv[3];
    if (CHECK(broker_start(&A, NULL) == 0)) {
        test_second_broker_refused();
        test_bind_failure_leaves_nothing();
    }
    it_stop(&A);
    test_no_security_log();
    test_sample_cfg_profile();
    broker_cleanup(&A);
    zsys_shutdown();
    return it_exit("test_broker_files");
}
