/*  test_sniff_tcp.c: the sniffer's TCP reassembly on crafted pcap files: frames split
    across segments, retransmissions and overlaps, out-of-order segments, lost segments
    (gaps reported, later messages decoded after resynchronisation), a connection joined
    mid-stream, interleaved connections, sequence numbers wrapping, a truncated file and the
    caps on buffered bytes and connections, and random garbage, losses and reordering. */
#include "pcapgen.h"
#include "sniftest.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#define CAP (2 * COLLAB_MAX_FRAME)

static uint8_t env[CAP], frame[CAP];

/*  A login request frame (rid) in `frame`; returns its length. */
static size_t login_frame(uint64_t rid)
{
    size_t n =
        zg_request(env, CAP, rid, "login", "coordinator1", "", "password", "s:coord123", NULL);
    return zg_frame(frame, 0, env, n, false);
}

static size_t create_frame(uint64_t rid, const char *name)
{
    size_t n =
        zg_request(env, CAP, rid, "create_project", "coordinator1", "sess-1", "name", name, NULL);
    return zg_frame(frame, 0, env, n, false);
}

static size_t reply_frame(uint64_t rid)
{
    size_t n = zg_reply(env, CAP, rid, "session_id", "s:sess-1", NULL);
    return zg_frame(frame, 0, env, n, false);
}

static pcapw_t W;
static tconv_t C;

/*  A new file with one NULL-mechanism conversation opened on it. */
static const char *start(const char *name, uint32_t isn)
{
    const char *path = st_path(name);
    CHECK(pcapw_open(&W, path, PG_ETHERNET) == 0);
    tconv_init(&C, &W, 4, 2, 40000, 5555, isn);
    zg_open_null(&C);
    return path;
}

static st_got_t *finish(const char *path)
{
    CHECK(pcapw_close(&W) == 0);
    st_got_t *g = st_sniff_file(path, 5555);
    CHECK(g->open_rc == 0);
    return g;
}

static void test_split_frame(void)
{
    const char *path = start("split.pcap", 1000);
    size_t n = login_frame(1);
    tconv_send(&C, 0, frame, 1); /* the flags byte alone */
    tconv_send_split(&C, 0, frame + 1, n - 1, 17);
    n = reply_frame(1);
    tconv_send(&C, 1, frame, n);
    tconv_close(&C);
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 2);
    CHECK(g->n == 2 && g->m[0].kind == COLLAB_KIND_REQUEST && g->m[0].rid == 1);
    CHECK(g->n == 2 && strstr(g->m[0].line, "password=\"coord123\"") != NULL);
    CHECK(g->n == 2 && g->m[0].dir == COLLAB_SNIFF_TO_BROKER);
    CHECK(g->n == 2 && g->m[1].kind == COLLAB_KIND_REPLY &&
          g->m[1].dir == COLLAB_SNIFF_FROM_BROKER);
    CHECK(g->n == 2 && strcmp(g->m[1].reply_to, "login") == 0);
    CHECK(st_notes(g, "greeting, mechanism NULL") == 2);
    CHECK(st_notes(g, "READY Socket-Type=\"DEALER\"") == 1);
    CHECK_EQ_U64(g->st.gaps, 0);
    st_free(&g);
}

static void test_retransmission(void)
{
    const char *path = start("retrans.pcap", 5000);
    size_t n = login_frame(1), half = n / 2;
    uint32_t s0 = C.seq[0];
    tconv_send(&C, 0, frame, half);
    tconv_segment(&C, 0, s0, 0x18, frame, half); /* the same segment again */
    tconv_segment(&C, 0, s0 + (uint32_t)half - 10, 0x18, frame + half - 10, n - half + 10);
    tconv_advance(&C, 0, n - half);
    tconv_segment(&C, 0, s0, 0x18, frame, n); /* the whole frame once more */
    n = create_frame(2, "s:Alpha");
    tconv_send(&C, 0, frame, n);
    tconv_close(&C);
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 2);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "create_project"), 1);
    CHECK_EQ_U64(g->st.gaps, 0);
    st_free(&g);
}

