/*  test_sniff_zmtp.c: the sniffer's ZMTP parsing and presentation on crafted pcap files:
    long frames, multipart messages, events, the CURVE handshake (encrypted, nothing
    decoded), PLAIN's handshake, ZMTP 3.1 commands, oversized frames and bad flags, traffic
    that is not ZMTP, every supported link type and IPv6, and the JSON capture records. */
#include "pcapgen.h"
#include "sniftest.h"
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

#define CAP (2 * COLLAB_MAX_FRAME)

static uint8_t env[CAP], frame[CAP];
static pcapw_t W;
static tconv_t C;

static const char *start(const char *name, int link, int family)
{
    const char *path = st_path(name);
    CHECK(pcapw_open(&W, path, link) == 0);
    tconv_init(&C, &W, family, 2, 40000, 5555, 1000);
    return path;
}

static st_got_t *finish(const char *path)
{
    tconv_close(&C);
    CHECK(pcapw_close(&W) == 0);
    st_got_t *g = st_sniff_file(path, 5555);
    CHECK(g->open_rc == 0);
    return g;
}

static size_t login_env(uint64_t rid)
{
    return zg_request(env, CAP, rid, "login", "coordinator1", "", "password", "s:coord123", NULL);
}

static void test_long_frames(void)
{
    const char *path = start("long.pcap", PG_ETHERNET, 4);
    static char desc[1200];
    memset(desc, 'd', sizeof desc - 1);
    desc[0] = 's', desc[1] = ':';
    zg_open_null(&C);
    size_t n = zg_request(env, CAP, 1, "create_project", "coordinator1", "sess", "name", "s:Big",
                          "description", desc, NULL);
    tconv_send_split(&C, 0, frame, zg_frame(frame, 0, env, n, false), 500);
    n = login_env(2);
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, n, true)); /* 8-byte size, small body */
    st_got_t *g = finish(path);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "create_project"), 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    CHECK(g->n >= 1 && strstr(g->m[0].line, "description=\"ddd") != NULL);
    st_free(&g);
}

static void test_multipart(void)
{
    const char *path = start("multi.pcap", PG_ETHERNET, 4);
    zg_open_null(&C);
    size_t n = login_env(1), f = 0;
    f += zg_frame(frame, 0x01, "", 0, false); /* an empty delimiter, MORE */
    f += zg_frame(frame + f, 0x00, env, n, false);
    tconv_send(&C, 0, frame, f);
    f = zg_frame(frame, 0x01, "abc", 3, false);
    f += zg_frame(frame + f, 0x01, env, n, false);
    f += zg_frame(frame + f, 0x00, "tail", 4, false);
    tconv_send_split(&C, 0, frame, f, 9);
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 2);
    CHECK(g->n == 2 && g->m[0].nframes == 2 && g->m[0].envelope_frame == 1);
    CHECK(g->n == 2 && g->m[1].nframes == 3 && g->m[1].envelope_frame == 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 2);
    CHECK(g->n == 2 && strstr(g->m[1].line, "[3 frames]") != NULL);
    cJSON *o = g->n == 2 ? cJSON_Parse(g->m[1].json) : NULL;
    cJSON *frames = cJSON_GetObjectItem(o, "frames");
    CHECK(cJSON_GetArraySize(frames) == 3);
    CHECK(cJSON_IsString(cJSON_GetArrayItem(frames, 0)) &&
          strcmp(cJSON_GetArrayItem(frames, 0)->valuestring, "616263") == 0);
    cJSON_Delete(o);
    st_free(&g);
}

