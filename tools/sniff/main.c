/*  main.c: collab-sniff, the lab's wire sniffer: captures the bus (live or from a pcap
    file), prints one line per message and writes a JSON-lines capture file that
    collab-replay reads. Exit codes: 0 done, 1 capture or output error, 2 usage. */
#include "sniff.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *iface, *file, *out, *ready_file;
    uint16_t port;
    long count, duration_ms;
    bool quiet;
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
            "usage: collab-sniff [-i IFACE | -r FILE.pcap] [-p PORT] [-w CAPTURE.jsonl]\n"
            "                    [--count N] [--duration-ms N] [-q] [--ready-file PATH]\n"
            "  -i IFACE          capture live on IFACE (default lo; 'any' for every interface)\n"
            "  -r FILE           read a pcap file (tcpdump -w); a truncated file is read as far\n"
            "                    as it goes\n"
            "  -p PORT           the broker's TCP port (default 5555; 0: every TCP port)\n"
            "  -w FILE           write every message as a JSON line (for collab-replay)\n"
            "  --count N         stop after N messages\n"
            "  --duration-ms N   stop after N milliseconds\n"
            "  -q                print no message lines (notes and the summary still go to\n"
            "                    stderr)\n"
            "  --ready-file PATH create PATH once the live capture is active\n"
            "Prints 'ready' on stderr once a live capture is active. Exit codes: 0 done,\n"
            "1 capture or output error (capturing needs root or CAP_NET_RAW), 2 usage.\n");
}

static int parse_opt(opts_t *o, const char *a, const char *v)
{
    long n;
    if (strcmp(a, "-i") == 0 && v)
        o->iface = v;
    else if (strcmp(a, "-r") == 0 && v)
        o->file = v;
    else if (strcmp(a, "-w") == 0 && v)
        o->out = v;
    else if (strcmp(a, "--ready-file") == 0 && v)
        o->ready_file = v;
    else if (strcmp(a, "-p") == 0 && collab_parse_long(v, 0, 65535, &n) == 0)
        o->port = (uint16_t)n;
    else if (strcmp(a, "--count") == 0 && collab_parse_long(v, 1, 1L << 40, &n) == 0)
        o->count = n;
    else if (strcmp(a, "--duration-ms") == 0 && collab_parse_long(v, 1, 1L << 40, &n) == 0)
        o->duration_ms = n;
    else
        return -1;
    return 2;
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
    if (o->iface && o->file) {
        fprintf(stderr, "collab-sniff: -i and -r exclude each other\n");
        return -1;
    }
    if (!o->file && !o->iface)
        o->iface = "lo";
    return 0;
}

static void print_note(void *arg, const char *text)
{
    (void)arg;
    fprintf(stderr, "collab-sniff: note: %s\n", text);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/*  Prints and records one message. Returns 0 or -1 when the capture file fails. */
static int handle(const opts_t *o, FILE *out, const collab_sniff_msg_t *m)
{
    if (!o->quiet) {
        char line[4096];
        collab_sniff_format(m, line, sizeof line);
        printf("%s\n", line);
    }
    if (!out)
        return 0;
    char *json = collab_sniff_json(m);
    bool made = json != NULL;
    int rc = made && fprintf(out, "%s\n", json) > 0 && fflush(out) == 0 ? 0 : -1;
    free(json);
    if (rc)
        fprintf(stderr, "collab-sniff: %s: %s\n", o->out, made ? strerror(errno) : "no memory");
    return rc;
}

static void summary(const collab_sniffer_t *s)
{
    collab_sniff_stats_t st;
    collab_sniffer_stats(s, &st);
    fprintf(stderr,
            "collab-sniff: %llu messages (%llu undecoded, %llu encrypted), %llu connections, "
            "%llu gaps (%llu bytes), %llu resyncs, %llu not ZMTP, %llu packets",
            (unsigned long long)st.messages, (unsigned long long)st.undecoded,
            (unsigned long long)st.encrypted, (unsigned long long)st.conns,
            (unsigned long long)st.gaps, (unsigned long long)st.gap_bytes,
            (unsigned long long)st.resyncs, (unsigned long long)st.not_zmtp,
            (unsigned long long)st.packets);
    if (st.kernel_drops)
        fprintf(stderr, ", %llu dropped by the kernel", (unsigned long long)st.kernel_drops);
    fputc('\n', stderr);
}

/*  Reads messages until the end, a limit or a signal. Returns the exit code. */
static int run(const opts_t *o, collab_sniffer_t *s, FILE *out)
{
    int64_t end = o->duration_ms ? mono_ms() + o->duration_ms : -1;
    long seen = 0;
    while (!stopping) {
        int64_t left = end < 0 ? 250 : end - mono_ms();
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
    FILE *out = o.out ? fopen(o.out, "w") : NULL;
    if (o.out && !out) {
        fprintf(stderr, "collab-sniff: %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    collab_sniffer_t *s = o.file ? collab_sniffer_open_file(o.file, o.port, err, sizeof err)
                                 : collab_sniffer_open_live(o.iface, o.port, err, sizeof err);
    if (!s) {
        fprintf(stderr, "collab-sniff: %s\n", err);
        if (out)
            fclose(out);
        return 1;
    }
    collab_sniffer_on_note(s, print_note, NULL);
    rc = o.file || announce_ready(&o) == 0 ? run(&o, s, out) : 1;
    summary(s);
    collab_sniffer_destroy(&s);
    if (out && fclose(out) != 0 && rc == 0)
        rc = 1;
    return rc;
}
