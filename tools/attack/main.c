/*  main.c: collab-attack, one subcommand per attack of LAB.md, and `matrix`. Parses the
    options, refuses targets outside loopback and the project's test namespaces unless
    --target-is-mine, runs the attack and prints its verdict. */
#include "agent_stop.h"
#include "attack.h"

#include <czmq.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  The interpreter that has Debian's python3-selenium (not a python3 earlier on PATH). */
#define WEB_PYTHON "/usr/bin/python3"

typedef struct {
    const char *name;
    attack_fn fn;
    const char *holds;
} attack_row_t;

static const attack_row_t attacks[] = {
    {"predict-session", attack_predict_session, "wire only"},
    {"session-forever", attack_session_forever, "a session of its own (--agent ...)"},
    {"hijack", attack_hijack, "wire only"},
    {"concurrent-sessions", attack_concurrent_sessions, "one agent's credentials"},
    {"steal-state", attack_steal_state, "read access to the state file (--state)"},
    {"stale-permissions", attack_stale_permissions, "a coordinator's session"},
    {"weak-role", attack_weak_role, "an observer's credentials"},
    {"replay", attack_replay, "wire only"},
    {"tamper", attack_tamper, "wire only"},
    {"flood", attack_flood, "one low-privileged agent, from --source"},
    {"brute-force", attack_brute_force, "wire access and a word list"},
    {"sniff", attack_sniff, "wire only"},
    {"terminal-injection", attack_terminal_injection, "a worker's credentials"},
    {"cover-tracks", attack_cover_tracks, "write access to the log file (--security-log)"},
    {"enumerate-agents", attack_enumerate_agents, "wire access and a list of candidate ids"},
    {"cross-broker-replay", attack_cross_broker_replay, "wire only (a capture on broker A's host)"},
    {"stale-revocation", attack_stale_revocation,
     "a session of its own, which an admin then revokes through broker A"},
    {"store-snoop", attack_store_snoop, "network access to the cluster's Redis (--store)"},
    {"jwt-forge", attack_jwt_forge, "a worker account of its own (one token), over HTTP (--web)"},
    {"web-cookie-theft", attack_web_cookie_theft,
     "a worker account whose task results the coordinator reads, and a listener (--listen)"},
    {"web-csrf", attack_web_csrf, "a page on another local port (--listen) that an admin visits"},
    {"web-xss", attack_web_xss, "a worker account whose task results the coordinator reads"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: collab-attack ATTACK [options]   |   collab-attack matrix [--help]\n"
                 "attacks (and what their attacker holds):\n");
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
        fprintf(out, "  %-20s %s\n", attacks[i].name, attacks[i].holds);
    fprintf(out,
            "options:\n"
            "  --broker tcp://HOST:PORT   the target (loopback or the project's test namespaces,\n"
            "                             unless --target-is-mine)\n"
            "  --broker2 tcp://HOST:PORT  the cluster attacks (cross-broker-replay,\n"
            "                             stale-revocation): a second broker of the same cluster\n"
            "  --agent ID --password-file F   the attacker's own agent, where its row allows one;\n"
            "                             --credentials F its key (default: the victims' file)\n"
            "  --state PATH, --security-log PATH, --audit-key-file PATH\n"
            "  --store redis://HOST:PORT  a cluster's Redis (store-snoop; the target rule too)\n"
            "  --victim-passwords PATH    a directory of AGENT.pw files, or a file of \"agent\n"
            "                             password\" lines, handed to the victim processes the\n"
            "                             attack starts (never read by the attack itself)\n"
            "                             (default %s)\n"
            "  --victim-credentials F     the victims' key file (default %s)\n"
            "  --iface IF (lo), --source ADDR (127.0.0.2), --lifetime-s N, --sessions N,\n"
            "  --flood-count N, --flood-conns N, --brute-agent ID, --injection STR,\n"
            "  --timeout-ms N, --json\n"
            "  --wordlist F               brute-force's word list (default %s)\n"
            "  --candidates A,B,...       enumerate-agents' candidate ids (default %s)\n"
            "  --tries K                  enumerate-agents: logins per candidate (default %u)\n"
            "  --curve-dir DIR            CURVE certificates of the victims and of the attacker's\n"
            "                             own agent (broker.cert, AGENT.cert_secret)\n"
            "  --web http://HOST:PORT/    the web attacks (jwt-forge, web-cookie-theft, web-csrf,\n"
            "                             web-xss): the gateway, collab-web (the target rule too;\n"
            "                             default http://127.0.0.1:8080/, its default bind);\n"
            "                             --broker is still the bus, for their bus victims\n"
            "  --listen ADDR              the attacker's listener: web-cookie-theft 127.0.0.2\n"
            "                             (another host: a host's cookies go to all its ports),\n"
            "                             web-csrf 127.0.0.1 (another port: the same site)\n"
            "  --web-victim F, --python F the browser victim, web_victim.py (Selenium with a\n"
            "                             headless Chromium), and its interpreter (%s)\n"
            "The default files are found in the source tree this binary was built from, so the\n"
            "commands work from any folder. The wire attacks (sniff, predict-session, hijack,\n"
            "replay, tamper) start their own victim agent with the victim passwords; on a swarm\n"
            "they also see the swarm's agents.\n"
            "jwt-forge cracks its own token's HS256 secret with --wordlist, or sends alg none.\n"
            "enumerate-agents: K rounds; in each, every candidate logs in with a wrong password\n"
            "between two fresh random ids. A candidate \"exists\" when a failed login's code\n"
            "differs from the random ids', or when, median over the rounds, its login takes at\n"
            "least %d times as long as its round's random ids (or at most 1/%d) and %d ms more\n"
            "(or less): a password hash (cost 12: about 0.2 s) against none. SUCCEEDED when some\n"
            "candidate exists; BLOCKED when nothing distinguishes them (the strong login\n"
            "control), or under CURVE.\n"
            "--json prints {attack, verdict, evidence, decided_by}: decided_by names the control\n"
            "that decided a BLOCKED verdict, from the attack's own evidence, else null.\n"
            "exit: 0 SUCCEEDED, 10 BLOCKED, 1 ERROR (the attack could not run), 2 usage;\n"
            "SIGINT/SIGTERM stop it within 2 s, its victim too: 128+signal (130, 143)\n",
            COLLAB_SOURCE_DIR "/sample_data/demo_passwords.txt",
            COLLAB_SOURCE_DIR "/sample_data/valid_credentials.json",
            COLLAB_SOURCE_DIR "/sample_data/wordlist.txt", ENUM_DEFAULT_CANDIDATES,
            ENUM_DEFAULT_TRIES, WEB_PYTHON, ENUM_RATIO, ENUM_RATIO, ENUM_MIN_GAP_MS);
}