static void test_reply_and_event(void)
{
    const char *path = start("event.pcap", PG_ETHERNET, 4);
    zg_open_null(&C);
    size_t n = login_env(5);
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, n, false));
    n = zg_reply(env, CAP, 5, "session_id", "s:abc-123", "role", "s:coordinator", NULL);
    tconv_send(&C, 1, frame, zg_frame(frame, 0, env, n, false));
    n = zg_event(env, CAP, "task_assigned", 4, "task_id", "u:9", "title", "s:Write\x1b[2Jtests",
                 NULL);
    tconv_send(&C, 1, frame, zg_frame(frame, 0, env, n, false));
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 3);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_EVENT, "task_assigned"), 1);
    CHECK(g->n == 3 &&
          strstr(g->m[1].line, "reply #5 (login) ok data{session_id=\"abc-123\"") != NULL);
    CHECK(g->n == 3 && strstr(g->m[2].line, "event task_assigned seq=4") != NULL);
    CHECK(g->n == 3 && strstr(g->m[2].line, "Write\\x1b[2Jtests") != NULL); /* escaped */
    CHECK(g->n == 3 && strchr(g->m[2].line, 0x1b) == NULL);
    cJSON *o = g->n == 3 ? cJSON_Parse(g->m[1].json) : NULL;
    CHECK(cJSON_IsString(cJSON_GetObjectItem(o, "dir")) &&
          strcmp(cJSON_GetObjectItem(o, "dir")->valuestring, "reply") == 0);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(o, "action")) &&
          strcmp(cJSON_GetObjectItem(o, "action")->valuestring, "login") == 0);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(o, "conn")) &&
          cJSON_IsNumber(cJSON_GetObjectItem(o, "ts")));
    cJSON_Delete(o);
    st_free(&g);
}

static void test_curve(void)
{
    const char *path = start("curve.pcap", PG_ETHERNET, 4);
    static uint8_t junk[400];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    tconv_handshake(&C);
    tconv_send(&C, 0, frame, zg_greeting(frame, "CURVE", 0, false));
    tconv_send(&C, 1, frame, zg_greeting(frame, "CURVE", 0, true));
    tconv_send(&C, 0, frame, zg_command(frame, "HELLO", junk, 194));
    tconv_send(&C, 1, frame, zg_command(frame, "WELCOME", junk, 160));
    tconv_send(&C, 0, frame, zg_command(frame, "INITIATE", junk, 248));
    tconv_send(&C, 1, frame, zg_command(frame, "READY", junk, 40));
    static const size_t sizes[] = {120, 90, 300};
    for (int i = 0; i < 3; i++) {
        uint8_t body[512];
        memcpy(body, junk, sizes[i]);
        size_t n = zg_command(frame, "MESSAGE", body, sizes[i]);
        tconv_send(&C, i % 2, frame, n);
    }
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 3);
    CHECK_EQ_U64(g->st.encrypted, 3);
    CHECK_EQ_U64(g->st.undecoded, 0);
    for (size_t i = 0; i < g->n; i++) {
        CHECK(g->m[i].encrypted && g->m[i].kind == 0);
        CHECK(strstr(g->m[i].line, "encrypted (CURVE)") != NULL);
    }
    CHECK(st_notes(g, "mechanism CURVE") == 2);
    CHECK(st_notes(g, "CURVE HELLO") == 1 && st_notes(g, "CURVE READY") == 1);
    CHECK(st_notes(g, "password") == 0);
    st_free(&g);
}

