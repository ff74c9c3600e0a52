/*  test_redisproc.c: the private redis-server of the tests (redisproc.c) and the connection
    (broker/redis_conn.c) against it: it starts and answers PING over TCP and a unix socket
    of mode 0700; a write acknowledged before kill -9 is there after the restart (AOF,
    appendfsync always); a frozen server (SIGSTOP) makes a call, and a pipeline larger than
    the sockets' buffers, time out within the command timeout; the start-up check refuses
   appendfsync everysec; an ACL user works and the default user is refused; the folder and the
   process are gone at the end. */
#include "redis_conn.h"
#include "redisproc.h"
#include "collab_clock.h"
#include "testutil.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMAND_MS 200

/*  A connection to the fixture's server, connected; NULL (a failure counted) otherwise. */
static collab_redis_t *conn_to(const redisproc_t *fx, const collab_redis_auth_t *secret)
{
    collab_redis_opts_t o = {.auth = secret, .command_timeout_ms = COMMAND_MS};
    char err[256];
    if (!CHECK(collab_redis_addr_parse(redisproc_url(fx), &o.addr, err, sizeof err) == 0))
        return NULL;
    collab_redis_t *c = collab_redis_new(&o);
    if (CHECK(c != NULL) && collab_redis_connect(c) != 0) {
        tu_fail(__FILE__, __LINE__, "connect: %s", collab_redis_why(c));
        collab_redis_destroy(&c);
    }
    return c;
}

/*  The reply of one command, as a string ("" for none), and its code. */
static int call_str(collab_redis_t *c, char *out, size_t cap, const char *fmt, const char *arg)
{
    collab_redis_reply_t *r = NULL;
    int rc = collab_redis_callf(c, &r, fmt, arg);
    out[0] = '\0';
    if (r && r->str && r->len < cap) {
        memcpy(out, r->str, r->len);
        out[r->len] = '\0';
    }
    collab_redis_reply_free(&r);
    return rc;
}

/*  One case: its own server, a connection to it, and the server's pid. */
typedef struct {
    redisproc_t *fx;
    collab_redis_t *c;
    pid_t pid;
} case_t;

/*  Starts the server and connects. false (a failure counted) when either fails. */
static bool case_start(case_t *t, const redisproc_opts_t *o, const collab_redis_auth_t *secret)
{
    memset(t, 0, sizeof *t);
    t->fx = redisproc_start(o);
    if (!CHECK(t->fx != NULL))
        return false;
    t->pid = redisproc_pid(t->fx);
    t->c = conn_to(t->fx, secret);
    return t->c != NULL;
}

/*  Closes the connection and stops the server: its folder and its process (the pid of its
    last start) must then be gone. */
static void case_end(case_t *t)
{
    char dir[64];
    struct stat st;
    collab_redis_destroy(&t->c);
    if (!t->fx)
        return;
    snprintf(dir, sizeof dir, "%s", redisproc_dir(t->fx));
    redisproc_stop(&t->fx);
    CHECK(t->fx == NULL);
    CHECK(stat(dir, &st) != 0 && errno == ENOENT);
    CHECK(t->pid > 0 && kill(t->pid, 0) != 0 && errno == ESRCH);
}

static void test_ping_and_durable(void)
{
    case_t t;
    char got[64];
    collab_redis_durability_t d;
    if (case_start(&t, NULL, NULL)) {
        CHECK_OK(call_str(t.c, got, sizeof got, "PING", NULL));
        CHECK_STR(got, "PONG");
        CHECK_OK(collab_redis_check_durable(t.c, &d));
        CHECK_STR(d.text, "");
        CHECK(!d.via_info && !d.fsync_unchecked);
    }
    case_end(&t);
}