static int parse_target(attack_opts_t *o)
{
    return lab_target_parse("collab-attack", o->broker, o->target_is_mine, o->host, sizeof o->host,
                            &o->port);
}

static void defaults(attack_opts_t *o, const char *self_dir)
{
    snprintf(o->broker, sizeof o->broker, "tcp://127.0.0.1:5555");
    snprintf(o->iface, sizeof o->iface, "lo");
    snprintf(o->source, sizeof o->source, "127.0.0.2");
    snprintf(o->victim_exe, sizeof o->victim_exe, "%s/collab-victim", self_dir);
    snprintf(o->observer_exe, sizeof o->observer_exe, "%s/../../agents/observer/collab-observer",
             self_dir);
    snprintf(o->audit_exe, sizeof o->audit_exe, "%s/../audit/collab-audit", self_dir);
    snprintf(o->victim_passwords, sizeof o->victim_passwords, "%s",
             COLLAB_SOURCE_DIR "/sample_data/demo_passwords.txt");
    snprintf(o->victim_key_file, sizeof o->victim_key_file, "%s",
             COLLAB_SOURCE_DIR "/sample_data/valid_credentials.json");
    snprintf(o->wordlist, sizeof o->wordlist, "%s", COLLAB_SOURCE_DIR "/sample_data/wordlist.txt");
    snprintf(o->candidates, sizeof o->candidates, "%s", ENUM_DEFAULT_CANDIDATES);
    snprintf(o->web_victim, sizeof o->web_victim, "%s",
             COLLAB_SOURCE_DIR "/tools/attack/web_victim.py");
    snprintf(o->python, sizeof o->python, "%s", WEB_PYTHON);
    snprintf(o->web, sizeof o->web, "http://127.0.0.1:8080/"); /* collab-web's own default */
    o->tries = ENUM_DEFAULT_TRIES;
    snprintf(o->brute_agent, sizeof o->brute_agent, "viewer1");
    snprintf(o->injection, sizeof o->injection,
             "\\e[2J\\e[H\\e[1;31mALL TASKS FAILED: re-enter "
             "your password at evil.example\\e[0m");
    o->lifetime_s = 28800;
    o->session_cap = 3;
    o->flood_count = 300;
    o->flood_conns = 4;
    o->timeout_ms = 3000;
}

