/*  test_redisfix.c: the private redis-server of the tests (redisfix.c) and the connection
    (broker/redis_conn.c) against it: it starts and answers PING over TCP and a unix socket
    of mode 0700; a write acknowledged before kill -9 is there after the restart (AOF,
    appendfsync always); a frozen server (SIGSTOP) makes a call time out within the command
    timeout; the start-up check refuses appendfsync everysec; an ACL user works and the
    default user is refused; the folder and the process are gone at the end. */
#include "redis_conn.h"
#include "redisfix.h"
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
static collab_redis_t *conn_to(const redisfix_t *fx, const collab_redis_secret_t *secret)
{
    collab_redis_opts_t o = {.secret = secret, .command_timeout_ms = COMMAND_MS};
    char err[256];
    if (!CHECK(collab_redis_addr_parse(redisfix_url(fx), &o.addr, err, sizeof err) == 0))
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

/*  The folder and the process (pid, the server's last) are gone after redisfix_stop. */
static void check_gone(redisfix_t **fx, pid_t pid)
{
    char dir[64];
    struct stat st;
    snprintf(dir, sizeof dir, "%s", redisfix_dir(*fx));
    redisfix_stop(fx);
    CHECK(*fx == NULL);
    CHECK(stat(dir, &st) != 0 && errno == ENOENT);
    CHECK(pid > 0 && kill(pid, 0) != 0 && errno == ESRCH);
}

static void test_ping_and_durable(void)
{
    redisfix_t *fx = redisfix_start(NULL);
    if (!CHECK(fx != NULL))
        return;
    pid_t pid = redisfix_pid(fx);
    collab_redis_t *c = conn_to(fx, NULL);
    char got[64];
    CHECK_OK(call_str(c, got, sizeof got, "PING", NULL));
    CHECK_STR(got, "PONG");
    collab_redis_durability_t d;
    CHECK_OK(collab_redis_check_durable(c, &d));
    CHECK_STR(d.text, "");
    CHECK(!d.via_info && !d.fsync_unchecked);
    collab_redis_destroy(&c);
    check_gone(&fx, pid);
}

static void test_survives_kill9(void)
{
    redisfix_t *fx = redisfix_start(NULL);
    if (!CHECK(fx != NULL))
        return;
    pid_t pid = redisfix_pid(fx);
    collab_redis_t *c = conn_to(fx, NULL);
    char got[64];
    CHECK_OK(call_str(c, got, sizeof got, "SET acked %s", "before-kill"));
    CHECK_STR(got, "OK");
    CHECK_OK(redisfix_kill9(fx));
    CHECK_RC(call_str(c, got, sizeof got, "GET %s", "acked"), COLLAB_E_IO);
    CHECK(!collab_redis_connected(c));
    CHECK_RC(collab_redis_connect(c), COLLAB_E_IO); /* nothing listens */
    CHECK(strstr(collab_redis_why(c), redisfix_url(fx)) != NULL);
    CHECK_OK(redisfix_restart(fx));
    CHECK(redisfix_pid(fx) != pid);
    pid = redisfix_pid(fx);
    CHECK_OK(collab_redis_connect(c));
    CHECK_OK(call_str(c, got, sizeof got, "GET %s", "acked"));
    CHECK_STR(got, "before-kill");
    collab_redis_destroy(&c);
    check_gone(&fx, pid);
}

static void test_frozen_times_out(void)
{
    redisfix_t *fx = redisfix_start(NULL);
    if (!CHECK(fx != NULL))
        return;
    pid_t pid = redisfix_pid(fx);
    collab_redis_t *c = conn_to(fx, NULL);
    char got[64];
    CHECK_OK(redisfix_freeze(fx));
    int64_t t0 = collab_mono_ms();
    CHECK_RC(call_str(c, got, sizeof got, "PING", NULL), COLLAB_E_TIMEOUT);
    int64_t took = collab_mono_ms() - t0;
    if (!CHECK(took >= COMMAND_MS && took < COMMAND_MS + 100))
        fprintf(stderr, "  the call took %lld ms\n", (long long)took);
    CHECK(!collab_redis_connected(c));
    CHECK(strstr(collab_redis_why(c), "no reply within 200 ms") != NULL);
    /* a new connection is accepted by the kernel but AUTH-less PING is never answered */
    CHECK_OK(collab_redis_connect(c));
    t0 = collab_mono_ms();
    CHECK_RC(call_str(c, got, sizeof got, "PING", NULL), COLLAB_E_TIMEOUT);
    CHECK(collab_mono_ms() - t0 < COMMAND_MS + 100);
    CHECK_OK(redisfix_thaw(fx));
    CHECK_OK(collab_redis_connect(c));
    CHECK_OK(call_str(c, got, sizeof got, "PING", NULL));
    /* halt while frozen: it is woken to take its SIGTERM */
    CHECK_OK(redisfix_freeze(fx));
    CHECK_OK(redisfix_halt(fx));
    collab_redis_destroy(&c);
    check_gone(&fx, pid);
}

static void test_everysec_refused(void)
{
    redisfix_opts_t o = {.appendfsync = "everysec", .maxmemory = "0"};
    redisfix_t *fx = redisfix_start(&o);
    if (!CHECK(fx != NULL))
        return;
    pid_t pid = redisfix_pid(fx);
    collab_redis_t *c = conn_to(fx, NULL);
    collab_redis_durability_t d;
    CHECK_RC(collab_redis_check_durable(c, &d), COLLAB_E_BAD_REQUEST);
    if (!CHECK(strstr(d.text, "appendfsync is 'everysec' (want `appendfsync always`)")))
        fprintf(stderr, "  the check said: %s\n", d.text);
    CHECK(strstr(d.text, "appendonly") == NULL); /* only what is wrong is named */
    /* the same server put right: accepted, with a note that memory is unbounded */
    char got[64];
    CHECK_OK(call_str(c, got, sizeof got, "CONFIG SET appendfsync %s", "always"));
    CHECK_OK(collab_redis_check_durable(c, &d));
    CHECK(strstr(d.text, "maxmemory is 0") != NULL);
    CHECK_OK(call_str(c, got, sizeof got, "CONFIG SET maxmemory-policy %s", "allkeys-lru"));
    CHECK_RC(collab_redis_check_durable(c, &d), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(d.text, "maxmemory-policy is 'allkeys-lru'") != NULL);
    collab_redis_destroy(&c);
    check_gone(&fx, pid);
}

static void test_acl(void)
{
    redisfix_opts_t o = {.user = "broker1", .password = "pw-Of-broker1"};
    redisfix_t *fx = redisfix_start(&o);
    if (!CHECK(fx != NULL))
        return;
    pid_t pid = redisfix_pid(fx);
    collab_redis_secret_t user = {.user = "broker1", .password = "pw-Of-broker1"};
    collab_redis_t *c = conn_to(fx, &user);
    char got[64];
    CHECK_OK(call_str(c, got, sizeof got, "PING", NULL));
    CHECK_STR(got, "PONG");
    collab_redis_destroy(&c);
    /* the default user, with no password or with this one, and a wrong password */
    collab_redis_secret_t bad[] = {{.user = "", .password = "pw-Of-broker1"},
                                   {.user = "broker1", .password = "wrong"},
                                   {.user = "default", .password = "pw-Of-broker1"}};
    collab_redis_opts_t co = {.command_timeout_ms = COMMAND_MS};
    CHECK_OK(collab_redis_addr_parse(redisfix_url(fx), &co.addr, got, sizeof got));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        co.secret = &bad[i];
        c = collab_redis_new(&co);
        CHECK_RC(collab_redis_connect(c), COLLAB_E_AUTH_FAILED);
        CHECK(strstr(collab_redis_why(c), "WRONGPASS") != NULL);
        CHECK(strstr(collab_redis_why(c), "pw-Of") == NULL);
        CHECK(!collab_redis_connected(c));
        collab_redis_destroy(&c);
    }
    co.secret = NULL;
    c = collab_redis_new(&co);
    CHECK_OK(collab_redis_connect(c)); /* no AUTH: connected, but nothing is allowed */
    CHECK_RC(call_str(c, got, sizeof got, "PING", NULL), COLLAB_E_AUTH_FAILED);
    CHECK(strstr(collab_redis_why(c), "NOAUTH") != NULL);
    CHECK(collab_redis_connected(c)); /* an error reply leaves the connection up */
    collab_redis_destroy(&c);
    check_gone(&fx, pid);
}