static void test_out_of_order(void)
{
    const char *path = start("ooo.pcap", 9000);
    size_t n = login_frame(1), a = 10, b = 30;
    tconv_at(&C, 0, (uint32_t)(a + b), frame + a + b, n - a - b); /* third part first */
    tconv_at(&C, 0, 0, frame, a);
    tconv_at(&C, 0, (uint32_t)a, frame + a, b);
    tconv_advance(&C, 0, n);
    size_t m = create_frame(2, "s:Beta");
    static uint8_t second[CAP];
    memcpy(second, frame, m);
    n = create_frame(3, "s:Gamma");
    tconv_at(&C, 0, (uint32_t)m, frame, n); /* whole messages swapped */
    tconv_at(&C, 0, 0, second, m);
    tconv_advance(&C, 0, m + n);
    tconv_close(&C);
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 3);
    for (size_t i = 0; i < g->n; i++)
        CHECK(g->m[i].rid == i + 1); /* in stream order */
    CHECK(g->n == 3 && strstr(g->m[2].line, "name=\"Gamma\"") != NULL);
    CHECK_EQ_U64(g->st.gaps, 0);
    st_free(&g);
}

/*  M1 arrives, M2's segment is lost, M3 is held; the broker's reply acknowledges all
    three, which tells the sniffer M2's bytes are gone. */
static void test_lost_segment(void)
{
    const char *path = start("lost.pcap", 20000);
    size_t n1 = login_frame(1);
    tconv_send(&C, 0, frame, n1);
    size_t n2 = create_frame(2, "s:Lost");
    tconv_advance(&C, 0, n2); /* sent, never captured */
    size_t n3 = create_frame(3, "s:After");
    tconv_send(&C, 0, frame, n3);
    tconv_send(&C, 1, frame, reply_frame(1));
    tconv_send(&C, 1, frame, reply_frame(3));
    tconv_close(&C);
    st_got_t *g = finish(path);
    char want[64];
    snprintf(want, sizeof want, "gap of %zu bytes on conn 1", n2);
    CHECK(st_notes(g, want) == 1);
    CHECK_EQ_U64(g->st.gaps, 1);
    CHECK_EQ_U64(g->st.gap_bytes, n2);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "create_project"), 1);
    CHECK(g->n >= 2 && g->m[1].rid == 3);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REPLY, NULL), 2);
    CHECK_EQ_INT(st_count(g, 0, NULL), 0); /* nothing decoded from garbage */
    CHECK(g->st.resyncs >= 1);
    st_free(&g);
}

/*  The lost bytes fall inside a long frame's body: the parser skips to the frame's end. */
static void test_lost_inside_frame(void)
{
    const char *path = start("lost-inside.pcap", 30000);
    static char big[1500];
    memset(big, 'x', sizeof big - 1);
    big[0] = 's', big[1] = ':';
    size_t n = create_frame(1, big);
    tconv_send(&C, 0, frame, 300);
    tconv_advance(&C, 0, 500); /* lost */
    tconv_at(&C, 0, 0, frame + 800, n - 800);
    tconv_advance(&C, 0, n - 800);
    tconv_send(&C, 0, frame, login_frame(2));
    tconv_send(&C, 1, frame, reply_frame(2)); /* acknowledges everything */
    tconv_close(&C);
    st_got_t *g = finish(path);
    CHECK(st_notes(g, "gap of 500 bytes on conn 1") == 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "create_project"), 0);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REPLY, NULL), 1);
    CHECK_EQ_INT(st_count(g, 0, NULL), 0);
    st_free(&g);
}

/*  A hole nothing acknowledges stays open until the end of the file, then becomes a gap. */
static void test_gap_at_end(void)
{
    const char *path = start("gap-end.pcap", 40000);
    tconv_send(&C, 0, frame, login_frame(1));
    tconv_advance(&C, 0, create_frame(2, "s:Lost"));
    tconv_send(&C, 0, frame, create_frame(3, "s:Held"));
    st_got_t *g = finish(path);
    CHECK_EQ_U64(g->st.gaps, 1);
    CHECK(st_notes(g, "gap of") == 1);
    CHECK_EQ_INT(g->n, 2);
    CHECK(g->n == 2 && g->m[1].rid == 3 && strstr(g->m[1].line, "Held") != NULL);
    st_free(&g);
}

