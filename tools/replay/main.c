/*  main.c: collab-replay sends messages captured by collab-sniff -w again, frame for frame,
    from a new DEALER connection, optionally as another action (the weak signature scope
    leaves the action out of the signed bytes) or from another source address, and prints
    the broker's reply to each. Exit codes: 0 at least one replayed message was accepted,
    5 every one was refused, 3 none was accepted and some got no answer, 1 a file or
    socket error, 2 usage. */
#include "agent_stop.h"
#include "collab_clock.h"
#include "capfile.h"
#include "collab_client.h"
#include "sniff.h"

#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define MAX_INDEXES 64

typedef struct {
    const char *file, *broker, *action, *set_action, *source;
    const char *curve_server, *curve_cert; /* speak CURVE: the broker's key, our cert */
    uint64_t indexes[MAX_INDEXES];
    size_t nindexes;
    long count, timeout_ms;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: collab-replay [-r] CAPTURE.jsonl --broker tcp://HOST:PORT\n"
               "                     (--index N ... | --action NAME) [--count N]\n"
               "                     [--set-action NAME] [--source ADDRESS] [--timeout-ms N]\n"
               "  --index N          send the message with this index (repeatable: sent in the\n"
               "                     order given, before any --action matches)\n"
               "  --action NAME      send every captured request with this action, in the\n"
               "                     file's order; one that repeats an earlier message of the\n"
               "                     file (a replay the sniffer recorded) is skipped, saying so\n"
               "  --count N          send each chosen message N times (default 1)\n"
               "  --set-action NAME  re-encode the envelope with another action, every other\n"
               "                     byte (payload, signature) unchanged: the broker accepts it\n"
               "                     only where the payloads match (close_project and\n"
               "                     delete_project both take {project_id})\n"
               "  --source ADDRESS   connect from this local address (e.g. 127.0.0.2)\n"
               "  --curve-server-key FILE|Z85, --curve-cert FILE\n"
               "                     speak CURVE with this broker key and this client cert\n"
               "  --timeout-ms N     wait this long for each reply (default 3000)\n"
               "Each reply is printed; a refusal with its error name, code and text. Exit codes:\n"
               "0 at least one replayed message was accepted, 5 the broker refused every one,\n"
               "3 none was accepted and some got no answer, 1 file or socket error, 2 usage;\n"
               "SIGINT/SIGTERM stop it within 2 s: 128+signal (130, 143).\n");
}

static int parse_opt(opts_t *o, const char *a, const char *v)
{
    long n;
    if (strcmp(a, "-r") == 0 && v)
        o->file = v;
    else if (strcmp(a, "--broker") == 0 && v)
        o->broker = v;
    else if (strcmp(a, "--action") == 0 && v)
        o->action = v;
    else if (strcmp(a, "--set-action") == 0 && v)
        o->set_action = v;
    else if (strcmp(a, "--source") == 0 && v)
        o->source = v;
    else if (strcmp(a, "--curve-server-key") == 0 && v)
        o->curve_server = v;
    else if (strcmp(a, "--curve-cert") == 0 && v)
        o->curve_cert = v;
    else if (strcmp(a, "--count") == 0 && collab_parse_long(v, 1, 1000000, &n) == 0)
        o->count = n;
    else if (strcmp(a, "--timeout-ms") == 0 && collab_parse_long(v, 1, 3600000, &n) == 0)
        o->timeout_ms = n;
    else if (strcmp(a, "--index") == 0 && o->nindexes < MAX_INDEXES &&
             collab_parse_long(v, 1, 1L << 50, &n) == 0)
        o->indexes[o->nindexes++] = (uint64_t)n;
    else
        return -1;
    return 2;
}

/*  The wire's alphabet for action names (PROTOCOL.md 2.1); which names exist is the
    broker's business, so an unknown one may be sent on purpose. */
