/*  cellweb.h: the web gateway of one web cell of collab-attack matrix (a catalogue row with
    "web": true): collab-web started beside the cell's broker, with the broker's own
    configuration arguments (profile, --set), bound to 127.0.0.1 on a free port; its URL read
    from the one line it prints on stdout, "collab-web: http://127.0.0.1:PORT/". Stopped by
    its pid. */
#ifndef CELLWEB_H
#define CELLWEB_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid; /* 0: not running */
    int out;   /* its stdout, kept open (nothing more is printed there) until it stops */
    char url[80];
} cellweb_t;

/*  Writes a fresh strong web token key into token_key (NULL: none), then starts exe with
    --broker endpoint --set credentials=creds --bind 127.0.0.1:0, then config (nconfig
    arguments: --profile P, --set K=V ..., web.token_key_file among them), its stderr (its
    log) into log_path, and waits (deadline) for its URL on stdout.
    Returns 0, or -1 with the reason (its first line of output) in reason and nothing left
    running. */
int cellweb_start(cellweb_t *w, const char *exe, const char *endpoint, const char *creds,
                  char *const *config, int nconfig, const char *token_key, const char *log_path,
                  char *reason, size_t rcap);

/*  SIGTERM, a deadline, then SIGKILL; reaped. Safe on a gateway not started. */
void cellweb_stop(cellweb_t *w);

#endif
