/*  main.c: collab-ping, the broker's healthcheck: one empty frame, which the broker must
    answer with its `frames` error reply. No login, so nothing is logged as a refusal. */
#include "agent_cli.h"
#include "collab_client.h"
#include "collab_envelope.h"
#include "collab_error.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define PROG "collab-ping"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [--broker EP] [--timeout-ms N] [--curve-server-key K --curve-cert F]\n"
            "  Sends the broker one empty frame, without logging in, and waits for its reply:\n"
            "  the broker answers it with the `frames` error and logs nothing for it.\n"
            "  exit 0: the broker answered; 1: no answer in time or a wrong one; 2: usage\n"
            "(options also from COLLAB_BROKER, COLLAB_TIMEOUT_MS, COLLAB_CURVE_SERVER,\n"
            " COLLAB_CURVE_CERT)\n");
}

/*  A DEALER to the broker, under CURVE when o says so; NULL on error. */
static void *connect_dealer(void *zctx, const agent_cli_t *cli, collab_client_opts_t *o)
{
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    if (!s) {
        fprintf(stderr, PROG ": cannot make a socket: %s\n", zmq_strerror(errno));
        return NULL;
    }
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (o->curve) {
        zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, o->curve_server, COLLAB_CURVE_KEY_LEN);
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, o->curve_public, COLLAB_CURVE_KEY_LEN);
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, o->curve_secret, COLLAB_CURVE_KEY_LEN);
        sodium_memzero(o->curve_secret, sizeof o->curve_secret);
    }
    if (zmq_connect(s, cli->endpoint) != 0) {
        fprintf(stderr, PROG ": cannot connect to %s: %s\n", cli->endpoint, zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

/*  0 when the reply is the broker's answer to an empty frame. n is what zmq_recv returned:
    the message's whole size, which may exceed cap (only cap bytes were kept). */
static int check_reply(const uint8_t *buf, int n, size_t cap)
{
    collab_envelope_t env;
    if (n <= 0 || (size_t)n > cap || collab_envelope_decode(buf, (size_t)n, &env) != 0 ||
        env.kind != COLLAB_KIND_REPLY || env.ok || env.error_code != (uint32_t)-COLLAB_E_FRAMES) {
        fprintf(stderr, PROG ": the reply is not the broker's `frames` error\n");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    agent_cli_t cli;
    int n = agent_cli_parse(&cli, PROG, argc, argv);
    if (n != 1) {
        bool help = n == 2 && strcmp(argv[1], "--help") == 0;
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    collab_client_opts_t o;
    memset(&o, 0, sizeof o);
    char err[256];
    if (agent_cli_load_curve(&cli, &o, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 2;
    }
    void *zctx = zmq_ctx_new();
    void *s = connect_dealer(zctx, &cli, &o);
    int rc = 1;
    uint8_t buf[4096];
    if (s && zmq_send(s, "", 0, 0) == 0) {
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, cli.timeout_ms) == 1)
            rc = check_reply(buf, zmq_recv(s, buf, sizeof buf, 0), sizeof buf);
        else
            fprintf(stderr, PROG ": no answer from %s in %d ms\n", cli.endpoint, cli.timeout_ms);
    }
    if (s)
        zmq_close(s);
    zmq_ctx_term(zctx);
    return rc;
}
