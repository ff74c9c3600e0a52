/*  fuzz_config.c: libFuzzer target for the broker's settings (broker/config.c). The first
    byte picks the way in: even, the rest is a configuration file (collab_config_parse, what
    --config reads); odd, the rest is a list of --set values, one per line
    (collab_config_set). Whatever is accepted must print (collab_config_print) as text that
    parses back to the very same settings, byte for byte; errors must be bounded text. A
    broken promise aborts, so the fuzzer reports it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

/*  The error text is a bounded C string (never the input's raw length). */
static void check_err(const char *err, size_t cap)
{
    require(memchr(err, '\0', cap) != NULL);
}

/*  Printing and reading back yields the same settings. */
static void round_trip(const collab_config_t *cfg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    require(out != NULL);
    collab_config_print(cfg, out);
    require(fclose(out) == 0);
    collab_config_t back;
    char err[256] = "";
    collab_config_defaults(&back);
    require(collab_config_parse(&back, "printed", text, len, err, sizeof err) == 0);
    require(memcmp(&back, cfg, sizeof back) == 0);
    char verr[256] = "";
    int v1 = collab_config_validate(cfg, verr, sizeof verr);
    require(collab_config_validate(&back, verr, sizeof verr) == v1);
    check_err(verr, sizeof verr);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    collab_config_t cfg;
    char err[256];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    collab_config_defaults(&cfg);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int rc = 0;
    if ((data[0] & 1) == 0) {
        rc = collab_config_parse(&cfg, "fuzz.cfg", text, len, err, sizeof err);
    } else {
        /* each line one --set argument (as a C string: up to a NUL) */
        for (size_t at = 0; rc == 0 && at < len;) {
            const char *nl = memchr(text + at, '\n', len - at);
            size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
            char *arg = malloc(n + 1);
            require(arg != NULL);
            memcpy(arg, text + at, n);
            arg[n] = '\0';
            rc = collab_config_set(&cfg, arg, err, sizeof err);
            free(arg);
            at += n + 1;
        }
    }
    require(rc <= 0);
    check_err(err, sizeof err);
    if (rc == 0)
        round_trip(&cfg);
    return 0;
}
