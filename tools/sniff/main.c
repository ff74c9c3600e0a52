/*  main.c: collab-sniff, the lab's wire sniffer: captures the bus (live or from a pcap
    file), prints one line per message and writes a JSON-lines capture file that
    collab-replay reads. Exit codes: 0 done, 1 capture or output error, 2 usage. */
#include "sniff.h"
#include "collab_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *iface, *file, *out, *ready_file, *broker, *action;
    uint16_t port;
    bool port_set, quiet;
    long count, decoded, duration_ms;
    collab_sniff_limits_t limits;
} opts_t;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: collab-sniff [-i IFACE | -r FILE.pcap] [-p PORT | --broker tcp://HOST:PORT]\n"
            "                    [-w CAPTURE.jsonl | -w -] [-c N [--action NAME]] [--count N]\n"
            "                    [--duration-ms N] [-q] [--ready-file PATH]\n"
            "                    [--max-frames N] [--max-message-bytes N] [--max-frame-bytes N]\n"
            "  -i IFACE          capture live on IFACE (default lo; 'any' for every interface)\n"
            "  -r FILE           read a pcap file (tcpdump -w); a truncated file is read as far\n"
            "                    as it goes\n"
            "  -p PORT           the broker's TCP port (default 5555; 0: every TCP port)\n"
            "  --broker tcp://HOST:PORT\n"
            "                    the same as -p PORT (the host is not filtered on)\n"
            "  -w FILE           write every message as a JSON line (for collab-replay; the\n"
            "                    format is in README.md); '-w -' writes them to standard\n"
            "                    output instead of the message lines\n"
            "  -c N              stop after N decoded messages (requests, replies, events;\n"
            "                    encrypted or undecodable ones do not count)\n"
            "  --action NAME     with -c: count only requests with this action (every message\n"
            "                    is still printed and written)\n"
            "  --count N         stop after N messages of any kind\n"
            "  --duration-ms N   stop after N milliseconds\n"
            "  -q                print no message lines (notes and the summary still go to\n"
            "                    stderr)\n"
            "  --ready-file PATH create PATH once the live capture is active\n"
            "  --max-frames N    keep messages of up to N frames (default 16, at most 1024)\n"
            "  --max-message-bytes N\n"
            "                    keep messages of up to N bytes (default 262144)\n"
            "  --max-frame-bytes N\n"
            "                    keep frames of up to N bytes (default 131072); both byte\n"
            "                    limits go up to 16777216, memory growing with them\n"
            "A message over a limit is dropped: its line and its JSON record say so, with\n"
            "what was seen of it, and the summary counts it. Prints 'ready' on stderr once a\n"
            "live capture is active. Exit codes: 0 done, 1 capture or output error (capturing\n"
            "needs root or CAP_NET_RAW; a failed write to standard output or to the capture\n"
            "file), 2 usage. SIGINT/SIGTERM end a live capture cleanly: exit 0.\n");
}

/*  The limit options. Returns 2 when a was one (and its value good), else -1. */
static int parse_limit(opts_t *o, const char *a, const char *v)
{
    long n;
    if (strcmp(a, "--max-frames") == 0 &&
        collab_parse_long(v, 1, COLLAB_SNIFF_LIMIT_FRAMES, &n) == 0)
        o->limits.max_frames = (size_t)n;
    else if (strcmp(a, "--max-message-bytes") == 0 &&
             collab_parse_long(v, 1, COLLAB_SNIFF_LIMIT_BYTES, &n) == 0)
        o->limits.max_message_bytes = (size_t)n;
    else if (strcmp(a, "--max-frame-bytes") == 0 &&
             collab_parse_long(v, 1, COLLAB_SNIFF_LIMIT_BYTES, &n) == 0)
        o->limits.max_frame_bytes = (size_t)n;
    else
        return -1;
    return 2;
}

/*  tcp://HOST:PORT (HOST may be [IPv6]) to its port. Returns 0 or -1. */
static int broker_port(const char *ep, uint16_t *port)
{
    const char *colon = ep ? strrchr(ep, ':') : NULL;
    long n;
    if (!ep || strncmp(ep, "tcp://", 6) != 0 || !colon || colon < ep + 7 ||
        collab_parse_long(colon + 1, 1, 65535, &n) != 0)
        return -1;
    *port = (uint16_t)n;
    return 0;
}

