/*  redis_addr.h: where a broker finds its Redis, as given to --store: the pure parser of
    `redis://HOST:PORT[/DB]` and `unix:///path/to.sock[?db=N]`. Text in, address or reason
    out: no socket, no name lookup, no log, no allocation, so it is fuzzed (fuzz_redis_addr). */
#ifndef COLLAB_REDIS_ADDR_H
#define COLLAB_REDIS_ADDR_H

#include <stddef.h>
#include <stdint.h>

/*  The longest address text accepted, in bytes. */
#define COLLAB_REDIS_ADDR_MAX 512
/*  A host name (DNS: 253 characters) or an IPv6 address without its brackets. */
#define COLLAB_REDIS_HOST_MAX 253
/*  A socket path: sockaddr_un's sun_path holds 108 bytes with the NUL. */
#define COLLAB_REDIS_PATH_MAX 107
/*  The largest database number written; the server's own `databases` (16 by default) is the
    real limit, and SELECT refuses past it. */
#define COLLAB_REDIS_DB_MAX 65535

typedef enum {
    COLLAB_REDIS_TCP = 1,
    COLLAB_REDIS_UNIX = 2,
} collab_redis_kind_t;

typedef struct {
    collab_redis_kind_t kind;
    char host[COLLAB_REDIS_HOST_MAX + 1]; /* TCP: a name, IPv4 or IPv6 (no brackets); else "" */
    uint16_t port;                        /* TCP: 1..65535; else 0 */
    char path[COLLAB_REDIS_PATH_MAX + 1]; /* unix: an absolute path; else "" */
    int db;                               /* 0..COLLAB_REDIS_DB_MAX; 0 when not given */
} collab_redis_addr_t;

/*  Parses text (NUL-terminated) into *out:
      redis://HOST:PORT[/DB]     HOST a DNS name, a dotted IPv4 address or [IPv6]; PORT
                                 1..65535 and required; DB decimal digits
      unix:///PATH[?db=N]        PATH absolute, at most COLLAB_REDIS_PATH_MAX bytes
    Nothing else is accepted: no user or password in the address (it would show in `ps` and
    in logs: they come from the password file), no other query parameter, no percent-escape,
    no blank or control character. Returns 0, or COLLAB_E_BAD_REQUEST with *out zeroed and
    a sentence in err (NUL-terminated, cut to errlen) saying what is wrong and where. */
int collab_redis_addr_parse(const char *text, collab_redis_addr_t *out, char *err, size_t errlen);

/*  Writes a parsed address back as text (what collab_redis_addr_parse reads, the same
    address again) into out. Returns 0, or COLLAB_E_TOO_LARGE when cap is too small (out is
    then ""). */
int collab_redis_addr_format(const collab_redis_addr_t *addr, char *out, size_t cap);

#endif