/*  A least-privilege user that may not run CONFIG: the check reads INFO instead and says
    that appendfsync could not be checked. */
static void test_acl_without_config(void)
{
    redisfix_opts_t o = {.user = "broker1",
                         .password = "pw2",
                         .unix_socket = true,
                         .acl_rules = "~* &* +@all -config"};
    redisfix_t *fx = redisfix_start(&o);
    if (!CHECK(fx != NULL))
        return;
    pid_t pid = redisfix_pid(fx);
    char sock[160];
    struct stat st;
    snprintf(sock, sizeof sock, "%s/redis.sock", redisfix_dir(fx));
    CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0700);
    CHECK(strncmp(redisfix_url(fx), "unix:///", 8) == 0);
    collab_redis_secret_t user = {.user = "broker1", .password = "pw2"};
    collab_redis_t *c = conn_to(fx, &user);
    collab_redis_durability_t d;
    CHECK_OK(collab_redis_check_durable(c, &d));
    CHECK(d.via_info && d.fsync_unchecked);
    if (!CHECK(strstr(d.text, "appendfsync not checked") != NULL))
        fprintf(stderr, "  the check said: %s\n", d.text);
    collab_redis_destroy(&c);
    check_gone(&fx, pid);
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
    return tu_exit("test_redisfix");
}
