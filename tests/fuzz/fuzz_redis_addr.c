/*  fuzz_redis_addr.c: libFuzzer target for the Redis address parser (broker/redis_addr.c,
    collab_redis_addr_parse: what --store's redis:// or unix:// value goes through). The
    input, up to its first NUL, is the address. An accepted address must have its parts
    within their bounds and print back (collab_redis_addr_format) as text that parses to the
    same address; a refused one must leave the address zeroed and a bounded, non-empty
    reason, the same refusal whatever the reason buffer's size. A broken promise aborts. */
#include "collab_error.h"
#include "redis_addr.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

static bool zeroed(const collab_redis_addr_t *a)
{
    static const collab_redis_addr_t zero;
    return memcmp(a, &zero, sizeof zero) == 0;
}

static void check_parts(const collab_redis_addr_t *a)
{
    size_t hlen = strnlen(a->host, sizeof a->host), plen = strnlen(a->path, sizeof a->path);
    require(hlen < sizeof a->host && plen < sizeof a->path);
    require(a->db >= 0 && a->db <= COLLAB_REDIS_DB_MAX);
    if (a->kind == COLLAB_REDIS_TCP)
        require(hlen > 0 && a->port > 0 && plen == 0);
    else
        require(a->kind == COLLAB_REDIS_UNIX && a->path[0] == '/' && a->port == 0 && hlen == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0; /* an argument, not a file */
    char *text = malloc(size + 1);
    require(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    collab_redis_addr_t a, again;
    char err[300], tiny[5], back[COLLAB_REDIS_ADDR_MAX + 1];
    memset(err, 'x', sizeof err);
    memset(&a, 0x5a, sizeof a);
    int rc = collab_redis_addr_parse(text, &a, err, sizeof err);
    require(rc == 0 || rc == COLLAB_E_BAD_REQUEST);
    require(memchr(err, '\0', sizeof err) != NULL);
    require(collab_redis_addr_parse(text, &again, tiny, sizeof tiny) == rc);
    require(collab_redis_addr_parse(text, &again, NULL, 0) == rc);
    if (rc != 0) {
        require(zeroed(&a) && err[0] != '\0' && strlen(tiny) == sizeof tiny - 1);
    } else {
        require(err[0] == '\0' && memcmp(&a, &again, sizeof a) == 0);
        check_parts(&a);
        require(collab_redis_addr_format(&a, back, sizeof back) == 0);
        require(collab_redis_addr_parse(back, &again, err, sizeof err) == 0);
        require(memcmp(&a, &again, sizeof a) == 0);
    }
    free(text);
    return 0;
}
