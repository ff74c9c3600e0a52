/*  fuzz_pcap.c: libFuzzer target for the sniffer's whole file path: the input is a pcap file
    (fmemopen), read through libpcap, the link/IP/TCP decoders, TCP reassembly, the ZMTP
    stream parser and the envelope decoder (collab_sniffer_open_stream, what collab-sniff -r
    runs), and every message is formatted as collab-sniff prints it and as its capture files
    hold it. Checks what a message promises: its frames, the decoded envelope inside them,
    the counters matching what was returned. */
#include "sniff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

static void on_note(void *arg, const char *text)
{
    (*(uint64_t *)arg)++;
    require(strlen(text) < 640 && !strchr(text, '\n'));
}

static bool inside(collab_span_t s, collab_span_t frame)
{
    const uint8_t *p = (const uint8_t *)s.ptr, *f = (const uint8_t *)frame.ptr;
    return s.len == 0 || (p >= f && s.len <= frame.len && (size_t)(p - f) <= frame.len - s.len);
}

static void check(const collab_sniff_msg_t *m, uint64_t index)
{
    require(m->index == index && m->conn >= 1);
    require(memchr(m->src, '\0', sizeof m->src) && memchr(m->dst, '\0', sizeof m->dst));
    require(m->dir <= COLLAB_SNIFF_FROM_BROKER && m->mechanism);
    if (m->dropped) {
        require(m->nframes == 0 && m->decode_rc == COLLAB_E_TOO_LARGE && m->drop.limit);
        return;
    }
    require(m->nframes >= 1 && m->frames && m->envelope_frame < m->nframes);
    uint64_t sum = 0;
    for (size_t i = 0; i < m->nframes; i++) {
        require(m->frames[i].len == 0 || m->frames[i].ptr);
        sum += m->frames[i].len;
    }
    require(sum <= 16u * 1024 * 1024);
    if (m->decode_rc == 0 && !m->encrypted) {
        collab_span_t f = m->frames[m->envelope_frame];
        require(inside(m->env.action, f) && inside(m->env.payload, f) && inside(m->env.data, f) &&
                inside(m->env.signature, f));
    }
    require(memchr(m->reply_to, '\0', sizeof m->reply_to));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    if (size == 0)
        return 0; /* fmemopen wants at least one byte */
    FILE *fp = fmemopen((void *)data, size, "rb");
    require(fp != NULL);
    collab_sniffer_t *s = collab_sniffer_open_stream(fp, "fuzz.pcap", 0, err, sizeof err);
    if (!s) {
        require(strncmp(err, "fuzz.pcap: ", 11) == 0 || err[0]);
        return 0;
    }
    uint64_t notes = 0, n = 0;
    collab_sniffer_on_note(s, on_note, &notes);
    const collab_sniff_msg_t *m;
    int rc;
    char line[2048];
    while ((rc = collab_sniffer_next(s, &m, 0)) == 0) {
        check(m, ++n);
        size_t len = collab_sniff_format(m, line, sizeof line);
        require(len < sizeof line && strlen(line) == len);
        char *json = collab_sniff_json(m);
        require(json && strlen(json) > 2 && json[0] == '{');
        free(json);
        for (size_t i = 0; i < m->nframes; i++) {
            len = collab_sniff_format_map(m->frames[i].ptr, m->frames[i].len, 8, line, 256);
            require(len < 256);
        }
    }
    require(rc == 1); /* a file ends, cut short or not; it never times out */
    require(collab_sniffer_next(s, &m, 0) == 1);
    collab_sniff_stats_t st;
    collab_sniffer_stats(s, &st);
    require(st.messages == n && st.dropped + st.undecoded + st.encrypted <= n);
    require(st.kernel_drops == 0 && st.gap_bytes >= st.gaps);
    collab_sniffer_destroy(&s);
    require(s == NULL);
    return 0;
}