static void test_plain(void)
{
    const char *path = start("plain.pcap", PG_ETHERNET, 4);
    uint8_t hello[64], props[64];
    size_t n = 0;
    hello[n++] = 5;
    memcpy(hello + n, "alice", 5), n += 5;
    hello[n++] = 6;
    memcpy(hello + n, "s3cret", 6), n += 6;
    tconv_handshake(&C);
    tconv_send(&C, 0, frame, zg_greeting(frame, "PLAIN", 1, false));
    tconv_send(&C, 1, frame, zg_greeting(frame, "PLAIN", 1, true));
    tconv_send(&C, 0, frame, zg_command(frame, "HELLO", hello, n));
    tconv_send(&C, 1, frame, zg_command(frame, "WELCOME", "", 0));
    size_t p = 0;
    props[p++] = 11;
    memcpy(props + p, "Socket-Type", 11), p += 11;
    memcpy(props + p, "\0\0\0\6DEALER", 10), p += 10;
    tconv_send(&C, 0, frame, zg_command(frame, "INITIATE", props, p));
    tconv_send(&C, 1, frame, zg_ready(frame, "ROUTER", ""));
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(1), false));
    st_got_t *g = finish(path);
    CHECK(st_notes(g, "PLAIN HELLO username=\"alice\" password=\"s3cret\"") == 1);
    CHECK(st_notes(g, "PLAIN INITIATE Socket-Type=\"DEALER\"") == 1);
    CHECK(st_notes(g, "PLAIN WELCOME") == 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    CHECK(g->n == 1 && strstr(g->m[0].line, "password=\"coord123\"") != NULL);
    st_free(&g);
}

static void test_zmtp31_commands(void)
{
    const char *path = start("cmds.pcap", PG_ETHERNET, 4);
    zg_open_null(&C);
    tconv_send(&C, 0, frame,
               zg_command(frame, "PING",
                          "\x00\x0a"
                          "ctx",
                          5));
    tconv_send(&C, 1, frame, zg_command(frame, "PONG", "ctx", 3));
    tconv_send(&C, 0, frame, zg_command(frame, "SUBSCRIBE", "news", 4));
    tconv_send(&C, 0, frame, zg_command(frame, "NEWTHING", "x", 1));
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(1), false));
    tconv_send(&C, 1, frame, zg_command(frame, "ERROR", "\x0bgo away now", 12));
    st_got_t *g = finish(path);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    CHECK_EQ_INT(g->n, 1);
    CHECK(st_notes(g, "SUBSCRIBE \"news\"") == 1);
    CHECK(st_notes(g, "command NEWTHING") == 1);
    CHECK(st_notes(g, "ERROR \"go away now\"") == 1);
    CHECK(st_notes(g, "PING") == 0); /* counted, not shown */
    st_free(&g);
}

static void test_zmtp30_and_bad_frames(void)
{
    const char *path = start("bad.pcap", PG_ETHERNET, 4);
    static uint8_t huge[2 * COLLAB_MAX_FRAME + 16], body[2 * COLLAB_MAX_FRAME + 1];
    tconv_handshake(&C);
    tconv_send(&C, 0, frame, zg_greeting(frame, "NULL", 0, false));
    tconv_send(&C, 0, frame, zg_ready(frame, "DEALER", "me"));
    size_t n = zg_frame(huge, 0, body, sizeof body, true);
    tconv_send_split(&C, 0, huge, n, 60000); /* over the frame cap: skipped */
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(1), false));
    tconv_send(&C, 0, "\xf0\x01zz", 4); /* reserved flag bits */
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(2), false));
    tconv_send(&C, 0, frame,
               zg_frame(frame, 0, "\x93\x01\x02\x03", 4, false)); /* not an envelope */
    st_got_t *g = finish(path);
    CHECK(st_notes(g, "ZMTP 3.0 greeting") == 1);
    CHECK(st_notes(g, "Identity=\"me\"") == 1);
    CHECK(st_notes(g, "frame of 131073 bytes skipped") == 1);
    CHECK(st_notes(g, "bad frame flags 0xf0") == 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 2);
    CHECK_EQ_INT(st_count(g, 0, NULL), 2); /* the oversized one (dropped) and the array */
    CHECK_EQ_U64(g->st.undecoded, 1);
    CHECK_EQ_U64(g->st.dropped, 1);
    CHECK(g->n == 4 && g->m[0].dropped && g->m[0].nframes == 0);
    CHECK(g->n == 4 && strstr(g->m[0].line, "dropped: 1 frame, 131073 bytes, over the sniffer's "
                                            "limit of 131072 bytes (raise it with "
                                            "--max-frame-bytes)") != NULL);
    CHECK(g->n == 4 && strstr(g->m[3].line, "undecoded (malformed)") != NULL);
    cJSON *o = g->n == 4 ? cJSON_Parse(g->m[3].json) : NULL;
    const cJSON *de = cJSON_GetObjectItem(o, "decode_error");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(de, "code")) &&
          cJSON_GetObjectItem(de, "code")->valueint == 1);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(de, "name")) &&
          strcmp(cJSON_GetObjectItem(de, "name")->valuestring, "malformed") == 0);
    CHECK(cJSON_IsString(cJSON_GetObjectItem(de, "text")));
    cJSON_Delete(o);
    st_free(&g);
}

