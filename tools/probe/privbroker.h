/*  privbroker.h: a private collab-broker for one probe: its own temporary directory (state,
    security log, its stderr), an ephemeral loopback port, stopped and removed at the end. */
#ifndef PRIVBROKER_H
#define PRIVBROKER_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    char dir[128];
    char endpoint[64];
} privbroker_t;

/*  Starts exe with the credentials file and extra "--set" values (NULL-terminated, each
    "key=value"), waiting (with a deadline) for its "listening" line. Returns 0, or -1 with
    the reason in err; on failure nothing is left running and the directory is removed. */
int privbroker_start(privbroker_t *b, const char *exe, const char *credentials,
                     const char *const *sets, char *err, size_t errlen);

/*  Stops the broker (SIGTERM, SIGKILL after a deadline) and removes its directory.
    Safe to call twice. */
void privbroker_stop(privbroker_t *b);

#endif
