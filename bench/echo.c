/*  echo.c: the benchmark's baseline, a minimal echo server on raw libzmq: a ROUTER that
    receives [routing id][body] as zmq_msg_t and sends it straight back, nothing else (it
    waits for input in zmq_poll and drains without blocking, like the broker's loop). The
    socket options match the broker's (high-water marks, message size cap) and so does the
    context (one I/O thread). With --reply-bytes N the body sent back is N bytes (the request
    cut or zero-padded), so that replies have the broker's reply size.
    Usage: echo [--bind ENDPOINT] [--reply-bytes N]; prints "listening ENDPOINT". */
#include "collab_limits.h"
#include "collab_text.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/*  Replaces body with a reply_bytes copy of its start, zero-padded. Returns 0 or -1. */
static int resize(zmq_msg_t *body, size_t reply_bytes)
{
    zmq_msg_t out;
    size_t n = zmq_msg_size(body);
    if (zmq_msg_init_size(&out, reply_bytes) != 0)
        return -1;
    memcpy(zmq_msg_data(&out), zmq_msg_data(body), n < reply_bytes ? n : reply_bytes);
    if (n < reply_bytes)
        memset((char *)zmq_msg_data(&out) + n, 0, reply_bytes - n);
    zmq_msg_close(body);
    *body = out;
    return 0;
}

/*  Receives the next frame, waiting in zmq_poll (as the broker's loop does) so that a
    stop request is seen within 100 ms. Returns 0, or -1 when stopping or on error. */
static int next(void *router, zmq_msg_t *m)
{
    while (!stop) {
        if (zmq_msg_recv(m, router, ZMQ_DONTWAIT) >= 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        zmq_pollitem_t item = {router, 0, ZMQ_POLLIN, 0};
        zmq_poll(&item, 1, 100);
    }
    return -1;
}

static void serve(void *router, size_t reply_bytes)
{
    zmq_msg_t rid, body;
    while (!stop) {
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        if (next(router, &rid) == 0 && zmq_msg_more(&rid) && zmq_msg_recv(&body, router, 0) >= 0 &&
            !zmq_msg_more(&body) && (reply_bytes == 0 || resize(&body, reply_bytes) == 0) &&
            zmq_msg_send(&rid, router, ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
            zmq_msg_send(&body, router, ZMQ_DONTWAIT);
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
    }
}

int main(int argc, char **argv)
{
    const char *bind = "tcp://127.0.0.1:*";
    size_t reply_bytes = 0;
    long n;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: echo [--bind ENDPOINT] [--reply-bytes N (0..65536)]\n"
                   "the benchmark's baseline: a raw libzmq ROUTER that sends every request\n"
                   "straight back (cut or zero-padded to N bytes with --reply-bytes); prints\n"
                   "\"listening ENDPOINT\" (default tcp://127.0.0.1:*) and runs until SIGINT or\n"
                   "SIGTERM. scripts/bench starts it beside the broker.\n");
            return 0;
        }
        if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc)
            bind = argv[++i];
        else if (strcmp(argv[i], "--reply-bytes") == 0 && i + 1 < argc &&
                 collab_parse_long(argv[i + 1], 0, COLLAB_MAX_FRAME, &n) == 0) {
            reply_bytes = (size_t)n;
            i++;
        } else {
            fprintf(stderr, "usage: echo [--bind ENDPOINT] [--reply-bytes N (0..65536)]\n");
            return 2;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    int rcvhwm = 100, sndhwm = 100000, linger = 100; /* the broker's (broker/broker.c) */
    int64_t maxmsg = 131072;
    zmq_setsockopt(router, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_setsockopt(router, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    int backlog = 1024; /* the broker's transport.backlog */
    zmq_setsockopt(router, ZMQ_BACKLOG, &backlog, sizeof backlog);
    char endpoint[256];
    size_t len = sizeof endpoint;
    if (zmq_bind(router, bind) != 0 ||
        zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        fprintf(stderr, "echo: cannot bind %s: %s\n", bind, zmq_strerror(errno));
        return 1;
    }
    printf("listening %s\n", endpoint);
    fflush(stdout);
    serve(router, reply_bytes);
    zmq_close(router);
    zmq_ctx_term(ctx);
    return 0;
}