/*  A pcap with, on one connection: a message of 17 frames, one of 3 frames of 100000 bytes
    (300000 bytes), one single frame of 200000 bytes, then a login. */
static const char *make_big_messages(void)
{
    static uint8_t body[200000], buf[200016];
    const char *path = start("limits.pcap", PG_ETHERNET, 4);
    memset(body, 'b', sizeof body);
    zg_open_null(&C);
    for (int i = 0; i < 17; i++)
        tconv_send(&C, 0, frame, zg_frame(frame, i < 16 ? 0x01 : 0, "part", 4, false));
    for (int i = 0; i < 3; i++)
        tconv_send_split(&C, 0, buf, zg_frame(buf, i < 2 ? 0x01 : 0, body, 100000, false), 60000);
    tconv_send_split(&C, 0, buf, zg_frame(buf, 0, body, sizeof body, false), 60000);
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(7), false));
    return path;
}

static bool json_drop(const st_msg_t *m, const char *limit, double max, double frames, double bytes)
{
    cJSON *o = cJSON_Parse(m->json);
    const cJSON *d = cJSON_GetObjectItem(o, "dropped");
    bool ok = cJSON_IsString(cJSON_GetObjectItem(o, "dir")) &&
              strcmp(cJSON_GetObjectItem(o, "dir")->valuestring, "dropped") == 0 &&
              cJSON_GetArraySize(cJSON_GetObjectItem(o, "frames")) == 0 &&
              cJSON_IsString(cJSON_GetObjectItem(d, "limit")) &&
              strcmp(cJSON_GetObjectItem(d, "limit")->valuestring, limit) == 0 &&
              cJSON_GetObjectItem(d, "max")->valuedouble == max &&
              cJSON_GetObjectItem(d, "frames")->valuedouble == frames &&
              cJSON_GetObjectItem(d, "bytes")->valuedouble == bytes &&
              cJSON_IsTrue(cJSON_GetObjectItem(d, "complete"));
    if (!ok)
        fprintf(stderr, "unexpected drop record: %s\n", m->json);
    cJSON_Delete(o);
    return ok;
}

/*  Messages over the limits are counted, shown and recorded, never silently lost; raising
    the limits keeps them. */
