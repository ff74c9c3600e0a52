/*  test_error.c: every error code has a unique snake_case name and a sentence, positive and
    negative codes name the same error, and the wire numbers never move. */
#include "collab_error.h"
#include "testutil.h"

static const int codes[] = {
    COLLAB_OK,
    COLLAB_E_MALFORMED,
    COLLAB_E_VERSION,
    COLLAB_E_TOO_LARGE,
    COLLAB_E_FIELD_MISSING,
    COLLAB_E_FIELD_TYPE,
    COLLAB_E_LIMIT,
    COLLAB_E_UTF8,
    COLLAB_E_UNKNOWN_ACTION,
    COLLAB_E_BAD_TEXT,
    COLLAB_E_FRAMES,
    COLLAB_E_AUTH_FAILED,
    COLLAB_E_LOCKED_OUT,
    COLLAB_E_SESSION_INVALID,
    COLLAB_E_SESSION_EXPIRED,
    COLLAB_E_AGENT_MISMATCH,
    COLLAB_E_SIGNATURE_MISSING,
    COLLAB_E_BAD_SIGNATURE,
    COLLAB_E_STALE_TIMESTAMP,
    COLLAB_E_REPLAY,
    COLLAB_E_NONCE_MISSING,
    COLLAB_E_BINDING,
    COLLAB_E_SESSION_LIMIT,
    COLLAB_E_WEAK_PASSWORD,
    COLLAB_E_FORBIDDEN,
    COLLAB_E_RATE_LIMITED,
    COLLAB_E_NOT_FOUND,
    COLLAB_E_CONFLICT,
    COLLAB_E_QUOTA,
    COLLAB_E_BAD_REQUEST,
    COLLAB_E_INTERNAL,
    COLLAB_E_BUSY,
    COLLAB_E_NOMEM,
    COLLAB_E_IO,
    COLLAB_E_TIMEOUT,
};
#define NCODES (sizeof codes / sizeof codes[0])

static void test_names_unique(void)
{
    for (size_t i = 0; i < NCODES; i++) {
        const char *name = collab_errname(codes[i]);
        CHECK(strcmp(name, "unknown") != 0);
        CHECK(strspn(name, "abcdefghijklmnopqrstuvwxyz_0123456789") == strlen(name));
        CHECK(strcmp(collab_strerror(codes[i]), "unknown error") != 0);
        CHECK_STR(collab_errname(-codes[i]), name);
        CHECK_STR(collab_strerror(-codes[i]), collab_strerror(codes[i]));
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(collab_errname(codes[j]), name) != 0);
    }
}

static void test_wire_numbers(void)
{
    CHECK_EQ_INT(COLLAB_E_MALFORMED, -1);
    CHECK_EQ_INT(COLLAB_E_VERSION, -2);
    CHECK_EQ_INT(COLLAB_E_UTF8, -7);
    CHECK_EQ_INT(COLLAB_E_FRAMES, -10);
    CHECK_EQ_INT(COLLAB_E_AUTH_FAILED, -20);
    CHECK_EQ_INT(COLLAB_E_BAD_SIGNATURE, -26);
    CHECK_EQ_INT(COLLAB_E_WEAK_PASSWORD, -32);
    CHECK_EQ_INT(COLLAB_E_FORBIDDEN, -40);
    CHECK_EQ_INT(COLLAB_E_BAD_REQUEST, -45);
    CHECK_EQ_INT(COLLAB_E_INTERNAL, -60);
    CHECK_EQ_INT(COLLAB_E_TIMEOUT, -64);
    CHECK_STR(collab_errname(0), "ok");
    CHECK_STR(collab_errname(COLLAB_E_FIELD_MISSING), "field_missing");
    CHECK_STR(collab_errname(26), "bad_signature");
    CHECK_STR(collab_errname(-999), "unknown");
    CHECK_STR(collab_errname(11), "unknown");
    CHECK_STR(collab_strerror(12345), "unknown error");
}

int main(void)
{
    TU_RUN(test_names_unique);
    TU_RUN(test_wire_numbers);
    return tu_exit("test_error");
}