static bool action_name_ok(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= COLLAB_MAX_ACTION && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

/*  Returns 0, 1 for --help, or -1 on a usage error (already reported). */
static int parse_args(opts_t *o, int argc, char **argv)
{
    *o = (opts_t){.count = 1, .timeout_ms = 3000};
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
        int used = argv[i][0] != '-' && !o->file
                       ? (o->file = argv[i], 1)
                       : parse_opt(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (used < 0) {
            fprintf(stderr, "collab-replay: unknown option, or a bad or missing value: '%s'\n",
                    argv[i]);
            return -1;
        }
        i += used;
    }
    const char *missing = !o->file                     ? "a capture file"
                          : !o->broker                 ? "--broker"
                          : !o->nindexes && !o->action ? "--index or --action"
                                                       : NULL;
    if (missing) {
        fprintf(stderr, "collab-replay: %s is required\n", missing);
        return -1;
    }
    if (o->set_action && !action_name_ok(o->set_action)) {
        fprintf(stderr, "collab-replay: --set-action: 1 to %d characters of a-z and _\n",
                COLLAB_MAX_ACTION);
        return -1;
    }
    if (strncmp(o->broker, "tcp://", 6) != 0) {
        fprintf(stderr, "collab-replay: --broker must be tcp://HOST:PORT\n");
        return -1;
    }
    return 0;
}

/*  One message to send. */
typedef struct {
    const cap_record_t *rec;
    bool by_index; /* asked for by --index: sent even when it repeats an earlier message */
    bool skip;     /* repeats an earlier message of the file */
} pick_t;

typedef struct {
    size_t sent, accepted, refused, unanswered;
} tally_t;

static bool picked(const pick_t *p, size_t n, const cap_record_t *r)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].rec == r)
            return true;
    return false;
}

/*  The --index records in the order given, then the --action matches in the file's
    order. Returns how many were picked, or -1 (reported). */
static long pick(const opts_t *o, const capfile_t *cf, pick_t *p)
{
    size_t n = 0;
    for (size_t i = 0; i < o->nindexes; i++) {
        const cap_record_t *r = capfile_find(cf, o->indexes[i]);
        const char *why = !r                ? "there is no such message in the file"
                          : r->nframes == 0 ? "the sniffer dropped it over its limits and kept "
                                              "none of its bytes (see --max-frames and the like)"
                                            : NULL;
        if (why) {
            fprintf(stderr, "collab-replay: %s: #%llu: %s\n", o->file,
                    (unsigned long long)o->indexes[i], why);
            return -1;
        }
        p[n++] = (pick_t){r, true, false};
    }
    for (size_t i = 0; o->action && i < cf->count; i++) {
        const cap_record_t *r = &cf->recs[i];
        if (strcmp(r->dir, "request") == 0 && strcmp(r->action, o->action) == 0 && !picked(p, n, r))
            p[n++] = (pick_t){r, false, false};
    }
    if (n == 0)
        fprintf(stderr, "collab-replay: %s: no message matches the selection\n", o->file);
    return n ? (long)n : -1;
}

/*  Marks the picks that repeat an earlier message of the file, saying so. Returns how
    many picks are left to send. */
static size_t mark_repeats(const capfile_t *cf, pick_t *p, size_t n)
{
    size_t repeats = 0, left = n;
    for (size_t i = 0; i < n; i++) {
        const cap_record_t *first = capfile_repeat_of(cf, p[i].rec);
        if (!first)
            continue;
        repeats++;
        p[i].skip = !p[i].by_index;
        left -= p[i].skip;
        fprintf(stderr, "collab-replay: #%llu repeats #%llu (the same request%s): %s\n",
                (unsigned long long)p[i].rec->index, (unsigned long long)first->index,
                strcmp(first->action, p[i].rec->action) ? " under another action" : "",
                p[i].skip ? "skipped (give --index to send it anyway)" : "sent, as asked");
    }
    if (repeats)
        fprintf(stderr,
                "collab-replay: %zu of the selected messages are replays of earlier messages "
                "in this file (recorded by a sniffer still writing it, or a client's retry)\n",
                repeats);
    if (left == 0)
        fprintf(stderr, "collab-replay: nothing left to send\n");
    return left;
}

/* ---- One message ---- */

/*  The frames to send: the captured ones, the envelope re-encoded with another action
    when asked. Returns 0, or -1 with the reason printed. */
static int prepare(const opts_t *o, const cap_record_t *r, uint8_t *env_buf, size_t cap,
                   collab_span_t *frames, uint64_t *rid, collab_span_t *payload)
{
    collab_envelope_t env = {0};
    int found = -1;
    for (size_t i = 0; i < r->nframes; i++) {
        frames[i] = (collab_span_t){(const char *)r->frames[i], r->lens[i]};
        if (found < 0 && r->lens[i] && collab_envelope_decode(r->frames[i], r->lens[i], &env) == 0)
            found = (int)i;
    }
    *rid = found >= 0 && env.kind == COLLAB_KIND_REQUEST ? env.request_id : UINT64_MAX;
    *payload = env.payload;
    if (!o->set_action)
        return 0;
    size_t len;
    if (found < 0 || env.kind != COLLAB_KIND_REQUEST) {
        fprintf(stderr, "collab-replay: message #%llu is not a request: nothing to re-encode\n",
                (unsigned long long)r->index);
        return -1;
    }
    env.action = (collab_span_t){o->set_action, strlen(o->set_action)};
    int rc = collab_envelope_encode(&env, env_buf, cap, &len);
    if (rc != 0) {
        fprintf(stderr, "collab-replay: cannot re-encode message #%llu as '%s': %s\n",
                (unsigned long long)r->index, o->set_action, collab_strerror(rc));
        return -1;
    }
    frames[found] = (collab_span_t){(const char *)env_buf, len};
    return 0;
}

