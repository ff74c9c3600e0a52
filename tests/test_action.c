/*  test_action.c: the action table: names round-trip, unknown names are refused, which
    actions the weak scope signs (the lab's list), which need a signature at all, and the
    payload keys each action takes. */
#include "collab_action.h"
#include "testutil.h"

static void test_names(void)
{
    for (int a = 0; a < COLLAB_ACT_COUNT; a++) {
        const char *name = collab_action_name(a);
        if (!CHECK(name != NULL))
            continue;
        CHECK_EQ_INT(collab_action_lookup(name, strlen(name)), a);
        CHECK(strlen(name) >= 1 && strlen(name) <= 32);
        CHECK(strspn(name, "abcdefghijklmnopqrstuvwxyz_") == strlen(name));
    }
    CHECK(collab_action_name(-1) == NULL);
    CHECK(collab_action_name(COLLAB_ACT_COUNT) == NULL);
    CHECK_RC(collab_action_lookup("nope", 4), COLLAB_E_UNKNOWN_ACTION);
    CHECK_RC(collab_action_lookup("", 0), COLLAB_E_UNKNOWN_ACTION);
    CHECK_RC(collab_action_lookup("login", 4), COLLAB_E_UNKNOWN_ACTION); /* prefix */
    CHECK_RC(collab_action_lookup("loginx", 6), COLLAB_E_UNKNOWN_ACTION);
    CHECK_RC(collab_action_lookup("LOGIN", 5), COLLAB_E_UNKNOWN_ACTION);
    CHECK_EQ_INT(collab_action_lookup("login_and_more", 5), COLLAB_ACT_LOGIN); /* len decides */
    CHECK_EQ_INT(collab_action_lookup("update_task_status", 18), COLLAB_ACT_UPDATE_TASK_STATUS);
}

static void test_state_changing(void)
{
    static const char *const changing[] = {
        "create_project",     "close_project",   "delete_project",  "assign_task", "reassign_task",
        "update_task_status", "register_worker", "change_password", "set_role",    "revoke_session",
    };
    int count = 0;
    for (int a = 0; a < COLLAB_ACT_COUNT; a++) {
        bool expect = false;
        for (size_t i = 0; i < sizeof changing / sizeof changing[0]; i++)
            expect |= strcmp(collab_action_name(a), changing[i]) == 0;
        if (!CHECK(collab_action_state_changing(a) == expect))
            fprintf(stderr, "  %s\n", collab_action_name(a));
        count += expect;
    }
    CHECK_EQ_INT(count, 10);
    CHECK(!collab_action_state_changing(-1));
    CHECK(!collab_action_state_changing(COLLAB_ACT_COUNT));
}

static void test_needs_signature(void)
{
    CHECK(!collab_action_needs_signature(COLLAB_ACT_LOGIN, COLLAB_SCOPE_WEAK));
    CHECK(!collab_action_needs_signature(COLLAB_ACT_LOGIN, COLLAB_SCOPE_FULL));
    for (int a = 1; a < COLLAB_ACT_COUNT; a++) {
        CHECK(collab_action_needs_signature(a, COLLAB_SCOPE_FULL));
        CHECK(collab_action_needs_signature(a, COLLAB_SCOPE_WEAK) ==
              collab_action_state_changing(a));
    }
    CHECK(!collab_action_needs_signature(COLLAB_ACT_HEARTBEAT, COLLAB_SCOPE_WEAK));
    CHECK(collab_action_needs_signature(COLLAB_ACT_DELETE_PROJECT, COLLAB_SCOPE_WEAK));
    CHECK_STR(collab_scope_name(COLLAB_SCOPE_WEAK), "weak");
    CHECK_STR(collab_scope_name(COLLAB_SCOPE_FULL), "full");
}

/*  The payload keys of each action (PROTOCOL.md 2.5 and 6): listed ones pass, any other
    is malformed. */
static void test_payload_keys(void)
{
    collab_map_t m;
    CHECK_OK(collab_map_parse("\x80", 1, &m));
    for (int a = 0; a < COLLAB_ACT_COUNT; a++)
        CHECK_OK(collab_action_check_keys(a, &m)); /* {} passes the key check everywhere */
    CHECK_RC(collab_action_check_keys(COLLAB_ACT_COUNT, &m), COLLAB_E_UNKNOWN_ACTION);
    static const struct {
        int action;
        const char *map;
        size_t len;
        int rc;
    } cases[] = {
        {COLLAB_ACT_LOGIN, "\x81\xa8password\xa1x", 12, 0},
        {COLLAB_ACT_LOGIN, "\x82\xa8password\xa1x\xa4role\xa1y", 19, COLLAB_E_MALFORMED},
        {COLLAB_ACT_HEARTBEAT, "\x81\xa5since\x01", 8, COLLAB_E_MALFORMED},
        {COLLAB_ACT_SUBSCRIBE,
         "\x82\xa5since\x01\xa3"
         "all\xc3",
         13, 0},
        {COLLAB_ACT_CLOSE_PROJECT, "\x81\xaaproject_id\x07", 13, 0},
        {COLLAB_ACT_DELETE_PROJECT, "\x81\xaaproject_id\x07", 13, 0},
        {COLLAB_ACT_CREATE_PROJECT, "\x81\xaaproject_id\x07", 13, COLLAB_E_MALFORMED},
        {COLLAB_ACT_ASSIGN_TASK, "\x81\xa6worker\xa1w", 10, 0},
        {COLLAB_ACT_REASSIGN_TASK, "\x81\xa4type\xa1t", 8, COLLAB_E_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = collab_map_parse(cases[i].map, cases[i].len, &m);
        CHECK_OK(rc);
        if (rc)
            continue;
        CHECK_RC(collab_action_check_keys(cases[i].action, &m), cases[i].rc);
    }
}

int main(void)
{
    TU_RUN(test_names);
    TU_RUN(test_state_changing);
    TU_RUN(test_needs_signature);
    TU_RUN(test_payload_keys);
    return tu_exit("test_action");
}