static void test_limits(void)
{
    const char *path = make_big_messages();
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 4);
    CHECK_EQ_U64(g->st.dropped, 3);
    CHECK_EQ_U64(g->st.messages, 4);
    CHECK_EQ_U64(g->st.undecoded, 0);
    CHECK(g->n == 4 && g->m[0].dropped && json_drop(&g->m[0], "frames", 16, 17, 68));
    CHECK(g->n == 4 && strstr(g->m[0].line, "dropped: 17 frames, 68 bytes, over the sniffer's "
                                            "limit of 16 frames (raise it with --max-frames)"));
    CHECK(g->n == 4 && g->m[1].dropped && json_drop(&g->m[1], "message_bytes", 262144, 3, 300000));
    CHECK(g->n == 4 && g->m[2].dropped && json_drop(&g->m[2], "frame_bytes", 131072, 1, 200000));
    CHECK(g->n == 4 && g->m[3].kind == COLLAB_KIND_REQUEST && g->m[3].rid == 7);
    CHECK(g->n == 4 && g->m[0].dir == COLLAB_SNIFF_TO_BROKER);
    CHECK(st_notes(g, "message of 17 frames, 68 bytes dropped: over the limit of 16 frames") == 1);
    CHECK(st_notes(g, "over the limit of 262144 bytes a message") == 1);
    st_free(&g);

    collab_sniff_limits_t lim = {
        .max_frames = 17, .max_frame_bytes = 200000, .max_message_bytes = 300000};
    g = st_sniff_file_limits(path, 5555, &lim);
    CHECK_EQ_INT(g->open_rc, 0);
    CHECK_EQ_U64(g->st.dropped, 0);
    CHECK_EQ_INT(g->n, 4);
    CHECK(g->n == 4 && g->m[0].nframes == 17 && g->m[1].nframes == 3 && g->m[2].nframes == 1);
    st_free(&g);

    lim.max_frames = 16; /* the frame count alone still drops the first */
    g = st_sniff_file_limits(path, 5555, &lim);
    CHECK_EQ_U64(g->st.dropped, 1);
    st_free(&g);

    lim = (collab_sniff_limits_t){.max_frames = COLLAB_SNIFF_LIMIT_FRAMES + 1};
    g = st_sniff_file_limits(path, 5555, &lim);
    CHECK_EQ_INT(g->open_rc, -1); /* refused: beyond what the sniffer allows */
    st_free(&g);
}

/*  A message over the limits that a gap cuts is still reported, as cut short. */
static void test_limit_cut_by_gap(void)
{
    const char *path = start("limit-gap.pcap", PG_ETHERNET, 4);
    zg_open_null(&C);
    for (int i = 0; i < 17; i++)
        tconv_send(&C, 0, frame, zg_frame(frame, 0x01, "part", 4, false));
    tconv_advance(&C, 0, 6); /* the 18th frame, lost */
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(8), false));
    tconv_send(&C, 1, frame, zg_frame(env + 4096, 0, "", 0, false)); /* acknowledges it all */
    st_got_t *g = finish(path);
    CHECK_EQ_U64(g->st.dropped, 1);
    CHECK(g->n >= 1 && g->m[0].dropped && strstr(g->m[0].line, "17 frames, 68 bytes (cut short)"));
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    st_free(&g);
}

static void test_not_zmtp(void)
{
    const char *path = st_path("http.pcap");
    const char *req = "GET / HTTP/1.1\r\nHost: x\r\n\r\n", *rep = "HTTP/1.1 200 OK\r\n\r\nhi";
    tconv_t h;
    CHECK(pcapw_open(&W, path, PG_ETHERNET) == 0);
    tconv_init(&h, &W, 4, 3, 41000, 5555, 77);
    tconv_init(&C, &W, 4, 2, 40000, 5555, 1000);
    tconv_handshake(&h);
    zg_open_null(&C);
    tconv_send(&h, 0, req, strlen(req));
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(1), false));
    tconv_send(&h, 1, rep, strlen(rep));
    tconv_close(&h);
    st_got_t *g = finish(path);
    CHECK(st_notes(g, "not ZMTP (starts with 47 45 54 20") == 1);
    CHECK_EQ_U64(g->st.not_zmtp, 2);
    CHECK_EQ_INT(g->n, 1);
    CHECK_EQ_INT(st_count(g, COLLAB_KIND_REQUEST, "login"), 1);
    st_free(&g);
}