static int send_frames(void *sock, const collab_span_t *frames, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (zmq_send(sock, frames[i].ptr, frames[i].len, i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            return -1;
    return 0;
}

/*  Receives one message's last frame into buf. Returns its length, or -1. */
static int recv_message(void *sock, uint8_t *buf, size_t cap)
{
    int more = 1, len = -1;
    size_t optlen = sizeof more;
    while (more) {
        len = zmq_recv(sock, buf, cap, ZMQ_DONTWAIT);
        if (len < 0 || zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &optlen) != 0)
            return -1;
    }
    return len > (int)cap ? (int)cap : len;
}

static void print_reply(const char *what, const collab_envelope_t *e)
{
    char data[1024], err[COLLAB_MAX_ERROR_TEXT * 4 + 1];
    collab_sniff_format_map(e->data.ptr, e->data.len, 6, data, sizeof data);
    collab_text_escape(e->error.ptr, e->error.len, err, sizeof err);
    if (e->ok)
        printf("%s: reply #%llu ok data{%s}\n", what, (unsigned long long)e->request_id, data);
    else
        printf("%s: reply #%llu error %s (%u) \"%s\" data{%s}\n", what,
               (unsigned long long)e->request_id, collab_errname(-(int)e->error_code),
               e->error_code, err, data);
}

/*  Waits for the reply to request rid (UINT64_MAX: any reply) and prints it. Returns 0
    when it accepted the message, the (negative) error it answered, or COLLAB_E_TIMEOUT. */
static int await_reply(void *sock, uint64_t rid, long timeout_ms, const char *what)
{
    static uint8_t buf[2 * COLLAB_MAX_FRAME];
    int64_t deadline = collab_mono_ms() + timeout_ms;
    for (int64_t left; !agent_stop_signal() && (left = deadline - collab_mono_ms()) > 0;) {
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        int len = recv_message(sock, buf, sizeof buf);
        collab_envelope_t e;
        if (len < 0 || collab_envelope_decode(buf, (size_t)len, &e) != 0 ||
            e.kind != COLLAB_KIND_REPLY || (rid != UINT64_MAX && e.request_id != rid))
            continue; /* events, and replies to something else */
        print_reply(what, &e);
        return e.ok ? 0 : -(int)e.error_code;
    }
    printf("%s: no reply within %ld ms\n", what, timeout_ms);
    return COLLAB_E_TIMEOUT;
}

/*  After the broker refused a re-encoded message for its payload: why, and what works. */
static void hint_set_action(const opts_t *o, const cap_record_t *r, collab_span_t payload, int rc)
{
    char keys[512];
    if (!o->set_action ||
        (rc != COLLAB_E_FIELD_MISSING && rc != COLLAB_E_FIELD_TYPE && rc != COLLAB_E_MALFORMED &&
         rc != COLLAB_E_BAD_REQUEST && rc != COLLAB_E_UNKNOWN_ACTION))
        return;
    if (rc == COLLAB_E_UNKNOWN_ACTION) {
        printf("  hint: the broker has no action '%s'\n", o->set_action);
        return;
    }
    collab_sniff_format_map(payload.ptr, payload.len, 6, keys, sizeof keys);
    printf("  hint: --set-action changes only the action: the payload captured for %s\n"
           "  {%s} is not what %s takes, so the broker refuses it. The swap works where the\n"
           "  payloads match: a close_project payload {project_id} is byte for byte a\n"
           "  delete_project one (--action close_project --set-action delete_project).\n",
           r->action[0] ? r->action : "it", keys, o->set_action);
}

/* ---- The run ---- */

/*  Makes the socket a CURVE client when asked (the same certificates the agents use). */
static int apply_curve(void *sock, const opts_t *o)
{
    collab_client_opts_t co = {0};
    char err[256];
    if (!o->curve_server && !o->curve_cert)
        return 0;
    if (!o->curve_server || !o->curve_cert ||
        collab_client_load_curve(&co, o->curve_server, o->curve_cert, err, sizeof err) != 0) {
        fprintf(stderr, "collab-replay: CURVE needs --curve-server-key and --curve-cert: %s\n",
                o->curve_server && o->curve_cert ? err : "one is missing");
        return -1;
    }
    int rc = zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, co.curve_server, sizeof co.curve_server) |
             zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, co.curve_public, sizeof co.curve_public) |
             zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, co.curve_secret, sizeof co.curve_secret);
    sodium_memzero(co.curve_secret, sizeof co.curve_secret);
    return rc;
}

