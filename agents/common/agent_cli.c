/*  agent_cli.c: common agent options, environment variables and exit codes. */
#include "agent_cli.h"
#include "agent_stop.h"
#include "readfile.h"

#include <ctype.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

typedef struct {
    const char *flag, *env;
    size_t offset;
    size_t size; /* 0: an int */
} opt_t;

#define STR_OPT(f, e, field)                                                                       \
    {                                                                                              \
        f, e, offsetof(agent_cli_t, field), sizeof(((agent_cli_t *)0)->field)                      \
    }
#define INT_OPT(f, e, field)                                                                       \
    {                                                                                              \
        f, e, offsetof(agent_cli_t, field), 0                                                      \
    }

static const opt_t opts[] = {
    STR_OPT("--broker", "COLLAB_BROKER", endpoint),
    STR_OPT("--agent", "COLLAB_AGENT_ID", agent_id),
    STR_OPT("--password", "COLLAB_PASSWORD", password),
    STR_OPT("--password-file", "COLLAB_PASSWORD_FILE", password_file),
    STR_OPT("--credentials", "COLLAB_CREDENTIALS", credentials),
    STR_OPT("--key-file", "COLLAB_KEY_FILE", key_file),
    STR_OPT("--curve-server-key", "COLLAB_CURVE_SERVER", curve_server),
    STR_OPT("--curve-cert", "COLLAB_CURVE_CERT", curve_cert),
    INT_OPT("--timeout-ms", "COLLAB_TIMEOUT_MS", timeout_ms),
    INT_OPT("--retries", "COLLAB_RETRIES", retries),
    INT_OPT("--login-timeout-ms", "COLLAB_LOGIN_TIMEOUT_MS", login_timeout_ms),
    INT_OPT("--connect-timeout-ms", "COLLAB_CONNECT_TIMEOUT_MS", connect_timeout_ms),
};

const char *agent_cli_help(void)
{
    return "common options (and environment variables):\n"
           "  --broker ENDPOINT      COLLAB_BROKER         default tcp://127.0.0.1:5555; a\n"
           "                         cluster's brokers as A,B,... (up to 8): the first is\n"
           "                         used, the next when it times out or is unavailable\n"
           "  --agent ID             COLLAB_AGENT_ID\n"
           "  --password PW          COLLAB_PASSWORD       (prefer --password-file)\n"
           "  --password-file FILE   COLLAB_PASSWORD_FILE\n"
           "  --credentials FILE     COLLAB_CREDENTIALS    JSON holding this agent's hmac_key\n"
           "  --key-file FILE        COLLAB_KEY_FILE       64 hex digits\n"
           "  --curve-server-key K   COLLAB_CURVE_SERVER   the broker's CURVE public key: its\n"
           "                                               certificate file or 40 Z85 characters\n"
           "  --curve-cert FILE      COLLAB_CURVE_CERT     this agent's secret CURVE certificate\n"
           "                         (both CURVE options for a broker with transport = strong)\n"
           "  --timeout-ms N         COLLAB_TIMEOUT_MS     per attempt, default 3000\n"
           "  --retries N            COLLAB_RETRIES        default 3\n"
           "  --login-timeout-ms N   COLLAB_LOGIN_TIMEOUT_MS per login attempt, default 3x\n"
           "  --connect-timeout-ms N COLLAB_CONNECT_TIMEOUT_MS how long the first connection\n"
           "                         may take before the agent gives up (exit 3), default\n"
           "                         5000; 0 leaves it to the login's timeouts and retries\n"
           "  --json                 machine-readable output where the tool has it\n"
           "exit codes: 0 ok, 1 failed, 2 usage, 3 broker unreachable, 4 login refused, "
           "5 action refused;\n"
           "  SIGINT/SIGTERM stop it within 2 s in every phase: 0 when it runs until stopped\n"
           "  and stopped cleanly, else 128+signal (130 SIGINT, 143 SIGTERM)\n";
}

static int set_opt(agent_cli_t *cli, const opt_t *o, const char *val, const char *prog)
{
    char *field = (char *)cli + o->offset;
    if (o->size) {
        if (strlen(val) >= o->size) {
            fprintf(stderr, "%s: %s: value too long\n", prog, o->flag);
            return -1;
        }
        snprintf(field, o->size, "%s", val);
        return 0;
    }
    long v;
    if (collab_parse_long(val, 0, 3600000, &v) != 0) {
        fprintf(stderr, "%s: %s: '%s' is not a number in 0..3600000\n", prog, o->flag, val);
        return -1;
    }
    *(int *)field = (int)v;
    return 0;
}