/*  An option's value into a field, refused (with the reason on stderr) when it does not
    fit, or is no whole number within [min, max]. */
static int set_str(char *dst, size_t cap, const char *flag, const char *val)
{
    if (strlen(val) >= cap) {
        fprintf(stderr, "collab-attack: --%s: longer than %zu bytes\n", flag, cap - 1);
        return -1;
    }
    memcpy(dst, val, strlen(val) + 1);
    return 0;
}

static int set_num(long *dst, const char *flag, const char *val, long min, long max)
{
    if (collab_parse_long(val, min, max, dst) == 0)
        return 0;
    fprintf(stderr, "collab-attack: --%s: '%s' is not a number in %ld..%ld\n", flag, val, min, max);
    return -1;
}

/*  A comma list of 1 to 16 agent ids of [A-Za-z0-9_.-], each at most 64 bytes. */
static bool valid_candidates(const char *list)
{
    int n = 0;
    for (const char *p = list; *p; n++) {
        size_t len = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");
        if (len == 0 || len > COLLAB_MAX_AGENT_ID || (p[len] != ',' && p[len] != '\0') || n == 16)
            break;
        p += len + (p[len] == ',');
        if (!*p && p[-1] != ',')
            return true;
    }
    fprintf(stderr,
            "collab-attack: --candidates: 1 to 16 comma-separated ids of [A-Za-z0-9_.-], "
            "at most %d bytes each\n",
            COLLAB_MAX_AGENT_ID);
    return false;
}

#define STR(field)                                                                                 \
    do {                                                                                           \
        if (set_str(o->field, sizeof o->field, longs[index].name, optarg) != 0)                    \
            return -1;                                                                             \
    } while (0)
#define NUM(field, min, max)                                                                       \
    do {                                                                                           \
        long n_;                                                                                   \
        if (set_num(&n_, longs[index].name, optarg, min, max) != 0)                                \
            return -1;                                                                             \
        o->field = (__typeof__(o->field))n_;                                                       \
    } while (0)