/*  The same conversation over every link type the sniffer reads, IPv4 and IPv6. */
static void test_link_types(void)
{
    static const struct {
        int link, family;
        const char *src;
    } cases[] = {
        {PG_SLL, 4, "127.0.0.2:40000"},  {PG_SLL2, 4, "127.0.0.2:40000"},
        {PG_NULL, 4, "127.0.0.2:40000"}, {PG_RAW, 4, "127.0.0.2:40000"},
        {PG_ETHERNET, 6, "[::2]:40000"}, {PG_SLL2, 6, "[::2]:40000"},
        {PG_NULL, 6, "[::2]:40000"},     {PG_RAW, 6, "[::2]:40000"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "link-%zu.pcap", i);
        const char *path = start(name, cases[i].link, cases[i].family);
        zg_open_null(&C);
        tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(1), false));
        size_t n = zg_reply(env, CAP, 1, "role", "s:coordinator", NULL);
        tconv_send(&C, 1, frame, zg_frame(frame, 0, env, n, false));
        st_got_t *g = finish(path);
        CHECK_EQ_INT(g->n, 2);
        if (g->n == 2)
            CHECK_STR(g->m[0].src, cases[i].src);
        CHECK_EQ_INT(st_count(g, COLLAB_KIND_REPLY, NULL), 1);
        st_free(&g);
    }
}

static void test_port_filter(void)
{
    const char *path = st_path("ports.pcap");
    tconv_t other;
    CHECK(pcapw_open(&W, path, PG_ETHERNET) == 0);
    tconv_init(&other, &W, 4, 3, 42000, 6000, 5);
    tconv_init(&C, &W, 4, 2, 40000, 5555, 1000);
    zg_open_null(&other);
    zg_open_null(&C);
    tconv_send(&other, 0, frame, zg_frame(frame, 0, env, login_env(1), false));
    tconv_send(&C, 0, frame, zg_frame(frame, 0, env, login_env(2), false));
    tconv_close(&other);
    st_got_t *g = finish(path);
    CHECK_EQ_INT(g->n, 1); /* port 6000 filtered out */
    st_free(&g);
    g = st_sniff_file(path, 0); /* every port: direction from the SYN */
    CHECK_EQ_INT(g->n, 2);
    for (size_t i = 0; i < g->n; i++)
        CHECK(g->m[i].dir == COLLAB_SNIFF_TO_BROKER);
    st_free(&g);
}

static void test_format_map(void)
{
    uint8_t buf[256];
    char out[256];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 8);
    collab_pack_kv_str(&p, "s", "a\"b");
    collab_pack_kv_uint(&p, "u", 42);
    collab_pack_kv_int(&p, "i", -3);
    collab_pack_kv_bool(&p, "b", true);
    collab_pack_str(&p, "bin");
    collab_pack_bin(&p, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9);
    collab_pack_str(&p, "arr");
    collab_pack_array(&p, 2);
    collab_pack_uint(&p, 1);
    collab_pack_uint(&p, 2);
    collab_pack_kv_str(&p, "x", "y");
    collab_pack_kv_str(&p, "z", "w");
    CHECK_OK(collab_pack_finish(&p, &len));
    collab_sniff_format_map(buf, len, 6, out, sizeof out);
    CHECK_STR(out, "s=\"a\"b\" u=42 i=-3 b=true bin=0102030405060708..(9 bytes) arr=[2] (+2 more)");
    collab_sniff_format_map("\x01", 1, 6, out, sizeof out);
    CHECK_STR(out, "<not a map: malformed>");
    CHECK(collab_sniff_format_map(buf, len, 6, out, 10) == 9); /* truncated, terminated */
}

int main(void)
{
    TU_RUN(test_long_frames);
    TU_RUN(test_multipart);
    TU_RUN(test_reply_and_event);
    TU_RUN(test_curve);
    TU_RUN(test_plain);
    TU_RUN(test_zmtp31_commands);
    TU_RUN(test_zmtp30_and_bad_frames);
    TU_RUN(test_limits);
    TU_RUN(test_limit_cut_by_gap);
    TU_RUN(test_not_zmtp);
    TU_RUN(test_link_types);
    TU_RUN(test_port_filter);
    TU_RUN(test_format_map);
    st_cleanup();
    return tu_exit("test_sniff_zmtp");
}
