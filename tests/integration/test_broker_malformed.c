/*  test_broker_malformed.c: a stream of a few hundred malformed messages of many shapes
    (random bytes from a fixed-seed generator, MessagePack of the wrong shape, huge counts,
    deep nesting, truncations, payloads breaking each limit), each answered with an error;
    a frame beyond the transport cap, whose connection libzmq drops; and afterwards the
    broker still logs in and serves, and get_stats counts what it refused. */
#include "itest.h"
#include "collab_clock.h"

static broker_proc_t B;
static it_msg_t M;
static uint64_t rng = 0x9e3779b97f4a7c15ull; /* fixed seed: the same stream every run */

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

typedef struct {
    zsock_t *raw;
    int sent, refused, bad_reply;
} stream_t;

/*  Sends one malformed message and expects an error reply with a message-level code. */
static void send_bad(stream_t *st, const void *bytes, size_t len, const char *what)
{
    int rc = it_raw_bytes(st->raw, bytes, len, &M);
    st->sent++;
    if (rc <= COLLAB_E_MALFORMED && rc >= COLLAB_E_FRAMES) {
        st->refused++;
        return;
    }
    st->bad_reply++;
    fprintf(stderr, "  %s (%zu bytes): got %s\n", what, len, collab_errname(rc));
}

static size_t finish(collab_pack_t *p)
{
    size_t len = 0;
    return collab_pack_finish(p, &len) == 0 ? len : 0;
}

/*  A valid request envelope around an arbitrary payload bin (NULL: the empty map). */
static size_t request_with(uint8_t *buf, size_t cap, const void *pay, size_t plen)
{
    it_req_t q = {
        .request_id = 5, .action = "create_project", .agent_id = "coordinator1", .session_id = "x"};
    collab_pack_t p;
    collab_pack_init(&p, buf, cap);
    collab_pack_map(&p, 8);
    collab_pack_kv_str(&p, "type", "request");
    collab_pack_kv_uint(&p, "version", 1);
    collab_pack_kv_uint(&p, "request_id", q.request_id);
    collab_pack_kv_str(&p, "action", q.action);
    collab_pack_kv_str(&p, "agent_id", q.agent_id);
    collab_pack_kv_str(&p, "session_id", q.session_id);
    collab_pack_kv_uint(&p, "timestamp", it_now_ms());
    collab_pack_str(&p, "payload");
    collab_pack_bin(&p, pay ? pay : "\x80", pay ? plen : 1);
    return finish(&p);
}

static void random_bytes(stream_t *st, int n)
{
    uint8_t buf[512];
    for (int i = 0; i < n; i++) {
        size_t len = 1 + next_rand() % 300;
        for (size_t k = 0; k < len; k++)
            buf[k] = (uint8_t)next_rand();
        if (buf[0] >= 0x80 && buf[0] <= 0x8f)
            buf[0] = 0xc1; /* a fixmap start could, very rarely, be a valid request */
        send_bad(st, buf, len, "random bytes");
    }
}

