/*  brokerproc.h: runs collab-broker as a child process for integration tests: a fresh
    temporary directory for its state and logs, an ephemeral port read from its
    "listening" line, stop, kill -9 and restart on the same port and state. */
#ifndef BROKERPROC_H
#define BROKERPROC_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int port;
    char dir[256];
    char state[320];
    char seclog[320];
    char endpoint[64];
    const char *exe;
    const char *creds;
    char *extra[32]; /* extra arguments, NULL-terminated copies */
} broker_proc_t;

/*  Test programs get the broker binary and the test credentials file as argv[1], argv[2];
    broker_init remembers them and makes a fresh temporary directory. */
int broker_init(broker_proc_t *b, const char *exe, const char *creds);

/*  Starts the broker (port 0: an ephemeral one) with extra "--opt", "value" arguments
    (NULL-terminated). Waits, with a deadline, for its "listening" line. Returns 0 or -1. */
int broker_start(broker_proc_t *b, const char *const *extra);

/*  Starts again on the same port and state file with the same extra arguments. */
int broker_restart(broker_proc_t *b);

/*  SIGTERM and wait: returns the exit status (or -1). */
int broker_stop(broker_proc_t *b);

/*  SIGKILL and wait. */
void broker_kill9(broker_proc_t *b);

/*  Runs collab-broker to completion with the given arguments (for option errors) and
    returns its exit code; its stderr is captured into err (NUL-terminated). */
int broker_run_once(const broker_proc_t *b, const char *const *args, char *err, size_t errlen);

/*  Like broker_run_once, capturing stdout into out and stderr into err (either may be
    NULL), and killing the child if it has not exited within timeout_ms (a broker that
    should have refused to start but is serving instead): then returns -1. */
int broker_run_capture(const broker_proc_t *b, const char *const *args, char *out, size_t outlen,
                       char *err, size_t errlen, int timeout_ms);

/*  Replaces the extra arguments (NULL-terminated) and starts again on the same port and
    state file (e.g. with --reset-state). */
int broker_restart_with(broker_proc_t *b, const char *const *extra);

/*  Counts lines of the security log containing needle. */
int broker_seclog_count(const broker_proc_t *b, const char *needle);

/*  Waits (on inotify, no polling) until b's security log has a line with needle, at most
    timeout_ms. Returns whether it has. */
bool broker_seclog_wait(const broker_proc_t *b, const char *needle, int timeout_ms);

/*  Refusals of event from peer that b's security log records: its full lines plus the
    counts of its refusals_aggregated lines (written once their interval is over). */
int broker_seclog_refusals(const broker_proc_t *b, const char *event, const char *peer);

/*  Stops the broker if running and removes the temporary directory. */
void broker_cleanup(broker_proc_t *b);

#endif
