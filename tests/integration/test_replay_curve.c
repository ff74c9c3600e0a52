/*  test_replay_curve.c: collab-replay against a broker whose transport is CURVE: a
    captured login sent without CURVE gets no answer (exit 3); sent with an allowed client
    certificate it is served (exit 0), and a login the broker refuses exits 5 with the
    error's name and code. Args: broker, credentials, collab-replay, the curve folder. */
#include "agentproc.h"
#include "itest.h"

#include <sodium.h>

/*  A capture file holding one login request of admin, as collab-sniff -w writes it. */
static bool write_capture(const char *path, const char *password)
{
    uint8_t payload[64], frame[512];
    collab_pack_t p;
    size_t plen, flen;
    collab_pack_init(&p, payload, sizeof payload);
    collab_pack_map(&p, 1);
    collab_pack_kv_str(&p, "password", password);
    if (collab_pack_finish(&p, &plen) != 0)
        return false;
    collab_envelope_t env = {.kind = COLLAB_KIND_REQUEST,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = 1,
                             .action = {"login", 5},
                             .agent_id = {"admin", 5},
                             .session_id = {"", 0},
                             .timestamp = it_now_ms(),
                             .payload = {(const char *)payload, plen}};
    if (collab_envelope_encode(&env, frame, sizeof frame, &flen) != 0)
        return false;
    char hex[1100];
    sodium_bin2hex(hex, sizeof hex, frame, flen);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "{\"index\":1,\"dir\":\"request\",\"action\":\"login\",\"frames\":[\"%s\"]}\n", hex);
    return fclose(f) == 0;
}

int main(int argc, char **argv)
{
    broker_proc_t b;
    agent_proc_t p;
    char cert[600], clients[600], server[600], client[600], cap[400], bad[400];
    if (argc < 5 || broker_init(&b, argv[1], argv[2]) != 0)
        return 2;
    const char *replay = argv[3], *curve = argv[4];
    snprintf(cert, sizeof cert, "transport.server_cert=%s/broker.cert", curve);
    snprintf(clients, sizeof clients, "transport.clients_dir=%s/clients", curve);
    snprintf(server, sizeof server, "%s/broker.cert", curve);
    snprintf(client, sizeof client, "%s/admin.cert_secret", curve);
    snprintf(cap, sizeof cap, "%s/capture.jsonl", b.dir);
    snprintf(bad, sizeof bad, "%s/wrong.jsonl", b.dir);
    it_begin("replay over CURVE");
    const char *extra[] = {"--set", "transport=strong", "--set", cert, "--set", clients, NULL};
    if (CHECK(write_capture(cap, it_password("admin")) && write_capture(bad, "not-the-password")) &&
        CHECK(broker_start(&b, extra) == 0)) {
        char *plain[] = {(char *)replay, "-r",           cap,    "--broker", b.endpoint, "--action",
                         "login",        "--timeout-ms", "1000", NULL};
        CHECK(agent_spawn(&p, plain) == 0);
        CHECK_EQ_INT(agent_wait_exit(&p, 30000), 3); /* no answer without CURVE */
        char *curved[] = {(char *)replay, "-r",           cap,     "--broker",
                          b.endpoint,     "--action",     "login", "--curve-server-key",
                          server,         "--curve-cert", client,  NULL};
        CHECK(agent_spawn(&p, curved) == 0);
        CHECK_EQ_INT(agent_wait_exit(&p, 30000), 0);
        if (!CHECK(strstr(p.buf, "ok") && strstr(p.buf, "agent_id=\"admin\"")))
            fprintf(stderr, "collab-replay output:\n%s\n", p.buf);
        curved[2] = bad;
        CHECK(agent_spawn(&p, curved) == 0);
        CHECK_EQ_INT(agent_wait_exit(&p, 30000), 5); /* refused: nothing accepted */
        if (!CHECK(strstr(p.buf, "error auth_failed (20)") &&
                   strstr(p.buf, "1 sent: 0 accepted, 1 refused")))
            fprintf(stderr, "collab-replay output:\n%s\n", p.buf);
    }
    broker_cleanup(&b);
    return it_exit("test_replay_curve");
}
