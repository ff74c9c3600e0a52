/*  test_webparse.c: collab-web's pure parsers and token buckets (web/webparse.c,
    web/webrate.c): bodies against field tables, cookies, Last-Event-ID, session ids,
    static paths and content types, buckets and their bounded table. */
#include "collab.h"
#include "testutil.h"
#include "webparse.h"
#include "webrate.h"

#include <string.h>

static const web_field_t task[] = {{"project_id", WEB_F_UINT, true, 1, 0},
                                   {"worker", WEB_F_AGENT, true, 0, 0},
                                   {"title", WEB_F_TEXT, true, 1, COLLAB_NAME_MAX_CP},
                                   {"type", WEB_F_IDENT, false, 0, 0}};
#define NTASK (sizeof task / sizeof task[0])

static web_values_t v;

static int parse(const char *body)
{
    char err[160];
    return web_parse_body(body, strlen(body), task, NTASK, &v, err, sizeof err);
}

static void test_bodies(void)
{
    tu_current = "bodies";
    CHECK_OK(parse("{\"project_id\": 7, \"worker\": \"worker1\", \"title\": \"t\\u00e9\"}"));
    CHECK(v.v[0].present && v.v[0].u == 7);
    CHECK_STR(v.v[1].str, "worker1");
    CHECK_STR(v.v[2].str, "t\xc3\xa9");
    CHECK(!v.v[3].present);
    CHECK_RC(parse("{\"project_id\": 7, \"worker\": \"worker1\"}"), COLLAB_E_FIELD_MISSING);
    CHECK_RC(parse("{\"project_id\": 0, \"worker\": \"w\", \"title\": \"t\"}"), COLLAB_E_LIMIT);
    CHECK_RC(parse("{\"project_id\": 1.5, \"worker\": \"w\", \"title\": \"t\"}"), COLLAB_E_LIMIT);
    CHECK_RC(parse("{\"project_id\": \"1\", \"worker\": \"w\", \"title\": \"t\"}"),
             COLLAB_E_FIELD_TYPE);
    CHECK_RC(parse("{\"project_id\": 1, \"worker\": \"w w\", \"title\": \"t\"}"),
             COLLAB_E_BAD_REQUEST);
    CHECK_RC(parse("{\"project_id\": 1, \"worker\": \"w\", \"title\": \"t\", \"x\": 1}"),
             COLLAB_E_MALFORMED);
    CHECK_RC(parse("{\"project_id\": 1, \"project_id\": 2, \"worker\": \"w\", \"title\": \"t\"}"),
             COLLAB_E_MALFORMED);
    CHECK_RC(parse("{\"project_id\": 1, \"worker\": \"w\", \"title\": \"a\\u0000b\"}"),
             COLLAB_E_MALFORMED);
    CHECK_RC(parse("{\"project_id\": 1, \"worker\": \"w\", \"title\": \"\\u001b[31m\"}"),
             COLLAB_E_BAD_TEXT);
    CHECK_RC(parse("{\"project_id\": 1, \"worker\": \"w\", \"title\": \"t\", \"type\": \"A\"}"),
             COLLAB_E_BAD_REQUEST);
    CHECK_RC(parse("[1]"), COLLAB_E_MALFORMED);
    CHECK_RC(parse("{"), COLLAB_E_MALFORMED);
    CHECK_RC(parse(""), COLLAB_E_MALFORMED);
    char big[400];
    memset(big, 'x', sizeof big);
    snprintf(big, sizeof big, "{\"project_id\":1,\"worker\":\"w\",\"title\":\"%0201d\"}", 0);
    CHECK_RC(parse(big), COLLAB_E_LIMIT); /* 201 code points */
}

static void test_headers(void)
{
    tu_current = "headers";
    char out[16];
    CHECK(web_cookie_get("a=1; tc_session=abc ; b=2", "tc_session", out, sizeof out));
    CHECK_STR(out, "abc");
    CHECK(!web_cookie_get("xtc_session=abc", "tc_session", out, sizeof out));
    CHECK(!web_cookie_get("tc_session=0123456789abcdefXYZ", "tc_session", out, sizeof out));
    CHECK(!web_cookie_get(NULL, "tc_session", out, sizeof out));
    uint64_t seq = 0;
    CHECK(web_parse_event_id("42", &seq) == 0 && seq == 42);
    CHECK(web_parse_event_id("0", &seq) != 0);
    CHECK(web_parse_event_id("4x", &seq) != 0);
    CHECK(web_parse_event_id("-1", &seq) != 0);
    CHECK(web_session_id_ok("5f812156-6d19-4de7-8d05-ff45aecc867c"));
    CHECK(!web_session_id_ok("a;b"));
    CHECK(!web_session_id_ok(""));
}

static void test_paths(void)
{
    tu_current = "paths";
    CHECK(web_static_path_ok("/"));
    CHECK(web_static_path_ok("/css/site.css"));
    CHECK(web_static_path_ok("/js/"));
    CHECK(!web_static_path_ok("/../etc/passwd"));
    CHECK(!web_static_path_ok("/a/../../b"));
    CHECK(!web_static_path_ok("/.git/config"));
    CHECK(!web_static_path_ok("//etc/passwd"));
    CHECK(!web_static_path_ok("/a\\b"));
    CHECK(!web_static_path_ok("relative"));
    CHECK_STR(web_content_type("/x/app.js"), "text/javascript; charset=utf-8");
    CHECK_STR(web_content_type("/index.html"), "text/html; charset=utf-8");
    CHECK_STR(web_content_type("/blob"), "application/octet-stream");
}

static void test_buckets(void)
{
    tu_current = "buckets";
    web_bucket_t b = {0};
    CHECK(web_bucket_take(&b, 1, 2, 1000) == 0);
    CHECK(web_bucket_take(&b, 1, 2, 1000) == 0);
    int64_t wait = web_bucket_take(&b, 1, 2, 1000);
    CHECK(wait > 900 && wait <= 1001);
    CHECK(web_bucket_take(&b, 1, 2, 2000) == 0); /* refilled */
    CHECK(web_bucket_peek(&b, 1, 2, 2000) > 0);  /* looked at, not taken */
    CHECK(web_bucket_peek(&b, 1, 2, 3000) == 0);
    CHECK(web_bucket_peek(&b, 1, 2, 3000) == 0);
    CHECK(web_bucket_take(&b, 1, 2, 3000) == 0);
    web_rate_t *r = web_rate_new(16, 1, 1);
    CHECK(r != NULL);
    CHECK(web_rate_take(r, "10.0.0.1", 0) == 0);
    CHECK(web_rate_take(r, "10.0.0.1", 0) > 0);
    CHECK(web_rate_take(r, "10.0.0.2", 0) == 0); /* another address, its own bucket */
    char addr[32];
    for (int i = 0; i < 100; i++) { /* beyond the table: bounded, the oldest reused */
        snprintf(addr, sizeof addr, "10.1.0.%d", i);
        CHECK(web_rate_take(r, addr, 10 + i) == 0);
    }
    web_rate_destroy(&r);
    CHECK(r == NULL);
    CHECK(web_rate_new(1, 1, 1) == NULL);
}

int main(void)
{
    test_bodies();
    test_headers();
    test_paths();
    test_buckets();
    return tu_exit("test_webparse");
}
