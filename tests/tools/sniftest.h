/*  sniftest.h: runs the sniffer library over a capture file and keeps what it reported
    (messages in a compact form, notes, counters) for the tests to check. */
#ifndef SNIFTEST_H
#define SNIFTEST_H

#include "sniff.h"

#define ST_MAX_MSGS 600

typedef struct {
    int kind; /* COLLAB_KIND_*, or 0 when the envelope did not decode */
    bool encrypted, dropped;
    double ts;
    int decode_rc;
    uint32_t conn;
    collab_sniff_dir_t dir;
    uint64_t rid;
    char name[COLLAB_MAX_ACTION + 1]; /* a request's action or an event's name */
    char reply_to[COLLAB_MAX_ACTION + 1];
    char agent[COLLAB_MAX_AGENT_ID + 1]; /* a request's agent id */
    size_t nframes, envelope_frame;
    char src[COLLAB_SNIFF_ADDR_LEN];
    char line[1024];
    char *json; /* collab_sniff_json's text */
} st_msg_t;

typedef struct {
    size_t n;
    st_msg_t m[ST_MAX_MSGS];
    char notes[131072];
    size_t notes_len;
    collab_sniff_stats_t st;
    int open_rc; /* 0, or -1 when the file could not be opened (err says why) */
    char err[256];
} st_got_t;

/*  Reads path (TCP port `port`, 0: every port) to its end. Returns a heap result for
    st_free, never NULL (the program exits when out of memory). */
st_got_t *st_sniff_file(const char *path, uint16_t port);

/*  The same with the sniffer's limits set first (open_rc -1 when they are refused). */
st_got_t *st_sniff_file_limits(const char *path, uint16_t port, const collab_sniff_limits_t *lim);
void st_free(st_got_t **g_p);

/*  Notes containing needle. */
int st_notes(const st_got_t *g, const char *needle);

/*  Messages of a kind (0: undecoded, encrypted included) and, when name is not NULL, that
    name (request action or event name). */
int st_count(const st_got_t *g, int kind, const char *name);

/*  A fresh temporary directory for the program, removed by st_cleanup; st_path names a
    file in it (a static buffer per call slot, 4 slots). */
const char *st_path(const char *name);
void st_cleanup(void);

#endif
