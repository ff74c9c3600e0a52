/*  codec_bench.c: nanoseconds per encode, decode and decode+verify (weak and full scope) of a
    typical signed update_task_status request, timed on the monotonic clock (collab_mono_ns) after a
   warmup. Usage: codec_bench [iterations]   (default 1000000) */
#include "collab.h"
#include "collab_clock.h"
#include "collab_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const uint8_t KEY[COLLAB_KEY_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t NONCE[COLLAB_NONCE_LEN] = "bench-nonce-0001";

static uint8_t payload[256], frame_weak[512], frame_full[512], out[512];
static size_t payload_len, weak_len, full_len;
/* a get_project reply of the benchmark's read scenario: a project and its 4 tasks */
static uint8_t reply_data[2048], frame_reply[2304];
static size_t reply_data_len, reply_len;
static collab_envelope_t req;
static uint8_t sig_weak[COLLAB_SIGNATURE_LEN], sig_full[COLLAB_SIGNATURE_LEN];
static volatile uint64_t sink; /* keeps the compiler from dropping the work */

static void build(void)
{
    collab_pack_t p;
    collab_pack_init(&p, payload, sizeof payload);
    collab_pack_map(&p, 3);
    collab_pack_kv_uint(&p, "task_id", 4242);
    collab_pack_kv_str(&p, "status", "done");
    collab_pack_kv_str(&p, "result",
                       "built 14 artifacts, 0 warnings; checksums verified and "
                       "uploaded to the project store for review");
    collab_pack_finish(&p, &payload_len);
    req = (collab_envelope_t){.kind = COLLAB_KIND_REQUEST, .version = COLLAB_PROTOCOL_VERSION};
    req.request_id = 12345;
    req.action = (collab_span_t){"update_task_status", 18};
    req.agent_id = (collab_span_t){"worker-07", 9};
    req.session_id = (collab_span_t){"s-3f9a1c2e7b6d4058a1b2c3d4e5f60718", 34};
    req.timestamp = 1700000000000ull;
    req.nonce = (collab_span_t){(const char *)NONCE, sizeof NONCE};
    req.payload = (collab_span_t){(const char *)payload, payload_len};
    collab_sign(&req, COLLAB_SCOPE_WEAK, KEY, sig_weak);
    collab_sign(&req, COLLAB_SCOPE_FULL, KEY, sig_full);
    req.signature = (collab_span_t){(const char *)sig_weak, sizeof sig_weak};
    collab_envelope_encode(&req, frame_weak, sizeof frame_weak, &weak_len);
    req.signature = (collab_span_t){(const char *)sig_full, sizeof sig_full};
    collab_envelope_encode(&req, frame_full, sizeof frame_full, &full_len);
}

#define READ_DESC                                                                                  \
    "Created by the taskcollab load generator: a project of ordinary size whose tasks the "        \
    "reading agents fetch again and again while the clock runs."

/*  The data of the reply scripts/bench's read scenario gets (bench/lg_scenario.c's project),
    packed as broker/handlers_project.c packs it. Returns its length. */
static size_t pack_reply_data(uint8_t *mem, size_t cap)
{
    collab_pack_t p;
    size_t len = 0;
    collab_pack_init(&p, mem, cap);
    collab_pack_map(&p, 8);
    collab_pack_kv_uint(&p, "project_id", 1);
    collab_pack_kv_str(&p, "name", "bench project");
    collab_pack_kv_str(&p, "description", READ_DESC);
    collab_pack_kv_str(&p, "owner", "bench-coord");
    collab_pack_kv_str(&p, "status", "open");
    collab_pack_kv_uint(&p, "created", 1700000000000ull);
    collab_pack_str(&p, "tasks");
    collab_pack_array(&p, 4);
    for (unsigned i = 0; i < 4; i++) {
        char title[32];
        snprintf(title, sizeof title, "bench task %u", i);
        collab_pack_map(&p, 11);
        collab_pack_kv_uint(&p, "task_id", i + 1);
        collab_pack_kv_uint(&p, "project_id", 1);
        collab_pack_kv_str(&p, "type", "analysis");
        collab_pack_kv_str(&p, "title", title);
        collab_pack_kv_str(&p, "description", READ_DESC);
        collab_pack_kv_str(&p, "status", "assigned");
        collab_pack_kv_str(&p, "assigned_to", "bench-w000");
        collab_pack_kv_str(&p, "assigned_by", "bench-coord");
        collab_pack_kv_str(&p, "result", "");
        collab_pack_kv_uint(&p, "created", 1700000000000ull);
        collab_pack_kv_uint(&p, "updated", 1700000000000ull);
    }
    collab_pack_kv_uint(&p, "task_total", 4);
    return collab_pack_finish(&p, &len) == 0 ? len : 0;
}

