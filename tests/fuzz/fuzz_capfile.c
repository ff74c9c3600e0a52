/*  fuzz_capfile.c: libFuzzer target for collab-replay's capture file reader (capfile_parse,
    the code capfile_load runs on the file's bytes), plus what a loaded file promises: every
    record indexed, its frames within the limits, and the look-ups collab-replay makes on it
    (by index, and the first earlier record that is the same message) consistent. */
#include "capfile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile uint8_t touched;

static void require(bool ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    capfile_t cf;
    char err[512] = "";
    if (capfile_parse((const char *)data, size, "fuzz.cap", &cf, err, sizeof err) != 0) {
        require(strncmp(err, "fuzz.cap:", 9) == 0 && cf.count == 0 && cf.recs == NULL);
        return 0;
    }
    for (size_t i = 0; i < cf.count; i++) {
        const cap_record_t *r = &cf.recs[i];
        bool dropped = strcmp(r->dir, "dropped") == 0;
        require(r->index >= 1 && r->nframes <= 64 && (dropped || r->nframes >= 1));
        require(strlen(r->dir) < sizeof r->dir && strlen(r->action) < sizeof r->action);
        for (size_t k = 0; k < r->nframes; k++) {
            require(r->frames[k] != NULL);
            if (r->lens[k]) /* the whole frame is there (a sanitizer sees a short one) */
                touched ^= r->frames[k][0] ^ r->frames[k][r->lens[k] - 1];
        }
        const cap_record_t *f = capfile_find(&cf, r->index);
        require(f && f <= r && f->index == r->index);
        const cap_record_t *e = capfile_repeat_of(&cf, r);
        require(!e || (e < r && e->nframes && memcmp(e->ident, r->ident, sizeof r->ident) == 0));
    }
    capfile_free(&cf);
    require(cf.count == 0 && cf.recs == NULL);
    return 0;
}