static int parse_opt(opts_t *o, const char *a, const char *v)
{
    long n;
    if (strncmp(a, "--max-", 6) == 0)
        return parse_limit(o, a, v);
    if (strcmp(a, "-i") == 0 && v)
        o->iface = v;
    else if (strcmp(a, "-r") == 0 && v)
        o->file = v;
    else if (strcmp(a, "-w") == 0 && v)
        o->out = v;
    else if (strcmp(a, "--ready-file") == 0 && v)
        o->ready_file = v;
    else if (strcmp(a, "--action") == 0 && v)
        o->action = v;
    else if (strcmp(a, "--broker") == 0 && v)
        o->broker = v;
    else if (strcmp(a, "-p") == 0 && collab_parse_long(v, 0, 65535, &n) == 0)
        o->port = (uint16_t)n, o->port_set = true;
    else if (strcmp(a, "-c") == 0 && collab_parse_long(v, 1, 1L << 40, &n) == 0)
        o->decoded = n;
    else if (strcmp(a, "--count") == 0 && collab_parse_long(v, 1, 1L << 40, &n) == 0)
        o->count = n;
    else if (strcmp(a, "--duration-ms") == 0 && collab_parse_long(v, 1, 1L << 40, &n) == 0)
        o->duration_ms = n;
    else
        return -1;
    return 2;
}

/*  The combinations. Returns 0 or -1 (reported). */
static int check_args(opts_t *o)
{
    const char *why = o->iface && o->file        ? "-i and -r exclude each other"
                      : o->broker && o->port_set ? "-p and --broker exclude each other"
                      : o->action && !o->decoded ? "--action only says what -c counts: give -c N"
                      : o->broker && broker_port(o->broker, &o->port) != 0
                          ? "--broker must be tcp://HOST:PORT"
                          : NULL;
    if (why) {
        fprintf(stderr, "collab-sniff: %s\n", why);
        return -1;
    }
    if (!o->file && !o->iface)
        o->iface = "lo";
    if (o->out && strcmp(o->out, "-") == 0)
        o->quiet = true; /* standard output carries the capture records */
    return 0;
}

/*  Returns 0, 1 for --help, or -1 on a usage error (already reported). */
static int parse_args(opts_t *o, int argc, char **argv)
{
    *o = (opts_t){.port = 5555};
    for (int i = 1; i < argc;) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
        if (strcmp(argv[i], "-q") == 0) {
            o->quiet = true;
            i++;
            continue;
        }
        int used = parse_opt(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL);
        if (used < 0) {
            fprintf(stderr, "collab-sniff: unknown option, or a bad or missing value: '%s'\n",
                    argv[i]);
            return -1;
        }
        i += used;
    }
    return check_args(o);
}

static void print_note(void *arg, const char *text)
{
    (void)arg;
    fprintf(stderr, "collab-sniff: note: %s\n", text);
}

static int announce_ready(const opts_t *o)
{
    fprintf(stderr, "ready\n");
    fflush(stderr);
    if (!o->ready_file)
        return 0;
    FILE *f = fopen(o->ready_file, "w");
    if (!f || fclose(f) != 0) {
        fprintf(stderr, "collab-sniff: %s: %s\n", o->ready_file, strerror(errno));
        return -1;
    }
    return 0;
}

