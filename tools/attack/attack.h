/*  attack.h: what the attacks of collab-attack share. Each attack runs against a live
    broker holding only what its row of LAB.md says its attacker holds (wire access, one
    agent's credentials, read access to the state file, write access to the log), starts
    a scripted victim agent where it needs one, and ends with one verdict line. */
#ifndef ATTACK_H
#define ATTACK_H

#include "agent_cli.h"
#include "collab_client.h"
#include "labtool.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*  enumerate-agents: the default candidates (three demo agents, two common ids that are not
    agents), tries per candidate (K; with cost-12 hashes and every login hashed, 3 rounds of
    5 candidates and 2 random ids take about 5 s), and the rule that decides "exists": median
    over the rounds, a login time at least ENUM_RATIO times its round's random ids' (or at
    most 1/ENUM_RATIO of it) and ENUM_MIN_GAP_MS apart, so neither a load that changes over
    the run nor scheduling noise on fast replies decides anything. */
#define ENUM_DEFAULT_CANDIDATES "admin,coordinator1,worker1,root,guest"
#define ENUM_DEFAULT_TRIES      3
#define ENUM_RATIO              4
#define ENUM_MIN_GAP_MS         20

/*  Exit codes: an attack's outcome is not an error. */
enum { ATTACK_SUCCEEDED = 0, ATTACK_ERROR = 1, ATTACK_USAGE = 2, ATTACK_BLOCKED = 10 };

typedef struct {
    /* the target */
    char broker[512]; /* tcp://HOST:PORT */
    char host[128];
    int port;
    char broker2[512]; /* --broker2: a second broker of the same cluster (cluster attacks) */
    char host2[128];
    int port2;
    bool target_is_mine; /* --target-is-mine: allow targets outside loopback/test namespaces */
    char iface[64];      /* capture interface for wire attacks (default: lo) */
    /* what the attacker holds (only what its row allows; unused fields stay empty) */
    agent_cli_t own;      /* --agent, --password-file, --credentials: the attacker's own agent */
    char state_path[512]; /* --state: read access to the broker's state file */
    char log_path[512];   /* --security-log: write access to the log file */
    char store[512];      /* --store redis://HOST:PORT: network access to a cluster's store */
    /* the victim: paths handed to the victim process, never opened by the attack */
    char victim_passwords[512]; /* a directory of AGENT.pw files, or a file of "agent
                                   password" lines (collab-victim reads its own line) */
    char victim_key_file[512];  /* the credentials file the victims read their keys from */
    char victim_exe[512];       /* collab-victim (default: beside collab-attack) */
    char observer_exe[512];     /* collab-observer, for terminal-injection */
    char audit_exe[512];        /* collab-audit, the defender's verifier, for cover-tracks */
    char audit_key_file[512];
    char curve_dir[512]; /* --curve-dir: CURVE certs (broker.cert, AGENT.cert_secret) for the
                            victims and the attacker's own agent, when the transport is CURVE */
    /* parameters from the catalogue or the command line */
    uint32_t lifetime_s;  /* session-forever: the lifetime the lab promises */
    uint32_t session_cap; /* concurrent-sessions: N */
    uint32_t flood_count; /* flood: requests */
    uint32_t flood_conns; /* flood: connections */
    char source[64];      /* flood, hijack: send from this local address (127.0.0.2) */
    char wordlist[512];   /* brute-force: file, one password per line */
    char candidates[512]; /* enumerate-agents: comma-separated agent ids to test */
    uint32_t tries;       /* enumerate-agents: logins per candidate (K) */
    char brute_agent[COLLAB_MAX_AGENT_ID + 1];
    char injection[256]; /* terminal-injection: the string (C escapes allowed) */
    /* the web attacks (docs/WEB.md 5) */
    char web[512];        /* --web http://HOST:PORT/: the gateway (collab-web) */
    char listen[64];      /* --listen ADDR: the attacker's listener (cookie-theft 127.0.0.2,
                             csrf 127.0.0.1 by default) */
    char web_victim[512]; /* --web-victim: tools/attack/web_victim.py */
    char python[256];     /* --python: the interpreter with Selenium (/usr/bin/python3) */
    int timeout_ms;
    bool json;
} attack_opts_t;

/*  The verdict and its evidence, printed as the last line (and as JSON with --json). */
typedef struct {
    int outcome; /* ATTACK_SUCCEEDED, ATTACK_BLOCKED or ATTACK_ERROR */
    char evidence[1024];
    const char *decided_by; /* BLOCKED: the control that refused (a static name), or NULL */
} verdict_t;

typedef int (*attack_fn)(const attack_opts_t *o, verdict_t *v);

