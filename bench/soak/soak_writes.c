/*  soak_writes.c: the kill -9 cycles' two halves. "write" makes signed durable writes
    (create_project), one at a time, as fast as they are acknowledged, and appends the id
    of each acknowledged one to the ack file, until the broker stops answering (scripts/soak
    kills it meanwhile) or the duration ends. "verify", against the restarted broker, reads
    back every id in the ack file: one that is not found is a lost write. */
#include "soak.h"
#include "collab_clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

int soak_write(soak_t *s)
{
    lg_conn_t c;
    uint8_t pl[256];
    char name[64];
    uint64_t acked = 0, errors = 0, id = 0;
    int last = 0, rc = soak_connect_login(s, s->ctx, &c, s->agent);
    FILE *f = rc == 0 ? fopen(s->ack, "ae") : NULL;
    uint64_t end = ((uint64_t)collab_mono_ns()) + (uint64_t)(s->duration_s * 1e9);
    const char *stopped = rc ? "login" : f ? "duration" : "ack_file";
    while (f && ((uint64_t)collab_mono_ns()) < end) {
        snprintf(name, sizeof name, "kill-%d-%" PRIu64, (int)getpid(), acked + errors);
        size_t plen = lg_payload_create_project(pl, sizeof pl, name, "acknowledged before a kill");
        rc = soak_call(s, &c, COLLAB_ACT_CREATE_PROJECT, pl, plen, "project_id", &id);
        if (rc == COLLAB_E_TIMEOUT) {
            stopped = "timeout"; /* the broker is gone: what is in flight was never acked */
            break;
        }
        if (rc) {
            errors++;
            last = rc;
            continue;
        }
        fprintf(f, "%" PRIu64 "\n", id);
        fflush(f); /* this program is not killed, but the record must not wait for its exit */
        acked++;
    }
    if (f)
        fclose(f);
    lg_conn_close(&c);
    printf("result mode=write acked=%" PRIu64 " errors=%" PRIu64 " last_error=%s stopped=%s\n",
           acked, errors, last ? collab_errname(last) : "-", stopped);
    return 0;
}

int soak_verify(soak_t *s)
{
    lg_conn_t c;
    uint8_t pl[64];
    uint64_t id, checked = 0, lost = 0, errors = 0;
    int last = 0, rc = soak_connect_login(s, s->ctx, &c, s->agent);
    FILE *f = rc == 0 ? fopen(s->ack, "re") : NULL;
    while (f && fscanf(f, "%" SCNu64, &id) == 1) {
        size_t plen = lg_payload_get_project(pl, sizeof pl, id);
        int r = soak_call(s, &c, COLLAB_ACT_GET_PROJECT, pl, plen, NULL, NULL);
        checked++;
        if (r == COLLAB_E_NOT_FOUND) {
            lost++;
            fprintf(stderr, "soak: acknowledged project %" PRIu64 " is gone\n", id);
        } else if (r) {
            errors++;
            last = r;
        }
    }
    if (f)
        fclose(f);
    lg_conn_close(&c);
    printf("result mode=verify login=%s checked=%" PRIu64 " lost=%" PRIu64 " errors=%" PRIu64
           " last_error=%s\n",
           rc ? collab_errname(rc) : "ok", checked, lost, errors,
           last ? collab_errname(last) : "-");
    return rc ? -1 : 0;
}