/*  A message held behind a hole keeps the time of its own segment, however much later the
    acknowledgement that declares the hole lost arrives. */
static void test_gap_keeps_time(void)
{
    const char *path = start("gap-time.pcap", 45000);
    tconv_send(&C, 0, frame, login_frame(1));
    tconv_advance(&C, 0, create_frame(2, "s:Lost"));
    double held = W.ts;
    tconv_send(&C, 0, frame, create_frame(3, "s:Held"));
    W.ts += 5.0; /* the broker acknowledges it all much later */
    double acked = W.ts;
    tconv_send(&C, 1, frame, reply_frame(1));
    tconv_close(&C);
    st_got_t *g = finish(path);
    CHECK_EQ_U64(g->st.gaps, 1);
    CHECK_EQ_INT(g->n, 3);
    CHECK(g->n == 3 && g->m[1].rid == 3 && g->m[1].kind == COLLAB_KIND_REQUEST);
    if (!CHECK(g->n == 3 && fabs(g->m[1].ts - held) < 1e-5))
        fprintf(stderr, "held message at %.6f, its segment at %.6f\n", g->n ? g->m[1].ts : 0, held);
    CHECK(g->n == 3 && g->m[2].kind == COLLAB_KIND_REPLY && fabs(g->m[2].ts - acked) < 1e-5);
    st_free(&g);
}

/*  Segments swapped in flight: each message has the time of the segment that carried it. */
static void test_reordered_keeps_time(void)
{
    const char *path = start("swap-time.pcap", 46000);
    size_t n1 = login_frame(1);
    static uint8_t first[512];
    memcpy(first, frame, n1);
    size_t n2 = create_frame(2, "s:Second");
    double t2 = W.ts;
    tconv_at(&C, 0, (uint32_t)n1, frame, n2); /* the second message, first */
    W.ts += 2.0;
    double t1 = W.ts;
    tconv_at(&C, 0, 0, first, n1);
    tconv_advance(&C, 0, n1 + n2);
    tconv_close(&C);
    st_got_t *g = finish(path);
    CHECK_EQ_U64(g->st.gaps, 0);
    CHECK(g->n == 2 && g->m[0].rid == 1 && fabs(g->m[0].ts - t1) < 1e-5);
    CHECK(g->n == 2 && g->m[1].rid == 2 && fabs(g->m[1].ts - t2) < 1e-5);
    st_free(&g);
}

static void test_midstream(void)
{
    const char *path = st_path("midstream.pcap");
    CHECK(pcapw_open(&W, path, PG_ETHERNET) == 0);
    tconv_init(&C, &W, 4, 2, 40000, 5555, 50000); /* no SYN, no greeting */
    size_t n = create_frame(1, "s:Tail");
    tconv_send(&C, 0, frame + n - 25, 25); /* the end of a frame */
    tconv_send(&C, 1, frame, 7);           /* and a stray piece the other way */
    tconv_send(&C, 0, frame, create_frame(2, "s:First"));
    tconv_send(&C, 0, frame, create_frame(3, "s:Second"));
    tconv_send(&C, 1, frame, reply_frame(2));
    tconv_send(&C, 1, frame, reply_frame(3));
    st_got_t *g = finish(path);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "create_project"), 2);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REPLY, NULL), 2);
    CHECK_EQ_INT(g->n, 4);
    CHECK(g->n == 4 && g->m[0].rid == 2 && g->m[0].dir == COLLAB_SNIFF_TO_BROKER);
    CHECK(st_notes(g, "resynchronised on a frame boundary after skipping 25 bytes") == 1);
    CHECK(st_notes(g, "resynchronised on a frame boundary after skipping 7 bytes") == 1);
    CHECK_EQ_U64(g->st.resyncs, 2);
    st_free(&g);
}