static void *connect_dealer(void *ctx, const opts_t *o)
{
    char endpoint[512];
    int zero = 0;
    if (o->source)
        snprintf(endpoint, sizeof endpoint, "tcp://%s:0;%s", o->source, o->broker + 6);
    else
        snprintf(endpoint, sizeof endpoint, "%s", o->broker);
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    if (sock && zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero) == 0 &&
        apply_curve(sock, o) == 0 && zmq_connect(sock, endpoint) == 0)
        return sock;
    fprintf(stderr, "collab-replay: %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
    if (sock)
        zmq_close(sock);
    return NULL;
}

/*  Sends one record count times, counting the outcomes. Returns 0 or -1 (reported). */
static int replay_one(const opts_t *o, const cap_record_t *r, void *sock, tally_t *t)
{
    static uint8_t env_buf[2 * COLLAB_MAX_FRAME];
    collab_span_t frames[64], payload;
    uint64_t rid;
    if (prepare(o, r, env_buf, sizeof env_buf, frames, &rid, &payload) != 0)
        return -1;
    for (long k = 0; k < o->count && !agent_stop_signal(); k++) {
        char what[128];
        snprintf(what, sizeof what, "#%llu %s%s%s [%ld/%ld]", (unsigned long long)r->index,
                 r->action[0] ? r->action : r->dir, o->set_action ? " as " : "",
                 o->set_action ? o->set_action : "", k + 1, o->count);
        if (send_frames(sock, frames, r->nframes) != 0) {
            fprintf(stderr, "collab-replay: send: %s\n", zmq_strerror(zmq_errno()));
            return -1;
        }
        t->sent++;
        int rc = await_reply(sock, rid, o->timeout_ms, what);
        t->accepted += rc == 0;
        t->unanswered += rc == COLLAB_E_TIMEOUT;
        t->refused += rc != 0 && rc != COLLAB_E_TIMEOUT;
        if (rc != 0 && rc != COLLAB_E_TIMEOUT && k == 0)
            hint_set_action(o, r, payload, rc);
    }
    return 0;
}

/*  Sends the picks that are not skipped. Returns the exit code. */
static int replay(const opts_t *o, const pick_t *p, size_t n, void *sock)
{
    tally_t t = {0};
    for (size_t i = 0; i < n && !agent_stop_signal(); i++)
        if (!p[i].skip && replay_one(o, p[i].rec, sock, &t) != 0)
            return 1;
    fprintf(stderr, "collab-replay: %zu sent: %zu accepted, %zu refused, %zu unanswered\n", t.sent,
            t.accepted, t.refused, t.unanswered);
    return t.accepted ? 0 : t.unanswered ? 3 : 5;
}

/*  Loads the file and picks what to send. Returns the picks (free them) or NULL. */
static pick_t *load(const opts_t *o, capfile_t *cf, size_t *n)
{
    char err[512];
    if (capfile_load(o->file, cf, err, sizeof err) != 0) {
        fprintf(stderr, "collab-replay: %s\n", err);
        return NULL;
    }
    if (capfile_being_written(o->file))
        fprintf(stderr,
                "collab-replay: note: %s is still being written by a running collab-sniff: "
                "what this run sends is recorded in it too (a later run skips those "
                "repeats)\n",
                o->file);
    pick_t *p = calloc(o->nindexes + cf->count + 1, sizeof *p);
    long got = p ? pick(o, cf, p) : -1;
    if (!p)
        fprintf(stderr, "collab-replay: out of memory\n");
    if (got < 0 || mark_repeats(cf, p, (size_t)got) == 0) {
        free(p);
        capfile_free(cf);
        return NULL;
    }
    *n = (size_t)got;
    return p;
}

int main(int argc, char **argv)
{
    opts_t o;
    capfile_t cf;
    size_t n = 0;
    int rc = parse_args(&o, argc, argv);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    agent_stop_install(NULL);
    pick_t *picks = load(&o, &cf, &n);
    if (!picks)
        return 1;
    void *ctx = zmq_ctx_new();
    void *sock = ctx ? connect_dealer(ctx, &o) : NULL;
    rc = sock ? replay(&o, picks, n, sock) : 1;
    free(picks);
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
    capfile_free(&cf);
    return agent_stop_exit_code(rc);
}