static void build_reply(void)
{
    reply_data_len = pack_reply_data(reply_data, sizeof reply_data);
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY, .version = COLLAB_PROTOCOL_VERSION};
    rep.request_id = 12345;
    rep.ok = true;
    rep.error = (collab_span_t){"", 0};
    rep.data = (collab_span_t){(const char *)reply_data, reply_data_len};
    collab_envelope_encode(&rep, frame_reply, sizeof frame_reply, &reply_len);
}

static void op_pack_reply(void)
{
    static uint8_t mem[2048];
    sink += pack_reply_data(mem, sizeof mem);
}

static void op_decode_reply(void)
{
    collab_envelope_t env;
    sink += (uint64_t)collab_envelope_decode(frame_reply, reply_len, &env) + env.data.len;
}

static void op_encode(void)
{
    size_t len = 0;
    sink += (uint64_t)collab_envelope_encode(&req, out, sizeof out, &len) + len;
}

static void op_decode(void)
{
    collab_envelope_t env;
    sink += (uint64_t)collab_envelope_decode(frame_full, full_len, &env) + env.payload.len;
}

static void op_verify_weak(void)
{
    collab_envelope_t env;
    int rc = collab_envelope_decode(frame_weak, weak_len, &env);
    sink += (uint64_t)(rc ? rc : collab_verify(&env, COLLAB_SCOPE_WEAK, KEY));
}

static void op_verify_full(void)
{
    collab_envelope_t env;
    int rc = collab_envelope_decode(frame_full, full_len, &env);
    sink += (uint64_t)(rc ? rc : collab_verify(&env, COLLAB_SCOPE_FULL, KEY));
}

static void op_sign_full(void)
{
    uint8_t sig[COLLAB_SIGNATURE_LEN];
    collab_sign(&req, COLLAB_SCOPE_FULL, KEY, sig);
    sink += sig[0];
}

static void op_map_parse(void)
{
    collab_map_t m;
    sink += (uint64_t)collab_map_parse(payload, payload_len, &m) + m.count;
}

static double now_ns(void)
{
    return (double)collab_mono_ns();
}

static double time_op(void (*op)(void), long iterations)
{
    for (long i = 0; i < iterations / 10 + 1; i++) /* warmup: caches, branch predictors */
        op();
    double t0 = now_ns();
    for (long i = 0; i < iterations; i++)
        op();
    return (now_ns() - t0) / (double)iterations;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*op)(void);
    } ops[] = {
        {"encode", op_encode},
        {"decode", op_decode},
        {"decode+verify weak", op_verify_weak},
        {"decode+verify full", op_verify_full},
        {"sign full (reference)", op_sign_full},
        {"payload map parse (reference)", op_map_parse},
        {"pack get_project reply data", op_pack_reply},
        {"decode get_project reply", op_decode_reply},
    };
    long iterations = 1000000;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: codec_bench [ITERATIONS]   (1..1000000000, default 1000000)\n"
               "nanoseconds per encode, decode and decode+verify (weak and full signature\n"
               "scope) of a typical signed update_task_status request, after a warmup\n");
        return 0;
    }
    if (argc > 2 || (argc == 2 && collab_parse_long(argv[1], 1, 1000000000, &iterations) != 0)) {
        fprintf(stderr, "usage: codec_bench [ITERATIONS]   (1..1000000000, default 1000000)\n");
        return 2;
    }
    build();
    build_reply();
    collab_envelope_t env;
    if (collab_envelope_decode(frame_full, full_len, &env) ||
        collab_verify(&env, COLLAB_SCOPE_FULL, KEY)) {
        fprintf(stderr, "codec_bench: the sample request does not round-trip\n");
        return 1;
    }
    if (reply_len == 0 || collab_envelope_decode(frame_reply, reply_len, &env) != 0) {
        fprintf(stderr, "codec_bench: the sample reply does not round-trip\n");
        return 1;
    }
    printf("signed update_task_status request: %zu-byte frame, %zu-byte payload; get_project "
           "reply: %zu-byte frame; %ld iterations\n\n",
           full_len, payload_len, reply_len, iterations);
    printf("%-32s %10s %12s\n", "operation", "ns/op", "ops/s");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        double ns = time_op(ops[i].op, iterations);
        printf("%-32s %10.1f %12.0f\n", ops[i].name, ns, 1e9 / ns);
    }
    return 0;
}