/*  Sets the verdict; returns its outcome. decided_by is cleared. */
int verdict(verdict_t *v, int outcome, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*  Sets a BLOCKED verdict decided by `control` (a static control name of LAB.md, or NULL
    when the evidence names none); returns ATTACK_BLOCKED. */
int blocked(verdict_t *v, const char *control, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*  The control of LAB.md that a broker error code stands for (replay for a refused nonce,
    peer_binding for a binding refusal, ...), or fallback when the code names none. */
const char *control_of(int code, const char *fallback);

/*  The transport the broker speaks, read from its ZMTP greeting without logging in: copies
    "NULL" or "CURVE" into mech and returns 0, or returns -1 (nothing listens, or no
    greeting within the timeout) with the reason in mech. */
int att_transport(const attack_opts_t *o, char *mech, size_t cap);

/*  The verdict when a plain (NULL-mechanism) request got no answer: BLOCKED by transport
    when the broker speaks CURVE, else ERROR. what names the request ("plain login"). */
int unanswered(const attack_opts_t *o, verdict_t *v, const char *what);

/*  Prints "SUCCEEDED: evidence" (or BLOCKED/ERROR) or a JSON object with the attack, the
    verdict, the evidence and decided_by (null unless BLOCKED); returns the exit code. */
int verdict_print(const char *attack, const verdict_t *v, bool json);

/*  A client for the attacker's own agent (connect + log in), or NULL with v set. */
collab_client_t *own_client(const attack_opts_t *o, verdict_t *v);

/*  A client that will use a session id obtained elsewhere (no login, no key), connecting
    from `source` when given. */
collab_client_t *bare_client(const attack_opts_t *o, const char *agent_id, const char *source);

/*  One request with a payload given as "key", "s:str" / "u:123" / "b:true" pairs
    (NULL-terminated); returns 0 (reply ok), the reply's negative code, or COLLAB_E_TIMEOUT.
    The reply is kept in *r when r is not NULL and the call returned 0. */
int att_call(collab_client_t *c, collab_reply_t *r, const char *action, ...);

/*  A running victim: a collab-victim process doing one of its scripts. */
typedef struct {
    int pid;
    int out;
    char buf[16384];
    size_t len;
    int status;
} victim_t;

/*  Starts collab-victim as `agent` (credentials from the victim paths of o) running
    script with extra NULL-terminated arguments. The attack never opens the password
    paths: it hands them to the victim. */
int victim_start(victim_t *vp, const attack_opts_t *o, const char *agent, const char *script,
                 const char *const *extra);
/*  Starts any program with stdout and stderr captured (the observer, a verifier). */
int victim_spawn(victim_t *vp, char *const argv[]);
/*  Starts an agent program (the observer) as `agent` with the victim passwords of o, through
    collab-victim --exec, which finds the password and hands it over a pipe. argv holds the
    program and its arguments, without any password option. */
int victim_spawn_agent(victim_t *vp, const attack_opts_t *o, const char *agent, char *const argv[]);
/*  Why a victim that printed nothing useful failed: its last output line (or "")
    copied into out. */
void victim_last_words(victim_t *vp, char *out, size_t cap);
/*  Waits (deadline) for a line of the victim's output starting with prefix; copies the
    rest of the line into value. Returns true when found. */
bool victim_expect(victim_t *vp, const char *prefix, char *value, size_t cap, int timeout_ms);
/*  Waits (deadline) until the output holds these bytes. */
bool victim_wait_bytes(victim_t *vp, const void *needle, size_t n, int timeout_ms);
/*  Waits for the victim to exit (deadline; killed after it). Returns its exit code or -1. */
int victim_wait(victim_t *vp, int timeout_ms);
void victim_stop(victim_t *vp);

/*  The attacks, by subcommand. */
int attack_predict_session(const attack_opts_t *o, verdict_t *v);
int attack_session_forever(const attack_opts_t *o, verdict_t *v);
int attack_hijack(const attack_opts_t *o, verdict_t *v);
int attack_concurrent_sessions(const attack_opts_t *o, verdict_t *v);
int attack_steal_state(const attack_opts_t *o, verdict_t *v);
int attack_stale_permissions(const attack_opts_t *o, verdict_t *v);
int attack_weak_role(const attack_opts_t *o, verdict_t *v);
int attack_replay(const attack_opts_t *o, verdict_t *v);
int attack_tamper(const attack_opts_t *o, verdict_t *v);
int attack_flood(const attack_opts_t *o, verdict_t *v);
int attack_brute_force(const attack_opts_t *o, verdict_t *v);
int attack_sniff(const attack_opts_t *o, verdict_t *v);
int attack_terminal_injection(const attack_opts_t *o, verdict_t *v);
int attack_cover_tracks(const attack_opts_t *o, verdict_t *v);
int attack_enumerate_agents(const attack_opts_t *o, verdict_t *v);
int attack_cross_broker_replay(const attack_opts_t *o, verdict_t *v);
int attack_stale_revocation(const attack_opts_t *o, verdict_t *v);
int attack_store_snoop(const attack_opts_t *o, verdict_t *v);
int attack_jwt_forge(const attack_opts_t *o, verdict_t *v);
int attack_web_cookie_theft(const attack_opts_t *o, verdict_t *v);
int attack_web_csrf(const attack_opts_t *o, verdict_t *v);
int attack_web_xss(const attack_opts_t *o, verdict_t *v);
/*  --store's address (redis://HOST:PORT) into host and *port, under the target rule of
    lab_target_parse; -1 after a message on stderr. */
int attack_store_target(const attack_opts_t *o, char *host, size_t cap, int *port);

/*  collab-attack matrix (matrix.c). */
int attack_matrix(int argc, char **argv, const char *self_exe);

#endif