int agent_cli_parse(agent_cli_t *cli, const char *prog, int argc, char **argv)
{
    memset(cli, 0, sizeof *cli);
    snprintf(cli->endpoint, sizeof cli->endpoint, "tcp://127.0.0.1:5555");
    cli->timeout_ms = 3000;
    cli->retries = 3;
    cli->connect_timeout_ms = 5000;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *v = getenv(opts[i].env);
        if (v && *v && set_opt(cli, &opts[i], v, prog) != 0)
            return -1;
    }
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const opt_t *o = NULL;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0] && !o; k++)
            if (strcmp(argv[i], opts[k].flag) == 0)
                o = &opts[k];
        if (strcmp(argv[i], "--json") == 0) {
            cli->json = true;
        } else if (o) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: %s needs a value\n", prog, argv[i]);
                return -1;
            }
            if (set_opt(cli, o, argv[++i], prog) != 0)
                return -1;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

#define PASSWORD_FILE_MAX (64 * 1024)

int agent_cli_password_parse(const char *text, size_t len, char *out, size_t cap, char *err,
                             size_t errlen)
{
    size_t n = 0;
    while (n < len && text[n] != '\r' && text[n] != '\n')
        n++;
    if (cap == 0 || n >= cap || memchr(text, '\0', n)) {
        snprintf(err, errlen, "%s",
                 n >= cap ? "its first line is longer than a password may be"
                          : "a NUL byte in its first line");
        if (cap)
            out[0] = '\0';
        return -1;
    }
    memcpy(out, text, n);
    out[n] = '\0';
    return 0;
}

static int read_password_file(agent_cli_t *cli, const char *prog)
{
    char err[600];
    size_t len = 0;
    char *text = agent_read_file(cli->password_file, PASSWORD_FILE_MAX, &len, err, sizeof err);
    if (!text) {
        fprintf(stderr, "%s: cannot read password file %s\n", prog, err);
        return -1;
    }
    int rc =
        agent_cli_password_parse(text, len, cli->password, sizeof cli->password, err, sizeof err);
    sodium_memzero(text, len);
    free(text);
    if (rc)
        fprintf(stderr, "%s: password file %s: %s\n", prog, cli->password_file, err);
    return rc;
}

int agent_cli_exit_code(int rc)
{
    if (rc == 0)
        return AGENT_EXIT_OK;
    if (agent_stop_signal())
        return agent_stop_exit_code(AGENT_EXIT_FAILED);
    if (rc == COLLAB_E_TIMEOUT || rc == COLLAB_E_IO)
        return AGENT_EXIT_UNREACHABLE;
    if (rc == COLLAB_E_AUTH_FAILED || rc == COLLAB_E_LOCKED_OUT)
        return AGENT_EXIT_AUTH;
    return AGENT_EXIT_REFUSED;
}

int agent_cli_load_curve(const agent_cli_t *cli, collab_client_opts_t *o, char *err, size_t errlen)
{
    o->curve = false;
    if (!cli->curve_server[0] && !cli->curve_cert[0])
        return 0;
    if (!cli->curve_server[0] || !cli->curve_cert[0]) {
        snprintf(err, errlen, "CURVE needs both --curve-server-key and --curve-cert");
        return COLLAB_E_BAD_REQUEST;
    }
    return collab_client_load_curve(o, cli->curve_server, cli->curve_cert, err, errlen);
}

int agent_cli_check_endpoint(const char *ep, char *err, size_t errlen)
{
    long port;
    if (strncmp(ep, "ipc://", 6) == 0 && ep[6])
        return 0;
    const char *hp = strncmp(ep, "tcp://", 6) == 0 ? ep + 6 : NULL;
    const char *semi = hp ? strchr(hp, ';') : NULL;
    if (semi) /* tcp://SRC:0;HOST:PORT: the part after the source address decides */
        hp = semi + 1;
    const char *colon = hp ? strrchr(hp, ':') : NULL;
    if (colon && colon > hp && strcspn(hp, " \t/") == strlen(hp) && /* "a;tcp://b" is none */
        collab_parse_long(colon + 1, 1, 65535, &port) == 0)
        return 0;
    snprintf(err, errlen, "'%s' is not a broker endpoint: expected tcp://HOST:PORT", ep);
    return -1;
}

