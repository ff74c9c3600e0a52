/*  agent_cli.h: what every agent binary shares on its command line: the broker endpoint,
    the agent id, the password (or a file holding it), the HMAC key source, timeouts, with
    matching environment variables so the same binary runs by hand and in a container.
    Also the exit codes, one per kind of failure. */
#ifndef AGENT_CLI_H
#define AGENT_CLI_H

#include "agent_stop.h"
#include "collab_client.h"

#include <stdbool.h>

/*  Exit codes of every agent binary. */
enum {
    AGENT_EXIT_OK = 0,
    AGENT_EXIT_FAILED = 1,      /* the work itself failed (e.g. a task did not complete) */
    AGENT_EXIT_USAGE = 2,       /* bad arguments or configuration */
    AGENT_EXIT_UNREACHABLE = 3, /* the broker did not answer */
    AGENT_EXIT_AUTH = 4,        /* wrong password or unknown agent */
    AGENT_EXIT_REFUSED = 5,     /* the broker refused an action */
};

typedef struct {
    /* --broker, COLLAB_BROKER: one endpoint or several, "A,B" (default tcp://127.0.0.1:5555) */
    char endpoint[COLLAB_ENDPOINTS_MAX];
    char agent_id[COLLAB_MAX_AGENT_ID + 1]; /* --agent, COLLAB_AGENT_ID */
    char password[COLLAB_PASSWORD_MAX + 1]; /* --password, COLLAB_PASSWORD */
    char password_file[512];                /* --password-file, COLLAB_PASSWORD_FILE */
    char credentials[512];                  /* --credentials, COLLAB_CREDENTIALS: the key source */
    char key_file[512];                     /* --key-file, COLLAB_KEY_FILE: 64 hex digits */
    char curve_server[512]; /* --curve-server-key, COLLAB_CURVE_SERVER: file or Z85 */
    char curve_cert[512];   /* --curve-cert, COLLAB_CURVE_CERT: this agent's secret cert */
    int timeout_ms;         /* --timeout-ms, COLLAB_TIMEOUT_MS (default 3000) */
    int retries;            /* --retries, COLLAB_RETRIES (default 3) */
    int login_timeout_ms;   /* --login-timeout-ms, COLLAB_LOGIN_TIMEOUT_MS (0: 3x timeout) */
    int connect_timeout_ms; /* --connect-timeout-ms, COLLAB_CONNECT_TIMEOUT_MS (default 5000;
                               0: no separate wait for the first connection) */
    bool json;              /* --json */
} agent_cli_t;

/*  Fills cli from the environment, then takes the common options out of argv (they may
    appear anywhere); the remaining arguments are compacted to the front and their count
    returned, or -1 with a message on stderr for a malformed common option. */
int agent_cli_parse(agent_cli_t *cli, const char *prog, int argc, char **argv);

/*  The password a --password-file holds: its first line (up to '\r' or '\n'), of len bytes
    of text (need not be NUL-terminated), into out (cap bytes, NUL-terminated). Returns 0, or
    -1 with the reason in err: a NUL byte in that line, or a line of cap bytes or more (not
    cut short, which would log in with another password). */
int agent_cli_password_parse(const char *text, size_t len, char *out, size_t cap, char *err,
                             size_t errlen);

/*  The help text for the common options. */
const char *agent_cli_help(void);

/*  Loads the CURVE options into o when they were given (both are needed, or neither).
    Returns 0, or a negative code with the reason in err. */
int agent_cli_load_curve(const agent_cli_t *cli, collab_client_opts_t *o, char *err, size_t errlen);

/*  Whether endpoint is one an agent can connect to: tcp://HOST:PORT (optionally
    tcp://SRC:0;HOST:PORT) or ipc://PATH. Returns 0, or -1 with the reason in err. */
int agent_cli_check_endpoint(const char *endpoint, char *err, size_t errlen);

/*  The same for --broker's value: a list of 1 to COLLAB_CLIENT_MAX_ENDPOINTS endpoints
    separated by commas (collab_endpoints_parse), each checked as above. Returns 0, or -1
    with the reason, naming the endpoint at fault, in err. */
int agent_cli_check_endpoints(const char *list, char *err, size_t errlen);

/*  The message for a first login that failed with rc (no broker, handshake refused, login
    refused), one line without the program name. */
void agent_cli_describe_failure(const agent_cli_t *cli, const char *agent, int rc, char *out,
                                size_t cap);

/*  Creates a client and logs in; on failure prints one clear message and returns NULL,
    with the exit code to use in *exit_code (128 + the signal when a stop signal came
    first): 3 when the endpoint list is not one (see agent_cli_check_endpoints) or no
    broker answers within connect_timeout_ms (on each endpoint in turn). */
collab_client_t *agent_cli_connect(const agent_cli_t *cli, const char *prog, int *exit_code);

/*  Installs the common SIGINT/SIGTERM handling (agent_stop.h), calling fn (may be NULL)
    with the signal for the agent's own flag. CZMQ would otherwise install its own handler
    when the first socket is created, replacing the agent's; this keeps ours. Every agent
    calls it first thing, so that a signal ends even the first connection's wait. */
void agent_cli_on_signal(void (*fn)(int));

/*  The exit code for a failed request's return code or reply code; 128 + the signal
    when a stop signal cut it short. */
int agent_cli_exit_code(int rc);

#endif
