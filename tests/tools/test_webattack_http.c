/*  test_webattack_http.c: the web attacks' own HTTP parts against each other, on loopback,
    without a gateway or a browser (both builds): the listener (libmicrohttpd) answers its
    page and records what a request brought (path, the query's session, Referer, Cookie); the
    client (libcurl) sends its cookie, bearer and CSRF headers, reads status and body, and
    refuses what is not http:// or not a lab target; the query reader takes only a plain
    value. */
#include "testutil.h"
#include "webclient.h"
#include "weblisten.h"

#include <stdlib.h>

static void test_query_value(void)
{
    char v[16];
    CHECK(webl_query_value("http://h:1/board.html?session=ab-C_1.x~", "session", v, sizeof v));
    CHECK_STR(v, "ab-C_1.x~");
    CHECK(webl_query_value("http://h:1/b?x=1&session=abc&y=2#f", "session", v, sizeof v));
    CHECK_STR(v, "abc");
    CHECK(!webl_query_value("http://h:1/b?xsession=abc", "session", v, sizeof v));
    CHECK(!webl_query_value("http://h:1/b#?session=abc", "session", v, sizeof v));
    CHECK(!webl_query_value("http://h:1/b?session=", "session", v, sizeof v));
    CHECK(!webl_query_value("http://h:1/b?session=a%20b", "session", v, sizeof v));
    CHECK(!webl_query_value("http://h:1/b?session=0123456789abcdef", "session", v, sizeof v));
    CHECK(!webl_query_value(NULL, "session", v, sizeof v));
    CHECK(!webl_query_value("", "session", v, sizeof v));
}

static void test_listener_and_client(void)
{
    webl_t *l = webl_start("127.0.0.1", "<title>page</title>");
    if (!CHECK(l != NULL))
        return;
    CHECK(strncmp(webl_url(l), "http://127.0.0.1:", 17) == 0);
    webc_t *w = webc_new(webl_url(l), 3000, false);
    if (!CHECK(w != NULL)) {
        webl_stop(&l);
        return;
    }
    CHECK_STR(webc_host(w), "127.0.0.1");
    webc_reply_t r;
    CHECK_EQ_INT(webc_request(w, "GET", "/", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR(r.body, "<title>page</title>");
    webc_reply_free(&r);
    webl_hit_t hit;
    CHECK(webl_wait(l, "", &hit, 3000));
    CHECK_STR(hit.path, "/");
    CHECK_STR(hit.cookie, "");
    CHECK(!webl_wait(l, "/report-", &hit, 50)); /* not yet: the deadline holds */

    webc_set_cookie(w, "tc_session=stolen");
    CHECK_EQ_INT(webc_request(w, "GET", "report-7?session=s123&x=1", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_STR(r.body, "ok\n");
    webc_reply_free(&r);
    if (CHECK(webl_wait(l, "/report-", &hit, 3000))) {
        CHECK_STR(hit.path, "/report-7");
        CHECK_STR(hit.session, "s123");
        CHECK_STR(hit.cookie, "tc_session=stolen");
    }
    /* a body is not read: POST is refused, and the listener still counts it */
    CHECK_EQ_INT(webc_request(w, "POST", "x", "{\"a\":1}", &r), 0);
    CHECK_EQ_INT(r.status, 405);
    webc_reply_free(&r);
    CHECK_EQ_INT(webl_count(l), 3);
    webc_destroy(&w);
    CHECK(w == NULL);
    webl_stop(&l);
    CHECK(l == NULL);
}

/*  The client refuses what is no http:// lab target (unless --target-is-mine), sends with
    its bearer and CSRF headers set, and says why when nothing answers; a listener on
    another loopback host (127.0.0.2). */
static void test_client_headers_and_refusals(void)
{
    CHECK(webc_new("ftp://127.0.0.1:21/", 1000, false) == NULL);
    CHECK(webc_new("http://192.0.2.1:80/", 1000, false) == NULL); /* not a lab target */
    CHECK(webc_new("not a url", 1000, false) == NULL);
    webc_t *mine = webc_new("http://192.0.2.1:80/", 1000, true); /* --target-is-mine */
    CHECK(mine != NULL);
    webc_destroy(&mine);
    webl_t *l = webl_start("127.0.0.2", "x");
    if (!CHECK(l != NULL))
        return;
    CHECK(strncmp(webl_url(l), "http://127.0.0.2:", 17) == 0);
    webc_t *w = webc_new(webl_url(l), 3000, false);
    webc_reply_t r;
    webc_set_bearer(w, "tok");
    webc_set_csrf(w, "csrf1", "http://127.0.0.1:9");
    CHECK_EQ_INT(webc_request(w, "GET", "h", NULL, &r), 0);
    CHECK_EQ_INT(r.status, 200);
    webc_reply_free(&r);
    webc_destroy(&w);
    /* nothing listens here any more: no reply, and why */
    char url[64];
    snprintf(url, sizeof url, "%s", webl_url(l));
    webl_stop(&l);
    w = webc_new(url, 1000, false);
    CHECK_EQ_INT(webc_request(w, "GET", "/", NULL, &r), -1);
    CHECK(r.failure[0] != '\0');
    webc_reply_free(&r);
    webc_destroy(&w);
    CHECK(webl_start("8.8.8.8x", "x") == NULL);
}

int main(void)
{
    TU_RUN(test_query_value);
    TU_RUN(test_listener_and_client);
    TU_RUN(test_client_headers_and_refusals);
    return tu_exit("test_webattack_http");
}
