/*  test_redis_access.c: control 17's start-up check (broker/redis_access.c) on real
    redis-servers: an open store, a password on the default user, a user that may run admin
    commands, change the configuration or reach other keys are each refused with their
    reason; a least-privilege ACL user with the default user off is accepted, and the
    durability check at start reads every setting it needs with that user's rights. */
#include "redis_access.h"
#include "redisproc.h"
#include "testutil.h"

#include <signal.h>
#include <string.h>

#define LEAST "resetchannels resetkeys ~tc:* " COLLAB_REDIS_BROKER_ACL

/*  Starts a server with opts, connects as user/password, runs the check; returns its code
    with the reason in why. */
static int check_dur(const redisproc_opts_t *fo, const char *user, const char *password, char *why,
                     size_t whylen, collab_redis_durability_t *dur)
{
    redisproc_t *fx = redisproc_start(fo);
    if (!CHECK(fx != NULL))
        return -999;
    collab_redis_auth_t auth = {{0}, {0}};
    collab_redis_opts_t o = {.auth = password ? &auth : NULL};
    snprintf(auth.user, sizeof auth.user, "%s", user ? user : "");
    snprintf(auth.password, sizeof auth.password, "%s", password ? password : "");
    char err[256];
    CHECK_OK(collab_redis_addr_parse(redisproc_url(fx), &o.addr, err, sizeof err));
    collab_redis_t *c = collab_redis_new(&o);
    int rc = collab_redis_connect(c);
    CHECK_OK(rc);
    if (rc == 0)
        rc = collab_redis_check_access(c, &o.addr, auth.user, "tc:", why, whylen);
    if (rc == 0 && dur)
        rc = collab_redis_check_durable(c, dur);
    collab_redis_destroy(&c);
    redisproc_stop(&fx);
    return rc;
}

static int check(const redisproc_opts_t *fo, const char *user, const char *password, char *why,
                 size_t whylen)
{
    return check_dur(fo, user, password, why, whylen, NULL);
}

static void test_open_store_refused(void)
{
    char why[400];
    /* no ACL at all: the broker connects as the default user, which is refused first */
    CHECK_RC(check(NULL, NULL, NULL, why, sizeof why), COLLAB_E_FORBIDDEN);
    CHECK(strstr(why, "default user") != NULL);
    /* an ACL user of its own, but the default user still on without a password */
    redisproc_opts_t fo = {.extra_conf = "user default on nopass ~* &* +@all\n"
                                         "user b1 on >pw-b1 " LEAST};
    CHECK_RC(check(&fo, "b1", "pw-b1", why, sizeof why), COLLAB_E_FORBIDDEN);
    CHECK(strstr(why, "did not authenticate") != NULL);
}

static void test_default_with_password_refused(void)
{
    char why[400];
    redisproc_opts_t fo = {.extra_conf = "requirepass pw-default"};
    CHECK_RC(check(&fo, "", "pw-default", why, sizeof why), COLLAB_E_FORBIDDEN);
    CHECK(strstr(why, "default user") != NULL);
    CHECK_RC(check(&fo, "default", "pw-default", why, sizeof why), COLLAB_E_FORBIDDEN);
}

static void test_admin_user_refused(void)
{
    char why[400];
    redisproc_opts_t fo = {.user = "b1", .password = "pw-b1"}; /* ~* &* +@all */
    CHECK_RC(check(&fo, "b1", "pw-b1", why, sizeof why), COLLAB_E_FORBIDDEN);
    CHECK(strstr(why, "admin commands") != NULL);
}

static void test_config_set_refused(void)
{
    char why[400];
    redisproc_opts_t fo = {.user = "b1", .password = "pw-b1", .acl_rules = LEAST " +config|set"};
    CHECK_RC(check(&fo, "b1", "pw-b1", why, sizeof why), COLLAB_E_FORBIDDEN);
    CHECK(strstr(why, "CONFIG SET") != NULL);
}

static void test_other_keys_refused(void)
{
    char why[400];
    redisproc_opts_t fo = {.user = "b1",
                           .password = "pw-b1",
                           .acl_rules = "resetchannels ~* " COLLAB_REDIS_BROKER_ACL};
    CHECK_RC(check(&fo, "b1", "pw-b1", why, sizeof why), COLLAB_E_FORBIDDEN);
    CHECK(strstr(why, "outside its prefix") != NULL);
}

static void test_least_privilege_accepted(void)
{
    char why[400] = "unset";
    redisproc_opts_t fo = {.user = "b1",
                           .password = "pw-b1",
                           .acl_rules = LEAST,
                           .extra_conf = "user b2 on >pw-b2 " LEAST};
    collab_redis_durability_t dur = {0};
    CHECK_OK(check_dur(&fo, "b1", "pw-b1", why, sizeof why, &dur));
    CHECK(!dur.via_info); /* CONFIG GET allowed: appendfsync checked too, not left unchecked */
    CHECK_OK(check(&fo, "b2", "pw-b2", why, sizeof why));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    TU_RUN(test_open_store_refused);
    TU_RUN(test_default_with_password_refused);
    TU_RUN(test_admin_user_refused);
    TU_RUN(test_config_set_refused);
    TU_RUN(test_other_keys_refused);
    TU_RUN(test_least_privilege_accepted);
    return tu_exit("test_redis_access");
}