static void test_interleaved(void)
{
    const char *path = st_path("two.pcap");
    tconv_t a, b;
    CHECK(pcapw_open(&W, path, PG_ETHERNET) == 0);
    tconv_init(&a, &W, 4, 2, 40001, 5555, 1);
    tconv_init(&b, &W, 4, 3, 40002, 5555, 7);
    zg_open_null(&a);
    zg_open_null(&b);
    size_t n = create_frame(7, "s:FromA");
    tconv_send(&a, 0, frame, 20);
    static uint8_t rest[CAP];
    memcpy(rest, frame + 20, n - 20);
    tconv_send(&b, 0, frame, login_frame(7)); /* the same request id on the other conn */
    tconv_send(&a, 0, rest, n - 20);
    tconv_send(&b, 1, frame, reply_frame(7));
    tconv_send(&a, 1, frame, reply_frame(7));
    tconv_close(&a);
    tconv_close(&b);
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 4);
    for (size_t i = 0; i < g->n; i++) {
        const st_msg_t *m = &g->m[i];
        if (m->kind == COLLAB_KIND_REPLY)
            CHECK_STR(m->reply_to, m->conn == 1 ? "create_project" : "login");
        if (m->kind == COLLAB_KIND_REQUEST)
            CHECK_STR(m->src, m->conn == 1 ? "127.0.0.2:40001" : "127.0.0.3:40002");
    }
    CHECK_EQ_U64(g->st.conns, 2);
    st_free(&g);
}

static void test_seq_wrap(void)
{
    const char *path = start("wrap.pcap", 0xffffff00u); /* data crosses 2^32 */
    for (uint64_t i = 1; i <= 4; i++)
        tconv_send_split(&C, 0, frame, create_frame(i, "s:Wrapping"), 50);
    tconv_close(&C);
    st_got_t *g = finish(path);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "create_project"), 4);
    CHECK_EQ_U64(g->st.gaps, 0);
    st_free(&g);
}

static void test_truncated_file(void)
{
    const char *path = start("truncated.pcap", 60000);
    for (uint64_t i = 1; i <= 3; i++)
        tconv_send(&C, 0, frame, create_frame(i, "s:Whole"));
    CHECK(pcapw_close(&W) == 0);
    FILE *f = fopen(path, "rb");
    CHECK(f && fseek(f, 0, SEEK_END) == 0);
    long size = f ? ftell(f) : 0;
    if (f)
        fclose(f);
    CHECK(truncate(path, size - 20) == 0); /* the last record cut in its middle */
    st_got_t *g = st_sniff_file(path, 5555);
    CHECK_EQ_INT(g->open_rc, 0);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "create_project"), 2);
    CHECK(g->st.truncated);
    CHECK(st_notes(g, "cut short") == 1);
    st_free(&g);
}

/*  A hole with more than the cap held behind it: the cap wins, the gap is declared. */
static void test_buffer_cap(void)
{
    const char *path = start("cap.pcap", 70000);
    static uint8_t junk[60000];
    tconv_advance(&C, 0, 100); /* lost */
    for (int i = 0; i < 5; i++)
        tconv_send(&C, 0, junk, sizeof junk);
    tconv_send(&C, 0, frame, login_frame(1));
    st_got_t *g = finish(path);
    CHECK(g->st.overflows >= 1);
    CHECK(st_notes(g, "out-of-order buffer full") >= 1);
    CHECK(st_notes(g, "gap of 100 bytes") == 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    st_free(&g);
}

static void test_conn_cap(void)
{
    const char *path = st_path("conns.pcap");
    uint8_t greeting[64];
    CHECK(pcapw_open(&W, path, PG_ETHERNET) == 0);
    for (int i = 0; i < 520; i++) {
        tconv_init(&C, &W, 4, 2, (uint16_t)(30000 + i), 5555, (uint32_t)i * 7919u);
        tconv_handshake(&C);
        tconv_send(&C, 0, greeting, zg_greeting(greeting, "NULL", 1, false));
    }
    tconv_send(&C, 0, frame, login_frame(1)); /* the last connection still works */
    st_got_t *g = finish(path);
    CHECK_EQ_U64(g->st.conns, 520);
    CHECK_EQ_U64(g->st.dropped_conns, 8);
    CHECK(st_notes(g, "connection table full") == 8);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    st_free(&g);
}

static uint32_t rng = 2463534242u;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/*  One random piece of stream: a valid frame, random bytes, or a frame header with a
    random (often huge) size. */
static size_t random_piece(uint8_t *buf)
{
    uint32_t kind = rnd() % 3;
    if (kind == 0) {
        size_t n = login_frame(rnd());
        memcpy(buf, frame, n);
        return n;
    }
    size_t n = 1 + rnd() % 2000;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)rnd();
    if (kind == 2)
        buf[0] = (uint8_t)(rnd() % 8);
    return n;
}