static void test_survives_kill9(void)
{
    case_t t;
    char got[64];
    if (!case_start(&t, NULL, NULL)) {
        case_end(&t);
        return;
    }
    CHECK_OK(call_str(t.c, got, sizeof got, "SET acked %s", "before-kill"));
    CHECK_STR(got, "OK");
    CHECK_OK(redisproc_kill9(t.fx));
    CHECK_RC(call_str(t.c, got, sizeof got, "GET %s", "acked"), COLLAB_E_IO);
    CHECK(!collab_redis_connected(t.c));
    CHECK_RC(collab_redis_connect(t.c), COLLAB_E_IO); /* nothing listens */
    CHECK(strstr(collab_redis_why(t.c), redisproc_url(t.fx)) != NULL);
    CHECK_OK(redisproc_restart(t.fx));
    CHECK(redisproc_pid(t.fx) != t.pid);
    t.pid = redisproc_pid(t.fx);
    CHECK_OK(collab_redis_connect(t.c));
    CHECK_OK(call_str(t.c, got, sizeof got, "GET %s", "acked"));
    CHECK_STR(got, "before-kill");
    case_end(&t);
}

static void test_frozen_times_out(void)
{
    case_t t;
    char got[64];
    if (!case_start(&t, NULL, NULL)) {
        case_end(&t);
        return;
    }
    CHECK_OK(redisproc_freeze(t.fx));
    int64_t t0 = collab_mono_ms();
    CHECK_RC(call_str(t.c, got, sizeof got, "PING", NULL), COLLAB_E_TIMEOUT);
    int64_t took = collab_mono_ms() - t0;
    if (!CHECK(took >= COMMAND_MS && took < COMMAND_MS + 100))
        fprintf(stderr, "  the call took %lld ms\n", (long long)took);
    CHECK(!collab_redis_connected(t.c));
    CHECK(strstr(collab_redis_why(t.c), "no reply within 200 ms") != NULL);
    /* a new connection is accepted by the kernel, but its PING is never answered */
    CHECK_OK(collab_redis_connect(t.c));
    t0 = collab_mono_ms();
    CHECK_RC(call_str(t.c, got, sizeof got, "PING", NULL), COLLAB_E_TIMEOUT);
    CHECK(collab_mono_ms() - t0 < COMMAND_MS + 100);
    /* a pipeline of 16 MB, more than the sockets' buffers hold: the write too is bounded */
    static char value[4096];
    memset(value, 'v', sizeof value);
    CHECK_OK(collab_redis_connect(t.c));
    for (int i = 0; i < 4000; i++)
        CHECK_OK(collab_redis_appendf(t.c, "SET k%d %b", i, value, sizeof value));
    collab_redis_reply_t *r = NULL;
    t0 = collab_mono_ms();
    CHECK_RC(collab_redis_read(t.c, &r), COLLAB_E_TIMEOUT);
    took = collab_mono_ms() - t0;
    if (!CHECK(took >= COMMAND_MS && took < COMMAND_MS + 100))
        fprintf(stderr, "  the pipeline's write took %lld ms\n", (long long)took);
    CHECK_OK(redisproc_thaw(t.fx));
    CHECK_OK(collab_redis_connect(t.c));
    CHECK_OK(call_str(t.c, got, sizeof got, "PING", NULL));
    /* halt while frozen: it is woken to take its SIGTERM */
    CHECK_OK(redisproc_freeze(t.fx));
    CHECK_OK(redisproc_halt(t.fx));
    case_end(&t);
}

static void test_everysec_refused(void)
{
    redisproc_opts_t o = {.appendfsync = "everysec", .maxmemory = "0"};
    case_t t;
    char got[64];
    collab_redis_durability_t d;
    if (!case_start(&t, &o, NULL)) {
        case_end(&t);
        return;
    }
    CHECK_RC(collab_redis_check_durable(t.c, &d), COLLAB_E_BAD_REQUEST);
    if (!CHECK(strstr(d.text, "appendfsync is 'everysec' (want `appendfsync always`)")))
        fprintf(stderr, "  the check said: %s\n", d.text);
    CHECK(strstr(d.text, "appendonly") == NULL); /* only what is wrong is named */
    /* the same server put right: accepted, with a note that memory is unbounded */
    CHECK_OK(call_str(t.c, got, sizeof got, "CONFIG SET appendfsync %s", "always"));
    CHECK_OK(collab_redis_check_durable(t.c, &d));
    CHECK(strstr(d.text, "maxmemory is 0") != NULL);
    CHECK_OK(call_str(t.c, got, sizeof got, "CONFIG SET maxmemory-policy %s", "allkeys-lru"));
    CHECK_RC(collab_redis_check_durable(t.c, &d), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(d.text, "maxmemory-policy is 'allkeys-lru'") != NULL);
    case_end(&t);
}