static int parse(int argc, char **argv, attack_opts_t *o)
{
    static const struct option longs[] = {{"broker", 1, 0, 'b'},
                                          {"broker2", 1, 0, '2'},
                                          {"target-is-mine", 0, 0, 'M'},
                                          {"iface", 1, 0, 'i'},
                                          {"state", 1, 0, 's'},
                                          {"store", 1, 0, 'R'},
                                          {"security-log", 1, 0, 'L'},
                                          {"audit-key-file", 1, 0, 'K'},
                                          {"victim-passwords", 1, 0, 'V'},
                                          {"victim-credentials", 1, 0, 'C'},
                                          {"victim-exe", 1, 0, 'X'},
                                          {"observer-exe", 1, 0, 'O'},
                                          {"audit-exe", 1, 0, 'A'},
                                          {"source", 1, 0, 'S'},
                                          {"lifetime-s", 1, 0, 'l'},
                                          {"sessions", 1, 0, 'n'},
                                          {"flood-count", 1, 0, 'f'},
                                          {"flood-conns", 1, 0, 'c'},
                                          {"wordlist", 1, 0, 'w'},
                                          {"brute-agent", 1, 0, 'B'},
                                          {"injection", 1, 0, 'I'},
                                          {"timeout-ms", 1, 0, 't'},
                                          {"curve-dir", 1, 0, 'D'},
                                          {"candidates", 1, 0, 'E'},
                                          {"tries", 1, 0, 'T'},
                                          {"web", 1, 0, 'W'},
                                          {"listen", 1, 0, 'N'},
                                          {"web-victim", 1, 0, 'Y'},
                                          {"python", 1, 0, 'P'},
                                          {"json", 0, 0, 'j'},
                                          {"help", 0, 0, 'h'},
                                          {0, 0, 0, 0}};
    int c, index = 0;
    while ((c = getopt_long(argc, argv, "h", longs, &index)) != -1) {
        switch (c) {
        case 'b':
            STR(broker);
            break;
        case '2':
            STR(broker2);
            break;
        case 'M':
            o->target_is_mine = true;
            break;
        case 'i':
            STR(iface);
            break;
        case 's':
            STR(state_path);
            break;
        case 'R':
            STR(store);
            break;
        case 'L':
            STR(log_path);
            break;
        case 'K':
            STR(audit_key_file);
            break;
        case 'V':
            STR(victim_passwords);
            break;
        case 'C':
            STR(victim_key_file);
            break;
        case 'X':
            STR(victim_exe);
            break;
        case 'O':
            STR(observer_exe);
            break;
        case 'A':
            STR(audit_exe);
            break;
        case 'S':
            STR(source);
            break;
        case 'l':
            NUM(lifetime_s, 1, 31536000);
            break;
        case 'n':
            NUM(session_cap, 0, 63); /* the concurrent-sessions attack opens one more */
            break;
        case 'f':
            NUM(flood_count, 1, 1000000);
            break;
        case 'c':
            NUM(flood_conns, 1, 16);
            break;
        case 'w':
            STR(wordlist);
            break;
        case 'B':
            STR(brute_agent);
            break;
        case 'I':
            STR(injection);
            break;
        case 't':
            NUM(timeout_ms, 1, 3600000);
            break;
        case 'j':
            o->json = true;
            break;
        case 'D':
            STR(curve_dir);
            break;
        case 'E':
            STR(candidates);
            if (!valid_candidates(o->candidates))
                return -1;
            break;
        case 'T':
            NUM(tries, 1, 101);
            break;
        case 'W':
            STR(web);
            break;
        case 'N':
            STR(listen);
            if (!lab_target_allowed(o->listen)) {
                fprintf(stderr, "collab-attack: --listen: a loopback address, not '%s'\n",
                        o->listen);
                return -1;
            }
            break;
        case 'Y':
            STR(web_victim);
            break;
        case 'P':
            STR(python);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "collab-attack: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (o->own.agent_id[0] && !o->own.credentials[0] && !o->own.key_file[0])
        /* the attacker's own agent signs with its key from the same demo file */
        snprintf(o->own.credentials, sizeof o->own.credentials, "%s", o->victim_key_file);
    if (o->curve_dir[0] && o->own.agent_id[0] && !o->own.curve_cert[0]) {
        /* the attacker's own agent speaks CURVE with its own test certificate */
        snprintf(o->own.curve_server, sizeof o->own.curve_server, "%.400s/broker.cert",
                 o->curve_dir);
        snprintf(o->own.curve_cert, sizeof o->own.curve_cert, "%.400s/%s.cert_secret", o->curve_dir,
                 o->own.agent_id);
    }
    if (o->broker2[0] && lab_target_parse("collab-attack", o->broker2, o->target_is_mine, o->host2,
                                          sizeof o->host2, &o->port2) != 0)
        return -1;
    if (o->store[0]) { /* the store is a target too: the same rule */
        char host[128];
        int port;
        if (attack_store_target(o, host, sizeof host, &port) != 0)
            return -1;
    }
    return parse_target(o);
}

int main(int argc, char **argv)
{
    static attack_opts_t o;
    char self[PATH_MAX], *dir;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    char dirbuf[PATH_MAX];
    snprintf(dirbuf, sizeof dirbuf, "%s", self);
    dir = dirname(dirbuf);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? ATTACK_USAGE : 0;
    }
    agent_stop_install(NULL); /* a signal ends every wait; a victim or broker child follows */
    if (strcmp(argv[1], "matrix") == 0)
        return agent_stop_exit_code(attack_matrix(argc - 1, argv + 1, self));
    const attack_row_t *row = NULL;
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
        if (strcmp(argv[1], attacks[i].name) == 0)
            row = &attacks[i];
    if (!row) {
        fprintf(stderr, "collab-attack: unknown attack '%s'\n", argv[1]);
        usage(stderr);
        return ATTACK_USAGE;
    }
    defaults(&o, dir);
    /* the attacker's own agent: the common agent options, taken out of argv first */
    int rest = agent_cli_parse(&o.own, "collab-attack", argc - 1, argv + 1);
    if (rest < 0)
        return ATTACK_USAGE;
    /* --broker, --timeout-ms and --json are common agent options: agent_cli took them */
    if (strchr(o.own.endpoint, ',') || strlen(o.own.endpoint) >= sizeof o.broker) {
        fprintf(stderr, "collab-attack: --broker: an attack targets one broker endpoint\n");
        return ATTACK_USAGE;
    }
    snprintf(o.broker, sizeof o.broker, "%.*s", (int)sizeof o.broker - 1, o.own.endpoint);
    o.timeout_ms = o.own.timeout_ms;
    o.json = o.own.json;
    o.own.retries = 1;
    if (parse(rest, argv + 1, &o) != 0)
        return ATTACK_USAGE;
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "collab-attack %s against %s (attacker holds: %s)\n", row->name, o.broker,
            row->holds);
    verdict_t v = {ATTACK_ERROR, "no verdict", NULL};
    row->fn(&o, &v);
    int code = verdict_print(row->name, &v, o.json);
    zsys_shutdown();
    return agent_stop_exit_code(code);
}