/*  Sends a piece in order, split, out of order, twice, or loses it. */
static void random_send(const uint8_t *buf, size_t n)
{
    switch (rnd() % 5) {
    case 0:
        tconv_advance(&C, 0, n);
        break;
    case 1:
        tconv_send_split(&C, 0, buf, n, 1 + rnd() % 64);
        break;
    case 2:
        tconv_at(&C, 0, (uint32_t)(n / 2), buf + n / 2, n - n / 2);
        tconv_at(&C, 0, 0, buf, n / 2);
        tconv_advance(&C, 0, n);
        break;
    case 3:
        tconv_at(&C, 0, 0, buf, n);
        tconv_send(&C, 0, buf, n);
        break;
    default:
        tconv_send(&C, 0, buf, n);
    }
}

/*  Garbage, losses and reordering in every combination: the sniffer never crashes, never
    reads out of bounds (the sanitizer build checks), and keeps decoding. */
static void test_random_streams(void)
{
    const char *path = st_path("random.pcap");
    static uint8_t buf[CAP];
    if (getenv("ST_SEED")) /* another sequence, for a longer hunt by hand */
        rng = (uint32_t)strtoul(getenv("ST_SEED"), NULL, 10) | 1u;
    CHECK(pcapw_open(&W, path, PG_ETHERNET) == 0);
    for (int conv = 0; conv < 40; conv++) {
        tconv_init(&C, &W, 4, 2, (uint16_t)(41000 + conv), 5555, rnd());
        uint32_t open = rnd() % 3;
        if (open == 0)
            zg_open_null(&C);
        if (open == 1) { /* a CURVE greeting: what follows can only be ciphertext */
            tconv_handshake(&C);
            tconv_send(&C, 0, buf, zg_greeting(buf, "CURVE", 0, false));
        }
        for (int k = 0; k < 30; k++)
            random_send(buf, random_piece(buf));
        if (rnd() % 2)
            tconv_send(&C, 1, frame, reply_frame(1)); /* acknowledges everything */
        if (rnd() % 2)
            tconv_close(&C);
    }
    st_got_t *g = finish(path);
    CHECK_EQ_U64(g->st.conns, 40);
    CHECK(st_count(g, COLLAB_KIND_REQUEST, "login") > 50);
    CHECK(g->st.encrypted > 0);
    CHECK(g->st.gaps > 0 && g->st.resyncs > 0);
    st_free(&g);
}

static void test_missing_file(void)
{
    st_got_t *g = st_sniff_file(st_path("does-not-exist.pcap"), 5555);
    CHECK_EQ_INT(g->open_rc, -1);
    CHECK(strstr(g->err, "does-not-exist.pcap") != NULL);
    st_free(&g);
}

int main(void)
{
    TU_RUN(test_split_frame);
    TU_RUN(test_retransmission);
    TU_RUN(test_out_of_order);
    TU_RUN(test_lost_segment);
    TU_RUN(test_lost_inside_frame);
    TU_RUN(test_gap_at_end);
    TU_RUN(test_gap_keeps_time);
    TU_RUN(test_reordered_keeps_time);
    TU_RUN(test_midstream);
    TU_RUN(test_interleaved);
    TU_RUN(test_seq_wrap);
    TU_RUN(test_truncated_file);
    TU_RUN(test_buffer_cap);
    TU_RUN(test_conn_cap);
    TU_RUN(test_random_streams);
    TU_RUN(test_missing_file);
    st_cleanup();
    return tu_exit("test_sniff_tcp");
}