/*  A connection with this secret is refused at AUTH, and says why without the password. */
static void check_refused(const redisproc_t *fx, const char *user, const char *password)
{
    collab_redis_auth_t secret;
    collab_redis_opts_t o = {.auth = &secret, .command_timeout_ms = COMMAND_MS};
    char err[256];
    snprintf(secret.user, sizeof secret.user, "%s", user);
    snprintf(secret.password, sizeof secret.password, "%s", password);
    CHECK_OK(collab_redis_addr_parse(redisproc_url(fx), &o.addr, err, sizeof err));
    collab_redis_t *c = collab_redis_new(&o);
    CHECK_RC(collab_redis_connect(c), COLLAB_E_AUTH_FAILED);
    CHECK(strstr(collab_redis_why(c), "WRONGPASS") != NULL);
    CHECK(strstr(collab_redis_why(c), password) == NULL);
    CHECK(!collab_redis_connected(c));
    collab_redis_destroy(&c);
}

static void test_acl(void)
{
    redisproc_opts_t o = {.user = "broker1", .password = "pw-Of-broker1"};
    collab_redis_auth_t user = {.user = "broker1", .password = "pw-Of-broker1"};
    case_t t;
    char got[64];
    if (!case_start(&t, &o, &user)) {
        case_end(&t);
        return;
    }
    CHECK_OK(call_str(t.c, got, sizeof got, "PING", NULL));
    CHECK_STR(got, "PONG");
    /* the default user, with this password or its own name, and a wrong password */
    check_refused(t.fx, "", "pw-Of-broker1");
    check_refused(t.fx, "default", "pw-Of-broker1");
    check_refused(t.fx, "broker1", "wrong-one");
    collab_redis_destroy(&t.c);
    t.c = conn_to(t.fx, NULL); /* no AUTH: connected, but nothing is allowed */
    CHECK_RC(call_str(t.c, got, sizeof got, "PING", NULL), COLLAB_E_AUTH_FAILED);
    CHECK(strstr(collab_redis_why(t.c), "NOAUTH") != NULL);
    CHECK(collab_redis_connected(t.c)); /* an error reply leaves the connection up */
    case_end(&t);
}

/*  A least-privilege user that may not run CONFIG, on a unix socket: the check reads INFO
    instead and says that appendfsync could not be checked. */
static void test_acl_without_config(void)
{
    redisproc_opts_t o = {.user = "broker1",
                          .password = "pw2",
                          .unix_socket = true,
                          .acl_rules = "~* &* +@all -config"};
    collab_redis_auth_t user = {.user = "broker1", .password = "pw2"};
    case_t t;
    char sock[160];
    struct stat st;
    collab_redis_durability_t d;
    if (case_start(&t, &o, &user)) {
        snprintf(sock, sizeof sock, "%s/redis.sock", redisproc_dir(t.fx));
        CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0700);
        CHECK(strncmp(redisproc_url(t.fx), "unix:///", 8) == 0);
        CHECK_OK(collab_redis_check_durable(t.c, &d));
        CHECK(d.via_info && d.fsync_unchecked);
        if (!CHECK(strstr(d.text, "appendfsync not checked") != NULL))
            fprintf(stderr, "  the check said: %s\n", d.text);
    }
    case_end(&t);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    TU_RUN(test_ping_and_durable);
    TU_RUN(test_survives_kill9);
    TU_RUN(test_frozen_times_out);
    TU_RUN(test_everysec_refused);
    TU_RUN(test_acl);
    TU_RUN(test_acl_without_config);
    return tu_exit("test_redisproc");
}