/*  Writes one line and flushes it. Returns 0, or -1 with the failure reported. */
static int put_line(FILE *f, const char *name, const char *text)
{
    if (fputs(text, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0)
        return 0;
    fprintf(stderr, "collab-sniff: %s: %s\n", name, strerror(errno));
    return -1;
}

/*  Prints and records one message. Returns 0 or -1 when an output fails. */
static int handle(const opts_t *o, FILE *out, const collab_sniff_msg_t *m)
{
    if (!o->quiet) {
        char line[4096];
        collab_sniff_format(m, line, sizeof line);
        if (put_line(stdout, "standard output", line) != 0)
            return -1;
    }
    if (!out)
        return 0;
    char *json = collab_sniff_json(m);
    if (!json) {
        fprintf(stderr, "collab-sniff: %s: no memory\n", o->out);
        return -1;
    }
    int rc = put_line(out, out == stdout ? "standard output" : o->out, json);
    free(json);
    return rc;
}

/*  Whether a message counts towards -c. */
static bool counts(const opts_t *o, const collab_sniff_msg_t *m)
{
    if (m->decode_rc != 0 || m->encrypted)
        return false;
    return !o->action ||
           (m->env.kind == COLLAB_KIND_REQUEST && m->env.action.len == strlen(o->action) &&
            memcmp(m->env.action.ptr, o->action, m->env.action.len) == 0);
}

static void summary_limits(const collab_sniffer_t *s, uint64_t dropped)
{
    collab_sniff_limits_t l;
    collab_sniffer_limits(s, &l);
    fprintf(stderr,
            "collab-sniff: %llu message%s over the limits (%zu frames, %zu bytes a message, %zu "
            "bytes a frame) shown and written as dropped, without their frames: raise them "
            "with --max-frames (up to %d), --max-message-bytes, --max-frame-bytes (up to %d)\n",
            (unsigned long long)dropped, dropped == 1 ? " was" : "s were", l.max_frames,
            l.max_message_bytes, l.max_frame_bytes, COLLAB_SNIFF_LIMIT_FRAMES,
            COLLAB_SNIFF_LIMIT_BYTES);
}

static void summary(const collab_sniffer_t *s)
{
    collab_sniff_stats_t st;
    collab_sniffer_stats(s, &st);
    fprintf(stderr,
            "collab-sniff: %llu messages (%llu undecoded, %llu encrypted, %llu dropped over the "
            "limits), %llu connections, %llu gaps (%llu bytes), %llu resyncs, %llu not ZMTP, "
            "%llu packets",
            (unsigned long long)st.messages, (unsigned long long)st.undecoded,
            (unsigned long long)st.encrypted, (unsigned long long)st.dropped,
            (unsigned long long)st.conns, (unsigned long long)st.gaps,
            (unsigned long long)st.gap_bytes, (unsigned long long)st.resyncs,
            (unsigned long long)st.not_zmtp, (unsigned long long)st.packets);
    if (st.kernel_drops)
        fprintf(stderr, ", %llu dropped by the kernel", (unsigned long long)st.kernel_drops);
    fputc('\n', stderr);
    if (st.dropped)
        summary_limits(s, st.dropped);
}

/*  Reads messages until the end, a limit or a signal. Returns the exit code. */
static int run(const opts_t *o, collab_sniffer_t *s, FILE *out)
{
    int64_t end = o->duration_ms ? collab_mono_ms() + o->duration_ms : -1;
    long seen = 0, decoded = 0;
    while (!stopping) {
        int64_t left = end < 0 ? 250 : end - collab_mono_ms();
        if (left <= 0)
            break;
        const collab_sniff_msg_t *m;
        int rc = collab_sniffer_next(s, &m, left < 250 ? (int)left : 250);
        if (rc == 1)
            break;
        if (rc == COLLAB_E_IO) {
            fprintf(stderr, "collab-sniff: capture failed: %s\n", collab_sniffer_error(s));
            return 1;
        }
        if (rc == 0 && handle(o, out, m) != 0)
            return 1;
        if (rc == 0 && o->count && ++seen >= o->count)
            break;
        if (rc == 0 && o->decoded && counts(o, m) && ++decoded >= o->decoded)
            break;
    }
    return 0;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: a signal ends the wait for packets */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error, reported, exit 1 */
}

/*  Opens the capture file, holding an exclusive lock on it while the sniffer runs, so that
    collab-replay can tell that it is still being written. Standard output for "-". */
static FILE *open_out(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "collab-sniff: %s: another collab-sniff is writing it\n", path);
        close(fd);
        return NULL;
    }
    struct stat st;
    bool emptied =
        fd >= 0 && fstat(fd, &st) == 0 && (!S_ISREG(st.st_mode) || ftruncate(fd, 0) == 0);
    FILE *f = emptied ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "collab-sniff: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

/*  Flushes what is left and returns the exit code: rc, or 1 when an output failed now
    (reported) or earlier (already reported). */
static int close_outputs(FILE *out, const opts_t *o, int rc)
{
    if (out && out != stdout && fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "collab-sniff: %s: %s\n", o->out, strerror(errno));
        rc = 1;
    }
    if ((fflush(stdout) != 0 || ferror(stdout)) && rc == 0) {
        fprintf(stderr, "collab-sniff: standard output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}

int main(int argc, char **argv)
{
    opts_t o;
    char err[512];
    int rc = parse_args(&o, argc, argv);
    if (rc != 0) {
        usage(rc > 0 ? stdout : stderr);
        return rc > 0 ? 0 : 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    install_signals();
    FILE *out = o.out ? open_out(o.out) : NULL;
    if (o.out && !out)
        return 1;
    collab_sniffer_t *s = o.file ? collab_sniffer_open_file(o.file, o.port, err, sizeof err)
                                 : collab_sniffer_open_live(o.iface, o.port, err, sizeof err);
    if (!s) {
        fprintf(stderr, "collab-sniff: %s\n", err);
        return close_outputs(out, &o, 1);
    }
    collab_sniffer_set_limits(s, &o.limits); /* the options keep within the bounds */
    collab_sniffer_on_note(s, print_note, NULL);
    rc = o.file || announce_ready(&o) == 0 ? run(&o, s, out) : 1;
    summary(s);
    collab_sniffer_destroy(&s);
    return close_outputs(out, &o, rc);
}
