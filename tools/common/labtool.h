/*  labtool.h: what the lab's tools that act on a live broker (collab-attack, collab-probe)
    share: the target rule, the narration on stderr and the one verdict line on stdout. */
#ifndef LABTOOL_H
#define LABTOOL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  True for loopback (127.0.0.0/8, ::1, "localhost") and 10.231.0.0/16, the network of the
    project's namespace tests: the targets a lab tool may act on unless told the target is
    the user's own. */
bool lab_target_allowed(const char *host);

/*  Parses tcp://HOST:PORT (HOST may be [v6]) into host (cap bytes) and *port, and applies
    the target rule unless mine. Returns 0, or -1 after a message on stderr naming the tool. */
int lab_target_parse(const char *tool, const char *endpoint, bool mine, char *host, size_t cap,
                     int *port);

/*  Narration of a step, on stderr ("  * ..."); stdout holds only the verdict line. */
void lab_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*  Prints the verdict: "VERDICT: evidence", or with json one object
    {KIND: name, "verdict": VERDICT, "evidence": ...} plus "decided_by" (a string, or null when
    decided_by is NULL) when with_decided_by. Flushes stdout. */
void lab_verdict_print(const char *kind, const char *name, const char *verdict,
                       const char *evidence, bool with_decided_by, const char *decided_by,
                       bool json);

/*  Packs a request payload, a map, from ap's "key", "value" pairs up to a NULL key (at most
    32): a value "u:123" is an unsigned integer, "b:true" a boolean, "s:text" or anything else
    a string. Returns the bytes written into buf, or 0 when they do not fit in cap. */
size_t lab_pack_args(uint8_t *buf, size_t cap, va_list ap);

#endif