static void wrong_shapes(stream_t *st)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *what;
    } shapes[] = {
        {"\xc0", 1, "nil"},
        {"\xc3", 1, "true"},
        {"\x2a", 1, "int"},
        {"\xff", 1, "negative int"},
        {"\xcb\x3f\xf8\0\0\0\0\0\0", 9, "float"},
        {"\xa3"
         "abc",
         4, "str"},
        {"\xc4\x02"
         "ab",
         4, "bin"},
        {"\x92\x01\x02", 3, "array"},
        {"\x80", 1, "empty map"},
        {"\x81\x01\x02", 3, "int key"},
        {"\x81\xa3"
         "foo\x01",
         6, "unknown key"},
        {"\x82\xa4type\xa7request\xa4type\xa7request", 26, "duplicate key"},
        {"\x81\xa4type\xa5hello", 12, "unknown type"},
        {"\x81\xa4type\x01", 7, "type not a str"},
        {"\xd4\x01\x02", 3, "ext"},
        {"\xc1", 1, "reserved byte"},
        {"\xdf\xff\xff\xff\xff", 5, "map claiming 2^32-1 entries"},
        {"\xdd\xff\xff\xff\xff", 5, "array claiming 2^32-1 entries"},
        {"\xdb\xff\xff\xff\xff", 5, "str claiming 4 GiB"},
        {"\xde\x00\x11", 3, "map16 of 17 entries, truncated"},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        send_bad(st, shapes[i].bytes, shapes[i].len, shapes[i].what);

    uint8_t buf[4096];
    memset(buf, 0x91, 100); /* nested arrays 100 deep around an empty map */
    buf[100] = 0x80;
    send_bad(st, buf, 101, "arrays 100 deep");
    /* the same 17-entry map, complete */
    collab_pack_t p;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 17);
    for (int i = 0; i < 17; i++)
        collab_pack_kv_uint(&p, "version", 1);
    send_bad(st, buf, finish(&p), "17 entries");
    /* a complete reply and a complete event sent as requests */
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY, .version = 1, .ok = true, .error = {"", 0}};
    size_t len = 0;
    collab_envelope_encode(&rep, buf, sizeof buf, &len);
    send_bad(st, buf, len, "a reply");
    collab_envelope_t ev = {.kind = COLLAB_KIND_EVENT, .version = 1, .event = {"x", 1}, .seq = 1};
    collab_envelope_encode(&ev, buf, sizeof buf, &len);
    send_bad(st, buf, len, "an event");
    /* a valid request with a byte left over */
    len = request_with(buf, sizeof buf, NULL, 0);
    buf[len] = 0xc0;
    send_bad(st, buf, len + 1, "trailing byte");
}

/*  Every prefix of a valid request (a step of 3 bytes) is truncated MessagePack. */
static void truncations(stream_t *st)
{
    uint8_t buf[512];
    size_t len = request_with(buf, sizeof buf, "\x81\xa4name\xa2ok", 9);
    for (size_t cut = 0; cut < len; cut += 3)
        send_bad(st, buf, cut, "truncated request");
}

/*  Payloads that break each limit of PROTOCOL.md section 3 inside a valid envelope. */
static void bad_payloads(stream_t *st)
{
    static uint8_t pay[20000], buf[24000];
    collab_pack_t p;
    size_t n;
#define SEND_PAYLOAD(what)                                                                         \
    do {                                                                                           \
        n = finish(&p);                                                                            \
        send_bad(st, buf, request_with(buf, sizeof buf, pay, n), what);                            \
    } while (0)
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_array(&p, 0);
    SEND_PAYLOAD("payload is an array");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_unchecked(&p); /* two values where one map belongs, on purpose */
    collab_pack_map(&p, 0);
    collab_pack_nil(&p);
    SEND_PAYLOAD("payload with a trailing value");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 65);
    for (int i = 0; i < 65; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        collab_pack_kv_uint(&p, k, 1);
    }
    SEND_PAYLOAD("65 entries");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "a");
    collab_pack_array(&p, 1001);
    for (int i = 0; i < 1001; i++)
        collab_pack_uint(&p, 1);
    SEND_PAYLOAD("array of 1001");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "a");
    for (int i = 0; i < 99; i++)
        collab_pack_array(&p, 1);
    collab_pack_uint(&p, 1);
    SEND_PAYLOAD("arrays 100 deep in the payload");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "a");
    collab_pack_raw(&p, "\xdf\xff\xff\xff\xff", 5, 1);
    SEND_PAYLOAD("a map claiming 2^32-1 entries in the payload");
    static char s[8194];
    memset(s, 'x', sizeof s - 1);
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_kv_str(&p, "name", s);
    SEND_PAYLOAD("str of 8193 bytes");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_strn(&p, s, 65);
    collab_pack_uint(&p, 1);
    SEND_PAYLOAD("key of 65 bytes");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 2);
    collab_pack_kv_str(&p, "name", "a");
    collab_pack_kv_str(&p, "name", "b");
    SEND_PAYLOAD("duplicate key in the payload");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_kv_str(&p, "name", "\xed\xa0\x80"); /* a UTF-16 surrogate */
    SEND_PAYLOAD("surrogate in a str");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_kv_str(&p, "name", "\xc0\xaf"); /* overlong '/' */
    SEND_PAYLOAD("overlong UTF-8");
    collab_pack_init(&p, pay, sizeof pay);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "name");
    collab_pack_raw(&p, "\xd6\xff\0\0\0\0", 6, 1); /* the timestamp extension */
    SEND_PAYLOAD("ext in the payload");