int agent_cli_check_endpoints(const char *list, char *err, size_t errlen)
{
    collab_endpoints_t eps;
    if (collab_endpoints_parse(list, &eps, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < eps.n; i++)
        if (agent_cli_check_endpoint(eps.ep[i], err, errlen) != 0)
            return -1;
    return 0;
}

void agent_cli_describe_failure(const agent_cli_t *cli, const char *agent, int rc, char *out,
                                size_t cap)
{
    if (rc == COLLAB_E_TIMEOUT)
        snprintf(out, cap,
                 "no broker answers at %s (is it running? the wait for the first "
                 "connection is --connect-timeout-ms, %d ms)",
                 cli->endpoint, cli->connect_timeout_ms);
    else if (rc == COLLAB_E_IO)
        snprintf(out, cap,
                 "the broker at %s refused the connection: it speaks CURVE (give "
                 "--curve-server-key and --curve-cert) or does not allow this key",
                 cli->endpoint);
    else
        snprintf(out, cap, "login as %s refused: %s", agent, collab_strerror(rc));
}

/*  The client options for cli, with its key and CURVE settings; 0, or -1 after a message.
    The caller wipes o's secrets. */
static int client_opts(const agent_cli_t *cli, const char *prog, collab_client_opts_t *o)
{
    char err[512];
    *o = (collab_client_opts_t){.endpoint = cli->endpoint,
                                .agent_id = cli->agent_id,
                                .password = cli->password,
                                .timeout_ms = cli->timeout_ms,
                                .retries = cli->retries,
                                .login_timeout_ms = cli->login_timeout_ms ? cli->login_timeout_ms
                                                                          : 3 * cli->timeout_ms,
                                .auto_relogin = true,
                                .connect_timeout_ms = cli->connect_timeout_ms};
    const char *key_src = cli->key_file[0] ? cli->key_file : cli->credentials;
    if (key_src[0]) {
        if (collab_client_load_key(key_src, cli->agent_id, o->key, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return -1;
        }
        o->has_key = true;
    }
    if (agent_cli_load_curve(cli, o, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return -1;
    }
    return 0;
}

collab_client_t *agent_cli_connect(const agent_cli_t *cli_in, const char *prog, int *exit_code)
{
    agent_cli_t cli = *cli_in;
    char err[600];
    collab_client_opts_t o;
    *exit_code = AGENT_EXIT_USAGE;
    if (!cli.agent_id[0]) {
        fprintf(stderr, "%s: no agent id (--agent or COLLAB_AGENT_ID)\n", prog);
        return NULL;
    }
    if (agent_cli_check_endpoints(cli.endpoint, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err);
        *exit_code = AGENT_EXIT_UNREACHABLE;
        return NULL;
    }
    if (cli.password_file[0] && read_password_file(&cli, prog) != 0)
        return NULL;
    if (!cli.password[0]) {
        fprintf(stderr, "%s: no password (--password-file, COLLAB_PASSWORD_FILE or --password)\n",
                prog);
        return NULL;
    }
    bool opts_ok = client_opts(&cli, prog, &o) == 0;
    collab_client_t *c = opts_ok ? collab_client_new(&o) : NULL;
    sodium_memzero(cli.password, sizeof cli.password);
    sodium_memzero(o.key, sizeof o.key);
    sodium_memzero(o.curve_secret, sizeof o.curve_secret);
    if (!c) {
        if (opts_ok)
            fprintf(stderr, "%s: cannot connect to '%s'\n", prog, cli.endpoint);
        *exit_code = opts_ok ? AGENT_EXIT_UNREACHABLE : AGENT_EXIT_USAGE;
        return NULL;
    }
    int rc = collab_client_login(c);
    if (rc == 0 && !agent_stop_signal()) {
        *exit_code = AGENT_EXIT_OK;
        return c;
    }
    *exit_code = agent_cli_exit_code(rc ? rc : COLLAB_E_TIMEOUT);
    if (agent_stop_signal())
        fprintf(stderr, "%s: stopped by signal %d before the login completed\n", prog,
                agent_stop_signal());
    else {
        agent_cli_describe_failure(&cli, cli.agent_id, rc, err, sizeof err);
        fprintf(stderr, "%s: %s\n", prog, err);
    }
    collab_client_destroy(&c);
    return NULL;
}

void agent_cli_on_signal(void (*fn)(int))
{
    agent_stop_install(fn);
}