#undef SEND_PAYLOAD
}

/*  A counter of get_stats; "drops" is dropped + disconnects (0 when absent), so the check
    below holds whichever of the two a fix reports the dropped connection in. */
static uint64_t stat_of(collab_client_t *a, const char *key)
{
    collab_reply_t r;
    if (it_call(a, &r, "get_stats", NULL) != 0)
        return UINT64_MAX;
    uint64_t v = strcmp(key, "drops") == 0 ? it_u64(&r, "dropped") + it_u64(&r, "disconnects")
                                           : it_u64(&r, key);
    collab_reply_free(&r);
    return v;
}

/*  A frame beyond transport.max_msg_bytes (131072): libzmq drops the connection. The
    DEALER reconnects by itself, and the broker serves it again. */
static void test_oversize(collab_client_t *a)
{
    it_begin("beyond the transport cap");
    static uint8_t huge[200000];
    memset(huge, 0xc1, sizeof huge);
    zsock_t *raw = it_raw_new(B.endpoint);
    if (!raw)
        return;
    it_req_t hb = {.request_id = 1,
                   .action = "heartbeat",
                   .agent_id = "admin",
                   .session_id = collab_client_session(a)};
    CHECK_OK(it_raw_call(raw, &hb, &M)); /* connected */
    uint64_t dropped = stat_of(a, "drops");
    CHECK(it_raw_send(raw, huge, sizeof huge, false) == 0);
    CHECK_RC(it_raw_recv(raw, &M, 500), COLLAB_E_TIMEOUT); /* no reply: the link is gone */
    /* PROTOCOL.md 1: "a frame beyond the transport cap makes libzmq drop the connection,
       and the broker counts the drop" (get_stats: dropped, or a disconnects counter) */
    int64_t deadline = collab_mono_ms() + 3000;
    uint64_t now = dropped;
    while (now == dropped && collab_mono_ms() < deadline)
        now = stat_of(a, "drops");
    if (now == dropped)
        fprintf(stderr,
                "  BROKER BUG (see report): the dropped connection is not counted in "
                "get_stats (dropped stays %llu)\n",
                (unsigned long long)dropped);
    CHECK(now > dropped);
    hb.request_id = 2;
    CHECK_OK(it_raw_call(raw, &hb, &M)); /* after libzmq's reconnect */
    zsock_destroy(&raw);
}

int main(int argc, char **argv)
{
    if (argc < 3 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    collab_client_t *a = NULL, *c = NULL;
    stream_t st = {0};
    if (!CHECK(broker_start(&B, NULL) == 0) || !(a = it_client(&B, "admin", true)))
        goto out;
    uint64_t malformed0 = stat_of(a, "malformed");
    it_begin("malformed stream");
    st.raw = it_raw_new(B.endpoint);
    random_bytes(&st, 120);
    wrong_shapes(&st);
    truncations(&st);
    bad_payloads(&st);
    fprintf(stderr, "  %d malformed messages sent, %d refused\n", st.sent, st.refused);
    CHECK(st.sent >= 200);
    CHECK_EQ_INT(st.refused, st.sent);
    CHECK_EQ_INT(st.bad_reply, 0);
    zsock_destroy(&st.raw);
    test_oversize(a);

    it_begin("served afterwards");
    CHECK(stat_of(a, "malformed") >= malformed0 + (uint64_t)st.sent);
    c = it_client(&B, "coordinator1", true);
    if (c) {
        uint64_t pid = it_create_project(c, "still standing");
        collab_reply_t r;
        char p[24];
        CHECK_OK(it_call(c, &r, "get_project", "project_id", it_u(p, pid), NULL));
        CHECK(it_str_is(&r.map, "name", "still standing") &&
              it_str_is(&r.map, "owner", "coordinator1"));
        collab_reply_free(&r);
    }
out:
    collab_client_destroy(&c);
    collab_client_destroy(&a);
    it_stop(&B);
    broker_cleanup(&B);
    zsys_shutdown();
    return it_exit("test_broker_malformed");
}
